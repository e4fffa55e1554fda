import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { findBox } from '../../src/store/boxes';
import { describeAccount } from '../../src/store/account-view';
import {
  AccountError,
  changeAccountType,
  createOrgAccount,
  createPersonAccount,
  findAccount,
  setAccountStatus,
  updateAccountSettings,
} from '../../src/store/accounts';
import { addForward, clearAutoreply, getAutoreply, listForwards, removeForward, setAutoreply, type ForwardRules } from '../../src/store/box-rules';
import { addOrgMember, removeOrgMember, setOrgMemberNotify } from '../../src/store/org-members';

const domains = { mssante: ['exemple.mssante.fr', 'autre.mssante.fr'] };
const rules: ForwardRules = {
  isAllowedDomain: (domain) => domain === 'chu.mssante.fr' || domain.endsWith('exemple.mssante.fr'),
  patientDomain: 'patient.mssante.fr',
};

function freshDb(t: { teardown(fn: () => void): void }): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-accounts-')));
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

const person = (overrides: Record<string, unknown> = {}) => ({
  type: 'PER' as const,
  login: 'jean.dupont@exemple.fr',
  firstName: 'Jean',
  lastName: 'Dupont',
  rpps: '10101234567',
  ...overrides,
});

t.test('PER gets a login and a default MSSanté address, mailboxes, active status', async (t) => {
  const db = freshDb(t);
  const row = createPersonAccount(db, domains, person({ passwordHash: 'scrypt$x' }));
  t.equal(row.status, 'active');
  t.equal(row.national_directory, 1);
  const shown = describeAccount(db, 'jean.dupont@exemple.mssante.fr');
  t.same(shown.addresses, [
    { address: 'jean.dupont@exemple.fr', kind: 'login' },
    { address: 'jean.dupont@exemple.mssante.fr', kind: 'mssante' },
  ]);
  t.equal(shown.hasPassword, true);
  t.same(
    shown.folders.map((f) => [f.name, f.specialUse, f.messages]),
    [
      ['INBOX', null, 0],
      ['Brouillons', '\\Drafts', 0],
      ['Corbeille', '\\Trash', 0],
      ['Envoyés', '\\Sent', 0],
    ],
  );
  t.equal(findBox(db, 'JEAN.DUPONT@exemple.mssante.fr')?.kind, 'mssante', 'addresses are case-insensitive');
  const audit = db.prepare(`SELECT outcome, detail FROM audit WHERE event = 'account'`).all() as Array<{ detail: string }>;
  t.equal(audit.length, 1);
  t.notMatch(audit[0].detail, /scrypt/, 'no hash in the audit trail');
});

t.test('default address collisions get a number; requested addresses are checked', async (t) => {
  const db = freshDb(t);
  createPersonAccount(db, domains, person());
  const second = createPersonAccount(db, domains, person({ login: 'jdupont@exemple.fr', type: 'INT', rpps: undefined }));
  t.same(describeAccount(db, second.login).addresses[1], { address: 'jean.dupont2@exemple.mssante.fr', kind: 'mssante' });
  t.equal(second.national_directory, 0, 'INT never published nationally');
  createPersonAccount(db, domains, person({ login: 'j3@exemple.fr', firstName: 'Jéan', lastName: 'DUPONT' }));
  t.ok(findBox(db, 'jean.dupont3@exemple.mssante.fr'));
  createPersonAccount(db, domains, person({ login: 'x@exemple.fr', mssanteAddress: 'cabinet.x@autre.mssante.fr' }));
  t.ok(findBox(db, 'cabinet.x@autre.mssante.fr'), 'any MSSanté domain of the operator');
  t.throws(
    () => createPersonAccount(db, domains, person({ login: 'y@exemple.fr', mssanteAddress: 'y@gmail.com' })),
    /not in one of the MSSanté domains/,
  );
  t.throws(
    () => createPersonAccount(db, domains, person({ login: 'z@exemple.fr', mssanteAddress: 'cabinet.x@autre.mssante.fr' })),
    /already in use/,
  );
  t.equal(findAccount(db, 'z@exemple.fr'), undefined, 'refused creation left nothing behind');
});

