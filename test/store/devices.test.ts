// The SQL of device passwords and of the per-command validity check of open sessions.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOrgAccount, createPersonAccount, setAccountStatus } from '../../src/store/accounts';
import { addOrgMember, removeOrgMember } from '../../src/store/org-members';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import {
  accountIdsByRpps,
  credentialChanges,
  deleteDevice,
  findDeviceBySecret,
  insertDevice,
  linkedMemberByRpps,
  listDeviceRows,
  loginInvalidity,
  markDeviceUsed,
} from '../../src/store/devices';

const domains = { mssante: ['exemple.mssante.fr'] };

t.test('devices and login validity', async (t) => {
  const db: Db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-store-devices-')));
  migrate(db);
  t.teardown(() => db.close());
  const jean = createPersonAccount(db, domains, { type: 'PER', login: 'jean@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001' });
  const anne = createPersonAccount(db, domains, { type: 'PER', login: 'anne@hopital.fr', firstName: 'Anne', lastName: 'Roy', rpps: '10000000002' });
  const org = createOrgAccount(db, domains, { login: 'pharma@hopital.fr', address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie', finess: '750000010', responsibleRpps: '10000000001' });
  addOrgMember(db, 'pharmacie@exemple.mssante.fr', 'jean@hopital.fr');

  const id = insertDevice(db, jean.id, 'Phone', 'a'.repeat(64), 1000);
  t.same(findDeviceBySecret(db, jean.id, 'a'.repeat(64)), { id, name: 'Phone' });
  t.equal(findDeviceBySecret(db, anne.id, 'a'.repeat(64)), undefined, "never another account's device");
  t.throws(() => insertDevice(db, jean.id, 'PHONE', 'b'.repeat(64), 1000), 'name unique per account, any case');
  markDeviceUsed(db, id, 2000, 'submission', '10.0.0.9');
  t.match(listDeviceRows(db, jean.id)[0], { name: 'Phone', created_at: 1000, last_used_at: 2000, last_used_protocol: 'submission', last_used_peer: '10.0.0.9' });

  t.equal(loginInvalidity(db, jean.id, id, null), null);
  t.equal(loginInvalidity(db, jean.id, null, null), null);
  t.equal(loginInvalidity(db, org.id, null, jean.id), null, 'linked person behind an ORG token');
  t.equal(loginInvalidity(db, org.id, null, anne.id), 'unlinked');
  t.same(accountIdsByRpps(db, '10000000001'), [jean.id], 'ORG boxes (responsible RPPS) are not personal boxes');
  t.equal(linkedMemberByRpps(db, org.id, '10000000001'), jean.id);
  t.equal(linkedMemberByRpps(db, org.id, '10000000002'), undefined);

  t.ok(deleteDevice(db, jean.id, id));
  t.equal(loginInvalidity(db, jean.id, id, null), 'device-revoked');
  setAccountStatus(db, 'jean@hopital.fr', 'suspended');
  t.equal(loginInvalidity(db, jean.id, null, null), 'account-suspended');
  t.equal(loginInvalidity(db, org.id, null, jean.id), 'unlinked', 'a suspended person no longer opens the ORG box');
  setAccountStatus(db, 'jean@hopital.fr', 'active');
  removeOrgMember(db, 'pharmacie@exemple.mssante.fr', 'jean@hopital.fr');
  t.equal(loginInvalidity(db, org.id, null, jean.id), 'unlinked');
});

t.test('the credential counter moves with every change an open session\'s check reads, from any connection, and with nothing else', async (t) => {
  const db: Db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-store-devices-')));
  migrate(db);
  t.teardown(() => db.close());
  // Another process (the CLI, another IMAP worker): its own connection to the same file.
  const other: Db = openDatabase(path.dirname(db.name));
  t.teardown(() => other.close());
  const jean = createPersonAccount(db, domains, { type: 'PER', login: 'jean@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001' });
  createOrgAccount(db, domains, { login: 'pharma@hopital.fr', address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie', finess: '750000010', responsibleRpps: '10000000001' });
  addOrgMember(db, 'pharmacie@exemple.mssante.fr', 'jean@hopital.fr');
  const phone = insertDevice(db, jean.id, 'Phone', 'a'.repeat(64), 1000);
  const tablet = insertDevice(db, jean.id, 'Tablet', 'b'.repeat(64), 1000);

  let last = credentialChanges(db);
  const moved = (what: string) => {
    const now = credentialChanges(db);
    t.ok(now > last, `moves: ${what}`);
    last = now;
  };
  const still = (what: string) => t.equal(credentialChanges(db), last, `stays: ${what}`);

  markDeviceUsed(other, phone, 2000, 'imap', '10.0.0.9');
  insertDevice(other, jean.id, 'Laptop', 'c'.repeat(64), 3000);
  still('a device used, a device added');
  deleteDevice(other, jean.id, tablet);
  moved('a device revoked by another connection');
  setAccountStatus(other, 'jean@hopital.fr', 'suspended');
  moved('an account suspended');
  setAccountStatus(db, 'jean@hopital.fr', 'active');
  moved('an account reactivated (by this connection)');
  removeOrgMember(other, 'pharmacie@exemple.mssante.fr', 'jean@hopital.fr');
  moved('a person unlinked from an ORG box');
  other.prepare('DELETE FROM accounts WHERE id = ?').run(jean.id);
  moved('an account deleted');
  t.equal(loginInvalidity(db, jean.id, phone, null), 'account-suspended');
});
