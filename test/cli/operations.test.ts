// The operations commands through the real launcher (bin/mssd → dist): what operators script
// against. Run after `npm run build` (npm test does it).
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/config/load';
import { migrate, openDatabase, type Db } from '../../src/store/database';

const bin = path.join(projectRoot, 'bin', 'mssd');
const built = existsSync(path.join(projectRoot, 'dist', 'src', 'cli', 'main.js'));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function setup(): { dir: string; config: string; db: Db; run: (...args: string[]) => Run } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-cli-ops-'));
  const config = path.join(dir, 'mssd.json');
  writeFileSync(config, JSON.stringify({ dataDir: 'data', directory: { outputDir: 'annuaire' } }));
  const db = openDatabase(path.join(dir, 'data'));
  migrate(db);
  const run = (...args: string[]): Run => {
    const result = spawnSync(process.execPath, [bin, ...args, '--config', config], { encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  return { dir, config, db, run };
}

/** One clear line on stderr, exit 1, nothing on stdout (R15). */
function refused(t: Test, result: Run, pattern: RegExp): void {
  t.equal(result.status, 1, `exit 1: ${result.stderr.trim()}`);
  t.equal(result.stdout, '');
  t.match(result.stderr, /^mssd: [^\n]+\n$/, 'exactly one line');
  t.match(result.stderr, pattern);
  t.notMatch(result.stderr, /\bat \S+:\d+/, 'no stack trace');
}

function addAccount(db: Db, type: string, login: string, extra: Record<string, unknown> = {}, mssante?: string): number {
  const columns = ['type', 'status', 'login', 'created_at', 'updated_at', ...Object.keys(extra)];
  const values = [type, 'active', login, 0, 0, ...Object.values(extra)];
  const id = Number(
    db
      .prepare(`INSERT INTO accounts (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
      .run(...values).lastInsertRowid,
  );
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'login')`).run(login, id);
  if (mssante) db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'mssante')`).run(mssante, id);
  return id;
}

t.test('CLI operations commands', { skip: built ? false : 'not built: run npm run build' }, async (t) => {
  t.test('queue list, show, retry, delete', async (t) => {
    const { db, run } = setup();
    t.teardown(() => db.close());
    t.equal(run('queue', 'list').stdout, 'queue is empty\n');

    db.prepare(`INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES ('h1', 5, 1, x'6869212121', 0)`).run();
    db.prepare(
      `INSERT INTO outbound_queue (queue_id, kind, body_hash, mail_from, created_at, next_attempt_at, attempts)
       VALUES ('LQ7ABC01', 'relay', 'h1', 'jean.dupont@exemple.mssante.fr', ?, ?, 2)`,
    ).run(Date.now() - 3_600_000, Date.now() + 600_000);
    db.prepare(
      `INSERT INTO outbound_recipients (queue_row_id, address, domain, status, last_reply, updated_at)
       VALUES (1, 'a@ch-autre.mssante.fr', 'ch-autre.mssante.fr', 'pending', '451 4.7.1 greylisted', 0)`,
    ).run();

    const list = run('queue', 'list', '--json');
    t.equal(list.status, 0, list.stderr);
    const [entry] = JSON.parse(list.stdout).entries;
    t.equal(entry.queueId, 'LQ7ABC01');
    t.equal(entry.kind, 'relay');
    t.equal(entry.attempts, 2);
    t.same(entry.recipients.map((r: { address: string; status: string }) => [r.address, r.status]), [
      ['a@ch-autre.mssante.fr', 'pending'],
    ]);
    t.ok(entry.ageSeconds >= 3600);
    t.match(run('queue', 'list').stdout, /LQ7ABC01 {2}relay {2}from jean\.dupont@exemple\.mssante\.fr {2}attempts 2 .* age 1h/);

    t.match(run('queue', 'show', 'LQ7ABC01').stdout, /last reply: 451 4\.7\.1 greylisted/);
    refused(t, run('queue', 'show', 'NOPE'), /unknown queue ID: NOPE/);

    const retry = run('queue', 'retry', 'LQ7ABC01');
    t.equal(retry.stdout, 'queue entry LQ7ABC01 is due now\n');
    const due = db.prepare(`SELECT next_attempt_at FROM outbound_queue WHERE queue_id = 'LQ7ABC01'`).get() as {
      next_attempt_at: number;
    };
    t.ok(due.next_attempt_at <= Date.now());
    refused(t, run('queue', 'retry', 'NOPE'), /unknown queue ID: NOPE/);

    t.equal(run('queue', 'delete', 'LQ7ABC01').stdout, 'queue entry LQ7ABC01 deleted\n');
    t.equal((db.prepare('SELECT COUNT(*) AS n FROM bodies').get() as { n: number }).n, 0, 'body released');
    refused(t, run('queue', 'delete', 'LQ7ABC01'), /unknown queue ID: LQ7ABC01/);
    refused(t, run('queue', 'show'), /missing required argument/);
  });

  t.test('purge with --now and --dry-run', async (t) => {
    const { db, run } = setup();
    t.teardown(() => db.close());
    const box = addAccount(db, 'PER', 'jean.dupont@exemple.fr');
    db.prepare(`INSERT INTO mailboxes (account_id, name, uidvalidity, uidnext, created_at) VALUES (?, 'INBOX', 1, 3, 0)`).run(box);
    db.prepare(`INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES ('b', 1, 2, x'78', 0)`).run();
    const now = Date.parse('2026-06-01T00:00:00Z');
    for (const [uid, days] of [
      [1, 90],
      [2, 89],
    ]) {
      db.prepare(
        `INSERT INTO messages (mailbox_id, uid, modseq, internal_date, arrived_at, size, body_hash, envelope, structure)
         VALUES (1, ?, 1, 0, ?, 1, 'b', '{}', '{}')`,
      ).run(uid, now - days * 86_400_000);
    }

    const dry = run('purge', '--dry-run', '--now', '2026-06-01T00:00:00Z', '--json');
    t.equal(dry.status, 0, dry.stderr);
    const report = JSON.parse(dry.stdout);
    t.equal(report.dryRun, true);
    t.equal(report.total, 1);
    t.same(report.boxes, [{ box: 'jean.dupont@exemple.fr', accountId: box, mailboxes: { INBOX: 1 }, total: 1 }]);
    t.equal((db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n, 2, 'dry run deleted nothing');

    const real = run('purge', '--now', '2026-06-01T00:00:00Z');
    t.equal(real.status, 0, real.stderr);
    t.match(real.stdout, /jean\.dupont@exemple\.fr: 1 \(INBOX 1\)/);
    t.match(real.stdout, /deleted 1 message\(s\)/);
    t.same(db.prepare('SELECT uid FROM messages').all(), [{ uid: 2 }]);

    refused(t, run('purge', '--now', 'yesterday'), /--now: 'yesterday' is not an ISO 8601 date/);
    refused(t, run('purge', '--now', '2026-02-30'), /--now/);
  });

  t.test('message status', async (t) => {
    const { db, run } = setup();
    t.teardown(() => db.close());
    const alice = addAccount(db, 'PER', 'alice@exemple.fr');
    db.prepare(
      `INSERT INTO deliveries (queue_id, source, received_at, mail_from, message_id, size)
       VALUES ('Q1', 'submission', 0, 'jean@exemple.mssante.fr', '<m1@exemple.mssante.fr>', 10)`,
    ).run();
    db.prepare(`INSERT INTO delivery_recipients (delivery_id, address, account_id, outcome) VALUES (1, 'alice@exemple.fr', ?, 'delivered')`).run(alice);
    db.prepare(`INSERT INTO delivery_recipients (delivery_id, address, account_id, outcome) VALUES (1, 'bob@ch.mssante.fr', NULL, 'queued')`).run();

    const none = JSON.parse(run('message', 'status', 'm1@exemple.mssante.fr', '--json').stdout);
    t.equal(none.status, 'none');
    t.same(none.remote, [{ address: 'bob@ch.mssante.fr', status: 'unknown' }]);
    db.prepare(`INSERT INTO openings (message_id, account_id, opened_at) VALUES ('<m1@exemple.mssante.fr>', ?, 5)`).run(alice);
    const text = run('message', 'status', '<m1@exemple.mssante.fr>').stdout;
    t.match(text, /status: all \(opened by 1 of 1 local recipient\(s\)\)/);
    t.match(text, /bob@ch\.mssante\.fr {2}unknown/);
    refused(t, run('message', 'status', '<nope@x>'), /unknown Message-ID: <nope@x>/);
  });

  t.test('directory publish and search', async (t) => {
    const { dir, db, run } = setup();
    t.teardown(() => db.close());
    const org = addAccount(db, 'ORG', 'pharmacie@exemple.fr', { org_name: 'Pharmacie Centrale', finess: '2A0000011' }, 'pharmacie@exemple.mssante.fr');
    const person = addAccount(
      db,
      'PER',
      'helene@exemple.fr',
      { first_name: 'Hélène', last_name: 'Lefèvre', rpps: '10001234567', postcode: '20000' },
      'helene.lefevre@exemple.mssante.fr',
    );
    db.prepare('INSERT INTO org_members (org_id, member_id, added_at) VALUES (?, ?, 0)').run(org, person);

    const dry = run('directory', 'publish', '--dry-run');
    t.equal(dry.status, 0, dry.stderr);
    t.match(dry.stdout, /2 entries to publish \(first publication\): 2 created, 0 updated, 0 removed/);
    t.match(dry.stdout, /\+ helene\.lefevre@exemple\.mssante\.fr \(PER 10001234567, Hélène Lefèvre\)/);
    t.notOk(existsSync(path.join(dir, 'annuaire')), 'dry run wrote nothing');

    const published = JSON.parse(run('directory', 'publish', '--json').stdout);
    t.equal(published.created, 2);
    t.same(readdirSync(path.join(dir, 'annuaire')).filter((f) => f.startsWith('latest-')).sort(), [
      'latest-diff.json',
      'latest-fhir.json',
      'latest-full.json',
    ]);
    t.match(run('directory', 'publish').stdout, /0 created, 0 updated, 0 removed/);

    const found = JSON.parse(run('directory', 'search', '--name', 'LEFEVRE', '--department', '2A', '--json').stdout);
    t.same(found.entries.map((e: { login: string }) => e.login), ['helene@exemple.fr']);
    t.same(found.entries[0].organisations, [{ address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie Centrale' }]);
    t.match(run('directory', 'search', '--finess', '2A0000011').stdout, /Pharmacie Centrale {2}ORG/);
    t.equal(run('directory', 'search', '--name', 'nobody').stdout, 'no match\n');
    refused(t, run('directory', 'search', '--rpps', '123'), /--rpps: '123': expected an RPPS number of 11 digits/);
    refused(t, run('directory', 'search', '--department', '20'), /--department: '20'/);
    refused(t, run('directory', 'search', '--name', '  '), /--name: must not be empty/);
  });
});
