// What the portal's routes share: the daemon's services, the session manager, the second factors,
// and small helpers every page uses (who is logged in, audit rows, redirects).
import type { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../../auth/authenticator';
import type { Config } from '../../config/schema';
import type { TrustSpace } from '../../policy/trustspace';
import { recordAudit, type AuditRecord } from '../../store/audit';
import type { CommitBatcher } from '../../store/commit-batcher';
import type { Db } from '../../store/database';
import type { PortalSession } from '../../store/portal-sessions';
import type { Logger } from '../../util/log';
import { page, type Html, type NavUser, type PageOptions } from './html';
import type { CodeThrottle, EmailCodeSender } from './second-factor';
import type { PortalSessions, SessionLookup } from './sessions';

declare module 'fastify' {
  interface FastifyRequest {
    portal: SessionLookup;
  }
}

export interface PortalDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** The daemon's shared authenticator: password throttling counts portal, IMAP and SMTP together. */
  authenticator: Authenticator;
  /** The router's change bus: 'mailbox-changed' null makes IMAP sessions look again (R6). */
  changes: EventEmitter;
  trustSpace: () => TrustSpace;
  /** The daemon's group commit: audit rows and session touches ride along with other writes
   * instead of paying an fsync each on the event loop. */
  batcher: CommitBatcher;
  /** Bound addresses of the daemon's listeners, for client autoconfig. */
  listening: Record<string, string>;
}

export interface PortalContext extends PortalDeps {
  sessions: PortalSessions;
  codeThrottle: CodeThrottle;
  emailCodes: EmailCodeSender;
}

/** The login method recorded in audit rows and sessions (COMMON.md "Agreed formats"). */
export type LoginMethod = 'password+totp' | 'password+email' | 'psc';

export function sendPage(reply: FastifyReply, options: PageOptions, body: Html, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page(options, body).text);
}

export function navUser(session: PortalSession): NavUser {
  return { login: session.login, csrfToken: session.csrfToken };
}

/**
 * The full session of a request, or null after answering with a redirect to the login page (a
 * half-open session — password given, second factor not — goes back to its code page).
 */
export function requireFullSession(request: FastifyRequest, reply: FastifyReply): PortalSession | null {
  const { session, expired } = request.portal;
  if (session?.stage === 'full') return session;
  if (session?.stage === 'password') {
    void reply.redirect('/connexion/code', 303);
    return null;
  }
  void reply.redirect(expired ? '/connexion?expiree=1' : '/connexion', 303);
  return null;
}

/** A login attempt on the portal, in the agreed audit format. */
export function auditLogin(ctx: PortalContext, login: string, peer: string, outcome: string, method: LoginMethod): void {
  audit(ctx, { event: 'login', source: 'portal', authLogin: login, peer, outcome, detail: JSON.stringify({ method }) });
}

function audit(ctx: PortalContext, record: AuditRecord): void {
  recordAudit(ctx.batcher, record, (err) => ctx.log.error({ err, event: record.event }, 'portal: audit row not written'));
}

/** A settings change made on the portal: who, on which box, what (names only, never content). */
export function auditSettings(ctx: PortalContext, session: PortalSession, box: string, what: Record<string, unknown>): void {
  audit(ctx, {
    event: 'settings',
    source: 'portal',
    authLogin: session.login,
    peer: session.peer,
    outcome: 'ok',
    detail: JSON.stringify({ box, ...what }),
  });
}

/** A form field as one trimmed string ('' when absent or repeated). */
export function formText(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** A checkbox: present ("on") or absent. */
export function formSwitch(body: unknown, name: string): boolean {
  return (body as Record<string, unknown> | undefined)?.[name] === 'on';
}

export function minutes(ms: number): number {
  return Math.max(1, Math.ceil(ms / 60_000));
}
