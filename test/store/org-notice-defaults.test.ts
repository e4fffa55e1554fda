// Migration 009 (R18): on an existing store, ORG reception notices become on for the ORG's contact
// address and each linked person whose switch was never touched; a switch someone turned off (the
// audit trail says so) stays off, and so does another box's switch.
import t from 'tap';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, migrationsDir, openDatabase } from '../../src/store/database';
import { describeAccount } from '../../src/store/account-view';
import { createOrgAccount, createPersonAccount, updateAccountSettings } from '../../src/store/accounts';
import { setOrgMemberNotify } from '../../src/store/org-members';

const domains = { mssante: ['exemple.mssante.fr'] };

t.test('009 applies the default only to switches never touched', async (t) => {
  // A store as it stood before 009: the earlier migrations only, plus 011's subscriptions table,
  // which today's account creation (used below to fill the store) writes to.
  const before = mkdtempSync(path.join(os.tmpdir(), 'mssd-mig-'));
  for (const file of readdirSync(migrationsDir).filter((f) => Number(f.slice(0, 3)) < 9 || Number(f.slice(0, 3)) === 11)) {
    cpSync(path.join(migrationsDir, file), path.join(before, file));
  }
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-009-')));
  t.teardown(() => db.close());
  migrate(db, before);

  for (const [login, first] of [['ann@exemple.fr', 'Ann'], ['bea@exemple.fr', 'Bea'], ['cy@exemple.fr', 'Cy']]) {
    createPersonAccount(db, domains, { type: 'PER', login, firstName: first, lastName: 'Test', rpps: `1010123456${login.length % 10}` });
  }
  const orgA = { login: 'contact-a@exemple.fr', address: 'org-a@exemple.mssante.fr', name: 'A', finess: '750000010', responsibleRpps: '10101234567' };
  const orgB = { login: 'contact-b@exemple.fr', address: 'org-b@exemple.mssante.fr', name: 'B', finess: '750000010', responsibleRpps: '10101234567' };
  createOrgAccount(db, domains, orgA);
  createOrgAccount(db, domains, orgB);
  // Links and switches as the code before R18 left them: everything off.
  const id = (login: string) => (db.prepare('SELECT id FROM accounts WHERE login = ?').get(login) as { id: number }).id;
  const link = db.prepare('INSERT INTO org_members (org_id, member_id, notify, added_at) VALUES (?, ?, 0, 0)');
  for (const member of ['ann@exemple.fr', 'bea@exemple.fr', 'cy@exemple.fr']) link.run(id(orgA.login), id(member));
  link.run(id(orgB.login), id('bea@exemple.fr'));
  db.prepare(`UPDATE accounts SET notify_each = 0 WHERE type = 'ORG'`).run();
  // Bea turned hers off for A (after turning it on): a choice. Cy turned it on: already on.
  setOrgMemberNotify(db, orgA.address, 'bea@exemple.fr', true);
  setOrgMemberNotify(db, orgA.address, 'bea@exemple.fr', false);
  setOrgMemberNotify(db, orgA.address, 'cy@exemple.fr', true);
  // B's contact address was switched off by the operator: a choice too.
  updateAccountSettings(db, orgB.address, { notifyEach: false });

  const applied = migrate(db);
  t.same(applied.map((m) => m.version).filter((v) => v <= 9), [9], 'of the migrations up to 009, only 009 is new');
  const members = (org: string) => describeAccount(db, org).members.map((m) => [m.login, m.notify]);
  t.same(members(orgA.address), [['ann@exemple.fr', true], ['bea@exemple.fr', false], ['cy@exemple.fr', true]],
    'Ann never touched hers: on; Bea turned hers off: off; Cy: on');
  t.same(members(orgB.address), [['bea@exemple.fr', true]], "Bea's choice for A says nothing about B");
  t.equal(describeAccount(db, orgA.address).notifications.each, true, "A's contact address: never touched, now on");
  t.equal(describeAccount(db, orgB.address).notifications.each, false, "B's contact address: turned off, stays off");
});
