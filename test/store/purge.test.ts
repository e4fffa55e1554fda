import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { purgeExpired } from '../../src/store/purge';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T03:30:00Z');
const daysAgo = (days: number, from = NOW) => from.getTime() - days * DAY;

function freshDb(t: Test): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-purge-')));
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

function addAccount(db: Db, type: string, login: string): number {
  return Number(
    db
      .prepare(
        `INSERT INTO accounts (type, status, login, created_at, updated_at) VALUES (?, 'active', ?, 0, 0)`,
      )
      .run(type, login).lastInsertRowid,
  );
}

let uidValidity = 1;
function addMailbox(db: Db, accountId: number, name: string, specialUse: string | null = null): number {
  return Number(
    db
      .prepare(`INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, created_at) VALUES (?, ?, ?, ?, 0)`)
      .run(accountId, name, specialUse, uidValidity++).lastInsertRowid,
  );
}

function storeBody(db: Db, text: string): string {
  const hash = createHash('sha256').update(text).digest('hex');
  db.prepare(
    `INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES (?, ?, 0, ?, 0)
     ON CONFLICT(hash) DO NOTHING`,
  ).run(hash, text.length, Buffer.from(text));
  return hash;
}

/** Appends a message the way the store does: next UID, next MODSEQ, one more body reference. */
function addMessage(db: Db, mailboxId: number, arrivedAt: number, bodyText = `body ${arrivedAt} ${mailboxId}`): number {
  const hash = storeBody(db, bodyText);
  db.prepare('UPDATE bodies SET refcount = refcount + 1 WHERE hash = ?').run(hash);
  const slot = db
    .prepare(
      `UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 WHERE id = ?
       RETURNING uidnext - 1 AS uid, highestmodseq AS modseq`,
    )
    .get(mailboxId) as { uid: number; modseq: number };
  db.prepare(
    `INSERT INTO messages (mailbox_id, uid, modseq, internal_date, arrived_at, size, body_hash, envelope, structure)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '{}')`,
  ).run(mailboxId, slot.uid, slot.modseq, arrivedAt, arrivedAt, bodyText.length, hash);
  return slot.uid;
}

