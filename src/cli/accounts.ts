// `mssd account …`: personal boxes (PER, MED, INT) — create, validate, suspend, set-type, show,
// set. The rules themselves live in src/store/accounts.ts and src/policy/identity.ts; this module
// turns options into calls and results into text or JSON.
import { createInterface } from 'node:readline';
import { Argument, Option, type Command } from 'commander';
import { checkPassword } from '../policy/identity';
import { hashPassword } from '../policy/password';
import { describeAccount, type AccountDescription } from '../store/account-view';
import {
  changeAccountType,
  createPersonAccount,
  setAccountStatus,
  updateAccountSettings,
  type PersonType,
} from '../store/accounts';
import { CliError } from './context';
import { registerSecondFactorCommands } from './second-factor';
import { switchOption, switchValue, type WithContext } from './with-context';

/**
 * `--password-stdin`: the first line of standard input (a trailing CR is dropped), checked
 * against the password policy and hashed. The password itself is never printed or logged.
 */
export async function readPasswordHash(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  let password: string | undefined;
  try {
    for await (const line of lines) {
      password = line.replace(/\r$/, '');
      break;
    }
  } finally {
    lines.close();
    if (input === process.stdin) process.stdin.pause();
  }
  if (password === undefined || password === '') throw new CliError('--password-stdin: no password on standard input');
  const problem = checkPassword(password);
  if (problem) throw new CliError(problem);
  return hashPassword(password);
}

function yesNo(value: boolean): string {
  return value ? 'on' : 'off';
}

/** The readable form of `account show`. */
export function describeAccountText(box: AccountDescription): string {
  const name =
    box.type === 'ORG' ? box.names.orgName : [box.names.firstName, box.names.lastName].filter(Boolean).join(' ');
  const lines = [
    `${box.login}  ${box.type}  ${box.status}${box.type !== 'ORG' && !box.hasPassword ? '  (no password set: cannot log in)' : ''}`,
    `  name:          ${name ?? ''}`,
  ];
  for (const address of box.addresses) lines.push(`  address:       ${address.address} (${address.kind})`);
  if (box.rpps) lines.push(`  RPPS:          ${box.rpps}`);
  if (box.finess) lines.push(`  FINESS:        ${box.finess}`);
  if (box.responsibleRpps) lines.push(`  responsible:   RPPS ${box.responsibleRpps}`);
  for (const [label, value] of [
    ['profession', box.profession],
    ['structure', box.structure],
    ['description', box.description],
    ['city', [box.postcode, box.city].filter(Boolean).join(' ')],
  ] as const) {
    if (value) lines.push(`  ${`${label}:`.padEnd(15)}${value}`);
  }
  lines.push(
    `  directory:     local ${yesNo(box.visibility.localDirectory)}, national ${yesNo(box.visibility.nationalDirectory)}`,
    `  dematerialisation: ${yesNo(box.dematerialisation)}`,
    `  notifications: each ${yesNo(box.notifications.each)}, daily ${yesNo(box.notifications.daily)}, opening ${yesNo(box.notifications.opening)}`,
  );
  for (const { org, notify } of box.memberships) lines.push(`  member of:     ${org} (reception notices ${yesNo(notify)})`);
  for (const member of box.members) lines.push(`  member:        ${member.login} (${member.type}, notices ${yesNo(member.notify)})`);
  for (const target of box.forwards) lines.push(`  forward to:    ${target}`);
  if (box.autoreply) {
    lines.push(`  autoreply:     ${box.autoreply.start} → ${box.autoreply.end} "${box.autoreply.subject}"`);
  }
  lines.push('  folders:');
  for (const folder of box.folders) {
    lines.push(`    ${folder.name}${folder.specialUse ? ` ${folder.specialUse}` : ''}: ${folder.messages} message(s)`);
  }
  return lines.join('\n');
}

function mssanteOf(box: AccountDescription): string {
  const address = box.addresses.find((row) => row.kind === 'mssante')?.address;
  return address ? `MSSanté address ${address}` : 'no MSSanté address (R2)';
}

