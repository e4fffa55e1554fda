// IMAP on every core (imap.workers, src/imap/workers.ts): worker processes serve IMAP over the
// same store while the main process keeps SMTP and what must be counted once. A message appended
// through one worker, or delivered by SMTP in the main process, wakes sessions in IDLE on the
// other worker; the per-account session limit counts the sessions of all workers; an APPEND
// answered OK survives a SIGKILL of the daemon (R14).
import t from 'tap';
import type { TapTest } from '../helpers/tap';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { deliver, peerOperator, RawImap, textMessage } from '../helpers/imap';

t.test('two IMAP workers over one store', async (t) => {
  const env = await makeEnv({ imap: { workers: 2 }, limits: { maxConnectionsPerAccount: 3 } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  t.ok(daemon.logs().some((line) => line.msg === 'imap workers ready' && line.workers === 2), 'two workers serve IMAP');
  /** The worker (its pid) that logged each IMAP login of `login`, in order. */
  const workersOf = (login: string) => daemon.logs().filter((line) => line.msg === 'imap login' && line.login === login).map((line) => line.imapWorker);

  await t.test('an APPEND through one worker and an SMTP delivery wake IDLE sessions on both workers', async (t) => {
    // Each new connection goes to the worker with the fewest: these two land on different ones.
    const idlers = [await RawImap.connect(env, alice.login), await RawImap.connect(env, alice.login)];
    const appender = await RawImap.connect(env, alice.login);
    t.teardown(() => [...idlers, appender].forEach((client) => client.close()));
    t.equal(new Set(workersOf(alice.login).slice(0, 2)).size, 2, 'the two IDLE sessions are in different processes');

    const idling = idlers.map(async (client) => {
      t.match((await client.command('SELECT INBOX')).all, /\* 0 EXISTS/);
      const from = client.responses.length;
      client.write('I1 IDLE\r\n');
      await client.waitFor((r) => r.text.startsWith('+ '), 10_000, from);
      return from;
    });
    const marks = await Promise.all(idling);

    const message = textMessage(`dr.martin@hopital-test.fr`, alice.mssante, 'Brouillon', 'Texte', 'workers.append@hopital-test.fr');
    const appended = await appender.command(Buffer.concat([Buffer.from('APPEND INBOX '), RawImap.literal(message)]));
    t.match(appended.tagged.text, /OK \[APPENDUID \d+ 1\]/, 'the APPEND is acknowledged with its UID');
    for (const [i, client] of idlers.entries()) {
      await client.waitFor((r) => /^\* 1 EXISTS/.test(r.text), 10_000, marks[i]);
      t.pass(`IDLE session ${i + 1} was told of the appended message`);
    }

    const peer = peerOperator(env);
    const sender = `dr.peer@${peer.domain}`;
    await deliver(env, sender, [alice.mssante], textMessage(sender, alice.mssante, 'Résultats', 'Bilan', `workers.smtp.${Date.now()}@peer.example`), peer.cert);
    for (const [i, client] of idlers.entries()) {
      await client.waitFor((r) => /^\* 2 EXISTS/.test(r.text), 10_000, marks[i]);
      t.pass(`IDLE session ${i + 1} was told of the delivered message`);
    }
    for (const client of idlers) {
      client.write('DONE\r\n');
      await client.waitFor((r) => r.text.startsWith('I1 OK'));
    }
  });

  await t.test('the per-account session limit counts the sessions of every worker', async (t) => {
    const sessions = [await RawImap.connect(env, bob.login), await RawImap.connect(env, bob.login), await RawImap.connect(env, bob.login)];
    t.teardown(() => sessions.forEach((client) => client.close()));
    t.equal(new Set(workersOf(bob.login)).size, 2, "bob's sessions are spread over both workers");
    const fourth = await RawImap.connect(env);
    t.teardown(() => fourth.close());
    const refused = await fourth.command(`LOGIN "${bob.login}" "${TEST_PASSWORD}"`);
    t.match(refused.tagged.text, /^\S+ NO \[LIMIT\] Too many simultaneous connections for this account \(at most 3\)/, 'a fourth session anywhere is refused');
    sessions.pop()!.command('LOGOUT').catch(() => undefined);
    const again = await RawImap.connect(env);
    t.teardown(() => again.close());
    // The slot comes back once the worker saw the connection end: ask until it is.
    let answer = '';
    for (let attempt = 0; attempt < 50 && !/ OK /.test(answer); attempt++) {
      answer = (await again.command(`LOGIN "${bob.login}" "${TEST_PASSWORD}"`)).tagged.text;
      if (!/ OK /.test(answer)) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.match(answer, /^\S+ OK /, 'after a LOGOUT the slot is free again');
  });
});

t.test('a new connection goes to the worker with the fewest open connections', async (t) => {
  const env = await makeEnv({ imap: { workers: 2 }, limits: { maxConnectionsPerAccount: 10 } });
  const dave = createPer(env, 'Dave', 'Leroy', '10000000004');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const workerOfLogin = () => daemon.logs().filter((line) => line.msg === 'imap login' && line.login === dave.login).map((line) => line.imapWorker as number);
  const sessions: RawImap[] = [];
  t.teardown(() => sessions.forEach((client) => client.close()));
  /** Logs in one more session; resolves with the worker (pid) that logged its login. */
  const connect = async (): Promise<number> => {
    sessions.push(await RawImap.connect(env, dave.login));
    // the log line comes through the daemon's output, a moment after the OK
    for (let i = 0; i < 100 && workerOfLogin().length < sessions.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    return workerOfLogin()[sessions.length - 1];
  };
  const where: number[] = [];
  for (let i = 0; i < 4; i++) where.push(await connect());
  const [first, second] = [...new Set(where)];
  t.equal(where.filter((pid) => pid === first).length, 2, 'four connections: two on each worker');
  t.equal(where.filter((pid) => pid === second).length, 2, 'four connections: two on each worker');

  // Both sessions of the first worker leave: it now has none, the other two.
  for (const [i, pid] of where.entries()) {
    if (pid !== first) continue;
    await sessions[i].command('LOGOUT');
    sessions[i].close();
  }
  await new Promise((resolve) => setTimeout(resolve, 300)); // the worker tells the main process the sockets closed
  t.same([await connect(), await connect()], [first, first], 'the next two connections both go to the worker that had none (round-robin would split them)');
});

t.test('SIGKILL during APPENDs through the workers loses no acknowledged message', async (t) => {
  const env = await makeEnv({ imap: { workers: 2 } });
  const carol = createPer(env, 'Carol', 'Petit', '10000000003');
  let daemon = await startDaemon(env);
  const acknowledged = new Set<string>();
  let killed = false;
  const appender = async (index: number) => {
    const client = await RawImap.connect(env, carol.login);
    for (let n = 0; !killed; n++) {
      const id = `crash-${index}-${n}@hopital-test.fr`;
      const message = textMessage('dr.petit@hopital-test.fr', carol.mssante, `Compte rendu ${index}/${n}`, 'ligne de compte rendu '.repeat(200), id);
      try {
        const answer = await client.command(Buffer.concat([Buffer.from('APPEND INBOX '), RawImap.literal(message)]), 5_000);
        if (/^\S+ OK /.test(answer.tagged.text)) acknowledged.add(id);
      } catch {
        break; // the daemon was killed: no answer, so not acknowledged
      }
    }
    client.close();
  };
  const appenders = [0, 1, 2].map(appender);
  // Kill once APPENDs are flowing: after 30 acknowledgements, not after a fixed time.
  while (acknowledged.size < 30) await new Promise((resolve) => setTimeout(resolve, 20));
  daemon.process.kill('SIGKILL');
  killed = true;
  await daemon.exited;
  await Promise.all(appenders);

  daemon = await startDaemon(env); // the workers left with the main process: ports and lock are free
  t.teardown(() => daemon.stop());
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  const stored = new Set((db.prepare('SELECT message_id FROM messages WHERE message_id IS NOT NULL').pluck().all() as string[]).map((id) => id.replace(/^<|>$/g, '')));
  const missing = [...acknowledged].filter((id) => !stored.has(id));
  t.same(missing, [], `every acknowledged APPEND is in the store (${acknowledged.size} acknowledged)`);
});

/** A daemon with two IMAP workers, once its children (the workers and the search indexer) are up. */
async function daemonWithChildren(t: TapTest) {
  const env = await makeEnv({ imap: { workers: 2 } });
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop('SIGKILL'));
  // the main process's children (Linux /proc): the IMAP workers and the search indexer process
  const children = () => readFileSync(`/proc/${daemon.process.pid}/task/${daemon.process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (let i = 0; i < 100 && (children().length < 3 || !daemon.logs().some((line) => line.msg === 'search indexer started')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { daemon, children: children() };
}

t.test('SIGTERM to every process at once (systemd stops the whole control group): a clean stop, no worker restarted', async (t) => {
  const { daemon, children } = await daemonWithChildren(t);
  const group = [daemon.process.pid!, ...children];
  t.equal(group.length, 4, 'main process, two IMAP workers and the search indexer');
  for (const pid of group) process.kill(pid, 'SIGTERM');
  t.equal(await daemon.exited, 0, 'the daemon exits with 0');
  t.ok(daemon.logs().some((line) => line.msg === 'mssd stopped'), 'after its orderly stop');
  t.same(
    daemon.logs().filter((line) => line.msg === 'imap worker died; starting another' || line.msg === 'search indexer process died; starting another'),
    [],
    'no worker or indexer taken for dead and started again',
  );
});

t.test('SIGTERM to the children just before the main process: the main process stops cleanly all the same', async (t) => {
  // The order a control group's stop may take. The main process then asks children whose IPC
  // channel is already closing to stop: a failed send must not crash it (EPIPE).
  const { daemon, children } = await daemonWithChildren(t);
  for (const pid of children) process.kill(pid, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 2));
  daemon.process.kill('SIGTERM');
  t.equal(await daemon.exited, 0, 'the daemon exits with 0');
  t.ok(daemon.logs().some((line) => line.msg === 'mssd stopped'), 'after its orderly stop');
});
