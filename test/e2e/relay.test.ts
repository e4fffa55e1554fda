// Relay to other MSSanté operators: the real daemon's queue worker delivering to a small peer
// operator (test/helpers/peer.ts) over STARTTLS with the daemon's operator certificate, reached
// through relay.smarthost; retries, failure and success DSNs, restart with a queue.
import t from 'tap';
import { waitUntil } from '../helpers/wait';
import { submitMail as submit } from '../helpers/boxes';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { issueCertificate } from '../../src/tls/certificates';
import { cli, createPer, freePort, makeEnv, readCa, startDaemon, type TestEnv } from '../helpers/daemon';
import { peerDomain } from '../helpers/fixtures';
import { makeTestPki, PeerReply, startPeer, type TestPki } from '../helpers/peer';

function message(from: string, to: string, subject: string, extra: string[] = []): Buffer {
  return Buffer.from(
    [
      `From: <${from}>`,
      `To: <${to}>`,
      ...extra,
      `Subject: ${subject}`,
      `Message-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@client.example>`,
      'Date: Sun, 22 Nov 2026 10:00:00 +0100',
      'X-MSS-MES: FIN',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Résultats d’analyse — ligne 8-bit',
      '',
    ].join('\r\n'),
    'utf8',
  );
}

function inbox(env: TestEnv, login: string): Buffer[] {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  try {
    return (
      db
        .prepare(
          `SELECT b.content FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
           JOIN bodies b ON b.hash = m.body_hash WHERE a.login = ? AND mb.name = 'INBOX' ORDER BY m.uid`,
        )
        .all(login) as Array<{ content: Buffer }>
    ).map((row) => row.content);
  } finally {
    db.close();
  }
}

function queryOne<T>(env: TestEnv, sql: string, ...params: unknown[]): T {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  try {
    return db.prepare(sql).get(...params) as T;
  } finally {
    db.close();
  }
}

function relayConfig(pki: TestPki, port: number) {
  return {
    relay: { smarthost: { host: '127.0.0.1', port }, caFile: pki.caFile, certFile: pki.daemonCertFile, keyFile: pki.daemonKeyFile, retryDelays: ['1s'], maxAge: '1h' },
  };
}

interface QueueJson {
  entries: Array<{ queueId: string; attempts: number; recipients: Array<{ address: string; status: string; lastReply: string | null }> }>;
}

