// National publication through the HTTPS endpoint (R13): retries within a run, accepted only on
// 2xx, refused without retry on other 4xx, verified TLS, and an unreachable endpoint that leaves
// the diff (and no files) for the next run.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EndpointRefusedError, httpsSender } from '../../src/directory/https-sender';
import type { Publication } from '../../src/directory/publish';
import { directoryJob } from '../../src/jobs/directory';
import { runJob } from '../../src/jobs/job';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates';
import { freePort } from '../helpers/daemon';
import { freshDb, memoryLogger, tempDir, testConfig } from './fixtures';
import { startHttpsServer, testCa, writeTestCa } from './https-fixtures';

const entry = (address: string, lastName: string) => ({
  address,
  type: 'PER' as const,
  identifier: '10000000001',
  firstName: 'Jean',
  lastName,
  profession: null,
  structure: null,
  service: null,
  description: null,
  dematerialisation: false,
});

const publication: Publication = {
  publishedAt: new Date('2026-11-22T01:00:00Z'),
  since: new Date('2026-11-21T01:00:00Z'),
  entries: [entry('jean.dupont@x.mssante.fr', 'Dupont')],
  diff: { created: [entry('jean.dupont@x.mssante.fr', 'Dupont')], updated: [], removed: [entry('old@x.mssante.fr', 'Old')] },
};

