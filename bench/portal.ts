// Benchmark: the self-service portal under 50 concurrent logged-in users (DESIGN.md target: page
// p99 <= 50 ms) while the MTA takes mail, to see that SMTP DATA p99 stays where it was.
// Each user logs in for real (password, then a TOTP code computed with otplib), then loops over:
// my box, notifications (read + save), forwards, automatic reply (read + save), directory search.
// SMTP: BENCH_SMTP_CONNECTIONS STARTTLS connections deliver 4 KB messages, first alone
// (baseline), then during the portal load.
//
//   npm run bench:portal     (BENCH_USERS=50 BENCH_SECONDS=20 BENCH_BASELINE_SECONDS=8 BENCH_THINK_MS=1000)
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'otplib';
import { issueCertificate } from '../src/tls/certificates';
import { migrate, openDatabase } from '../src/store/database';
import { createPersonAccount } from '../src/store/accounts';
import { hashPassword } from '../src/policy/password';
import { saveTotpEnrolment } from '../src/store/second-factors';
import { newTotpSecret } from '../src/web/portal/second-factor';
import { BenchSmtpClient } from './lib/smtp-client';
import { BENCH_PASSWORD, envNumber, machine, peakRssMiB, percentile, prepare, startDaemon, stopDaemon } from './lib/harness';

const USERS = envNumber('BENCH_USERS', 50);
const SECONDS = envNumber('BENCH_SECONDS', 20);
const BASELINE_SECONDS = envNumber('BENCH_BASELINE_SECONDS', 8);
const SMTP_CONNECTIONS = envNumber('BENCH_SMTP_CONNECTIONS', 2);
/** Pause of a user between two pages (reading, typing): a person, not a crawler. 0 = closed loop. */
const THINK_MS = envNumber('BENCH_THINK_MS', 1000);
const PEER_DOMAIN = 'hopital-fictif.mssante.fr';
const PEER_DN = { CN: 'mx.operateur-fictif.fr', OU: '00000000000001', O: 'Operateur Fictif', ST: 'Paris (75)', C: 'FR' };

interface Answer {
  status: number;
  body: string;
  location?: string;
  cookies: string[];
}

/** One browser-like user: a keep-alive connection, its cookies, its CSRF token. */
class PortalUser {
  private readonly agent: https.Agent;
  private readonly jar = new Map<string, string>();

  constructor(
    private readonly port: number,
    private readonly ca: string,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<Answer> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: this.port,
          servername: 'localhost',
          ca: this.ca,
          method,
          path: url,
          agent: this.agent,
          headers: {
            cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
            for (const cookie of cookies) {
              const [pair] = cookie.split(';');
              const eq = pair.indexOf('=');
              this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
            }
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location, cookies });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  static csrf(body: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(body);
    if (!match) throw new Error('no CSRF token in the page');
    return match[1];
  }

  async login(login: string, secret: string): Promise<void> {
    const form = await this.request('GET', '/connexion');
    const step1 = await this.request('POST', '/connexion', { _csrf: PortalUser.csrf(form.body), login, password: BENCH_PASSWORD });
    if (step1.location !== '/connexion/code') throw new Error(`password step: ${step1.status}`);
    const codePage = await this.request('GET', '/connexion/code');
    const step2 = await this.request('POST', '/connexion/code', { _csrf: PortalUser.csrf(codePage.body), mode: 'totp', code: await generate({ secret }) });
    if (step2.location !== '/compte') throw new Error(`second factor: ${step2.status} ${step2.location}`);
  }

  close(): void {
    this.agent.destroy();
  }
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)), max: Number((sorted[sorted.length - 1] ?? NaN).toFixed(2)) };
}

