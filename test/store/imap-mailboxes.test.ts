import t from 'tap';
import {
  createUserMailbox,
  deleteUserMailbox,
  mailboxStatus,
  MAX_MAILBOXES_PER_BOX,
  renameUserMailbox,
  setMailboxSubscribed,
} from '../../src/store/imap-mailboxes';
import {
  appendToMailbox,
  claimRecent,
  copyMessages,
  expungedSince,
  fetchMessages,
  messageIndex,
  restoreFromTrash,
  storeFlags,
} from '../../src/store/imap-messages';
import { listMailboxes, MailboxError, resolveMailbox } from '../../src/store/mailbox-view';
import { count, freshWorld, LAB, mailboxId, PHARMACY, rawMessage } from './imap-fixtures';

const refusal = (code: MailboxError['code']) => ({ name: 'MailboxError', code });

t.test('CREATE makes the missing parents and refuses existing names', async (t) => {
  const { db, jean } = freshWorld(t);
  const created = createUserMailbox(db, jean, 'Patients/Martin/2026/');
  t.equal(created.viewName, 'Patients/Martin/2026');
  t.same(created.created, ['Patients', 'Patients/Martin', 'Patients/Martin/2026']);
  t.equal(resolveMailbox(db, jean, 'Patients/Martin/2026')?.mailboxId, created.mailboxId);
  t.same(createUserMailbox(db, jean, 'Patients/Durand').created, ['Patients/Durand'], 'existing parents are reused');
  t.throws(() => createUserMailbox(db, jean, 'Patients'), refusal('ALREADYEXISTS'));
  t.throws(() => createUserMailbox(db, jean, 'inbox'), refusal('ALREADYEXISTS'), 'INBOX in any case');
  t.throws(() => createUserMailbox(db, jean, 'Corbeille'), refusal('ALREADYEXISTS'));
  t.same(createUserMailbox(db, jean, 'inbox/Tri').viewName, 'INBOX/Tri', 'children of INBOX are allowed');
  t.same(createUserMailbox(db, jean, 'corbeille').viewName, 'corbeille', 'other names are case-sensitive');
});

t.test('CREATE refuses bad names and the shared namespace outside linked ORG boxes', async (t) => {
  const { db, jean, marie, pharmacy } = freshWorld(t);
  for (const bad of ['', '../x', 'a//b', 'a*', 'a%b', 'x\u0000', '/x']) {
    t.throws(() => createUserMailbox(db, jean, bad), refusal('CANNOT'), JSON.stringify(bad));
  }
  t.throws(() => createUserMailbox(db, jean, 'Partagé'), refusal('CANNOT'));
  t.throws(() => createUserMailbox(db, jean, `Partagé/${PHARMACY}`), refusal('CANNOT'));
  t.throws(() => createUserMailbox(db, jean, 'partagé/mes trucs'), refusal('CANNOT'), 'the prefix in another case');
  t.throws(() => createUserMailbox(db, jean, `Partagé/${LAB}/Piratage`), refusal('NONEXISTENT'));
  t.throws(() => createUserMailbox(db, jean, 'Partagé/nobody@x.mssante.fr/a'), refusal('NONEXISTENT'));
  t.throws(() => createUserMailbox(db, marie, `Partagé/${PHARMACY}/Piratage`), refusal('NONEXISTENT'));
  t.throws(() => createUserMailbox(db, jean, 'Partagé/marie.curie@x.mssante.fr/INBOX/x'), refusal('NONEXISTENT'));
  t.throws(() => createUserMailbox(db, jean, 'x'.repeat(256)), refusal('CANNOT'));
  // Members create folders in the ORG box (R6).
  const created = createUserMailbox(db, jean, `Partagé/${PHARMACY}/Ordonnances/2026`);
  t.same(created.created, [`Partagé/${PHARMACY}/Ordonnances`, `Partagé/${PHARMACY}/Ordonnances/2026`]);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM mailboxes WHERE account_id = ? AND name = ?', pharmacy, 'Ordonnances/2026'), 1);
});

t.test('CREATE stops at the per-box limit', async (t) => {
  const { db, jean } = freshWorld(t);
  const insert = db.prepare(
    `INSERT INTO mailboxes (account_id, name, uidvalidity, created_at) VALUES (?, ?, ?, 0)`,
  );
  db.transaction(() => {
    for (let i = 4; i < MAX_MAILBOXES_PER_BOX; i++) insert.run(jean, `f${i}`, 1_000_000 + i);
  })();
  t.throws(() => createUserMailbox(db, jean, 'one/too/many'), refusal('LIMIT'));
});

