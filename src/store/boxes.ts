// Finding the box behind an address: logins, MSSanté addresses and ORG addresses all resolve here.
import type { BoxStatus, BoxType } from '../policy/box-types';
import { cachedStatement, type Db } from './database';

export interface BoxRef {
  accountId: number;
  type: BoxType;
  status: BoxStatus;
  login: string;
  /** Which kind of address matched. */
  kind: 'login' | 'mssante';
}

export function findBox(db: Db, address: string): BoxRef | undefined {
  return cachedStatement(
      db,
      `SELECT a.id AS accountId, a.type, a.status, a.login, ad.kind
       FROM addresses ad JOIN accounts a ON a.id = ad.account_id
       WHERE ad.address = ?`,
    )
    .get(address) as BoxRef | undefined;
}
