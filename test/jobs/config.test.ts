// Config keys of the scheduled jobs: defaults, and refusals that name the key.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';

function writeConfig(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mssd-jobs-config-')), 'mssd.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

t.test('defaults', async (t) => {
  const config = loadConfig();
  t.equal(config.schedules.timezone, 'Europe/Paris');
  t.same([config.retention.days, config.retention.auditDays, config.retention.queueDays], [90, 365, 30]);
  t.same([config.trustSpace.checksumFile, config.trustSpace.allowlistUrl, config.trustSpace.checksumUrl], ['', '', '']);
  t.same([config.directory.endpoint, config.directory.fhirBase, config.directory.caFile], ['', '', '']);
  t.same(config.directory.retryDelays, ['10s', '1m', '5m']);
});

t.test('accepted values; relative paths resolved against the config file', async (t) => {
  const file = writeConfig({
    schedules: { timezone: 'America/Cayenne', purge: '*/10 * * * * *' },
    trustSpace: { checksumFile: 'lb.sha256', allowlistUrl: 'https://listeblanche.example/lb.xml', checksumUrl: 'https://listeblanche.example/lb.xml.sha256' },
    directory: { endpoint: 'https://annuaire.example/api/publication', caFile: 'ca.pem', retryDelays: [] },
    retention: { auditDays: 730, queueDays: 7 },
  });
  const config = loadConfig(file);
  t.equal(config.schedules.timezone, 'America/Cayenne');
  t.equal(config.trustSpace.checksumFile, path.join(path.dirname(file), 'lb.sha256'));
  t.equal(config.directory.caFile, path.join(path.dirname(file), 'ca.pem'));
  t.same(config.directory.retryDelays, []);
});

t.test('refusals name the key', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ schedules: { timezone: 'Europe/Nowhere' } }, /schedules\.timezone: expected an IANA time zone/],
    [{ schedules: { timezone: '' } }, /schedules\.timezone: /],
    [{ directory: { endpoint: 'http://annuaire.example/' } }, /directory\.endpoint: expected an https:\/\/ URL/],
    [{ directory: { endpoint: 'annuaire' } }, /directory\.endpoint: /],
    [{ directory: { retryDelays: ['soon'] } }, /directory\.retryDelays\.0: expected a duration/],
    [{ trustSpace: { allowlistUrl: 'ftp://x.example/lb.xml' } }, /trustSpace\.allowlistUrl: /],
    [{ directory: { fhirBase: 'http://annuaire.example/fhir' } }, /directory\.fhirBase: /],
    [{ trustSpace: { checksumUrl: 'https://x.example/lb.sha256' } }, /trustSpace\.checksumUrl: needs trustSpace\.allowlistUrl/],
    [{ retention: { auditDays: 0 } }, /retention\.auditDays: /],
    [{ retention: { queueDays: 1.5 } }, /retention\.queueDays: /],
  ];
  for (const [content, pattern] of cases) {
    t.throws(() => loadConfig(writeConfig(content)), pattern, JSON.stringify(content));
  }
});
