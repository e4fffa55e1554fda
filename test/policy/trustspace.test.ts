import t from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AllowlistError,
  TrustSpace,
  dnOfCertificate,
  loadTrustSpaceFile,
  normalizeDn,
} from '../../src/policy/trustspace';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates';

const realListFile = path.resolve(__dirname, '../../../shared/data/listeblanchemssante.xml');
const realChecksumFile = `${realListFile}.sha256`;
const sampleFile = path.resolve(__dirname, '../../config/listeblanche-exemple.xml');
const realXml = readFileSync(realListFile, 'utf8');
const sampleXml = readFileSync(sampleFile, 'utf8');

/** The list's Domaine entries read with a plain regular expression, independently of the parser. */
const realEntries = [...realXml.matchAll(/<Domaine>[\s\S]*?<Nom>([^<]+)<\/Nom>[\s\S]*?<DNCertificatOperateur>([^<]+)<\/DNCertificatOperateur>[\s\S]*?<\/Domaine>/g)].map(
  ([, domain, dn]) => ({ domain, dn }),
);
const dnsByDomain = new Map<string, Set<string>>();
for (const { domain, dn } of realEntries) {
  const key = domain.toLowerCase();
  if (!dnsByDomain.has(key)) dnsByDomain.set(key, new Set());
  dnsByDomain.get(key)!.add(dn);
}

function tempFile(name: string, content: string | Buffer): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mssd-allowlist-')), name);
  writeFileSync(file, content);
  return file;
}

function parseError(xml: string): string {
  try {
    TrustSpace.parse(xml);
  } catch (err) {
    if (err instanceof AllowlistError) return err.message;
    throw err;
  }
  throw new Error('the list was accepted');
}

t.test('the real ANS list loads with its checksum and knows every entry', async (t) => {
  const space = loadTrustSpaceFile(realListFile, realChecksumFile);
  t.equal(realEntries.length, 619, 'the test read every Domaine');
  t.equal(space.domainCount, dnsByDomain.size);
  t.equal(space.dnCount, new Set(realEntries.map((entry) => entry.dn)).size);
  t.equal(space.generatedAt?.toISOString(), new Date(/<DateDeGeneration>([^<]+)</.exec(realXml)![1]).toISOString());
  for (const { domain, dn } of realEntries) {
    if (!space.hasDomain(domain) || !space.isDnAllowedForDomain(domain, dn) || !space.isDnListed(dn)) {
      t.fail(`${domain} / ${dn} not recognised`);
    }
  }
  t.pass('every domain/DN pair of the file is recognised');
});

t.test('a domain listed once per operator DN allows each of those DNs, and only those', async (t) => {
  const space = loadTrustSpaceFile(realListFile);
  const [domain, dns] = [...dnsByDomain].find(([, set]) => set.size > 1)!;
  t.same(space.dnsForDomain(domain).sort(), [...dns].sort());
  for (const dn of dns) t.ok(space.isDnAllowedForDomain(domain, dn), dn);

  const foreignDn = realEntries.find((entry) => !dns.has(entry.dn))!.dn;
  t.notOk(space.isDnAllowedForDomain(domain, foreignDn), 'a DN listed only for other domains');
  t.ok(space.isDnListed(foreignDn), 'is still listed in the trust space');
  t.same(space.dnsForDomain('not-listed.mssante.fr'), []);
});

t.test('domains match exactly and case-insensitively; subdomains are not included', async (t) => {
  const space = TrustSpace.parse(sampleXml);
  t.ok(space.hasDomain('hopital-fictif.mssante.fr'));
  t.ok(space.hasDomain('HOPITAL-Fictif.MSSante.fr'));
  t.notOk(space.hasDomain('service.hopital-fictif.mssante.fr'), 'subdomain');
  t.notOk(space.hasDomain('mssante.fr'), 'parent domain');
  t.notOk(space.hasDomain('gmail.com'));
  const upper = realEntries.find((entry) => entry.domain !== entry.domain.toLowerCase());
  if (upper) t.ok(loadTrustSpaceFile(realListFile).hasDomain(upper.domain.toLowerCase()), `${upper.domain} listed in capitals`);
});

