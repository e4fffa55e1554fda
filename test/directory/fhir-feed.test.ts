// The FHIR directory feed (R13, DESIGN.md "National directory feed"): the batch Bundle of
// conditional PATCH requests for each kind of change, checked against what the ANS IGs declare
// (test/directory/fixtures/ans-mss-*.json, written by hand from reading them), its files, its
// per-box state, and its delivery to an HTTPS FHIR stand-in that requires the operator's client
// certificate.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { changeAccountType, createOrgAccount, createPersonAccount, setAccountStatus, updateAccountSettings } from '../../src/store/accounts';
import type { Db } from '../../src/store/database';
import { batchEntry, fhirChanges, type FhirBox, type FhirBundle } from '../../src/directory/fhir-feed';
import { publishFhirFeed, type FhirFeedOptions } from '../../src/directory/fhir-publish';
import { issueCertificate } from '../../src/tls/certificates';
import { freshDb, tempDir } from '../jobs/fixtures';
import { startHttpsServer, testCa } from '../jobs/https-fixtures';

const profile = JSON.parse(readFileSync(path.join(__dirname, 'fixtures/ans-mss-profile.json'), 'utf8'));
const examples = JSON.parse(readFileSync(path.join(__dirname, 'fixtures/ans-mss-examples.json'), 'utf8'));
const domains = { mssante: ['exemple.mssante.fr'] };

interface Ext { url: string; extension?: Ext[]; [value: string]: unknown }

/** Structure checks of every entry against the profile as the IGs declare it. */
function checkBundle(t: Test, bundle: FhirBundle): void {
  t.equal(bundle.resourceType, 'Bundle');
  t.equal(bundle.type, 'batch');
  for (const entry of bundle.entry) {
    t.equal(entry.request.method, 'PATCH');
    t.equal(entry.resource.resourceType, 'Parameters');
    const resource = entry.request.url.split('?')[0];
    const type = resource === 'Practitioner' ? 'PER' : 'ORG';
    t.match(entry.request.url, new RegExp(profile.conditionalUrls[type]), 'conditional URL by national identifier');
    for (const parameter of entry.resource.parameter) {
      t.equal(parameter.name, 'operation');
      const parts = parameter.part as Array<{ name: string; [value: string]: unknown }>;
      const opType = parts.find((p) => p.name === 'type')?.valueCode as string;
      t.ok(profile.patch.operationTypes.includes(opType), `operation type ${opType}`);
      t.same(parts.map((p) => p.name), profile.patch.partsByType[opType], 'the parts of that operation, in order');
      const pathValue = parts.find((p) => p.name === 'path')!.valueString as string;
      t.match(pathValue, new RegExp(opType === 'insert' ? profile.patch.insertPath : profile.patch.telecomPath));
      t.ok(pathValue.startsWith(`${resource}.`), 'the path is on the carrier resource');
      const value = parts.find((p) => p.name === 'value')?.valueContactPoint as { system: string; value: string; extension: Ext[] } | undefined;
      if (opType === 'delete') continue;
      t.equal(value?.system, 'email');
      if (opType === 'replace') t.ok(pathValue.includes(`'${value!.value}'`), 'replace targets the same address');
      const meta = value!.extension.filter((e) => e.url === profile.extensionUrl);
      t.equal(meta.length, 1, 'one as-ext-mailbox-mss-metadata');
      const seen = new Map<string, number>();
      for (const sub of meta[0].extension ?? []) {
        const rule = profile.subExtensions[sub.url];
        t.ok(rule, `sub-extension ${sub.url} is declared by the profile`);
        if (!rule) continue;
        seen.set(sub.url, (seen.get(sub.url) ?? 0) + 1);
        const valueKeys = Object.keys(sub).filter((k) => k.startsWith('value'));
        t.same(valueKeys, [rule.valueType], `${sub.url}: ${rule.valueType}`);
        if (sub.url === 'type') {
          const coding = (sub.valueCodeableConcept as { coding: Array<{ system: string; code: string }> }).coding;
          t.equal(coding[0].system, rule.codeSystem);
          t.ok(rule.codes.includes(coding[0].code), 'a code of the value set');
          t.equal(coding[0].code, type, 'the BAL type matches the carrier');
        }
        if (type === 'PER') t.notOk(profile.notForPer.includes(sub.url), `${sub.url} is not for a PER box`);
      }
      for (const [name, count] of seen) t.ok(count <= profile.subExtensions[name].max, `${name} at most once`);
      t.equal(seen.get('type'), 1, 'type present');
      t.equal(seen.get('listeRouge'), 1, 'listeRouge present');
    }
  }
}

function options(outputDir: string, more: Partial<FhirFeedOptions> = {}): FhirFeedOptions {
  return { outputDir, fhirBase: '', operator: 'mx.test', retryDelays: [], ...more };
}

