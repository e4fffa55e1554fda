// Login on the portal (R16): password, then a second factor — a TOTP code from the app enrolled on
// the "Double authentification" page, or a one-time code mailed to the login address. A password
// alone opens only the second-factor page; the settings need both.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { durationMs } from '../../config/schema';
import { findTotpEnrolment } from '../../store/second-factors';
import { countEmailCodeTry, setEmailCode, type PortalSession } from '../../store/portal-sessions';
import { auditLogin, formText, minutes, sendPage, type LoginMethod, type PortalContext } from './context';
import { field, html, csrfInput } from './html';
import { checkEnrolledTotp, EMAIL_CODE_RESEND_MS, hashCode, MAX_CODE_FAILURES, newEmailCode, normaliseCode } from './second-factor';
import { sameToken } from './sessions';
import { checkPortalPassword } from './password-check';


const PASSWORD_REFUSALS: Record<string, string> = {
  'invalid-credentials': 'Adresse ou mot de passe incorrect.',
  'org-box': 'Une boîte organisationnelle ne se connecte pas : connectez-vous avec votre compte personnel.',
  'account-pending': 'Votre compte est en attente de validation par l’opérateur.',
  'account-suspended': 'Votre compte est suspendu. Contactez votre administrateur.',
};

function loginPage(ctx: PortalContext, request: FastifyRequest, reply: FastifyReply, values: { login?: string; error?: string; status?: number; notice?: string }) {
  const token = ctx.sessions.preLoginToken(request, reply);
  const psc = ctx.config.portal.oidc.issuer !== '';
  return sendPage(
    reply,
    { title: 'Connexion', notice: values.notice },
    html`<form method="post" action="/connexion" novalidate>
${csrfInput(token)}
${field({ name: 'login', label: 'Adresse de connexion ou adresse MSSanté', type: 'email', value: values.login, autocomplete: 'username', required: true })}
${field({ name: 'password', label: 'Mot de passe', type: 'password', autocomplete: 'current-password', required: true, error: values.error })}
<p><button type="submit">Se connecter</button></p>
</form>
<p class="hint">Après le mot de passe, un second facteur vous est demandé : le code de votre application d’authentification, ou un code à usage unique envoyé à votre adresse de connexion.</p>
${psc ? html`<h2>Pro Santé Connect</h2><p><a class="button" href="/connexion/psc">S’identifier avec Pro Santé Connect</a> (e-CPS ou carte CPS)</p>` : ''}`,
    values.status ?? 200,
  );
}

function codePage(
  ctx: PortalContext,
  reply: FastifyReply,
  session: PortalSession,
  options: { mode: 'totp' | 'courriel'; error?: string; notice?: string; status?: number },
) {
  const enrolled = findTotpEnrolment(ctx.db, session.accountId) !== undefined;
  const mode = enrolled ? options.mode : 'courriel';
  const codeSent = session.emailCodeHash !== null && (session.emailCodeUntil ?? 0) > Date.now();
  const codeField = (label: string, hint: string) =>
    field({ name: 'code', label, hint, autocomplete: 'one-time-code', inputmode: 'numeric', required: true, error: options.error });
  const sendForm = html`<form method="post" action="/connexion/courriel">${csrfInput(session.csrfToken)}<p><button type="submit" class="${mode === 'totp' || codeSent ? 'secondary' : ''}">${
    codeSent ? 'Renvoyer le code' : `Recevoir un code par courriel à ${session.login}`
  }</button></p></form>`;
  let body;
  if (mode === 'totp') {
    body = html`<form method="post" action="/connexion/code">${csrfInput(session.csrfToken)}<input type="hidden" name="mode" value="totp">
${codeField('Code de votre application d’authentification', 'Six chiffres, affichés par votre application (il change toutes les 30 secondes).')}
<p><button type="submit">Valider le code</button></p></form>
<h2>Vous n’avez pas votre téléphone ?</h2>${sendForm}`;
  } else {
    body = html`${enrolled ? '' : html`<p>Aucune application d’authentification n’est encore configurée pour ce compte : un code à usage unique vous est envoyé par courriel. Une fois connecté, vous pourrez configurer une application.</p>`}
${codeSent
  ? html`<form method="post" action="/connexion/code">${csrfInput(session.csrfToken)}<input type="hidden" name="mode" value="courriel">
${codeField('Code reçu par courriel', `Veuillez saisir le code à usage unique qui vient de vous être envoyé à ${session.login}.`)}
<p><button type="submit">Valider le code</button></p></form>`
  : ''}
${sendForm}
${enrolled ? html`<p><a href="/connexion/code">Utiliser plutôt mon application d’authentification</a></p>` : ''}`;
  }
  return sendPage(reply, { title: 'Second facteur d’authentification', notice: options.notice }, html`${body}
<form method="post" action="/deconnexion">${csrfInput(session.csrfToken)}<p><button type="submit" class="secondary">Annuler</button></p></form>`, options.status ?? 200);
}

