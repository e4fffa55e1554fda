// SORT and UID SORT (RFC 5256 section 3, RFC 5957 DISPLAYFROM/DISPLAYTO), ESORT (RFC 5267):
// keys, REVERSE, tie-break by sequence number, base subjects, the Date: fallback to the internal
// date, the search criteria, errors, and keys of messages stored before their index entry.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import type { TapTest } from '../../helpers/tap';
import { testSession } from './harness';
import { indexPendingBodies } from '../../../src/store/search-index';

interface Spec {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  date?: string;
  body: string;
  arrival: number;
}

function message(spec: Spec): Buffer {
  const lines: string[] = [];
  if (spec.from) lines.push(`From: ${spec.from}`);
  if (spec.to) lines.push(`To: ${spec.to}`);
  if (spec.cc) lines.push(`Cc: ${spec.cc}`);
  if (spec.subject !== undefined) lines.push(`Subject: ${spec.subject}`);
  if (spec.date) lines.push(`Date: ${spec.date}`);
  return Buffer.from([...lines, '', spec.body, ''].join('\r\n'));
}

const DAY = Date.UTC(2026, 5, 1, 8);
const HOUR = 3_600_000;

/** Five messages whose keys order differently for each criterion. */
const SPECS: Spec[] = [
  // 1
  { from: 'Zoé Martin <zoe@chu.fr>', to: 'b@x.fr', cc: 'c2@x.fr', subject: 'Re: Bilan sanguin', date: 'Tue, 2 Jun 2026 10:00:00 +0200', body: 'x'.repeat(400), arrival: DAY + 3 * HOUR },
  // 2
  { from: 'alice@chu.fr', to: 'Aa <c@x.fr>', cc: 'c1@x.fr', subject: 'Compte rendu', date: 'Mon, 1 Jun 2026 09:00:00 +0000', body: 'x'.repeat(10), arrival: DAY + 1 * HOUR },
  // 3: no Date: sorts by its internal date
  { from: 'Bruno <bruno@chu.fr>', to: 'a@x.fr', subject: '[CHU] Fwd: bilan SANGUIN (fwd)', body: 'x'.repeat(250), arrival: DAY },
  // 4: same base subject as 3 and 1, same size as 2 (its header is 24 octets shorter)
  { from: 'alice@chu.fr', to: 'a@x.fr', cc: 'c1@x.fr', subject: 'bilan sanguin', date: 'not a date', body: 'x'.repeat(34), arrival: DAY + 2 * HOUR },
  // 5: no From, no Subject
  { body: 'x'.repeat(150), arrival: DAY + 4 * HOUR, date: 'Sun, 31 May 2026 23:00:00 -0500' },
];

function setup(t: TapTest) {
  const world = freshWorld(t);
  const inbox = mailboxId(world.db, world.jean, 'INBOX');
  for (const spec of SPECS) appendToMailbox(world.db, inbox, message(spec), spec.subject === 'Compte rendu' ? ['\\Seen'] : [], spec.arrival);
  indexPendingBodies(world.db, 60_000); // as the daemon's background indexer does shortly after a store
  const s = testSession(world.db, world.jean);
  s.select('INBOX');
  return { ...world, inbox, s };
}


const first = async (s: ReturnType<typeof testSession>, line: string) => (await s.run(line)).split('\r\n')[0].replace(/TAG "T\d+"/, 'TAG "x"');

