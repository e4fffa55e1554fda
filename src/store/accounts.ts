// Provisioning: the accounts table and the addresses of each box, as the operator creates and
// changes them. ORG membership (R6) is in org-members.ts, forwards (R7) and automatic replies (R8)
// in box-rules.ts, the `account show` view in account-view.ts; they share the lookups and refusal
// helpers exported here. Every invariant of the MSSanté
// account model (R2, R13, DESIGN.md "Operator CLI") is checked here, whoever the caller is; a
// refusal is an AccountError whose message is one line naming the problem (R15).
//
// Decisions recorded here:
// - A login is the box's internal address and never lies in an MSSanté domain: MSSanté addresses
//   are given separately (kind 'mssante'), which keeps a MED box out of the trust space (R2).
// - The login of an ORG is its contact address (where its notices go, R9). It is NOT an address
//   of the ORG box (not in `addresses`): mail to it is not delivered into the ORG, and the
//   contact may well be an outside mailbox. It is still unique among logins (schema).
// - Default MSSanté address: `prenom.nom@<first domains.mssante>`; on collision a number is
//   appended to the local part, from 2 upwards (`prenom.nom2`, `prenom.nom3`…).
// - MED and INT boxes are created with the national-directory switch off and cannot turn it on
//   (they are never published nationally, R2/R13); becoming PER turns it on, so the box appears
//   in the next publication.
// - An account without a password exists but cannot log in until one is set.
// - Every change runs in an IMMEDIATE transaction: the "is this address free?" check and the
//   insert cannot interleave with another CLI process or the daemon.
// - The same RPPS may hold several personal boxes and the same FINESS several ORG boxes (one per
//   practice, one per service): identifiers are not unique, addresses and logins are.
import { cachedStatement, type Db } from './database';
import type { BoxStatus, BoxType } from '../policy/box-types';
import { findBox } from './boxes';
import { createDefaultMailboxes } from './mailboxes';
import {
  defaultMssanteLocalPart,
  domainOf,
  isValidEmail,
  isValidFiness,
  isValidRpps,
} from '../policy/identity';

/** A refusal of provisioning input; its message is the one line shown to the operator. */
export class AccountError extends Error {
  override name = 'AccountError';
}

/** "a PER box", "an INT box": BAL types in refusal messages. */
export function aBox(type: string): string {
  return `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type} box`;
}

export function refuse(message: string): never {
  throw new AccountError(message);
}

export type PersonType = 'PER' | 'MED' | 'INT';
export const PERSON_TYPES: readonly PersonType[] = ['PER', 'MED', 'INT'];

export interface AccountRow {
  id: number;
  type: BoxType;
  status: BoxStatus;
  login: string;
  password_hash: string | null;
  first_name: string | null;
  last_name: string | null;
  org_name: string | null;
  rpps: string | null;
  finess: string | null;
  responsible_rpps: string | null;
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  city: string | null;
  postcode: string | null;
  local_directory: number;
  national_directory: number;
  dematerialisation: number;
  notify_each: number;
  notify_daily: number;
  notify_opening: number;
  created_at: number;
  updated_at: number;
}

