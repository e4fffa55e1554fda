import t from 'tap';
import { setAccountStatus } from '../../src/store/accounts';
import { removeOrgMember } from '../../src/store/org-members';
import { createUserMailbox, deleteUserMailbox } from '../../src/store/imap-mailboxes';
import {
  canAccessMailbox,
  listMailboxes,
  listPatternMatcher,
  mailboxNameLevels,
  mailboxCounters,
  resolveMailbox,
  sessionCounters,
  SHARED_NAMESPACE_PREFIX,
} from '../../src/store/mailbox-view';
import { credentialChanges } from '../../src/store/devices';
import { appendToMailbox } from '../../src/store/imap-messages';
import { freshWorld, LAB, PHARMACY } from './imap-fixtures';

t.test('own mailboxes resolve at the root; INBOX is case-insensitive', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = resolveMailbox(db, jean, 'INBOX');
  t.ok(inbox);
  t.equal(inbox!.ownerAccountId, jean);
  t.equal(inbox!.isShared, false);
  t.equal(inbox!.viewName, 'INBOX');
  for (const spelling of ['inbox', 'Inbox', 'iNbOx']) t.equal(resolveMailbox(db, jean, spelling)?.mailboxId, inbox!.mailboxId, spelling);
  t.equal(resolveMailbox(db, jean, 'Corbeille')?.specialUse, '\\Trash');
  t.equal(resolveMailbox(db, jean, 'Envoyés')?.specialUse, '\\Sent');
  t.equal(resolveMailbox(db, jean, 'Brouillons')?.specialUse, '\\Drafts');
  t.equal(resolveMailbox(db, jean, 'corbeille'), null, 'other names are case-sensitive');
  // The same name typed in decomposed form (as macOS clients send it) is the same mailbox.
  t.equal(resolveMailbox(db, jean, 'Envoye\u0301s')?.mailboxId, resolveMailbox(db, jean, 'Envoyés')?.mailboxId);
});

t.test('ORG mailboxes appear under Partagé/<ORG address>/ for linked persons only', async (t) => {
  const { db, jean, marie, secretary, pharmacy } = freshWorld(t);
  const shared = resolveMailbox(db, jean, `${SHARED_NAMESPACE_PREFIX}${PHARMACY}/INBOX`);
  t.ok(shared);
  t.equal(shared!.ownerAccountId, pharmacy);
  t.equal(shared!.isShared, true);
  t.equal(shared!.ownerName, 'INBOX');
  t.equal(shared!.viewName, `Partagé/${PHARMACY}/INBOX`);
  t.equal(resolveMailbox(db, secretary, `Partagé/${PHARMACY}/INBOX`)?.mailboxId, shared!.mailboxId, 'a MED secretary too');
  t.equal(resolveMailbox(db, jean, `Partagé/${PHARMACY.toUpperCase()}/inbox`)?.mailboxId, shared!.mailboxId, 'address and INBOX in any case');
  t.equal(resolveMailbox(db, marie, `Partagé/${PHARMACY}/INBOX`), null, 'not a member');
  t.equal(resolveMailbox(db, jean, `Partagé/${LAB}/INBOX`), null, 'an ORG Jean is not linked to');
  t.ok(canAccessMailbox(db, jean, shared!.mailboxId));
  t.notOk(canAccessMailbox(db, marie, shared!.mailboxId));
});

