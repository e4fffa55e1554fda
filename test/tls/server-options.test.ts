import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates';
import { hardenedTlsOptions, relayTlsOptions, serverTlsOptions } from '../../src/tls/server-options';

/** The embedded defaults, with data in a fresh temporary directory and some keys overridden. */
function testConfig(tlsKeys: Partial<Config['tls']> = {}, relayKeys: Partial<Config['relay']> = {}): Config {
  const defaults = loadConfig();
  return {
    ...defaults,
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'mssd-tlsopts-')),
    tls: { ...defaults.tls, ...tlsKeys },
    relay: { ...defaults.relay, ...relayKeys },
  };
}

function writeTemp(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mssd-pem-')), name);
  writeFileSync(file, content);
  return file;
}

const operatorCa = createCertificateAuthority({ CN: 'Operator test CA', C: 'FR' }, 2);
const operatorServer = issueCertificate(operatorCa, { subject: { CN: 'mx.exemple.mssante.fr' }, altNames: ['mx.exemple.mssante.fr'], usage: 'server', days: 1 });
const operatorFiles = {
  certFile: writeTemp('server.pem', operatorServer.certPem),
  keyFile: writeTemp('server.key', operatorServer.keyPem),
  caFile: writeTemp('ca.pem', operatorCa.certPem),
};

t.test('without configured files the development certificates are used', async (t) => {
  const config = testConfig();
  const options = serverTlsOptions(config);
  t.equal(options.development, true);
  t.equal(options.minVersion, 'TLSv1.2');
  t.equal(options.caFile, path.join(config.dataDir, 'tls', 'dev-ca.pem'));
  const cert = new X509Certificate(options.cert);
  t.ok(cert.checkIssued(new X509Certificate(options.ca!)), 'the server certificate chains to the returned CA');
  t.match(cert.subjectAltName, /DNS:localhost/);
});

