// usage (from a worktree): node -r ts-node/register/transpile-only /work/notes/tools/micro.ts  -> CPU µs per command, in-process session (no TLS)
import path from 'node:path';
const root = process.cwd();
const { testSession } = require(path.join(root, 'test/imap/commands/harness'));
const { freshWorld, rawMessage } = require(path.join(root, 'test/store/imap-fixtures'));
const { CommitBatcher } = require(path.join(root, 'src/store/commit-batcher'));
async function main() {
  const teardowns: Array<() => void> = [];
  const { db, jean } = freshWorld({ teardown: (fn: () => void) => teardowns.push(fn) });
  const batcher = new CommitBatcher(db);
  const s = testSession(db, jean, undefined, batcher);
  const msg: Buffer = rawMessage('Compte rendu', 'x'.repeat(2000));
  for (let i = 0; i < 50; i++) await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${msg.length}}\r\n`), msg]));
  const grow = Number(process.env.GROW ?? 0);
  if (grow > 0) {
    const cols = (db.prepare('PRAGMA table_info(messages)').all() as Array<{ name: string }>).map((c) => c.name).filter((c) => c !== 'id' && c !== 'uid');
    const ins = db.prepare(`INSERT INTO messages (uid, ${cols.join(', ')}) SELECT uid + ?, ${cols.join(', ')} FROM messages WHERE uid <= 50 AND mailbox_id = (SELECT mailbox_id FROM messages WHERE uid = 1 LIMIT 1)`);
    db.transaction(() => { for (let k = 1; k <= grow / 50; k++) ins.run(k * 50); })();
    db.exec('UPDATE mailboxes SET uidnext = (SELECT MAX(uid) + 1 FROM messages WHERE mailbox_id = mailboxes.id) WHERE id IN (SELECT mailbox_id FROM messages)');
  }
  const foreignMs = Number(process.env.FOREIGN ?? 0);
  if (foreignMs > 0) {
    const other = new (require('better-sqlite3'))(db.name);
    other.exec('CREATE TABLE IF NOT EXISTS micro_other (id INTEGER PRIMARY KEY, n INTEGER); INSERT OR IGNORE INTO micro_other VALUES (1, 0)');
    const bump = other.prepare('UPDATE micro_other SET n = n + 1 WHERE id = 1');
    setInterval(() => bump.run(), foreignMs).unref();
  }
  const sel = await s.run('SELECT INBOX');
  if (!/OK/.test(sel)) throw new Error(sel);
  const cmds: Array<[string, number, () => Promise<string>]> = [
    ['NOOP', 6000, () => s.run('NOOP')],
    ['STATUS INBOX', 4000, () => s.run('STATUS INBOX (MESSAGES UNSEEN RECENT)')],
    ['STATUS Sent', 4000, () => s.run('STATUS Sent (MESSAGES UNSEEN RECENT)')],
    ['LIST "" *', 4000, () => s.run('LIST "" *')],
    ['FETCH 1:50 (UID FLAGS)', 2000, () => s.run('FETCH 1:50 (UID FLAGS)')],
    ['FETCH n BODY.PEEK[]', 4000, () => s.run('FETCH 7 (UID BODY.PEEK[])')],
    ['FETCH 1:10 ENVELOPE', 2000, () => s.run('FETCH 1:10 (ENVELOPE)')],
    ['FETCH 1:20 HDR.FIELDS', 2000, () => s.run('FETCH 1:20 (BODY.PEEK[HEADER.FIELDS (From Subject)])')],
    ['APPEND', 1500, () => s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${msg.length}}\r\n`), msg]))],
    ['STORE 40:41 +Deleted', 1500, () => s.run('STORE 40:41 +FLAGS (\\Deleted)')],
    ['EXPUNGE', 1500, () => s.run('EXPUNGE')],
    ['STORE +/-Flagged', 3000, (() => { let n = 0; return () => s.run(`STORE ${(n % 50) + 1} ${n++ % 2 ? '-' : '+'}FLAGS (\\Flagged)`); })()],
  ];
  const only = process.env.ONLY;
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    const out: string[] = [];
    for (const [name, n, run] of cmds) {
      if (only && !name.includes(only)) continue;
      for (let i = 0; i < 200; i++) await run();
      const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await run();
      const c = process.cpuUsage(c0); const wall = Number(process.hrtime.bigint() - t0) / 1000 / n;
      out.push(`${name.padEnd(24)} cpu ${((c.user + c.system) / n).toFixed(1).padStart(7)} µs  wall ${wall.toFixed(1).padStart(7)} µs`);
    }
    console.log(`round ${round + 1}\n` + out.join('\n'));
  }
  teardowns.forEach((fn) => fn());
}
main().catch((err) => { console.error(err); process.exit(1); });
