// Development certificates (DESIGN.md "Start": generated on first start when tls.certFile is
// empty): a local CA and a server certificate it signs, kept under `<dataDir>/tls/`.
//
// The CA is kept across restarts so that clients and tests that trust it keep working; the server
// certificate is re-issued by that same CA when it no longer fits (hostname missing from its
// subjectAltName, key not matching, expiring, unreadable). Every file is written atomically
// (temporary file + rename) and private keys are mode 0600.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { writeFileAtomic } from '../util/write-file-atomic';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from './certificates';

export interface DevelopmentCertificates {
  caCertFile: string;
  certFile: string;
  keyFile: string;
  /** True when this call generated (or re-issued) anything. */
  created: boolean;
}

const CA_DAYS = 3650;
const SERVER_DAYS = 825;
/** A server certificate this close to its end is re-issued rather than reused. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The CA pair when both files are readable, parse, belong together and the CA is still valid. */
function usableAuthority(caCertFile: string, caKeyFile: string): CertificateAndKey | null {
  const certPem = readOrNull(caCertFile);
  const keyPem = readOrNull(caKeyFile);
  if (certPem === null || keyPem === null) return null;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.ca || !cert.checkPrivateKey(createPrivateKey(keyPem))) return null;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return null;
    return { certPem, keyPem };
  } catch {
    return null;
  }
}

/** Whether the certificate's subjectAltName names `hostname` (RFC 6125 matching, done by Node). */
function namesHost(cert: X509Certificate, hostname: string): boolean {
  return isIP(hostname) ? cert.checkIP(hostname) !== undefined : cert.checkHost(hostname, { subject: 'never' }) !== undefined;
}

function serverCertificateFits(ca: CertificateAndKey, certFile: string, keyFile: string, hostname: string): boolean {
  const certPem = readOrNull(certFile);
  const keyPem = readOrNull(keyFile);
  if (certPem === null || keyPem === null) return false;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (!cert.verify(new X509Certificate(ca.certPem).publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    return namesHost(cert, hostname);
  } catch {
    return false;
  }
}

/**
 * Returns the development CA and server certificate under `<dataDir>/tls/`, creating them on the
 * first call. The server certificate names `hostname`, localhost, 127.0.0.1 and ::1.
 */
export function ensureDevelopmentCertificates(dataDir: string, hostname: string): DevelopmentCertificates {
  const dir = path.join(dataDir, 'tls');
  const caCertFile = path.join(dir, 'dev-ca.pem');
  const caKeyFile = path.join(dir, 'dev-ca.key');
  const certFile = path.join(dir, 'server.pem');
  const keyFile = path.join(dir, 'server.key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let created = false;
  let ca = usableAuthority(caCertFile, caKeyFile);
  if (ca === null) {
    ca = createCertificateAuthority({ CN: 'mssd development CA', O: 'mssd development' }, CA_DAYS);
    // Key first: a crash in between leaves a pair that does not match, which the next call redoes.
    writeFileAtomic(caKeyFile, ca.keyPem, 0o600);
    writeFileAtomic(caCertFile, ca.certPem, 0o644);
    created = true;
  }

  if (created || !serverCertificateFits(ca, certFile, keyFile, hostname)) {
    const server = issueCertificate(ca, {
      subject: { CN: hostname, O: 'mssd development' },
      altNames: [hostname, 'localhost', '127.0.0.1', '::1'],
      usage: 'server',
      days: SERVER_DAYS,
    });
    writeFileAtomic(keyFile, server.keyPem, 0o600);
    writeFileAtomic(certFile, server.certPem, 0o644);
    created = true;
  }
  return { caCertFile, certFile, keyFile, created };
}