t.test('hostile names never reach another account', async (t) => {
  const { db, jean, marie } = freshWorld(t);
  const marieInbox = resolveMailbox(db, marie, 'INBOX')!.mailboxId;
  const hostile = [
    '',
    '/',
    '/INBOX',
    'INBOX/',
    '../INBOX',
    'INBOX/../Corbeille',
    './INBOX',
    '..',
    'INBOX//x',
    '%',
    '*',
    'INB%',
    'INBOX*',
    'Partagé',
    'Partagé/',
    `Partagé/${PHARMACY}`,
    `Partagé/${PHARMACY}/`,
    'Partagé/marie.curie@x.mssante.fr/INBOX',
    'Partagé/marie.curie@hopital.fr/INBOX',
    'Partagé/jean.dupont@x.mssante.fr/INBOX',
    `Partagé/${LAB}/INBOX`,
    `Partagé/${PHARMACY}/../../marie.curie@x.mssante.fr/INBOX`,
    `Partagé/%/INBOX`,
    `Partagé/*/INBOX`,
    'partagé/pharmacie@x.mssante.fr/INBOX',
    'marie.curie@x.mssante.fr/INBOX',
    'INBOX\u0000',
    'INBOX\r\nA1 LOGOUT',
    ' INBOX',
    'x'.repeat(10_000),
    'a/'.repeat(40) + 'b',
  ];
  for (const name of hostile) {
    const resolved = resolveMailbox(db, jean, name);
    t.ok(resolved === null || resolved.ownerAccountId === jean, `${JSON.stringify(name.slice(0, 60))} stays in Jean's reach`);
    t.not(resolved?.mailboxId, marieInbox);
  }
  t.equal(resolveMailbox(db, jean, '../INBOX'), null);
  t.equal(resolveMailbox(db, jean, `Partagé/${PHARMACY}`), null, 'an ORG node is not a mailbox');
  t.equal(resolveMailbox(db, jean, 'Partagé/marie.curie@x.mssante.fr/INBOX'), null, "a PER's address is not a shared box");
  t.equal(resolveMailbox(db, jean, 'INBOX*'), null);
  t.equal(resolveMailbox(db, jean, ''), null);
  t.equal(resolveMailbox(db, jean, 'INBOX/'), null);
});

t.test('unlinking takes effect at the next resolution (R6)', async (t) => {
  const { db, jean } = freshWorld(t);
  const name = `Partagé/${PHARMACY}/INBOX`;
  const id = resolveMailbox(db, jean, name)!.mailboxId;
  removeOrgMember(db, PHARMACY, 'jean.dupont@hopital.fr');
  t.equal(resolveMailbox(db, jean, name), null);
  t.notOk(canAccessMailbox(db, jean, id), 'a session holding the id loses it too');
  t.notOk(listMailboxes(db, jean).some((entry) => entry.isShared));
});

t.test('a suspended ORG box is hidden from its members', async (t) => {
  const { db, jean } = freshWorld(t);
  setAccountStatus(db, PHARMACY, 'suspended');
  t.equal(resolveMailbox(db, jean, `Partagé/${PHARMACY}/INBOX`), null);
  setAccountStatus(db, PHARMACY, 'active');
  t.ok(resolveMailbox(db, jean, `Partagé/${PHARMACY}/INBOX`));
});

t.test('listMailboxes: own first, shared under Noselect nodes, children flags', async (t) => {
  const { db, jean, marie } = freshWorld(t);
  createUserMailbox(db, jean, 'Patients/Martin');
  createUserMailbox(db, jean, `Partagé/${PHARMACY}/Ordonnances`);
  const list = listMailboxes(db, jean);
  t.same(
    list.map((entry) => entry.name),
    [
      'INBOX',
      'Brouillons',
      'Corbeille',
      'Envoyés',
      'Patients',
      'Patients/Martin',
      'Partagé',
      `Partagé/${PHARMACY}`,
      `Partagé/${PHARMACY}/Brouillons`,
      `Partagé/${PHARMACY}/Corbeille`,
      `Partagé/${PHARMACY}/Envoyés`,
      `Partagé/${PHARMACY}/INBOX`,
      `Partagé/${PHARMACY}/Ordonnances`,
    ],
  );
  const byName = new Map(list.map((entry) => [entry.name, entry]));
  t.match(byName.get('Patients'), { noselect: false, hasChildren: true, isShared: false, subscribed: false });
  t.match(byName.get('Patients/Martin'), { noselect: false, hasChildren: false });
  t.match(byName.get('Corbeille'), { specialUse: '\\Trash' });
  t.match(byName.get('Partagé'), { noselect: true, hasChildren: true, mailboxId: null, isShared: true });
  t.match(byName.get(`Partagé/${PHARMACY}`), { noselect: true, hasChildren: true, mailboxId: null });
  t.match(byName.get(`Partagé/${PHARMACY}/Corbeille`), { specialUse: null, isShared: true, subscribed: true });
  // Every selectable entry resolves back to the same mailbox.
  for (const entry of list.filter((e) => !e.noselect)) {
    t.equal(resolveMailbox(db, jean, entry.name)?.mailboxId, entry.mailboxId, entry.name);
  }
  t.notOk(listMailboxes(db, marie).some((entry) => entry.name.startsWith('Partagé')));
});

