import t from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase } from '../../src/store/database';
import { watchExternalChanges } from '../../src/store/external-changes';

t.test('a commit by another connection is noticed, our own commits are not', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-watch-'));
  const daemonDb = openDatabase(dir);
  migrate(daemonDb);
  const operatorDb = openDatabase(dir);
  t.teardown(() => {
    daemonDb.close();
    operatorDb.close();
  });
  let changes = 0;
  const watcher = watchExternalChanges(daemonDb, () => changes++, 20);
  t.teardown(() => watcher.stop());

  daemonDb.prepare(`INSERT INTO job_runs (job, started_at) VALUES ('own', 1)`).run();
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.equal(changes, 0, 'own writes do not count');

  operatorDb.prepare(`INSERT INTO job_runs (job, started_at) VALUES ('other', 2)`).run();
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.equal(changes, 1, 'another connection committed once');
});
