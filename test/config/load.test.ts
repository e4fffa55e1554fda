import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, projectRoot } from '../../src/config/load';

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