/** The operator's MSSanté domains (config `domains.mssante`); the first one names default addresses. */
export interface ProvisioningDomains {
  mssante: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Lookups

/** The account behind any address of a box (login or MSSanté address), or an ORG's contact login. */
export function findAccount(db: Db, address: string): AccountRow | undefined {
  const box = findBox(db, address);
  if (box) return db.prepare('SELECT * FROM accounts WHERE id = ?').get(box.accountId) as AccountRow;
  return db.prepare('SELECT * FROM accounts WHERE login = ?').get(address) as AccountRow | undefined;
}

/** Like findAccount, but an unknown address is a refusal naming it. */
export function getAccount(db: Db, address: string): AccountRow {
  return findAccount(db, address) ?? refuse(`no box has the address ${address}`);
}

/** True when `address` is already an address of some box or the login of some account. */
export function isAddressTaken(db: Db, address: string): boolean {
  return (
    db.prepare('SELECT 1 FROM addresses WHERE address = ?').get(address) !== undefined ||
    db.prepare('SELECT 1 FROM accounts WHERE login = ?').get(address) !== undefined
  );
}

export interface AddressRow {
  address: string;
  kind: 'login' | 'mssante';
}

/**
 * The addresses of a box: its login (PER, MED, INT) then its MSSanté addresses. The one place that
 * lists them: `account show`, the addresses a person may send from (R6) and the box rules' loop
 * and RFC 3834 checks all read them here. Cached statement: the router calls it per delivery.
 */
export function listAddresses(db: Db, accountId: number): AddressRow[] {
  return cachedStatement(
    db,
    `SELECT address, kind FROM addresses WHERE account_id = ? ORDER BY kind = 'mssante', address`,
  ).all(accountId) as AddressRow[];
}

// ---------------------------------------------------------------------------------------------
// Field checks

function isMssanteDomain(domains: ProvisioningDomains, address: string): boolean {
  const domain = domainOf(address);
  return domains.mssante.some((own) => own.toLowerCase() === domain);
}

export function checkAddressSyntax(what: string, address: string): void {
  if (!isValidEmail(address)) refuse(`invalid ${what} '${address}': expected an email address such as name@example.fr`);
}

function checkFree(address: string, db: Db): void {
  if (isAddressTaken(db, address)) refuse(`address ${address} is already in use`);
}

/** An RPPS that must be present (`missing` is the refusal otherwise) and well formed. */
function checkRpps(label: string, rpps: string | undefined, missing: string): string {
  if (rpps === undefined || rpps === '') refuse(missing);
  if (!isValidRpps(rpps)) refuse(`invalid ${label} '${rpps}': expected 11 digits`);
  return rpps;
}

/** Optional free-text field: trimmed, one line, bounded; undefined or '' means "not given". */
function text(what: string, value: string | undefined, max = 200): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (/[\p{Cc}]/u.test(trimmed)) refuse(`invalid ${what}: control characters or line breaks are not allowed`);
  if ([...trimmed].length > max) refuse(`invalid ${what}: at most ${max} characters`);
  return trimmed;
}

export function requiredText(what: string, value: string | undefined, max = 200): string {
  return text(what, value, max) ?? refuse(`${what} is required`);
}

function checkPostcode(postcode: string | undefined): string | null {
  const value = text('postcode', postcode, 10);
  if (value !== null && !/^\d{5}$/.test(value)) refuse(`invalid postcode '${value}': expected 5 digits`);
  return value;
}

/**
 * The MSSanté address a new PER/INT box gets: the one asked for (checked: syntax, one of our
 * MSSanté domains, free), or the default `prenom.nom@<first MSSanté domain>` with a number
 * appended on collision.
 */
function chooseMssanteAddress(
  db: Db,
  domains: ProvisioningDomains,
  requested: string | undefined,
  firstName: string,
  lastName: string,
): string {
  if (requested !== undefined) {
    checkAddressSyntax('MSSanté address', requested);
    if (!isMssanteDomain(domains, requested)) {
      refuse(`MSSanté address ${requested} is not in one of the MSSanté domains (${domains.mssante.join(', ')})`);
    }
    checkFree(requested, db);
    return requested;
  }
  const local = defaultMssanteLocalPart(firstName, lastName);
  if (local === '') refuse('cannot derive an MSSanté address from the names: give --mssante-address');
  const domain = domains.mssante[0];
  for (let n = 1; n < 10_000; n++) {
    const candidate = `${local}${n === 1 ? '' : n}@${domain}`;
    if (!isAddressTaken(db, candidate)) return candidate;
  }
  return refuse(`no free MSSanté address for ${local}@${domain}: give --mssante-address`);
}

