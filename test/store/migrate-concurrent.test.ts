// Two processes opening a new store at once (CLI commands side by side, the CLI and the daemon)
// apply each migration once, and neither fails.
import t from 'tap';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mssdBin } from '../helpers/daemon';

t.test('concurrent `mssd migrate` on a new data directory', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-migrate-'));
  const configFile = path.join(dir, 'mssd.json');
  writeFileSync(configFile, JSON.stringify({ dataDir: path.join(dir, 'data') }));
  const run = () =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [mssdBin, 'migrate', '--config', configFile], { cwd: os.tmpdir() });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('close', (status) => resolve({ status, stderr }));
    });
  const results = await Promise.all([run(), run(), run(), run()]);
  for (const result of results) t.equal(result.status, 0, result.stderr);
  const db = new Database(path.join(dir, 'data', 'mssd.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{ version: number }>).map((row) => row.version);
  t.same(versions, [...new Set(versions)], 'each migration recorded once');
  t.ok(versions.length >= 4);
});