t.test('refusals name the problem', async (t) => {
  const db = freshDb(t);
  createPersonAccount(db, domains, person());
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ login: 'a@exemple.fr', rpps: undefined }, /PER box requires an RPPS/],
    [{ login: 'a@exemple.fr', rpps: '123' }, /invalid RPPS .*11 digits/],
    [{ login: 'a@exemple.fr', type: 'MED', rpps: undefined, mssanteAddress: 'a@exemple.mssante.fr' }, /MED box has no MSSanté address/],
    [{ login: 'a@exemple.fr', type: 'MED' }, /MED box has no RPPS/],
    [{ login: 'jean.dupont@EXEMPLE.fr' }, /already in use/],
    [{ login: 'not an address' }, /invalid login/],
    [{ login: 'a@exemple.mssante.fr' }, /MSSanté domain/],
    [{ login: 'a@exemple.fr', firstName: '  ' }, /first name is required/],
    [{ login: 'a@exemple.fr', postcode: '7500' }, /postcode/],
    [{ login: 'a@exemple.fr', firstName: '李', lastName: '王' }, /give --mssante-address/],
  ];
  for (const [overrides, message] of cases) {
    t.throws(() => createPersonAccount(db, domains, person(overrides) as never), { name: 'AccountError', message }, String(message));
  }
});

t.test('MED box: login only, local directory only; status changes', async (t) => {
  const db = freshDb(t);
  const med = createPersonAccount(db, domains, { type: 'MED', login: 'sec@exemple.fr', firstName: 'Léa', lastName: 'Roux', pending: true });
  t.equal(med.status, 'pending');
  let shown = describeAccount(db, 'sec@exemple.fr');
  t.same(shown.addresses, [{ address: 'sec@exemple.fr', kind: 'login' }]);
  t.same(shown.visibility, { localDirectory: true, nationalDirectory: false });
  t.same(setAccountStatus(db, 'sec@exemple.fr', 'active'), { login: 'sec@exemple.fr', from: 'pending', to: 'active', changed: true });
  t.equal(setAccountStatus(db, 'sec@exemple.fr', 'active').changed, false, 'validating twice is a no-op');
  t.equal(setAccountStatus(db, 'sec@exemple.fr', 'suspended').to, 'suspended');
  t.throws(() => setAccountStatus(db, 'nobody@exemple.fr', 'active'), /no box has the address nobody@exemple.fr/);

  t.throws(() => updateAccountSettings(db, 'sec@exemple.fr', { nationalDirectory: true }), /never published/);
  t.same(updateAccountSettings(db, 'sec@exemple.fr', { notifyEach: true, localDirectory: false, passwordHash: 'h' }), [
    'localDirectory',
    'notifyEach',
    'password',
  ]);
  shown = describeAccount(db, 'sec@exemple.fr');
  t.same(shown.notifications, { each: true, daily: false, opening: false });
  t.equal(shown.visibility.localDirectory, false);
  t.equal(shown.hasPassword, true);
  t.throws(() => updateAccountSettings(db, 'sec@exemple.fr', {}), /nothing to set/);
});

t.test('set-type: MED → PER gains an MSSanté address and the national directory', async (t) => {
  const db = freshDb(t);
  createPersonAccount(db, domains, { type: 'MED', login: 'lea@exemple.fr', firstName: 'Léa', lastName: 'Roux' });
  t.throws(() => changeAccountType(db, domains, 'lea@exemple.fr', 'PER'), /becoming PER requires an RPPS/);
  t.throws(() => changeAccountType(db, domains, 'lea@exemple.fr', 'PER', { rpps: '1' }), /11 digits/);
  const change = changeAccountType(db, domains, 'lea@exemple.fr', 'PER', { rpps: '10100000001' });
  t.same(change, { login: 'lea@exemple.fr', from: 'MED', to: 'PER', addedAddress: 'lea.roux@exemple.mssante.fr' });
  const shown = describeAccount(db, 'lea.roux@exemple.mssante.fr');
  t.equal(shown.type, 'PER');
  t.equal(shown.rpps, '10100000001');
  t.equal(shown.visibility.nationalDirectory, true);
  t.throws(() => changeAccountType(db, domains, 'lea@exemple.fr', 'MED'), /only MED→INT, MED→PER and INT→PER/);
  t.throws(() => changeAccountType(db, domains, 'lea@exemple.fr', 'PER', { rpps: '10100000001' }), /already a PER/);
  // INT → PER keeps its address.
  createPersonAccount(db, domains, { type: 'INT', login: 'int@exemple.fr', firstName: 'Ana', lastName: 'Silva' });
  t.equal(changeAccountType(db, domains, 'int@exemple.fr', 'PER', { rpps: '10100000002' }).addedAddress, null);
  t.equal(describeAccount(db, 'int@exemple.fr').addresses.length, 2);
});

