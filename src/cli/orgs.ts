// `mssd org …`: organisational boxes (BAL ORG) and their delegated members (R2, R6, R9).
import { Argument, type Command } from 'commander';
import { describeAccount } from '../store/account-view';
import { createOrgAccount } from '../store/accounts';
import { addOrgMember, removeOrgMember, setOrgMemberNotify } from '../store/org-members';
import { type WithContext } from './with-context';

export function registerOrgCommands(program: Command, withContext: WithContext): void {
  const org = program.command('org').description('organisational boxes (BAL ORG) and their members');

  org
    .command('create')
    .description('create an ORG box: no password, reached through its members (R2, R6)')
    .requiredOption('--login <email>', "contact address: receives the ORG's notices")
    .requiredOption('--address <email>', 'MSSanté address of the ORG (in one of domains.mssante)')
    .requiredOption('--name <text>', 'name of the team or structure')
    .requiredOption('--finess <number>', 'FINESS of the structure (9 characters, Luhn key)')
    .requiredOption('--responsible-rpps <number>', 'RPPS of the responsible professional')
    .option('--description <text>', 'description published in the directory')
    .action(
      withContext((ctx, opts) => {
        const row = createOrgAccount(ctx.db, ctx.config.domains, {
          login: opts.login as string,
          address: opts.address as string,
          name: opts.name as string,
          finess: opts.finess as string,
          responsibleRpps: opts.responsibleRpps as string,
          description: opts.description as string | undefined,
        });
        const box = describeAccount(ctx.db, row.login);
        ctx.print(box, `created ORG box ${opts.address as string} (${box.names.orgName}), contact ${box.login}`);
      }),
    );

  org
    .command('add-member <org-address> <login>')
    .description('link a personal box (PER, MED or INT) to the ORG: it sees its folders and may send as it')
    .action(
      withContext((ctx, _opts, [orgAddress, login]) => {
        const membership = addOrgMember(ctx.db, orgAddress, login);
        ctx.print(
          membership,
          `${membership.member} is now a member of ${membership.org} (reception notices on; opt out with: mssd org set-notify ${membership.org} ${membership.member} off)`,
        );
      }),
    );

  org
    .command('remove-member <org-address> <login>')
    .description('unlink a member: its access ends at once, open sessions included (R6)')
    .action(
      withContext((ctx, _opts, [orgAddress, login]) => {
        removeOrgMember(ctx.db, orgAddress, login);
        ctx.print({ org: orgAddress, member: login, removed: true }, `${login} is no longer a member of ${orgAddress}`);
      }),
    );

  org
    .command('set-notify')
    .description("a member's reception notices for this ORG (R9): on by default, off = the member opts out (R18)")
    .argument('<org-address>', 'MSSanté address of the ORG')
    .argument('<login>', 'the member')
    .addArgument(new Argument('<on|off>', 'notices on or off').choices(['on', 'off']))
    .action(
      withContext((ctx, _opts, [orgAddress, login, value]) => {
        const membership = setOrgMemberNotify(ctx.db, orgAddress, login, value === 'on');
        ctx.print(membership, `${membership.member}: notices for ${membership.org} ${value}`);
      }),
    );
}