t.test('https sender: retried with backoff until accepted, the diff as JSON', async (t) => {
  const server = await startHttpsServer();
  t.teardown(() => server.close());
  server.script = [503, 502];
  const failures: Array<[number, string, number | null]> = [];
  const sender = httpsSender({
    endpoint: `${server.url}/annuaire/diff`,
    operator: 'mx.operateur.fr',
    trust: { ca: [testCa().certPem] },
    retryDelays: [20, 40, 80],
    onAttemptFailed: (attempt, reason, next) => failures.push([attempt, reason, next]),
  });
  const started = Date.now();
  const where = await sender.send(publication);
  t.ok(Date.now() - started >= 60, 'waited between attempts');
  t.same(where, [`${server.url}/annuaire/diff (HTTP 200)`]);
  t.same(failures, [
    [1, 'HTTP 503: status 503', 20],
    [2, 'HTTP 502: status 502', 40],
  ]);
  t.equal(server.received.length, 3);
  const last = server.received[2];
  t.equal(last.method, 'POST');
  t.equal(last.url, '/annuaire/diff');
  t.equal(last.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(last.headers['x-publication-id'], '2026-11-22T01:00:00.000Z');
  t.same(JSON.parse(last.body), {
    operator: 'mx.operateur.fr',
    publishedAt: '2026-11-22T01:00:00.000Z',
    since: '2026-11-21T01:00:00.000Z',
    created: [entry('jean.dupont@x.mssante.fr', 'Dupont')],
    updated: [],
    removed: [entry('old@x.mssante.fr', 'Old')],
  });
});

t.test('https sender: a 4xx refusal is not retried; exhausted retries fail; bad certificates fail', async (t) => {
  const server = await startHttpsServer();
  t.teardown(() => server.close());
  const options = { endpoint: server.url, operator: 'mx', trust: { ca: [testCa().certPem] }, retryDelays: [5, 5] };

  server.script = [422];
  await t.rejects(httpsSender(options).send(publication), EndpointRefusedError);
  t.equal(server.received.length, 1, 'no retry after 422');

  server.received.length = 0;
  server.script = [503, 503, 503];
  await t.rejects(httpsSender(options).send(publication), /did not accept the publication after 3 attempt\(s\): HTTP 503/);
  t.equal(server.received.length, 3);

  server.received.length = 0;
  const otherCa = createCertificateAuthority({ CN: 'some other CA' }, 1);
  await t.rejects(httpsSender({ ...options, trust: { ca: [otherCa.certPem] }, retryDelays: [] }).send(publication), /certificate/i);
  t.equal(server.received.length, 0, 'nothing sent to an endpoint whose certificate does not verify');

  const controller = new AbortController();
  const port = await freePort();
  const pending = httpsSender({ ...options, endpoint: `https://127.0.0.1:${port}/`, retryDelays: [60_000], signal: controller.signal }).send(publication);
  setTimeout(() => controller.abort(), 50);
  await t.rejects(pending, /interrupted/, 'a stopping daemon does not wait out the backoff');
});

t.test('directory job: an unreachable endpoint leaves the diff and no files; the next run sends it all', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const { log, lines } = memoryLogger();
  // The endpoint's port is held from the start (no other test can take it); it cuts every
  // connection until it is "back".
  const server = await startHttpsServer();
  t.teardown(() => server.close());
  server.drop = true;
  const config = testConfig(dir, (c) => {
    c.directory.endpoint = `${server.url}/publication`;
    c.directory.caFile = writeTestCa(dir);
    c.directory.retryDelays = ['1s'];
  });
  const account = (login: string, mssante: string, last: string, rpps: string) => {
    const id = Number(
      db
        .prepare(`INSERT INTO accounts (type, status, login, first_name, last_name, rpps, created_at, updated_at) VALUES ('PER', 'active', ?, 'Jean', ?, ?, 0, 0)`)
        .run(login, last, rpps).lastInsertRowid,
    );
    db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES (?, ?, 'login'), (?, ?, 'mssante')`).run(login, id, mssante, id);
    return id;
  };
  account('a@h.fr', 'jean.a@x.mssante.fr', 'A', '10000000001');
  const job = directoryJob({ config, db, log });

  const failed = await runJob(job, { db, log, trigger: 'schedule', now: new Date('2026-11-22T01:00:00Z') });
  t.equal(failed.status, 'failed');
  if (failed.status === 'failed') t.match(failed.error.message, /publication not accepted \(https\): .*after 2 attempt\(s\): .*(ECONNRESET|socket hang up|disconnected)/);
  t.notOk(existsSync(config.directory.outputDir), 'no file claims a publication happened');
  t.same(db.prepare('SELECT status FROM directory_publications').pluck().all(), ['failed']);
  t.equal(lines.filter((l) => l.msg === 'publication endpoint did not accept the diff; retrying').length, 1);

  account('b@h.fr', 'jean.b@x.mssante.fr', 'B', '10000000002');
  server.drop = false;
  server.script = [503];
  const ok = await runJob(job, { db, log, trigger: 'schedule', now: new Date('2026-11-23T01:00:00Z') });
  t.equal(ok.status, 'ok');
  t.equal(server.received.length, 2, 'retried once within the run');
  const sent = JSON.parse(server.received[1].body) as { since: string | null; created: Array<{ address: string }> };
  t.equal(sent.since, null, 'still diffed against the last accepted publication (none)');
  t.same(sent.created.map((e) => e.address), ['jean.a@x.mssante.fr', 'jean.b@x.mssante.fr'], 'the first run\'s changes are not lost');
  t.same(db.prepare('SELECT status FROM directory_publications ORDER BY id').pluck().all(), ['failed', 'published']);
  const files = readdirSync(config.directory.outputDir).sort();
  t.same(files, [
    'diff-20261123T010000.000Z.json',
    'fhir-20261123T010000.000Z.json',
    'full-20261123T010000.000Z.json',
    'latest-diff.json',
    'latest-fhir.json',
    'latest-full.json',
  ], 'with the FHIR feed of the accepted run only (DESIGN.md "National directory feed")');
  t.same(
    JSON.parse(readFileSync(path.join(config.directory.outputDir, 'latest-diff.json'), 'utf8')).created.map((e: { address: string }) => e.address),
    ['jean.a@x.mssante.fr', 'jean.b@x.mssante.fr'],
  );
  if (ok.status === 'ok') t.match(ok.result.written[0], /^https:\/\/127\.0\.0\.1:\d+\/publication \(HTTP 200\)$/);

  const again = await runJob(job, { db, log, trigger: 'schedule', now: new Date('2026-11-24T01:00:00Z') });
  t.equal(again.status, 'ok');
  const third = JSON.parse(server.received[2].body) as { since: string; created: unknown[]; removed: unknown[] };
  t.equal(third.since, '2026-11-23T01:00:00.000Z');
  t.same([third.created, third.removed], [[], []]);
});

t.test('directory job with directory.fhirBase: the FHIR stand-in gets the requests with the operator certificate (relay.certFile)', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const { log, lines } = memoryLogger();
  const server = await startHttpsServer({ requireClientCertificate: true });
  t.teardown(() => server.close());
  const operator = issueCertificate(testCa(), { subject: { CN: 'mx.operateur-job.fr' }, usage: 'client', days: 2 });
  writeFileSync(path.join(dir, 'operator.pem'), operator.certPem);
  writeFileSync(path.join(dir, 'operator.key'), operator.keyPem);
  const config = testConfig(dir, (c) => {
    c.directory.fhirBase = `${server.url}/fhir`;
    c.directory.caFile = writeTestCa(dir);
    c.directory.retryDelays = ['1s'];
    c.relay.certFile = path.join(dir, 'operator.pem');
    c.relay.keyFile = path.join(dir, 'operator.key');
  });
  const id = Number(
    db
      .prepare(`INSERT INTO accounts (type, status, login, first_name, last_name, rpps, created_at, updated_at) VALUES ('PER', 'active', 'c@h.fr', 'Jean', 'C', '10000000003', 0, 0)`)
      .run().lastInsertRowid,
  );
  db.prepare(`INSERT INTO addresses (address, account_id, kind) VALUES ('c@h.fr', ?, 'login'), ('jean.c@x.mssante.fr', ?, 'mssante')`).run(id, id);
  server.script = [503];
  const run = await runJob(directoryJob({ config, db, log }), { db, log, trigger: 'schedule', now: new Date('2026-11-24T01:00:00Z') });
  t.equal(run.status, 'ok');
  t.same(server.received.map((r) => [r.method, decodeURIComponent(r.url), r.clientCN]), [
    ['PATCH', '/fhir/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000003', 'mx.operateur-job.fr'],
    ['PATCH', '/fhir/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000003', 'mx.operateur-job.fr'],
  ], 'retried after the 503, with the operator certificate each time');
  t.equal(lines.filter((l) => l.msg === 'FHIR directory request not accepted; retrying').length, 1);
  t.match(db.prepare(`SELECT counts FROM job_runs WHERE job = 'directory'`).pluck().get(), /"fhir":\{"requests":1,"accepted":1,"failed":0\}/, 'the job run counts the FHIR requests');
  t.ok(existsSync(path.join(config.directory.outputDir, 'latest-fhir.json')));
});