t.test('ORG: creation checks, membership and notices', async (t) => {
  const db = freshDb(t);
  createPersonAccount(db, domains, person());
  createPersonAccount(db, domains, { type: 'MED', login: 'sec@exemple.fr', firstName: 'Léa', lastName: 'Roux' });
  const org = {
    login: 'contact@pharmacie.fr',
    address: 'pharmacie.centrale@exemple.mssante.fr',
    name: 'Pharmacie centrale',
    finess: '750000010',
    responsibleRpps: '10101234567',
  };
  t.throws(() => createOrgAccount(db, domains, { ...org, finess: '750000011' }), /invalid FINESS/);
  t.throws(() => createOrgAccount(db, domains, { ...org, responsibleRpps: '' }), /requires its responsible professional's RPPS/);
  t.throws(() => createOrgAccount(db, domains, { ...org, address: 'pc@pharmacie.fr' }), /not in one of the MSSanté domains/);
  t.throws(() => createOrgAccount(db, domains, { ...org, login: 'jean.dupont@exemple.fr' }), /already used/);
  const row = createOrgAccount(db, domains, { ...org, description: 'Officine' });
  t.equal(row.password_hash, null);
  t.equal(findBox(db, 'contact@pharmacie.fr'), undefined, 'the contact address is not an address of the ORG');
  t.equal(findAccount(db, 'contact@pharmacie.fr')?.id, row.id, 'but it names the ORG for the operator');
  t.throws(() => updateAccountSettings(db, org.address, { passwordHash: 'h' }), /ORG box has no password/);

  t.equal(describeAccount(db, org.address).notifications.each, true, "R18: the contact address's notices are on by default");
  t.same(addOrgMember(db, org.address, 'jean.dupont@exemple.fr'), { org: org.address, member: 'jean.dupont@exemple.fr', notify: true }, 'R18: on by default');
  addOrgMember(db, org.address, 'sec@exemple.fr');
  t.equal(setOrgMemberNotify(db, org.address, 'jean.dupont@exemple.fr', false).notify, false, 'the opt-out');
  t.throws(() => addOrgMember(db, org.address, 'sec@exemple.fr'), /already a member/);
  t.throws(() => addOrgMember(db, org.address, org.address), /only personal boxes/);
  t.throws(() => addOrgMember(db, 'jean.dupont@exemple.fr', 'sec@exemple.fr'), /not an ORG box/);
  t.equal(setOrgMemberNotify(db, org.address, 'sec@exemple.fr', true).notify, true, 'setting the default again is allowed');
  t.same(describeAccount(db, org.address).members, [
    { login: 'jean.dupont@exemple.fr', type: 'PER', notify: false },
    { login: 'sec@exemple.fr', type: 'MED', notify: true },
  ]);
  t.same(describeAccount(db, 'sec@exemple.fr').orgs, [org.address]);
  removeOrgMember(db, org.address, 'sec@exemple.fr');
  t.throws(() => removeOrgMember(db, org.address, 'sec@exemple.fr'), /not a member/);
  t.throws(() => setOrgMemberNotify(db, org.address, 'sec@exemple.fr', true), /not a member/);
  t.same(describeAccount(db, 'sec@exemple.fr').orgs, []);
});

t.test('forwards: trust space, self, MED, patient, duplicates', async (t) => {
  const db = freshDb(t);
  createPersonAccount(db, domains, person());
  createPersonAccount(db, domains, { type: 'MED', login: 'sec@exemple.fr', firstName: 'Léa', lastName: 'Roux' });
  addForward(db, 'jean.dupont@exemple.fr', 'confrere@chu.mssante.fr', rules);
  addForward(db, 'jean.dupont@exemple.mssante.fr', 'sec@exemple.fr', rules);
  t.same(listForwards(db, findAccount(db, 'jean.dupont@exemple.fr')!.id), ['confrere@chu.mssante.fr', 'sec@exemple.fr']);
  t.throws(() => addForward(db, 'jean.dupont@exemple.fr', 'CONFRERE@chu.mssante.fr', rules), /already forwards/);
  t.throws(() => addForward(db, 'jean.dupont@exemple.fr', 'x@gmail.com', rules), /outside the MSSanté trust space/);
  t.throws(() => addForward(db, 'jean.dupont@exemple.fr', 'jean.dupont@exemple.mssante.fr', rules), /forward to itself/);
  t.throws(() => addForward(db, 'jean.dupont@exemple.fr', '180057512345627@patient.mssante.fr', rules), /patient/);
  t.throws(() => addForward(db, 'sec@exemple.fr', 'confrere@chu.mssante.fr', rules), /MED box may forward only to local/);
  addForward(db, 'sec@exemple.fr', 'jean.dupont@exemple.fr', rules);
  t.throws(() => addForward(db, 'jean.dupont@exemple.fr', 'bad address', rules), /invalid forward target/);
  removeForward(db, 'jean.dupont@exemple.fr', 'confrere@chu.mssante.fr');
  t.throws(() => removeForward(db, 'jean.dupont@exemple.fr', 'confrere@chu.mssante.fr'), /does not forward/);
  t.same(describeAccount(db, 'jean.dupont@exemple.fr').forwards, ['sec@exemple.fr']);
});

t.test('automatic reply: dates, replace, clear, log reset', async (t) => {
  const db = freshDb(t);
  const account = createPersonAccount(db, domains, person());
  const now = Date.parse('2030-01-01T00:00:00Z');
  const reply = { startAt: now, endAt: now + 86_400_000, subject: 'Absent', body: 'De retour lundi.\n' };
  t.throws(() => setAutoreply(db, account.login, { ...reply, endAt: reply.startAt }, now), /end after it starts/);
  t.throws(() => setAutoreply(db, account.login, reply, now + 2 * 86_400_000), /in the past/);
  t.throws(() => setAutoreply(db, account.login, { ...reply, body: ' \n' }, now), /body is empty/);
  t.throws(() => setAutoreply(db, account.login, { ...reply, subject: 'a\nb' }, now), /line breaks/);
  setAutoreply(db, account.login, reply, now);
  db.prepare('INSERT INTO autoreply_log (account_id, sender, sent_at) VALUES (?, ?, ?)').run(account.id, 'a@b.fr', now);
  setAutoreply(db, 'jean.dupont@exemple.mssante.fr', { ...reply, subject: 'Congés' }, now);
  t.equal(getAutoreply(db, account.id)?.subject, 'Congés', 'replaced');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM autoreply_log').get() as { n: number }).n, 0, 'a new period forgets answered senders');
  t.same(describeAccount(db, account.login).autoreply, {
    start: '2030-01-01T00:00:00.000Z',
    end: '2030-01-02T00:00:00.000Z',
    subject: 'Congés',
    body: 'De retour lundi.\n',
  });
  t.equal(clearAutoreply(db, account.login), true);
  t.equal(clearAutoreply(db, account.login), false, 'clearing twice is not an error');
  t.equal(describeAccount(db, account.login).autoreply, null);
});

t.test('AccountError is the refusal type', async (t) => {
  const db = freshDb(t);
  try {
    describeAccount(db, 'ghost@exemple.fr');
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof AccountError);
  }
});
