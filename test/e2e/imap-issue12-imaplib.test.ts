// Issue 12 with Python's imaplib against the real daemon: the compliance fixes a client sees
// (UTF-8 in quoted strings, \Recent under EXAMINE, new keywords announced, NIL as a keyword,
// FROM matching a display name, LIST patterns that are not modified UTF-7) and, as they land,
// the extensions (test/e2e/clients/imaplib_issue12.py).
import t from 'tap';
import { runImaplibScenario } from '../helpers/imaplib';

t.test('Python imaplib: issue 12', async (t) => {
  const out = await runImaplibScenario(t, 'imaplib_issue12.py');

  t.same(out.examine_recent, ['2'], 'EXAMINE reports the two new messages as recent');
  t.same(out.select_recent, ['2'], 'and leaves them recent for the SELECT that follows');
  t.same(out.search_utf8_quoted, ['1'], 'SEARCH CHARSET UTF-8 TEXT "glycémie" in a quoted string');
  t.same(out.search_folded, ['1'], 'case-insensitive, accented capitals too');
  t.same(out.search_from_name, ['1 2'], 'FROM matches the display name');
  t.match((out.flags_after_store as string[])[0], /Urgent/, 'untagged FLAGS names the new keyword');
  t.match((out.fetch_flags as string[])[0], /FLAGS \(.*Urgent.*\)|FLAGS \(.*NIL.*\)/);
  t.match((out.fetch_flags as string[])[0], /NIL/, 'NIL stored as a keyword');
  t.equal(out.list_atoms, 'OK');
  t.ok((out.capabilities as string[]).includes('ESEARCH'), 'ESEARCH advertised');
  const sizes = (out.appended_sizes as string[]).map((line) => Number(/RFC822\.SIZE (\d+)/.exec(line)![1]));
  t.same(out.status_size, [`"INBOX" (MESSAGES 2 SIZE ${sizes[0] + sizes[1]})`], 'STATUS SIZE is the sum of RFC822.SIZE');
  t.match(out.multiappend, /^MA1 OK \[APPENDUID \d+ 1:2\] APPEND completed$/, 'MULTIAPPEND: both stored, APPENDUID names both');
  t.same(out.drafts_status, ['"Brouillons" (MESSAGES 2)']);
  t.match((out.esearch as string[])[0], /^\(TAG "\w+"\) UID MIN 1 MAX 2 COUNT 2 ALL 1:2$/, 'UID SEARCH RETURN (MIN MAX COUNT ALL)');
});
