// `mssd report monthly` over a month of known traffic through the real daemon: receptions from
// another operator over the MTA's mutual TLS, submissions inside the operator, to another operator
// and to a patient (nodemailer), an ORG reception notice handed to the
// notification relay (the R18 default), boxes created and one suspended, and connections. The
// daemon has no settable clock, so the month is the current one (schedules.timezone UTC); the
// login rows are written with the audit store function in the agreed format (COMMON.md), because
// the IMAP/submission login rows of branch auth-devices are not in main yet.
import t from 'tap';
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { cli, createPer, freePort, makeEnv, readCa, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { issueCertificate } from '../../src/tls/certificates';
import { luhnCompleted, peerDomain } from '../helpers/fixtures';
import { startNoticeSink } from '../helpers/notice-sink';
import { imapClient } from '../helpers/imap';
import { openDatabase } from '../../src/store/database';
import { insertAudit } from '../../src/store/audit';

function submit(env: TestEnv, user: string, from: string, to: string[]): Promise<unknown> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: env.ports.submission, requireTLS: true,
    auth: { user, pass: TEST_PASSWORD }, tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
  });
  const raw = Buffer.from(`From: <${from}>\r\nTo: ${to.map((a) => `<${a}>`).join(', ')}\r\nSubject: Compte rendu Dupont\r\n\r\nsecret body\r\n`);
  return transport.sendMail({ envelope: { from, to }, raw }).finally(() => transport.close());
}

/** A peer operator's MTA delivering to ours (STARTTLS with its operator certificate). */
function receive(env: TestEnv, from: string, to: string[], cert: { certPem: string; keyPem: string }): Promise<unknown> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: env.ports.smtp, secure: false, requireTLS: true, name: 'mx.peer-operator.example',
    tls: { ca: readFileSync(env.caFile), cert: cert.certPem, key: cert.keyPem },
  });
  const raw = Buffer.from(`From: <${from}>\r\nTo: ${to.map((a) => `<${a}>`).join(', ')}\r\nSubject: Résultats Dupont\r\n\r\nsecret body\r\n`);
  return transport.sendMail({ envelope: { from, to }, raw }).finally(() => transport.close());
}

/** A valid patient address: INS (NIR + key 97 - NIR mod 97) at the patient domain. */
function patientAddress(): string {
  const nir = 1800175123456n;
  return `${nir}${String(97n - (nir % 97n)).padStart(2, '0')}@patient.mssante.fr`;
}

