// THREAD and UID THREAD (RFC 5256 section 3): REFERENCES (links from References and
// In-Reply-To, dummy parents, roots gathered by base subject, siblings by date) and
// ORDEREDSUBJECT, over the messages the search keys select; errors.
import t from 'tap';
import type { TapTest } from '../../helpers/tap';
import { appendManyToMailbox, appendToMailbox, prepareAppend } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';
import { indexPendingBodies } from '../../../src/store/search-index';

function message(id: string, subject: string, hour: number, links: string[] = []): Buffer {
  return Buffer.from(
    [
      'From: Dr Martin <martin@chu.fr>',
      `Subject: ${subject}`,
      `Date: Mon, 1 Jun 2026 ${String(hour).padStart(2, '0')}:00:00 +0000`,
      `Message-ID: <${id}@chu.fr>`,
      ...links,
      '',
      'texte',
      '',
    ].join('\r\n'),
  );
}

/** Sequence numbers 1-8 as appended; hours are the Date: fields. */
function setup(t: TapTest) {
  const world = freshWorld(t);
  const inbox = mailboxId(world.db, world.jean, 'INBOX');
  const messages = [
    message('a', 'Bilan', 9), // 1
    message('b', 'Re: Bilan', 10, ['References: <a@chu.fr>']), // 2: reply to 1
    message('c', 'Re: Bilan', 12, ['References: <a@chu.fr> <b@chu.fr>']), // 3: reply to 2
    message('d', 'RE: Bilan', 11, ['In-Reply-To: <a@chu.fr>']), // 4: reply to 1, In-Reply-To only
    message('e', 'Planning', 8), // 5: earliest
    message('f', 'Re: Garde', 13, ['References: <absent@chu.fr>']), // 6: its parent is not here
    message('g', 'Re: Garde', 14, ['References: <absent@chu.fr>']), // 7: sibling of 6
    message('h', 'Re: Planning', 15), // 8: no reference, same base subject as 5
  ];
  for (const raw of messages) appendToMailbox(world.db, inbox, raw);
  indexPendingBodies(world.db, 60_000); // as the daemon's background indexer does shortly after a store
  const s = testSession(world.db, world.jean);
  s.select('INBOX');
  return { ...world, s };
}

const first = async (s: ReturnType<typeof testSession>, line: string) => (await s.run(line)).split('\r\n')[0];

t.test('REFERENCES', async (t) => {
  const { s } = setup(t);
  t.equal(
    await first(s, 'THREAD REFERENCES UTF-8 ALL'),
    '* THREAD (5 8)(1 (2 3)(4))((6)(7))',
    'replies under their parent by date, a reply without references under the same subject, a dummy for the absent parent',
  );
  t.equal(await first(s, 'THREAD REFERENCES US-ASCII SUBJECT bilan'), '* THREAD (1 (2 3)(4))', 'only the messages the search keys select');
  t.equal(await first(s, 'THREAD REFERENCES UTF-8 SUBJECT nothing-like-this'), '* THREAD', 'nothing matches: an empty THREAD');
  await s.run('STORE 1 +FLAGS (\\Deleted)');
  await s.run('EXPUNGE');
  t.equal(await first(s, 'THREAD REFERENCES UTF-8 ALL'), '* THREAD (4 7)((1 2)(3))((5)(6))', 'the expunged parent becomes a dummy holding both replies');
  t.equal(await first(s, 'UID THREAD REFERENCES UTF-8 ALL'), '* THREAD (5 8)((2 3)(4))((6)(7))', 'UID THREAD answers UIDs');
});

t.test('ORDEREDSUBJECT', async (t) => {
  const { s } = setup(t);
  t.equal(await first(s, 'THREAD ORDEREDSUBJECT UTF-8 ALL'), '* THREAD (5 8)(1 (2)(4)(3))(6 7)', 'by base subject, the earliest message the parent of the others, threads by date');
  t.equal(await first(s, 'UID THREAD ORDEREDSUBJECT UTF-8 UNDELETED SUBJECT garde'), '* THREAD (6 7)');
});

t.test('a reference loop neither hangs nor loses a message', async (t) => {
  const world = freshWorld(t);
  const inbox = mailboxId(world.db, world.jean, 'INBOX');
  appendToMailbox(world.db, inbox, message('x', 'Boucle', 9, ['References: <y@chu.fr>']));
  appendToMailbox(world.db, inbox, message('y', 'Boucle', 10, ['References: <x@chu.fr>']));
  appendToMailbox(world.db, inbox, message('z', 'Autre', 11, ['References: <z@chu.fr>']));
  const s = testSession(world.db, world.jean);
  s.select('INBOX');
  const reply = await first(s, 'THREAD REFERENCES UTF-8 ALL');
  t.match(reply, /^\* THREAD /);
  t.same(reply.match(/\d+/g)!.map(Number).sort(), [1, 2, 3], 'each message exactly once');
});

t.test('errors', async (t) => {
  const { s } = setup(t);
  t.match(await first(s, 'THREAD FROB UTF-8 ALL'), /^TAG BAD Unknown threading algorithm FROB/);
  t.match(await first(s, 'THREAD REFERENCES UTF-8'), /^TAG BAD SEARCH needs a search key/);
  t.match(await first(s, 'THREAD REFERENCES ISO-2022-JP ALL'), /^TAG NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
});

t.test('a reply chain too deep to walk is a NO [LIMIT], and the session goes on', async (t) => {
  const world = freshWorld(t);
  const inbox = mailboxId(world.db, world.jean, 'INBOX');
  const depth = 20_000;
  appendManyToMailbox(
    world.db,
    inbox,
    Array.from({ length: depth }, (_, i) => prepareAppend({ raw: message(`n${i}`, 'Chaîne', 9, i > 0 ? [`In-Reply-To: <n${i - 1}@chu.fr>`] : []) })),
  );
  const s = testSession(world.db, world.jean);
  s.select('INBOX');
  const reply = await s.run('THREAD REFERENCES UTF-8 ALL');
  if (reply.startsWith('* THREAD')) t.equal(reply.match(/\d+/g)!.length, depth, 'answered whole');
  else t.match(reply, /^TAG NO \[LIMIT\] Threads nested too deeply/, 'refused with a reason');
  t.match(await first(s, 'NOOP'), /^TAG OK/);
});
