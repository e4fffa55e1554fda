// One HTTPS request with the trust anchors we choose (Node's fetch cannot take a CA bundle without
// undici, which is not a dependency): used to hand the directory diff to the national endpoint and
// to download the trust-space allowlist. TLS 1.2 or better, certificates always verified, a
// deadline on the whole exchange and a cap on the size of the answer.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../config/load';
import type { Config } from '../config/schema';
import { ensureDevelopmentCertificates } from '../tls/development';

export interface HttpsTrust {
  /** Trust anchors; undefined = Node's default roots. */
  ca?: string[];
  /** Client certificate and key presented when the server asks for one. */
  cert?: string;
  key?: string;
}

export interface HttpsRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PATCH';
  headers?: Record<string, string>;
  body?: string | Buffer;
  trust?: HttpsTrust;
  /** Deadline for the whole exchange (default 30 s). */
  timeoutMs?: number;
  /** Largest answer accepted (default 64 MiB). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Performs the request; rejects on network, TLS, timeout or size errors (any status resolves). */
export function httpsRequest(request: HttpsRequest): Promise<HttpsResponse> {
  const url = new URL(request.url);
  if (url.protocol !== 'https:') return Promise.reject(new Error(`${request.url}: only https:// URLs are used`));
  const maxBytes = request.maxBytes ?? 64 * 1024 * 1024;
  const timeoutMs = request.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: request.method ?? 'GET',
        headers: {
          ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}),
          ...request.headers,
        },
        minVersion: 'TLSv1.2',
        ca: request.trust?.ca,
        cert: request.trust?.cert,
        key: request.trust?.key,
        signal: request.signal,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(request.body);
  });
}

/** "connect ECONNREFUSED 127.0.0.1:443", "HTTP 503 Service Unavailable: <first line>". */
export function describeHttpsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.message ? e.message.split('\n')[0] : String(err);
}

function readCaBundle(key: string, file: string): string {
  let bundle: string;
  try {
    bundle = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config error: ${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  if (!bundle.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`config error: ${key}: ${file} holds no PEM certificate`);
  return bundle;
}

/**
 * Trust anchors for an HTTPS service of the operator's ecosystem: `caFile` when set (named `key`
 * in errors); otherwise Node's roots, plus the development CA when the daemon runs on development
 * certificates (no tls.certFile), so that tests and a local setup can serve it themselves — the
 * same rule as the relay (src/tls/server-options.ts relayTlsOptions).
 */
export function serviceTrust(config: Config, key: string, caFile: string): HttpsTrust {
  if (caFile) return { ca: [readCaBundle(key, caFile)] };
  if (config.tls.certFile) return {};
  const { caCertFile } = ensureDevelopmentCertificates(config.dataDir, config.hostname);
  return { ca: [...rootCertificates, readCaBundle('tls.caFile (development)', caCertFile)] };
}