t.test('UIDVALIDITY differs after delete and re-create; ids are never reused', async (t) => {
  const { db, jean } = freshWorld(t);
  const first = createUserMailbox(db, jean, 'Dossiers');
  const firstStatus = mailboxStatus(db, first.mailboxId);
  const inbox = mailboxId(db, jean, 'Dossiers');
  appendToMailbox(db, inbox, rawMessage());
  deleteUserMailbox(db, jean, 'Dossiers');
  const second = createUserMailbox(db, jean, 'Dossiers');
  t.not(second.mailboxId, first.mailboxId, 'a new id');
  const secondStatus = mailboxStatus(db, second.mailboxId);
  t.ok(secondStatus.uidvalidity > firstStatus.uidvalidity, 'a greater UIDVALIDITY (RFC 3501 2.3.1.1)');
  t.equal(secondStatus.uidnext, 1);
  t.same(expungedSince(db, second.mailboxId, 0), [], 'no expunge history in the new one');
  // Many creations within one second still get distinct, growing values.
  const values = ['a', 'b', 'c', 'd'].map((name) => mailboxStatus(db, createUserMailbox(db, jean, name).mailboxId).uidvalidity);
  t.same([...values].sort((x, y) => x - y), values);
  t.equal(new Set(values).size, values.length);
});

t.test('DELETE moves the messages to INBOX (R11) and refuses INBOX and special folders', async (t) => {
  const { db, jean } = freshWorld(t);
  const folder = createUserMailbox(db, jean, 'Patients').mailboxId;
  createUserMailbox(db, jean, 'Patients/Martin');
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, rawMessage('déjà là'));
  const a = appendToMailbox(db, folder, rawMessage('a'), ['\\Seen', '$Important'], 1_700_000_000_000, 1_700_000_100_000);
  const b = appendToMailbox(db, folder, rawMessage('b'), ['\\Flagged'], undefined, 1_700_000_200_000);
  const deleted = deleteUserMailbox(db, jean, 'Patients');
  t.equal(deleted.inboxMailboxId, inbox);
  t.same(deleted.moved.pairs, [
    { srcUid: a.uid, dstUid: 2 },
    { srcUid: b.uid, dstUid: 3 },
  ]);
  t.same(deleted.moved.expunged, [a.uid, b.uid], 'expunge records for sessions that had it selected');
  t.same(expungedSince(db, folder, 0), [a.uid, b.uid]);
  const moved = fetchMessages(db, inbox, [2, 3]);
  t.match(moved, [
    { uid: 2, flags: 1, keywords: ['$Important'], internalDate: 1_700_000_000_000, arrivedAt: 1_700_000_100_000 },
    { uid: 3, flags: 4, arrivedAt: 1_700_000_200_000 },
  ]);
  t.equal(resolveMailbox(db, jean, 'Patients'), null);
  t.ok(resolveMailbox(db, jean, 'Patients/Martin'), 'children are kept');
  t.throws(() => deleteUserMailbox(db, jean, 'Patients'), refusal('NONEXISTENT'), 'a Noselect node cannot be deleted');
  t.throws(() => deleteUserMailbox(db, jean, 'INBOX'), refusal('CANNOT'));
  t.throws(() => deleteUserMailbox(db, jean, 'inbox'), refusal('CANNOT'));
  for (const special of ['Corbeille', 'Envoyés', 'Brouillons']) {
    t.throws(() => deleteUserMailbox(db, jean, special), refusal('CANNOT'), special);
  }
  t.throws(() => deleteUserMailbox(db, jean, 'Nulle part'), refusal('NONEXISTENT'));
});

t.test('DELETE in an ORG box moves to the ORG INBOX; unlinked persons cannot', async (t) => {
  const { db, jean, marie, pharmacy } = freshWorld(t);
  const folder = createUserMailbox(db, jean, `Partagé/${PHARMACY}/Ordonnances`).mailboxId;
  appendToMailbox(db, folder, rawMessage());
  t.throws(() => deleteUserMailbox(db, marie, `Partagé/${PHARMACY}/Ordonnances`), refusal('NONEXISTENT'));
  const deleted = deleteUserMailbox(db, jean, `Partagé/${PHARMACY}/Ordonnances`);
  t.equal(deleted.inboxMailboxId, mailboxId(db, jean, `Partagé/${PHARMACY}/INBOX`));
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ?', pharmacy), 1);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ?', jean), 0);
});

