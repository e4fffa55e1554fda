// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267): PARTIAL (section 4.4), RETURN (UPDATE) with
// ADDTO / REMOVEFROM (sections 4.2, 4.3) and CANCELUPDATE.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { IdleWatchers } from '../../../src/imap/idle-watchers';
import { MAX_CONTEXTS } from '../../../src/imap/search-context';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

/** The command's tag as the ESEARCH response names it, replaced by "x". */
const anyTag = (reply: string): string => reply.replace(/TAG "T\d+"/g, 'TAG "x"');

function inboxWith(t: Parameters<typeof freshWorld>[0], count: number) {
  const world = freshWorld(t);
  const inbox = mailboxId(world.db, world.jean, 'INBOX');
  // one minute apart: SORT (ARRIVAL) must not depend on how many fit in one millisecond
  const first = Date.UTC(2026, 0, 5, 9, 0);
  for (let i = 1; i <= count; i++) {
    appendToMailbox(world.db, inbox, Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), [], first + i * 60_000);
  }
  const watchers = new IdleWatchers();
  const s = testSession(world.db, world.jean, undefined, undefined, watchers);
  s.select('INBOX');
  return { ...world, inbox, s, watchers };
}

t.test('SEARCH RETURN (PARTIAL): positions in the result, by sequence number or UID', async (t) => {
  const { s } = inboxWith(t, 5);
  const first = async (line: string) => anyTag((await s.run(line)).split('\r\n')[0]);
  t.equal(await first('SEARCH RETURN (PARTIAL 1:1) ALL'), '* ESEARCH (TAG "x") PARTIAL (1:1 1)');
  t.equal(await first('SEARCH RETURN (PARTIAL 4:2) ALL'), '* ESEARCH (TAG "x") PARTIAL (2:4 2:4)', '4:2 is 2:4');
  t.equal(await first('SEARCH RETURN (PARTIAL 1:6) ALL'), '* ESEARCH (TAG "x") PARTIAL (1:6 1:5)');
  t.equal(await first('SEARCH RETURN (PARTIAL 6:6) ALL'), '* ESEARCH (TAG "x") PARTIAL (6:6 NIL)', 'NIL past the end');
  t.equal(await first('SEARCH RETURN (PARTIAL 2:3) 1:2,4:5'), '* ESEARCH (TAG "x") PARTIAL (2:3 2,4)', 'positions in the result, not sequence numbers');
  t.equal(await first('SEARCH RETURN (COUNT PARTIAL 1:2) ALL'), '* ESEARCH (TAG "x") COUNT 5 PARTIAL (1:2 1:2)', 'COUNT is of the whole result');
  await s.run('STORE 2 +FLAGS (\\Deleted)');
  await s.run('EXPUNGE');
  t.equal(await first('UID SEARCH RETURN (PARTIAL 2:2) ALL'), '* ESEARCH (TAG "x") UID PARTIAL (2:2 3)', 'UID form: the second remaining UID');
  for (const range of ['1', '1:*', '*:1', '0:3']) {
    t.match(await first(`SEARCH RETURN (PARTIAL ${range}) ALL`), /^TAG BAD PARTIAL needs a range/, `PARTIAL ${range} is BAD`);
  }
});

t.test('SORT RETURN (PARTIAL): positions in sort order', async (t) => {
  const { s } = inboxWith(t, 5);
  const first = async (line: string) => anyTag((await s.run(line)).split('\r\n')[0]);
  t.equal(await first('SORT RETURN (PARTIAL 2:4) (ARRIVAL) US-ASCII ALL'), '* ESEARCH (TAG "x") PARTIAL (2:4 2:4)');
  t.equal(await first('SORT RETURN (PARTIAL 1:2) (REVERSE ARRIVAL) US-ASCII ALL'), '* ESEARCH (TAG "x") PARTIAL (1:2 5,4)', 'the first two in sort order: 5 then 4');
  t.match(await first('SORT RETURN (PARTIAL 1:*) (ARRIVAL) US-ASCII ALL'), /^TAG BAD PARTIAL needs a range/);
});

