// The daily digest job (R9): one notice per box that asked for it, counting the deliveries of the
// last 24 hours, once per local day; boxes that did not ask get nothing.
import t from 'tap';
import { localDay, runDigest } from '../../src/jobs/digest';
import { listNotices, type DigestPayload } from '../../src/store/notices';
import { DAY, freshDb, tempDir, testConfig } from './fixtures';
import type { Db } from '../../src/store/database';

function box(db: Db, login: string, daily: boolean, status = 'active'): number {
  const id = Number(
    db.prepare(`INSERT INTO accounts (type, status, login, notify_daily, created_at, updated_at) VALUES ('PER', ?, ?, ?, 0, 0)`).run(status, login, daily ? 1 : 0).lastInsertRowid,
  );
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'mssante')`).run(login.replace('@exemple.fr', '@exemple.mssante.fr'), id);
  return id;
}

let serial = 0;
function delivered(db: Db, accountId: number, at: number): void {
  const id = Number(db.prepare(`INSERT INTO deliveries (queue_id, source, received_at, mail_from, size) VALUES (?, 'mta', ?, 'x@peer.fr', 10)`).run(`Q${++serial}`, at).lastInsertRowid);
  db.prepare(`INSERT INTO delivery_recipients (delivery_id, address, account_id, outcome) VALUES (?, 'a', ?, 'delivered')`).run(id, accountId);
}

t.test('one digest per box and day, with the last 24 hours counted', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const config = testConfig(dir);
  const now = new Date(Date.UTC(2026, 10, 23, 6, 0)); // 07:00 in Paris
  const alice = box(db, 'alice@exemple.fr', true);
  const bob = box(db, 'bob@exemple.fr', true);
  const carol = box(db, 'carol@exemple.fr', false);
  box(db, 'dave@exemple.fr', true, 'suspended');
  delivered(db, alice, now.getTime() - 3_600_000);
  delivered(db, alice, now.getTime() - 2 * 3_600_000);
  delivered(db, alice, now.getTime() - DAY - 1); // the day before: not counted
  delivered(db, carol, now.getTime() - 60_000);

  const report = runDigest(db, config, now);
  t.match(report, { boxes: 2, queued: 2, withMail: 1, alreadyQueued: 0 });
  const digests = listNotices(db, { kind: 'digest' });
  const of = (id: number) => digests.find((n) => n.accountId === id)!.payload as DigestPayload;
  t.same(of(alice), { box: 'alice@exemple.mssante.fr', day: '2026-11-23', count: 2, since: now.getTime() - DAY, until: now.getTime() });
  t.equal(of(bob).count, 0, 'a box without new mail is told so');
  t.equal(digests.find((n) => n.accountId === alice)!.recipient, 'alice@exemple.fr', 'to the login address');

  t.match(runDigest(db, config, new Date(now.getTime() + 3_600_000)), { queued: 0, alreadyQueued: 2 }, 'a second run the same day queues nothing');
  t.match(runDigest(db, config, new Date(now.getTime() + DAY)), { queued: 2 }, 'the next day, a new digest');
  t.equal(localDay(new Date(Date.UTC(2026, 10, 23, 23, 30)), 'Europe/Paris'), '2026-11-24', 'days are local days');
});
