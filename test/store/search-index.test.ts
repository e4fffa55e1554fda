// The SEARCH full-text index (migration 010): filled when a body is stored for a mailbox message,
// one entry per shared body, gone with the body (expunge, purge), backfilled for older bodies.
import t from 'tap';
import { appendToMailbox, copyMessages, expungeMessages } from '../../src/store/imap-messages';
import { purgeExpired } from '../../src/store/purge';
import { backfillSearchIndex, searchCandidates, searchIndexReady } from '../../src/store/search-index';
import { count, freshWorld, mailboxId } from './imap-fixtures';

function message(subject: string, body: string): Buffer {
  return Buffer.from(`From: Dr Emile Peer <emile@chu.example>\r\nSubject: ${subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
}

t.test('indexed at APPEND, shared bodies once, removed with the body', async (t) => {
  const { db, jean, marie } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const other = mailboxId(db, marie, 'INBOX');
  t.ok(searchIndexReady(db), 'a new store needs no backfill');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie à jeun'));
  appendToMailbox(db, inbox, message('Planning', 'Garde du week-end'));
  appendToMailbox(db, other, message('Bilan', 'Hyperglycémie à jeun')); // same bytes: same body
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
  await purgeExpired(db, { now: new Date(Date.UTC(2026, 6, 1)), retentionDays: 90, dryRun: false, source: 'test' });
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM body_search'), 1);
  t.same([...searchCandidates(db, inbox, '"compte rendu"')!], [2]);
});

t.test('bodies stored before the index are backfilled; until then no candidates are claimed', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, message('Bilan', 'Hyperglycémie'));
  appendToMailbox(db, inbox, message('Autre', 'Rien'));
  // as if these had been stored before migration 010
  db.exec('DELETE FROM body_search_text; DELETE FROM body_search; UPDATE search_index_state SET backfilled = 0');
  t.equal(searchCandidates(db, inbox, '"glycemie"'), null, 'SEARCH must read every message meanwhile');
  t.equal(backfillSearchIndex(db, 1), 1);
  t.notOk(searchIndexReady(db));
  t.equal(backfillSearchIndex(db, 1), 1);
  t.equal(backfillSearchIndex(db, 1), 0);
  t.ok(searchIndexReady(db));
  t.same([...searchCandidates(db, inbox, '"glycemie"')!], [1]);
});