export function registerLoginRoutes(app: FastifyInstance, ctx: PortalContext): void {
  app.get('/', async (request, reply) => reply.redirect(request.portal.session?.stage === 'full' ? '/compte' : '/connexion', 303));

  app.get('/connexion', async (request, reply) => {
    if (request.portal.session?.stage === 'full') return reply.redirect('/compte', 303);
    const query = request.query as Record<string, string>;
    const notice = query.expiree !== undefined || request.portal.expired
      ? 'Votre session a expiré : veuillez vous reconnecter.'
      : query.sortie !== undefined
        ? 'Vous êtes déconnecté.'
        : undefined;
    return loginPage(ctx, request, reply, { notice });
  });

  app.post('/connexion', async (request, reply) => {
    if (!ctx.sessions.checkPreLoginToken(request, formText(request.body, '_csrf'))) {
      return loginPage(ctx, request, reply, { error: 'Le formulaire a expiré : veuillez le soumettre à nouveau.', status: 403 });
    }
    const login = formText(request.body, 'login');
    const password = (request.body as Record<string, unknown>)?.password;
    if (login === '' || typeof password !== 'string' || password === '') {
      return loginPage(ctx, request, reply, { login, error: 'Saisissez votre adresse et votre mot de passe.', status: 400 });
    }
    const result = await checkPortalPassword(ctx, login, password, request.ip);
    if (!result.ok) {
      const error =
        result.reason === 'throttled'
          ? `Trop de tentatives. Réessayez dans ${minutes(result.retryAfterMs ?? 60_000)} minute(s).`
          : PASSWORD_REFUSALS[result.reason] ?? PASSWORD_REFUSALS['invalid-credentials'];
      return loginPage(ctx, request, reply, { login, error, status: result.reason === 'throttled' ? 429 : 401 });
    }
    ctx.sessions.end(reply, request.portal.session);
    ctx.sessions.start(reply, result.account.accountId, 'password', null, request.ip);
    return reply.redirect('/connexion/code', 303);
  });

  /** The half-open session of a request, or a redirect. */
  const halfOpen = (request: FastifyRequest, reply: FastifyReply): PortalSession | null => {
    const session = request.portal.session;
    if (session?.stage === 'password') return session;
    void reply.redirect(session?.stage === 'full' ? '/compte' : '/connexion', 303);
    return null;
  };

  app.get('/connexion/code', async (request, reply) => {
    const session = halfOpen(request, reply);
    if (!session) return reply;
    const mode = (request.query as Record<string, string>).mode === 'courriel' ? 'courriel' : 'totp';
    return codePage(ctx, reply, session, { mode });
  });

  app.post('/connexion/courriel', async (request, reply) => {
    const session = halfOpen(request, reply);
    if (!session) return reply;
    const now = Date.now();
    if (session.emailCodeSentAt !== null && now - session.emailCodeSentAt < EMAIL_CODE_RESEND_MS) {
      return codePage(ctx, reply, session, { mode: 'courriel', error: 'Un code vient d’être envoyé : attendez une minute avant d’en demander un autre.', status: 429 });
    }
    const code = newEmailCode();
    const lifetime = durationMs(ctx.config.portal.emailCodeLifetime);
    try {
      await ctx.emailCodes.send(session.login, code, minutes(lifetime));
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, login: session.login }, 'portal: one-time code not sent (notifications.smtp)');
      return codePage(ctx, reply, session, { mode: 'courriel', error: 'Le code n’a pas pu être envoyé. Réessayez dans quelques minutes.', status: 503 });
    }
    setEmailCode(ctx.db, session.tokenHash, hashCode(code), now + lifetime, now);
    return reply.redirect('/connexion/code?mode=courriel', 303);
  });

  app.post('/connexion/code', async (request, reply) => {
    const session = halfOpen(request, reply);
    if (!session) return reply;
    const mode = formText(request.body, 'mode') === 'courriel' ? 'courriel' : 'totp';
    const method: LoginMethod = mode === 'courriel' ? 'password+email' : 'password+totp';
    const code = normaliseCode(formText(request.body, 'code'));
    const blocked = ctx.codeThrottle.blockedFor(session.accountId);
    if (blocked > 0) {
      auditLogin(ctx, session.login, request.ip, 'throttled', method);
      return codePage(ctx, reply, session, { mode, error: `Trop de codes erronés. Réessayez dans ${minutes(blocked)} minute(s).`, status: 429 });
    }
    let ok = false;
    let error = 'Code incorrect.';
    if (mode === 'totp') {
      ok = await checkEnrolledTotp(ctx.db, session.accountId, code);
    } else if (session.emailCodeHash === null || (session.emailCodeUntil ?? 0) <= Date.now()) {
      error = 'Ce code a expiré : demandez-en un nouveau.';
    } else if (sameToken(hashCode(code), session.emailCodeHash)) {
      ok = true;
    } else if (countEmailCodeTry(ctx.db, session.tokenHash) >= MAX_CODE_FAILURES) {
      setEmailCode(ctx.db, session.tokenHash, hashCode(newEmailCode()), 0, session.emailCodeSentAt ?? 0);
      error = 'Trop d’essais pour ce code : demandez-en un nouveau.';
    }
    if (!ok) {
      ctx.codeThrottle.fail(session.accountId);
      auditLogin(ctx, session.login, request.ip, 'wrong-code', method);
      return codePage(ctx, reply, session, { mode, error, status: 401 });
    }
    ctx.codeThrottle.clear(session.accountId);
    auditLogin(ctx, session.login, request.ip, 'ok', method);
    ctx.sessions.promote(reply, session, method);
    const enrolled = findTotpEnrolment(ctx.db, session.accountId) !== undefined;
    // First login (or after `mssd account second-factor reset`): go and enrol an app.
    return reply.redirect(enrolled ? '/compte' : '/compte/double-authentification?premiere=1', 303);
  });

  app.post('/deconnexion', async (request, reply) => {
    ctx.sessions.end(reply, request.portal.session);
    return reply.redirect('/connexion?sortie=1', 303);
  });
}