t.test('each sort key, REVERSE, ties in sequence order', async (t) => {
  const { s } = setup(t);
  t.equal(await first(s, 'SORT (ARRIVAL) UTF-8 ALL'), '* SORT 3 2 4 1 5');
  t.equal(await first(s, 'SORT (REVERSE ARRIVAL) UTF-8 ALL'), '* SORT 5 1 4 2 3');
  // 2 = Jun 1 09:00Z, 1 = Jun 2 08:00Z, 3 (internal Jun 1 08:00Z), 4 (invalid Date:, internal 10:00Z), 5 = Jun 1 04:00Z
  t.equal(await first(s, 'SORT (DATE) UTF-8 ALL'), '* SORT 5 3 2 4 1', 'a missing or unreadable Date: counts as the internal date');
  t.equal(await first(s, 'SORT (SIZE) UTF-8 ALL'), '* SORT 2 4 5 3 1', 'equal sizes: sequence order');
  t.equal(await first(s, 'SORT (REVERSE SIZE) UTF-8 ALL'), '* SORT 1 3 5 2 4', 'REVERSE reverses the key, not the tie-break');
  // base subjects: 1, 3, 4 are all BILAN SANGUIN; 2 COMPTE RENDU; 5 empty
  t.equal(await first(s, 'SORT (SUBJECT) UTF-8 ALL'), '* SORT 5 1 3 4 2', 'Re:, [blob] Fwd:, (fwd) and case ignored');
  t.equal(await first(s, 'SORT (SUBJECT REVERSE DATE) UTF-8 ALL'), '* SORT 5 1 4 3 2', 'second key among equal subjects');
  // FROM compares the mailbox (local part): alice, alice, bruno, zoe; 5 has none
  t.equal(await first(s, 'SORT (FROM) UTF-8 ALL'), '* SORT 5 2 4 3 1');
  t.equal(await first(s, 'SORT (TO) UTF-8 ALL'), '* SORT 5 3 4 1 2');
  t.equal(await first(s, 'SORT (CC) UTF-8 ALL'), '* SORT 3 5 2 4 1');
  // DISPLAYFROM: the display name if any, else the address: "", ALICE@…, ALICE@…, BRUNO, ZOE MARTIN
  t.equal(await first(s, 'SORT (DISPLAYFROM) UTF-8 ALL'), '* SORT 5 2 4 3 1');
  t.equal(await first(s, 'SORT (DISPLAYTO) UTF-8 ALL'), '* SORT 5 3 4 2 1', '"Aa" before "b@x.fr"');
});

t.test('search criteria, UID SORT, ESORT', async (t) => {
  const { s } = setup(t);
  t.equal(await first(s, 'SORT (DATE) UTF-8 UNSEEN'), '* SORT 5 3 4 1', 'only the messages the search keys select');
  t.equal(await first(s, 'SORT (DATE) US-ASCII SUBJECT sanguin'), '* SORT 3 4 1');
  t.equal(await first(s, 'SORT (ARRIVAL) UTF-8 FROM alice'), '* SORT 2 4');
  t.equal(await first(s, 'SORT (ARRIVAL) UTF-8 SUBJECT nothing-like-this'), '* SORT', 'nothing matches: an empty SORT');
  await s.run('STORE 1 +FLAGS (\\Deleted)');
  await s.run('EXPUNGE');
  t.equal(await first(s, 'SORT (ARRIVAL) UTF-8 ALL'), '* SORT 2 1 3 4', 'sequence numbers after EXPUNGE');
  t.equal(await first(s, 'UID SORT (ARRIVAL) UTF-8 ALL'), '* SORT 3 2 4 5', 'UID SORT answers UIDs');
  t.equal(await first(s, 'SORT RETURN (MIN MAX COUNT) (ARRIVAL) UTF-8 ALL'), '* ESEARCH (TAG "x") MIN 2 MAX 4 COUNT 4', 'MIN/MAX: first and last in sort order');
  t.equal(await first(s, 'SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL'), '* ESEARCH (TAG "x") ALL 4,3,1:2', 'ALL keeps the sort order');
  t.equal(await first(s, 'UID SORT RETURN () (ARRIVAL) UTF-8 ALL'), '* ESEARCH (TAG "x") UID ALL 3,2,4:5');
});

t.test('errors: BAD with a reason, NO [BADCHARSET]', async (t) => {
  const { s } = setup(t);
  t.match(await first(s, 'SORT (FROB) UTF-8 ALL'), /^TAG BAD Unknown sort key FROB/);
  t.match(await first(s, 'SORT (REVERSE) UTF-8 ALL'), /^TAG BAD REVERSE must be followed by a sort key/);
  t.match(await first(s, 'SORT () UTF-8 ALL'), /^TAG BAD SORT needs a list of sort criteria/);
  t.match(await first(s, 'SORT DATE UTF-8 ALL'), /^TAG BAD SORT needs a list of sort criteria/);
  t.match(await first(s, 'SORT (DATE) UTF-8'), /^TAG BAD SEARCH needs a search key/);
  t.match(await first(s, 'SORT (DATE) KOI8-R ALL'), /^TAG NO \[BADCHARSET \(UTF-8 US-ASCII\)\] Unsupported charset KOI8-R/);
});

t.test('messages stored before their index entry are sorted from their header', async (t) => {
  const { db, s } = setup(t);
  db.exec('DELETE FROM body_search_fts; DELETE FROM body_search_folded; DELETE FROM search_forget; DELETE FROM body_search; INSERT OR IGNORE INTO search_pending (hash) SELECT DISTINCT body_hash FROM messages');
  t.equal(await first(s, 'SORT (SUBJECT) UTF-8 ALL'), '* SORT 5 1 3 4 2');
  t.equal(await first(s, 'SORT (DATE) UTF-8 ALL'), '* SORT 5 3 2 4 1');
});
