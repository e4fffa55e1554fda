// Lookups by RPPS for the portal: the ORG boxes a professional answers for (R6, R17: the
// responsible adds and removes the linked accounts), and the personal boxes a Pro Santé Connect
// identity opens.
import { cachedStatement, type Db } from './database';

export interface ResponsibleOrg {
  accountId: number;
  /** The ORG's MSSanté address (how members and the CLI name it). */
  address: string;
  name: string | null;
}

export function orgsUnderResponsibility(db: Db, rpps: string): ResponsibleOrg[] {
  return cachedStatement(
    db,
    `SELECT a.id AS accountId, ad.address, a.org_name AS name FROM accounts a
     JOIN addresses ad ON ad.account_id = a.id AND ad.kind = 'mssante'
     WHERE a.type = 'ORG' AND a.responsible_rpps = ? ORDER BY ad.address`,
  ).all(rpps) as ResponsibleOrg[];
}

export interface PersonBox {
  id: number;
  login: string;
}

/** Active personal boxes (PER, MED, INT) holding this RPPS. */
export function activePersonBoxesByRpps(db: Db, rpps: string): PersonBox[] {
  return cachedStatement(
    db,
    `SELECT id, login FROM accounts WHERE rpps = ? AND type IN ('PER', 'MED', 'INT') AND status = 'active' ORDER BY id`,
  ).all(rpps) as PersonBox[];
}
