// Portal sessions: a random token in a `__Host-` cookie (Secure, HttpOnly, SameSite=Strict, Path=/,
// so no subdomain can set or read it), the session itself server-side (src/store/portal-sessions.ts).
//
// Limits: a session ends after `portal.sessionIdle` without a request and `portal.sessionMaxAge`
// after login, whichever comes first; a suspended account's sessions end at their next request.
// CSRF: synchronizer token per session, in a hidden field of every form; before login, the login
// form carries an HMAC of a random pre-login cookie (there is no session yet to bind it to).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { durationMs, type Config } from '../../config/schema';
import type { Db } from '../../store/database';
import {
  createPortalSession,
  deleteExpiredPortalSessions,
  deletePortalSession,
  findPortalSession,
  touchPortalSession,
  type PortalSession,
  type SessionStage,
} from '../../store/portal-sessions';

export const SESSION_COOKIE = '__Host-mssd-session';
export const PRE_LOGIN_COOKIE = '__Host-mssd-pre';

const COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'strict' as const };

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface SessionLookup {
  session: PortalSession | null;
  /** A session cookie was presented but its session had ended (idle, lifetime, suspension). */
  expired: boolean;
}

export class PortalSessions {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  /** Key of the pre-login CSRF tokens; per process (a restart only re-asks for the login form). */
  private readonly preLoginKey = randomBytes(32);
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    config: Config,
    private readonly now: () => number = Date.now,
    /** Runs a write that need not be durable before the answer (the daemon's group commit). */
    private readonly later: (work: (db: Db) => void) => void = (work) => work(db),
  ) {
    this.idleMs = durationMs(config.portal.sessionIdle);
    this.maxAgeMs = durationMs(config.portal.sessionMaxAge);
  }

  /** The live session behind the request's cookie, touched; an ended one is deleted. */
  lookup(request: FastifyRequest): SessionLookup {
    const token = request.cookies[SESSION_COOKIE];
    if (!token) return { session: null, expired: false };
    const now = this.now();
    this.sweep(now);
    const session = findPortalSession(this.db, token);
    if (!session) return { session: null, expired: true };
    if (now - session.lastSeenAt > this.idleMs || now - session.createdAt > this.maxAgeMs || session.accountStatus !== 'active') {
      deletePortalSession(this.db, session.tokenHash);
      return { session: null, expired: true };
    }
    // One write per few seconds is enough for an idle timeout counted in minutes.
    if (now - session.lastSeenAt > 5_000) this.later((db) => touchPortalSession(db, session.tokenHash, now));
    return { session, expired: false };
  }

  /** Starts a session (a new token each time, so a token planted before login is worth nothing: no session fixation). */
  start(reply: FastifyReply, accountId: number, stage: SessionStage, method: string | null, peer: string): void {
    const token = randomToken();
    createPortalSession(this.db, { token, accountId, stage, method, csrfToken: randomToken(), peer, now: this.now() });
    reply.setCookie(SESSION_COOKIE, token, COOKIE_OPTIONS);
  }

  /** Second factor given: the half-open session is replaced by a full one under a new token. */
  promote(reply: FastifyReply, session: PortalSession, method: string): void {
    deletePortalSession(this.db, session.tokenHash);
    const token = randomToken();
    const now = this.now();
    createPortalSession(this.db, { token, accountId: session.accountId, stage: 'full', method, csrfToken: randomToken(), peer: session.peer ?? '', now });
    reply.setCookie(SESSION_COOKIE, token, COOKIE_OPTIONS);
  }

  end(reply: FastifyReply, session: PortalSession | null): void {
    if (session) deletePortalSession(this.db, session.tokenHash);
    reply.clearCookie(SESSION_COOKIE, COOKIE_OPTIONS);
  }

  /** The CSRF token of the login form, bound to a random pre-login cookie (set when missing). */
  preLoginToken(request: FastifyRequest, reply: FastifyReply): string {
    let nonce = request.cookies[PRE_LOGIN_COOKIE];
    if (!nonce || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) {
      nonce = randomToken();
      reply.setCookie(PRE_LOGIN_COOKIE, nonce, COOKIE_OPTIONS);
    }
    return this.preLoginMac(nonce);
  }

  checkPreLoginToken(request: FastifyRequest, given: unknown): boolean {
    const nonce = request.cookies[PRE_LOGIN_COOKIE];
    return !!nonce && sameToken(given, this.preLoginMac(nonce));
  }

  private preLoginMac(nonce: string): string {
    return createHmac('sha256', this.preLoginKey).update(nonce).digest('base64url');
  }

  /** Deletes ended sessions now and then, so the table does not keep abandoned ones. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    deleteExpiredPortalSessions(this.db, now - this.idleMs, now - this.maxAgeMs);
  }
}
