// The HTTPS listener of the self-service portal (listen.https): fastify over the daemon's own TLS
// options (the certificate, TLS 1.2+ and ciphers every listener uses), security headers on every
// answer, sessions and CSRF checked before any route runs.
//
// Headers: CSP `default-src 'self'` (plus `img-src data:` for the enrolment QR code; no script at
// all), HSTS, no framing, no referrer, no caching of pages holding personal data.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { projectRoot } from '../../config/load';
import type { ServerTlsOptions } from '../../tls/server-options';
import { OperatorError } from '../../util/operator-error';
import { registerAccountRoutes } from './account-routes';
import { registerAutoconfigRoutes } from './autoconfig';
import { formText, sendPage, type PortalContext, type PortalDeps } from './context';
import { registerDevicesRoutes } from './devices-routes';
import { registerDirectoryRoutes } from './directory-routes';
import { html } from './html';
import { registerLoginRoutes } from './login-routes';
import { registerOrgRoutes } from './org-routes';
import { registerPscRoutes } from './psc';
import { CodeThrottle, EmailCodeSender } from './second-factor';
import { PortalSessions, sameToken } from './sessions';

const CSP = "default-src 'self'; img-src 'self' data:; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const STYLESHEET = path.join(projectRoot, 'src', 'web', 'portal', 'static', 'portail.css');

/** POST endpoints that are not forms of the portal (machine clients without cookies). */
const CSRF_EXEMPT = new Set(['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']);

export interface Portal {
  app: FastifyInstance;
  /** Resolves with the bound address, e.g. 127.0.0.1:2443. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The TLS options of every listener, minus what only client-certificate listeners need. */
function httpsOptions(tls: ServerTlsOptions) {
  const { ca: _ca, caFile: _caFile, development: _development, ...options } = tls;
  return options;
}

export function createPortal(deps: PortalDeps, tls: ServerTlsOptions): Portal {
  const ctx: PortalContext = {
    ...deps,
    sessions: new PortalSessions(deps.db, deps.config, Date.now, (work) => {
      deps.batcher.run(work).catch((err) => deps.log.warn({ err }, 'portal: session activity not recorded'));
    }),
    codeThrottle: new CodeThrottle(),
    emailCodes: new EmailCodeSender(deps.config),
  };
  const app = Fastify({
    https: httpsOptions(tls),
    logger: false,
    bodyLimit: 128 * 1024,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
  });
  void app.register(fastifyCookie);
  void app.register(fastifyFormbody, { bodyLimit: 128 * 1024 });
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.decorateRequest('portal', null as never);

  app.addHook('onRequest', async (request, reply) => {
    void reply
      .header('Content-Security-Policy', CSP)
      .header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains')
      .header('X-Content-Type-Options', 'nosniff')
      .header('X-Frame-Options', 'DENY')
      .header('Referrer-Policy', 'no-referrer')
      .header('Cache-Control', 'no-store');
    request.portal = { session: null, expired: false };
  });

  app.addHook('preHandler', async (request, reply) => {
    request.portal = ctx.sessions.lookup(request);
    if (request.method !== 'POST' || CSRF_EXEMPT.has(request.url.split('?')[0]) || request.url === '/connexion') return;
    // Synchronizer token (OWASP): every form of a session carries its token.
    const session = request.portal.session;
    if (!session && request.portal.expired) return reply.redirect('/connexion?expiree=1', 303);
    if (!session || !sameToken(formText(request.body, '_csrf'), session.csrfToken)) {
      ctx.log.warn({ url: request.url, peer: request.ip, session: session !== null }, 'portal: form refused: missing or wrong CSRF token');
      return sendPage(
        reply,
        { title: 'Formulaire refusé', error: 'Ce formulaire n’est plus valable (jeton de sécurité absent ou incorrect).' },
        html`<p><a href="${session ? '/compte' : '/connexion'}">Revenir au portail</a> et recommencer.</p>`,
        403,
      );
    }
  });

  const stylesheet = readFileSync(STYLESHEET, 'utf8');
  app.get('/static/portail.css', async (_request, reply) =>
    reply.header('Cache-Control', 'public, max-age=3600').type('text/css; charset=utf-8').send(stylesheet),
  );

  registerLoginRoutes(app, ctx);
  registerAccountRoutes(app, ctx);
  registerOrgRoutes(app, ctx);
  registerDevicesRoutes(app, ctx);
  registerDirectoryRoutes(app, ctx);
  registerPscRoutes(app, ctx);
  registerAutoconfigRoutes(app, ctx);

  app.setNotFoundHandler(async (_request, reply) =>
    sendPage(reply, { title: 'Page introuvable' }, html`<p>Cette page n’existe pas. <a href="/">Revenir à l’accueil</a></p>`, 404),
  );
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) ctx.log.error({ err, url: request.url }, 'portal: request failed');
    return sendPage(
      reply,
      { title: status === 500 ? 'Erreur du serveur' : 'Requête invalide' },
      html`<p>${status === 500 ? 'Une erreur est survenue ; réessayez plus tard.' : 'La requête n’a pas pu être comprise.'} <a href="/">Revenir à l’accueil</a></p>`,
      status,
    );
  });

  return {
    app,
    async listen() {
      const listener = deps.config.listen.https;
      try {
        await app.listen({ host: listener.host, port: listener.port });
      } catch (err) {
        // The same one-line operator message as the other listeners (src/daemon.ts listenOn).
        const code = (err as NodeJS.ErrnoException).code;
        const reason = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : (err as Error).message;
        throw new OperatorError(`cannot listen on listen.https ${listener.host}:${listener.port}: ${reason}`);
      }
      const address = app.server.address();
      return typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address);
    },
    async close() {
      await app.close();
      ctx.emailCodes.close();
    },
  };
}
