// Issue 12, the imap-context part, with Python's imaplib against the real daemon over TLS:
// CONTEXT=SEARCH / CONTEXT=SORT (RFC 5267) and CATENATE (RFC 4469); test/e2e/clients/imaplib_context.py.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';

const script = path.join(__dirname, 'clients', 'imaplib_context.py');

t.test('PARTIAL, live search contexts across connections, CATENATE with imaplib', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const run = spawnSync('python3', [script, '127.0.0.1', String(env.ports.imaps), env.caFile, alice.login, TEST_PASSWORD, bob.login], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(run.status, 0, `python scenario: ${run.stderr}`);
  const out = JSON.parse(run.stdout) as Record<string, unknown>;
  const caps = out.capabilities as string[];
  for (const cap of ['CONTEXT=SEARCH', 'CONTEXT=SORT', 'CATENATE']) t.ok(caps.includes(cap), `${cap} advertised`);
  t.match(out.partial, ['OK', [/^\(TAG "\w+"\) PARTIAL \(2:3 2:3\)$/]]);
  t.match(out.uid_partial_nil, ['OK', [/^\(TAG "\w+"\) UID PARTIAL \(9:10 NIL\)$/]]);
  t.match(out.sort_partial, ['OK', [/^\(TAG "\w+"\) PARTIAL \(1:2 5,4\)$/]]);
  const tag = out.update_tag as string;
  t.same(out.update_start, [`* ESEARCH (TAG "${tag}")`, `${tag} OK SEARCH completed`]);
  t.same(out.after_store, [`(TAG "${tag}") ADDTO (1 2,4)`], "the other connection's flags reach the live result");
  t.same(out.after_unflag, [`(TAG "${tag}") REMOVEFROM (1 2)`]);
  t.equal(out.cancel, 'OK');
  t.same(out.after_cancel, [], 'nothing after CANCELUPDATE');
  t.match(out.catenate_urls, ['OK', [/^\[APPENDUID \d+ 1\] APPEND completed$/]]);
  t.match(out.catenate_text, /^\w+ OK \[APPENDUID \d+ 2\]/);
  t.match(out.catenate_other_user, ['NO', [/^\[BADURL imap:\/\/bob\.durand%40hopital-test\.fr@localhost\/INBOX\/;UID=1\] /]]);
  const drafts = out.drafts as string[];
  t.equal(drafts[0], 'From: labo@hopital.fr\r\nSubject: resultat 1\r\n\r\nvaleur 3\r\n', 'header of one message, text of another');
  t.equal(drafts[1], 'From: labo@hopital.fr\r\nSubject: resultat 2\r\n\r\nTransmis sans telechargement\r\n');
});
