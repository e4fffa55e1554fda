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
