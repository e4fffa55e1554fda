import t from 'tap';
import { deleteUserMailbox, createUserMailbox, mailboxStatus } from '../../src/store/imap-mailboxes';
import {
  appendToMailbox,
  changesSince,
  claimRecent,
  copyMessages,
  expungedSince,
  expungeMessages,
  fetchMessageKeys,
  fetchMessages,
  flagNames,
  messageIndex,
  moveMessages,
  parseFlags,
  restoreFromTrash,
  storeFlags,
} from '../../src/store/imap-messages';
import { MailboxError } from '../../src/store/mailbox-view';
import { bodyHash, FLAG_BITS, readBody } from '../../src/store/messages';
import { count, freshWorld, mailboxId, PHARMACY, rawMessage, refcount } from './imap-fixtures';

const refusal = (code: MailboxError['code']) => ({ name: 'MailboxError', code });
const SEEN = FLAG_BITS['\\Seen'];
const DELETED = FLAG_BITS['\\Deleted'];
const FLAGGED = FLAG_BITS['\\Flagged'];

t.test('APPEND stores the body once, parses it once, and returns APPENDUID data', async (t) => {
  const { db, jean, marie } = freshWorld(t);
  const sent = mailboxId(db, jean, 'Envoyés');
  const raw = rawMessage('Ordonnance', 'même contenu');
  const first = appendToMailbox(db, sent, raw, ['\\Seen', '\\Recent', '$MDNSent'], Date.UTC(2026, 0, 2), Date.UTC(2026, 0, 3));
  t.match(first, { uid: 1, uidValidity: mailboxStatus(db, sent).uidvalidity });
  const [row] = fetchMessages(db, sent, [1]);
  t.match(row, {
    uid: 1,
    flags: SEEN,
    keywords: ['$MDNSent'],
    internalDate: Date.UTC(2026, 0, 2),
    arrivedAt: Date.UTC(2026, 0, 3),
    size: raw.length,
    bodyHash: bodyHash(raw),
  });
  t.match(row.messageId, /^m\d+\.\d+@chu\.mssante\.fr$/);
  t.equal(JSON.parse(row.envelopeJson).subject, 'Ordonnance');
  t.ok(JSON.parse(row.structureJson));
  t.same(readBody(db, row.bodyHash), raw);
  // The same bytes appended elsewhere share the stored body.
  appendToMailbox(db, mailboxId(db, marie, 'INBOX'), raw);
  t.equal(refcount(db, bodyHash(raw)), 2);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM bodies WHERE hash = ?', bodyHash(raw)), 1);
  t.equal(appendToMailbox(db, sent, rawMessage()).uid, 2);
  t.throws(() => appendToMailbox(db, sent, rawMessage(), ['\\Bogus']), refusal('CANNOT'));
  t.throws(() => appendToMailbox(db, sent, rawMessage(), ['two words']), refusal('CANNOT'));
  t.throws(() => appendToMailbox(db, 999_999, rawMessage()), refusal('NONEXISTENT'));
  t.equal(mailboxStatus(db, sent).messages, 2, 'refused appends left nothing behind');
});

t.test('flag parsing', async (t) => {
  t.same(parseFlags(['\\SEEN', '\\deleted', '\\Recent', 'Junk', 'junk', '$Label1']), {
    bits: SEEN | DELETED,
    keywords: ['Junk', '$Label1'],
  });
  for (const bad of ['\\Whatever', 'a b', 'a(b', 'a]', 'a"', 'a%', 'a*', 'é', '', 'x'.repeat(101)]) {
    t.throws(() => parseFlags([bad]), refusal('CANNOT'), JSON.stringify(bad));
  }
  t.same(flagNames(SEEN | FLAGGED, ['$Label1']), ['\\Seen', '\\Flagged', '$Label1']);
});