t.test('a month of known traffic gives exactly the expected counts', async (t) => {
  const sink = await startNoticeSink();
  t.teardown(() => sink.stop());
  const env = await makeEnv({
    schedules: { timezone: 'UTC' },
    notifications: { smtp: { host: '127.0.0.1', port: sink.port, secure: false }, mergeWindow: '1s', retryDelays: ['1s'] },
    relay: { smarthost: { host: '127.0.0.1', port: await freePort() }, retryDelays: ['1h'], maxAge: '5d' },
  });
  const month = new Date().toISOString().slice(0, 7);
  const ann = createPer(env, 'Ann', 'Alpha', '10000000011');
  const bob = createPer(env, 'Bob', 'Beta', '10000000012');
  const cy = createPer(env, 'Cy', 'Gamma', '10000000013');
  const org = { login: 'accueil@hopital-test.fr', mssante: 'accueil@mssd-test.mssante.fr' };
  t.equal(cli(env, ['org', 'create', '--login', org.login, '--address', org.mssante, '--name', 'Accueil', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000011']).status, 0);
  t.equal(cli(env, ['account', 'suspend', cy.login]).status, 0);

  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const remote = `dr.ailleurs@${peerDomain().domain}`;
  await submit(env, ann.login, ann.mssante, [bob.mssante]);            // internal, by a PER
  await submit(env, ann.login, ann.mssante, [bob.mssante, remote]);    // internal and sent, one message
  await submit(env, bob.login, bob.mssante, [org.mssante]);            // internal, to the ORG: one notice
  // Its notice leaves after notifications.mergeWindow; a later reception makes a notice of its own.
  await sink.until('the first ORG notice', () => sink.to(org.login).length === 1);
  await submit(env, bob.login, bob.mssante, [remote]);                 // sent
  await submit(env, ann.login, ann.mssante, [patientAddress()]);       // to a patient
  const peer = peerDomain();
  const peerCert = issueCertificate(readCa(env), { subject: peer.dnFields, usage: 'client', days: 2 });
  await receive(env, `dr.peer@${peer.domain}`, [ann.mssante, bob.mssante], peerCert); // received, PER (one message)
  await receive(env, `dr.peer@${peer.domain}`, [org.mssante], peerCert);              // received, ORG: a second notice
  await sink.until('the second ORG notice', () => sink.to(org.login).length === 2);
  // Marked sent (and audited) right after the relay's 250.
  const db = openDatabase(env.dataDir);
  t.teardown(() => db.close());
  // Notices of the ORG (R18 default: its contact address; no member here).
  const sentNotices = () => (db.prepare(`SELECT COUNT(*) FROM audit WHERE event = 'notice' AND outcome = 'sent'`).pluck().get() as number);
  for (let i = 0; i < 200 && sentNotices() < 2; i++) await new Promise((r) => setTimeout(r, 50));
  // Real IMAP logins: twice with a device password, once with a wrong box password (the five
  // submissions above logged in with the box password).
  const device = cli(env, ['device', 'add', ann.login, '--name', 'Cabinet', '--json']).json<{ password: string }>();
  for (let i = 0; i < 2; i++) {
    const client = imapClient(env, ann.login, device.password);
    await client.connect();
    await client.logout();
  }
  const wrong = imapClient(env, ann.login, 'Pas-le-bon-mot-de-passe-1');
  await t.rejects(wrong.connect(), 'a wrong password is refused');
  const logins = () => db.prepare(`SELECT COUNT(*) FROM audit WHERE event = 'login'`).pluck().get() as number;
  for (let i = 0; i < 200 && logins() < 8; i++) await new Promise((r) => setTimeout(r, 50));
  // Token and portal logins are covered by their own e2e tests; here their rows are written as
  // those logins write them.
  const login = (source: string, method: string, outcome: string) =>
    insertAudit(db, { event: 'login', source, authLogin: ann.login, peer: '127.0.0.1', outcome, detail: JSON.stringify({ method }) });
  login('submission', 'token', 'ok');
  login('portal', 'password+totp', 'ok');

  const json = cli(env, ['report', 'monthly', '--month', month, '--json']);
  t.equal(json.status, 0, json.stderr);
  const report = json.json<Record<string, unknown>>();
  t.same(report.messages, [
    { direction: 'internal', type: 'PER', count: 3 },
    { direction: 'patient', type: 'PER', count: 1 },
    { direction: 'received', type: 'ORG', count: 1 },
    { direction: 'received', type: 'PER', count: 1 },
    { direction: 'sent', type: 'PER', count: 2 },
  ]);
  t.same(report.boxes, [
    { type: 'ORG', status: 'active', count: 1 },
    { type: 'PER', status: 'active', count: 2 },
    { type: 'PER', status: 'suspended', count: 1 },
  ]);
  t.same(report.boxesCreated, [{ type: 'ORG', count: 1 }, { type: 'PER', count: 3 }]);
  t.same(report.boxesClosed, [{ type: 'PER', count: 1 }]);
  t.same(report.connections, [
    { protocol: 'imap', method: 'account', result: 'failed', count: 1 },
    { protocol: 'imap', method: 'device', result: 'ok', count: 2 },
    { protocol: 'portal', method: 'password+totp', result: 'ok', count: 1 },
    { protocol: 'submission', method: 'account', result: 'ok', count: 5 },
    { protocol: 'submission', method: 'token', result: 'ok', count: 1 },
  ]);
  t.same(report.notices, [{ kind: 'reception', count: 2 }], 'the two reception notices the relay accepted');

  const text = cli(env, ['report', 'monthly', '--month', month]);
  const csv = cli(env, ['report', 'monthly', '--month', month, '--csv']);
  for (const output of [JSON.stringify(report), text.stdout, csv.stdout]) {
    for (const secret of [ann.mssante, bob.mssante, remote, patientAddress(), peer.domain, 'Dupont', 'secret', 'hopital-test.fr']) t.notOk(output.includes(secret), `no "${secret}"`);
  }
  t.match(text.stdout, /exchanged inside the operator +PER +3/);
  t.match(csv.stdout, /^section,key1,key2,key3,count\r\n/);
  t.match(csv.stdout, /\r\nmessages,sent,PER,,2\r\n/);
  t.match(csv.stdout, /\r\nconnections,imap,device,ok,2\r\n/);

  const empty = cli(env, ['report', 'monthly', '--month', '2001-01', '--json']).json<{ messages: unknown[]; boxes: unknown[] }>();
  t.same([empty.messages, empty.boxes], [[], []], 'a month before any box: nothing');

  for (const bad of ['2026-13', '2026-1', 'novembre', '']) {
    const result = cli(env, ['report', 'monthly', '--month', bad]);
    t.equal(result.status, 1, `--month '${bad}' exits 1`);
    t.match(result.stderr, /^mssd: invalid --month .*expected YYYY-MM/);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
});
