// A second, independent IMAP client: Python's imaplib (test/e2e/clients/imaplib_scenario.py)
// runs APPEND, SELECT, FETCH, STORE, SEARCH, COPY and EXPUNGE against the real daemon.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { runImaplibScenario } from '../helpers/imaplib';

t.test('Python imaplib', async (t) => {
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  // Python's imaplib is one of the real clients the suite relies on: without it the test fails.
  if (python.status !== 0) {
    t.fail('python3 is needed to run the imaplib client');
    return;
  }
  const out = await runImaplibScenario(t, 'imaplib_scenario.py');

  for (const capability of ['UIDPLUS', 'MOVE', 'CONDSTORE', 'IDLE', 'APPENDLIMIT=26214400']) {
    t.ok((out.capabilities as string[]).includes(capability), capability);
  }
  t.match((out.append as string[])[0], /^\[APPENDUID \d+ 1\] APPEND completed$/);
  t.same(out.select, ['2']);
  t.match(JSON.stringify(out.untagged_select), /\\\\\*/, 'PERMANENTFLAGS with \\*');
  const meta = out.fetch_meta as string[];
  t.equal(meta.length, 2);
  t.match(meta[0], /^1 \(UID 1 FLAGS \(\\Flagged \$label1 \\Recent\) RFC822\.SIZE \d+ INTERNALDATE "14-Dec-2026 0\d:30:00 \+0000"\)$/);
  t.match(meta[1], /^2 \(UID 2 FLAGS \(\\Recent\) RFC822\.SIZE \d+ INTERNALDATE "[ \d]\d-\w{3}-\d{4} [\d:]{8} \+0000"\)$/);
  t.equal(out.body_equal, true, 'BODY.PEEK[] is the appended message byte for byte');
  t.equal(out.subject_field, 'Subject: =?utf-8?q?Dossier_n=C2=B042?=\r\n\r\n');
  const [head, body, tail] = out.uid_fetch_text as string[];
  t.match(head, /^2 \(UID 2 BODY\[TEXT\] \{\d+\}$/);
  t.equal(body, 'Résultats disponibles au secrétariat.\r\n');
  t.match(tail, /FLAGS \(\\Seen \\Recent\)\)$/, '\\Seen set by BODY[TEXT]');
  t.same(out.store, ['1 (FLAGS (\\Seen \\Flagged $label1 $MDNSent \\Recent))']);
  t.same(out.store_silent, [null], 'STORE .SILENT answers nothing');
  t.same(out.search_text, ['1 2'], 'SEARCH CHARSET UTF-8 with a literal');
  t.same(out.search_flagged, ['1']);
  t.same(out.search_unseen, ['2']);
  t.same(out.uid_search, ['2']);
  t.match(out.copy, ['OK', /^\[COPYUID \d+ 1:2 1:2\] COPY completed$/]);
  t.match(out.copy_missing, ['NO', /^\[TRYCREATE\] /]);
  t.same(out.expunge, ['1']);
  t.same(out.after, ['1 (UID 2)']);
});
