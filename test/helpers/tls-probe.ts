// TLS probes with the openssl command line, as an auditor runs them (`openssl s_client`, the way
// testssl.sh enumerates a server's suites): which suite a listener picks for a given offer.
import { spawnSync } from 'node:child_process';

/** How to reach a listener: implicit TLS, or a cleartext protocol that upgrades (STARTTLS). */
export interface TlsTarget {
  name: string;
  port: number;
  starttls: 'smtp' | 'imap' | null;
}

export interface Handshake {
  /** The suite negotiated, or null when the handshake failed. */
  cipher: string | null;
  protocol: string | null;
  output: string;
}

/** One handshake offering exactly `cipherString` (TLS 1.2) or `ciphersuites` (TLS 1.3). */
export function handshake(target: TlsTarget, offer: { tls12?: string; tls13?: string }): Handshake {
  const args = ['s_client', '-connect', `127.0.0.1:${target.port}`, '-servername', 'localhost'];
  if (target.starttls) args.push('-starttls', target.starttls);
  if (offer.tls13) args.push('-tls1_3', '-ciphersuites', offer.tls13);
  else args.push('-tls1_2', '-cipher', offer.tls12 ?? 'ALL');
  const result = spawnSync('openssl', args, { input: '', encoding: 'utf8', timeout: 15_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  // "New, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384", or "New, (NONE), Cipher is (NONE)"
  const negotiated = /^New, (\S+), Cipher is (\S+)/m.exec(output);
  const protocol = negotiated?.[1] ?? null;
  const cipher = negotiated?.[2] ?? null;
  const failed = result.status !== 0 || cipher === null || cipher === '(NONE)';
  return { cipher: failed ? null : cipher, protocol: failed ? null : protocol, output };
}

/**
 * Every TLS 1.2 suite the listener accepts, in the order it prefers them: offer every suite
 * OpenSSL knows, note the one the server picks, take it out of the offer, again until the
 * handshake fails (what testssl.sh and sslscan do).
 */
export function acceptedTls12Suites(target: TlsTarget): string[] {
  const accepted: string[] = [];
  for (let round = 0; round < 200; round++) {
    const offer = ['ALL:COMPLEMENTOFALL', ...accepted.map((name) => `!${name}`), '@SECLEVEL=0'].join(':');
    const result = handshake(target, { tls12: offer });
    if (!result.cipher) break;
    accepted.push(result.cipher);
  }
  return accepted;
}