t.test('RENAME moves children, keeps the row, its UIDVALIDITY and special use', async (t) => {
  const { db, jean } = freshWorld(t);
  const patients = createUserMailbox(db, jean, 'Patients/Martin').mailboxId;
  const parent = mailboxId(db, jean, 'Patients');
  const before = mailboxStatus(db, patients);
  const uid = appendToMailbox(db, patients, rawMessage()).uid;
  const result = renameUserMailbox(db, jean, 'Patients', 'Archives/Patients');
  t.same(result.created, ['Archives']);
  t.same(
    result.renamed.map(({ mailboxId, from, to }) => ({ mailboxId, from, to })),
    [
      { mailboxId: parent, from: 'Patients', to: 'Archives/Patients' },
      { mailboxId: patients, from: 'Patients/Martin', to: 'Archives/Patients/Martin' },
    ],
  );
  t.equal(resolveMailbox(db, jean, 'Archives/Patients/Martin')?.mailboxId, patients, 'same row');
  t.equal(mailboxStatus(db, patients).uidvalidity, before.uidvalidity, 'same UIDVALIDITY');
  t.same([...messageIndex(db, patients).uids], [uid], 'same UIDs');
  t.equal(resolveMailbox(db, jean, 'Patients'), null);

  const trash = renameUserMailbox(db, jean, 'Corbeille', 'Poubelle');
  t.equal(resolveMailbox(db, jean, 'Poubelle')?.specialUse, '\\Trash', 'special use follows the row');
  t.equal(trash.renamed[0].to, 'Poubelle');

  t.throws(() => renameUserMailbox(db, jean, 'Archives', 'Archives/Sous'), refusal('CANNOT'), 'into itself');
  t.throws(() => renameUserMailbox(db, jean, 'Archives', 'Envoyés'), refusal('ALREADYEXISTS'));
  t.throws(() => renameUserMailbox(db, jean, 'Archives', 'INBOX'), refusal('ALREADYEXISTS'));
  t.throws(() => renameUserMailbox(db, jean, 'Nulle part', 'Ailleurs'), refusal('NONEXISTENT'));
  t.throws(() => renameUserMailbox(db, jean, 'Archives', `Partagé/${PHARMACY}/Archives`), refusal('CANNOT'), 'not across boxes');
  t.throws(() => renameUserMailbox(db, jean, `Partagé/${PHARMACY}/INBOX`, 'Volé'), refusal('CANNOT'));
  t.throws(() => renameUserMailbox(db, jean, 'Archives', 'Partagé'), refusal('CANNOT'));
});

t.test('RENAME to a name that once had a higher UIDVALIDITY gets a greater one', async (t) => {
  const { db, jean } = freshWorld(t);
  const old = createUserMailbox(db, jean, 'Ancien').mailboxId; // created first: lower UIDVALIDITY
  const gone = createUserMailbox(db, jean, 'Cible').mailboxId;
  const goneValidity = mailboxStatus(db, gone).uidvalidity;
  deleteUserMailbox(db, jean, 'Cible');
  const result = renameUserMailbox(db, jean, 'Ancien', 'Cible');
  t.ok(result.renamed[0].uidValidity > goneValidity);
  t.equal(mailboxStatus(db, old).uidvalidity, result.renamed[0].uidValidity);
});

t.test('RENAME of INBOX moves its messages to a new mailbox and leaves INBOX empty', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const sub = createUserMailbox(db, jean, 'INBOX/Tri').mailboxId;
  appendToMailbox(db, sub, rawMessage());
  const uids = [appendToMailbox(db, inbox, rawMessage()).uid, appendToMailbox(db, inbox, rawMessage()).uid];
  const result = renameUserMailbox(db, jean, 'inbox', 'Ancienne boîte');
  t.ok(result.inbox);
  t.same(result.created, ['Ancienne boîte']);
  t.same(result.inbox!.moved.pairs.map((pair) => pair.srcUid), uids);
  t.equal(mailboxStatus(db, inbox).messages, 0);
  t.equal(mailboxStatus(db, inbox).uidnext, 3, 'INBOX keeps its UIDNEXT: old UIDs never come back');
  t.equal(mailboxStatus(db, result.inbox!.mailboxId).messages, 2);
  t.equal(resolveMailbox(db, jean, 'INBOX')?.mailboxId, inbox);
  t.equal(resolveMailbox(db, jean, 'INBOX/Tri')?.mailboxId, sub, 'children of INBOX are unaffected');
  t.equal(mailboxStatus(db, sub).messages, 1);
});