const count = (db: Db, sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;

/** A PER box with the default folders plus a personal one, and an ORG box with a folder of its own. */
function populate(db: Db) {
  const per = addAccount(db, 'PER', 'jean.dupont@exemple.fr');
  const org = addAccount(db, 'ORG', 'pharmacie@exemple.fr');
  const mailboxes = {
    inbox: addMailbox(db, per, 'INBOX'),
    sent: addMailbox(db, per, 'Envoyés', '\\Sent'),
    drafts: addMailbox(db, per, 'Brouillons', '\\Drafts'),
    trash: addMailbox(db, per, 'Corbeille', '\\Trash'),
    folder: addMailbox(db, per, 'Patients/Martin'),
    orgInbox: addMailbox(db, org, 'INBOX'),
    orgArchive: addMailbox(db, org, 'Archives'),
  };
  for (const id of Object.values(mailboxes)) {
    addMessage(db, id, daysAgo(200)); // long expired
    addMessage(db, id, daysAgo(90)); // exactly 90 days: expired
    addMessage(db, id, daysAgo(89)); // kept
    addMessage(db, id, daysAgo(1)); // kept
  }
  return { per, org, mailboxes };
}

t.test('messages 90 days old are purged in every folder of every box, 89 days old kept', async (t) => {
  const db = freshDb(t);
  const { mailboxes } = populate(db);
  const before = db.prepare('SELECT id, highestmodseq FROM mailboxes').all() as Array<{ id: number; highestmodseq: number }>;

  const report = await purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: false, source: 'test' });

  t.equal(report.total, 14);
  t.equal(report.cutoff, new Date(daysAgo(90)).toISOString());
  t.same(report.boxes, [
    {
      box: 'jean.dupont@exemple.fr',
      accountId: 1,
      mailboxes: { INBOX: 2, 'Envoyés': 2, Brouillons: 2, Corbeille: 2, 'Patients/Martin': 2 },
      total: 10,
    },
    { box: 'pharmacie@exemple.fr', accountId: 2, mailboxes: { INBOX: 2, Archives: 2 }, total: 4 },
  ]);
  for (const id of Object.values(mailboxes)) {
    const left = db.prepare('SELECT arrived_at FROM messages WHERE mailbox_id = ? ORDER BY uid').all(id) as Array<{
      arrived_at: number;
    }>;
    t.same(
      left.map((m) => m.arrived_at),
      [daysAgo(89), daysAgo(1)],
      `mailbox ${id} keeps the 89-day and 1-day messages`,
    );
  }

  // Each expunge is recorded with a MODSEQ above everything the mailbox had, and HIGHESTMODSEQ
  // moved up to it (RFC 7162), so sessions and resynchronising clients learn of the removal.
  for (const { id, highestmodseq } of before) {
    const after = (db.prepare('SELECT highestmodseq FROM mailboxes WHERE id = ?').get(id) as { highestmodseq: number })
      .highestmodseq;
    t.ok(after > highestmodseq, `mailbox ${id} HIGHESTMODSEQ bumped`);
    const expunged = db.prepare('SELECT uid, modseq FROM expunged WHERE mailbox_id = ? ORDER BY uid').all(id) as Array<{
      uid: number;
      modseq: number;
    }>;
    t.same(
      expunged.map((e) => e.uid),
      [1, 2],
      `mailbox ${id}: UIDs 1 and 2 expunged`,
    );
    t.ok(expunged.every((e) => e.modseq > highestmodseq && e.modseq <= after));
  }

  // Bodies of the purged messages are gone; nothing is left unreferenced.
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM bodies'), 14);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM bodies WHERE refcount = 0'), 0);

  const audit = db.prepare(`SELECT * FROM audit WHERE event = 'purge'`).all() as Array<Record<string, unknown>>;
  t.equal(audit.length, 1, 'one audit row per run');
  t.equal(audit[0].outcome, 'ok');
  t.equal(audit[0].source, 'test');
  const detail = JSON.parse(audit[0].detail as string);
  t.equal(detail.total, 14);
  t.same(detail.boxes, { 'jean.dupont@exemple.fr': 10, 'pharmacie@exemple.fr': 4 });

  const again = await purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: false });
  t.equal(again.total, 0, 'a second run finds nothing');
  t.same(again.boxes, []);
});

t.test('retention is configurable', async (t) => {
  const db = freshDb(t);
  populate(db);
  const report = await purgeExpired(db, { now: NOW, retentionDays: 1, dryRun: false });
  t.equal(report.total, 28, 'everything 1 day old or more');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 0);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM bodies'), 0);
});

t.test('a body shared by two boxes is freed only when both messages are gone', async (t) => {
  const db = freshDb(t);
  const per = addAccount(db, 'PER', 'a@exemple.fr');
  const other = addAccount(db, 'PER', 'b@exemple.fr');
  const inboxA = addMailbox(db, per, 'INBOX');
  const inboxB = addMailbox(db, other, 'INBOX');
  const shared = 'Subject: same message to two local recipients\r\n\r\nhello\r\n';
  addMessage(db, inboxA, daysAgo(95), shared);
  addMessage(db, inboxB, daysAgo(89), shared); // e.g. moved back from an older copy: arrived later
  const hash = createHash('sha256').update(shared).digest('hex');
  const refcount = () => (db.prepare('SELECT refcount FROM bodies WHERE hash = ?').get(hash) as { refcount: number } | undefined)?.refcount;
  t.equal(refcount(), 2);

  await purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: false });
  t.equal(refcount(), 1, 'still held by the second box');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?', inboxB), 1);

  await purgeExpired(db, { now: new Date(NOW.getTime() + 2 * DAY), retentionDays: 90, dryRun: false });
  t.equal(refcount(), undefined, 'last reference gone: body deleted');
});

