// Device passwords (R16, issue 11): creation shown once and stored hashed, login with them through
// the Authenticator (IMAP/SMTP rules, not the portal), "devices" mode, last use, revocation cutting
// registered sessions, and the login audit rows in the agreed format.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Authenticator } from '../../src/auth/authenticator';
import { createDevicePassword, DeviceError, deviceSecretHash, listDevices, revokeDevice } from '../../src/auth/devices';
import { hashPassword } from '../../src/policy/password';
import { createOrgAccount, createPersonAccount, setAccountStatus } from '../../src/store/accounts';
import { addOrgMember } from '../../src/store/org-members';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { createLogger } from '../../src/util/log';

const domains = { mssante: ['exemple.mssante.fr'] };
const PASSWORD = 'Bon-mot-de-passe-1';

async function setup(t: { teardown(fn: () => void): void }) {
  const db: Db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-devices-')));
  migrate(db);
  t.teardown(() => db.close());
  const hash = await hashPassword(PASSWORD);
  const jean = createPersonAccount(db, domains, { type: 'PER', login: 'jean.dupont@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001', passwordHash: hash });
  const anne = createPersonAccount(db, domains, { type: 'PER', login: 'anne.roy@hopital.fr', firstName: 'Anne', lastName: 'Roy', rpps: '10000000002', passwordHash: hash });
  const org = createOrgAccount(db, domains, { login: 'pharma@hopital.fr', address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie', finess: '750000010', responsibleRpps: '10000000001' });
  addOrgMember(db, 'pharmacie@exemple.mssante.fr', 'jean.dupont@hopital.fr');
  return { db, jean, anne, org, log: createLogger('silent') };
}

function logins(db: Db) {
  return db.prepare("SELECT source, auth_login, peer, outcome, detail FROM audit WHERE event = 'login' ORDER BY id").all() as Array<{
    source: string;
    auth_login: string;
    peer: string;
    outcome: string;
    detail: string;
  }>;
}

t.test('a device password: random, shown once, stored as SHA-256 only', async (t) => {
  const { db, jean } = await setup(t);
  const a = createDevicePassword(db, jean.id, '  Thunderbird   cabinet ', { source: 'cli', login: 'root' });
  const b = createDevicePassword(db, jean.id, 'Téléphone');
  t.equal(a.name, 'Thunderbird cabinet', 'name trimmed');
  t.match(a.password, /^[a-z2-9]{4}(-[a-z2-9]{4}){5}$/);
  t.ok(a.password.replace(/-/g, '').length >= 20);
  t.not(a.password, b.password);
  const stored = db.prepare('SELECT * FROM devices').all() as Array<Record<string, unknown>>;
  t.equal(stored.length, 2);
  t.notOk(JSON.stringify(stored).includes(a.password.replace(/-/g, '')), 'the secret itself is not stored');
  t.equal(stored[0].secret_sha256, deviceSecretHash(a.password));
  t.notOk(JSON.stringify(db.prepare('SELECT * FROM audit').all()).includes(a.password), 'nor audited');
  t.throws(() => createDevicePassword(db, jean.id, 'thunderbird CABINET'), DeviceError, 'names unique per box');
  t.throws(() => createDevicePassword(db, jean.id, ' '), DeviceError);
  t.throws(() => createDevicePassword(db, jean.id, 'x'.repeat(65)), DeviceError);
  t.same(listDevices(db, jean.id).map((d) => d.name), ['Thunderbird cabinet', 'Téléphone']);
});

t.test('logging in with a device password on IMAP/SMTP, never on the portal', async (t) => {
  const { db, jean, anne } = await setup(t);
  const auth = new Authenticator(db, createLogger('silent'));
  const device = createDevicePassword(db, jean.id, 'Outlook');
  const ok = await auth.authenticate('jean.dupont@exemple.mssante.fr', device.password.toUpperCase().replace(/-/g, ' '), '10.0.0.1', 'imap');
  t.match(ok, { ok: true, account: { accountId: jean.id, method: 'device', deviceId: device.id, deviceName: 'Outlook' } }, 'case, spaces ignored');
  t.match(await auth.authenticate('anne.roy@hopital.fr', device.password, '10.0.0.1', 'imap'), { ok: false, reason: 'invalid-credentials' }, "another box's device");
  t.match(await auth.authenticate('jean.dupont@hopital.fr', device.password, '10.0.0.1', 'portal'), { ok: false, reason: 'invalid-credentials' }, 'not a portal password');
  t.match(await auth.authenticate('jean.dupont@hopital.fr', PASSWORD, '10.0.0.1', 'submission'), { ok: true, account: { method: 'account' } }, 'box password in "account" mode');
  const used = listDevices(db, jean.id)[0];
  t.equal(used.lastUsedProtocol, 'imap');
  t.equal(used.lastUsedAddress, '10.0.0.1');
  t.ok(used.lastUsedAt! > 0);
  const rows = logins(db);
  t.match(rows[0], { source: 'imap', auth_login: 'jean.dupont@exemple.mssante.fr', peer: '10.0.0.1', outcome: 'ok' });
  t.same(JSON.parse(rows[0].detail), { method: 'device', deviceId: device.id, deviceName: 'Outlook' });
  t.same(JSON.parse(rows[3].detail), { method: 'account' });
  t.equal(rows[1].outcome, 'invalid-credentials');
  void anne;
});

t.test('"devices" mode: the box password is refused on IMAP/SMTP only, with its own reason', async (t) => {
  const { db, jean } = await setup(t);
  const auth = new Authenticator(db, createLogger('silent'), { passwordLogins: 'devices' });
  t.match(await auth.authenticate('jean.dupont@hopital.fr', PASSWORD, '10.0.0.2', 'imap'), { ok: false, reason: 'device-password-required' });
  t.match(await auth.authenticate('jean.dupont@hopital.fr', 'wrong', '10.0.0.2', 'imap'), { ok: false, reason: 'invalid-credentials' });
  t.match(await auth.authenticate('jean.dupont@hopital.fr', PASSWORD, '10.0.0.2', 'portal'), { ok: true });
  const device = createDevicePassword(db, jean.id, 'Phone');
  t.match(await auth.authenticate('jean.dupont@hopital.fr', device.password, '10.0.0.2', 'submission'), { ok: true, account: { method: 'device' } });
});

t.test('revoking or suspending: next login refused, registered sessions cut', async (t) => {
  const { db, jean } = await setup(t);
  const auth = new Authenticator(db, createLogger('silent'));
  const phone = createDevicePassword(db, jean.id, 'Phone');
  const laptop = createDevicePassword(db, jean.id, 'Laptop');
  const cuts: string[] = [];
  for (const device of [phone, laptop]) {
    const result = await auth.authenticate('jean.dupont@hopital.fr', device.password, '10.0.0.3', 'imap');
    if (!result.ok) throw new Error('login failed');
    auth.registerSession(result.account, (reason) => cuts.push(`${device.name}:${reason}`));
  }
  t.ok(auth.revokeDevice(jean.id, phone.id, { source: 'portal', login: 'jean.dupont@hopital.fr' }));
  t.same(cuts, ['Phone:device-revoked'], 'only that device is cut');
  t.notOk(revokeDevice(db, jean.id, phone.id), 'already gone');
  t.match(await auth.authenticate('jean.dupont@hopital.fr', phone.password, '10.0.0.3', 'imap'), { ok: false, reason: 'invalid-credentials' });
  // A change made elsewhere (another process): seen at the next re-check.
  setAccountStatus(db, 'jean.dupont@hopital.fr', 'suspended');
  t.equal(auth.recheckSessions(), 1);
  t.same(cuts, ['Phone:device-revoked', 'Laptop:account-suspended']);
  t.match(await auth.authenticate('jean.dupont@hopital.fr', laptop.password, '10.0.0.3', 'imap'), { ok: false, reason: 'account-suspended' });
  const settings = db.prepare("SELECT source, auth_login, detail FROM audit WHERE event = 'settings' ORDER BY id").all() as Array<{ source: string; auth_login: string; detail: string }>;
  t.match(settings.at(-1), { source: 'portal', auth_login: 'jean.dupont@hopital.fr' });
  t.match(JSON.parse(settings.at(-1)!.detail), { change: 'device-revoked', deviceId: phone.id, deviceName: 'Phone' });
});

t.test('an ORG box has no devices', async (t) => {
  const { db, org } = await setup(t);
  t.throws(() => createDevicePassword(db, org.id, 'x'), DeviceError);
});
