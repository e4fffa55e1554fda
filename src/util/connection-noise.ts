// Log lines an on-call engineer can trust: what a client does wrong on its own connection — a
// port probe that leaves during the TLS handshake, a TLS 1.0/1.1 hello, a reset, a connection
// over the limits — is not a fault of the server. It is logged at info (warn for refusals over
// the limits, which an operator may want to see), as one line without a stack, and at most once
// per kind per minute: the next line carries how many were left out. Anything not recognised
// here stays at error level, with its stack, for a human to look at.
import type { Logger } from './log';

export type NoiseKind =
  /** TLS version or ciphers the server does not offer (TLS 1.2+ only, R1). */
  | 'tls-unsupported'
  /** The client left before the TLS handshake finished. */
  | 'tls-aborted'
  /** Any other handshake failure (bad record, unknown CA on the client's side…). */
  | 'tls-failed'
  /** Reset, broken pipe or timeout on the client's connection. */
  | 'connection-reset'
  /** Refused over limits.maxConnections / maxConnectionsPerIp. */
  | 'connection-limit';

const MESSAGES: Record<NoiseKind, string> = {
  'tls-unsupported': 'client offered a TLS version or ciphers this server does not accept (TLS 1.2+)',
  'tls-aborted': 'client left during the TLS handshake',
  'tls-failed': 'TLS handshake failed',
  'connection-reset': 'client connection reset',
  'connection-limit': 'connection refused: over the connection limits',
};

/** The kind of a socket or TLS error that is the client's business, or null for a real fault. */
export function classifyConnectionError(err: unknown): NoiseKind | null {
  if (!err || typeof err !== 'object') return null;
  const { code, message, reason } = err as { code?: string; message?: string; reason?: string };
  const text = `${reason ?? ''} ${message ?? ''}`;
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || /unsupported protocol|wrong version number|no shared cipher|version too low/i.test(text)) return 'tls-unsupported';
  if (/closed while initiating TLS|socket hang up/i.test(text) || code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') return 'tls-aborted';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT' || code === 'ECONNABORTED') return 'connection-reset';
  if ((typeof code === 'string' && (code.startsWith('ERR_SSL_') || code === 'TLSError')) || /SSL routines|TLS/.test(text)) return 'tls-failed';
  return null;
}

/** One line per kind per `intervalMs`; the next one says how many were left out. */
export class NoiseLog {
  private readonly windows = new Map<NoiseKind, { until: number; suppressed: number; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly log: Logger,
    private readonly fields: Record<string, unknown>,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  report(kind: NoiseKind, detail: Record<string, unknown> = {}): void {
    const at = this.now();
    const window = this.windows.get(kind);
    if (window && at < window.until) {
      window.suppressed++;
      // Say how many were left out at the end of the window, even if none follows.
      window.timer ??= setTimeout(() => this.flush(kind), window.until - at).unref();
      return;
    }
    this.windows.set(kind, { until: at + this.intervalMs, suppressed: 0 });
    this.write(kind, detail, window?.suppressed ?? 0);
  }

  /** Reports `err` when it is client noise and returns true; false when it is a real fault. */
  reportError(err: unknown, detail: Record<string, unknown> = {}): boolean {
    const kind = classifyConnectionError(err);
    if (!kind) return false;
    const reason = (err as { reason?: string; message?: string }).reason ?? String((err as { message?: string }).message ?? '').split('\n')[0].slice(0, 200);
    // smtp-server puts the peer in err.meta.remoteAddress (or err.remote).
    const { remote, meta } = err as { remote?: string; meta?: { remoteAddress?: string } };
    const peer = meta?.remoteAddress ?? remote;
    this.report(kind, { ...(peer ? { peer } : {}), reason, ...detail });
    return true;
  }

  private flush(kind: NoiseKind): void {
    const window = this.windows.get(kind);
    if (!window || window.suppressed === 0) return;
    this.write(kind, {}, window.suppressed);
    window.suppressed = 0;
    window.timer = undefined;
  }

  private write(kind: NoiseKind, detail: Record<string, unknown>, suppressed: number): void {
    const line = { ...this.fields, kind, ...detail, ...(suppressed > 0 ? { alsoInLastMinute: suppressed } : {}) };
    if (kind === 'connection-limit') this.log.warn(line, MESSAGES[kind]);
    else this.log.info(line, MESSAGES[kind]);
  }
}
