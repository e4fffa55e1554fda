// Benchmark: the cost of a full IMAP login cycle per method (issue 11: "login cost per method in
// logins/s; device password verification must not make a full login cycle slower than today").
// A throw-away daemon (real bin/mssd), a few boxes with a device password each and tokens signed
// by a key of a JWKS file; then, for each method in turn, CONCURRENCY clients loop over
// TLS connect + greeting → LOGIN (or AUTHENTICATE XOAUTH2) → LOGOUT → close, for SECONDS.
//
//   npm run bench:login      (BENCH_SECONDS=8 BENCH_CONCURRENCY=4)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { BENCH_PASSWORD, envNumber, machine, percentile, prepare, provisionBoxes, runCli, startDaemon, stopDaemon } from './lib/harness';

const SECONDS = envNumber('BENCH_SECONDS', 8);
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 4);
const BOXES = 4;
const ISSUER = 'https://bench-issuer.example';
const AUDIENCE = 'mssd-bench';

type Method = 'account password' | 'device password' | 'token (XOAUTH2)';

/** One login cycle; resolves with its duration in ms, rejects when the login is refused. */
function cycle(port: number, ca: string, command: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', minVersion: 'TLSv1.2' });
    socket.setNoDelay(true);
    let buffer = '';
    let stage: 'greeting' | 'login' | 'logout' = 'greeting';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      if (stage === 'greeting' && buffer.includes('\r\n')) {
        stage = 'login';
        buffer = '';
        socket.write(`a ${command}\r\n`);
      } else if (stage === 'login' && /(^|\r\n)a (OK|NO|BAD)[^\r\n]*\r\n/.test(buffer)) {
        if (!/(^|\r\n)a OK/.test(buffer)) {
          socket.destroy();
          reject(new Error(`login refused: ${buffer.trim()}`));
          return;
        }
        stage = 'logout';
        buffer = '';
        socket.write('b LOGOUT\r\n');
      }
    });
    socket.on('close', () => (stage === 'logout' ? resolve(performance.now() - started) : reject(new Error(`closed during ${stage}`))));
    socket.on('error', reject);
  });
}

async function measure(port: number, ca: string, commands: string[]): Promise<{ perSecond: number; p50: number; p99: number; count: number }> {
  const durations: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) durations.push(await cycle(port, ca, commands[next++ % commands.length]));
    }),
  );
  durations.sort((a, b) => a - b);
  return { perSecond: durations.length / SECONDS, p50: percentile(durations, 50), p99: percentile(durations, 99), count: durations.length };
}

async function main(): Promise<void> {
  const jose = await import('jose');
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const bench = await prepare();
  const jwksFile = path.join(bench.dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }] }));
  const config = JSON.parse(readFileSync(bench.configFile, 'utf8')) as Record<string, unknown>;
  config.auth = { oauth: { issuer: ISSUER, audience: AUDIENCE, jwks: jwksFile } };
  writeFileSync(bench.configFile, JSON.stringify(config));

  provisionBoxes(bench, BOXES);
  const logins = Array.from({ length: BOXES }, (_, i) => `user${i}@bench-hopital.fr`);
  const devicePasswords = logins.map((login) => (JSON.parse(runCli(bench, ['device', 'add', login, '--name', 'bench', '--json'])) as { password: string }).password);
  const tokens = await Promise.all(
    logins.map((_, i) =>
      new jose.SignJWT({ preferred_username: `8${10000000100 + i}` })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1h')
        .sign(privateKey),
    ),
  );
  const commands: Record<Method, string[]> = {
    'account password': logins.map((login) => `LOGIN ${login} "${BENCH_PASSWORD}"`),
    'device password': logins.map((login, i) => `LOGIN ${login} "${devicePasswords[i]}"`),
    'token (XOAUTH2)': logins.map((login, i) => `AUTHENTICATE XOAUTH2 ${Buffer.from(`user=${login}\x01auth=Bearer ${tokens[i]}\x01\x01`).toString('base64')}`),
  };

  await startDaemon(bench);
  const ca = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  try {
    console.log(`login benchmark: ${machine()}; ${CONCURRENCY} clients, ${SECONDS} s per method, IMAPS full cycles (TLS connect, login, LOGOUT)`);
    for (const method of Object.keys(commands) as Method[]) {
      for (let i = 0; i < 20; i++) await cycle(bench.ports.imaps, ca, commands[method][i % BOXES]); // warm-up: JIT, key set loaded
      const result = await measure(bench.ports.imaps, ca, commands[method]);
      console.log(`${method.padEnd(18)} ${result.perSecond.toFixed(1).padStart(7)} logins/s   p50 ${result.p50.toFixed(1)} ms   p99 ${result.p99.toFixed(1)} ms   (${result.count} cycles)`);
    }
  } finally {
    await stopDaemon(bench);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
