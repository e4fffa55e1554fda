// Who holds a mailbox's box, and who is linked to it (R6): what IMAP ACL (RFC 4314, see
// src/policy/mailbox-rights.ts) reports. Read-only.
import { cachedStatement, type Db } from './database';

export interface BoxHolders {
  /** Login of the account that owns the box (a person, or the ORG box itself). */
  ownerLogin: string;
  /** Logins of the active persons linked to it when it is an ORG box, in order; [] otherwise. */
  memberLogins: string[];
}

/** The owner of account `ownerAccountId` and, for an ORG, its active linked persons. */
export function boxHolders(db: Db, ownerAccountId: number): BoxHolders | undefined {
  const owner = cachedStatement(db, 'SELECT login, type FROM accounts WHERE id = ?').get(ownerAccountId) as
    | { login: string; type: string }
    | undefined;
  if (!owner) return undefined;
  const memberLogins =
    owner.type === 'ORG'
      ? (
          cachedStatement(
            db,
            `SELECT a.login FROM org_members m JOIN accounts a ON a.id = m.member_id
             WHERE m.org_id = ? AND a.status = 'active' ORDER BY a.login`,
          ).all(ownerAccountId) as Array<{ login: string }>
        ).map((row) => row.login)
      : [];
  return { ownerLogin: owner.login, memberLogins };
}