t.test('SEARCH RETURN (UPDATE): ADDTO and REMOVEFROM as flags change, mail arrives and messages go', async (t) => {
  const { db, inbox, s } = inboxWith(t, 5);
  const started = await s.run('SEARCH RETURN (UPDATE ALL) SEEN');
  const tag = /TAG "(T\d+)"/.exec(started)![1];
  t.equal(anyTag(started), '* ESEARCH (TAG "x")\r\nTAG OK SEARCH completed\r\n', 'nothing matches yet');

  t.equal(anyTag(await s.run('STORE 1,2,4 +FLAGS.SILENT (\\Seen)')), '* ESEARCH (TAG "x") ADDTO (1 1:2,4)\r\nTAG OK STORE completed\r\n');
  t.equal(anyTag(await s.run('STORE 1 -FLAGS.SILENT (\\Seen)')), '* ESEARCH (TAG "x") REMOVEFROM (1 1)\r\nTAG OK STORE completed\r\n');
  t.equal(await s.run('STORE 5 +FLAGS.SILENT (\\Flagged)'), 'TAG OK STORE completed\r\n', 'no update when the result stays the same');

  // expunged: announced with the sequence number the client still knows, before the EXPUNGE
  await s.run('STORE 3:4 +FLAGS.SILENT (\\Deleted)');
  t.equal(anyTag(await s.run('EXPUNGE')), '* ESEARCH (TAG "x") REMOVEFROM (2 4)\r\n* 4 EXPUNGE\r\n* 3 EXPUNGE\r\nTAG OK EXPUNGE completed\r\n');

  // new mail from elsewhere (delivery), seen at the next command
  appendToMailbox(db, inbox, Buffer.from('Subject: m6\r\n\r\nbody 6\r\n'), ['\\Seen']);
  t.match(anyTag(await s.run('NOOP')), /^\* 4 EXISTS\r\n\* \d RECENT\r\n\* ESEARCH \(TAG "x"\) ADDTO \(2 4\)\r\nTAG OK NOOP completed\r\n$/);

  t.equal(await s.run(`CANCELUPDATE "${tag}"`), 'TAG OK CANCELUPDATE completed\r\n');
  t.equal(await s.run('STORE 1 +FLAGS.SILENT (\\Seen)'), 'TAG OK STORE completed\r\n', 'no ADDTO once cancelled');
  t.match(await s.run(`CANCELUPDATE "${tag}"`), /^TAG BAD No search context is being updated for tag/);
  t.match(await s.run('CANCELUPDATE'), /^TAG BAD CANCELUPDATE needs the tag/);
});

t.test('UID SEARCH RETURN (UPDATE) speaks UIDs; a new SELECT ends every context', async (t) => {
  const { s } = inboxWith(t, 4);
  await s.run('STORE 1 +FLAGS.SILENT (\\Flagged)');
  t.equal(anyTag(await s.run('UID SEARCH RETURN (UPDATE ALL) FLAGGED')), '* ESEARCH (TAG "x") UID ALL 1\r\nTAG OK UID SEARCH completed\r\n');
  t.equal(anyTag(await s.run('STORE 3 +FLAGS.SILENT (\\Flagged)')), '* ESEARCH (TAG "x") UID ADDTO (2 3)\r\nTAG OK STORE completed\r\n');
  await s.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  t.equal(anyTag(await s.run('EXPUNGE')), '* ESEARCH (TAG "x") UID REMOVEFROM (1 1)\r\n* 1 EXPUNGE\r\nTAG OK EXPUNGE completed\r\n');
  s.select('INBOX');
  t.equal(await s.run('STORE 1 +FLAGS.SILENT (\\Flagged)'), 'TAG OK STORE completed\r\n', 'the context ended with its selection');
});

