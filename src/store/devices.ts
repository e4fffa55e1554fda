// Device passwords (R16): the SQL behind src/auth/devices.ts. Secrets arrive here already hashed.
import type { AccountRow } from './accounts';
import { cachedStatement, type Db } from './database';

export interface DeviceRow {
  id: number;
  account_id: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
  last_used_protocol: string | null;
  last_used_peer: string | null;
}

export function insertDevice(db: Db, accountId: number, name: string, secretSha256: string, createdAt: number): number {
  const result = cachedStatement(db, 'INSERT INTO devices (account_id, name, secret_sha256, created_at) VALUES (?, ?, ?, ?)').run(
    accountId,
    name,
    secretSha256,
    createdAt,
  );
  return Number(result.lastInsertRowid);
}

export function countDevices(db: Db, accountId: number): number {
  return cachedStatement(db, 'SELECT count(*) FROM devices WHERE account_id = ?').pluck().get(accountId) as number;
}

export function deviceNameTaken(db: Db, accountId: number, name: string): boolean {
  return cachedStatement(db, 'SELECT 1 FROM devices WHERE account_id = ? AND name = ? COLLATE NOCASE').get(accountId, name) !== undefined;
}

export function listDeviceRows(db: Db, accountId: number): DeviceRow[] {
  return cachedStatement(
    db,
    `SELECT id, account_id, name, created_at, last_used_at, last_used_protocol, last_used_peer
     FROM devices WHERE account_id = ? ORDER BY created_at, id`,
  ).all(accountId) as DeviceRow[];
}

export function getDevice(db: Db, accountId: number, deviceId: number): DeviceRow | undefined {
  return cachedStatement(
    db,
    `SELECT id, account_id, name, created_at, last_used_at, last_used_protocol, last_used_peer
     FROM devices WHERE account_id = ? AND id = ?`,
  ).get(accountId, deviceId) as DeviceRow | undefined;
}

export function deleteDevice(db: Db, accountId: number, deviceId: number): boolean {
  return cachedStatement(db, 'DELETE FROM devices WHERE account_id = ? AND id = ?').run(accountId, deviceId).changes > 0;
}

/** The device of this account whose secret hashes to `secretSha256` (unique column: one lookup). */
export function findDeviceBySecret(db: Db, accountId: number, secretSha256: string): { id: number; name: string } | undefined {
  return cachedStatement(db, 'SELECT id, name FROM devices WHERE secret_sha256 = ? AND account_id = ?').get(secretSha256, accountId) as
    | { id: number; name: string }
    | undefined;
}

export function markDeviceUsed(db: Db, deviceId: number, at: number, protocol: string, peer: string): void {
  cachedStatement(db, 'UPDATE devices SET last_used_at = ?, last_used_protocol = ?, last_used_peer = ? WHERE id = ?').run(at, protocol, peer, deviceId);
}

export type LoginInvalidity = 'account-suspended' | 'device-revoked' | 'unlinked';

/**
 * Whether an open session's credentials still hold (R16, R6): its box active, its device not
 * revoked, and — for a token login into an ORG box on behalf of a person — that person still
 * active and linked. One statement, run before each IMAP command and when another process commits.
 */
export function loginInvalidity(db: Db, accountId: number, deviceId: number | null, personId: number | null): LoginInvalidity | null {
  const row = cachedStatement(
    db,
    `SELECT
       (SELECT status FROM accounts WHERE id = @account) AS status,
       (@device IS NULL OR EXISTS (SELECT 1 FROM devices WHERE id = @device AND account_id = @account)) AS deviceOk,
       (@person IS NULL OR EXISTS (SELECT 1 FROM org_members m JOIN accounts p ON p.id = m.member_id
          WHERE m.org_id = @account AND m.member_id = @person AND p.status = 'active')) AS linkOk`,
  ).get({ account: accountId, device: deviceId, person: personId }) as { status: string | null; deviceOk: number; linkOk: number };
  if (row.status !== 'active') return 'account-suspended';
  if (!row.deviceOk) return 'device-revoked';
  if (!row.linkOk) return 'unlinked';
  return null;
}

/**
 * A number that moves whenever a row loginInvalidity reads changes, in any connection (migration
 * 016's triggers): while it stays the same, a verdict of "still valid" stays true.
 */
export function credentialChanges(db: Db): number {
  return cachedStatement(db, 'SELECT counter FROM credential_changes WHERE id = 1').pluck().get() as number;
}

/** Personal accounts with this RPPS (a professional may hold several boxes). */
export function accountIdsByRpps(db: Db, rpps: string): number[] {
  return cachedStatement(db, "SELECT id FROM accounts WHERE rpps = ? AND type <> 'ORG'").pluck().all(rpps) as number[];
}

/** Whether a person with this RPPS is linked to the ORG box; returns that person's account id. */
export function linkedMemberByRpps(db: Db, orgId: number, rpps: string): number | undefined {
  return cachedStatement(
    db,
    `SELECT p.id FROM org_members m JOIN accounts p ON p.id = m.member_id
     WHERE m.org_id = ? AND p.rpps = ? AND p.status = 'active' ORDER BY p.id LIMIT 1`,
  ).pluck().get(orgId, rpps) as number | undefined;
}

/** An account by id (a device's owner, the box a token designates). */
export function accountById(db: Db, accountId: number): AccountRow | undefined {
  return cachedStatement(db, 'SELECT * FROM accounts WHERE id = ?').get(accountId) as AccountRow | undefined;
}
