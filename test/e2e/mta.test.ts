// The inbound MTA as a peer MSSanté operator sees it: nodemailer delivering over STARTTLS with an
// operator client certificate, to the real daemon started from bin/mssd. The refusal codes, mutual
// TLS and the EHLO extensions are tested on the server object in test/smtp/mta.test.ts.
import t from 'tap';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { issueCertificate } from '../../src/tls/certificates';
import { cli, createPer, makeEnv, readCa, startDaemon, type TestEnv } from '../helpers/daemon';
import { luhnCompleted, peerDomain } from '../helpers/fixtures';
import { waitUntil } from '../helpers/wait';

interface SendOptions {
  from: string;
  to: string[];
  raw: Buffer;
  clientCert?: { certPem: string; keyPem: string } | null;
}

function send(env: TestEnv, options: SendOptions) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.ports.smtp,
    secure: false,
    requireTLS: true,
    name: 'mx.peer-operator.example',
    tls: {
      ca: readFileSync(env.caFile),
      ...(options.clientCert ? { cert: options.clientCert.certPem, key: options.clientCert.keyPem } : {}),
    },
  });
  return transport.sendMail({ envelope: { from: options.from, to: options.to }, raw: options.raw }).finally(() => transport.close());
}

function message(from: string, to: string, subject: string, body: string): Buffer {
  return Buffer.from(
    [
      `From: Dr Émile Peer <${from}>`,
      `To: <${to}>`,
      `Subject: ${subject}`,
      `Date: Sun, 22 Nov 2026 10:00:00 +0100`,
      `Message-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@peer.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      'X-MSS-MES: FIN',
      'X-MSS-INS: 180017512345678',
      '',
      body,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

function storedInbox(env: TestEnv, login: string): Array<{ uid: number; content: Buffer; message_id: string }> {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT m.uid, b.content, m.message_id FROM messages m
         JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
         JOIN bodies b ON b.hash = m.body_hash
         WHERE a.login = ? AND mb.name = 'INBOX' ORDER BY m.uid`,
      )
      .all(login) as Array<{ uid: number; content: Buffer; message_id: string }>;
  } finally {
    db.close();
  }
}

t.test('inbound MTA', async (t) => {
  const env = await makeEnv({ limits: { maxMessageBytes: 64 * 1024 } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const org = cli(env, [
    'org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', 'pharmacie@mssd-test.mssante.fr',
    '--name', 'Pharmacie centrale', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001', '--json',
  ]);
  t.equal(org.status, 0, `org create: ${org.stderr}`);
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const ca = readCa(env);
  const peer = peerDomain();
  const peerCert = issueCertificate(ca, { subject: peer.dnFields, usage: 'client', days: 2 });

  await t.test('a message from an allowlisted operator lands intact in the PER INBOX', async (t) => {
    const raw = message(`dr.peer@${peer.domain}`, alice.mssante, 'Compte rendu', 'Bonjour,\r\nrésultats ci-joints — 8-bit UTF-8 ✓\r\n.leading dot line\r\n');
    const info = await send(env, { from: `dr.peer@${peer.domain}`, to: [alice.mssante], raw, clientCert: peerCert });
    t.match(info.response, /^250 2\.6\.0 Message accepted as [0-9A-Z]+/);
    const inbox = storedInbox(env, alice.login);
    t.equal(inbox.length, 1);
    const stored = inbox[0].content;
    t.ok(stored.subarray(stored.length - raw.length).equals(raw), 'original bytes kept byte for byte');
    const trace = stored.subarray(0, stored.length - raw.length).toString('utf8');
    t.match(trace, /^Return-Path: <dr\.peer@[^>]+>\r\nReceived: from mx\.peer-operator\.example \(\[127\.0\.0\.1\]\)\r\n\tby mx\.mssd-test\.mssante\.fr \(mssd\) with ESMTPS id /);
    t.match(trace, /for <alice\.martin@mssd-test\.mssante\.fr>;\r\n\t\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/);
    t.match(inbox[0].message_id, /^Compterendu\./, 'Message-ID indexed');
    const shown = cli(env, ['account', 'show', alice.login, '--json']).json<{ folders: Array<{ name: string; messages: number }> }>();
    t.equal(shown.folders.find((f) => f.name === 'INBOX')?.messages, 1, 'account show counts it');
  });

  await t.test('an ORG address delivers to the ORG box', async (t) => {
    const raw = message(`dr.peer@${peer.domain}`, 'pharmacie@mssd-test.mssante.fr', 'Ordonnance', 'Merci de préparer.');
    await send(env, { from: `dr.peer@${peer.domain}`, to: ['pharmacie@mssd-test.mssante.fr'], raw, clientCert: peerCert });
    t.equal(storedInbox(env, 'pharmacie@hopital-test.fr').length, 1);
  });

  await t.test('one copy per box when two of its addresses are recipients', async (t) => {
    const before = storedInbox(env, alice.login).length;
    const raw = message(`dr.peer@${peer.domain}`, alice.mssante, 'Deux adresses', 'x');
    await send(env, { from: `dr.peer@${peer.domain}`, to: [alice.mssante, alice.mssante.toUpperCase()], raw, clientCert: peerCert });
    t.equal(storedInbox(env, alice.login).length, before + 1);
  });

  const refusals: Array<[string, () => SendOptions, RegExp]> = [
    [
      'a sender domain outside the trust space',
      () => ({ from: 'someone@gmail.com', to: [alice.mssante], raw: message('someone@gmail.com', alice.mssante, 'x', 'x'), clientCert: peerCert }),
      /^550 5\.7\.1 .*gmail\.com.*trust space/i,
    ],
  ];
  for (const [what, options, expected] of refusals) {
    await t.test(`refuses ${what}`, async (t) => {
      const before = storedInbox(env, alice.login).length;
      const err = await send(env, options()).then(
        () => null,
        (e: { response?: string }) => e,
      );
      t.ok(err, 'refused');
      t.match(err?.response ?? '', expected);
      t.equal(storedInbox(env, alice.login).length, before, 'nothing stored');
    });
  }

  await t.test('one log line per transaction with id, peer and outcome, never the body', async (t) => {
    // Log lines reach the test through a pipe, after the client got its reply.
    await waitUntil('the refusal log line', () => daemon.logs().some((l) => l.outcome === 'refused' && /gmail\.com/.test(String(l.from))));
    const delivered = daemon.logs().filter((l) => l.outcome === 'delivered');
    t.ok(delivered.length >= 3);
    for (const line of delivered) {
      t.match(line, { queueId: String, peer: '127.0.0.1', messageId: String });
    }
    t.notOk(JSON.stringify(daemon.logs()).includes('résultats ci-joints'), 'bodies never logged');
    t.ok(daemon.logs().some((l) => l.outcome === 'refused' && /gmail\.com/.test(String(l.from))));
  });

  await t.test('a second serve on the same data directory refuses to start', async (t) => {
    const second = cli(env, ['serve']);
    t.not(second.status, 0);
    t.match(second.stderr.trim(), /^mssd: another mssd is already running on the data directory /);
  });

  await t.test('SIGTERM stops the daemon cleanly', async (t) => {
    t.equal(await daemon.stop('SIGTERM'), 0);
    t.ok(daemon.logs().some((l) => l.msg === 'mssd stopped'));
  });
});
