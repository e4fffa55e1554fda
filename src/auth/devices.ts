// Device passwords (R16; the seeds' "Appareils mobiles"): a named, revocable secret per mail
// client or phone, shown once. The secret is 24 random characters (120 bits) from an alphabet
// without look-alikes, printed in groups of four for typing on a phone. A secret that random needs
// no slow hash: its SHA-256 is stored and looked up directly, so a device login costs microseconds
// where a box password costs a scrypt (issue 11 asks that device logins be no slower).
import { createHash, randomInt } from 'node:crypto';
import { findAccount } from '../store/accounts';
import { insertAudit } from '../store/audit';
import type { Db } from '../store/database';
import { accountById, countDevices, deleteDevice, deviceNameTaken, getDevice, insertDevice, listDeviceRows } from '../store/devices';

/** No 0/o, 1/l/i: read aloud or copied from a screen without doubt. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const SECRET_LENGTH = 24;
export const MAX_DEVICES_PER_ACCOUNT = 50;
export const MAX_DEVICE_NAME = 64;

/** A refused device operation; the message is one sentence fit for the CLI or a page. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** Who changed a box's devices, for the settings audit row (COMMON.md "Agreed formats"). */
export interface SettingsActor {
  source: 'portal' | 'cli';
  login: string;
}

export interface NewDevice {
  id: number;
  name: string;
  /** Shown once; never stored, never logged. */
  password: string;
  createdAt: number;
}

export interface DeviceSummary {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedProtocol: string | null;
  lastUsedAddress: string | null;
}

export function generateDeviceSecret(): string {
  let secret = '';
  for (let i = 0; i < SECRET_LENGTH; i++) {
    if (i > 0 && i % 4 === 0) secret += '-';
    secret += ALPHABET[randomInt(ALPHABET.length)];
  }
  return secret;
}

/** What is hashed: the secret without the group dashes or spaces, in lower case. */
export function normaliseDeviceSecret(typed: string): string {
  return typed.replace(/[\s-]/g, '').toLowerCase();
}

/** SHA-256 (hex) of a typed device password; null when it cannot be a device password at all. */
export function deviceSecretHash(typed: string): string | null {
  const secret = normaliseDeviceSecret(typed);
  if (secret.length !== SECRET_LENGTH) return null;
  return createHash('sha256').update(secret).digest('hex');
}

function cleanName(name: string): string {
  const trimmed = name.trim().replace(/\s+/g, ' ');
  if (trimmed === '') throw new DeviceError('a device needs a name (for example "Téléphone" or "Thunderbird cabinet")');
  if ([...trimmed].length > MAX_DEVICE_NAME) throw new DeviceError(`a device name has at most ${MAX_DEVICE_NAME} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(trimmed)) throw new DeviceError('a device name cannot hold control characters');
  return trimmed;
}

function audit(db: Db, accountId: number, actor: SettingsActor | undefined, change: string, deviceId: number, deviceName: string, at: number): void {
  const login = accountById(db, accountId)?.login ?? null;
  insertAudit(
    db,
    {
      event: 'settings',
      source: actor?.source ?? null,
      authLogin: actor?.login ?? null,
      outcome: 'ok',
      detail: JSON.stringify({ change, account: login, deviceId, deviceName }),
    },
    at,
  );
}

/** Creates a named device of a personal box; returns its password, the only time it is shown. */
export function createDevicePassword(db: Db, accountId: number, name: string, actor?: SettingsActor, now = Date.now()): NewDevice {
  const cleaned = cleanName(name);
  const password = generateDeviceSecret();
  const hash = deviceSecretHash(password)!;
  const id = db
    .transaction(() => {
      const type = accountById(db, accountId)?.type;
      if (type === undefined) throw new DeviceError('no such box');
      if (type === 'ORG') throw new DeviceError('an organisational box (BAL ORG) has no devices: each linked person adds devices to their own box');
      if (deviceNameTaken(db, accountId, cleaned)) throw new DeviceError(`this box already has a device named "${cleaned}"`);
      if (countDevices(db, accountId) >= MAX_DEVICES_PER_ACCOUNT) {
        throw new DeviceError(`a box has at most ${MAX_DEVICES_PER_ACCOUNT} devices: revoke one first`);
      }
      const deviceId = insertDevice(db, accountId, cleaned, hash, now);
      audit(db, accountId, actor, 'device-added', deviceId, cleaned, now);
      return deviceId;
    })
    .immediate();
  return { id, name: cleaned, password, createdAt: now };
}

export function listDevices(db: Db, accountId: number): DeviceSummary[] {
  return listDeviceRows(db, accountId).map((row) => ({
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    lastUsedProtocol: row.last_used_protocol,
    lastUsedAddress: row.last_used_peer,
  }));
}

/**
 * Revokes a device: its next login fails. Open sessions are cut by the Authenticator
 * (`authenticator.revokeDevice`, or within a second when another process did it). False when the
 * box has no such device.
 */
export function revokeDevice(db: Db, accountId: number, deviceId: number, actor?: SettingsActor, now = Date.now()): boolean {
  return db
    .transaction(() => {
      const device = getDevice(db, accountId, deviceId);
      if (!device) return false;
      deleteDevice(db, accountId, deviceId);
      audit(db, accountId, actor, 'device-revoked', deviceId, device.name, now);
      return true;
    })
    .immediate();
}

/** The account id of a personal box named by any of its addresses (CLI convenience). */
export function accountIdOf(db: Db, address: string): number | undefined {
  return findAccount(db, address)?.id;
}
