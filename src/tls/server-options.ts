// TLS material for the listeners and for outbound relay (DESIGN.md R1: TLS 1.2+ everywhere, mutual
// TLS between MSSanté operators; config keys tls.* and relay.*).
//
// Inbound: the operator's certificate from tls.certFile/tls.keyFile, or the development
// certificates when those are empty. `ca` is the bundle that client certificates (peer operators
// on the MTA) must chain to: tls.caFile, or the development CA in development so tests can issue
// client certificates the MTA accepts.
//
// Outbound: the client certificate presented to peer operators (relay.certFile/relay.keyFile) and
// the CA bundle their server certificates must chain to (relay.caFile; IGC-Santé in production).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../config/load';
import type { Config } from '../config/schema';
import { ensureDevelopmentCertificates } from './development';

/**
 * TLS 1.2 cipher suites allowed on every listener and outbound connection (issue 15, ANSSI "Guide
 * TLS" R5/R6: ephemeral ECDHE key exchange for forward secrecy, AEAD encryption only): AES-GCM
 * and ChaCha20-Poly1305, ECDSA and RSA certificates. RSA key exchange (`AES128-SHA`,
 * `AES256-GCM-SHA384`), CBC and SHA-1 MACs are left out. TLS 1.3 suites (RFC 8446 section 9.1: all
 * AEAD with (EC)DHE) stay Node's defaults; Node takes both kinds from one `ciphers` string, so they
 * are listed too (leaving them out would switch TLS 1.3 off).
 */
export const TLS12_CIPHERS: readonly string[] = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
];
const TLS13_CIPHERS: readonly string[] = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

export interface HardenedTlsOptions {
  minVersion: 'TLSv1.2';
  /** OpenSSL cipher string: the TLS 1.3 suites, then TLS12_CIPHERS. */
  ciphers: string;
  /** The server picks the suite in its order (strongest first), not the client's. */
  honorCipherOrder: true;
}

/**
 * The protocol and cipher policy shared by every TLS endpoint: spread it into `tls.createServer`,
 * smtp-server, nodemailer's `tls`, or an HTTPS server (portal, admin: `https.createServer({
 * ...hardenedTlsOptions(), key, cert })`, fastify's `https` option).
 */
export function hardenedTlsOptions(): HardenedTlsOptions {
  return { minVersion: 'TLSv1.2', ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'), honorCipherOrder: true };
}

export interface ServerTlsOptions extends HardenedTlsOptions {
  key: string;
  cert: string;
  /** PEM bundle client certificates are verified against; undefined = Node's default roots. */
  ca: string | undefined;
  /** The file `ca` was read from, or null when `ca` is undefined. */
  caFile: string | null;
  /** True when the generated development certificates are in use. */
  development: boolean;
}

export interface RelayTlsOptions extends HardenedTlsOptions {
  /** Client certificate and key presented to peers; undefined when relay.certFile is empty. */
  key: string | undefined;
  cert: string | undefined;
  /** Trust anchors for peers' server certificates; undefined = Node's default roots. */
  ca: string[] | undefined;
  development: boolean;
}

function readConfiguredFile(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config error: ${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/** Reads a certificate and its key, and checks they parse and belong together, so a wrong file
 * stops the daemon at start with the key named instead of failing every handshake later. */
function readCertificatePair(prefix: 'tls' | 'relay', certFile: string, keyFile: string): { cert: string; key: string } {
  const cert = readConfiguredFile(`${prefix}.certFile`, certFile);
  const key = readConfiguredFile(`${prefix}.keyFile`, keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError(`config error: ${prefix}.certFile: ${certFile} is not a PEM certificate (${(err as Error).message})`);
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new ConfigError(`config error: ${prefix}.keyFile: ${keyFile} is not a usable private key (${(err as Error).message})`);
  }
  if (!matches) throw new ConfigError(`config error: ${prefix}.keyFile: ${keyFile} is not the key of ${certFile}`);
  return { cert, key };
}

function readCaBundle(key: string, file: string): string {
  const bundle = readConfiguredFile(key, file);
  if (!bundle.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`config error: ${key}: ${file} holds no PEM certificate`);
  }
  return bundle;
}

/** Options for every listener (MTA, submission, IMAP): spread into `tls.createServer` or
 * smtp-server's options, adding `requestCert` where client certificates are wanted. */
export function serverTlsOptions(config: Config): ServerTlsOptions {
  if (config.tls.certFile) {
    const { cert, key } = readCertificatePair('tls', config.tls.certFile, config.tls.keyFile);
    if (!config.tls.caFile && config.tls.requireClientCertificate) {
      // Public web roots would accept any web certificate as a peer operator (R1: IGC-Santé CAs).
      throw new ConfigError('config error: tls.caFile: required when tls.requireClientCertificate is true (the CAs peer operators\' certificates chain to)');
    }
    const caFile = config.tls.caFile || null;
    const ca = caFile ? readCaBundle('tls.caFile', caFile) : undefined;
    return { ...hardenedTlsOptions(), key, cert, ca, caFile, development: false };
  }

  const development = ensureDevelopmentCertificates(config.dataDir, config.hostname);
  const caFile = config.tls.caFile || development.caCertFile;
  return {
    ...hardenedTlsOptions(),
    key: readConfiguredFile('tls.keyFile (development)', development.keyFile),
    cert: readConfiguredFile('tls.certFile (development)', development.certFile),
    ca: readCaBundle(config.tls.caFile ? 'tls.caFile' : 'tls.caFile (development)', caFile),
    caFile,
    development: true,
  };
}

/** Options for outbound connections to peer operators (nodemailer's `tls` or `tls.connect`). */
export function relayTlsOptions(config: Config): RelayTlsOptions {
  const pair = config.relay.certFile ? readCertificatePair('relay', config.relay.certFile, config.relay.keyFile) : undefined;
  const development = !config.tls.certFile;
  let ca: string[] | undefined;
  if (config.relay.caFile) {
    ca = [readCaBundle('relay.caFile', config.relay.caFile)];
  } else if (development) {
    // Setting `ca` replaces Node's default roots, so they are listed explicitly next to the
    // development CA: peers on the public internet and a local test peer both verify.
    const { caCertFile } = ensureDevelopmentCertificates(config.dataDir, config.hostname);
    ca = [...rootCertificates, readCaBundle('tls.caFile (development)', caCertFile)];
  }
  return { ...hardenedTlsOptions(), key: pair?.key, cert: pair?.cert, ca, development };
}
