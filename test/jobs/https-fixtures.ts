// A local HTTPS server with a certificate from a CA of our own, answering with a script of
// statuses, and recording every request it got.
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../../src/tls/certificates';

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** CN of the client certificate, when the server asked for one. */
  clientCN?: string;
}

export interface TestHttpsServer {
  url: string;
  port: number;
  received: Received[];
  /** Statuses to answer, in order; once used up, `then` answers. */
  script: number[];
  then: number;
  /** Body per path for GET requests. */
  files: Map<string, Buffer>;
  /** While true, every connection is cut at once: an endpoint that cannot be reached. */
  drop: boolean;
  close(): Promise<void>;
}

let sharedCa: CertificateAndKey | undefined;
export function testCa(): CertificateAndKey {
  sharedCa ??= createCertificateAuthority({ CN: 'mssd test CA', O: 'tests' }, 2);
  return sharedCa;
}

/** Writes the test CA to `dir/ca.pem` and returns the path. */
export function writeTestCa(dir: string): string {
  const file = path.join(dir, 'ca.pem');
  writeFileSync(file, testCa().certPem);
  return file;
}

/**
 * `requireClientCertificate`: mutual TLS as the national services do it — a client without a
 * certificate issued by `ca` is refused during the handshake.
 */
export async function startHttpsServer(options: { ca?: CertificateAndKey; port?: number; requireClientCertificate?: boolean } = {}): Promise<TestHttpsServer> {
  const ca = options.ca ?? testCa();
  const cert = issueCertificate(ca, { subject: { CN: 'localhost' }, altNames: ['localhost', '127.0.0.1'], usage: 'server', days: 2 });
  const state = { received: [] as Received[], script: [] as number[], then: 200, files: new Map<string, Buffer>(), drop: false };
  const mutual = options.requireClientCertificate ? { requestCert: true, rejectUnauthorized: true, ca: [ca.certPem] } : {};
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem, ...mutual }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const peer = options.requireClientCertificate ? (req.socket as import('node:tls').TLSSocket).getPeerCertificate() : undefined;
      const clientCN = peer?.subject ? String(peer.subject.CN) : undefined;
      state.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), clientCN });
      const status = state.script.length > 0 ? state.script.shift()! : state.then;
      const file = req.method === 'GET' ? state.files.get(req.url ?? '') : undefined;
      res.writeHead(file && status === 200 ? 200 : file === undefined && req.method === 'GET' && status === 200 ? 404 : status, { 'content-type': 'text/plain' });
      res.end(file && status === 200 ? file : `status ${status}\n`);
    });
  });
  server.on('connection', (socket) => {
    if (state.drop) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
