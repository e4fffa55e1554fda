// setFlags (src/store/flags.ts): the one entry point of STORE and of FETCH's implicit \Seen. The
// flags, the R9 opening of the box that owns the mailbox, the status keywords on the sender's
// Sent copy and the opening notice are committed together, and what changed comes back for the
// caller to announce.
import t from 'tap';
import type { Db } from '../../src/store/database';
import { setFlags } from '../../src/store/flags';
import { appendToMailbox, fetchMessages } from '../../src/store/imap-messages';
import { listNotices } from '../../src/store/notices';
import { OPENED_ALL, OPENED_SOME, openingStatus } from '../../src/store/openings';
import { freshWorld, mailboxId, PHARMACY } from './imap-fixtures';

const MESSAGE_ID = '<cr-42@x.mssante.fr>';

function message(messageId: string | null): Buffer {
  return Buffer.from(
    [
      'From: Jean Dupont <jean.dupont@hopital.fr>',
      `To: marie.curie@hopital.fr, ${PHARMACY}, dr.remote@ch-autre.mssante.fr`,
      'Subject: Compte rendu',
      ...(messageId === null ? [] : [`Message-ID: ${messageId}`]),
      'Date: Mon, 1 Jun 2026 10:00:00 +0200',
      '',
      'Corps',
      '',
    ].join('\r\n'),
  );
}

/**
 * Jean (who asked to be told of openings) sent one message through submission to Marie, to the
 * pharmacy (an ORG box the secretary works in) and to a doctor of another operator; his Sent
 * folder and both local INBOXes hold a copy.
 */
function sentMessage(t: Parameters<typeof freshWorld>[0]) {
  const world = freshWorld(t);
  const { db, jean, marie, pharmacy, secretary } = world;
  db.prepare('UPDATE accounts SET notify_opening = 1 WHERE id = ?').run(jean);
  const delivery = Number(
    db
      .prepare(
        `INSERT INTO deliveries (queue_id, source, received_at, auth_login, mail_from, message_id, size)
         VALUES ('Q1', 'submission', 1000, 'jean.dupont@hopital.fr', 'jean.dupont@hopital.fr', ?, 100)`,
      )
      .run(MESSAGE_ID).lastInsertRowid,
  );
  const recipient = db.prepare('INSERT INTO delivery_recipients (delivery_id, address, account_id, outcome) VALUES (?, ?, ?, ?)');
  recipient.run(delivery, 'marie.curie@hopital.fr', marie, 'delivered');
  recipient.run(delivery, PHARMACY, pharmacy, 'delivered');
  recipient.run(delivery, 'dr.remote@ch-autre.mssante.fr', null, 'queued');

  const sent = mailboxId(db, jean, 'Envoyés');
  const marieInbox = mailboxId(db, marie, 'INBOX');
  const pharmacyInbox = mailboxId(db, secretary, `Partagé/${PHARMACY}/INBOX`);
  const copy = (mailbox: number) => appendToMailbox(db, mailbox, message(MESSAGE_ID), ['\\Seen'].filter(() => mailbox === sent)).uid;
  return { ...world, sent, sentUid: copy(sent), marieInbox, marieUid: copy(marieInbox), pharmacyInbox, pharmacyUid: copy(pharmacyInbox) };
}

const keywordsOf = (db: Db, mailbox: number, uid: number) => fetchMessages(db, mailbox, [uid])[0].keywords;

t.test('a first \\Seen records the opening and marks the sender\'s Sent copy, in the same call', async (t) => {
  const w = sentMessage(t);
  const change = setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'], now: 5_000 });

  t.same(change.changed.map((state) => state.uid), [w.marieUid]);
  t.same(change.openingFailures, []);
  t.same(change.effects.mailboxes.sort(), [w.marieInbox, w.sent].sort(), 'her INBOX and Jean\'s Sent folder changed');
  t.equal(change.effects.notices, false, 'not everyone opened it yet');
  const status = openingStatus(w.db, MESSAGE_ID)!;
  t.equal(status.status, 'some');
  t.same(status.local.find((rcpt) => rcpt.accountId === w.marie)?.openedAt, 5_000);
  t.same(keywordsOf(w.db, w.sent, w.sentUid), [OPENED_SOME]);
});

t.test('a member reading in an ORG box opens it for the ORG box; the last opening queues one notice', async (t) => {
  const w = sentMessage(t);
  setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'], now: 5_000 });
  const change = setFlags(w.db, { mailboxId: w.pharmacyInbox, uids: [w.pharmacyUid], mode: 'set', flags: ['\\Seen', '\\Flagged'], now: 6_000 });

  t.same(change.effects.mailboxes.sort(), [w.pharmacyInbox, w.sent].sort());
  t.equal(change.effects.notices, true);
  const status = openingStatus(w.db, MESSAGE_ID)!;
  t.equal(status.status, 'all', 'remote recipients do not count');
  t.equal(status.local.find((rcpt) => rcpt.accountId === w.pharmacy)?.openedAt, 6_000, 'the opening is the ORG box\'s');
  t.equal(status.local.find((rcpt) => rcpt.accountId === w.secretary), undefined, 'not the secretary\'s');
  t.same(keywordsOf(w.db, w.sent, w.sentUid), [OPENED_ALL], '"some" became "all"');
  const notices = listNotices(w.db, { accountId: w.jean, kind: 'opening' });
  t.equal(notices.length, 1);
  t.equal(notices[0].recipient, 'jean.dupont@hopital.fr');
});

