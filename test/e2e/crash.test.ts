// R14: the daemon is killed with SIGKILL while several peers deliver. After a restart every
// message that got a 250 is in the store, whole, and nothing half-written is visible.
import t from 'tap';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { issueCertificate } from '../../src/tls/certificates';
import { createPer, makeEnv, readCa, startDaemon } from '../helpers/daemon';
import { peerDomain } from '../helpers/fixtures';

const SENDERS = 6;
const KILL_AFTER_MS = 1500;

t.test('SIGKILL during deliveries loses no acknowledged message', async (t) => {
  const env = await makeEnv();
  const carol = createPer(env, 'Carol', 'Petit', '10000000003');
  let daemon = await startDaemon(env);
  const peer = peerDomain();
  const cert = issueCertificate(readCa(env), { subject: peer.dnFields, usage: 'client', days: 2 });
  const from = `dr.peer@${peer.domain}`;

  const acknowledged = new Map<string, Buffer>();
  let killed = false;
  const sender = async (index: number) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.smtp,
      requireTLS: true,
      pool: true,
      maxConnections: 1,
      tls: { ca: readFileSync(env.caFile), cert: cert.certPem, key: cert.keyPem },
    });
    for (let n = 0; !killed; n++) {
      const id = `crash-${index}-${n}@peer.example`;
      const raw = Buffer.from(
        `From: <${from}>\r\nTo: <${carol.mssante}>\r\nSubject: crash ${index}/${n}\r\nMessage-ID: <${id}>\r\n\r\n` +
          `${'ligne de compte rendu '.repeat(40)}\r\n`.repeat(20 + ((index * 7 + n) % 30)),
      );
      try {
        await transport.sendMail({ envelope: { from, to: [carol.mssante] }, raw });
        acknowledged.set(id, raw);
      } catch {
        // the daemon was killed: this message was never acknowledged
        break;
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
  t.ok(acknowledged.size > 20, `deliveries were under way when killed (${acknowledged.size} acknowledged)`);

  daemon = await startDaemon(env); // also proves the lock of the dead daemon is reclaimed
  t.teardown(() => daemon.stop());
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  t.equal((db.pragma('integrity_check', { simple: true }) as string), 'ok', 'database intact');

  const stored = db
    .prepare(`SELECT m.message_id, b.content FROM messages m JOIN bodies b ON b.hash = m.body_hash`)
    .all() as Array<{ message_id: string; content: Buffer }>;
  const byId = new Map(stored.map((row) => [row.message_id, row.content]));
  let missing = 0;
  let damaged = 0;
  for (const [id, raw] of acknowledged) {
    const content = byId.get(id);
    if (!content) missing++;
    else if (!content.subarray(content.length - raw.length).equals(raw)) damaged++;
  }
  t.equal(missing, 0, 'every acknowledged message is stored');
  t.equal(damaged, 0, 'every acknowledged message is whole');

  const orphans = db
    .prepare(`SELECT COUNT(*) AS n FROM messages m LEFT JOIN bodies b ON b.hash = m.body_hash WHERE b.hash IS NULL`)
    .get() as { n: number };
  t.equal(orphans.n, 0, 'no message without its body');
  const wrongCounts = db
    .prepare(
      `SELECT COUNT(*) AS n FROM bodies b
       WHERE refcount <> (SELECT COUNT(*) FROM messages WHERE body_hash = b.hash)
                        + (SELECT COUNT(*) FROM outbound_queue WHERE body_hash = b.hash)`,
    )
    .get() as { n: number };
  t.equal(wrongCounts.n, 0, 'body reference counts match the rows that hold them');
  const undelivered = db
    .prepare(`SELECT COUNT(*) AS n FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.delivery_id = d.id)`)
    .get() as { n: number };
  t.equal(undelivered.n, 0, 'no delivery recorded without its message');
  const uids = db.prepare(`SELECT uid FROM messages ORDER BY uid`).all() as Array<{ uid: number }>;
  t.same(uids.map((r) => r.uid), uids.map((_, i) => i + 1), 'UIDs are dense and increasing after the crash');
});
