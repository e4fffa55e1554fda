// Issue 12, imap-sync part, end to end with real clients: imapflow with QRESYNC (VANISHED while
// the folder is open, resynchronisation on reopening with the UIDVALIDITY and MODSEQ it kept) and
// Python's imaplib (test/e2e/clients/imaplib_sync.py: subscriptions kept by name, implicit
// CONDSTORE, QRESYNC's SELECT parameter and UID FETCH VANISHED, ID without argument).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { connectedClient } from '../helpers/imap';
import { runImaplibScenario } from '../helpers/imaplib';
import { answered } from '../helpers/tap';

t.test('imapflow with QRESYNC', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  const other = await connectedClient(t, env, alice.login);
  for (const n of [1, 2, 3, 4]) await other.append('INBOX', `Subject: message ${n}\r\n\r\ntexte ${n}\r\n`);

  const client = new ImapFlow({
    host: '127.0.0.1',
    port: env.ports.imaps,
    secure: true,
    tls: { ca: readFileSync(env.caFile) },
    auth: { user: alice.login, pass: TEST_PASSWORD },
    logger: false,
    qresync: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  t.teardown(() => client.logout().catch(() => client.close()));
  t.ok(client.capabilities.has('QRESYNC'), 'QRESYNC advertised');
  t.ok(client.enabled.has('QRESYNC'), 'imapflow enabled it');

  const expunges: Array<{ uid?: number; seq?: number; vanished: boolean; earlier?: boolean }> = [];
  const flags: Array<{ uid?: number; flags: Set<string> }> = [];
  client.on('expunge', (event) => expunges.push(event));
  client.on('flags', (event) => flags.push(event));

  const opened = await client.mailboxOpen('INBOX');
  const uidValidity = opened.uidValidity;
  await other.mailboxOpen('INBOX');
  await other.messageDelete('1', { uid: true });
  await client.noop();
  t.same(expunges, [{ path: 'INBOX', uid: 1, vanished: true, earlier: false }], 'an expunge elsewhere arrives as VANISHED');
  // The MODSEQ the client is synchronised to (imapflow does not read the untagged
  // OK [HIGHESTMODSEQ] sent after VANISHED, so it asks with STATUS).
  const known = answered(await client.status('INBOX', { highestModseq: true }), 'STATUS INBOX').highestModseq;
  t.ok(known, 'HIGHESTMODSEQ known');
  await client.mailboxClose();

  // While the client is away: one message goes, another gets a flag.
  await other.messageDelete('3', { uid: true });
  await other.messageFlagsAdd('2', ['\\Flagged'], { uid: true });
  expunges.length = 0;
  flags.length = 0;
  const reopened = await client.mailboxOpen('INBOX', { uidValidity, changedSince: known });
  t.equal(reopened.exists, 2);
  t.same(expunges, [{ path: 'INBOX', uid: 3, vanished: true, earlier: true }], 'VANISHED (EARLIER) names what went while away');
  t.equal(flags.length, 1, 'one FETCH: the message whose flags changed');
  t.equal(flags[0].uid, 2);
  t.ok(flags[0].flags.has('\\Flagged'));
});

t.test('Python imaplib: subscriptions, CONDSTORE, QRESYNC, ID', async (t) => {
  const out = await runImaplibScenario(t, 'imaplib_sync.py');

  t.equal(out.id_bare, 'BAD', 'ID needs its argument (RFC 2971)');
  t.same(out.lsub_after_create, [null], 'CREATE does not subscribe');
  t.same(out.list_subscribed_deleted, ['(\\NonExistent \\HasNoChildren \\Subscribed) "/" "Brut"'], 'the subscription outlives DELETE');
  t.same(out.lsub_after_delete, ['() "/" "Brut"']);
  t.equal((out.highestmodseq_after_fetch_modseq as string[]).length, 1, 'FETCH MODSEQ: untagged OK [HIGHESTMODSEQ]');
  t.same(out.enable, ['QRESYNC']);
  t.same(out.vanished_on_expunge, ['1'], 'EXPUNGE answered with VANISHED');
  t.same(out.uid_fetch_vanished_untagged, ['(EARLIER) 1']);
  t.match((out.uid_fetch_vanished as string[]).join(' '), /UID 2 FLAGS \(\\Seen\) MODSEQ/);
  t.equal(out.qresync_select, 'OK');
  t.same(out.qresync_vanished, ['(EARLIER) 1']);
  t.match((out.qresync_fetch as string[]).join(' '), /UID 2 FLAGS \(\\Seen\) MODSEQ/);
});
