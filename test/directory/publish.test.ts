import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { nationalEntries } from '../../src/directory/entries';
import { fileSender, fileTimestamp, publishDirectory, type PublicationSender } from '../../src/directory/publish';

function freshDb(t: Test): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-publish-')));
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
  service?: string;
  description?: string;
  nationalDirectory?: number;
  dematerialisation?: number;
}

function addAccount(db: Db, a: AccountFixture): number {
  const id = Number(
    db
      .prepare(
        `INSERT INTO accounts (type, status, login, first_name, last_name, org_name, rpps, finess, profession,
           structure, service, description, national_directory, dematerialisation, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
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
        a.service ?? null,
        a.description ?? null,
        a.nationalDirectory ?? 1,
        a.dematerialisation ?? 0,
      ).lastInsertRowid,
  );
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'login')`).run(a.login, id);
  if (a.mssante) db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'mssante')`).run(a.mssante, id);
  return id;
}

/** One box of every kind that must, or must not, reach the national directory. */
function populate(db: Db) {
  return {
    dupont: addAccount(db, {
      type: 'PER',
      login: 'jean.dupont@exemple.fr',
      mssante: 'jean.dupont@exemple.mssante.fr',
      firstName: 'Jean',
      lastName: 'Dupont',
      rpps: '10001234567',
      profession: 'Médecin',
      structure: 'Cabinet du Parc',
      service: 'Cardiologie',
      dematerialisation: 1,
    }),
    hidden: addAccount(db, {
      type: 'PER',
      login: 'liste.rouge@exemple.fr',
      mssante: 'liste.rouge@exemple.mssante.fr',
      firstName: 'Lise',
      lastName: 'Rouge',
      rpps: '10009999999',
      nationalDirectory: 0,
    }),
    pending: addAccount(db, {
      type: 'PER',
      status: 'pending',
      login: 'pas.encore@exemple.fr',
      mssante: 'pas.encore@exemple.mssante.fr',
      rpps: '10008888888',
    }),
    intern: addAccount(db, {
      type: 'INT',
      login: 'interne@exemple.fr',
      mssante: 'interne@exemple.mssante.fr',
      firstName: 'Ines',
      lastName: 'Terne',
    }),
    med: addAccount(db, { type: 'MED', login: 'paul.martin@exemple.fr', firstName: 'Paul', lastName: 'Martin' }),
    app: addAccount(db, { type: 'APP', login: 'logiciel@exemple.fr', mssante: 'logiciel@exemple.mssante.fr' }),
    pharmacie: addAccount(db, {
      type: 'ORG',
      login: 'pharmacie@exemple.fr',
      mssante: 'pharmacie.centrale@exemple.mssante.fr',
      orgName: 'Pharmacie Centrale',
      finess: '750000001',
      structure: 'Pharmacie Centrale',
      description: 'Officine, ouverte 7j/7',
    }),
  };
}

const dupontEntry = {
  address: 'jean.dupont@exemple.mssante.fr',
  type: 'PER',
  identifier: '10001234567',
  firstName: 'Jean',
  lastName: 'Dupont',
  profession: 'Médecin',
  structure: 'Cabinet du Parc',
  service: 'Cardiologie',
  description: null,
  dematerialisation: true,
};
const pharmacieEntry = {
  address: 'pharmacie.centrale@exemple.mssante.fr',
  type: 'ORG',
  identifier: '750000001',
  firstName: null,
  lastName: 'Pharmacie Centrale',
  profession: null,
  structure: 'Pharmacie Centrale',
  service: null,
  description: 'Officine, ouverte 7j/7',
  dematerialisation: false,
};

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

t.test('only active, visible PER and ORG boxes with an MSSanté address are published', async (t) => {
  const db = freshDb(t);
  populate(db);
  t.same(nationalEntries(db), [dupontEntry, pharmacieEntry]);
});

t.test('first publication writes every entry, records the snapshot and the files', async (t) => {
  const db = freshDb(t);
  populate(db);
  const outputDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'mssd-dir-')), 'annuaire');
  const now = new Date('2026-11-22T02:00:00.000Z');
  const result = await publishDirectory(db, { now, dryRun: false, senders: [fileSender(outputDir)] });

  t.equal(result.since, null);
  t.equal(result.entries, 2);
  t.same(result.diff, { created: [dupontEntry, pharmacieEntry], updated: [], removed: [] });
  t.same(readdirSync(outputDir).sort(), [
    'diff-20261122T020000.000Z.json',
    'full-20261122T020000.000Z.json',
    'latest-diff.json',
    'latest-full.json',
  ]);
  t.same(result.written.map((f) => path.basename(f)).sort(), readdirSync(outputDir).sort());
  const full = readJson(path.join(outputDir, 'latest-full.json'));
  t.equal(full.publishedAt, '2026-11-22T02:00:00.000Z');
  t.same(full.entries, [dupontEntry, pharmacieEntry]);
  t.same(readJson(path.join(outputDir, 'full-20261122T020000.000Z.json')), full);
  const diff = readJson(path.join(outputDir, 'latest-diff.json'));
  t.same(diff.created.map((e: { address: string }) => e.address), [dupontEntry.address, pharmacieEntry.address]);

  const rows = db.prepare('SELECT status, published_at, snapshot FROM directory_publications').all() as Array<{
    status: string;
    published_at: number;
    snapshot: string;
  }>;
  t.equal(rows.length, 1);
  t.equal(rows[0].status, 'published');
  t.equal(rows[0].published_at, now.getTime());
  t.same(JSON.parse(rows[0].snapshot), [dupontEntry, pharmacieEntry]);
});

t.test('the next publication carries only what changed since the last one', async (t) => {
  const db = freshDb(t);
  const ids = populate(db);
  const outputDir = mkdtempSync(path.join(os.tmpdir(), 'mssd-dir-'));
  const senders = [fileSender(outputDir)];
  await publishDirectory(db, { now: new Date('2026-11-22T02:00:00Z'), dryRun: false, senders });

  const unchanged = await publishDirectory(db, { now: new Date('2026-11-23T02:00:00Z'), dryRun: false, senders });
  t.same(unchanged.diff, { created: [], updated: [], removed: [] }, 'nothing changed, empty diff');
  t.equal(unchanged.since, '2026-11-22T02:00:00.000Z');

  // Dr Dupont goes on the liste rouge; the pharmacy is suspended; Paul Martin (MED) obtains his
  // RPPS and becomes PER with an MSSanté address.
  db.prepare('UPDATE accounts SET national_directory = 0 WHERE id = ?').run(ids.dupont);
  db.prepare(`UPDATE accounts SET status = 'suspended' WHERE id = ?`).run(ids.pharmacie);
  db.prepare(`UPDATE accounts SET type = 'PER', rpps = '10007654321', profession = 'Infirmier' WHERE id = ?`).run(ids.med);
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES ('paul.martin@exemple.mssante.fr', ?, 'mssante')`).run(
    ids.med,
  );
  const third = await publishDirectory(db, { now: new Date('2026-11-24T02:00:00Z'), dryRun: false, senders });
  const martin = {
    address: 'paul.martin@exemple.mssante.fr',
    type: 'PER',
    identifier: '10007654321',
    firstName: 'Paul',
    lastName: 'Martin',
    profession: 'Infirmier',
    structure: null,
    service: null,
    description: null,
    dematerialisation: false,
  };
  t.same(third.diff, { created: [martin], updated: [], removed: [dupontEntry, pharmacieEntry] });
  t.same(readJson(path.join(outputDir, 'latest-full.json')).entries, [martin]);
  t.same(readJson(path.join(outputDir, 'latest-diff.json')).removed.length, 2);
  t.equal(readJson(path.join(outputDir, 'latest-diff.json')).since, '2026-11-23T02:00:00.000Z');

  // Dr Dupont leaves the liste rouge; Paul Martin's profession changes.
  db.prepare(`UPDATE accounts SET national_directory = 1 WHERE id = ?`).run(ids.dupont);
  db.prepare(`UPDATE accounts SET profession = 'Infirmier en pratique avancée' WHERE id = ?`).run(ids.med);
  const fourth = await publishDirectory(db, { now: new Date('2026-11-25T02:00:00Z'), dryRun: false, senders });
  t.same(fourth.diff, {
    created: [dupontEntry],
    updated: [{ before: martin, after: { ...martin, profession: 'Infirmier en pratique avancée' } }],
    removed: [],
  });
  t.equal(readdirSync(outputDir).filter((f) => f.startsWith('full-')).length, 4, 'one dated full file per run');
  t.notOk(
    readdirSync(outputDir).some((f) => f.endsWith('.tmp')),
    'no temporary file left behind',
  );
});