t.test('peer certificate DNs match however their RDNs are ordered or spelled', async (t) => {
  const space = TrustSpace.parse(sampleXml);
  const domain = 'hopital-fictif.mssante.fr';
  const listed = 'CN=mx.operateur-fictif.fr,OU=00000000000001,O=Operateur Fictif,ST=Paris (75),C=FR';
  t.ok(space.isDnAllowedForDomain(domain, listed));
  t.ok(space.isDnAllowedForDomain(domain, 'C=FR, ST=Paris (75), O=Operateur Fictif, OU=00000000000001, CN=mx.operateur-fictif.fr'), 'reversed, spaced');
  t.ok(space.isDnAllowedForDomain(domain, 'cn = MX.Operateur-Fictif.fr ; ou=00000000000001; o=OPERATEUR  FICTIF; S=paris (75); c=fr'), 'case, aliases, ; separators');
  t.notOk(space.isDnAllowedForDomain(domain, 'CN=mx.operateur-fictif.fr,OU=00000000000002,O=Operateur Fictif,ST=Paris (75),C=FR'), 'another OU');
  t.notOk(space.isDnAllowedForDomain(domain, 'CN=mx.operateur-fictif.fr,O=Operateur Fictif,ST=Paris (75),C=FR'), 'an attribute missing');
  t.notOk(space.isDnAllowedForDomain(domain, 'not a DN'), 'a malformed DN is simply not allowed');
});

t.test('normalizeDn follows RFC 4514', async (t) => {
  const same = (a: string, b: string, why: string): void => {
    t.equal(normalizeDn(a), normalizeDn(b), why);
  };
  same('CN=a,O=b', 'O=b,CN=a', 'order-independent');
  same('CN=Bouches-du-Rhône', 'cn=BOUCHES-DU-RHÔNE', 'case-insensitive, accents included');
  same('CN=Bouches-du-Rh\\C3\\B4ne', 'CN=Bouches-du-Rhône', 'UTF-8 hex escapes');
  same('CN=Rho\u0302ne', 'CN=Rh\u00f4ne', 'Unicode normalisation');
  same('O=Dupont\\, Durand et Cie,C=FR', 'C=FR,O=Dupont\\2C Durand et Cie', 'escaped comma in a value');
  same('O="Dupont, Durand et Cie",C=FR', 'C=FR,O=Dupont\\, Durand et Cie', 'quoted value (RFC 1779)');
  same('CN=a+OU=b,O=c', 'O=c,OU=b,CN=a', 'multi-valued RDN');
  same('  CN  =  a   b  , O = c ', 'CN=a b,O=c', 'spaces around = and , and inside values');
  same('ST=x,emailAddress=a@b.fr', 'S=x,E=a@b.fr', 'aliases S and E');
  same('2.5.4.3=a,OID.2.5.4.10=b', 'CN=a,O=b', 'numeric OIDs');
  same('CN=#0C03616263', 'CN=abc', 'BER-encoded UTF8String value');
  t.not(normalizeDn('CN=a\\,O=b'), normalizeDn('CN=a,O=b'), 'an escaped comma is part of the value');
  t.not(normalizeDn('CN=a,OU=b'), normalizeDn('CN=a,O=b'), 'attribute types matter');
  for (const bad of ['', 'CN', 'CN=a,', '=a', 'CN=a\\', 'CN=\\zz', 'CN="abc', 'C N=a']) {
    t.throws(() => normalizeDn(bad), { name: 'DnSyntaxError' }, JSON.stringify(bad));
  }
});

t.test('dnOfCertificate reads the subject of an X509Certificate and of a PeerCertificate', async (t) => {
  const { domain, dn } = realEntries.find((entry) => entry.dn.includes('ô'))!;
  const fields = Object.fromEntries(dn.split(',').map((part) => part.split('=') as [string, string]));
  const ca = createCertificateAuthority({ CN: 'test CA' }, 1);
  const pem = issueCertificate(ca, { subject: { CN: fields.CN, OU: fields.OU, O: fields.O, ST: fields.ST, C: fields.C }, usage: 'client', days: 1 }).certPem;
  const x509 = new X509Certificate(pem);
  const space = loadTrustSpaceFile(realListFile);

  t.equal(dnOfCertificate(x509), dn, 'rendered like the ANS list, CN first');
  t.ok(space.isDnAllowedForDomain(domain, dnOfCertificate(x509)));
  const peer = x509.toLegacyObject(); // the shape tls.TLSSocket#getPeerCertificate() returns
  t.ok(space.isDnAllowedForDomain(domain, dnOfCertificate(peer)));

  const repeated = { ...peer, subject: { C: 'FR', O: 'Org, Inc', OU: ['one', 'two'], CN: 'x' } } as unknown as typeof peer;
  t.equal(dnOfCertificate(repeated), 'CN=x,OU=two,OU=one,O=Org\\, Inc,C=FR', 'arrays and escaping');
  t.equal(normalizeDn(dnOfCertificate(repeated)), normalizeDn('C=FR,O=Org\\, Inc,OU=one,OU=two,CN=x'));
  t.equal(dnOfCertificate({} as typeof peer), '', 'no certificate, no subject');
});