async function run(t: Test, db: Db, dir: string, at: string, more: Partial<FhirFeedOptions> = {}) {
  const result = await publishFhirFeed(db, options(dir, more), new Date(at));
  const bundle = JSON.parse(readFileSync(path.join(dir, 'latest-fhir.json'), 'utf8')) as FhirBundle;
  checkBundle(t, bundle);
  return { result, bundle };
}

const ops = (bundle: FhirBundle) =>
  bundle.entry.map((e) => {
    const parts = e.resource.parameter[0].part as Array<{ name: string; valueCode?: string }>;
    return [parts.find((p) => p.name === 'type')!.valueCode, e.request.url];
  });
const metaOf = (bundle: FhirBundle, index: number) => {
  const value = (bundle.entry[index].resource.parameter[0].part as Array<{ name: string; valueContactPoint?: { extension: Ext[] } }>).find(
    (p) => p.name === 'value',
  )!.valueContactPoint!;
  return Object.fromEntries((value.extension[0].extension ?? []).map((e) => [e.url, e.valueBoolean ?? e.valueString ?? (e.valueCodeableConcept as { coding: Array<{ code: string }> }).coding[0].code]));
};

t.test('the requests of each change, checked against the IG profile', async (t) => {
  const db = freshDb(t);
  const dir = tempDir('mssd-fhir-');
  const PER_URL = 'Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810101234567';
  const ORG_URL = 'Organization?identifier=https://finess.esante.gouv.fr|750000010';

  createPersonAccount(db, domains, { type: 'PER', login: 'jean.dupont@exemple.fr', firstName: 'Jean', lastName: 'Dupont', rpps: '10101234567' });
  createOrgAccount(db, domains, {
    login: 'contact@pharmacie.fr', address: 'pharmacie@exemple.mssante.fr', name: 'Pharmacie', finess: '750000010',
    responsibleRpps: '10101234567', description: 'Pharmacie centrale',
  });
  createPersonAccount(db, domains, { type: 'MED', login: 'sec@exemple.fr', firstName: 'Sam', lastName: 'Sec' });

  await t.test('new PER and new ORG: inserts; the MED box is not declared', async (t) => {
    const { result, bundle } = await run(t, db, dir, '2026-11-01T02:00:00Z');
    t.same(ops(bundle), [['insert', PER_URL], ['insert', ORG_URL]]);
    t.same(metaOf(bundle, 0), { type: 'PER', digitization: false, listeRouge: false });
    t.same(bundle.entry[1], examples.insertOrg, 'the ORG insert is the IG example, field for field');
    t.same([result.requests, result.accepted, result.failed], [2, 2, []]);
    t.same(result.written.map((f) => path.basename(f)), ['fhir-20261101T020000.000Z.json', 'latest-fhir.json']);
    t.same(readFileSync(result.written[0], 'utf8'), readFileSync(result.written[1], 'utf8'));
  });

  await t.test('nothing changed: an empty batch', async (t) => {
    const { bundle } = await run(t, db, dir, '2026-11-02T02:00:00Z');
    t.same(bundle.entry, []);
  });

  await t.test('liste rouge on, then off: replace of the ContactPoint with listeRouge', async (t) => {
    updateAccountSettings(db, 'jean.dupont@exemple.fr', { nationalDirectory: false });
    let { bundle } = await run(t, db, dir, '2026-11-03T02:00:00Z');
    t.same(ops(bundle), [['replace', PER_URL]]);
    t.equal(metaOf(bundle, 0).listeRouge, true);
    updateAccountSettings(db, 'jean.dupont@exemple.fr', { nationalDirectory: true });
    ({ bundle } = await run(t, db, dir, '2026-11-04T02:00:00Z'));
    t.same(ops(bundle), [['replace', PER_URL]]);
    t.equal(metaOf(bundle, 0).listeRouge, false);
  });

  await t.test('ORG description change: replace carrying the new description', async (t) => {
    // No CLI command edits a description yet: the column is changed as the portal would.
    db.prepare(`UPDATE accounts SET description = 'Pharmacie à usage intérieur' WHERE login = 'contact@pharmacie.fr'`).run();
    const { bundle } = await run(t, db, dir, '2026-11-05T02:00:00Z');
    t.same(ops(bundle), [['replace', ORG_URL]]);
    t.same(metaOf(bundle, 0), { type: 'ORG', description: 'Pharmacie à usage intérieur', responsible: 'RPPS 10101234567', digitization: false, listeRouge: false });
  });

  await t.test('MED → PER: the box is inserted on its Practitioner', async (t) => {
    const change = changeAccountType(db, domains, 'sec@exemple.fr', 'PER', { rpps: '10101234568' });
    const { bundle } = await run(t, db, dir, '2026-11-06T02:00:00Z');
    t.same(ops(bundle), [['insert', 'Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810101234568']]);
    const value = (bundle.entry[0].resource.parameter[0].part as Array<{ name: string; valueContactPoint?: { value: string } }>)[3].valueContactPoint!;
    t.equal(value.value, change.addedAddress);
  });

  await t.test('suspension: delete', async (t) => {
    setAccountStatus(db, 'jean.dupont@exemple.fr', 'suspended');
    const { bundle } = await run(t, db, dir, '2026-11-07T02:00:00Z');
    t.same(ops(bundle), [['delete', PER_URL]]);
    t.same(bundle.entry[0], { ...examples.deletePer, request: { method: 'PATCH', url: PER_URL } }, 'the IG delete form');
  });
});

