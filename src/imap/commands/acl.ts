// IMAP ACL, read side (RFC 4314): MYRIGHTS, GETACL and LISTRIGHTS report the rights mssd really
// applies (src/policy/mailbox-rights.ts): the owner of a box has every right on its folders; a
// person linked to an ORG box (R6) has every right but "a" on the ORG's folders. SETACL and
// DELETEACL are answered NO (section 3.1 and 3.2 allow it): who is linked to an ORG box is set
// by the operator, never by a client.
//
// Identifiers are account logins, compared without regard to case. A mailbox the person cannot
// see gets NO [NONEXISTENT], the same answer as for one that does not exist (section 6: no
// disclosure of its existence).
import { hasRight, rightsOf, type BoxRelation } from '../../policy/mailbox-rights';
import { boxHolders } from '../../store/mailbox-rights';
import { resolveMailbox, type ResolvedMailbox } from '../../store/mailbox-view';
import { astring, string } from '../protocol/encode';
import { expectAstring, expectEnd } from '../protocol/tokens';
import type { ImapSession } from '../session';
import { mailboxArgument, nonexistent, type MailboxArgument } from './mailbox-args';
import { AUTHENTICATED, no, ok, type CommandHandler, type Completion } from './registry';

interface Target {
  mailbox: MailboxArgument;
  resolved: ResolvedMailbox;
  rights: string;
}

function relationTo(session: ImapSession, resolved: ResolvedMailbox): BoxRelation {
  return resolved.ownerAccountId === session.user!.accountId ? 'owner' : 'member';
}

/** The named mailbox and the person's rights on it, or the NO to answer. */
function target(session: ImapSession, mailbox: MailboxArgument): Target | Completion {
  const resolved = resolveMailbox(session.db, session.user!.accountId, mailbox.name);
  if (!resolved) return nonexistent(mailbox.name);
  return { mailbox, resolved, rights: rightsOf(relationTo(session, resolved)) };
}

function isTarget(value: Target | Completion): value is Target {
  return 'resolved' in value;
}

/** RFC 4314 section 4: GETACL and LISTRIGHTS need the "a" right. */
function needsAdminister(found: Target, command: string): Completion | null {
  if (hasRight(found.rights, 'a')) return null;
  return no(`${command} needs the administer right (a); your rights on this shared mailbox are ${found.rights}`, 'NOPERM');
}

/** The rights `identifier` holds on the target's mailbox (none for an unknown identifier). */
function rightsOfIdentifier(session: ImapSession, found: Target, identifier: string): string {
  const holders = boxHolders(session.db, found.resolved.ownerAccountId);
  if (!holders) return '';
  const wanted = identifier.toLowerCase();
  if (holders.ownerLogin.toLowerCase() === wanted) return rightsOf('owner');
  if (holders.memberLogins.some((login) => login.toLowerCase() === wanted)) return rightsOf('member');
  return rightsOf('none');
}

export const myrights: CommandHandler = {
  name: 'MYRIGHTS',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    expectEnd(command.args, 1);
    const found = target(session, mailbox);
    if (!isTarget(found)) return found;
    session.untagged(`MYRIGHTS ${string(mailbox.wire)} ${found.rights}`); // section 3.8
    return ok('MYRIGHTS completed');
  },
};

export const getacl: CommandHandler = {
  name: 'GETACL',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    expectEnd(command.args, 1);
    const found = target(session, mailbox);
    if (!isTarget(found)) return found;
    const refused = needsAdminister(found, 'GETACL');
    if (refused) return refused;
    const holders = boxHolders(session.db, found.resolved.ownerAccountId);
    const entries = [`${astring(holders?.ownerLogin ?? session.user!.login)} ${rightsOf('owner')}`];
    for (const login of holders?.memberLogins ?? []) entries.push(`${astring(login)} ${rightsOf('member')}`);
    session.untagged(`ACL ${string(mailbox.wire)} ${entries.join(' ')}`); // section 3.6
    return ok('GETACL completed');
  },
};

export const listrights: CommandHandler = {
  name: 'LISTRIGHTS',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    const identifier = expectAstring(command.args[1], 'an identifier');
    expectEnd(command.args, 2);
    const found = target(session, mailbox);
    if (!isTarget(found)) return found;
    const refused = needsAdminister(found, 'LISTRIGHTS');
    if (refused) return refused;
    // Section 3.7: the rights always granted, then those that may be granted. Nothing can be
    // granted by a client here, so the first set is the whole answer ("" when none).
    const rights = rightsOfIdentifier(session, found, identifier);
    session.untagged(`LISTRIGHTS ${string(mailbox.wire)} ${astring(identifier)} ${rights === '' ? '""' : rights}`);
    return ok('LISTRIGHTS completed');
  },
};

/** SETACL and DELETEACL: well-formed, then refused (RFC 4314 sections 3.1, 3.2). */
function refuseChange(name: 'SETACL' | 'DELETEACL', argumentCount: number): CommandHandler {
  return {
    name,
    states: AUTHENTICATED,
    run(session, command) {
      const mailbox = mailboxArgument(command.args[0]);
      expectAstring(command.args[1], 'an identifier');
      if (argumentCount === 3) expectAstring(command.args[2], 'rights');
      expectEnd(command.args, argumentCount);
      const found = target(session, mailbox);
      if (!isTarget(found)) return found;
      return no(
        'Rights are managed by the operator, not by a mail client: a box owner has every right on their folders, ' +
          'and the persons the operator links to an organisational box (BAL ORG) work in its folders',
        'NOPERM',
      );
    },
  };
}

export const setacl = refuseChange('SETACL', 3);
export const deleteacl = refuseChange('DELETEACL', 2);
