// All SQL about boxes as the operator provisions them: accounts and their addresses, ORG
// memberships (R6), forwards (R7) and automatic replies (R8). Every invariant of the MSSanté
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
import type { Db } from './database';
import type { BoxStatus, BoxType } from '../policy/box-types';
import { findBox } from './boxes';
import { createDefaultMailboxes, listMailboxesWithCounts } from './mailboxes';
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
function aBox(type: string): string {
  return `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type} box`;
}

function refuse(message: string): never {
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

export function listAddresses(db: Db, accountId: number): AddressRow[] {
  return db
    .prepare(`SELECT address, kind FROM addresses WHERE account_id = ? ORDER BY kind = 'mssante', address`)
    .all(accountId) as AddressRow[];
}

/** The MSSanté addresses of a box (for an ORG, the address it is known by). */
export function mssanteAddresses(db: Db, accountId: number): string[] {
  return listAddresses(db, accountId)
    .filter((row) => row.kind === 'mssante')
    .map((row) => row.address);
}

// ---------------------------------------------------------------------------------------------
// Field checks

function isMssanteDomain(domains: ProvisioningDomains, address: string): boolean {
  const domain = domainOf(address);
  return domains.mssante.some((own) => own.toLowerCase() === domain);
}

function checkAddressSyntax(what: string, address: string): void {
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

function requiredText(what: string, value: string | undefined, max = 200): string {
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
function audit(db: Db, login: string, outcome: string, detail: Record<string, unknown> = {}): void {
  db.prepare(`INSERT INTO audit (at, event, source, outcome, detail) VALUES (?, 'account', 'cli', ?, ?)`).run(
    Date.now(),
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
    audit(db, input.login, 'created', { type: input.type, mssante });
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
        `INSERT INTO accounts (type, status, login, org_name, finess, responsible_rpps, description,
           created_at, updated_at)
         VALUES ('ORG', 'active', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(input.login, name, input.finess.toUpperCase(), responsible, description, now, now);
    const id = Number(result.lastInsertRowid);
    insertAddress(db, id, input.address, 'mssante');
    createDefaultMailboxes(db, id);
    audit(db, input.login, 'created', { type: 'ORG', mssante: input.address });
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
      audit(db, account.login, status === 'active' ? 'validated' : 'suspended', { from: account.status });
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
    audit(db, account.login, 'type-changed', { from, to, mssante: added });
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
export function updateAccountSettings(db: Db, address: string, settings: AccountSettings): string[] {
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
    audit(db, account.login, 'settings-changed', { changed });
    return changed;
  }).immediate();
}

// ---------------------------------------------------------------------------------------------
// ORG membership (R6) and per-member notices (R9)

function getOrg(db: Db, address: string): AccountRow {
  const org = getAccount(db, address);
  if (org.type !== 'ORG') refuse(`${address} is not an ORG box (it is ${aBox(org.type)})`);
  return org;
}

/** A member is an individual account (PER, MED or INT): a secretary without RPPS (MED) is a
 * typical delegate; ORG and APP boxes cannot be members. */
function getMember(db: Db, login: string): AccountRow {
  const member = getAccount(db, login);
  if (!PERSON_TYPES.includes(member.type as PersonType)) {
    refuse(`${login} is ${aBox(member.type)}: only personal boxes (PER, MED, INT) can be ORG members`);
  }
  return member;
}

export interface Membership {
  org: string;
  member: string;
  notify: boolean;
}

export function addOrgMember(db: Db, orgAddress: string, memberLogin: string): Membership {
  return db.transaction(() => {
    const org = getOrg(db, orgAddress);
    const member = getMember(db, memberLogin);
    const existing = db.prepare('SELECT 1 FROM org_members WHERE org_id = ? AND member_id = ?').get(org.id, member.id);
    if (existing) refuse(`${member.login} is already a member of ${orgAddress}`);
    db.prepare('INSERT INTO org_members (org_id, member_id, notify, added_at) VALUES (?, ?, 0, ?)').run(
      org.id,
      member.id,
      Date.now(),
    );
    audit(db, org.login, 'member-added', { member: member.login });
    return { org: orgAddress, member: member.login, notify: false };
  }).immediate();
}

export function removeOrgMember(db: Db, orgAddress: string, memberLogin: string): void {
  db.transaction(() => {
    const org = getOrg(db, orgAddress);
    const member = getAccount(db, memberLogin);
    const result = db.prepare('DELETE FROM org_members WHERE org_id = ? AND member_id = ?').run(org.id, member.id);
    if (result.changes === 0) refuse(`${member.login} is not a member of ${orgAddress}`);
    audit(db, org.login, 'member-removed', { member: member.login });
  }).immediate();
}

export function setOrgMemberNotify(db: Db, orgAddress: string, memberLogin: string, notify: boolean): Membership {
  return db.transaction(() => {
    const org = getOrg(db, orgAddress);
    const member = getAccount(db, memberLogin);
    const result = db
      .prepare('UPDATE org_members SET notify = ? WHERE org_id = ? AND member_id = ?')
      .run(notify ? 1 : 0, org.id, member.id);
    if (result.changes === 0) refuse(`${member.login} is not a member of ${orgAddress}`);
    audit(db, org.login, 'member-notify', { member: member.login, notify });
    return { org: orgAddress, member: member.login, notify };
  }).immediate();
}

/** Members of an ORG box: their logins and notice switches. */
export function listOrgMembers(db: Db, orgId: number): Array<{ login: string; type: BoxType; notify: boolean }> {
  const rows = db
    .prepare(
      `SELECT a.login, a.type, m.notify FROM org_members m JOIN accounts a ON a.id = m.member_id
       WHERE m.org_id = ? ORDER BY a.login`,
    )
    .all(orgId) as Array<{ login: string; type: BoxType; notify: number }>;
  return rows.map((row) => ({ login: row.login, type: row.type, notify: row.notify === 1 }));
}

/** ORG boxes a person is linked to, by their MSSanté address. */
export function listMemberships(db: Db, memberId: number): Array<{ org: string; notify: boolean }> {
  const rows = db
    .prepare(
      `SELECT ad.address AS org, m.notify FROM org_members m
       JOIN addresses ad ON ad.account_id = m.org_id AND ad.kind = 'mssante'
       WHERE m.member_id = ? ORDER BY ad.address`,
    )
    .all(memberId) as Array<{ org: string; notify: number }>;
  return rows.map((row) => ({ org: row.org, notify: row.notify === 1 }));
}

// ---------------------------------------------------------------------------------------------
// Forwards (R7)

/** Whether R1 lets mail leave towards a domain (supplied by the caller from the trust space). */
export type DestinationCheck = (domain: string) => boolean;

export interface ForwardRules {
  isAllowedDomain: DestinationCheck;
  /** trustSpace.patientDomain: refused as a forward target (a patient never gets a box's mail). */
  patientDomain: string;
}

/**
 * Adds a forward. The target must be a valid address that R1 allows — a local box, or a domain
 * the trust-space check accepts — and not an address of the box itself. A MED box may forward
 * only to local boxes (R2). The patient domain is refused: a patient is written to one message at
 * a time, never sent a copy of a professional's mail (R4).
 */
export function addForward(db: Db, boxAddress: string, target: string, rules: ForwardRules): void {
  checkAddressSyntax('forward target', target);
  db.transaction(() => {
    const account = getAccount(db, boxAddress);
    const targetBox = findBox(db, target);
    if (targetBox?.accountId === account.id) {
      refuse(`${target} is an address of this box: a box cannot forward to itself`);
    }
    const domain = domainOf(target);
    if (!targetBox) {
      if (domain === rules.patientDomain.toLowerCase()) refuse(`forwarding to a patient address (${domain}) is not allowed (R4)`);
      if (account.type === 'MED') refuse(`a MED box may forward only to local boxes (R2): ${target} is not one`);
      if (!rules.isAllowedDomain(domain)) refuse(`${domain} is outside the MSSanté trust space (R1): forward refused`);
    }
    const exists = db.prepare('SELECT 1 FROM forwards WHERE account_id = ? AND target = ?').get(account.id, target);
    if (exists) refuse(`${account.login} already forwards to ${target}`);
    db.prepare('INSERT INTO forwards (account_id, target, created_at) VALUES (?, ?, ?)').run(account.id, target, Date.now());
    audit(db, account.login, 'forward-added', { target });
  }).immediate();
}

export function removeForward(db: Db, boxAddress: string, target: string): void {
  db.transaction(() => {
    const account = getAccount(db, boxAddress);
    const result = db.prepare('DELETE FROM forwards WHERE account_id = ? AND target = ?').run(account.id, target);
    if (result.changes === 0) refuse(`${account.login} does not forward to ${target}`);
    audit(db, account.login, 'forward-removed', { target });
  }).immediate();
}

export function listForwards(db: Db, accountId: number): string[] {
  return (
    db.prepare('SELECT target FROM forwards WHERE account_id = ? ORDER BY target').all(accountId) as Array<{
      target: string;
    }>
  ).map((row) => row.target);
}

// ---------------------------------------------------------------------------------------------
// Automatic replies (R8)

export interface Autoreply {
  startAt: number;
  endAt: number;
  subject: string;
  body: string;
}

export const MAX_AUTOREPLY_BODY_BYTES = 64 * 1024;

/**
 * Sets (or replaces) the automatic reply of a box. A new period starts afresh: the senders already
 * answered are forgotten (RFC 3834 section 2: once per sender per period).
 */
export function setAutoreply(db: Db, boxAddress: string, reply: Autoreply, now = Date.now()): void {
  if (!Number.isFinite(reply.startAt) || !Number.isFinite(reply.endAt)) refuse('invalid automatic reply dates');
  if (reply.endAt <= reply.startAt) refuse('the automatic reply must end after it starts');
  if (reply.endAt <= now) refuse('the automatic reply would end in the past');
  const subject = requiredText('subject', reply.subject, 200);
  if (reply.body.trim() === '') refuse('the automatic reply body is empty');
  if (Buffer.byteLength(reply.body, 'utf8') > MAX_AUTOREPLY_BODY_BYTES) {
    refuse(`the automatic reply body is larger than ${MAX_AUTOREPLY_BODY_BYTES / 1024} KiB`);
  }
  db.transaction(() => {
    const account = getAccount(db, boxAddress);
    db.prepare(
      `INSERT INTO autoreplies (account_id, start_at, end_at, subject, body, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(account_id) DO UPDATE SET start_at = excluded.start_at, end_at = excluded.end_at,
         subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`,
    ).run(account.id, reply.startAt, reply.endAt, subject, reply.body, now);
    db.prepare('DELETE FROM autoreply_log WHERE account_id = ?').run(account.id);
    audit(db, account.login, 'autoreply-set', { start: reply.startAt, end: reply.endAt });
  }).immediate();
}

/** Removes the automatic reply of a box; returns false when it had none (not an error). */
export function clearAutoreply(db: Db, boxAddress: string): boolean {
  return db.transaction(() => {
    const account = getAccount(db, boxAddress);
    const result = db.prepare('DELETE FROM autoreplies WHERE account_id = ?').run(account.id);
    db.prepare('DELETE FROM autoreply_log WHERE account_id = ?').run(account.id);
    if (result.changes > 0) audit(db, account.login, 'autoreply-cleared');
    return result.changes > 0;
  }).immediate();
}

export function getAutoreply(db: Db, accountId: number): Autoreply | null {
  const row = db
    .prepare('SELECT start_at, end_at, subject, body FROM autoreplies WHERE account_id = ?')
    .get(accountId) as { start_at: number; end_at: number; subject: string; body: string } | undefined;
  return row ? { startAt: row.start_at, endAt: row.end_at, subject: row.subject, body: row.body } : null;
}

// ---------------------------------------------------------------------------------------------
// Description (`account show`)

export interface AccountDescription {
  login: string;
  type: BoxType;
  status: BoxStatus;
  hasPassword: boolean;
  addresses: AddressRow[];
  rpps: string | null;
  finess: string | null;
  responsibleRpps: string | null;
  names: { firstName: string | null; lastName: string | null; orgName: string | null };
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  city: string | null;
  postcode: string | null;
  visibility: { localDirectory: boolean; nationalDirectory: boolean };
  dematerialisation: boolean;
  notifications: { each: boolean; daily: boolean; opening: boolean };
  /** For a person: the ORG boxes they are linked to (by MSSanté address). */
  orgs: string[];
  /** For a person: the same ORG boxes with their switch for that ORG's reception notices (R9). */
  memberships: Array<{ org: string; notify: boolean }>;
  /** For an ORG: its members. */
  members: Array<{ login: string; type: BoxType; notify: boolean }>;
  forwards: string[];
  autoreply: { start: string; end: string; subject: string; body: string } | null;
  folders: Array<{ name: string; specialUse: string | null; messages: number }>;
  createdAt: string;
}

export function describeAccount(db: Db, address: string): AccountDescription {
  const account = getAccount(db, address);
  const reply = getAutoreply(db, account.id);
  return {
    login: account.login,
    type: account.type,
    status: account.status,
    hasPassword: account.password_hash !== null,
    addresses: listAddresses(db, account.id),
    rpps: account.rpps,
    finess: account.finess,
    responsibleRpps: account.responsible_rpps,
    names: { firstName: account.first_name, lastName: account.last_name, orgName: account.org_name },
    profession: account.profession,
    structure: account.structure,
    service: account.service,
    description: account.description,
    city: account.city,
    postcode: account.postcode,
    visibility: { localDirectory: account.local_directory === 1, nationalDirectory: account.national_directory === 1 },
    dematerialisation: account.dematerialisation === 1,
    notifications: {
      each: account.notify_each === 1,
      daily: account.notify_daily === 1,
      opening: account.notify_opening === 1,
    },
    orgs: listMemberships(db, account.id).map((membership) => membership.org),
    memberships: listMemberships(db, account.id),
    members: account.type === 'ORG' ? listOrgMembers(db, account.id) : [],
    forwards: listForwards(db, account.id),
    autoreply: reply && {
      start: new Date(reply.startAt).toISOString(),
      end: new Date(reply.endAt).toISOString(),
      subject: reply.subject,
      body: reply.body,
    },
    folders: listMailboxesWithCounts(db, account.id).map((box) => ({
      name: box.name,
      specialUse: box.special_use,
      messages: box.messages,
    })),
    createdAt: new Date(account.created_at).toISOString(),
  };
}
