// Test harness: a temporary data directory and config, free loopback ports, the real daemon
// started as `bin/mssd serve` in a child process, and the CLI run the way an operator runs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '..', '..');
export const mssdBin = path.join(projectRoot, 'bin', 'mssd');
/** The real national allowlist, shared beside the repository (never copied into it). */
export const realAllowlist = path.resolve(projectRoot, '..', 'shared', 'data', 'listeblanchemssante.xml');
export const sampleAllowlist = path.join(projectRoot, 'config', 'listeblanche-exemple.xml');

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

export interface TestEnv {
  dir: string;
  dataDir: string;
  configFile: string;
  ports: { smtp: number; submission: number; submissions: number; imap: number; imaps: number; https: number; admin: number };
  /** The development CA the daemon generated (after start). */
  caFile: string;
  caKeyFile: string;
}

/** Writes a config for a daemon on free ports; `overrides` is merged by the daemon like any file. */
export async function makeEnv(overrides: Record<string, unknown> = {}): Promise<TestEnv> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-e2e-'));
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
  const config = {
    hostname: 'mx.mssd-test.mssante.fr',
    dataDir,
    domains: { mssante: ['mssd-test.mssante.fr'], internal: ['hopital-test.fr'] },
    listen: Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, { host: '127.0.0.1', port }])),
    trustSpace: { allowlistFile: realAllowlist },
    log: { level: 'info' },
    ...overrides,
  };
  const configFile = path.join(dir, 'mssd.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return {
    dir,
    dataDir,
    configFile,
    ports,
    caFile: path.join(dataDir, 'tls', 'dev-ca.pem'),
    caKeyFile: path.join(dataDir, 'tls', 'dev-ca.key'),
  };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  json: <T = any>() => T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs `bin/mssd ARGS --config FILE` synchronously, as an operator would. */
export function cli(env: TestEnv, args: string[], input?: string): CliResult {
  const result = spawnSync(process.execPath, [mssdBin, ...args, '--config', env.configFile], {
    input,
    encoding: 'utf8',
    cwd: os.tmpdir(),
  });
  return {
    status: result.status ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    json: () => JSON.parse(result.stdout),
  };
}

export const TEST_PASSWORD = 'Secret-pass-2026!';

/** Creates an active PER account through the CLI and returns its addresses. */
export function createPer(env: TestEnv, first: string, last: string, rpps: string): { login: string; mssante: string } {
  const login = `${first}.${last}@hopital-test.fr`.toLowerCase();
  const result = cli(
    env,
    ['account', 'create', '--type', 'PER', '--login', login, '--first-name', first, '--last-name', last, '--rpps', rpps, '--password-stdin', '--json'],
    `${TEST_PASSWORD}\n`,
  );
  if (result.status !== 0) throw new Error(`account create failed: ${result.stderr}`);
  const shown = cli(env, ['account', 'show', login, '--json']).json<{ addresses: Array<{ address: string; kind: string }> }>();
  const mssante = shown.addresses.find((a) => a.kind === 'mssante')?.address;
  if (!mssante) throw new Error(`no MSSanté address for ${login}`);
  return { login, mssante };
}

export interface RunningDaemon {
  process: ChildProcess;
  logs: () => Array<Record<string, unknown>>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `bin/mssd serve` and resolves once it logged "mssd ready". The free ports of makeEnv are
 * only free when chosen: a client socket of another test running in parallel can take one as its
 * ephemeral source port before the daemon binds it. Then the daemon stops with "address already
 * in use", and the listeners are moved to new free ports (env.ports and the config file are
 * updated in place) for another start, at most three in all.
 */
export async function startDaemon(env: TestEnv, timeoutMs = 30_000): Promise<RunningDaemon> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDaemonOnce(env, timeoutMs);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test((err as Error).message)) throw err;
      await moveToFreePorts(env);
    }
  }
}

async function moveToFreePorts(env: TestEnv): Promise<void> {
  const config = JSON.parse(readFileSync(env.configFile, 'utf8')) as { listen: Record<string, { host: string; port: number }> };
  for (const name of Object.keys(env.ports) as Array<keyof TestEnv['ports']>) {
    const listener = config.listen?.[name];
    if (!listener || listener.port === 0 || listener.port !== env.ports[name]) continue;
    env.ports[name] = await freePort();
    listener.port = env.ports[name];
  }
  writeFileSync(env.configFile, JSON.stringify(config, null, 2));
}

async function startDaemonOnce(env: TestEnv, timeoutMs: number): Promise<RunningDaemon> {
  const child = spawn(process.execPath, [mssdBin, 'serve', '--config', env.configFile], {
    cwd: os.tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready after ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          lines.push(entry);
          if (entry.msg === 'mssd ready') {
            clearTimeout(timer);
            resolve();
          }
        } catch {
          lines.push({ raw: line });
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before ready; stderr: ${stderr}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    // A daemon that never became ready must not outlive the test: it would hold its ports (and
    // the data directory's lock) while other tests run.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  }
  return {
    process: child,
    logs: () => lines,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function readCa(env: TestEnv): { certPem: string; keyPem: string } {
  return { certPem: readFileSync(env.caFile, 'utf8'), keyPem: readFileSync(env.caKeyFile, 'utf8') };
}
