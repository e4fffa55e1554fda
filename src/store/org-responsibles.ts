// The ORG boxes a professional answers for: those whose responsible RPPS is theirs (R6, R17: the
// responsible adds and removes the linked accounts on the portal).
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
