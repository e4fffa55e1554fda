// QUOTA (RFC 9208): GETQUOTAROOT, GETQUOTA and SETQUOTA, with the resources STORAGE and MESSAGE.
//
// Decisions:
// - One quota root per box (all its folders together, R6's unit of ownership): "" for the
//   person's own box, "Partagé/<ORG address>" for an ORG box they are linked to. The limits are
//   the operator's, the same for every box: limits.quotaStorageBytes and limits.quotaMessages
//   (0 = no limit; a resource without a limit is not listed, RFC 9208 section 5.1).
// - STORAGE is in units of 1024 octets, rounded up (section 5.1.1).
// - SETQUOTA is refused with NO [NOPERM]: limits are set by the operator, not by a client
//   (QUOTASET is not advertised, section 4.1.3).
// - APPEND, COPY and MOVE into a box that would go past a limit get NO [OVERQUOTA] (section 7.1:
//   checked in commands/message-common.ts quotaRefusal); SMTP delivery to a full box gets
//   452 4.2.2, a message larger than a whole box's limit 552 5.2.2 (delivery/router.ts).
import { storageUnits, type QuotaLimits } from '../../policy/quota';
import { HIERARCHY_DELIMITER, resolveMailbox, SHARED_ROOT } from '../../store/mailbox-view';
import { boxUsage } from '../../store/quota';
import type { Config } from '../../config/schema';
import { encodeMailboxName, string } from '../protocol/encode';
import { expectAstring, expectEnd } from '../protocol/tokens';
import type { ImapSession } from '../session';
import { mailboxArgument, nonexistent } from './mailbox-args';
import { AUTHENTICATED, no, ok, type CommandHandler } from './registry';

export function quotaLimits(config: Config): QuotaLimits {
  return { storageBytes: config.limits.quotaStorageBytes, messages: config.limits.quotaMessages };
}

/** The quota root of a box: "" (own box) or "Partagé/<ORG address>". */
function rootOf(isShared: boolean, orgAddress: string | null): string {
  return isShared && orgAddress ? [SHARED_ROOT, orgAddress].join(HIERARCHY_DELIMITER) : '';
}

/** The box behind a quota root the person may see, or null. */
function accountOfRoot(session: ImapSession, root: string): number | null {
  if (root === '') return session.user!.accountId;
  const resolved = resolveMailbox(session.db, session.user!.accountId, `${root}${HIERARCHY_DELIMITER}INBOX`);
  return resolved && resolved.isShared && rootOf(true, resolved.orgAddress) === root ? resolved.ownerAccountId : null;
}

/** `QUOTA root (STORAGE used limit MESSAGE used limit)`, or null when no limit is set. */
function quotaResponse(session: ImapSession, root: string, accountId: number): string | null {
  const limits = quotaLimits(session.config);
  const usage = boxUsage(session.db, accountId);
  const resources: string[] = [];
  if (limits.storageBytes > 0) resources.push(`STORAGE ${storageUnits(usage.bytes)} ${Math.floor(limits.storageBytes / 1024)}`);
  if (limits.messages > 0) resources.push(`MESSAGE ${usage.messages} ${limits.messages}`);
  return resources.length === 0 ? null : `QUOTA ${string(encodeMailboxName(root))} (${resources.join(' ')})`;
}

export const getquotaroot: CommandHandler = {
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    expectEnd(command.args, 1);
    const resolved = resolveMailbox(session.db, session.user!.accountId, mailbox.name);
    if (!resolved) return nonexistent(mailbox.name);
    const root = rootOf(resolved.isShared, resolved.orgAddress);
    const quota = quotaResponse(session, root, resolved.ownerAccountId);
    // section 5.2: the roots of the mailbox, none when it has no quota
    session.untagged(`QUOTAROOT ${string(mailbox.wire)}${quota ? ` ${string(encodeMailboxName(root))}` : ''}`);
    if (quota) session.untagged(quota);
    return ok('GETQUOTAROOT completed');
  },
};

export const getquota: CommandHandler = {
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  run(session, command) {
    const wire = expectAstring(command.args[0], 'a quota root');
    expectEnd(command.args, 1);
    const root = mailboxArgument(command.args[0], 'quota root').name;
    const accountId = accountOfRoot(session, root);
    const quota = accountId === null ? null : quotaResponse(session, root, accountId);
    if (!quota) return no(`No quota root named ${JSON.stringify(wire.slice(0, 80))}`, 'NONEXISTENT');
    session.untagged(quota);
    return ok('GETQUOTA completed');
  },
};

export const setquota: CommandHandler = {
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  run() {
    return no('Quotas are set by the operator (limits.quotaStorageBytes, limits.quotaMessages), not by a client', 'NOPERM');
  },
};
