// IMAP writes share the daemon's group commit (src/imap/store-writes.ts): the STOREs, APPENDs and
// EXPUNGEs of several sessions in one turn of the event loop are committed together, and each
// command is answered only once its write is durable: at the moment its tagged OK is written,
// another connection to the store (another process) already reads the change (R14).
import t from 'tap';
import Database from 'better-sqlite3';
import { CommitBatcher } from '../../../src/store/commit-batcher';
import { MailboxChanges } from '../../../src/store/mailbox-changes';
import { testSession, type TestSession } from './harness';
import { simple, world } from './messages-world';
import { commitCounter } from '../../helpers/wal-commits';

function setup(t: Parameters<typeof world>[0]) {
  const w = world(t);
  // Count the commits, as the file shows them (a write nested in the batch is no commit of its own).
  const transactions = commitCounter(w.db);
  const batcher = new CommitBatcher(w.db);
  /** What another process reads from the file: only what was committed. */
  const reader = new Database(w.db.name, { readonly: true });
  t.teardown(() => reader.close());
  const changes = new MailboxChanges();
  return { ...w, batcher, changes, reader, transactions };
}

/** Records, when the tagged OK of `tag` is written, what `check` reads in another connection. */
function atTaggedOk<T>(session: TestSession, check: () => T): { seen: T[] } {
  const seen: T[] = [];
  const write = session.io.write.bind(session.io);
  session.io.write = (data: string | Buffer) => {
    if (/^T\d+ OK /.test(data.toString('latin1'))) seen.push(check());
    write(data);
  };
  return { seen };
}

t.test('two sessions STORE in the same turn: one commit, each OK written only after it', async (t) => {
  const { db, jean, inbox, batcher, changes, reader, transactions } = setup(t);
  const a = testSession(db, jean, changes, batcher);
  const b = testSession(db, jean, changes, batcher);
  a.select('INBOX');
  b.select('INBOX');
  const flagsOf = (uid: number) =>
    (reader.prepare('SELECT flags FROM messages WHERE mailbox_id = ? AND uid = ?').get(inbox, uid) as { flags: number }).flags;
  const FLAGGED = 4;
  const DELETED = 8;
  const seenA = atTaggedOk(a, () => flagsOf(1) & DELETED);
  const seenB = atTaggedOk(b, () => flagsOf(2) & DELETED);
  const before = transactions();
  const [answerA, answerB] = await Promise.all([a.run('STORE 1 +FLAGS (\\Deleted)'), b.run('UID STORE 2 +FLAGS.SILENT (\\Deleted)')]);
  t.match(answerA, /TAG OK STORE completed\r\n$/);
  t.match(answerB, /TAG OK STORE completed\r\n$/);
  t.equal(transactions() - before, 1, 'both STOREs went into one commit');
  t.same(seenA.seen, [DELETED], "a's OK was written once its flag was committed");
  t.same(seenB.seen, [DELETED], "b's OK was written once its flag was committed");
  t.equal(flagsOf(2) & FLAGGED, FLAGGED, 'the flags already there are kept');
});

t.test('APPEND: the OK (with APPENDUID) is written only once the message is durable', async (t) => {
  const { db, jean, inbox, batcher, changes, reader } = setup(t);
  const a = testSession(db, jean, changes, batcher);
  const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?').get(inbox) as { n: number }).n;
  const before = count();
  const seen = atTaggedOk(a, count);
  const message = simple('Résultats', 'Bilan normal', 'append.group@hopital.fr');
  const answer = await a.run(Buffer.concat([Buffer.from(`APPEND INBOX {${message.length}+}\r\n`), message]));
  t.match(answer, /^TAG OK \[APPENDUID \d+ 4\] APPEND completed\r\n$/);
  t.same(seen.seen, [before + 1], 'another connection already read the message when the OK was written');
});

t.test('a refused write in the group fails alone; the others are committed', async (t) => {
  const { db, jean, batcher, changes } = setup(t);
  const a = testSession(db, jean, changes, batcher);
  const b = testSession(db, jean, changes, batcher);
  a.select('INBOX');
  b.select('INBOX');
  const tooMany = Array.from({ length: 200 }, (_, i) => `kw${i}`).join(' ');
  const [refused, accepted] = await Promise.all([a.run(`STORE 1 +FLAGS (${tooMany})`), b.run('STORE 3 +FLAGS (\\Answered)')]);
  t.match(refused, /^TAG NO \[LIMIT\] .*\r\n$/m, 'the STORE over the keyword limit is refused');
  t.match(accepted, /\* 3 FETCH \(FLAGS \(\\Seen \\Answered \$label1\)\)\r\nTAG OK STORE completed\r\n$/, 'the other one is committed');
  // B's change, concurrent with A's STORE, reaches A with its next command
  t.match(await a.run('FETCH 1 FLAGS'), /^\* 3 FETCH \(UID 3 FLAGS \([^)]*\\Answered[^)]*\)\)\r\n\* 1 FETCH \(FLAGS \(\\Recent\)\)\r\n/, 'nothing of the refused STORE was kept');
});