t.test('RENAME keeps the Trash origins pointing at the renamed folder (R11)', async (t) => {
  const { db, jean } = freshWorld(t);
  const folder = createUserMailbox(db, jean, 'Patients/Martin').mailboxId;
  const trash = mailboxId(db, jean, 'Corbeille');
  const uid = appendToMailbox(db, folder, rawMessage()).uid;
  const [{ dstUid }] = copyMessages(db, folder, [uid], trash).pairs;
  renameUserMailbox(db, jean, 'Patients', 'Suivi');
  const [restored] = restoreFromTrash(db, jean, [dstUid]);
  t.equal(restored.mailboxName, 'Suivi/Martin');
  t.equal(restored.mailboxId, folder);
});

t.test('RENAME inside an ORG box', async (t) => {
  const { db, jean, secretary } = freshWorld(t);
  createUserMailbox(db, jean, `Partagé/${PHARMACY}/Ordonnances`);
  const result = renameUserMailbox(db, secretary, `Partagé/${PHARMACY}/Ordonnances`, `Partagé/${PHARMACY.toUpperCase()}/Prescriptions`);
  t.same(result.renamed.map((r) => r.to), [`Partagé/${PHARMACY}/Prescriptions`]);
  t.ok(resolveMailbox(db, jean, `Partagé/${PHARMACY}/Prescriptions`));
});

t.test('SUBSCRIBE: own mailboxes by name, ORG mailboxes per member', async (t) => {
  const { db, jean, secretary } = freshWorld(t);
  const subscribed = (user: number, name: string) =>
    listMailboxes(db, user, { withSubscribedNames: true }).find((e) => e.name === name)?.subscribed;
  t.equal(subscribed(jean, 'INBOX'), true, 'the default folders are subscribed with the account');
  t.equal(subscribed(jean, 'Envoyés'), true);
  createUserMailbox(db, jean, 'Patients');
  t.equal(subscribed(jean, 'Patients'), false, 'CREATE does not subscribe (RFC 3501 section 6.3.3)');
  setMailboxSubscribed(db, jean, 'Patients', true);
  t.equal(subscribed(jean, 'Patients'), true);
  deleteUserMailbox(db, jean, 'Patients');
  t.equal(subscribed(jean, 'Patients'), true, 'the subscription outlives the mailbox (RFC 9051 section 6.3.7)');
  createUserMailbox(db, jean, 'Patients');
  t.equal(subscribed(jean, 'Patients'), true, 'and holds for a new mailbox of that name');
  renameUserMailbox(db, jean, 'Patients', 'Suivi');
  t.equal(subscribed(jean, 'Patients'), true, 'RENAME keeps the old name subscribed');
  t.equal(subscribed(jean, 'Suivi'), true, 'and subscribes the new name');
  setMailboxSubscribed(db, jean, 'Patients', false);
  t.equal(subscribed(jean, 'Patients'), undefined, 'a name without mailbox can be unsubscribed');

  const shared = `Partagé/${PHARMACY}/INBOX`;
  t.equal(subscribed(jean, shared), true);
  setMailboxSubscribed(db, jean, shared, false);
  t.equal(subscribed(jean, shared), false);
  t.equal(subscribed(secretary, shared), true, "one member's choice is not the other's");
  t.throws(() => setMailboxSubscribed(db, jean, 'Nulle part', true), refusal('NONEXISTENT'));
  t.throws(() => setMailboxSubscribed(db, jean, `Partagé/${LAB}/INBOX`, true), refusal('NONEXISTENT'));
});

t.test('STATUS counts and recent', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const empty = mailboxStatus(db, inbox);
  t.match(empty, { messages: 0, recent: 0, unseen: 0, uidnext: 1, highestmodseq: 1 });
  const uids = [1, 2, 3, 4].map(() => appendToMailbox(db, inbox, rawMessage()).uid);
  storeFlags(db, inbox, [uids[0], uids[1]], 'add', ['\\Seen']);
  const status = mailboxStatus(db, inbox);
  t.match(status, { messages: 4, recent: 4, unseen: 2, uidnext: 5, uidvalidity: empty.uidvalidity });
  t.ok(status.highestmodseq > empty.highestmodseq);
  claimRecent(db, inbox);
  t.equal(mailboxStatus(db, inbox).recent, 0);
  t.throws(() => mailboxStatus(db, 999_999), refusal('NONEXISTENT'));
});