t.test('STORE set/add/remove, MODSEQ per command, UNCHANGEDSINCE, newly seen', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const uids = [1, 2, 3].map(() => appendToMailbox(db, inbox, rawMessage()).uid);
  const start = mailboxStatus(db, inbox).highestmodseq;

  const added = storeFlags(db, inbox, uids, 'add', ['\\Seen', '$Important']);
  t.equal(added.changed.length, 3);
  t.ok(added.changed.every((c) => c.modseq === start + 1), 'one new MODSEQ for the command');
  t.same(added.changed[0], { uid: 1, flags: SEEN, keywords: ['$Important'], modseq: start + 1 });
  t.same(added.newlySeen.map((s) => s.uid), [1, 2, 3]);
  t.ok(added.newlySeen.every((s) => s.messageId !== null), 'with the Message-ID for the opening status (R9)');
  t.equal(mailboxStatus(db, inbox).highestmodseq, start + 1);

  const again = storeFlags(db, inbox, uids, 'add', ['\\Seen', '$important']);
  t.same(again.changed, [], 'nothing changes: no new MODSEQ (RFC 7162 3.2)');
  t.equal(again.unchanged.length, 3);
  t.same(again.newlySeen, []);
  t.equal(mailboxStatus(db, inbox).highestmodseq, start + 1);

  const removed = storeFlags(db, inbox, [2], 'remove', ['$IMPORTANT', '\\Seen']);
  t.same(removed.changed, [{ uid: 2, flags: 0, keywords: [], modseq: start + 2 }]);

  const set = storeFlags(db, inbox, [1, 2], 'set', ['\\Flagged', '\\Recent', 'Travail']);
  t.same(set.changed.map((c) => [c.uid, c.flags, c.keywords]), [
    [1, FLAGGED, ['Travail']],
    [2, FLAGGED, ['Travail']],
  ]);
  t.same(set.newlySeen, []);

  // UNCHANGEDSINCE: message 3 last changed at start + 1, messages 1 and 2 at start + 3.
  const conditional = storeFlags(db, inbox, [1, 2, 3], 'add', ['\\Answered'], start + 1);
  t.same(conditional.failedUnchangedSince, [1, 2]);
  t.same(conditional.changed.map((c) => c.uid), [3]);
  t.same(storeFlags(db, inbox, [3], 'add', ['\\Draft'], 0).failedUnchangedSince, [3], 'UNCHANGEDSINCE 0 always fails');

  t.same(storeFlags(db, inbox, [42, 0, -1, 1.5], 'add', ['\\Seen']).changed, [], 'unknown UIDs are ignored');
  t.same(messageIndex(db, inbox).flags[2], SEEN | FLAG_BITS['\\Answered']);
});

t.test('STORE refuses too many keywords without changing anything', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, rawMessage());
  const many = Array.from({ length: 65 }, (_, i) => `k${i}`);
  t.throws(() => storeFlags(db, inbox, [1], 'add', many), refusal('LIMIT'));
  t.same(fetchMessages(db, inbox, [1])[0].keywords, []);
});

t.test('EXPUNGE: only \\Deleted messages, UID EXPUNGE only among the given UIDs', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const raws = [1, 2, 3, 4].map(() => rawMessage());
  for (const raw of raws) appendToMailbox(db, inbox, raw);
  storeFlags(db, inbox, [1, 2, 3], 'add', ['\\Deleted']);
  const before = mailboxStatus(db, inbox).highestmodseq;
  t.same(expungeMessages(db, inbox, [2, 4]), [2], 'UID EXPUNGE 2,4 removes only 2 (4 is not \\Deleted)');
  t.same(expungeMessages(db, inbox), [1, 3]);
  t.same(expungeMessages(db, inbox), []);
  t.same([...messageIndex(db, inbox).uids], [4]);
  t.equal(refcount(db, bodyHash(raws[0])), undefined, 'an unreferenced body is deleted');
  t.equal(refcount(db, bodyHash(raws[3])), 1);
  t.same(expungedSince(db, inbox, before), [1, 2, 3]);
  t.same(expungedSince(db, inbox, before + 1), [1, 3]);
  t.equal(mailboxStatus(db, inbox).highestmodseq, before + 2);
  t.equal(appendToMailbox(db, inbox, rawMessage()).uid, 5, 'UIDs are never reused');
});

t.test('COPY: new UIDs, body references, flags, arrival time kept; COPYUID data', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const folder = createUserMailbox(db, jean, 'Patients').mailboxId;
  appendToMailbox(db, folder, rawMessage());
  const raw = rawMessage();
  appendToMailbox(db, inbox, rawMessage(), [], undefined, 1000);
  appendToMailbox(db, inbox, raw, ['\\Seen', '\\Deleted', 'Travail'], 5000, 6000);
  appendToMailbox(db, inbox, rawMessage(), [], undefined, 7000);
  claimRecent(db, folder);
  const result = copyMessages(db, inbox, [3, 2, 99], folder);
  t.same(result, { uidValidity: mailboxStatus(db, folder).uidvalidity, pairs: [{ srcUid: 2, dstUid: 2 }, { srcUid: 3, dstUid: 3 }] });
  t.equal(refcount(db, bodyHash(raw)), 2);
  t.match(fetchMessages(db, folder, [2])[0], { flags: SEEN | DELETED, keywords: ['Travail'], internalDate: 5000, arrivedAt: 6000 });
  t.same(claimRecent(db, folder), [2, 3], 'copies are \\Recent in the destination');
  t.same(fetchMessages(db, inbox, [2]).length, 1, 'the source is untouched');
  t.throws(() => copyMessages(db, inbox, [2], 999_999), refusal('NONEXISTENT'));
  // Copy into the same mailbox is allowed (RFC 3501 6.4.7 does not forbid it).
  t.same(copyMessages(db, folder, [2], folder).pairs, [{ srcUid: 2, dstUid: 4 }]);
  t.equal(refcount(db, bodyHash(raw)), 3);
});