export function registerAccountCommands(program: Command, withContext: WithContext): void {
  const account = program.command('account').description('personal boxes: PER, MED, INT');

  account
    .command('create')
    .description('create a personal box (PER needs --rpps; MED gets no MSSanté address)')
    .addOption(new Option('--type <type>', 'BAL type').choices(['PER', 'MED', 'INT']).makeOptionMandatory())
    .requiredOption('--login <email>', 'login: the internal address the person signs in with')
    .requiredOption('--first-name <name>', 'first name')
    .requiredOption('--last-name <name>', 'last name')
    .option('--rpps <number>', 'RPPS number (11 digits; required for PER)')
    .option('--profession <text>', 'profession')
    .option('--structure <text>', 'structure (practice, hospital…)')
    .option('--city <text>', 'city')
    .option('--postcode <digits>', 'postcode (5 digits)')
    .option('--mssante-address <email>', 'MSSanté address (default: prenom.nom@<first MSSanté domain>)')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--pending', 'create the box pending validation (see `account validate`)')
    .action(
      withContext(async (ctx, opts) => {
        const passwordHash = opts.passwordStdin ? await readPasswordHash() : null;
        const row = createPersonAccount(ctx.db, ctx.config.domains, {
          type: opts.type as PersonType,
          login: opts.login as string,
          firstName: opts.firstName as string,
          lastName: opts.lastName as string,
          rpps: opts.rpps as string | undefined,
          profession: opts.profession as string | undefined,
          structure: opts.structure as string | undefined,
          city: opts.city as string | undefined,
          postcode: opts.postcode as string | undefined,
          mssanteAddress: opts.mssanteAddress as string | undefined,
          passwordHash,
          pending: opts.pending === true,
        });
        const box = describeAccount(ctx.db, row.login);
        const note = passwordHash ? '' : '; no password yet: it cannot log in until `account set --password-stdin`';
        ctx.print(box, `created ${box.type} box ${box.login} (${box.status}), ${mssanteOf(box)}${note}`);
      }),
    );

  for (const [name, status, verb] of [
    ['validate', 'active', 'make a pending (or suspended) box active'],
    ['suspend', 'suspended', 'suspend a box'],
  ] as const) {
    account
      .command(`${name} <login>`)
      .description(verb)
      .action(
        withContext((ctx, _opts, [login]) => {
          const change = setAccountStatus(ctx.db, login, status);
          const text = change.changed
            ? `${change.login}: ${change.from} → ${change.to}`
            : `${change.login} is already ${change.to}`;
          ctx.print(change, text);
        }),
      );
  }

  account
    .command('set-type')
    .description('upgrade a box: MED→PER (needs --rpps, gains an MSSanté address), MED→INT, INT→PER')
    .argument('<login>', 'any address of the box')
    .addArgument(new Argument('<type>', 'new BAL type').choices(['PER', 'INT']))
    .option('--rpps <number>', 'RPPS number (required for PER)')
    .option('--mssante-address <email>', 'MSSanté address for a former MED box (default: prenom.nom@…)')
    .action(
      withContext((ctx, opts, [login, type]) => {
        const change = changeAccountType(ctx.db, ctx.config.domains, login, type as PersonType, {
          rpps: opts.rpps as string | undefined,
          mssanteAddress: opts.mssanteAddress as string | undefined,
        });
        const gained = change.addedAddress ? `, MSSanté address ${change.addedAddress}` : '';
        const published = change.to === 'PER' ? ' (published at the next directory run)' : '';
        ctx.print(change, `${change.login}: ${change.from} → ${change.to}${gained}${published}`);
      }),
    );

  account
    .command('show <login>')
    .description('type, status, addresses, settings, links and folders with message counts')
    .action(
      withContext((ctx, _opts, [login]) => {
        const box = describeAccount(ctx.db, login);
        ctx.print(box, describeAccountText(box));
      }),
    );

  account
    .command('set <login>')
    .description('change directory visibility, notifications, dematerialisation or the password')
    .addOption(switchOption('--local-directory <on|off>', 'listed in the operator directory'))
    .addOption(switchOption('--national-directory <on|off>', 'published in the national directory (off = liste rouge)'))
    .addOption(switchOption('--dematerialisation <on|off>', 'accepts dematerialised documents'))
    .addOption(switchOption('--notify-each <on|off>', 'a notice on each reception'))
    .addOption(switchOption('--notify-daily <on|off>', 'a daily digest of receptions'))
    .addOption(switchOption('--notify-opening <on|off>', 'tell me when all recipients have opened my message'))
    .option('--password-stdin', 'read a new password from the first line of standard input')
    .action(
      withContext(async (ctx, opts, [login]) => {
        const passwordHash = opts.passwordStdin ? await readPasswordHash() : undefined;
        const changed = updateAccountSettings(ctx.db, login, {
          localDirectory: switchValue(opts.localDirectory),
          nationalDirectory: switchValue(opts.nationalDirectory),
          dematerialisation: switchValue(opts.dematerialisation),
          notifyEach: switchValue(opts.notifyEach),
          notifyDaily: switchValue(opts.notifyDaily),
          notifyOpening: switchValue(opts.notifyOpening),
          passwordHash,
        });
        const box = describeAccount(ctx.db, login);
        ctx.print({ login: box.login, changed }, `${box.login}: changed ${changed.join(', ')}`);
      }),
    );

  registerSecondFactorCommands(account, withContext);
}
