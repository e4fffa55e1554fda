// Pro Santé Connect login (R16): OpenID Connect authorization code flow with PKCE (RFC 7636,
// S256), state and nonce, through openid-client v6 (discovery, token exchange, ID token checks).
// PSC authenticates the professional with e-CPS or a CPS card: that is strong authentication by
// itself, so a PSC login opens a full session at once (audit method 'psc').
//
// The professional is found by RPPS: `portal.oidc.identityClaim` (default "SubjectNameID", PSC's
// national id "8" + RPPS) read from the userinfo answer, else from the ID token; a bare 11-digit
// RPPS is accepted too. Exactly one active personal box with that RPPS logs in; none, or several
// (the same RPPS may hold several boxes), is refused with a message saying to use the password.
//
// The flow's secrets (state, nonce, PKCE verifier) wait in memory for at most 10 minutes under a
// random id held in a `__Host-` cookie: nothing about an unfinished login is written to the store.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rppsFromNationalId } from '../../auth/oauth';
import { activePersonBoxesByRpps } from '../../store/portal-lookups';
import { httpsRequest } from '../../util/https-client';
import { auditLogin, sendPage, type PortalContext } from './context';
import { html } from './html';
import type * as OidcModule from 'openid-client' with { 'resolution-mode': 'import' };

type OidcClient = typeof OidcModule;

const FLOW_COOKIE = '__Host-mssd-psc';
const FLOW_TTL_MS = 10 * 60_000;
const MAX_FLOWS = 10_000;
const SCOPE = 'openid scope_all';

interface PendingFlow {
  state: string;
  nonce: string;
  verifier: string;
  createdAt: number;
}

/** The public base URL of the portal: portal.publicUrl, or https://hostname:port. */
export function publicBaseUrl(ctx: PortalContext): string {
  if (ctx.config.portal.publicUrl !== '') return ctx.config.portal.publicUrl.replace(/\/$/, '');
  const port = ctx.config.listen.https.port;
  return `https://${ctx.config.hostname}${port === 443 ? '' : `:${port}`}`;
}

/** fetch for openid-client over node:https, so that portal.oidc.caFile can name the trust anchors. */
function fetchWithCa(ca: string[] | undefined) {
  return async (url: string, options: { method?: string; headers?: unknown; body?: unknown; signal?: AbortSignal | null }) => {
    const headers = Object.fromEntries(new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).entries());
    const body = options.body === undefined || options.body === null ? undefined : String(options.body);
    const answer = await httpsRequest({
      url,
      method: (options.method ?? 'GET') as 'GET' | 'POST',
      headers,
      body,
      trust: { ca },
      timeoutMs: 15_000,
      maxBytes: 1024 * 1024,
      signal: options.signal ?? undefined,
    });
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    return new Response(answer.status === 204 ? null : new Uint8Array(answer.body), { status: answer.status, headers: responseHeaders });
  };
}

