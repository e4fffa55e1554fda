// R13 with the real daemon running and the operator's CLI: publication files hold exactly the
// expected entries, the diff follows a visibility change, a suspension, a MED→PER change and a
// dematerialisation switch; an HTTPS endpoint (certificate from the daemon's development CA) that
// is down, then fails once, then accepts.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates';
import { cli, createPer, makeEnv, readCa, startDaemon, TEST_PASSWORD, type CliResult, type TestEnv } from '../helpers/daemon';
import { luhnCompleted } from '../helpers/fixtures';
import { mssd } from '../helpers/boxes';

interface Entry {
  address: string;
  type: string;
  identifier: string | null;
  firstName: string | null;
  lastName: string | null;
  dematerialisation: boolean;
}

/**
 * The national directory's side, listening from the start so that no other test takes its port:
 * while `down`, it cuts every connection; then it answers the scripted statuses, then 200, and
 * keeps each body. Its certificate is issued by the daemon's development CA once that exists.
 */
async function endpoint() {
  const placeholder = createCertificateAuthority({ CN: 'placeholder' }, 1);
  const state = { down: true, script: [] as number[], bodies: [] as Array<{ status: number; body: Record<string, unknown> }> };
  const server = https.createServer({ key: placeholder.keyPem, cert: placeholder.certPem }, (req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const status = state.script.shift() ?? 200;
      state.bodies.push({ status, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(status).end(status === 200 ? '{"accepted":true}' : 'indisponible');
    });
  });
  server.on('connection', (socket) => {
    if (state.down) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    /** Serves a certificate of the daemon's development CA from now on. */
    useDaemonCa(env: TestEnv) {
      const cert = issueCertificate(readCa(env), { subject: { CN: 'annuaire.test' }, altNames: ['127.0.0.1', 'localhost'], usage: 'server', days: 2 });
      server.setSecureContext({ key: cert.keyPem, cert: cert.certPem });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const addresses = (entries: Entry[]) => entries.map((e) => e.address);

/** `cli()` without blocking this process, whose event loop serves the endpoint meanwhile. */
async function cliAsync(env: TestEnv, args: string[]): Promise<CliResult> {
  const { status, stdout, stderr } = await mssd(env, args);
  return { status: status ?? -1, stdout, stderr, json: () => JSON.parse(stdout) };
}

t.test('national publication through the CLI while the daemon runs', async (t) => {
  const server = await endpoint();
  t.teardown(() => server.close());
  const env = await makeEnv({ directory: { endpoint: `https://127.0.0.1:${server.port}/annuaire/publication`, retryDelays: ['1s'] } });
  const outputDir = path.join(env.dataDir, 'directory');
  const run = (...args: string[]) => cliAsync(env, args);
  const ok = (...args: string[]) => {
    const result = cli(env, args);
    t.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
    return result;
  };

  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bruno = createPer(env, 'Bruno', 'Petit', '10000000002');
  const chloe = createPer(env, 'Chloé', 'Roux', '10000000003');
  t.equal(cli(env, ['account', 'create', '--type', 'MED', '--login', 'denis.morel@hopital-test.fr', '--first-name', 'Denis', '--last-name', 'Morel', '--password-stdin'], `${TEST_PASSWORD}\n`).status, 0);
  ok('account', 'create', '--type', 'INT', '--login', 'eva.blanc@hopital-test.fr', '--first-name', 'Éva', '--last-name', 'Blanc');
  ok('org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', 'pharmacie@mssd-test.mssante.fr', '--name', 'Pharmacie centrale',
    '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001', '--description', 'Officine');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  server.useDaemonCa(env);

  const expectedFirst = [alice.mssante, bruno.mssante, chloe.mssante, 'pharmacie@mssd-test.mssante.fr'].sort();

  await t.test('an unreachable endpoint: the run fails, writes no file, and the diff waits', async (t) => {
    const result = await run('directory', 'publish');
    t.equal(result.status, 1);
    t.equal(result.stdout, '');
    t.match(result.stderr, /^mssd: directory failed: publication not accepted \(https\): https:\/\/127\.0\.0\.1:\d+\/annuaire\/publication did not accept the publication after 2 attempt\(s\): .*(ECONNRESET|socket hang up|disconnected).*\n$/);
    t.notOk(existsSync(outputDir), 'no publication files');
    const runs = (await run('jobs', 'list', '--job', 'directory', '--json')).json<{ runs: Array<{ outcome: string; error: string }> }>().runs;
    t.match(runs[0], { outcome: 'failed', error: /ECONNRESET|socket hang up|disconnected/ });
  });

  server.down = false;
  server.script.push(503);

  await t.test('first publication: PER and ORG boxes, never MED or INT; endpoint retried once', async (t) => {
    const result = await run('directory', 'publish', '--json');
    t.equal(result.status, 0, result.stderr);
    const published = result.json<{ entries: number; created: number; since: string | null; written: string[] }>();
    t.same([published.entries, published.created, published.since], [4, 4, null]);
    t.same(server.bodies.map((b) => b.status), [503, 200], 'one failure then accepted, within the same run');
    t.same(addresses(server.bodies[1].body.created as Entry[]), expectedFirst);
    t.match(published.written[0], /^https:\/\/127\.0\.0\.1:\d+\/annuaire\/publication \(HTTP 200\)$/);

    const full = JSON.parse(readFileSync(path.join(outputDir, 'latest-full.json'), 'utf8')) as { entries: Entry[] };
    t.same(addresses(full.entries), expectedFirst, 'exactly the expected entries');
    const org = full.entries.find((e) => e.type === 'ORG')!;
    t.match(org, { identifier: luhnCompleted('75000001'), firstName: null, lastName: 'Pharmacie centrale' });
    t.match(full.entries.find((e) => e.address === alice.mssante), { type: 'PER', identifier: '10000000001', firstName: 'Alice', lastName: 'Martin', dematerialisation: false });
    const diff = JSON.parse(readFileSync(path.join(outputDir, 'latest-diff.json'), 'utf8')) as { created: Entry[]; updated: unknown[]; removed: Entry[] };
    t.same([addresses(diff.created), diff.updated, diff.removed], [expectedFirst, [], []]);
    // The same run's FHIR feed (DESIGN.md "National directory feed"): files only, no fhirBase here.
    const fhir = JSON.parse(readFileSync(path.join(outputDir, 'latest-fhir.json'), 'utf8')) as {
      resourceType: string; type: string; entry: Array<{ request: { method: string; url: string } }>;
    };
    t.same([fhir.resourceType, fhir.type], ['Bundle', 'batch']);
    t.ok(fhir.entry.length >= expectedFirst.length, 'an insert per declared box (liste rouge included)');
    t.ok(fhir.entry.every((e) => e.request.method === 'PATCH'));
    t.ok(fhir.entry.some((e) => e.request.url === `Organization?identifier=https://finess.esante.gouv.fr|${luhnCompleted('75000001')}`), 'the ORG by its FINESS');
  });

  await t.test('visibility off, suspension, MED→PER and dematerialisation: the diff says exactly that', async (t) => {
    ok('account', 'set', bruno.login, '--national-directory', 'off');
    ok('account', 'suspend', chloe.login);
    const upgraded = ok('account', 'set-type', 'denis.morel@hopital-test.fr', 'PER', '--rpps', '10000000004', '--json').json<{ addedAddress: string }>();
    ok('account', 'set', alice.login, '--dematerialisation', 'on');

    const result = await run('directory', 'publish');
    t.equal(result.status, 0, result.stderr);
    t.match(result.stdout, /3 entries to publish \(since [^)]+\): 1 created, 1 updated, 2 removed/);
    t.match(result.stdout, /sent to https:\/\/127\.0\.0\.1:\d+\/annuaire\/publication \(HTTP 200\)/);
    const sent = server.bodies[server.bodies.length - 1].body as { since: string; created: Entry[]; updated: Array<{ before: Entry; after: Entry }>; removed: Entry[] };
    t.same(addresses(sent.created), [upgraded.addedAddress], 'the former MED box appears');
    t.match(sent.created[0], { type: 'PER', identifier: '10000000004', firstName: 'Denis', lastName: 'Morel' });
    t.same(sent.updated.map((u) => [u.after.address, u.before.dematerialisation, u.after.dematerialisation]), [[alice.mssante, false, true]]);
    t.same(addresses(sent.removed), [bruno.mssante, chloe.mssante].sort(), 'liste rouge and suspended boxes are withdrawn');

    const diff = JSON.parse(readFileSync(path.join(outputDir, 'latest-diff.json'), 'utf8')) as typeof sent;
    t.same([addresses(diff.created), addresses(diff.removed), diff.since], [addresses(sent.created), addresses(sent.removed), sent.since]);
    const full = JSON.parse(readFileSync(path.join(outputDir, 'latest-full.json'), 'utf8')) as { entries: Entry[] };
    t.same(addresses(full.entries), [alice.mssante, upgraded.addedAddress, 'pharmacie@mssd-test.mssante.fr'].sort());
    t.equal(readdirSync(outputDir).filter((f) => /^diff-.*\.json$/.test(f)).length, 2, 'one diff file per accepted publication');

    const quiet = (await run('directory', 'publish', '--json')).json<{ created: number; updated: number; removed: number }>();
    t.same([quiet.created, quiet.updated, quiet.removed], [0, 0, 0], 'nothing changed, nothing to say');
  });
});
