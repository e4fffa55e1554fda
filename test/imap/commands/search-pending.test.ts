// SEARCH while the background indexer has not indexed a message yet (migration 014): the message
// is found at once (its body is pending: a candidate, checked by decoding it), a word it does not
// hold is not, and once the indexer ran the index alone answers.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { indexPendingBodies, pendingBodyCount, searchCandidates } from '../../../src/store/search-index';
import { testSession } from './harness';
import { simple, world } from './messages-world';

t.test('a message stored and searched at once is found before and after indexing', async (t) => {
  const w = world(t);
  const s = testSession(w.db, w.jean);
  s.select('INBOX');
  const before = await s.run('SEARCH ALL');
  const next = before.match(/^\* SEARCH((?: \d+)*)/)![1].trim().split(' ').filter(Boolean).length + 1;
  indexPendingBodies(w.db, 60_000); // the world's own messages: indexed
  t.equal(pendingBodyCount(w.db), 0);

  appendToMailbox(w.db, w.inbox, simple('Avis de passage', 'Kinésithérapeute à domicile jeudi.', 'pending.1@hopital.fr'));
  t.equal(pendingBodyCount(w.db), 1, 'stored, not indexed yet');
  s.select('INBOX');
  t.match(await s.run('SEARCH BODY kinesitherapeute'), new RegExp(`^\\* SEARCH ${next}\\r\\n`), 'found at once, by decoding it');
  t.match(await s.run('SEARCH SUBJECT "avis de"'), new RegExp(`^\\* SEARCH ${next}\\r\\n`));
  t.match(await s.run('SEARCH BODY orthophoniste'), /^\* SEARCH\r\n/, 'a pending message is a candidate, not a match');
  t.match(await s.run(`UID SEARCH NOT BODY jeudi`), new RegExp(`^\\* SEARCH (?!.*\\b${next}\\b)`), 'NOT sees the pending text too');

  t.same(indexPendingBodies(w.db, 60_000), { indexed: 1, more: false });
  t.equal(pendingBodyCount(w.db), 0);
  t.same([...searchCandidates(w.db, w.inbox, 'body : "kinesitherapeute"')], [next], 'now the index itself holds it');
  t.match(await s.run('SEARCH BODY kinesitherapeute'), new RegExp(`^\\* SEARCH ${next}\\r\\n`), 'found through the index');
  t.match(await s.run('SEARCH BODY orthophoniste'), /^\* SEARCH\r\n/);
});