t.test('a dry run returns the diff and writes or records nothing', async (t) => {
  const db = freshDb(t);
  populate(db);
  const outputDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'mssd-dir-')), 'out');
  const result = await publishDirectory(db, { dryRun: true, senders: [fileSender(outputDir)] });
  t.equal(result.created, 2);
  t.same(result.written, []);
  t.notOk(existsSync(outputDir));
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM directory_publications').get() as { n: number }).n, 0);
});

t.test('a failed publication is recorded and the next run still diffs against the last success', async (t) => {
  const db = freshDb(t);
  const ids = populate(db);
  const outputDir = mkdtempSync(path.join(os.tmpdir(), 'mssd-dir-'));
  await publishDirectory(db, { now: new Date('2026-11-22T02:00:00Z'), dryRun: false, senders: [fileSender(outputDir)] });
  db.prepare(`UPDATE accounts SET status = 'suspended' WHERE id = ?`).run(ids.dupont);

  const broken: PublicationSender = {
    name: 'broken',
    async send() {
      throw new Error('endpoint unreachable');
    },
  };
  await t.rejects(
    publishDirectory(db, { now: new Date('2026-11-23T02:00:00Z'), dryRun: false, senders: [broken] }),
    /endpoint unreachable/,
  );
  t.same(
    db.prepare('SELECT status FROM directory_publications ORDER BY id').all(),
    [{ status: 'published' }, { status: 'failed' }],
  );
  const retried = await publishDirectory(db, {
    now: new Date('2026-11-24T02:00:00Z'),
    dryRun: false,
    senders: [fileSender(outputDir)],
  });
  t.same(retried.diff.removed, [dupontEntry], 'the removal is not lost with the failed run');
  t.equal(retried.since, '2026-11-22T02:00:00.000Z');
});

t.test('file timestamps sort in time order', async (t) => {
  t.equal(fileTimestamp(new Date('2026-01-02T03:04:05.006Z')), '20260102T030405.006Z');
});
