// The SEARCH full-text index (migrations 010, 012, 014): a body stored for a mailbox message is
// listed as pending in the same transaction and indexed afterwards by indexPendingBodies (the
// daemon's background indexer); one entry per shared body, gone with the body (expunge, purge),
// and so is a pending row. Candidates always include the pending bodies, so SEARCH stays exact.
import Database from 'better-sqlite3';
import t from 'tap';
import { appendToMailbox, copyMessages, expungeMessages } from '../../src/store/imap-messages';
import { purgeExpired } from '../../src/store/purge';
import { indexPendingBodies, pendingBodyCount, searchCandidates, searchIndexReady } from '../../src/store/search-index';
import { count, freshWorld, mailboxId } from './imap-fixtures';

function message(subject: string, body: string): Buffer {
  return Buffer.from(`From: Dr Emile Peer <emile@chu.example>\r\nSubject: ${subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
}

/** Runs the indexer until nothing is pending, as the daemon's loop does; returns the bodies indexed. */
function indexAll(db: Parameters<typeof indexPendingBodies>[0]): number {
  let indexed = 0;
  for (;;) {
    const run = indexPendingBodies(db, 1000)!;
    indexed += run.indexed;
    if (!run.more) return indexed;
  }
}

t.test('pending at APPEND, indexed afterwards, shared bodies once, removed with the body', async (t) => {
  const { db, jean, marie } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const other = mailboxId(db, marie, 'INBOX');
  t.ok(searchIndexReady(db), 'a new store has nothing pending');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie à jeun'));
  appendToMailbox(db, inbox, message('Planning', 'Garde du week-end'));
  appendToMailbox(db, other, message('Bilan', 'Hyperglycémie à jeun')); // same bytes: same body
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 0, 'APPEND does not index');
  t.equal(pendingBodyCount(db), 2, 'one pending row per body');
  t.notOk(searchIndexReady(db));
  t.same([...searchCandidates(db, inbox, 'body : "glycemie"')].sort(), [1, 2], 'pending bodies are candidates, to be checked by decoding');
  t.same([...searchCandidates(db, other, 'body : "glycemie"')], [1], 'only those of the mailbox searched');

  t.equal(indexAll(db), 2);
  t.equal(pendingBodyCount(db), 0, 'nothing pending once indexed');
  t.ok(searchIndexReady(db));
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 2, 'one entry per body');

  t.same([...searchCandidates(db, inbox, 'body : "glycemie"')!], [1], 'substring inside a word, accents folded');
  t.same([...searchCandidates(db, inbox, 'body : "GLYCÉMIE"')!], [1], 'case folded');
  t.same([...searchCandidates(db, inbox, 'subject : "plan"')!], [2]);
  t.same([...searchCandidates(db, inbox, 'headers : "emile@chu"')!].sort(), [1, 2]);
  t.same([...searchCandidates(db, other, 'body : "glycemie"')!], [1], 'each mailbox sees its own messages only');

  const copies = mailboxId(db, jean, 'INBOX');
  copyMessages(db, inbox, [2], copies);
  t.same([...searchCandidates(db, inbox, '"garde"')!].sort(), [2, 3], 'a copy shares the entry of its body');

  db.exec('UPDATE messages SET flags = flags | 8'); // \Deleted, so that EXPUNGE removes them
  t.same(expungeMessages(db, other, [1]), [1]);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 2, 'body still used by jean: entry kept');
  t.same(expungeMessages(db, inbox, [1]), [1]);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 1, 'last reference gone: entry gone');
  t.same([...searchCandidates(db, inbox, '"glycemie"')!], []);
});

t.test('the purge removes what it deletes from the index', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const old = Date.UTC(2026, 0, 1);
  appendToMailbox(db, inbox, message('Ancien', 'Compte rendu ancien'), [], old, old);
  appendToMailbox(db, inbox, message('Récent', 'Compte rendu récent'));
  indexAll(db);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 2);
  await purgeExpired(db, { now: new Date(Date.UTC(2026, 6, 1)), retentionDays: 90, dryRun: false, source: 'test' });
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 1);
  t.same([...searchCandidates(db, inbox, '"compte rendu"')!], [2]);
});

t.test('a pending body expunged or purged before the indexer ran leaves no pending row', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const old = Date.UTC(2026, 0, 1);
  appendToMailbox(db, inbox, message('Ancien', 'Compte rendu ancien'), [], old, old);
  appendToMailbox(db, inbox, message('Erreur', 'Envoyé par erreur'));
  appendToMailbox(db, inbox, message('Récent', 'Compte rendu récent'));
  t.equal(pendingBodyCount(db), 3);
  db.exec("UPDATE messages SET flags = flags | 8 WHERE uid = 2");
  t.same(expungeMessages(db, inbox, [2]), [2]);
  t.equal(count(db, "SELECT COUNT(*) AS n FROM bodies b JOIN search_pending p ON p.hash = b.hash"), 2);
  t.equal(pendingBodyCount(db), 2, 'the expunged body left search_pending with the body');
  await purgeExpired(db, { now: new Date(Date.UTC(2026, 6, 1)), retentionDays: 90, dryRun: false, source: 'test' });
  t.equal(pendingBodyCount(db), 1, 'the purged body too');
  t.same([...searchCandidates(db, inbox, '"compte rendu"')], [3]);
  t.equal(indexAll(db), 1, 'the indexer has only the live body left to index');
  t.same([...searchCandidates(db, inbox, '"compte rendu"')], [3]);
});

t.test('a body stored before the index (or whose entry is lost) is pending like a new one', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie'));
  appendToMailbox(db, inbox, message('Autre', 'Rien'));
  indexAll(db);
  // as migration 014 lists the bodies of an older store
  db.exec('DELETE FROM body_search_fts; DELETE FROM body_search_folded; DELETE FROM search_forget; DELETE FROM body_search; INSERT INTO search_pending (hash) SELECT DISTINCT body_hash FROM messages');
  t.same([...searchCandidates(db, inbox, '"glycemie"')].sort(), [1, 2], 'every pending message is a candidate meanwhile');
  const first = indexPendingBodies(db, 0)!;
  t.same(first, { indexed: 1, more: true }, 'a batch past its time budget stops after one body');
  t.same([...searchCandidates(db, inbox, '"glycemie"')].sort(), [1, 2]);
  t.same(indexPendingBodies(db, 0), { indexed: 1, more: false });
  t.same([...searchCandidates(db, inbox, '"glycemie"')], [1], 'then the index alone answers');
});

t.test('the indexer does not wait for a write lock held elsewhere', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie'));
  const other = new Database(db.name);
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  t.equal(indexPendingBodies(db, 1000), null, 'locked: comes back at once, to be tried again');
  other.exec('ROLLBACK');
  t.same(indexPendingBodies(db, 1000), { indexed: 1, more: false });
});

t.test('the indexer decodes without the write lock; a body expunged meanwhile is left out', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie'));
  appendToMailbox(db, inbox, message('Planning', 'Garde du week-end'));
  const other = new Database(db.name, { timeout: 0 }); // an IMAP worker: SQLITE_BUSY at once if the lock is taken
  t.teardown(() => other.close());
  let clockReads = 0;
  const clock = () => {
    // read after each body is decoded: the first time, another process expunges message 1 meanwhile
    if (++clockReads === 2) {
      other.exec('BEGIN IMMEDIATE');
      other.prepare('UPDATE messages SET flags = flags | 8 WHERE mailbox_id = ? AND uid = 1').run(inbox);
      expungeMessages(other, inbox, [1]);
      other.exec('COMMIT');
    }
    return performance.now();
  };
  t.same(indexPendingBodies(db, 1000, undefined, clock), { indexed: 1, more: false }, 'the other process got the lock while the indexer decoded');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 1, 'only the body still stored is indexed');
  t.equal(pendingBodyCount(db), 0);
  t.same([...searchCandidates(db, inbox, '"garde"')], [2]);
  t.same([...searchCandidates(db, inbox, '"glycemie"')], [], 'nothing left of the expunged body');
});

t.test('the indexer leaves a body queued after its cutoff for a later run (bodies settle first)', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const before = Date.now();
  appendToMailbox(db, inbox, message('Brouillon', 'Version 1'));
  t.same(indexPendingBodies(db, 1000, before), { indexed: 0, more: false }, 'stored after the cutoff: not yet');
  t.equal(pendingBodyCount(db), 1);
  db.exec("UPDATE messages SET flags = flags | 8");
  expungeMessages(db, inbox, [1]); // a draft replaced before it settled: never indexed
  t.equal(pendingBodyCount(db), 0);
  appendToMailbox(db, inbox, message('Brouillon', 'Version 2'));
  t.same(indexPendingBodies(db, 1000, Date.now() + 1), { indexed: 1, more: false }, 'past the cutoff: indexed');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 1);
});

t.test('an expunge only lists the index entry; the indexer removes it before indexing new bodies (migration 017)', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie à jeun'));
  indexAll(db);
  const entries = () => count(db, 'SELECT COUNT(*) AS n FROM body_search_fts_docsize');
  t.equal(entries(), 1);
  const oldId = count(db, 'SELECT id AS n FROM body_search');

  db.exec('UPDATE messages SET flags = flags | 8');
  t.same(expungeMessages(db, inbox, [1]), [1]);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 0, 'sort keys gone with the body');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search_folded'), 0, 'folded text gone with the body');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM search_forget'), 1, 'the index entry is listed for removal');
  t.equal(entries(), 1, 'and still in the index: the expunge did not pay for its removal');
  t.same([...searchCandidates(db, inbox, '"glycemie"')], [], 'an entry whose body is gone matches nothing');

  // A new body may get the same body_search id: the old entry must be gone before it is indexed.
  appendToMailbox(db, inbox, message('Planning', 'Garde du week-end'));
  indexAll(db);
  t.equal(count(db, 'SELECT id AS n FROM body_search'), oldId, 'SQLite handed the id out again');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM search_forget'), 0, 'the listed entry was removed');
  t.equal(entries(), 1, 'only the new body is in the index');
  t.same([...searchCandidates(db, inbox, '"glycemie"')], [], 'the old body\'s words do not find the new message');
  t.same([...searchCandidates(db, inbox, '"garde"')], [2]);
});