t.test('MOVE is copy + expunge in one transaction; bodies stay referenced once', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const folder = createUserMailbox(db, jean, 'Patients').mailboxId;
  const raw = rawMessage();
  appendToMailbox(db, inbox, raw);
  appendToMailbox(db, inbox, rawMessage());
  const before = mailboxStatus(db, inbox).highestmodseq;
  const moved = moveMessages(db, inbox, [1], folder);
  t.same(moved.pairs, [{ srcUid: 1, dstUid: 1 }]);
  t.same(moved.expunged, [1]);
  t.equal(refcount(db, bodyHash(raw)), 1);
  t.same([...messageIndex(db, inbox).uids], [2]);
  t.same(expungedSince(db, inbox, before), [1]);
  // A failure half-way leaves both mailboxes as they were.
  const brokenHash = fetchMessages(db, inbox, [2])[0].bodyHash;
  db.prepare('CREATE TEMP TRIGGER fail_copy BEFORE INSERT ON messages WHEN NEW.body_hash = ? BEGIN SELECT RAISE(ABORT, \'disk full\'); END'.replace('?', `'${brokenHash}'`)).run();
  t.throws(() => moveMessages(db, inbox, [2], folder), /disk full/);
  t.same([...messageIndex(db, inbox).uids], [2]);
  t.same([...messageIndex(db, folder).uids], [1]);
  t.equal(refcount(db, brokenHash), 1);
});

t.test('ORG ↔ own: copy and move work in both directions (R6), retention clock kept (R10)', async (t) => {
  const { db, jean, pharmacy } = freshWorld(t);
  const orgInbox = mailboxId(db, jean, `Partagé/${PHARMACY}/INBOX`);
  const own = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, orgInbox, rawMessage(), [], undefined, 1234);
  const toOwn = copyMessages(db, orgInbox, [1], own);
  t.equal(fetchMessages(db, own, [toOwn.pairs[0].dstUid])[0].arrivedAt, 1234);
  const back = moveMessages(db, own, [toOwn.pairs[0].dstUid], orgInbox);
  t.equal(fetchMessages(db, orgInbox, [back.pairs[0].dstUid])[0].arrivedAt, 1234);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ?', pharmacy), 2);
});

