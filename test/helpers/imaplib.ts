// One Python imaplib scenario (a script of test/e2e/clients/) against a fresh daemon holding one
// PER box, Alice's: the script gets host, IMAPS port, CA file, login and password, and prints
// what it saw as one JSON object, which the test then checks.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from './daemon';
import type { TapTest } from './tap';

export async function runImaplibScenario(t: TapTest, scriptName: string): Promise<Record<string, unknown>> {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  const script = path.join(__dirname, '..', 'e2e', 'clients', scriptName);
  const run = spawnSync('python3', [script, '127.0.0.1', String(env.ports.imaps), env.caFile, alice.login, TEST_PASSWORD], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.equal(run.status, 0, `imaplib scenario ${scriptName}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}