function insertAddress(db: Db, accountId: number, address: string, kind: AddressRow['kind']): void {
  db.prepare('INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, ?)').run(address, accountId, kind);
}

/**
 * Operator actions go to the audit trail: event 'account', the box's login and what changed in
 * `detail` (never a password, a hash or a reply body).
 */
/** Who made a change: the operator's CLI or the person on the portal (the audit row's source). */
export type ChangeSource = 'cli' | 'portal';

export function auditAccountChange(db: Db, login: string, outcome: string, detail: Record<string, unknown> = {}, source: ChangeSource = 'cli'): void {
  db.prepare(`INSERT INTO audit (at, event, source, outcome, detail) VALUES (?, 'account', ?, ?, ?)`).run(
    Date.now(),
    source,
    outcome,
    JSON.stringify({ box: login, ...detail }),
  );
}

// ---------------------------------------------------------------------------------------------
// Creation

export interface NewPersonAccount {
  type: PersonType;
  login: string;
  firstName: string;
  lastName: string;
  rpps?: string;
  profession?: string;
  structure?: string;
  city?: string;
  postcode?: string;
  mssanteAddress?: string;
  /** Already hashed (src/policy/password.ts); absent = the box cannot log in yet. */
  passwordHash?: string | null;
  pending?: boolean;
}

/**
 * Creates a PER, MED or INT box with its login address, its MSSanté address (PER and INT only)
 * and its default mailboxes, in one transaction.
 */
