// X.509 certificates for development and tests: a certificate authority and the certificates it
// issues (server, client, or both). Profile of RFC 5280 §4.2: basicConstraints, keyUsage,
// extKeyUsage, subjectAltName, subject/authority key identifiers, random positive serial.
//
// node-forge builds and signs the X.509 structures; the RSA keys come from Node's crypto, which is
// native and two orders of magnitude faster than forge's pure-JS key generation.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/** Subject distinguished name attributes. Values are UTF-8 (e.g. `ST: 'Bouches-du-Rhône (13)'`). */
export interface DnFields {
  CN: string;
  OU?: string;
  O?: string;
  ST?: string;
  L?: string;
  C?: string;
}

/** A certificate and its private key, both PEM (the key is unencrypted PKCS#8). */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export type CertificateUsage = 'server' | 'client' | 'both';

export interface IssueOptions {
  subject: DnFields;
  /** DNS names and IP addresses (v4 or v6) for subjectAltName. */
  altNames?: string[];
  usage: CertificateUsage;
  days: number;
}

/** Clock skew tolerated between this host and its peers when a certificate starts being valid. */
const NOT_BEFORE_SKEW_MS = 5 * 60 * 1000;

// DER order is most general first (C … CN), so the RFC 4514 rendering reads CN first like the
// ANS allowlist (`CN=…,OU=…,O=…,ST=…,C=FR`).
const SUBJECT_ORDER: Array<keyof DnFields> = ['C', 'ST', 'L', 'O', 'OU', 'CN'];

/** A name attribute as forge reads and writes it. @types/node-forge types `valueTagClass` as an
 * ASN.1 class, but forge stores the universal tag (UTF8String, PrintableString…) there. */
interface NameAttribute {
  type?: string;
  shortName?: string;
  value: string;
  valueTagClass: number;
}

function asForgeFields(attributes: NameAttribute[]): forge.pki.CertificateField[] {
  return attributes as unknown as forge.pki.CertificateField[];
}

function subjectAttributes(subject: DnFields): NameAttribute[] {
  if (!subject.CN) throw new Error('certificate subject needs a CN');
  const attributes: NameAttribute[] = [];
  for (const shortName of SUBJECT_ORDER) {
    const value = subject[shortName];
    if (value === undefined || value === '') continue;
    // RFC 5280 §4.1.2.4 / appendix A: countryName is a two-letter PrintableString; other
    // attributes are UTF8String, which carries accents (forge encodes the JS string to UTF-8).
    const valueTagClass = shortName === 'C' ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8;
    if (shortName === 'C' && !/^[A-Z]{2}$/.test(value)) throw new Error(`country must be two capital letters, got "${value}"`);
    attributes.push({ shortName, value, valueTagClass });
  }
  return attributes;
}

/**
 * forge hands back parsed name values as raw bytes (UTF-8 still encoded) but re-encodes UTF8String
 * values when writing them, so an issuer copied as-is would be double-encoded. Decode first.
 */
function reusableAttributes(fields: forge.pki.CertificateField[]): NameAttribute[] {
  return (fields as unknown as NameAttribute[]).map(({ type, value, valueTagClass }) => ({
    type,
    value: valueTagClass === forge.asn1.Type.UTF8 ? forge.util.decodeUtf8(value) : value,
    valueTagClass,
  }));
}

/** RFC 5280 §4.1.2.2: a positive integer of at most 20 octets, unpredictable (CA/B BR: ≥ 64 bits). */
function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // high bit clear: positive; non-zero first octet: minimal DER
  return bytes.toString('hex');
}

function newRsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    keyPem: privateKey,
  };
}

function validity(cert: forge.pki.Certificate, days: number): void {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`certificate validity must be a positive number of days, got ${days}`);
  const now = Date.now();
  cert.validity.notBefore = new Date(now - NOT_BEFORE_SKEW_MS);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}

/** subjectAltName entries (RFC 5280 §4.2.1.6): dNSName = 2, iPAddress = 7. */
function altNameEntries(altNames: string[]): Array<{ type: number; value?: string; ip?: string }> {
  const seen = new Set<string>();
  const entries: Array<{ type: number; value?: string; ip?: string }> = [];
  for (const name of altNames) {
    const key = name.toLowerCase();
    if (!name || seen.has(key)) continue;
    seen.add(key);
    entries.push(isIP(name) ? { type: 7, ip: name } : { type: 2, value: name });
  }
  return entries;
}

/** A self-signed CA certificate (basicConstraints cA, keyCertSign + cRLSign). */
export function createCertificateAuthority(subject: DnFields, days: number): CertificateAndKey {
  const keys = newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerialHex();
  validity(cert, days);
  const name = asForgeFields(subjectAttributes(subject));
  cert.setSubject(name);
  cert.setIssuer(name);
  const keyIdentifier = cert.generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** A certificate for `options.subject`, signed by `ca`. */
export function issueCertificate(ca: CertificateAndKey, options: IssueOptions): CertificateAndKey {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = newRsaKeyPair();

  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerialHex();
  validity(cert, options.days);
  cert.setSubject(asForgeFields(subjectAttributes(options.subject)));
  cert.setIssuer(asForgeFields(reusableAttributes(caCert.subject.attributes)));

  // RFC 5280 §4.2.1.1: the authority key identifier is the issuer's subject key identifier.
  const caSki = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  const authorityKeyId = caSki?.subjectKeyIdentifier
    ? forge.util.hexToBytes(caSki.subjectKeyIdentifier)
    : caCert.generateSubjectKeyIdentifier().getBytes();

  // RFC 5246 §7.4.2 / RFC 8446 §4.4.2.2: RSA server certificates need digitalSignature (ECDHE)
  // and keyEncipherment (RSA key exchange); client certificates digitalSignature.
  const serverAuth = options.usage === 'server' || options.usage === 'both';
  const clientAuth = options.usage === 'client' || options.usage === 'both';
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: serverAuth, critical: true },
    { name: 'extKeyUsage', serverAuth, clientAuth },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
  ];
  const altNames = altNameEntries(options.altNames ?? []);
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}