async function main(): Promise<void> {
  // prepare() gives every listener a free port; the portal's is bench.ports.https.
  const bench = await prepare({ log: { level: 'info' } });
  // Boxes and TOTP enrolments written straight into the store (50 CLI runs would take minutes on
  // a shared machine; provisioning and enrolment pages are not what is measured).
  const boxes: string[] = [];
  const secrets: string[] = [];
  {
    const db = openDatabase(bench.dataDir);
    migrate(db);
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    for (let i = 0; i < USERS; i++) {
      const account = createPersonAccount(db, { mssante: ['bench.mssante.fr'] }, {
        type: 'PER', login: `user${i}@bench-hopital.fr`, firstName: 'User', lastName: `Bench${i}`, rpps: String(10000000100 + i), passwordHash,
      });
      boxes.push(`user.bench${i}@bench.mssante.fr`);
      const secret = newTotpSecret();
      saveTotpEnrolment(db, account.id, secret, 0, Date.now());
      secrets.push(secret);
    }
    db.close();
  }
  const daemon = await startDaemon(bench);
  const ca = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  const caKey = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.key'), 'utf8');
  const clientCert = issueCertificate({ certPem: ca, keyPem: caKey }, { subject: PEER_DN, usage: 'client', days: 1 });

  // SMTP probes: DATA reply times, tagged with the phase they fall in.
  type Phase = 'baseline' | 'load' | 'done';
  let phase = 'baseline' as Phase;
  const phaseNow = (): Phase => phase;
  const dataMs: Record<'baseline' | 'load', number[]> = { baseline: [], load: [] };
  const smtpClients = await Promise.all(
    Array.from({ length: SMTP_CONNECTIONS }, () =>
      BenchSmtpClient.connect('127.0.0.1', bench.ports.smtp, { helo: 'mx.operateur-fictif.fr', tls: { ca, cert: clientCert.certPem, key: clientCert.keyPem } }),
    ),
  );
  const body = (n: number, to: string) =>
    Buffer.from(
      `From: <dr.bench@${PEER_DOMAIN}>\r\nTo: <${to}>\r\nSubject: bench ${n}\r\nMessage-ID: <portal-bench-${n}-${Date.now()}@${PEER_DOMAIN}>\r\n` +
        `Date: ${new Date().toUTCString()}\r\n\r\n${'Compte rendu de consultation, suite au cabinet.\r\n'.repeat(80)}`,
    );
  const smtp = Promise.all(
    smtpClients.map(async (client, c) => {
      for (let n = 0; phaseNow() !== 'done'; n++) {
        const current = phaseNow();
        const ms = await client.send(`dr.bench@${PEER_DOMAIN}`, boxes[(c + n) % boxes.length], body(c * 1_000_000 + n, boxes[(c + n) % boxes.length]));
        // A DATA that straddled a phase change counts for neither phase.
        if (current !== 'done' && phaseNow() === current) dataMs[current].push(ms);
      }
      await client.quit();
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, BASELINE_SECONDS * 1000));

  // Log everybody in (not measured), then browse and save for SECONDS.
  const users = Array.from({ length: USERS }, () => new PortalUser(bench.ports.https, ca));
  const loginStarted = Date.now();
  await Promise.all(users.map((user, i) => user.login(`user${i}@bench-hopital.fr`, secrets[i])));
  const loginSeconds = (Date.now() - loginStarted) / 1000;
  phase = 'load';
  const pageMs: number[] = [];
  const errors: string[] = [];
  const deadline = Date.now() + SECONDS * 1000;
  const timed = async (user: PortalUser, method: 'GET' | 'POST', url: string, form?: Record<string, string>) => {
    const started = process.hrtime.bigint();
    const answer = await user.request(method, url, form);
    pageMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (answer.status >= 400) errors.push(`${method} ${url}: ${answer.status}`);
    // Think time, jittered ±50% so that users do not click in step.
    if (THINK_MS > 0) await new Promise((resolve) => setTimeout(resolve, THINK_MS * (0.5 + Math.random())));
    return answer;
  };
  await Promise.all(
    users.map(async (user, i) => {
      for (let n = 0; Date.now() < deadline; n++) {
        await timed(user, 'GET', '/compte');
        const notifications = await timed(user, 'GET', '/compte/notifications');
        await timed(user, 'POST', '/compte/notifications', { _csrf: PortalUser.csrf(notifications.body), ...(n % 2 === 0 ? { each: 'on' } : {}), daily: 'on' });
        await timed(user, 'GET', '/compte/transferts');
        const autoreply = await timed(user, 'GET', '/compte/reponse-automatique');
        const start = new Date(Date.now() + 86_400_000);
        const local = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T08:00`;
        await timed(user, 'POST', '/compte/reponse-automatique', {
          _csrf: PortalUser.csrf(autoreply.body),
          active: 'on',
          start: local(start),
          end: local(new Date(start.getTime() + 7 * 86_400_000)),
          subject: `Absence ${i}`,
          body: 'Je suis absent ; pour une urgence, appelez le secrétariat.',
        });
        await timed(user, 'GET', `/annuaire?name=bench${i % 10}`);
      }
    }),
  );
  phase = 'done';
  await smtp;
  users.forEach((user) => user.close());
  const rss = peakRssMiB(daemon.pid!);
  await stopDaemon(bench);

  const result = {
    benchmark: 'portal',
    machine: machine(),
    users: USERS,
    thinkMs: THINK_MS,
    seconds: SECONDS,
    loginSeconds: Number(loginSeconds.toFixed(2)),
    pages: summary(pageMs),
    pagesPerSecond: Math.round(pageMs.length / SECONDS),
    errors: errors.length,
    smtpDataMs: { baseline: summary(dataMs.baseline), duringPortalLoad: summary(dataMs.load) },
    daemonPeakRssMiB: Number(rss.toFixed(1)),
  };
  console.log(`portal on ${result.machine} (shared machine: other agents were running)`);
  console.log(`  ${USERS} users logged in (password + TOTP) in ${result.loginSeconds} s, then ${SECONDS} s of browsing and saving (think time ${THINK_MS} ms ±50%)`);
  console.log(`  pages: ${result.pages.count} (${result.pagesPerSecond}/s), p50 ${result.pages.p50} ms, p99 ${result.pages.p99} ms, max ${result.pages.max} ms; errors ${result.errors}`);
  console.log(`  SMTP DATA (${SMTP_CONNECTIONS} connections): alone p99 ${result.smtpDataMs.baseline.p99} ms (${result.smtpDataMs.baseline.count}), during portal load p99 ${result.smtpDataMs.duringPortalLoad.p99} ms (${result.smtpDataMs.duringPortalLoad.count})`);
  console.log(JSON.stringify(result));
  if (errors.length > 0) {
    console.error(errors.slice(0, 5).join('\n'));
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