t.test('a client certificate issued from the development CA passes the mutual-TLS check', async (t) => {
  const config = testConfig();
  const options = serverTlsOptions(config);
  // Tests issue peer operators' certificates with the development CA's key, kept beside it.
  const devCa = { certPem: options.ca!, keyPem: readFileSync(path.join(config.dataDir, 'tls', 'dev-ca.key'), 'utf8') };
  const peer = issueCertificate(devCa, { subject: { CN: 'mss.enovacom.fr', O: 'ENOVACOM', C: 'FR' }, usage: 'client', days: 1 });

  const server = tls.createServer({ key: options.key, cert: options.cert, ca: options.ca, minVersion: options.minVersion, requestCert: true, rejectUnauthorized: true });
  const accepted = new Promise<string | undefined>((resolve) => {
    server.on('secureConnection', (socket) => {
      resolve(String(socket.getPeerCertificate().subject?.CN));
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay = relayTlsOptions(config);
  const socket = tls.connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername: 'localhost',
    ca: relay.ca,
    minVersion: relay.minVersion,
    key: peer.keyPem,
    cert: peer.certPem,
  });
  socket.on('error', () => undefined);
  t.equal(await accepted, 'mss.enovacom.fr');
  socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

t.test('configured certificate, key and CA are read from their files', async (t) => {
  const options = serverTlsOptions(testConfig(operatorFiles));
  t.equal(options.development, false);
  t.equal(options.cert, operatorServer.certPem);
  t.equal(options.key, operatorServer.keyPem);
  t.equal(options.ca, operatorCa.certPem);
  t.equal(options.caFile, operatorFiles.caFile);

  const withoutCa = serverTlsOptions(testConfig({ ...operatorFiles, caFile: '' }));
  t.equal(withoutCa.ca, undefined, 'no CA file: Node default roots');
  t.equal(withoutCa.caFile, null);
});

t.test('unusable TLS files stop the start with the key named', async (t) => {
  const otherKey = writeTemp('other.key', issueCertificate(operatorCa, { subject: { CN: 'x' }, usage: 'server', days: 1 }).keyPem);
  const cases: Array<[Partial<Config['tls']>, RegExp]> = [
    [{ ...operatorFiles, certFile: '/nonexistent/server.pem' }, /tls\.certFile: cannot read \/nonexistent\/server\.pem: ENOENT/],
    [{ ...operatorFiles, keyFile: otherKey }, /tls\.keyFile: .* is not the key of /],
    [{ ...operatorFiles, certFile: operatorFiles.keyFile }, /tls\.certFile: .* is not a PEM certificate/],
    [{ ...operatorFiles, caFile: operatorFiles.keyFile }, /tls\.caFile: .* holds no PEM certificate/],
    [{ ...operatorFiles, caFile: '', requireClientCertificate: true }, /tls\.caFile: required when tls\.requireClientCertificate/],
  ];
  for (const [keys, message] of cases) {
    t.throws(() => serverTlsOptions(testConfig(keys)), { name: 'ConfigError', message }, String(message));
  }
});

t.test('relay: client certificate and CA bundle from relay.* keys', async (t) => {
  const relayClient = issueCertificate(operatorCa, { subject: { CN: 'relay.exemple.mssante.fr' }, usage: 'client', days: 1 });
  const options = relayTlsOptions(
    testConfig(operatorFiles, {
      certFile: writeTemp('relay.pem', relayClient.certPem),
      keyFile: writeTemp('relay.key', relayClient.keyPem),
      caFile: operatorFiles.caFile,
    }),
  );
  t.equal(options.cert, relayClient.certPem);
  t.equal(options.key, relayClient.keyPem);
  t.same(options.ca, [operatorCa.certPem], 'only the configured bundle: peers must chain to it');
  t.equal(options.minVersion, 'TLSv1.2');
  t.equal(options.development, false);
});

t.test('relay: without keys, no client certificate; default roots (plus the development CA in development)', async (t) => {
  const production = relayTlsOptions(testConfig(operatorFiles));
  t.equal(production.cert, undefined);
  t.equal(production.key, undefined);
  t.equal(production.ca, undefined, 'Node default roots');

  const config = testConfig();
  const development = relayTlsOptions(config);
  t.equal(development.development, true);
  t.ok(development.ca!.length > tls.rootCertificates.length);
  t.ok(development.ca!.includes(tls.rootCertificates[0]), 'public roots kept');
  t.ok(development.ca!.includes(serverTlsOptions(config).ca!), 'development CA added');
});

t.test('relay client: a peer offering only suites without forward secrecy is refused', async (t) => {
  const config = testConfig();
  const server = serverTlsOptions(config);
  const relay = relayTlsOptions(config);
  t.equal(relay.ciphers, hardenedTlsOptions().ciphers, 'the relay uses the listeners\' cipher policy');
  /** A TLS 1.2 peer that offers only `ciphers`; resolves with the suite the relay options got. */
  const tryPeer = async (ciphers: string): Promise<string | null> => {
    const peer = tls.createServer({ key: server.key, cert: server.cert, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers }, (socket) => socket.end());
    peer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    try {
      return await new Promise<string | null>((resolve) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port: (peer.address() as AddressInfo).port,
          servername: 'localhost',
          ca: relay.ca,
          minVersion: relay.minVersion,
          ciphers: relay.ciphers,
        });
        socket.once('secureConnect', () => {
          resolve(socket.getCipher().standardName ?? socket.getCipher().name);
          socket.destroy();
        });
        socket.once('error', () => resolve(null));
      });
    } finally {
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  };
  t.equal(await tryPeer('AES128-SHA'), null, 'AES128-SHA (RSA key exchange, CBC) refused');
  t.equal(await tryPeer('AES256-GCM-SHA384'), null, 'AES256-GCM-SHA384 (RSA key exchange) refused');
  t.equal(await tryPeer('ECDHE-RSA-AES128-SHA'), null, 'ECDHE with CBC refused');
  t.equal(await tryPeer('ECDHE-RSA-AES128-GCM-SHA256'), 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE with AES-GCM accepted');
  t.equal(await tryPeer('ECDHE-RSA-CHACHA20-POLY1305'), 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE with ChaCha20-Poly1305 accepted');
});