t.test('Trash keeps where a message came from and restores it there (R11)', async (t) => {
  const { db, jean } = freshWorld(t);
  const folder = createUserMailbox(db, jean, 'Patients/Martin').mailboxId;
  const other = createUserMailbox(db, jean, 'Temporaire').mailboxId;
  const inbox = mailboxId(db, jean, 'INBOX');
  const trash = mailboxId(db, jean, 'Corbeille');
  appendToMailbox(db, folder, rawMessage());
  appendToMailbox(db, other, rawMessage());
  appendToMailbox(db, inbox, rawMessage());
  const a = moveMessages(db, folder, [1], trash).pairs[0].dstUid;
  const b = moveMessages(db, other, [1], trash).pairs[0].dstUid;
  const c = moveMessages(db, inbox, [1], trash).pairs[0].dstUid;
  const origin = (uid: number) =>
    (db.prepare('SELECT trash_origin AS o FROM messages WHERE mailbox_id = ? AND uid = ?').get(trash, uid) as { o: string | null }).o;
  t.same([origin(a), origin(b), origin(c)], ['Patients/Martin', 'Temporaire', 'INBOX']);
  // Copy within Trash keeps the origin; copy out of Trash clears it.
  const within = copyMessages(db, trash, [a], trash).pairs[0].dstUid;
  t.equal(origin(within), 'Patients/Martin');
  const out = copyMessages(db, trash, [a], other).pairs[0].dstUid;
  t.equal((db.prepare('SELECT trash_origin AS o FROM messages WHERE mailbox_id = ? AND uid = ?').get(other, out) as { o: string | null }).o, null);

  deleteUserMailbox(db, jean, 'Temporaire');
  const restored = restoreFromTrash(db, jean, [a, b, c, 999]);
  t.same(
    restored.map((r) => [r.trashUid, r.mailboxName]),
    [
      [a, 'Patients/Martin'],
      [b, 'INBOX'], // its folder is gone
      [c, 'INBOX'],
    ],
  );
  t.same([...messageIndex(db, folder).uids], [restored[0].uid]);
  t.equal(
    count(db, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id IN (?, ?) AND trash_origin IS NOT NULL', folder, inbox),
    0,
    'restored messages no longer carry an origin',
  );
  t.same([...messageIndex(db, trash).uids], [within], 'only the extra copy is left in Trash');
});

t.test('a copy into Trash from another box carries no origin (its names mean nothing here)', async (t) => {
  const { db, jean, pharmacy } = freshWorld(t);
  const orgInbox = mailboxId(db, jean, `Partagé/${PHARMACY}/INBOX`);
  const trash = mailboxId(db, jean, 'Corbeille');
  appendToMailbox(db, orgInbox, rawMessage());
  const uid = moveMessages(db, orgInbox, [1], trash).pairs[0].dstUid;
  t.same(restoreFromTrash(db, jean, [uid]).map((r) => r.mailboxName), ['INBOX']);
  // From the ORG's Trash to the person's: the ORG folder name is not carried over either.
  const orgFolder = createUserMailbox(db, jean, `Partagé/${PHARMACY}/Ordonnances`).mailboxId;
  const orgTrash = mailboxId(db, jean, `Partagé/${PHARMACY}/Corbeille`);
  appendToMailbox(db, orgFolder, rawMessage());
  const inOrgTrash = moveMessages(db, orgFolder, [1], orgTrash).pairs[0].dstUid;
  const inOwnTrash = moveMessages(db, orgTrash, [inOrgTrash], trash).pairs[0].dstUid;
  t.same(restoreFromTrash(db, jean, [inOwnTrash]).map((r) => r.mailboxName), ['INBOX']);
  // Within the ORG box, its Trash works as a person's does.
  appendToMailbox(db, orgFolder, rawMessage());
  const trashed = moveMessages(db, orgFolder, [2], orgTrash).pairs[0].dstUid;
  t.same(restoreFromTrash(db, pharmacy, [trashed]).map((r) => [r.mailboxName, r.mailboxId]), [['Ordonnances', orgFolder]]);
});

t.test('\\Recent is claimed by one session only (RFC 3501 2.3.2)', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, rawMessage());
  appendToMailbox(db, inbox, rawMessage());
  t.same(claimRecent(db, inbox), [1, 2]);
  t.same(claimRecent(db, inbox), [], 'a second session sees none');
  appendToMailbox(db, inbox, rawMessage());
  t.same(claimRecent(db, inbox), [3]);
  storeFlags(db, inbox, [3], 'add', ['\\Deleted']);
  expungeMessages(db, inbox);
  appendToMailbox(db, inbox, rawMessage());
  t.same(claimRecent(db, inbox), [4]);
});

t.test('changesSince and expungedSince let a session resynchronise', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  for (let i = 0; i < 5; i++) appendToMailbox(db, inbox, rawMessage());
  const mark = mailboxStatus(db, inbox).highestmodseq;
  t.same(changesSince(db, inbox, mark), { changed: [], expunged: [] });
  storeFlags(db, inbox, [2, 4], 'add', ['\\Seen']);
  storeFlags(db, inbox, [5], 'add', ['\\Deleted']);
  expungeMessages(db, inbox);
  appendToMailbox(db, inbox, rawMessage());
  const { changed: changes, expunged } = changesSince(db, inbox, mark);
  t.same(changes.map((c) => [c.uid, c.flags]), [[2, SEEN], [4, SEEN], [6, 0]]);
  t.same(expunged, [5]);
  t.same(expungedSince(db, inbox, mark), [5]);
  const now = mailboxStatus(db, inbox).highestmodseq;
  t.ok(changes.every((c) => c.modseq > mark && c.modseq <= now));
  t.same(changesSince(db, inbox, now), { changed: [], expunged: [] });
  t.same(expungedSince(db, inbox, now), []);
});

