// Shared benchmark plumbing: a throw-away daemon (real bin/mssd in a child process) on free
// loopback ports, account provisioning through the CLI, percentiles, peak RSS and machine facts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');
const mssd = path.join(root, 'bin', 'mssd');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface BenchDaemon {
  dir: string;
  dataDir: string;
  configFile: string;
  ports: Record<'smtp' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'https' | 'admin', number>;
  child?: ChildProcess;
}

export async function prepare(overrides: Record<string, unknown> = {}): Promise<BenchDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-bench-'));
  const dataDir = path.join(dir, 'data');
  const ports = {
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    https: await freePort(),
    admin: await freePort(),
  };
  const configFile = path.join(dir, 'mssd.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir,
      domains: { mssante: ['bench.mssante.fr'], internal: ['bench-hopital.fr'] },
      listen: Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, { host: '127.0.0.1', port }])),
      ...overrides,
    }),
  );
  return { dir, dataDir, configFile, ports };
}

export function runCli(bench: BenchDaemon, args: string[], input?: string): string {
  const result = spawnSync(process.execPath, [mssd, ...args, '--config', bench.configFile], { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mssd ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

export const BENCH_PASSWORD = 'Bench-pass-2026!';

/** Creates `count` PER boxes and returns their MSSanté addresses. */
export function provisionBoxes(bench: BenchDaemon, count: number): string[] {
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const login = `user${i}@bench-hopital.fr`;
    runCli(bench, ['account', 'create', '--type', 'PER', '--login', login, '--first-name', 'User', '--last-name', `Bench${i}`, '--rpps', String(10000000100 + i), '--password-stdin'], `${BENCH_PASSWORD}\n`);
    addresses.push(`user.bench${i}@bench.mssante.fr`);
  }
  return addresses;
}

export async function startDaemon(bench: BenchDaemon): Promise<ChildProcess> {
  // BENCH_PROFILE_DIR=/tmp/prof writes a V8 CPU profile of the daemon there, to see where time goes.
  const profile = process.env.BENCH_PROFILE_DIR ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, mssd, 'serve', '--config', bench.configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  bench.child = child;
  await untilReady(child);
  return child;
}

/** Resolves when the daemon logs "mssd ready", then keeps draining its log so it never blocks on a full pipe. */
export function untilReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (buffered.includes('"msg":"mssd ready"')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
  });
}

export async function stopDaemon(bench: BenchDaemon): Promise<void> {
  const child = bench.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Peak resident set size of a process, in MiB (Linux VmHWM). */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

export function currentRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`;
}

export function envNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number, got ${value}`);
  return parsed;
}
