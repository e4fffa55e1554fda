// CREATE (RFC 3501 section 6.3.3) with the USE parameter of CREATE-SPECIAL-USE (RFC 6154
// section 3). Missing parents are created too; a trailing "/" is allowed and dropped.
//
// Decision on USE: every box already has its one Sent, Drafts and Trash folder (Envoyés,
// Brouillons, Corbeille), which cannot be deleted, and this server keeps no other special use
// (\Archive, \Junk, \All, \Flagged). So CREATE with a non-empty USE list creates nothing and
// answers NO [USEATTR] saying which folder already has that role, as RFC 6154 asks of a server
// that cannot give the attribute; "USE ()" is an ordinary CREATE.
import { createUserMailbox } from '../../store/imap-mailboxes';
import { listMailboxes } from '../../store/mailbox-view';
import { badSyntax } from '../protocol/errors';
import { describeToken, expectEnd, expectList, type Token } from '../protocol/tokens';
import type { ImapSession } from '../session';
import { displayName, isSharedName, mailboxArgument, refusal } from './mailbox-args';
import { AUTHENTICATED, no, ok, type CommandHandler, type Completion } from './registry';

/** RFC 6154 section 2 use-attr values. */
const USE_ATTRIBUTES = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

/** The use-attr values of `CREATE name (USE (...))`; [] without parameters. */
function useAttributes(token: Token | undefined): string[] {
  if (token === undefined) return [];
  const params = expectList(token, 'CREATE parameters such as (USE (\\Sent))');
  const uses: string[] = [];
  for (let i = 0; i < params.length; i += 2) {
    const param = params[i];
    if (!(param.type === 'atom' && param.value.toUpperCase() === 'USE')) {
      throw badSyntax(`Unknown CREATE parameter ${describeToken(param)}; this server knows USE (RFC 6154)`);
    }
    for (const item of expectList(params[i + 1], 'a list of special-use attributes after USE')) {
      const known = item.type === 'atom' ? USE_ATTRIBUTES.find((use) => use.toLowerCase() === item.value.toLowerCase()) : undefined;
      if (!known) throw badSyntax(`Unknown special-use attribute ${describeToken(item)} (RFC 6154: ${USE_ATTRIBUTES.join(' ')})`);
      if (!uses.includes(known)) uses.push(known);
    }
  }
  return uses;
}

function refuseUse(session: ImapSession, name: string, uses: string[]): Completion {
  const use = uses[0];
  if (!isSharedName(name)) {
    const holder = listMailboxes(session.db, session.user!.accountId).find((entry) => entry.specialUse === use && !entry.isShared);
    if (holder) {
      return no(`Your box already has its ${use} folder, ${displayName(holder.name)}, and only one; create the folder without USE`, 'USEATTR');
    }
  }
  return no(`This server does not keep ${use} folders; create the folder without USE`, 'USEATTR');
}

export const create: CommandHandler = {
  name: 'CREATE',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    const uses = useAttributes(command.args[1]);
    expectEnd(command.args, command.args[1] === undefined ? 1 : 2);
    if (uses.length > 0) return refuseUse(session, mailbox.name, uses);
    try {
      createUserMailbox(session.db, session.user!.accountId, mailbox.name);
    } catch (err) {
      return refusal(err, mailbox.name);
    }
    return ok('CREATE completed');
  },
};
