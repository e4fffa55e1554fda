// The SEARCH index is built after the fact (migration 014, src/jobs/search-indexer.ts): one
// background indexer for the whole daemon, in a process of its own at the lowest CPU priority
// (src/jobs/search-indexer-process.ts), even with IMAP worker processes; it indexes what SMTP
// delivered (main process) and what an IMAP APPEND stored (a worker). SEARCH finds a message at
// once, whether or not the indexer got to it yet, and still after it did.
import { readFileSync } from 'node:fs';
import t from 'tap';
import Database from 'better-sqlite3';
import path from 'node:path';
import { createPer, makeEnv, startDaemon } from '../helpers/daemon';
import { deliver, peerOperator, RawImap, textMessage } from '../helpers/imap';

t.test('one background indexer with imap.workers 2; SEARCH exact before and after it ran', async (t) => {
  const env = await makeEnv({ imap: { workers: 2 } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  t.ok(daemon.logs().some((line) => line.msg === 'imap workers ready' && line.workers === 2), 'two IMAP workers');
  const indexerLines = () => daemon.logs().filter((line) => line.msg === 'search indexer started');
  for (let i = 0; i < 100 && indexerLines().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const started = indexerLines();
  t.equal(started.length, 1, 'one indexer for the whole daemon');
  const indexerPid = started[0]?.pid as number;
  const workerPids = daemon.logs().filter((line) => line.imapWorker !== undefined).map((line) => line.imapWorker);
  t.not(indexerPid, daemon.process.pid, 'not in the main process');
  t.notOk(workerPids.includes(indexerPid), 'nor in an IMAP worker');
  // /proc/PID/stat: the 19th field after the command name is the nice value
  const nice = Number(readFileSync(`/proc/${indexerPid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
  t.equal(nice, 19, 'at the lowest CPU priority: the sessions come first');

  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  const pending = () => (db.prepare('SELECT COUNT(*) AS n FROM search_pending').get() as { n: number }).n;
  const indexedEntries = () => (db.prepare('SELECT COUNT(*) AS n FROM body_search').get() as { n: number }).n;
  /** Waits (no timing asserted) until the indexer has nothing left. */
  const indexerDone = async () => {
    for (let i = 0; i < 200 && pending() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    t.equal(pending(), 0, 'the indexer caught up');
  };

  const client = await RawImap.connect(env, alice.login);
  t.teardown(() => client.close());
  await client.command('SELECT INBOX');

  const peer = peerOperator(env);
  const sender = `dr.peer@${peer.domain}`;
  await deliver(env, sender, [alice.mssante], textMessage(sender, alice.mssante, 'Résultats', 'Hémoglobine glyquée 6,1 %', `indexer.smtp.${Date.now()}@peer.example`), peer.cert);
  // searched at once: found whether its body is still pending or already indexed
  t.match((await client.command('SEARCH BODY glyquee')).all, /^\* SEARCH 1\r\n/m, 'a delivered message is found at once (accents folded)');
  await indexerDone();
  t.equal(indexedEntries(), 1, 'its body is in the index');
  t.match((await client.command('SEARCH BODY glyquee')).all, /^\* SEARCH 1\r\n/m, 'and is found through the index');

  const draft = textMessage(alice.mssante, 'dr.martin@hopital-test.fr', 'Brouillon', 'Protocole insuline basale', 'indexer.append@hopital-test.fr');
  t.match((await client.command(Buffer.concat([Buffer.from('APPEND INBOX '), RawImap.literal(draft)]))).tagged.text, /OK/);
  t.match((await client.command('SEARCH TEXT insuline')).all, /^\* SEARCH 2\r\n/m, 'an appended message is found at once');
  await indexerDone();
  t.equal(indexedEntries(), 2, 'the body APPENDed in a worker was indexed by the indexer process');
  t.match((await client.command('SEARCH OR BODY glyquee SUBJECT brouillon')).all, /^\* SEARCH 1 2\r\n/m);
  t.equal(daemon.logs().filter((line) => line.msg === 'search indexer started').length, 1, 'still one indexer');
});