t.test('a body also held by the outbound queue survives the purge of its messages', async (t) => {
  const db = freshDb(t);
  const box = addAccount(db, 'PER', 'a@exemple.fr');
  const inbox = addMailbox(db, box, 'INBOX');
  addMessage(db, inbox, daysAgo(100), 'queued too');
  const hash = createHash('sha256').update('queued too').digest('hex');
  db.prepare('UPDATE bodies SET refcount = refcount + 1 WHERE hash = ?').run(hash);
  db.prepare(
    `INSERT INTO outbound_queue (queue_id, kind, body_hash, mail_from, created_at, next_attempt_at)
     VALUES ('Q1', 'relay', ?, '', 0, 0)`,
  ).run(hash);
  await purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: false });
  t.equal(count(db, 'SELECT refcount AS n FROM bodies WHERE hash = ?', hash), 1);
});

t.test('a purge killed between batches leaves whole messages and the next run finishes it', async (t) => {
  const db = freshDb(t);
  populate(db);
  const touchedPerBatch: number[][] = [];
  await t.rejects(
    purgeExpired(db, {
      now: NOW,
      retentionDays: 90,
      dryRun: false,
      batchSize: 3,
      onBatch: (mailboxIds) => {
        touchedPerBatch.push(mailboxIds);
        throw new Error('killed');
      },
    }),
    /killed/,
  );
  t.equal(touchedPerBatch.length, 1, 'stopped after the first batch');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 28 - 3, 'exactly one batch committed');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM expunged'), 3, 'each deleted message has its expunge row');
  // Every body still referenced is referenced exactly as many times as there are rows using it.
  t.equal(
    count(
      db,
      `SELECT COUNT(*) AS n FROM bodies b
       WHERE b.refcount <> (SELECT COUNT(*) FROM messages m WHERE m.body_hash = b.hash)`,
    ),
    0,
    'reference counts consistent after the interruption',
  );
  const interrupted = db.prepare(`SELECT outcome, detail FROM audit WHERE event = 'purge'`).get() as {
    outcome: string;
    detail: string;
  };
  t.equal(interrupted.outcome, 'interrupted');
  t.equal(JSON.parse(interrupted.detail).total, 3);

  const rest = await purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: false, batchSize: 3 });
  t.equal(rest.total, 11, 'the next run deletes the rest');
  t.equal(rest.batches, 4);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 14);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM expunged'), 14);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM bodies'), 14);
});

t.test('onBatch receives the mailboxes touched by each batch', async (t) => {
  const db = freshDb(t);
  const { mailboxes } = populate(db);
  const touched = new Set<number>();
  let calls = 0;
  const report = await purgeExpired(db, {
    now: NOW,
    retentionDays: 90,
    dryRun: false,
    batchSize: 5,
    onBatch: async (ids) => {
      calls++;
      ids.forEach((id) => touched.add(id));
    },
  });
  t.equal(calls, 3, '14 messages in batches of 5');
  t.equal(report.batches, 3);
  t.same([...touched].sort(), Object.values(mailboxes).sort());
});

t.test('a dry run counts and deletes nothing', async (t) => {
  const db = freshDb(t);
  populate(db);
  const modseqs = db.prepare('SELECT id, highestmodseq FROM mailboxes ORDER BY id').all();
  const report = await purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: true });
  t.equal(report.dryRun, true);
  t.equal(report.total, 14);
  t.same(
    report.boxes.map((b) => [b.box, b.total, b.mailboxes.INBOX]),
    [
      ['jean.dupont@exemple.fr', 10, 2],
      ['pharmacie@exemple.fr', 4, 2],
    ],
  );
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 28);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM expunged'), 0);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM bodies'), 28);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM audit'), 0, 'a dry run writes nothing, not even audit');
  t.same(db.prepare('SELECT id, highestmodseq FROM mailboxes ORDER BY id').all(), modseqs);
});

t.test('nonsense options are refused', async (t) => {
  const db = freshDb(t);
  await t.rejects(purgeExpired(db, { now: NOW, retentionDays: 0, dryRun: false }), /retentionDays/);
  await t.rejects(purgeExpired(db, { now: NOW, retentionDays: 90, dryRun: false, batchSize: 0 }), /batchSize/);
});