export function registerPscRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const settings = ctx.config.portal.oidc;
  if (settings.issuer === '') return;
  const ca = settings.caFile ? [readFileSync(settings.caFile, 'utf8')] : undefined;
  const flows = new Map<string, PendingFlow>();
  const redirectUri = `${publicBaseUrl(ctx)}/connexion/psc/retour`;
  let library: Promise<OidcClient> | undefined;
  let discovered: Promise<OidcModule.Configuration> | undefined;

  const client = () => (library ??= import('openid-client'));
  /** Discovery once; a failure is retried at the next login (PSC may have been down). */
  const configuration = async () => {
    const oidc = await client();
    discovered ??= oidc
      .discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret, undefined, {
        [oidc.customFetch]: fetchWithCa(ca),
      } as never)
      .then((config) => {
        config[oidc.customFetch] = fetchWithCa(ca) as never;
        return config;
      });
    return discovered.catch((err) => {
      discovered = undefined;
      throw err;
    });
  };

  const refuse = (reply: FastifyReply, message: string, status = 400) =>
    sendPage(reply, { title: 'Connexion par Pro Santé Connect', error: message }, html`<p><a href="/connexion">Revenir à la connexion</a></p>`, status);

  const sweep = (now: number) => {
    for (const [id, flow] of flows) if (now - flow.createdAt > FLOW_TTL_MS) flows.delete(id);
  };

  app.get('/connexion/psc', async (_request, reply) => {
    const oidc = await client();
    let config;
    try {
      config = await configuration();
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, issuer: settings.issuer }, 'portal: Pro Santé Connect discovery failed');
      return refuse(reply, 'Pro Santé Connect est momentanément indisponible. Connectez-vous avec votre mot de passe.', 503);
    }
    const now = Date.now();
    sweep(now);
    if (flows.size >= MAX_FLOWS) return refuse(reply, 'Trop de connexions en cours ; réessayez dans quelques minutes.', 503);
    const flow: PendingFlow = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), createdAt: now };
    const id = randomBytes(32).toString('base64url');
    flows.set(id, flow);
    reply.setCookie(FLOW_COOKIE, id, { path: '/', secure: true, httpOnly: true, sameSite: 'lax', maxAge: FLOW_TTL_MS / 1000 });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
      acr_values: 'eidas1',
    });
    return reply.redirect(url.href, 303);
  });

  app.get('/connexion/psc/retour', async (request: FastifyRequest, reply) => {
    const id = request.cookies[FLOW_COOKIE];
    const flow = id ? flows.get(id) : undefined;
    if (id) flows.delete(id);
    reply.clearCookie(FLOW_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' });
    if (!flow || Date.now() - flow.createdAt > FLOW_TTL_MS) return refuse(reply, 'Cette connexion a expiré : recommencez.');
    const oidc = await client();
    let nationalId: unknown;
    let subject = '';
    try {
      const config = await configuration();
      const current = new URL(request.url, redirectUri);
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const claims: Record<string, unknown> = tokens.claims() ?? {};
      subject = String(claims.sub ?? '');
      nationalId = claims[settings.identityClaim];
      if (nationalId === undefined) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, subject);
        nationalId = info[settings.identityClaim];
      }
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'portal: Pro Santé Connect login failed');
      auditLogin(ctx, subject, request.ip, 'psc-failed', 'psc');
      return refuse(reply, 'La connexion par Pro Santé Connect a échoué. Recommencez, ou connectez-vous avec votre mot de passe.', 401);
    }
    const rpps = rppsFromNationalId(nationalId);
    const boxes = rpps ? activePersonBoxesByRpps(ctx.db, rpps) : [];
    if (!rpps || boxes.length !== 1) {
      auditLogin(ctx, rpps ? `rpps:${rpps}` : subject, request.ip, !rpps ? 'no-identity' : boxes.length === 0 ? 'unknown-rpps' : 'several-boxes', 'psc');
      return refuse(
        reply,
        boxes.length > 1
          ? 'Plusieurs boîtes sont associées à votre RPPS : connectez-vous avec l’adresse et le mot de passe de la boîte voulue.'
          : 'Aucune boîte active n’est associée à votre identité Pro Santé Connect chez cet opérateur.',
        403,
      );
    }
    const [box] = boxes;
    auditLogin(ctx, box.login, request.ip, 'ok', 'psc');
    ctx.sessions.end(reply, request.portal.session);
    ctx.sessions.start(reply, box.id, 'full', 'psc', request.ip);
    // This answer ends a navigation that came from PSC's site: a redirect from here would still be
    // cross-site, and the browser would not send the SameSite=Strict session cookie with it. A
    // same-site page that moves on by itself (meta refresh, no script) does.
    void reply.header('Refresh', '0; url=/compte');
    return sendPage(
      reply,
      { title: 'Connexion réussie' },
      html`<p>Vous êtes connecté avec Pro Santé Connect. <a href="/compte">Accéder à mon compte</a></p>`,
    );
  });
}