t.test('a change of carrier is a delete on the old one then an insert on the new one', async (t) => {
  const box: FhirBox = { address: 'a@x.mssante.fr', type: 'PER', identifier: '10000000001', listeRouge: false, description: null, service: null, responsible: null, dematerialisation: true };
  const changes = fhirChanges([box], [{ ...box, identifier: '10000000002' }]);
  t.same(changes.map((c) => [c.kind, batchEntry(c).request.url]), [
    ['delete', 'Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000001'],
    ['insert', 'Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000002'],
  ]);
  t.match(JSON.stringify(batchEntry({ kind: 'delete', box: { ...box, address: "o'brien@x.mssante.fr" } })), /o\\\\'brien/, 'quotes escaped in FHIRPath');
});

t.test('sent to an HTTPS FHIR stand-in with the operator certificate; a failed box is sent again next run', async (t) => {
  const server = await startHttpsServer({ requireClientCertificate: true });
  t.teardown(() => server.close());
  const operatorCert = issueCertificate(testCa(), { subject: { CN: 'mx.operateur-test.fr' }, usage: 'client', days: 2 });
  const db = freshDb(t);
  const dir = tempDir('mssd-fhir-send-');
  createPersonAccount(db, domains, { type: 'PER', login: 'a@exemple.fr', firstName: 'Ann', lastName: 'A', rpps: '10000000001' });
  createPersonAccount(db, domains, { type: 'PER', login: 'b@exemple.fr', firstName: 'Bob', lastName: 'B', rpps: '10000000002' });
  const trust = { ca: [testCa().certPem], cert: operatorCert.certPem, key: operatorCert.keyPem };
  const base = `${server.url}/fhir/v2`;

  await t.test('without the client certificate the stand-in refuses: both boxes stay pending', async (t) => {
    const result = await publishFhirFeed(db, options(dir, { fhirBase: base, trust: { ca: [testCa().certPem] } }), new Date('2026-11-01T02:00:00Z'));
    t.equal(result.accepted, 0);
    t.equal(result.failed.length, 2);
    t.match(result.failed[1].reason, /not tried/, 'an unreachable server is not hammered box after box');
    t.equal(server.received.length, 0);
  });

  await t.test('with it: a 503 is retried, a 422 for one box leaves it pending', async (t) => {
    server.script = [503, 200, 422];
    const attempts: string[] = [];
    const result = await publishFhirFeed(
      db,
      options(dir, { fhirBase: base, trust, retryDelays: [10], onAttemptFailed: (request, attempt, reason) => attempts.push(`${attempt} ${reason}`) }),
      new Date('2026-11-02T02:00:00Z'),
    );
    t.same(attempts, ['1 HTTP 503: status 503', '1 HTTP 422: status 422']);
    t.equal(result.accepted, 1);
    t.same(result.failed.map((f) => f.address), ['bob.b@exemple.mssante.fr']);
    const first = server.received[0];
    t.equal(first.method, 'PATCH');
    t.equal(first.clientCN, 'mx.operateur-test.fr', 'the operator certificate was presented');
    t.equal(first.url, `/fhir/v2/Practitioner?identifier=${encodeURIComponent('urn:oid:1.2.250.1.71.4.2.1|810000000001')}`);
    t.equal(first.headers['content-type'], 'application/fhir+json; charset=utf-8');
    t.equal(JSON.parse(first.body).resourceType, 'Parameters');
  });

  await t.test('next run: only the pending box is sent again', async (t) => {
    server.received.length = 0;
    const result = await publishFhirFeed(db, options(dir, { fhirBase: base, trust }), new Date('2026-11-03T02:00:00Z'));
    t.same([result.requests, result.accepted, result.failed.length], [1, 1, 0]);
    t.same(server.received.map((r) => decodeURIComponent(r.url)), ['/fhir/v2/Practitioner?identifier=urn:oid:1.2.250.1.71.4.2.1|810000000002']);
    const bundle = JSON.parse(readFileSync(path.join(dir, 'latest-fhir.json'), 'utf8')) as FhirBundle;
    t.equal(bundle.entry.length, 1, 'the file holds the run’s request');
  });
});