export function createPersonAccount(db: Db, domains: ProvisioningDomains, input: NewPersonAccount): AccountRow {
  if (!PERSON_TYPES.includes(input.type)) refuse(`invalid type '${input.type}': expected PER, MED or INT`);
  checkAddressSyntax('login', input.login);
  if (isMssanteDomain(domains, input.login)) {
    refuse(`login ${input.login} is in an MSSanté domain: a login is an internal address (MSSanté addresses are given by --mssante-address)`);
  }
  const firstName = requiredText('first name', input.firstName, 100);
  const lastName = requiredText('last name', input.lastName, 100);
  let rpps: string | null = null;
  if (input.type === 'PER') rpps = checkRpps('RPPS', input.rpps, 'a PER box requires an RPPS number (--rpps)');
  else if (input.rpps !== undefined && input.rpps !== '') {
    // R2: a professional with an RPPS gets a PER box; an INT awaits one, a MED has none.
    refuse(`${aBox(input.type)} has no RPPS: create a PER box for a professional with an RPPS`);
  }
  if (input.type === 'MED' && input.mssanteAddress !== undefined) {
    refuse('a MED box has no MSSanté address (R2): only its internal login address');
  }
  const profession = text('profession', input.profession);
  const structure = text('structure', input.structure);
  const city = text('city', input.city, 100);
  const postcode = checkPostcode(input.postcode);

  return db.transaction(() => {
    checkFree(input.login, db);
    const mssante =
      input.type === 'MED' ? null : chooseMssanteAddress(db, domains, input.mssanteAddress, firstName, lastName);
    const now = Date.now();
    const result = db
      .prepare(
        `INSERT INTO accounts (type, status, login, password_hash, first_name, last_name, rpps, profession,
           structure, city, postcode, national_directory, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        input.type,
        input.pending ? 'pending' : 'active',
        input.login,
        input.passwordHash ?? null,
        firstName,
        lastName,
        rpps,
        profession,
        structure,
        city,
        postcode,
        input.type === 'PER' ? 1 : 0,
        now,
        now,
      );
    const id = Number(result.lastInsertRowid);
    insertAddress(db, id, input.login, 'login');
    if (mssante) insertAddress(db, id, mssante, 'mssante');
    createDefaultMailboxes(db, id);
    auditAccountChange(db, input.login, 'created', { type: input.type, mssante });
    return db.prepare('SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow;
  }).immediate();
}

export interface NewOrgAccount {
  /** Contact address: receives the ORG's notices (R9); not an address of the box. */
  login: string;
  /** The ORG's MSSanté address. */
  address: string;
  name: string;
  finess: string;
  responsibleRpps: string;
  description?: string;
}

/** Creates an ORG box: no password (R2), a FINESS and a responsible professional's RPPS. */
export function createOrgAccount(db: Db, domains: ProvisioningDomains, input: NewOrgAccount): AccountRow {
  checkAddressSyntax('contact login', input.login);
  checkAddressSyntax('ORG address', input.address);
  if (!isMssanteDomain(domains, input.address)) {
    refuse(`ORG address ${input.address} is not in one of the MSSanté domains (${domains.mssante.join(', ')})`);
  }
  if (input.login.toLowerCase() === input.address.toLowerCase()) {
    refuse('the contact login of an ORG must differ from its MSSanté address (it receives the notices)');
  }
  const name = requiredText('ORG name', input.name);
  if (input.finess === undefined || input.finess === '') refuse('an ORG box requires a FINESS number (--finess)');
  if (!isValidFiness(input.finess)) refuse(`invalid FINESS '${input.finess}': expected 9 characters with a valid check digit`);
  const responsible = checkRpps(
    'responsible RPPS',
    input.responsibleRpps,
    "an ORG box requires its responsible professional's RPPS (--responsible-rpps)",
  );
  const description = text('description', input.description, 1000);

  return db.transaction(() => {
    if (db.prepare('SELECT 1 FROM accounts WHERE login = ?').get(input.login)) {
      refuse(`login ${input.login} is already used by another account`);
    }
    checkFree(input.address, db);
    const now = Date.now();
    const result = db
      .prepare(
        // notify_each = 1: the contact address is told of each reception by default (R18).
        `INSERT INTO accounts (type, status, login, org_name, finess, responsible_rpps, description,
           notify_each, created_at, updated_at)
         VALUES ('ORG', 'active', ?, ?, ?, ?, ?, 1, ?, ?)`,
      )
      .run(input.login, name, input.finess.toUpperCase(), responsible, description, now, now);
    const id = Number(result.lastInsertRowid);
    insertAddress(db, id, input.address, 'mssante');
    createDefaultMailboxes(db, id);
    auditAccountChange(db, input.login, 'created', { type: 'ORG', mssante: input.address });
    return db.prepare('SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow;
  }).immediate();
}

// ---------------------------------------------------------------------------------------------
// Status, type, settings

export interface StatusChange {
  login: string;
  from: BoxStatus;
  to: BoxStatus;
  changed: boolean;
}

/** validate (→ active) and suspend (→ suspended); already in that status is a no-op. */
export function setAccountStatus(db: Db, address: string, status: 'active' | 'suspended'): StatusChange {
  return db.transaction(() => {
    const account = getAccount(db, address);
    const changed = account.status !== status;
    if (changed) {
      db.prepare('UPDATE accounts SET status = ?, updated_at = ? WHERE id = ?').run(status, Date.now(), account.id);
      auditAccountChange(db, account.login, status === 'active' ? 'validated' : 'suspended', { from: account.status });
    }
    return { login: account.login, from: account.status, to: status, changed };
  }).immediate();
}

export interface TypeChange {
  login: string;
  from: BoxType;
  to: BoxType;
  /** The MSSanté address the box gained, if any. */
  addedAddress: string | null;
}

/**
 * Upgrades a personal box: MED → INT, MED → PER, INT → PER. A box that becomes PER needs its RPPS
 * and is switched into the national directory (R13: it appears in the next publication); a MED
 * box gains its MSSanté address (the requested one, else the default). Downgrades are refused:
 * they would withdraw an MSSanté address that others already use.
 */
export function changeAccountType(
  db: Db,
  domains: ProvisioningDomains,
  address: string,
  to: PersonType,
  options: { rpps?: string; mssanteAddress?: string } = {},
): TypeChange {
  return db.transaction(() => {
    const account = getAccount(db, address);
    const from = account.type;
    if (!PERSON_TYPES.includes(from as PersonType)) refuse(`${aBox(from)} cannot change type`);
    if (!PERSON_TYPES.includes(to)) refuse(`invalid type '${to}': expected PER, MED or INT`);
    if (from === to) refuse(`${account.login} is already ${aBox(to)}`);
    const allowed = (from === 'MED' && (to === 'PER' || to === 'INT')) || (from === 'INT' && to === 'PER');
    if (!allowed) refuse(`cannot change ${aBox(from)} into ${to}: only MED→INT, MED→PER and INT→PER are supported`);
    const rpps = to === 'PER' ? checkRpps('RPPS', options.rpps, 'becoming PER requires an RPPS number (--rpps)') : null;
    if (to !== 'PER' && options.rpps !== undefined) refuse(`${aBox(to)} has no RPPS`);
    if (from !== 'MED' && options.mssanteAddress !== undefined) {
      refuse(`${account.login} already has an MSSanté address`);
    }
    let added: string | null = null;
    if (from === 'MED') {
      added = chooseMssanteAddress(db, domains, options.mssanteAddress, account.first_name ?? '', account.last_name ?? '');
      insertAddress(db, account.id, added, 'mssante');
    }
    db.prepare(
      `UPDATE accounts SET type = ?, rpps = COALESCE(?, rpps), national_directory = ?, updated_at = ? WHERE id = ?`,
    ).run(to, rpps, to === 'PER' ? 1 : 0, Date.now(), account.id);
    auditAccountChange(db, account.login, 'type-changed', { from, to, mssante: added });
    return { login: account.login, from, to, addedAddress: added };
  }).immediate();
}

export interface AccountSettings {
  localDirectory?: boolean;
  nationalDirectory?: boolean;
  dematerialisation?: boolean;
  notifyEach?: boolean;
  notifyDaily?: boolean;
  notifyOpening?: boolean;
  /** A new password, already hashed. */
  passwordHash?: string;
}

const SETTING_COLUMNS: Record<Exclude<keyof AccountSettings, 'passwordHash'>, string> = {
  localDirectory: 'local_directory',
  nationalDirectory: 'national_directory',
  dematerialisation: 'dematerialisation',
  notifyEach: 'notify_each',
  notifyDaily: 'notify_daily',
  notifyOpening: 'notify_opening',
};

/** `account set`: the switches given, and/or a new password. Returns the names of what changed. */
export function updateAccountSettings(db: Db, address: string, settings: AccountSettings, source: ChangeSource = 'cli'): string[] {
  return db.transaction(() => {
    const account = getAccount(db, address);
    if (settings.nationalDirectory === true && (account.type === 'MED' || account.type === 'INT')) {
      refuse(`${aBox(account.type)} is never published in the national directory (R2)`);
    }
    if (settings.passwordHash !== undefined && account.type === 'ORG') {
      refuse('an ORG box has no password: it is reached through its members (R2)');
    }
    const assignments: string[] = [];
    const values: Array<number | string> = [];
    const changed: string[] = [];
    for (const [key, column] of Object.entries(SETTING_COLUMNS) as Array<[keyof typeof SETTING_COLUMNS, string]>) {
      const value = settings[key];
      if (value === undefined) continue;
      assignments.push(`${column} = ?`);
      values.push(value ? 1 : 0);
      changed.push(key);
    }
    if (settings.passwordHash !== undefined) {
      assignments.push('password_hash = ?');
      values.push(settings.passwordHash);
      changed.push('password');
    }
    if (assignments.length === 0) refuse('nothing to set: give at least one option');
    db.prepare(`UPDATE accounts SET ${assignments.join(', ')}, updated_at = ? WHERE id = ?`).run(
      ...values,
      Date.now(),
      account.id,
    );
    auditAccountChange(db, account.login, 'settings-changed', { changed }, source);
    return changed;
  }).immediate();
}

