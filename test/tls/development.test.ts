import t from 'tap';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDevelopmentCertificates } from '../../src/tls/development';

function freshDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'mssd-devtls-'));
}

function snapshot(files: string[]): Array<{ content: string; mtimeMs: number }> {
  return files.map((file) => ({ content: readFileSync(file, 'utf8'), mtimeMs: statSync(file).mtimeMs }));
}

t.test('first call creates a CA and a server certificate for the hostname', async (t) => {
  const dataDir = freshDataDir();
  const result = ensureDevelopmentCertificates(dataDir, 'mx.exemple.test');
  t.equal(result.created, true);
  t.equal(result.caCertFile, path.join(dataDir, 'tls', 'dev-ca.pem'));
  t.equal(result.certFile, path.join(dataDir, 'tls', 'server.pem'));
  t.equal(result.keyFile, path.join(dataDir, 'tls', 'server.key'));

  const cert = new X509Certificate(readFileSync(result.certFile));
  const ca = new X509Certificate(readFileSync(result.caCertFile));
  t.equal(cert.subjectAltName, 'DNS:mx.exemple.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  t.ok(cert.verify(ca.publicKey), 'server certificate is signed by the development CA');
  t.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(result.keyFile))), 'key matches certificate');
  t.equal(ca.ca, true);

  t.equal(statSync(result.keyFile).mode & 0o777, 0o600, 'server key is private');
  t.equal(statSync(path.join(dataDir, 'tls', 'dev-ca.key')).mode & 0o777, 0o600, 'CA key is private');
  t.same(readdirSync(path.join(dataDir, 'tls')).sort(), ['dev-ca.key', 'dev-ca.pem', 'server.key', 'server.pem'], 'no temporary file left');
});

t.test('later calls reuse the files untouched', async (t) => {
  const dataDir = freshDataDir();
  const first = ensureDevelopmentCertificates(dataDir, 'localhost');
  const files = [first.caCertFile, path.join(dataDir, 'tls', 'dev-ca.key'), first.certFile, first.keyFile];
  const before = snapshot(files);
  const second = ensureDevelopmentCertificates(dataDir, 'localhost');
  t.equal(second.created, false);
  t.same(second, { ...first, created: false });
  t.same(snapshot(files), before, 'same content, same modification time');
});

t.test('a new hostname re-issues the server certificate from the same CA', async (t) => {
  const dataDir = freshDataDir();
  const first = ensureDevelopmentCertificates(dataDir, 'localhost');
  const caBefore = readFileSync(first.caCertFile, 'utf8');
  const second = ensureDevelopmentCertificates(dataDir, 'mail.exemple.test');
  t.equal(second.created, true);
  t.equal(readFileSync(second.caCertFile, 'utf8'), caBefore, 'clients trusting the CA keep working');
  const cert = new X509Certificate(readFileSync(second.certFile));
  t.match(cert.subjectAltName, /DNS:mail\.exemple\.test/);
  t.equal(ensureDevelopmentCertificates(dataDir, 'MAIL.exemple.test').created, false, 'host names compare case-insensitively');
  t.equal(ensureDevelopmentCertificates(dataDir, '127.0.0.1').created, false, 'an address already in the SAN fits');
});

t.test('a damaged or missing file is regenerated', async (t) => {
  const dataDir = freshDataDir();
  const first = ensureDevelopmentCertificates(dataDir, 'localhost');
  writeFileSync(first.certFile, 'not a certificate');
  t.equal(ensureDevelopmentCertificates(dataDir, 'localhost').created, true, 'unreadable server certificate');
  t.doesNotThrow(() => new X509Certificate(readFileSync(first.certFile)));

  // A server key that does not match its certificate (e.g. a crash between the two renames).
  const other = freshDataDir();
  writeFileSync(first.keyFile, readFileSync(ensureDevelopmentCertificates(other, 'localhost').keyFile));
  t.equal(ensureDevelopmentCertificates(dataDir, 'localhost').created, true, 'mismatched key');

  writeFileSync(path.join(dataDir, 'tls', 'dev-ca.key'), '');
  const caBefore = readFileSync(first.caCertFile, 'utf8');
  t.equal(ensureDevelopmentCertificates(dataDir, 'localhost').created, true, 'unreadable CA key');
  t.not(readFileSync(first.caCertFile, 'utf8'), caBefore, 'a new CA was made');
  const cert = new X509Certificate(readFileSync(first.certFile));
  t.ok(cert.verify(new X509Certificate(readFileSync(first.caCertFile)).publicKey), 'server certificate follows the new CA');
});