t.test('relay to a peer operator', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const peer = await startPeer({ pki });
  t.teardown(() => peer.close());
  const env = await makeEnv(relayConfig(pki, peer.port));
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const domain = peerDomain().domain;

  await t.test('one transaction per domain, the client certificate presented, DSN parameters passed on', async (t) => {
    const to = [`dr.un@${domain}`, `dr.deux@${domain}`];
    const raw = message(alice.mssante, to[0], 'Vers le pair', [`Bcc: <${to[1]}>`]);
    const before = peer.messages.length;
    const info = await submit(env, alice.login, { from: alice.mssante, to, raw, dsn: { id: 'ENV-1', return: 'headers', notify: ['SUCCESS', 'FAILURE'], recipient: `rfc822;${alice.mssante}` } });
    const acknowledgedAt = Date.now();
    const queueId = /accepted as ([0-9A-Z]+)/.exec(info.response)![1];
    const [received] = (await peer.waitFor(before + 1)).slice(before);
    t.comment(`from 250 to the peer's receipt: ${received.receivedAt - acknowledgedAt} ms`);
    t.equal(peer.messages.length, before + 1, 'one message for both recipients');
    t.equal(received.from, alice.mssante);
    t.same(received.to.map((r) => r.address).sort(), [...to].sort());
    for (const r of received.to) {
      t.same(r.notify, ['SUCCESS', 'FAILURE'], 'NOTIFY per recipient');
      t.equal(r.orcpt, `rfc822;${alice.mssante}`, 'ORCPT per recipient');
    }
    t.equal(received.envid, 'ENV-1');
    t.equal(received.ret, 'HDRS');
    t.ok(received.clientAuthorized, 'the operator certificate chains to the peer CA');
    t.equal(received.clientDn, pki.daemonDn);
    t.match(received.tlsProtocol, /^TLSv1\.[23]$/);
    const text = received.raw.toString('utf8');
    t.notMatch(text, /^Return-Path:/im, 'no Return-Path on a relayed copy (RFC 5321 section 4.4)');
    t.notMatch(text, /^Bcc:/im, 'Bcc never leaves');
    t.match(text, new RegExp(`^Received: from [^\\r]+\\r\\n\\tby mx\\.mssd-test\\.mssante\\.fr \\(mssd\\) with ESMTPSA id ${queueId}`));
    t.ok(text.includes('X-MSS-MES: FIN\r\n'));
    t.ok(received.raw.includes(Buffer.from('Résultats d’analyse — ligne 8-bit', 'utf8')), '8-bit body intact');
    await waitUntil('the queue to empty', () => cli(env, ['queue', 'list', '--json']).json<QueueJson>().entries.length === 0);
    const outcome = queryOne<{ n: number }>(env, `SELECT COUNT(*) AS n FROM delivery_recipients r JOIN deliveries d ON d.id = r.delivery_id WHERE d.queue_id = ? AND r.outcome = 'relayed'`, queueId);
    t.equal(outcome.n, 2, 'delivery_recipients record the relay');
    await waitUntil('the log line of the attempt', () => daemon.logs().some((l) => l.msg === 'relay attempt' && l.queueId === queueId));
    const attempt = daemon.logs().find((l) => l.msg === 'relay attempt' && l.queueId === queueId);
    t.match(attempt, { outcome: 'sent', peer: `127.0.0.1:${peer.port}`, reply: /^250 /, domain });
  });

  await t.test('a peer answering 4xx, then 250: retried after relay.retryDelays', async (t) => {
    const to = `dr.plus-tard@${domain}`;
    let refusals = 0;
    peer.respond = (stage, detail) => {
      if (stage === 'rcpt' && detail.to === to && refusals === 0) {
        refusals++;
        return new PeerReply(451, '4.3.0 Mailbox busy, try again later');
      }
      return null;
    };
    t.teardown(() => (peer.respond = () => null));
    const before = peer.messages.length;
    const info = await submit(env, alice.login, { from: alice.mssante, to: [to], raw: message(alice.mssante, to, 'Retry') });
    const queueId = /accepted as ([0-9A-Z]+)/.exec(info.response)![1];
    await waitUntil('a first attempt', () => daemon.logs().some((l) => l.msg === 'relay attempt' && l.queueId === queueId));
    const shown = cli(env, ['queue', 'show', queueId, '--json']);
    if (shown.status === 0) {
      const entry = shown.json<{ attempts: number; recipients: Array<{ status: string; lastReply: string }> }>();
      t.equal(entry.recipients[0].status, 'pending');
      t.match(entry.recipients[0].lastReply, /^451 4\.3\.0 Mailbox busy/);
    }
    await peer.waitFor(before + 1);
    t.equal(peer.messages.at(-1)!.to[0].address, to);
    await waitUntil('the log line of the second attempt', () => daemon.logs().filter((l) => l.msg === 'relay attempt' && l.queueId === queueId).length >= 2);
    const attempts = daemon.logs().filter((l) => l.msg === 'relay attempt' && l.queueId === queueId);
    t.same(attempts.map((l) => l.outcome), ['temporary', 'sent']);
    t.match(attempts[0].reply, /^451 4\.3\.0 /);
    await waitUntil('the queue to empty', () => cli(env, ['queue', 'list', '--json']).json<QueueJson>().entries.length === 0);
  });

  await t.test('a peer answering 5xx: a failure DSN in the sender INBOX, the others delivered', async (t) => {
    const unknown = `inconnu@${domain}`;
    const known = `dr.connu@${domain}`;
    peer.respond = (stage, detail) => (stage === 'rcpt' && detail.to === unknown ? new PeerReply(550, '5.1.1 No such user here') : null);
    t.teardown(() => (peer.respond = () => null));
    const before = inbox(env, alice.login).length;
    const peerBefore = peer.messages.length;
    await submit(env, alice.login, { from: alice.mssante, to: [unknown, known], raw: message(alice.mssante, unknown, 'Echec') });
    await waitUntil('the failure DSN', () => inbox(env, alice.login).length > before);
    t.equal(peer.messages.length, peerBefore + 1);
    t.same(peer.messages.at(-1)!.to.map((r) => r.address), [known], 'the accepted recipient got it');
    const dsn = inbox(env, alice.login).at(-1)!;
    t.match(dsn.toString(), /^Return-Path: <>\r\n/, 'from the null sender');
    const parsed = await simpleParser(dsn, { keepDeliveryStatus: true });
    const type = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    t.equal(type.value, 'multipart/report');
    t.equal(type.params['report-type'], 'delivery-status');
    t.match(parsed.subject, /Message non distribué \/ Undelivered message/);
    t.match(parsed.text, /Votre message n’a pas pu être distribué/);
    t.match(parsed.text, /Your message could not be delivered/);
    const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status');
    t.ok(status, 'message/delivery-status part');
    const fields = status!.content.toString();
    t.match(fields, /Reporting-MTA: dns; mx\.mssd-test\.mssante\.fr/);
    t.match(fields, new RegExp(`Final-Recipient: rfc822; ${unknown}`));
    t.notMatch(fields, new RegExp(known), 'only the failed recipient is reported');
    t.match(fields, /Action: failed/);
    t.match(fields, /Status: 5\.1\.1/);
    t.match(fields, /Remote-MTA: dns; 127\.0\.0\.1/);
    t.match(fields, /Diagnostic-Code: smtp; 550 5\.1\.1 No such user here/);
    const original = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
    t.ok(original, 'the whole original message (no RET=HDRS)');
    t.match(original!.content.toString(), /Subject: Echec/);
  });

  await t.test('NOTIFY=SUCCESS on the MTA: the success DSN goes back to the remote sender', async (t) => {
    const peerOperator = peerDomain();
    const cert = issueCertificate(readCa(env), { subject: peerOperator.dnFields, usage: 'client', days: 2 });
    const sender = `dr.distant@${peerOperator.domain}`;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: env.ports.smtp, requireTLS: true, tls: { ca: readFileSync(env.caFile), cert: cert.certPem, key: cert.keyPem, servername: 'localhost' } });
    const before = peer.messages.length;
    await transport
      .sendMail({ envelope: { from: sender, to: [alice.mssante] }, raw: message(sender, alice.mssante, 'Avec accuse'), dsn: { notify: 'SUCCESS', id: 'PEER-7' } })
      .finally(() => transport.close());
    const [report] = (await peer.waitFor(before + 1)).slice(before);
    t.equal(report.from, '', 'from the null sender');
    t.same(report.to.map((r) => r.address), [sender]);
    const parsed = await simpleParser(report.raw, { keepDeliveryStatus: true });
    const fields = parsed.attachments.find((a) => a.contentType === 'message/delivery-status')!.content.toString();
    t.match(fields, /Original-Envelope-Id: PEER-7/);
    t.match(fields, /Action: delivered/);
    t.match(fields, new RegExp(`Final-Recipient: rfc822; ${alice.mssante}`));
  });

  await t.test('queue CLI and log lines', async (t) => {
    t.same(cli(env, ['queue', 'list', '--json']).json<QueueJson>().entries, []);
    t.ok(daemon.logs().every((l) => l.msg !== 'relay attempt failed unexpectedly'));
  });
});

