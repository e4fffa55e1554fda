// R14 on submission: the daemon is killed with SIGKILL while users submit messages that go both to
// a local box and to a peer operator. After a restart every message that got a 250 is in the
// local INBOX, whole, and reaches the peer (the queue survived); the peer may see a message twice
// (a crash between its 250 and our bookkeeping), never zero times.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { peerDomain } from '../helpers/fixtures';
import { makeTestPki, startPeer } from '../helpers/peer';

const SENDERS = 6;
const KILL_AFTER_MS = 1500;

t.test('SIGKILL during submissions loses no acknowledged message, local or queued', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const peer = await startPeer({ pki });
  t.teardown(() => peer.close());
  const env = await makeEnv({
    relay: { smarthost: { host: '127.0.0.1', port: peer.port }, caFile: pki.caFile, certFile: pki.daemonCertFile, keyFile: pki.daemonKeyFile, retryDelays: ['1s'], maxAge: '1h' },
  });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const remote = `dr.pair@${peerDomain().domain}`;
  let daemon = await startDaemon(env);

  const acknowledged = new Map<string, Buffer>();
  let killed = false;
  const sender = async (index: number) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.submission,
      requireTLS: true,
      pool: true,
      maxConnections: 1,
      auth: { user: alice.login, pass: TEST_PASSWORD },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
    for (let n = 0; !killed; n++) {
      const id = `crash-${index}-${n}@client.example`;
      const raw = Buffer.from(
        `From: <${alice.mssante}>\r\nTo: <${bob.login}>, <${remote}>\r\nSubject: crash ${index}/${n}\r\nMessage-ID: <${id}>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0100\r\n\r\n` +
          `${'ligne de compte rendu '.repeat(40)}\r\n`.repeat(10 + ((index * 7 + n) % 30)),
      );
      try {
        await transport.sendMail({ envelope: { from: alice.mssante, to: [bob.login, remote] }, raw });
        acknowledged.set(id, raw);
      } catch {
        break; // the daemon was killed: this one was never acknowledged
      }
    }
    transport.close();
  };
  const senders = Array.from({ length: SENDERS }, (_, i) => sender(i));
  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
  daemon.process.kill('SIGKILL');
  killed = true;
  await daemon.exited;
  await Promise.all(senders);
  t.ok(acknowledged.size > 10, `submissions were under way when killed (${acknowledged.size} acknowledged)`);
  const beforeRestart = peer.messages.length;

  daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.pragma('integrity_check', { simple: true }) as string, 'ok', 'database intact');

  const stored = db
    .prepare(
      `SELECT m.message_id, b.content FROM messages m JOIN bodies b ON b.hash = m.body_hash JOIN mailboxes mb ON mb.id = m.mailbox_id
       JOIN accounts a ON a.id = mb.account_id WHERE a.login = ?`,
    )
    .all(bob.login) as Array<{ message_id: string; content: Buffer }>;
  const byId = new Map(stored.map((row) => [row.message_id, row.content]));
  let missing = 0;
  let damaged = 0;
  for (const [id, raw] of acknowledged) {
    const content = byId.get(id);
    if (!content) missing++;
    else if (!content.subarray(content.length - raw.length).equals(raw)) damaged++;
  }
  t.equal(missing, 0, 'every acknowledged message is in the local INBOX');
  t.equal(damaged, 0, 'every one whole');

  // The queue survived the crash: the worker of the restarted daemon drains it.
  const deadline = Date.now() + 60_000;
  while (cli(env, ['queue', 'list', '--json']).json<{ entries: unknown[] }>().entries.length > 0) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.same(cli(env, ['queue', 'list', '--json']).json<{ entries: unknown[] }>().entries, [], 'queue drained after the restart');
  const atPeer = new Map<string, number>();
  for (const message of peer.messages) {
    const id = /^Message-ID: <([^>]+)>/im.exec(message.raw.toString('latin1'))?.[1];
    if (id) atPeer.set(id, (atPeer.get(id) ?? 0) + 1);
  }
  const lost = [...acknowledged.keys()].filter((id) => !atPeer.has(id));
  t.same(lost, [], 'every acknowledged message reached the peer');
  const twice = [...atPeer.values()].filter((n) => n > 1).length;
  t.ok([...atPeer.values()].every((n) => n <= 2), 'at most one duplicate per message');
  t.comment(`${acknowledged.size} acknowledged; ${beforeRestart} at the peer before the restart; ${twice} sent twice across the crash`);

  const orphans = db.prepare(`SELECT COUNT(*) AS n FROM outbound_queue q LEFT JOIN bodies b ON b.hash = q.body_hash WHERE b.hash IS NULL`).get() as { n: number };
  t.equal(orphans.n, 0, 'no queue entry without its body');
});
