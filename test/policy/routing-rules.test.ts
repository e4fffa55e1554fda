import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { inboundSenderDecision, isAllowedDestination, isOwnDomain, type InboundSender } from '../../src/policy/routing-rules';
import { TrustSpace, dnOfCertificate, loadTrustSpaceFile } from '../../src/policy/trustspace';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates';

const realListFile = path.resolve(__dirname, '../../../shared/data/listeblanchemssante.xml');
const realXml = readFileSync(realListFile, 'utf8');
const real = loadTrustSpaceFile(realListFile, `${realListFile}.sha256`);
const sample = TrustSpace.parse(readFileSync(path.resolve(__dirname, '../../config/listeblanche-exemple.xml'), 'utf8'));

// Real entries, read from the file by the test itself: a domain with its DN, and a DN that is
// listed in the trust space but never for that domain.
const entries = [...realXml.matchAll(/<Nom>([^<]+)<\/Nom>[\s\S]*?<DNCertificatOperateur>([^<]+)</g)].map(([, domain, dn]) => ({ domain, dn }));
const peer = entries.find((entry) => entry.dn.includes('ENOVACOM'))!;
const otherOperatorDn = entries.find((entry) => !real.isDnAllowedForDomain(peer.domain, entry.dn))!.dn;

const ownDomains = ['exemple.mssante.fr', 'exemple.fr'];

function decide(overrides: Partial<InboundSender>): ReturnType<typeof inboundSenderDecision> {
  return inboundSenderDecision({
    mailFrom: `dr.martin@${peer.domain}`,
    clientDn: peer.dn,
    requireClientCertificate: true,
    ownDomains,
    trustSpace: real,
    ...overrides,
  });
}

t.test('isOwnDomain covers domains.mssante and domains.internal', async (t) => {
  const config = loadConfig();
  t.ok(isOwnDomain('exemple.mssante.fr', config));
  t.ok(isOwnDomain('EXEMPLE.fr', config), 'case-insensitive');
  t.notOk(isOwnDomain('autre.mssante.fr', config));
  t.notOk(isOwnDomain('sub.exemple.fr', config), 'exact domains only');
});

t.test('a listed peer sending for one of its domains with its listed certificate is accepted', async (t) => {
  t.same(decide({}), { ok: true });
  t.same(decide({ mailFrom: `Dr.Martin@${peer.domain.toUpperCase()}` }), { ok: true }, 'case-insensitive domain');
  const reordered = peer.dn.split(',').reverse().join(', ');
  t.same(decide({ clientDn: reordered }), { ok: true }, `certificate rendered as ${reordered}`);
});

t.test('a real client certificate read from the TLS layer is checked against the list', async (t) => {
  const fields = Object.fromEntries(peer.dn.split(',').map((part) => part.split('=') as [string, string]));
  const ca = createCertificateAuthority({ CN: 'test IGC' }, 1);
  const issued = issueCertificate(ca, { subject: { CN: fields.CN, OU: fields.OU, O: fields.O, ST: fields.ST, C: fields.C }, usage: 'client', days: 1 });
  const clientDn = dnOfCertificate(new X509Certificate(issued.certPem).toLegacyObject());
  t.same(decide({ clientDn }), { ok: true });
});

t.test('our own domains are refused on the MTA: our users send through submission', async (t) => {
  const decision = decide({ mailFrom: 'docteur@exemple.mssante.fr', clientDn: null, requireClientCertificate: false, trustSpace: sample });
  t.match(decision, { ok: false, code: 550, enhanced: '5.7.1' });
  if (!decision.ok) t.match(decision.message, /exemple\.mssante\.fr belongs to this operator.*submission/);
  t.match(decide({ mailFrom: 'x@EXEMPLE.FR' }), { ok: false, code: 550, enhanced: '5.7.1' }, 'internal domain too');
});

t.test('a sender domain outside the allowlist is refused, saying so', async (t) => {
  const decision = decide({ mailFrom: 'someone@gmail.com' });
  t.match(decision, { ok: false, code: 550, enhanced: '5.7.1' });
  if (!decision.ok) t.equal(decision.message, 'Sender domain gmail.com is not in the MSSante trust space (ANS allowlist)');
  t.match(decide({ mailFrom: `x@service.${peer.domain}` }), { ok: false, code: 550 }, 'a subdomain of a listed domain is not listed');
});