t.test('UIDs and MODSEQs only grow', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const folder = createUserMailbox(db, jean, 'Dossier').mailboxId;
  let lastUid = 0;
  let lastModseq = mailboxStatus(db, inbox).highestmodseq;
  const check = (what: string) => {
    const status = mailboxStatus(db, inbox);
    t.ok(status.highestmodseq > lastModseq, `${what}: HIGHESTMODSEQ grew`);
    t.ok(status.uidnext > lastUid, `${what}: UIDNEXT above every UID given`);
    lastModseq = status.highestmodseq;
  };
  lastUid = appendToMailbox(db, inbox, rawMessage()).uid;
  check('append');
  storeFlags(db, inbox, [lastUid], 'add', ['\\Deleted']);
  check('store');
  expungeMessages(db, inbox);
  check('expunge');
  appendToMailbox(db, folder, rawMessage());
  const moved = moveMessages(db, folder, [1], inbox);
  t.ok(moved.pairs[0].dstUid > lastUid, 'a moved-in message gets a fresh UID');
  lastUid = moved.pairs[0].dstUid;
  check('move in');
});

t.test('messageIndex of a 100 000-message mailbox', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const total = 100_000;
  const hash = 'f'.repeat(64);
  db.transaction(() => {
    db.prepare(`INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES (?, 1, ?, x'41', 0)`).run(hash, total);
    const insert = db.prepare(
      `INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, arrived_at, size, body_hash, envelope, structure)
       VALUES (?, ?, ?, ?, ?, 0, 0, 1, ?, '{}', '{}')`,
    );
    // UIDs with gaps (every third one missing), inserted in a scrambled order.
    for (let i = 0; i < total; i++) {
      const n = (i * 7919) % total;
      const uid = n + Math.floor(n / 2) + 1;
      insert.run(inbox, uid, n + 2, n % 32, n % 1000 === 0 ? '$Label1 Travail' : '', hash);
    }
    db.prepare('UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?').run(total * 2, total + 2, inbox);
  })();
  const index = messageIndex(db, inbox);
  t.equal(index.uids.length, total);
  t.equal(index.flags.length, total);
  t.equal(index.keywords.length, total);
  t.equal(index.modseqs.length, total);
  let sorted = true;
  let consistent = true;
  for (let n = 0; n < total; n++) {
    if (n > 0 && index.uids[n] <= index.uids[n - 1]) sorted = false;
    const expectedUid = n + Math.floor(n / 2) + 1;
    if (
      index.uids[n] !== expectedUid ||
      index.flags[n] !== n % 32 ||
      index.modseqs[n] !== n + 2 ||
      index.keywords[n].length !== (n % 1000 === 0 ? 2 : 0)
    ) {
      consistent = false;
    }
  }
  t.ok(sorted, 'ascending UIDs');
  t.ok(consistent, 'each position carries its own flags, keywords and MODSEQ');
  t.same(index.keywords[1000], ['$Label1', 'Travail']);
  t.match(mailboxStatus(db, inbox), { messages: total, unseen: total / 2 });
  t.equal(fetchMessages(db, inbox, Array.from(index.uids.subarray(0, 5000))).length, 5000, 'FETCH of many UIDs at once');
});

t.test('fetchMessageKeys: the messages asked for, whether their UIDs are close together or far apart', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const other = mailboxId(db, jean, 'Envoyés');
  for (let i = 1; i <= 40; i++) appendToMailbox(db, inbox, rawMessage(`Message ${i}`), [], Date.UTC(2026, 0, 1) + i * 1000);
  appendToMailbox(db, other, rawMessage('Ailleurs'), [], Date.UTC(2026, 0, 2));
  expungeMessages(db, inbox, [5]);
  const full = new Map(fetchMessages(db, inbox, Array.from({ length: 40 }, (_, i) => i + 1)).map((row) => [row.uid, row]));
  const expected = (uids: number[]) =>
    [...new Set(uids)]
      .filter((uid) => full.has(uid))
      .sort((a, b) => a - b)
      .map((uid) => {
        const row = full.get(uid)!;
        return { uid, internalDate: row.internalDate, size: row.size, bodyHash: row.bodyHash };
      });
  const cases: Array<[string, number[]]> = [
    ['a contiguous range', Array.from({ length: 20 }, (_, i) => i + 1)],
    ['a range with an expunged UID in it', [3, 4, 5, 6, 7]],
    ['close UIDs with gaps not asked for', [2, 4, 6, 8, 10, 12]],
    ['out of order', [9, 7, 8, 1]],
    ['far apart (the JSON list)', [1, 40]],
    ['a UID past the last', [39, 40, 41, 42]],
    ['one', [17]],
    ['none', []],
  ];
  for (const [name, uids] of cases) t.same(fetchMessageKeys(db, inbox, uids), expected(uids), name);
  t.same(fetchMessageKeys(db, inbox, [1]).map((row) => row.uid), [1], 'UID 1 of another mailbox is not taken');
  t.same(fetchMessageKeys(db, other, [1, 2, 3]).map((row) => row.bodyHash), [fetchMessages(db, other, [1])[0].bodyHash]);
});
