// SEARCH checks the index's candidates against the folded text the index keeps (migration 012)
// instead of decoding each message: the answers must be the ones a direct read of every message
// gives (RFC 3501 section 6.4.4 substring semantics, accents folded), key by key.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { testSession } from './harness';
import { indexPendingBodies, pendingBodyCount } from '../../../src/store/search-index';
import { simple, world } from './messages-world';

const SEARCHES = [
  'TEXT glycemie',
  'TEXT "emile peer"',
  'TEXT "subject: planning"',
  'BODY "hémoglobine basse"',
  'BODY HEMOGLOBINE',
  'BODY "week-end"',
  'CHARSET UTF-8 SUBJECT "résultats d\'analyse"',
  'SUBJECT planning',
  'SUBJECT ""',
  'FROM "emile peer"',
  'FROM emile@chu',
  'FROM secretariat',
  'TO "jean dupont"',
  'HEADER X-MSS-INS 1800175',
  'HEADER X-MSS-INS ""',
  'HEADER Message-ID planning.3',
  'OR BODY demain SUBJECT planning',
  'NOT BODY garde',
  'TEXT "x-mss-ins: 180017512345678"',
  'TEXT nowhere-to-be-found',
];

t.test('indexed and direct answers agree', async (t) => {
  const w = world(t);
  appendToMailbox(w.db, w.inbox, simple('Glycémie =?utf-8?q?=C3=A0?= jeun', 'Résultat : glycémie 0,95 g/l.', 'glyc.4@hopital.fr'));
  const s = testSession(w.db, w.jean);
  s.select('INBOX');
  indexPendingBodies(w.db, 60_000); // what the daemon's background indexer does shortly after
  t.equal(pendingBodyCount(w.db), 0);
  const indexed = new Map<string, string>();
  for (const search of SEARCHES) indexed.set(search, await s.run(`SEARCH ${search}`));
  t.match(indexed.get('TEXT glycemie'), /^\* SEARCH 4\r\n/, 'found through the folded text');
  t.match(indexed.get('BODY "hémoglobine basse"'), /^\* SEARCH 1\r\n/, 'a decoded quoted-printable body');
  t.match(indexed.get('HEADER X-MSS-INS ""'), /^\* SEARCH 1\r\n/, 'an empty HEADER string: the field is there');

  // the same searches with every body waiting for the indexer: every message is read and decoded
  w.db.exec('DELETE FROM body_search_fts; DELETE FROM body_search_folded; DELETE FROM search_forget; DELETE FROM body_search; INSERT INTO search_pending (hash) SELECT DISTINCT body_hash FROM messages');
  for (const search of SEARCHES) t.equal(await s.run(`SEARCH ${search}`), indexed.get(search), search);
});