t.test('only the first \\Seen is an opening; other flags announce their own mailbox only', async (t) => {
  const w = sentMessage(t);
  setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'], now: 5_000 });
  setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'remove', flags: ['\\Seen'] });
  const again = setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'], now: 9_000 });
  t.same(again.effects, { mailboxes: [w.marieInbox], notices: false });
  t.equal(openingStatus(w.db, MESSAGE_ID)!.local.find((rcpt) => rcpt.accountId === w.marie)?.openedAt, 5_000);

  const nothing = setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'] });
  t.same(nothing.changed, []);
  t.same(nothing.effects, { mailboxes: [], notices: false }, 'a STORE that changes nothing wakes nobody');
});

t.test('a message without Message-ID changes flags without any opening', async (t) => {
  const w = sentMessage(t);
  const uid = appendToMailbox(w.db, w.marieInbox, message(null)).uid;
  const change = setFlags(w.db, { mailboxId: w.marieInbox, uids: [uid], mode: 'add', flags: ['\\Seen'] });
  t.same(change.changed.map((state) => state.uid), [uid]);
  t.same(change.effects, { mailboxes: [w.marieInbox], notices: false });
  t.equal(openingStatus(w.db, MESSAGE_ID)!.status, 'none');
});

t.test('UNCHANGEDSINCE failures come back and record nothing (RFC 7162 section 3.1.3)', async (t) => {
  const w = sentMessage(t);
  const change = setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'], unchangedSince: 0 });
  t.same(change.failedUnchangedSince, [w.marieUid]);
  t.same(change.changed, []);
  t.equal(openingStatus(w.db, MESSAGE_ID)!.status, 'none');
});

t.test('when telling the sender fails, the flags and the opening stand and the failure is returned', async (t) => {
  const w = sentMessage(t);
  setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'], now: 5_000 });
  w.db.exec(`CREATE TEMP TRIGGER no_notices BEFORE INSERT ON notices BEGIN SELECT RAISE(ABORT, 'notices unavailable'); END`);
  const change = setFlags(w.db, { mailboxId: w.pharmacyInbox, uids: [w.pharmacyUid], mode: 'add', flags: ['\\Seen'], now: 6_000 });

  t.same(change.changed.map((state) => state.uid), [w.pharmacyUid]);
  t.equal(change.openingFailures.length, 1);
  t.equal(change.openingFailures[0].stage, 'follow-up');
  t.equal(change.openingFailures[0].messageId, 'cr-42@x.mssante.fr', 'the Message-ID as the message row holds it');
  t.match(String(change.openingFailures[0].error), /notices unavailable/);
  t.same(change.effects, { mailboxes: [w.pharmacyInbox], notices: false }, 'the Sent copy was not changed after all');
  t.equal(openingStatus(w.db, MESSAGE_ID)!.status, 'all', 'the opening itself is recorded');
  t.same(keywordsOf(w.db, w.sent, w.sentUid), [OPENED_SOME], 'the Sent copy change rolled back with the notice');
  t.same(listNotices(w.db, { kind: 'opening' }), []);
});

t.test('when the opening cannot be recorded, the flags are stored all the same', async (t) => {
  const w = sentMessage(t);
  w.db.exec(`CREATE TEMP TRIGGER no_openings BEFORE INSERT ON openings BEGIN SELECT RAISE(ABORT, 'openings unavailable'); END`);
  const change = setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen'] });
  t.same(change.changed.map((state) => state.uid), [w.marieUid]);
  t.equal(change.openingFailures[0]?.stage, 'record');
  t.same(change.effects, { mailboxes: [w.marieInbox], notices: false });
  t.ok(fetchMessages(w.db, w.marieInbox, [w.marieUid])[0].flags & 1, '\\Seen is stored');
  t.equal(openingStatus(w.db, MESSAGE_ID)!.status, 'none');
});

t.test('a refused flag changes nothing (the whole call is one transaction)', async (t) => {
  const w = sentMessage(t);
  t.throws(() => setFlags(w.db, { mailboxId: w.marieInbox, uids: [w.marieUid], mode: 'add', flags: ['\\Seen', '\\Bogus'] }));
  t.notOk(fetchMessages(w.db, w.marieInbox, [w.marieUid])[0].flags & 1);
  t.equal(openingStatus(w.db, MESSAGE_ID)!.status, 'none');
});
