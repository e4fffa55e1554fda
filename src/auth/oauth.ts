// OAuth 2.0 bearer tokens for IMAP and submission (R16, issue 11): a JWT access token from
// `auth.oauth.issuer` (Pro Santé Connect in production), carried by SASL OAUTHBEARER (RFC 7628) or
// XOAUTH2. Checked with jose (the JOSE/JWT library of the Node ecosystem, already a dependency):
// signature against the issuer's JSON Web Key Set (an https URL, cached and fetched again when a
// token names an unknown key id; or a file, read again when it changed), an allow-list of
// signature algorithms (never "none" nor HMAC, which a public key could be abused for), `iss`,
// `aud`, `exp`/`nbf` with a small clock skew, and the identity claim carrying the professional's
// national id: RPPS, or "8" + RPPS (the PSC/ANS form of an RPPS-based national id).
import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/schema';
import { httpsRequest, serviceTrust, type HttpsTrust } from '../util/https-client';

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
type KeySet = Parameters<Jose['jwtVerify']>[1];

/** Accepted signature algorithms: PSC signs with RS256; the others are its asymmetric peers. */
export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'];
/** Clock difference tolerated on exp/nbf/iat. */
export const CLOCK_SKEW_SECONDS = 60;

export type TokenRefusal = 'expired' | 'not-yet-valid' | 'wrong-issuer' | 'wrong-audience' | 'unknown-key' | 'bad-signature' | 'malformed' | 'no-identity' | 'jwks-unavailable';

export type TokenCheck = { ok: true; rpps: string; subject: string | null } | { ok: false; reason: TokenRefusal; detail: string };

export interface OAuthSettings {
  issuer: string;
  audience: string;
  jwks: string;
  identityClaim: string;
}

let josePromise: Promise<Jose> | undefined;
/** jose is an ES module; this CommonJS code loads it once, on first use. */
function loadJose(): Promise<Jose> {
  josePromise ??= import('jose');
  return josePromise;
}

/** "10101010101" or "810101010101" → the 11-digit RPPS; anything else → null. */
export function rppsFromNationalId(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).trim();
  if (/^\d{11}$/.test(text)) return text;
  if (/^8\d{11}$/.test(text)) return text.slice(1);
  return null;
}

export class TokenVerifier {
  private keySet: Promise<KeySet> | undefined;
  private fileStamp = '';

  constructor(
    private readonly settings: OAuthSettings,
    private readonly trust: HttpsTrust = {},
    /** Least time between two fetches of the key set for unknown key ids (flood protection). */
    private readonly cooldownMs = 30_000,
  ) {}

  static fromConfig(config: Config): TokenVerifier | null {
    const oauth = config.auth.oauth;
    if (!oauth.issuer) return null;
    const trust = oauth.jwks.startsWith('https://') ? serviceTrust(config, 'auth.oauth.caFile', oauth.caFile) : {};
    return new TokenVerifier(oauth, trust);
  }

  get issuer(): string {
    return this.settings.issuer;
  }

  async verify(token: string): Promise<TokenCheck> {
    const jose = await loadJose();
    let keys: KeySet;
    try {
      keys = await this.keys(jose);
    } catch (err) {
      return { ok: false, reason: 'jwks-unavailable', detail: err instanceof Error ? err.message : String(err) };
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: TOKEN_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      return { ok: false, ...this.describe(jose, err) };
    }
    const rpps = rppsFromNationalId(payload[this.settings.identityClaim]);
    if (!rpps) return { ok: false, reason: 'no-identity', detail: `claim ${this.settings.identityClaim} holds no RPPS` };
    return { ok: true, rpps, subject: typeof payload.sub === 'string' ? payload.sub : null };
  }

  private describe(jose: Jose, err: unknown): { reason: TokenRefusal; detail: string } {
    const { errors } = jose;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof errors.JWTExpired) return { reason: 'expired', detail: message };
    if (err instanceof errors.JWTClaimValidationFailed) {
      if (err.claim === 'iss') return { reason: 'wrong-issuer', detail: message };
      if (err.claim === 'aud') return { reason: 'wrong-audience', detail: message };
      if (err.claim === 'nbf' || err.claim === 'iat') return { reason: 'not-yet-valid', detail: message };
      return { reason: 'malformed', detail: message };
    }
    if (err instanceof errors.JWKSNoMatchingKey) return { reason: 'unknown-key', detail: message };
    if (err instanceof errors.JWSSignatureVerificationFailed) return { reason: 'bad-signature', detail: message };
    if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || (err as { code?: string }).code === 'ERR_JOSE_GENERIC') {
      return { reason: 'jwks-unavailable', detail: message };
    }
    if (err instanceof errors.JOSEAlgNotAllowed) return { reason: 'bad-signature', detail: message };
    // Not a JOSE error: the key set could not be fetched (network, TLS, HTTP status).
    if (!(err instanceof errors.JOSEError)) return { reason: 'jwks-unavailable', detail: message };
    return { reason: 'malformed', detail: message };
  }

  private keys(jose: Jose): Promise<KeySet> {
    const source = this.settings.jwks;
    if (source.startsWith('https://')) {
      // jose caches the set, fetches it again when a token names an unknown kid (at most every
      // 30 s), and refreshes it after cacheMaxAge; the fetch goes through our HTTPS client so that
      // auth.oauth.caFile (or the development CA) is trusted.
      this.keySet ??= Promise.resolve(
        jose.createRemoteJWKSet(new URL(source), {
          cacheMaxAge: 10 * 60_000,
          cooldownDuration: this.cooldownMs,
          timeoutDuration: 5_000,
          [jose.customFetch]: async (url: string | URL, init?: { headers?: ConstructorParameters<typeof Headers>[0]; signal?: AbortSignal }) => {
            const response = await httpsRequest({
              url: String(url),
              headers: Object.fromEntries(new Headers(init?.headers).entries()),
              trust: this.trust,
              timeoutMs: 5_000,
              maxBytes: 1024 * 1024,
              signal: init?.signal,
            });
            return new Response(new Uint8Array(response.body), { status: response.status, headers: { 'content-type': 'application/json' } });
          },
        }) as unknown as KeySet,
      );
      return this.keySet;
    }
    // A file: read again when its size or mtime changed (an operator rotating keys).
    let stamp = '';
    try {
      const stat = statSync(source);
      stamp = `${stat.size}:${stat.mtimeMs}`;
    } catch {
      stamp = 'missing';
    }
    if (!this.keySet || stamp !== this.fileStamp) {
      this.fileStamp = stamp;
      this.keySet = Promise.resolve().then(() => jose.createLocalJWKSet(JSON.parse(readFileSync(source, 'utf8'))) as unknown as KeySet);
      this.keySet.catch(() => undefined);
    }
    return this.keySet;
  }
}
