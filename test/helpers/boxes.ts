// The setup the delivery e2e tests share (box rules, notifications): the operator CLI run
// asynchronously against a test daemon's config, persons created through it, a message submitted
// with nodemailer on the submission port, and a read of the daemon's database.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { mssdBin, TEST_PASSWORD, type TestEnv } from './daemon';

export interface Box {
  login: string;
  mssante: string;
}

/** `bin/mssd ARGS --config FILE`, asynchronously, so that the setup runs several at a time. */
export function mssd(env: TestEnv, args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mssdBin, ...args, '--config', env.configFile], { cwd: os.tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(input ?? '');
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The CLI's stdout; a non-zero exit fails the setup with its stderr. */
export async function mssdOk(env: TestEnv, args: string[], input?: string): Promise<string> {
  const result = await mssd(env, args, input);
  if (result.status !== 0) throw new Error(`mssd ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A PER box created with the CLI, password TEST_PASSWORD. */
export async function person(env: TestEnv, first: string, last: string, rpps: string): Promise<Box> {
  const login = `${first}.${last}@hopital-test.fr`.toLowerCase();
  const out = await mssdOk(
    env,
    ['account', 'create', '--type', 'PER', '--login', login, '--first-name', first, '--last-name', last, '--rpps', rpps, '--password-stdin', '--json'],
    `${TEST_PASSWORD}\n`,
  );
  const shown = JSON.parse(out) as { addresses: Array<{ address: string; kind: string }> };
  return { login, mssante: shown.addresses.find((a) => a.kind === 'mssante')!.address };
}

/** Submits `raw` as `user` on the submission port (STARTTLS, AUTH), with DSN parameters if given. */
export function submitMail(env: TestEnv, user: string, options: { from: string; to: string[]; raw: Buffer; dsn?: Record<string, unknown> }) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.ports.submission,
    requireTLS: true,
    auth: { user, pass: TEST_PASSWORD },
    tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
  });
  return transport
    .sendMail({ envelope: { from: options.from, to: options.to }, raw: options.raw, ...(options.dsn ? { dsn: options.dsn } : {}) })
    .finally(() => transport.close());
}

/** submitMail, resolving with the final reply line. */
export async function submit(env: TestEnv, user: string, from: string, to: string[], raw: Buffer): Promise<string> {
  return (await submitMail(env, user, { from, to, raw })).response;
}

/** Runs `work` on the daemon's database through a connection of its own. */
export function withDb<T>(env: TestEnv, work: (db: Database.Database) => T, readonly = true): T {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly });
  db.pragma('busy_timeout = 5000');
  try {
    return work(db);
  } finally {
    db.close();
  }
}