t.test('SORT RETURN (UPDATE): positions in sort order', async (t) => {
  const { s } = inboxWith(t, 4);
  await s.run('STORE 1,3 +FLAGS.SILENT (\\Seen)');
  t.equal(anyTag(await s.run('SORT RETURN (UPDATE ALL) (REVERSE ARRIVAL) US-ASCII SEEN')), '* ESEARCH (TAG "x") ALL 3,1\r\nTAG OK SORT completed\r\n');
  t.equal(anyTag(await s.run('STORE 2,4 +FLAGS.SILENT (\\Seen)')), '* ESEARCH (TAG "x") ADDTO (1 4)\r\n* ESEARCH (TAG "x") ADDTO (3 2)\r\nTAG OK STORE completed\r\n', '4 first, 2 between 3 and 1');
  t.equal(anyTag(await s.run('STORE 3 -FLAGS.SILENT (\\Seen)')), '* ESEARCH (TAG "x") REMOVEFROM (2 3)\r\nTAG OK STORE completed\r\n');
});

t.test('RETURN (UPDATE) is bounded: past the limit, and with PARTIAL, OK [NOUPDATE]', async (t) => {
  const { s } = inboxWith(t, 2);
  for (let i = 0; i < MAX_CONTEXTS; i++) t.match(await s.run('SEARCH RETURN (UPDATE) SEEN'), /TAG OK SEARCH completed\r\n$/);
  const refused = await s.run('SEARCH RETURN (UPDATE) SEEN');
  t.match(refused, /^\* ESEARCH \(TAG "(T\d+)"\)\r\nTAG OK \[NOUPDATE "\1"\] SEARCH completed, without updates\r\n$/);
  const updates = (await s.run('STORE 1 +FLAGS.SILENT (\\Seen)')).match(/ADDTO/g) ?? [];
  t.equal(updates.length, MAX_CONTEXTS, 'only the contexts kept are updated');
  t.match(await s.run('SEARCH RETURN (UPDATE PARTIAL 1:10) ALL'), /TAG OK \[NOUPDATE "T\d+"\]/);
});

t.test('IDLE pushes ADDTO as mail arrives', async (t) => {
  const { db, inbox, s, watchers } = inboxWith(t, 1);
  await s.run('SEARCH RETURN (UPDATE) SUBJECT urgent');
  const running = s.run('IDLE');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(s.io.take().toString(), '+ idling\r\n');
  appendToMailbox(db, inbox, Buffer.from('Subject: urgent\r\n\r\nvite\r\n'));
  watchers.wake(inbox); // what the server does on 'mailbox-changed'
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.match(anyTag(s.io.take().toString()), /^\* 2 EXISTS\r\n\* \d RECENT\r\n\* ESEARCH \(TAG "x"\) ADDTO \(1 2\)\r\n$/);
  s.io.send('DONE');
  t.equal(await running, 'TAG OK IDLE terminated\r\n');
});

t.test('an expunge and new mail in the same update: REMOVEFROM with the old number, then ADDTO', async (t) => {
  const { db, jean, inbox, s } = inboxWith(t, 3);
  const other = testSession(db, jean);
  other.select('INBOX');
  await s.run('STORE 1 +FLAGS.SILENT (\\Seen)');
  t.equal(anyTag(await s.run('SEARCH RETURN (UPDATE ALL) SEEN')), '* ESEARCH (TAG "x") ALL 1\r\nTAG OK SEARCH completed\r\n');
  await other.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await other.run('EXPUNGE');
  appendToMailbox(db, inbox, Buffer.from('Subject: m4\r\n\r\nbody 4\r\n'), ['\\Seen']);
  t.match(
    anyTag(await s.run('NOOP')),
    /^\* ESEARCH \(TAG "x"\) REMOVEFROM \(1 1\)\r\n\* 1 EXPUNGE\r\n\* 3 EXISTS\r\n\* \d RECENT\r\n\* ESEARCH \(TAG "x"\) ADDTO \(1 3\)\r\nTAG OK NOOP completed\r\n$/,
    'the view kept its length (one out, one in) and still heard of both',
  );
});