t.test('a certificate not listed for the sender domain is refused, naming both', async (t) => {
  const decision = decide({ clientDn: otherOperatorDn });
  t.match(decision, { ok: false, code: 550, enhanced: '5.7.1' });
  if (!decision.ok) {
    t.ok(decision.message.includes(`is not allowed to send for domain ${peer.domain.toLowerCase()}`), decision.message);
    t.ok(decision.message.startsWith('Client certificate CN='), 'names the DN');
    t.match(decision.message, /^[\x20-\x7e]+$/, 'one line of printable ASCII');
    t.notMatch(decision.message, /\.$/, 'no trailing period');
  }
  const accented = decide({ clientDn: 'CN=evil.example,O=Évil,C=FR' });
  if (!accented.ok) t.match(accented.message, /O=\\C3\\89vil/, 'non-ASCII shown as RFC 4514 escapes');
  const injected = decide({ clientDn: 'CN=evil\r\n250 OK' });
  if (!injected.ok) t.notMatch(injected.message, /[\r\n]/, 'no line break can reach the SMTP reply');
});

t.test('mutual TLS required and no certificate: 530 5.7.0', async (t) => {
  for (const mailFrom of [`x@${peer.domain}`, '']) {
    const decision = decide({ mailFrom, clientDn: null });
    t.match(decision, { ok: false, code: 530, enhanced: '5.7.0' }, mailFrom || 'null sender');
    if (!decision.ok) t.match(decision.message, /client certificate is required/);
  }
  t.match(decide({ clientDn: '' }), { ok: false, code: 530 }, 'an empty DN counts as no certificate');
});

t.test('without required certificates (development) an allowlisted domain is enough', async (t) => {
  t.same(decide({ clientDn: null, requireClientCertificate: false }), { ok: true });
  t.same(decide({ mailFrom: 'medecin@hopital-fictif.mssante.fr', clientDn: null, requireClientCertificate: false, trustSpace: sample }), { ok: true });
  t.match(decide({ mailFrom: 'x@gmail.com', clientDn: null, requireClientCertificate: false }), { ok: false, code: 550 });
  t.match(decide({ clientDn: otherOperatorDn, requireClientCertificate: false }), { ok: false, code: 550 }, 'a presented certificate is still checked');
});

t.test('null sender (a peer DSN)', async (t) => {
  t.same(decide({ mailFrom: '', clientDn: otherOperatorDn }), { ok: true }, 'certificate listed for some domain');
  const unknown = decide({ mailFrom: '', clientDn: 'CN=mx.unknown.example,O=Unknown,C=FR' });
  t.match(unknown, { ok: false, code: 550, enhanced: '5.7.1' });
  if (!unknown.ok) t.equal(unknown.message, 'Client certificate CN=mx.unknown.example,O=Unknown,C=FR is not listed for any domain of the MSSante trust space');
  t.same(decide({ mailFrom: '', clientDn: null, requireClientCertificate: false }), { ok: true }, 'no certificate, none required');
});

t.test('an address without a domain is refused', async (t) => {
  t.match(decide({ mailFrom: 'postmaster' }), { ok: false, code: 553, enhanced: '5.1.7' });
});

t.test('destinations: local, allowlisted or patient domain only', async (t) => {
  const context = { ownDomains, patientDomain: 'patient.mssante.fr', trustSpace: real };
  t.ok(isAllowedDestination('exemple.mssante.fr', context), 'own MSSanté domain');
  t.ok(isAllowedDestination('exemple.fr', context), 'own internal domain');
  t.ok(isAllowedDestination('PATIENT.mssante.fr', context), 'patient domain');
  t.ok(isAllowedDestination(peer.domain, context), 'allowlisted');
  for (const { domain } of entries) if (!isAllowedDestination(domain, context)) t.fail(domain);
  t.notOk(isAllowedDestination('gmail.com', context));
  t.notOk(isAllowedDestination(`sub.${peer.domain}`, context), 'subdomain of a listed domain');
  t.notOk(isAllowedDestination('mssante.fr', context));
  t.ok(isAllowedDestination('cabinet-fictif.mssante.fr', { ...context, trustSpace: sample }));
  t.notOk(isAllowedDestination('cabinet-fictif.mssante.fr', context), 'fictional domains are not in the real list');
});
