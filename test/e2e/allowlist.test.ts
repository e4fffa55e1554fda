// R1 refresh with the real daemon: a list that fails its SHA-256 or is truncated is refused on
// SIGHUP and the MTA keeps accepting the domains of the list in force; a good new list lets a newly
// listed domain in without a restart.
import t from 'tap';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { openDatabase } from '../../src/store/database';
import { recentJobRuns, type JobRun } from '../../src/store/job-runs';
import { waitUntil } from '../helpers/wait';
import { createPer, makeEnv, sampleAllowlist, startDaemon, type TestEnv } from '../helpers/daemon';

const NEW_DOMAIN = 'nouveau-fictif.mssante.fr';

/** The sample list with one more Domaine. */
function listWithNewDomain(): Buffer {
  const sample = readFileSync(sampleAllowlist, 'utf8');
  const entry = `        <Domaine>
            <Nom>${NEW_DOMAIN}</Nom>
            <Description>Nouvel établissement</Description>
            <DNCertificatOperateur>CN=mx.nouveau-fictif.fr,OU=00000000000002,O=Nouveau Fictif,C=FR</DNCertificatOperateur>
            <ResponsableContact>01 00 00 00 03</ResponsableContact>
            <SupportContact>01 00 00 00 04</SupportContact>
            <DateMAJ>2026-11-22T00:00:00Z</DateMAJ>
        </Domaine>
    </ListeDomaines>`;
  return Buffer.from(sample.replace('    </ListeDomaines>', entry));
}

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

async function send(env: TestEnv, from: string, to: string): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.ports.smtp,
    requireTLS: true,
    name: 'mx.peer.example',
    tls: { ca: readFileSync(env.caFile) },
  });
  try {
    const raw = `From: <${from}>\r\nTo: <${to}>\r\nSubject: liste blanche\r\nMessage-ID: <${Date.now()}.${Math.random()}@peer.example>\r\n\r\nbonjour\r\n`;
    return (await transport.sendMail({ envelope: { from, to: [to] }, raw })).response;
  } catch (err) {
    return (err as { response?: string }).response ?? String(err);
  } finally {
    transport.close();
  }
}

t.test('allowlist refresh on SIGHUP: refused lists keep the old one working, a good one applies at once', async (t) => {
  const env = await makeEnv();
  const listFile = path.join(env.dir, 'listeblanche.xml');
  const checksumFile = path.join(env.dir, 'listeblanche.xml.sha256');
  copyFileSync(sampleAllowlist, listFile);
  writeFileSync(checksumFile, `${sha256(readFileSync(listFile))}  listeblanche.xml\n`);
  const config = JSON.parse(readFileSync(env.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(env.configFile, JSON.stringify({ ...config, trustSpace: { allowlistFile: listFile, checksumFile } }));

  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const db = openDatabase(env.dataDir);
  t.teardown(() => db.close());

  /** Sends SIGHUP and waits for the allowlist run it triggers. */
  const sighup = async (): Promise<JobRun> => {
    const before = recentJobRuns(db, { job: 'allowlist' }).length;
    daemon.process.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const runs = recentJobRuns(db, { job: 'allowlist' });
      if (runs.length > before && runs[0].outcome !== 'running') return runs[0];
      if (Date.now() > deadline) throw new Error('no allowlist run after SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const listed = `dr.fictif@hopital-fictif.mssante.fr`;
  const newcomer = `dr.nouveau@${NEW_DOMAIN}`;
  t.match(await send(env, listed, alice.mssante), /^250 /, 'a listed domain is accepted');
  t.match(await send(env, newcomer, alice.mssante), /^550 5\.7\.1 .*nouveau-fictif\.mssante\.fr/, 'an unlisted one is refused');

  await t.test('a list that does not match its SHA-256 is refused; the old one keeps working', async (t) => {
    writeFileSync(listFile, listWithNewDomain());
    const run = await sighup();
    t.equal(run.outcome, 'failed');
    t.match(run.error, /SHA-256 is [0-9a-f]{64} but .* expects/);
    t.match(run.counts, { trigger: 'sighup' });
    // the job's row can be visible before its log line has come through the daemon's stdout
    await waitUntil('the refusal log line', () => daemon.logs().some((l) => l.msg === 'trust space reload refused; the previous list stays in force'));
    t.match(await send(env, listed, alice.mssante), /^250 /);
    t.match(await send(env, newcomer, alice.mssante), /^550 5\.7\.1 /);
  });

  await t.test('a truncated list with a matching checksum is refused too', async (t) => {
    const truncated = listWithNewDomain().subarray(0, 900);
    writeFileSync(listFile, truncated);
    writeFileSync(checksumFile, `${sha256(truncated)}  listeblanche.xml\n`);
    const run = await sighup();
    t.equal(run.outcome, 'failed');
    t.match(run.error, /truncated download|not well-formed/);
    t.match(await send(env, listed, alice.mssante), /^250 /, 'the MTA still accepts a listed domain');
  });

  await t.test('a good new list applies without a restart, with the change counted in the log', async (t) => {
    const good = listWithNewDomain();
    writeFileSync(listFile, good);
    writeFileSync(checksumFile, `${sha256(good)}  listeblanche.xml\n`);
    const run = await sighup();
    t.equal(run.outcome, 'ok', String(run.error));
    t.match(run.counts, { trigger: 'sighup', domains: 4, domainsAdded: 1, domainsRemoved: 0, dnsAdded: 1 });
    // Log lines reach the test through a pipe, possibly after the job's row.
    await waitUntil('the reload log line', () => daemon.logs().some((l) => l.msg === 'trust space reloaded'));
    const line = daemon.logs().find((l) => l.msg === 'trust space reloaded');
    t.match(line, { domains: 4, domainsAdded: 1, domainsRemoved: 0, domainsAddedList: [NEW_DOMAIN] });
    t.match(await send(env, newcomer, alice.mssante), /^250 /, 'the newly listed domain gets in');
    t.match(await send(env, listed, alice.mssante), /^250 /);
  });
});
