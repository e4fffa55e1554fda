// A stand-in token issuer for tests: RSA signing keys, a JWKS served over HTTPS (certificate from a
// CA of our own, written to a file the daemon is told to trust), and access tokens shaped like Pro
// Santé Connect's (iss, aud, exp, preferred_username = "8" + RPPS).
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../../src/tls/certificates';

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
const jose = (): Promise<Jose> => import('jose');

export const ISSUER = 'https://auth.esante-test.gouv.fr/auth/realms/esante-wallet';
export const AUDIENCE = 'mssd-test';

export interface SigningKey {
  kid: string;
  privateKey: import('node:crypto').webcrypto.CryptoKey;
  publicJwk: Record<string, unknown>;
}

export async function newKey(kid: string): Promise<SigningKey> {
  const { generateKeyPair, exportJWK } = await jose();
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export interface TokenOptions {
  rpps: string;
  key: SigningKey;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative = already expired. */
  expiresIn?: number;
  notBefore?: number;
  claim?: string;
}

export async function signToken(options: TokenOptions): Promise<string> {
  const { SignJWT } = await jose();
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ [options.claim ?? 'preferred_username']: `8${options.rpps}`, scope: 'openid scope_all' })
    .setProtectedHeader({ alg: 'RS256', kid: options.key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(`sub-${options.rpps}`)
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (options.expiresIn ?? 300));
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(options.key.privateKey);
}

export interface JwksServer {
  url: string;
  caFile: string;
  /** Keys published now; replace to rotate. */
  keys: SigningKey[];
  requests: number;
  close(): Promise<void>;
}

/** Serves `{keys}` at /jwks over HTTPS; the CA that signed its certificate is written to dir/jwks-ca.pem. */
export async function startJwksServer(dir: string, keys: SigningKey[]): Promise<JwksServer> {
  const ca = createCertificateAuthority({ CN: 'mssd test JWKS CA', O: 'tests' }, 2);
  const cert = issueCertificate(ca, { subject: { CN: 'localhost' }, altNames: ['localhost', '127.0.0.1'], usage: 'server', days: 2 });
  const caFile = path.join(dir, 'jwks-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const state = { keys, requests: 0 };
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    state.requests++;
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `https://127.0.0.1:${port}/jwks`,
    caFile,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