t.test('a peer that offers no STARTTLS is a temporary failure', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const peer = await startPeer({ pki, noTls: true });
  t.teardown(() => peer.close());
  const env = await makeEnv(relayConfig(pki, peer.port));
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const to = `dr.clair@${peerDomain().domain}`;
  const info = await submit(env, alice.login, { from: alice.mssante, to: [to], raw: message(alice.mssante, to, 'Sans TLS') });
  const queueId = /accepted as ([0-9A-Z]+)/.exec(info.response)![1];
  await waitUntil('two attempts', () => daemon.logs().filter((l) => l.msg === 'relay attempt' && l.queueId === queueId).length >= 2);
  t.equal(peer.messages.length, 0, 'nothing sent in clear');
  const entry = cli(env, ['queue', 'show', queueId, '--json']).json<{ recipients: Array<{ status: string; lastReply: string }> }>();
  t.equal(entry.recipients[0].status, 'pending', 'still queued');
  t.match(entry.recipients[0].lastReply, /^451 4\.4\.1 No peer accepted the connection \(connection to 127\.0\.0\.1:\d+ failed: Error upgrading connection with STARTTLS/);
  t.equal(inbox(env, alice.login).length, 0, 'no DSN for a temporary failure');
  const retry = cli(env, ['queue', 'retry', queueId]);
  t.equal(retry.status, 0, retry.stderr);
  t.match(retry.stdout, new RegExp(`queue entry ${queueId} is due now`));
  const attemptsBefore = daemon.logs().filter((l) => l.msg === 'relay attempt' && l.queueId === queueId).length;
  await waitUntil('the retried attempt', () => daemon.logs().filter((l) => l.msg === 'relay attempt' && l.queueId === queueId).length > attemptsBefore, 5_000);
  t.equal(cli(env, ['queue', 'delete', queueId]).status, 0);
  t.same(cli(env, ['queue', 'list', '--json']).json<QueueJson>().entries, [], 'deleted by the operator');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.notOk(daemon.logs().some((l) => l.msg === 'relay attempt failed unexpectedly'), 'the worker copes with an entry deleted under it');
});

