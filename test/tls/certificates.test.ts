import t from 'tap';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../../src/tls/certificates';

const ca = createCertificateAuthority({ CN: 'mssd test CA', O: 'mssd tests', C: 'FR' }, 2);
const server = issueCertificate(ca, {
  subject: { CN: 'mx.exemple.mssante.fr', O: 'Operateur Exemple', C: 'FR' },
  altNames: ['mx.exemple.mssante.fr', 'localhost', '127.0.0.1', '::1'],
  usage: 'server',
  days: 1,
});
const peerSubject = { CN: 'mss.enovacom.fr', OU: '344368557300034', O: 'ENOVACOM', ST: 'Bouches-du-Rhône (13)', C: 'FR' };
const peerClient = issueCertificate(ca, { subject: peerSubject, usage: 'client', days: 1 });
const otherCa = createCertificateAuthority({ CN: 'Some other CA', C: 'FR' }, 2);
const foreignClient = issueCertificate(otherCa, { subject: peerSubject, usage: 'client', days: 1 });

interface HandshakeResult {
  clientError?: Error;
  /** The server's own reason for refusing the handshake. */
  serverError?: Error;
  clientReceived: string;
  serverAuthorized?: boolean;
  peerSubject?: tls.PeerCertificate['subject'];
  protocol?: string | null;
}

/** A real TLS handshake on 127.0.0.1 with mutual authentication asked by the server. */
async function handshake(client: CertificateAndKey | null, requireClientCertificate: boolean): Promise<HandshakeResult> {
  const result: HandshakeResult = { clientReceived: '' };
  let serverDone!: () => void;
  const serverOutcome = new Promise<void>((resolve) => (serverDone = resolve));
  const listener = tls.createServer({
    key: server.keyPem,
    cert: server.certPem,
    ca: ca.certPem,
    minVersion: 'TLSv1.2',
    requestCert: true,
    rejectUnauthorized: requireClientCertificate,
  });
  listener.on('tlsClientError', (err) => {
    result.serverError = err;
    serverDone();
  });
  listener.on('secureConnection', (socket) => {
    result.serverAuthorized = socket.authorized;
    result.peerSubject = socket.getPeerCertificate().subject;
    socket.end('hello');
    serverDone();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    await new Promise<void>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: ca.certPem,
        ...(client ? { key: client.keyPem, cert: client.certPem } : {}),
      });
      socket.on('secureConnect', () => {
        result.protocol = socket.getProtocol();
      });
      // With TLS 1.3 the server's refusal of a client certificate arrives after secureConnect.
      socket.on('data', (chunk: Buffer) => (result.clientReceived += chunk.toString()));
      socket.on('error', (err) => {
        result.clientError = err;
        resolve();
      });
      socket.on('close', () => resolve());
    });
    await serverOutcome;
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
  return result;
}

t.test('a server certificate from the CA completes a verified handshake', async (t) => {
  const result = await handshake(null, false);
  t.equal(result.clientError, undefined, 'the client trusts the server through the CA');
  t.match(result.protocol, /^TLSv1\.[23]$/);
  t.equal(result.serverAuthorized, false, 'no client certificate was presented');
});

t.test('a client certificate from the same CA is accepted with its subject intact', async (t) => {
  const result = await handshake(peerClient, true);
  t.equal(result.clientError, undefined);
  t.equal(result.serverAuthorized, true);
  t.equal(result.clientReceived, 'hello');
  t.equal(result.peerSubject?.CN, 'mss.enovacom.fr');
  t.equal(result.peerSubject?.ST, 'Bouches-du-Rhône (13)', 'UTF-8 attribute survives the round trip');
});

t.test('a client certificate from another CA is refused when the server requires a valid one', async (t) => {
  const result = await handshake(foreignClient, true);
  t.ok(result.serverError, 'the server refused the handshake');
  t.equal(result.serverAuthorized, undefined, 'the server never accepted the connection');
  t.equal(result.clientReceived, '', 'nothing reached the client');
});

t.test('certificates carry the extensions TLS peers check', async (t) => {
  const caCert = new X509Certificate(ca.certPem);
  const serverCert = new X509Certificate(server.certPem);
  const clientCert = new X509Certificate(peerClient.certPem);
  t.equal(caCert.ca, true);
  t.equal(serverCert.ca, false);
  t.equal(serverCert.subjectAltName, 'DNS:mx.exemple.mssante.fr, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  t.ok(serverCert.checkIssued(caCert) && serverCert.verify(caCert.publicKey), 'signed by the CA');
  t.same(serverCert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'server: serverAuth only');
  t.same(clientCert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'client: clientAuth only');
  const both = new X509Certificate(issueCertificate(ca, { subject: { CN: 'both' }, usage: 'both', days: 1 }).certPem);
  t.same(both.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.equal(clientCert.subject, 'C=FR\nST=Bouches-du-Rhône (13)\nO=ENOVACOM\nOU=344368557300034\nCN=mss.enovacom.fr');
  t.equal(serverCert.issuer, caCert.subject);
});

t.test('serial numbers are random and positive', async (t) => {
  const serials = [server, peerClient, foreignClient].map((pair) => new X509Certificate(pair.certPem).serialNumber);
  t.equal(new Set(serials).size, serials.length);
  for (const serial of serials) t.ok(parseInt(serial.slice(0, 2), 16) < 0x80, `${serial} is positive`);
});

t.test('bad input is refused', async (t) => {
  t.throws(() => issueCertificate(ca, { subject: { CN: '' }, usage: 'server', days: 1 }), /CN/);
  t.throws(() => issueCertificate(ca, { subject: { CN: 'x', C: 'France' }, usage: 'server', days: 1 }), /country/);
  t.throws(() => createCertificateAuthority({ CN: 'x' }, 0), /days/);
});
