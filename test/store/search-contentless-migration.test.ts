// Migration 017: the SEARCH index moves to a contentless FTS5 table (cheap deletes) and its folded
// text to a plain table. What was indexed before the upgrade is still found after it, with the
// same folded text for the exact check, and deleting such a body afterwards works the new way.
import t from 'tap';
import { migrate } from '../../src/store/database';
import { parseStructure } from '../../src/mime';
import { indexedTexts, indexPendingBodies, searchCandidates, searchDocument } from '../../src/store/search-index';
import { appendToMailbox } from '../../src/store/imap-messages';
import { storeMigratedTo } from './migration-fixtures';

t.test('bodies indexed before the upgrade are found after it, and forgotten the new way', async (t) => {
  // The store as it was before this migration (001 to 014).
  const { db, inbox } = storeMigratedTo(t, 14);
  const raw = Buffer.from('From: a@b.example\r\nSubject: Bilan\r\n\r\nHyperglycémie à jeun\r\n');
  appendToMailbox(db, inbox, raw);
  // what the indexer of that version wrote: the keys, the folded text in body_search_text
  const hash = (db.prepare('SELECT body_hash FROM messages').get() as { body_hash: string }).body_hash;
  const id = Number(
    db.prepare(
      `INSERT INTO body_search (hash, base_subject, reply_or_forward, sort_from, sort_to, sort_cc, display_from, display_to, thread_references)
       VALUES (?, 'bilan', 0, 'a@b.example', '', '', 'a@b.example', '', '')`,
    ).run(hash).lastInsertRowid,
  );
  const doc = searchDocument(raw, parseStructure(raw));
  db.prepare('INSERT INTO body_search_text (rowid, subject, headers, body) VALUES (?, ?, ?, ?)').run(id, doc.subject, doc.headers, doc.body);
  db.exec('DELETE FROM search_pending');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM body_search_text').get() as { n: number }).n, 1, 'indexed the old way');

  t.same(migrate(db).map((applied) => applied.version).filter((version) => version === 17), [17]);
  t.same([...searchCandidates(db, inbox, 'body : "glycemie"')], [1], 'found through the new index');
  t.match(indexedTexts(db, inbox, [1]).get(1), { subject: 'bilan', body: /hyperglycemie a jeun/ }, 'folded text carried over');

  db.exec('UPDATE messages SET flags = flags | 8');
  db.exec('DELETE FROM messages; DELETE FROM bodies');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM search_forget').get() as { n: number }).n, 1, 'its entry is listed for the indexer');
  indexPendingBodies(db, 1000);
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM body_search_fts_docsize').get() as { n: number }).n, 0, 'and removed by it');
});
