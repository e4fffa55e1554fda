// SORT and THREAD (RFC 5256, issue 12) with Python's imaplib against the real daemon over TLS:
// imap.sort, imap.thread and UID SORT as a script calls them (test/e2e/clients/imaplib_sort.py).
import t from 'tap';
import { runImaplibScenario } from '../helpers/imaplib';

t.test('Python imaplib: SORT and THREAD', async (t) => {
  const out = await runImaplibScenario(t, 'imaplib_sort.py');

  const capabilities = out.capabilities as string[];
  for (const name of ['SORT', 'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT']) t.ok(capabilities.includes(name), `${name} advertised`);
  t.same(out.sort_date, ['3 2 1 4'], 'by Date: in UTC; no Date: sorts by arrival (now)');
  t.same(out.sort_reverse_subject, ['2 4 1 3'], 'base subjects, Re: ignored, ties in sequence order');
  t.same(out.sort_search, ['3 1'], 'only the messages the search keys select');
  t.same(out.uid_sort, ['3 2 1 4'], 'UID SORT');
  t.same(out.thread_references, ['(3 1)(2 4)'], 'References and In-Reply-To link each reply to its parent');
  t.same(out.thread_orderedsubject, ['(3 1)(2 4)']);
  t.match(out.sort_bad, /Unknown sort key FROB/, 'an unknown key is a BAD that says why');
});
