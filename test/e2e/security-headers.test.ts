// Issue 15 finding 3 and "header rules at submission": a message with two From: fields (the
// user's own, then someone else's) was accepted and stored, and readers showing the last one
// displayed the other person as author. Now submission refuses a second From:, a second or
// foreign Sender:, and malformed To:/Cc:; the MTA refuses anything but exactly one From:.
import t from 'tap';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { issueCertificate } from '../../src/tls/certificates';
import { createPer, makeEnv, readCa, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { peerDomain } from '../helpers/fixtures';

function inboxCount(env: TestEnv, login: string): number {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  try {
    const row = db
      .prepare(`SELECT count(*) AS n FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id WHERE a.login = ? AND mb.name = 'INBOX'`)
      .get(login) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/** The reply to the end of DATA, or to whichever command failed first. */
async function outcome(transport: Transporter<SMTPTransport.SentMessageInfo>, envelope: { from: string; to: string[] }, header: string[]): Promise<string> {
  const raw = Buffer.from([...header, 'Subject: essai', 'Date: Sun, 22 Nov 2026 10:00:00 +0100', 'Message-ID: <x.' + Date.now() + '@client.example>', '', 'Bonjour', ''].join('\r\n'), 'utf8');
  try {
    const info = await transport.sendMail({ envelope, raw });
    return info.response;
  } catch (err) {
    return String((err as { response?: string }).response ?? err);
  } finally {
    transport.close();
  }
}

t.test('header rules', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const asBob = () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.submission,
      secure: false,
      requireTLS: true,
      auth: { user: bob.login, pass: TEST_PASSWORD },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
  const envelope = { from: bob.login, to: [alice.login] };

  await t.test('submission: two From: headers are refused, nothing is stored', async (t) => {
    const before = inboxCount(env, alice.login);
    const reply = await outcome(asBob(), envelope, [`From: <${bob.login}>`, `From: <${alice.login}>`, `To: <${alice.login}>`]);
    t.match(reply, /^550 5\.6\.0 The message has 2 From: headers: RFC 5322 section 3\.6 allows exactly one/);
    t.equal(inboxCount(env, alice.login), before, 'nothing delivered');
    const logged = () => daemon.logs().some((line) => line.msg === 'submission refused' && String(line.reply).includes('2 From: headers'));
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    t.ok(logged(), 'the refusal is logged');
  });

  await t.test('submission: a second Sender:, or a Sender: that is not the user, is refused', async (t) => {
    t.match(await outcome(asBob(), envelope, [`From: <${bob.login}>`, `Sender: <${bob.login}>`, `Sender: <${alice.login}>`, `To: <${alice.login}>`]), /^550 5\.6\.0 The message has 2 Sender: headers/);
    t.match(await outcome(asBob(), envelope, [`From: <${bob.login}>`, `Sender: <${alice.login}>`, `To: <${alice.login}>`]), /^550 5\.7\.1 Sender address rejected: <alice\.martin@hopital-test\.fr> \(Sender:\)/);
  });

  await t.test('submission: malformed or repeated To:/Cc: are refused', async (t) => {
    t.match(await outcome(asBob(), envelope, [`From: <${bob.login}>`, `To: Alice Martin`]), /^550 5\.6\.0 The To: header holds "Alice ?Martin", which is not an email address/);
    t.match(await outcome(asBob(), envelope, [`From: <${bob.login}>`, `To: <${alice.login}>`, `Cc: a@b@c.fr`]), /^550 5\.6\.0 The Cc: header holds/);
    t.match(await outcome(asBob(), envelope, [`From: <${bob.login}>`, `To: <${alice.login}>`, `To: <${bob.login}>`]), /^550 5\.6\.0 The message has 2 To: headers/);
  });

  await t.test('submission: a normal message still goes', async (t) => {
    const before = inboxCount(env, alice.login);
    t.match(await outcome(asBob(), envelope, [`From: Bob Durand <${bob.login}>`, `To: Alice <${alice.login}>, undisclosed-recipients:;`, `Cc: "Dr B" <${bob.mssante}>`]), /^250 /);
    t.equal(inboxCount(env, alice.login), before + 1);
  });

  await t.test('MTA: exactly one From:', async (t) => {
    const ca = readCa(env);
    const peer = peerDomain();
    const peerCert = issueCertificate(ca, { subject: peer.dnFields, usage: 'client', days: 2 });
    const fromPeer = () =>
      nodemailer.createTransport({
        host: '127.0.0.1',
        port: env.ports.smtp,
        secure: false,
        requireTLS: true,
        name: 'mx.peer-operator.example',
        tls: { ca: readFileSync(env.caFile), cert: peerCert.certPem, key: peerCert.keyPem },
      });
    const sender = `dr.peer@${peer.domain}`;
    const before = inboxCount(env, alice.login);
    t.match(await outcome(fromPeer(), { from: sender, to: [alice.mssante] }, [`From: <${sender}>`, `From: <${bob.mssante}>`, `To: <${alice.mssante}>`]), /^550 5\.6\.0 The message has 2 From: headers/);
    t.match(await outcome(fromPeer(), { from: sender, to: [alice.mssante] }, [`To: <${alice.mssante}>`]), /^550 5\.6\.0 The message has no From: header/);
    t.equal(inboxCount(env, alice.login), before, 'nothing delivered');
    t.match(await outcome(fromPeer(), { from: sender, to: [alice.mssante] }, [`From: <${sender}>`, `To: <${alice.mssante}>`]), /^250 /);
    t.equal(inboxCount(env, alice.login), before + 1);
  });
});