t.test('the published list lacks the closing root tag; only that omission is tolerated', async (t) => {
  t.notMatch(realXml, /<\/ListeBlancheMSSante>/, 'the real list is published this way');
  const closedAfterList = sampleXml.replace('</ListeBlancheMSSante>', '');
  t.equal(TrustSpace.parse(closedAfterList).domainCount, 3);
  const cutAfterLastDomaine = sampleXml.slice(0, sampleXml.lastIndexOf('</Domaine>') + '</Domaine>'.length);
  t.match(parseError(cutAfterLastDomaine), /ends inside <ListeBlancheMSSante> <ListeDomaines>/);
});

t.test('corrupted lists are refused with a message saying what and where', async (t) => {
  const secondDomaine = sampleXml.indexOf('<Domaine>', sampleXml.indexOf('<Domaine>') + 1);
  const cases: Array<[string, string, RegExp]> = [
    ['truncated', realXml.slice(0, Math.floor(realXml.length / 2)), /ends inside <ListeBlancheMSSante> <ListeDomaines> <Domaine>|not well-formed/],
    ['empty file', '', /not well-formed XML/],
    ['HTML error page', '<html><body>502 Bad Gateway</body></html>', /root element is <html>, expected <ListeBlancheMSSante>/],
    ['wrong root', sampleXml.replace(/ListeBlancheMSSante/g, 'Liste'), /root element is <Liste>/],
    ['two roots', `${sampleXml}<Other/>`, /root element is <ListeBlancheMSSante>, <Other>/],
    ['no ListeDomaines', sampleXml.replace(/<ListeDomaines>[\s\S]*<\/ListeDomaines>/, ''), /has no <ListeDomaines>/],
    ['empty ListeDomaines', sampleXml.replace(/<ListeDomaines>[\s\S]*<\/ListeDomaines>/, '<ListeDomaines></ListeDomaines>'), /holds no <Domaine>/],
    ['Domaine without Nom', sampleXml.replace('<Nom>hopital-fictif.mssante.fr</Nom>', ''), /Domaine #2: missing <Nom>/],
    ['empty Nom', sampleXml.replace('<Nom>hopital-fictif.mssante.fr</Nom>', '<Nom> </Nom>'), /Domaine #2: missing <Nom>/],
    ['bad Nom', sampleXml.replace('<Nom>cabinet-fictif.mssante.fr</Nom>', '<Nom>cabinet fictif</Nom>'), /Domaine #3: <Nom> "cabinet fictif" is not a valid domain name/],
    ['two Nom', sampleXml.replace('<Nom>cabinet-fictif.mssante.fr</Nom>', '<Nom>a.fr</Nom><Nom>b.fr</Nom>'), /Domaine #3: has 2 <Nom> elements/],
    ['Domaine without DN', sampleXml.slice(0, secondDomaine) + sampleXml.slice(secondDomaine).replace(/<DNCertificatOperateur>[^<]*<\/DNCertificatOperateur>/, ''), /Domaine #2 \(hopital-fictif\.mssante\.fr\): missing <DNCertificatOperateur>/],
    ['bad DN', sampleXml.replace('CN=localhost,OU=mssd', 'CN=localhost,OU mssd'), /Domaine #1 \(exemple\.mssante\.fr\): <DNCertificatOperateur> "CN=localhost,OU mssd.*" is not a distinguished name/],
    ['bad date', sampleXml.replace('<DateDeGeneration>2026-01-01T00:00:00Z', '<DateDeGeneration>yesterday'), /<DateDeGeneration> "yesterday" is not a date/],
  ];
  for (const [what, xml, message] of cases) t.match(parseError(xml), message, what);
});

t.test('checksum verification', async (t) => {
  const content = readFileSync(sampleFile);
  const digest = createHash('sha256').update(content).digest('hex');
  const listFile = tempFile('liste.xml', content);
  const dir = path.dirname(listFile);

  const bare = path.join(dir, 'bare.sha256');
  writeFileSync(bare, `${digest.toUpperCase()}\n`);
  t.equal(loadTrustSpaceFile(listFile, bare).domainCount, 3, 'bare digest (any case)');

  const sha256sum = path.join(dir, 'SHA256SUMS');
  writeFileSync(sha256sum, `${'0'.repeat(64)}  other.xml\n${digest} *liste.xml\n`);
  t.equal(loadTrustSpaceFile(listFile, sha256sum).domainCount, 3, 'sha256sum format, picked by file name');

  const altered = tempFile('liste.xml', Buffer.concat([content, Buffer.from('\n')]));
  writeFileSync(`${altered}.sha256`, `${digest}  liste.xml\n`);
  t.throws(() => loadTrustSpaceFile(altered, `${altered}.sha256`), {
    name: 'AllowlistError',
    message: new RegExp(`SHA-256 is [0-9a-f]{64} but .* expects ${digest}`),
  });

  const garbage = path.join(dir, 'garbage.sha256');
  writeFileSync(garbage, 'not a digest\n');
  t.throws(() => loadTrustSpaceFile(listFile, garbage), { name: 'AllowlistError', message: /expected a SHA-256 digest/ });
  t.throws(() => loadTrustSpaceFile(listFile, path.join(dir, 'missing.sha256')), { name: 'AllowlistError', message: /cannot read checksum file .*ENOENT/ });
  t.throws(() => loadTrustSpaceFile(path.join(dir, 'missing.xml')), { name: 'AllowlistError', message: /cannot read allowlist .*missing\.xml: ENOENT/ });

  const broken = tempFile('broken.xml', sampleXml.replace('<Nom>exemple.mssante.fr</Nom>', ''));
  t.throws(() => loadTrustSpaceFile(broken), { name: 'AllowlistError', message: new RegExp(`^${broken.replace(/[.\\/]/g, '\\$&')}: Domaine #1: missing <Nom>`) }, 'the file is named');
});

t.test('diff tells what changed between two lists', async (t) => {
  const previous = TrustSpace.parse(sampleXml);
  const modified = sampleXml
    // cabinet-fictif leaves the list
    .replace(/<Domaine>\s*<Nom>cabinet-fictif\.mssante\.fr<\/Nom>[\s\S]*?<\/Domaine>/, '')
    // hopital-fictif moves to a new operator certificate
    .replace('CN=mx.operateur-fictif.fr,OU=00000000000001,O=Operateur Fictif,ST=Paris (75),C=FR', 'CN=mss.nouvel-operateur.fr,OU=00000000000009,O=Nouvel Operateur,C=FR')
    // a new domain for the demonstration operator
    .replace('</ListeDomaines>', '<Domaine><Nom>clinique-nouvelle.mssante.fr</Nom><DNCertificatOperateur>C=FR, O=Operateur Exemple, OU=mssd, CN=localhost</DNCertificatOperateur></Domaine></ListeDomaines>');
  const current = TrustSpace.parse(modified);
  const diff = current.diff(previous);
  t.same(diff.domainsAdded, ['clinique-nouvelle.mssante.fr']);
  t.same(diff.domainsRemoved, ['cabinet-fictif.mssante.fr']);
  t.same(diff.dnsAdded, ['CN=mss.nouvel-operateur.fr,OU=00000000000009,O=Nouvel Operateur,C=FR']);
  t.same(diff.dnsRemoved, ['CN=mx.operateur-fictif.fr,OU=00000000000001,O=Operateur Fictif,ST=Paris (75),C=FR']);
  t.same(diff.authorizationsAdded.map((a) => a.domain).sort(), ['clinique-nouvelle.mssante.fr', 'hopital-fictif.mssante.fr']);
  t.same(diff.authorizationsRemoved.map((a) => a.domain).sort(), ['cabinet-fictif.mssante.fr', 'hopital-fictif.mssante.fr']);
  t.same(diff.counts, { domainsAdded: 1, domainsRemoved: 1, dnsAdded: 1, dnsRemoved: 1, authorizationsAdded: 2, authorizationsRemoved: 2 });

  const none = previous.diff(TrustSpace.parse(sampleXml));
  t.same(none.counts, { domainsAdded: 0, domainsRemoved: 0, dnsAdded: 0, dnsRemoved: 0, authorizationsAdded: 0, authorizationsRemoved: 0 }, 'same list, no change');
});
