import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { departmentOf, foldText } from '../../src/policy/directory-matching';
import { searchLocalDirectory } from '../../src/directory/search';

function freshDb(t: Test): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-search-')));
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

interface AccountFixture {
  type: string;
  login: string;
  status?: string;
  mssante?: string;
  firstName?: string;
  lastName?: string;
  orgName?: string;
  rpps?: string;
  finess?: string;
  profession?: string;
  structure?: string;
  city?: string;
  postcode?: string;
  localDirectory?: number;
}

function addAccount(db: Db, a: AccountFixture): number {
  const id = Number(
    db
      .prepare(
        `INSERT INTO accounts (type, status, login, first_name, last_name, org_name, rpps, finess, profession,
           structure, city, postcode, local_directory, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
      )
      .run(
        a.type,
        a.status ?? 'active',
        a.login,
        a.firstName ?? null,
        a.lastName ?? null,
        a.orgName ?? null,
        a.rpps ?? null,
        a.finess ?? null,
        a.profession ?? null,
        a.structure ?? null,
        a.city ?? null,
        a.postcode ?? null,
        a.localDirectory ?? 1,
      ).lastInsertRowid,
  );
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'login')`).run(a.login, id);
  if (a.mssante) db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'mssante')`).run(a.mssante, id);
  return id;
}

const link = (db: Db, orgId: number, memberId: number) =>
  db.prepare('INSERT INTO org_members (org_id, member_id, added_at) VALUES (?, ?, 0)').run(orgId, memberId);

function populate(db: Db) {
  const helene = addAccount(db, {
    type: 'PER',
    login: 'helene.lefevre@exemple.fr',
    mssante: 'helene.lefevre@exemple.mssante.fr',
    firstName: 'Hélène',
    lastName: 'Lefèvre',
    rpps: '10001234567',
    profession: 'Pharmacien',
    structure: 'Pharmacie Centrale',
    city: 'Ajaccio',
    postcode: '20000',
  });
  const jp = addAccount(db, {
    type: 'MED',
    login: 'jp.dupont@exemple.fr',
    firstName: 'Jean-Pierre',
    lastName: 'Dupont',
    profession: 'Psychologue',
    city: 'Bastia',
    postcode: '20200',
  });
  addAccount(db, {
    type: 'PER',
    login: 'cache@exemple.fr',
    mssante: 'cache@exemple.mssante.fr',
    firstName: 'Hélène',
    lastName: 'Cachée',
    rpps: '10000000001',
    localDirectory: 0,
  });
  addAccount(db, {
    type: 'PER',
    login: 'suspendu@exemple.fr',
    firstName: 'Hélène',
    lastName: 'Suspendue',
    status: 'suspended',
  });
  addAccount(db, { type: 'APP', login: 'logiciel@exemple.fr', lastName: 'Logiciel' });
  addAccount(db, {
    type: 'INT',
    login: 'interne@exemple.fr',
    mssante: 'ines.terne@exemple.mssante.fr',
    firstName: 'Inès',
    lastName: 'Terne',
    profession: 'Médecin',
    city: 'Pointe-à-Pitre',
    postcode: '97110',
  });
  const pharmacie = addAccount(db, {
    type: 'ORG',
    login: 'pharmacie@exemple.fr',
    mssante: 'pharmacie.centrale@exemple.mssante.fr',
    orgName: 'Pharmacie Centrale',
    finess: '2A0000011',
    city: 'Ajaccio',
    postcode: '20090',
  });
  const hiddenOrg = addAccount(db, {
    type: 'ORG',
    login: 'secret@exemple.fr',
    mssante: 'secret@exemple.mssante.fr',
    orgName: 'Cellule discrète',
    finess: '750000002',
    localDirectory: 0,
  });
  link(db, pharmacie, helene);
  link(db, hiddenOrg, helene);
  link(db, pharmacie, jp);
  return { helene, jp, pharmacie };
}

const logins = (entries: Array<{ login: string }>) => entries.map((e) => e.login);

t.test('folding and départements', async (t) => {
  t.equal(foldText("  Jean-Hélène  d'ŒUF "), 'jean helene d oeuf');
  t.equal(departmentOf('75011'), '75');
  t.equal(departmentOf('20000'), '2A');
  t.equal(departmentOf('20190'), '2A');
  t.equal(departmentOf('20200'), '2B');
  t.equal(departmentOf('20600'), '2B');
  t.equal(departmentOf('97110'), '971');
  t.equal(departmentOf('7501'), null);
});

t.test('names match regardless of case, accents, hyphens and word order', async (t) => {
  const db = freshDb(t);
  populate(db);
  t.same(logins(searchLocalDirectory(db, { name: 'helene' })), ['helene.lefevre@exemple.fr'], 'hidden and suspended left out');
  t.same(logins(searchLocalDirectory(db, { name: 'LEFEVRE hélène' })), ['helene.lefevre@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { name: 'jean pierre' })), ['jp.dupont@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { name: 'dupo' })), ['jp.dupont@exemple.fr'], 'part of a name');
  t.same(logins(searchLocalDirectory(db, { firstName: 'ines' })), ['interne@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { name: 'logiciel' })), [], 'APP boxes are not people to find');
  t.same(logins(searchLocalDirectory(db, { name: 'cachee' })), [], 'local directory switched off');
});

t.test('ORG boxes are listed, and each person with the ORG boxes they are linked to', async (t) => {
  const db = freshDb(t);
  populate(db);
  const pharmacie = searchLocalDirectory(db, { name: 'pharmacie' });
  t.same(logins(pharmacie), ['pharmacie@exemple.fr'], 'ORG found by its name');
  t.equal(pharmacie[0].type, 'ORG');
  t.same(pharmacie[0].mssanteAddresses, ['pharmacie.centrale@exemple.mssante.fr']);

  const [helene] = searchLocalDirectory(db, { rpps: '10001234567' });
  t.same(helene, {
    type: 'PER',
    login: 'helene.lefevre@exemple.fr',
    mssanteAddresses: ['helene.lefevre@exemple.mssante.fr'],
    firstName: 'Hélène',
    lastName: 'Lefèvre',
    name: null,
    rpps: '10001234567',
    finess: null,
    profession: 'Pharmacien',
    structure: 'Pharmacie Centrale',
    service: null,
    description: null,
    city: 'Ajaccio',
    postcode: '20000',
    organisations: [{ address: 'pharmacie.centrale@exemple.mssante.fr', name: 'Pharmacie Centrale' }],
  }, 'the hidden ORG she belongs to is not revealed');
  t.same(searchLocalDirectory(db, { name: 'dupont' })[0].organisations, [
    { address: 'pharmacie.centrale@exemple.mssante.fr', name: 'Pharmacie Centrale' },
  ]);
});

t.test('every criterion filters, and criteria combine', async (t) => {
  const db = freshDb(t);
  populate(db);
  t.same(logins(searchLocalDirectory(db, { finess: '2a0000011' })), ['pharmacie@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { profession: 'medecin' })), ['interne@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { city: 'ajaccio' })), ['helene.lefevre@exemple.fr', 'pharmacie@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { city: 'pointe a pitre' })), ['interne@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { postcode: '20000' })), ['helene.lefevre@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { postcode: '200' })), ['helene.lefevre@exemple.fr', 'pharmacie@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { department: '2a' })), ['helene.lefevre@exemple.fr', 'pharmacie@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { department: '2B' })), ['jp.dupont@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { department: '971' })), ['interne@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { structure: 'centrale' })), ['helene.lefevre@exemple.fr', 'pharmacie@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { address: 'ines.terne@' })), ['interne@exemple.fr'], 'MSSanté address');
  t.same(logins(searchLocalDirectory(db, { address: 'JP.DUPONT' })), ['jp.dupont@exemple.fr'], 'login');
  t.same(logins(searchLocalDirectory(db, { city: 'ajaccio', profession: 'pharmacien' })), ['helene.lefevre@exemple.fr']);
  t.same(logins(searchLocalDirectory(db, { rpps: '10000000001' })), [], 'exists, but off the local directory');
  t.same(searchLocalDirectory(db, { name: 'nobody' }), []);
  t.equal(searchLocalDirectory(db, {}).length, 4, 'no criterion: every listed box');
});
