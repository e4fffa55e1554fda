import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Authenticator } from '../../src/auth/authenticator';
import { hashPassword } from '../../src/policy/password';
import { createOrgAccount, createPersonAccount, setAccountStatus } from '../../src/store/accounts';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { createLogger } from '../../src/util/log';

const domains = { mssante: ['exemple.mssante.fr'] };
const PASSWORD = 'Bon-mot-de-passe-1';

function setup(t: { teardown(fn: () => void): void }) {
  const db: Db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-auth-')));
  migrate(db);
  t.teardown(() => db.close());
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  return { db, log, lines };
}

t.test('authenticate', async (t) => {
  const { db, log, lines } = setup(t);
  const hash = await hashPassword(PASSWORD);
  createPersonAccount(db, domains, { type: 'PER', login: 'jean.dupont@hopital.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10000000001', passwordHash: hash });
  createPersonAccount(db, domains, { type: 'MED', login: 'interne@hopital.fr', firstName: 'Ina', lastName: 'Terne', passwordHash: hash, pending: true });
  createPersonAccount(db, domains, { type: 'INT', login: 'paul.martin@hopital.fr', firstName: 'Paul', lastName: 'Martin', passwordHash: hash });
  createPersonAccount(db, domains, { type: 'INT', login: 'sans.mot@hopital.fr', firstName: 'Sans', lastName: 'Mot' });
  createOrgAccount(db, domains, { login: 'pharma@hopital.fr', address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie', finess: '750000010', responsibleRpps: '10000000001' });
  let now = 1_000_000;
  const auth = new Authenticator(db, log, { now: () => now, sleep: async () => {}, throttle: { maxFailuresPerPair: 3, maxFailuresPerAddress: 10, windowMs: 60_000 } });

  await t.test('login address or MSSanté address, any case', async (t) => {
    const byLogin = await auth.authenticate('Jean.Dupont@hopital.fr', PASSWORD, '10.0.0.1');
    t.ok(byLogin.ok);
    if (byLogin.ok) t.match(byLogin.account, { login: 'jean.dupont@hopital.fr', type: 'PER' });
    const byMssante = await auth.authenticate('jean.dupont@exemple.mssante.fr', PASSWORD, '10.0.0.1');
    t.ok(byMssante.ok);
  });

  await t.test('wrong password and unknown login look the same', async (t) => {
    t.same(await auth.authenticate('jean.dupont@hopital.fr', 'nope', '10.0.0.2'), { ok: false, reason: 'invalid-credentials' });
    t.same(await auth.authenticate('personne@hopital.fr', PASSWORD, '10.0.0.2'), { ok: false, reason: 'invalid-credentials' });
    t.same(await auth.authenticate('sans.mot@hopital.fr', '', '10.0.0.2'), { ok: false, reason: 'invalid-credentials' }, 'no password set');
  });

  await t.test('an ORG never logs in, by its address or its contact login', async (t) => {
    t.same(await auth.authenticate('pharmacie@exemple.mssante.fr', PASSWORD, '10.0.0.3'), { ok: false, reason: 'org-box' });
    t.same(await auth.authenticate('pharma@hopital.fr', PASSWORD, '10.0.0.3'), { ok: false, reason: 'org-box' });
  });

  await t.test('pending and suspended: told only with the right password', async (t) => {
    t.same(await auth.authenticate('interne@hopital.fr', PASSWORD, '10.0.0.4'), { ok: false, reason: 'account-pending' });
    t.same(await auth.authenticate('interne@hopital.fr', 'wrong', '10.0.0.4'), { ok: false, reason: 'invalid-credentials' });
    setAccountStatus(db, 'paul.martin@hopital.fr', 'suspended');
    t.same(await auth.authenticate('paul.martin@hopital.fr', PASSWORD, '10.0.0.4'), { ok: false, reason: 'account-suspended' });
    const ok = await auth.authenticate('jean.dupont@hopital.fr', PASSWORD, '10.0.0.4');
    t.ok(ok.ok);
    if (ok.ok) {
      t.ok(auth.stillActive(ok.account));
      setAccountStatus(db, 'jean.dupont@hopital.fr', 'suspended');
      t.notOk(auth.stillActive(ok.account), 'a suspension is seen by open sessions');
      setAccountStatus(db, 'jean.dupont@hopital.fr', 'active');
    }
  });

  await t.test('wrong passwords from one address never lock the owner out elsewhere (issue 15, finding 2)', async (t) => {
    for (let i = 0; i < 3; i++) {
      t.match(await auth.authenticate('jean.dupont@exemple.mssante.fr', 'bad', '10.1.0.1'), { ok: false, reason: 'invalid-credentials' });
    }
    t.match(await auth.authenticate('jean.dupont@exemple.mssante.fr', PASSWORD, '10.1.0.1'), { ok: false, reason: 'throttled' }, 'the guessing address is held');
    t.ok((await auth.authenticate('JEAN.DUPONT@exemple.mssante.fr', PASSWORD, '10.1.1.1')).ok, 'the owner elsewhere logs in');
  });

  await t.test('throttling per (account, address) pair, released by the window', async (t) => {
    // maxFailuresPerPair is 3 here; delays are skipped by the test's sleep.
    for (let i = 0; i < 3; i++) await auth.authenticate('paul.martin@hopital.fr', 'bad', '10.2.0.1');
    const blocked = await auth.authenticate('paul.martin@hopital.fr', PASSWORD, '10.2.0.1');
    t.match(blocked, { ok: false, reason: 'throttled' }, 'even the right password is not checked');
    if (!blocked.ok) t.ok(blocked.retryAfterMs! > 0 && blocked.retryAfterMs! <= 60_000);
    now += 60_001;
    t.match(await auth.authenticate('paul.martin@hopital.fr', PASSWORD, '10.2.0.1'), { ok: false, reason: 'account-suspended' }, 'checked again after the window');
  });

  await t.test('throttling per client address', async (t) => {
    for (let i = 0; i < 10; i++) await auth.authenticate(`inconnu${i}@hopital.fr`, 'x', '192.0.2.9');
    const blocked = await auth.authenticate('jean.dupont@hopital.fr', PASSWORD, '192.0.2.9');
    t.match(blocked, { ok: false, reason: 'throttled' });
    t.ok((await auth.authenticate('jean.dupont@hopital.fr', PASSWORD, '192.0.2.10')).ok, 'other addresses unaffected');
  });

  await t.test('a log line per attempt, never the password', async (t) => {
    t.ok(lines.some((l) => l.outcome === 'ok' && l.login === 'Jean.Dupont@hopital.fr' && l.peer === '10.0.0.1'));
    t.ok(lines.some((l) => l.outcome === 'refused' && l.reason === 'throttled'));
    t.notOk(JSON.stringify(lines).includes(PASSWORD));
  });
});