t.test('without relay.requireTls, a peer without STARTTLS gets the message in clear', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const peer = await startPeer({ pki, noTls: true });
  t.teardown(() => peer.close());
  const config = relayConfig(pki, peer.port);
  const env = await makeEnv({ relay: { ...config.relay, requireTls: false } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const to = `dr.clair@${peerDomain().domain}`;
  await submit(env, alice.login, { from: alice.mssante, to: [to], raw: message(alice.mssante, to, 'Opportuniste') });
  const [received] = await peer.waitFor(1);
  t.equal(received.tlsProtocol, null, 'no TLS was possible');
  t.same(received.to.map((r) => r.address), [to]);
});

t.test('messages still queued at a restart are delivered afterwards', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const port = await freePort(); // nobody listens there yet: the peer is down
  const env = await makeEnv(relayConfig(pki, port));
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  let daemon = await startDaemon(env);
  const to = [`dr.un@${peerDomain().domain}`, `dr.deux@${peerDomain().domain}`];
  for (const [i, rcpt] of to.entries()) {
    const info = await submit(env, alice.login, { from: alice.mssante, to: [rcpt], raw: message(alice.mssante, rcpt, `Redemarrage ${i}`) });
    t.match(info.response, /^250 /);
  }
  await waitUntil('failed attempts', () => daemon.logs().filter((l) => l.msg === 'relay attempt').length >= 2);
  t.equal(await daemon.stop(), 0);
  const queued = cli(env, ['queue', 'list', '--json']).json<QueueJson>();
  t.equal(queued.entries.length, 2, 'both queued across the stop');
  t.ok(queued.entries.every((e) => /^451 4\.4\.1 No peer accepted the connection/.test(e.recipients[0].lastReply ?? '')));
  const peer = await startPeer({ pki, port });
  t.teardown(() => peer.close());
  daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const received = await peer.waitFor(2);
  t.same(received.map((m) => m.to[0].address).sort(), [...to].sort());
  await waitUntil('the queue to empty', () => cli(env, ['queue', 'list', '--json']).json<QueueJson>().entries.length === 0);
});