t.test('a deleted parent stays as a Noselect node while it has children', async (t) => {
  const { db, jean } = freshWorld(t);
  createUserMailbox(db, jean, 'a/b/c');
  deleteUserMailbox(db, jean, 'a');
  deleteUserMailbox(db, jean, 'a/b');
  const list = listMailboxes(db, jean);
  t.match(list.find((e) => e.name === 'a'), { noselect: true, hasChildren: true });
  t.match(list.find((e) => e.name === 'a/b'), { noselect: true, hasChildren: true });
  t.match(list.find((e) => e.name === 'a/b/c'), { noselect: false, hasChildren: false });
  t.equal(resolveMailbox(db, jean, 'a'), null);
  deleteUserMailbox(db, jean, 'a/b/c');
  t.notOk(listMailboxes(db, jean).some((e) => e.name.startsWith('a')), 'nodes vanish with their last child');
});

t.test('mailboxNameLevels canonicalises and refuses', async (t) => {
  t.same(mailboxNameLevels('inbox/Sous'), ['INBOX', 'Sous']);
  t.same(mailboxNameLevels('Inboxes'), ['Inboxes']);
  t.same(mailboxNameLevels('\u0131nbox'), ['\u0131nbox'], 'a dotless i does not make INBOX');
  for (const bad of ['', 'a//b', '/a', 'a/', '.', 'a/..', 'a%', 'a*b', 'a\tb', 'a\u0085b', ' a', 'a ', '\ud800']) {
    t.equal(mailboxNameLevels(bad), null, JSON.stringify(bad));
  }
});

t.test('LIST patterns (RFC 3501 section 6.3.8)', async (t) => {
  const names = ['INBOX', 'INBOX/Sous', 'Envoyés', 'Patients', 'Patients/Martin', 'Patients/Martin/2026', 'Partagé', `Partagé/${PHARMACY}`, `Partagé/${PHARMACY}/INBOX`];
  const match = (pattern: string) => names.filter(listPatternMatcher(pattern));
  t.same(match('*'), names);
  t.same(match('%'), ['INBOX', 'Envoyés', 'Patients', 'Partagé']);
  t.same(match('Patients/%'), ['Patients/Martin']);
  t.same(match('Patients/*'), ['Patients/Martin', 'Patients/Martin/2026']);
  t.same(match('Pa%'), ['Patients', 'Partagé']);
  t.same(match('Pa*'), ['Patients', 'Patients/Martin', 'Patients/Martin/2026', 'Partagé', `Partagé/${PHARMACY}`, `Partagé/${PHARMACY}/INBOX`]);
  t.same(match('Partagé/%/%'), [`Partagé/${PHARMACY}/INBOX`]);
  t.same(match('inbox'), ['INBOX'], 'INBOX in any case');
  t.same(match('Inbox/%'), ['INBOX/Sous']);
  t.same(match('%/%/2026'), ['Patients/Martin/2026']);
  t.same(match('*/2026'), ['Patients/Martin/2026']);
  t.same(match('*%**%'), names, 'runs of wildcards collapse');
  t.same(match('%%'), match('%'));
  t.same(match('Envoye\u0301s'), ['Envoyés'], 'patterns are NFC too');
  t.same(match('patients'), [], 'case-sensitive elsewhere');
  t.same(match(''), []);
  // A pattern built to make a backtracking matcher explode answers at once.
  const hostile = listPatternMatcher('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b');
  t.equal(hostile('a'.repeat(250)), false);
  t.equal(hostile('a'.repeat(30) + 'b'), true);
});

t.test('sessionCounters: the credential counter and the mailbox counters in one read', async (t) => {
  const { db, jean } = freshWorld(t);
  const patients = createUserMailbox(db, jean, 'Patients').mailboxId;
  appendToMailbox(db, patients, Buffer.from('Subject: Bilan\r\n\r\nTexte\r\n'));
  t.same(sessionCounters(db, patients), { credentials: credentialChanges(db), mailbox: mailboxCounters(db, patients) });
  t.equal(sessionCounters(db, patients).mailbox?.uidnext, 2);
  const before = sessionCounters(db, patients).credentials;
  setAccountStatus(db, 'jean.dupont@hopital.fr', 'suspended');
  t.ok(sessionCounters(db, patients).credentials > before, 'moves with a credential change');
  deleteUserMailbox(db, jean, 'Patients');
  t.same(sessionCounters(db, patients), { credentials: credentialChanges(db), mailbox: undefined }, 'a deleted mailbox: no counters, the credential counter still');
});
