// Allowlist refresh (R1): download from trustSpace.allowlistUrl (and its SHA-256 from
// checksumUrl), verified before it replaces anything; on any error the previous files stay.
import t from 'tap';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allowlistJob, downloadAllowlist } from '../../src/jobs/allowlist';
import { runJob } from '../../src/jobs/job';
import { recentJobRuns } from '../../src/store/job-runs';
import { realAllowlist, sampleAllowlist } from '../helpers/daemon';
import { freshDb, memoryLogger, tempDir, testConfig } from './fixtures';
import { startHttpsServer, testCa } from './https-fixtures';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

t.test('downloads, verifies and atomically replaces the list and its checksum', async (t) => {
  const dir = tempDir();
  const server = await startHttpsServer();
  t.teardown(() => server.close());
  const listFile = path.join(dir, 'listeblanchemssante.xml');
  const checksumFile = path.join(dir, 'listeblanchemssante.xml.sha256');
  copyFileSync(sampleAllowlist, listFile);
  writeFileSync(checksumFile, `${sha256(readFileSync(sampleAllowlist))}  listeblanchemssante.xml\n`);
  const config = testConfig(dir, (c) => {
    c.trustSpace.allowlistFile = listFile;
    c.trustSpace.checksumFile = checksumFile;
    c.trustSpace.allowlistUrl = `${server.url}/liste.xml`;
    c.trustSpace.checksumUrl = `${server.url}/liste.xml.sha256`;
  });
  const trust = { ca: [testCa().certPem] };
  const real = readFileSync(realAllowlist);
  const sample = readFileSync(sampleAllowlist);
  const before = () => [readFileSync(listFile), readFileSync(checksumFile, 'utf8')] as const;
  const leftovers = () => readdirSync(dir).filter((name) => name.startsWith('.allowlist-download'));

  await t.test('a good list and checksum replace the files', async (t) => {
    server.files.set('/liste.xml', real);
    server.files.set('/liste.xml.sha256', Buffer.from(`${sha256(real)}  listeblanchemssante.xml\n`));
    const report = await downloadAllowlist(config, { trust });
    t.equal(report.bytes, real.length);
    t.equal(report.sha256, sha256(real));
    t.ok(report.domains > 100);
    t.ok(readFileSync(listFile).equals(real));
    t.match(readFileSync(checksumFile, 'utf8'), sha256(real));
    t.same(leftovers(), []);
  });

  const refusals: Array<[string, () => void, RegExp]> = [
    ['a checksum that does not match', () => server.files.set('/liste.xml.sha256', Buffer.from(`${sha256(real)}\n`)), /SHA-256 is [0-9a-f]{64} but .* expects/],
    [
      'a truncated list with a matching checksum',
      () => {
        const truncated = real.subarray(0, real.length / 2);
        server.files.set('/liste.xml', truncated);
        server.files.set('/liste.xml.sha256', Buffer.from(`${sha256(truncated)}\n`));
      },
      /truncated download|not well-formed/,
    ],
    ['an HTTP error', () => server.files.delete('/liste.xml'), /cannot download .*liste\.xml: HTTP 404/],
  ];
  for (const [what, arrange, error] of refusals) {
    await t.test(`${what} is refused and the previous files stay`, async (t) => {
      server.files.set('/liste.xml', sample);
      server.files.set('/liste.xml.sha256', Buffer.from(`${sha256(sample)}\n`));
      arrange();
      const [list, checksum] = before();
      await t.rejects(downloadAllowlist(config, { trust }), error);
      t.ok(readFileSync(listFile).equals(list), 'list untouched');
      t.equal(readFileSync(checksumFile, 'utf8'), checksum, 'checksum untouched');
      t.same(leftovers(), [], 'staging directory removed');
    });
  }

  await t.test('an untrusted server certificate is refused', async (t) => {
    server.files.set('/liste.xml', sample);
    await t.rejects(downloadAllowlist(config, { trust: {} }), /certificate/i);
  });
});

t.test('allowlist job: a failed download still re-reads the file, and the run is recorded as failed', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const { log } = memoryLogger();
  const listFile = path.join(dir, 'liste.xml');
  copyFileSync(sampleAllowlist, listFile);
  const config = testConfig(dir, (c) => {
    c.trustSpace.allowlistFile = listFile;
    c.trustSpace.allowlistUrl = 'https://127.0.0.1:1/liste.xml';
  });
  let reloads = 0;
  const job = allowlistJob({
    config,
    db,
    log,
    reloadTrustSpace: () => {
      reloads++;
      return { domains: 3, dns: 2, counts: { domainsAdded: 0, domainsRemoved: 0, dnsAdded: 0, dnsRemoved: 0, authorizationsAdded: 0, authorizationsRemoved: 0 } };
    },
  });
  const outcome = await runJob(job, { db, log, trigger: 'sighup' });
  t.equal(outcome.status, 'failed');
  t.equal(reloads, 1);
  const [run] = recentJobRuns(db, { job: 'allowlist' });
  t.match(run.error, /cannot download https:\/\/127\.0\.0\.1:1\/liste\.xml/);
  t.match(run.counts, { trigger: 'sighup', domains: 3 });
});
