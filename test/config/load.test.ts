import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, projectRoot } from '../../src/config/load';
import { imapWorkerCount } from '../../src/imap/workers';

function writeConfig(content: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-config-'));
  const file = path.join(dir, 'mssd.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

t.test('embedded defaults are valid and keep data under the project root', async (t) => {
  const config = loadConfig();
  t.equal(config.dataDir, path.join(projectRoot, 'data'));
  t.equal(config.limits.maxRecipients, 40);
  t.equal(config.retention.days, 90);
  t.equal(config.directory.outputDir, path.join(projectRoot, 'data', 'directory'));
});

t.test('an operator file is merged key by key and its paths are relative to it', async (t) => {
  const file = writeConfig({ domains: { mssante: ['ch-test.mssante.fr'] }, listen: { smtp: { port: 0 } }, dataDir: 'var' });
  const config = loadConfig(file);
  t.same(config.domains.mssante, ['ch-test.mssante.fr']);
  t.same(config.domains.internal, ['exemple.fr'], 'untouched sibling key keeps its default');
  t.equal(config.listen.smtp.port, 0);
  t.equal(config.listen.smtp.host, '127.0.0.1', 'merged inside listen.smtp too');
  t.equal(config.dataDir, path.join(path.dirname(file), 'var'));
});

t.test('bad configs name the offending key', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ listen: { smtp: { prot: 25 } } }, /listen\.smtp\.prot: unknown key/],
    [{ colour: 'blue' }, /colour: unknown key/],
    [{ listen: { imap: { port: 'x' } } }, /listen\.imap\.port: /],
    [{ listen: { imap: { port: 70000 } } }, /listen\.imap\.port: /],
    [{ schedules: { purge: 'every night' } }, /schedules\.purge: expected a cron expression/],
    [{ relay: { maxAge: '5 days' } }, /relay\.maxAge: expected a duration/],
    [{ domains: { mssante: [] } }, /domains\.mssante: at least one/],
    [{ tls: { certFile: '/x.pem' } }, /tls\.keyFile: /],
    ['{ not json', /not valid JSON/],
  ];
  for (const [content, pattern] of cases) {
    const file = writeConfig(content);
    t.throws(() => loadConfig(file), { name: 'ConfigError' }, JSON.stringify(content));
    try {
      loadConfig(file);
    } catch (err) {
      t.match((err as Error).message, pattern);
      t.notMatch((err as Error).message, /\n/, 'one line');
    }
  }
  t.throws(() => loadConfig('/nonexistent/mssd.json'), /cannot read/);
});

t.test('imap.workers: one IMAP process per core by default, a whole number from 0 to 64', async (t) => {
  t.equal(loadConfig().imap.workers, 0, 'default: 0, one worker per core');
  t.equal(imapWorkerCount(loadConfig(writeConfig({ imap: { workers: 1 } }))), 0, '1: IMAP stays in the main process (no worker)');
  t.equal(imapWorkerCount(loadConfig(writeConfig({ imap: { workers: 3 } }))), 3);
  t.equal(imapWorkerCount(loadConfig()), os.availableParallelism() > 1 ? os.availableParallelism() : 0, '0: as many as the cores, none on one core');
  for (const workers of [-1, 1.5, 65, '2']) {
    t.throws(() => loadConfig(writeConfig({ imap: { workers } })), { name: 'ConfigError', message: /imap\.workers/ }, `imap.workers: ${JSON.stringify(workers)}`);
  }
  t.throws(() => loadConfig(writeConfig({ imap: { worker: 2 } })), { name: 'ConfigError', message: /imap/ }, 'an unknown key under imap');
});
