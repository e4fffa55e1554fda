// The pages of "Gérer son compte individuel" (seeds, PARTIE 2; R17): my box, password, second
// factor, automatic reply (R8), forwards (R7), notifications (R9), directory visibility (R13),
// dématérialisation. Each change goes through the same store functions as the CLI (so the same
// rules and refusals apply) and is audited: event 'settings', source 'portal', who, what — never
// content (no reply body, no password). Writes go through the daemon's group commit (one fsync
// shared with the deliveries of the same moment), and the page answers once they are durable.
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import { checkPassword as passwordProblem } from '../../policy/identity';
import { hashPassword } from '../../policy/password';
import { isAllowedDestination } from '../../policy/routing-rules';
import { AccountError, getAccount, updateAccountSettings } from '../../store/accounts';
import { describeAccount, type AccountDescription } from '../../store/account-view';
import { addForward, clearAutoreply, getAutoreply, listForwards, removeForward, setAutoreply } from '../../store/box-rules';
import { listMemberships, setOrgMemberNotify } from '../../store/org-members';
import { findBox } from '../../store/boxes';
import { deleteAccountPortalSessions, setPendingTotpSecret, type PortalSession } from '../../store/portal-sessions';
import { findTotpEnrolment } from '../../store/second-factors';
import { auditSettings, formSwitch, formText, navUser, requireFullSession, sendPage, type PortalContext } from './context';
import { checkbox, csrfInput, field, html, type Html } from './html';
import { checkPortalPassword } from './password-check';
import { inFrench } from './refusals';
import { confirmEnrolment, newTotpSecret, normaliseCode, totpUri } from './second-factor';

const SAVED = 'Modifications enregistrées.';

const TYPE_LABELS: Record<string, string> = {
  PER: 'BAL personnelle (PER) — professionnel de santé avec RPPS',
  MED: 'BAL personnelle (MED) — sans RPPS, échanges avec les utilisateurs de l’opérateur uniquement',
  INT: 'BAL personnelle (INT) — en attente de RPPS',
  ORG: 'BAL organisationnelle (ORG)',
  APP: 'BAL applicative (APP)',
};

const FOLDER_LABELS: Record<string, string> = {
  '\\Inbox': 'Boîte de réception',
  '\\Sent': 'Envoyés',
  '\\Drafts': 'Brouillons',
  '\\Trash': 'Corbeille',
  '\\Junk': 'Indésirables',
  '\\Archive': 'Archives',
};

function folderLabel(folder: { name: string; specialUse: string | null }): string {
  if (folder.name.toUpperCase() === 'INBOX') return 'Boîte de réception';
  return (folder.specialUse && FOLDER_LABELS[folder.specialUse]) || folder.name;
}

interface SettingsView {
  title: string;
  path: string;
  notice?: string | null;
  error?: string | null;
  status?: number;
}

export function settingsPage(reply: FastifyReply, session: PortalSession, view: SettingsView, body: Html): FastifyReply {
  return sendPage(reply, { title: view.title, user: navUser(session), current: view.path, notice: view.notice, error: view.error }, body, view.status ?? 200);
}

function savedNotice(query: unknown): string | null {
  return (query as Record<string, string>).ok !== undefined ? SAVED : null;
}

/** The local datetime-local value ("2026-07-14T08:00") of an instant, in the server's time zone. */
function localInput(at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (server local time), checked field by field; NaN when invalid. */
export function parseLocalInput(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text);
  if (!match) return NaN;
  const [year, month, day, hour, minute] = match.slice(1).map(Number);
  const at = new Date(year, month - 1, day, hour, minute);
  return at.getMonth() === month - 1 && at.getDate() === day && hour < 24 && minute < 60 ? at.getTime() : NaN;
}

/**
 * What the settings pages show: the account row and its rules, without the folder counts of
 * `describeAccount` (those count messages; only "Ma boîte" needs them).
 */
function settingsOf(ctx: PortalContext, session: PortalSession) {
  const account = getAccount(ctx.db, session.login);
  const reply = getAutoreply(ctx.db, account.id);
  return {
    login: account.login,
    type: account.type,
    visibility: { localDirectory: account.local_directory === 1, nationalDirectory: account.national_directory === 1 },
    dematerialisation: account.dematerialisation === 1,
    notifications: { each: account.notify_each === 1, daily: account.notify_daily === 1, opening: account.notify_opening === 1 },
    memberships: listMemberships(ctx.db, account.id),
    forwards: listForwards(ctx.db, account.id),
    autoreply: reply && { start: new Date(reply.startAt).toISOString(), end: new Date(reply.endAt).toISOString(), subject: reply.subject, body: reply.body },
  };
}

function boxName(box: AccountDescription): string {
  return box.type === 'ORG' ? box.names.orgName ?? box.login : [box.names.firstName, box.names.lastName].filter(Boolean).join(' ');
}

export function registerAccountRoutes(app: FastifyInstance, ctx: PortalContext): void {
  // ------------------------------------------------------------------ Ma boîte
  app.get('/compte', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const box = describeAccount(ctx.db, session.login);
    return settingsPage(reply, session, { title: 'Ma boîte', path: '/compte' }, html`
<h2>Identité</h2>
<dl>
<dt>Nom</dt><dd>${boxName(box)}</dd>
<dt>Type de BAL</dt><dd>${TYPE_LABELS[box.type] ?? box.type}</dd>
${box.rpps ? html`<dt>RPPS</dt><dd>${box.rpps}</dd>` : ''}
${box.profession ? html`<dt>Profession</dt><dd>${box.profession}</dd>` : ''}
${box.structure ? html`<dt>Structure</dt><dd>${box.structure}</dd>` : ''}
${box.city || box.postcode ? html`<dt>Ville</dt><dd>${[box.postcode, box.city].filter(Boolean).join(' ')}</dd>` : ''}
</dl>
<h2>Adresses</h2>
<ul>${box.addresses.map((a) => html`<li>${a.address} (${a.kind === 'mssante' ? 'adresse MSSanté' : 'adresse de connexion'})</li>`)}</ul>
${box.memberships.length > 0 ? html`<h2>Comptes partagés accessibles</h2><ul>${box.memberships.map((m) => html`<li>${m.org}</li>`)}</ul>` : ''}
<h2>Dossiers</h2>
<table><caption class="hint">Nombre de messages par dossier</caption>
<thead><tr><th scope="col">Dossier</th><th scope="col">Messages</th></tr></thead>
<tbody>${box.folders.map((f) => html`<tr><td>${folderLabel(f)}</td><td>${f.messages}</td></tr>`)}</tbody>
</table>`);
  });

  // ------------------------------------------------------------------ Mot de passe
  const passwordForm = (session: PortalSession, errors: { current?: string; next?: string; confirm?: string } = {}) => html`
<form method="post" action="/compte/mot-de-passe" novalidate>${csrfInput(session.csrfToken)}
<input type="text" name="username" value="${session.login}" autocomplete="username" hidden>
${field({ name: 'current', label: 'Mot de passe actuel', type: 'password', autocomplete: 'current-password', required: true, error: errors.current })}
${field({ name: 'next', label: 'Nouveau mot de passe', type: 'password', autocomplete: 'new-password', required: true, error: errors.next, hint: 'Au moins 8 caractères, dont une majuscule, une minuscule, un chiffre et un caractère spécial.' })}
${field({ name: 'confirm', label: 'Confirmer le nouveau mot de passe', type: 'password', autocomplete: 'new-password', required: true, error: errors.confirm })}
<p><button type="submit">Enregistrer</button></p>
</form>
<p class="hint">Changer de mot de passe ferme vos autres sessions du portail.</p>`;

  app.get('/compte/mot-de-passe', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    return settingsPage(reply, session, { title: 'Mot de passe', path: '/compte/mot-de-passe', notice: savedNotice(request.query) }, passwordForm(session));
  });

  app.post('/compte/mot-de-passe', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const body = request.body as Record<string, unknown>;
    const [current, next, confirm] = ['current', 'next', 'confirm'].map((name) => (typeof body[name] === 'string' ? (body[name] as string) : ''));
    const view = { title: 'Mot de passe', path: '/compte/mot-de-passe', status: 400 };
    const problem = passwordProblem(next);
    if (problem) return settingsPage(reply, session, view, passwordForm(session, { next: inFrench(problem) }));
    if (next !== confirm) return settingsPage(reply, session, view, passwordForm(session, { confirm: 'Les deux saisies diffèrent.' }));
    const check = await checkPortalPassword(ctx, session.login, current, request.ip);
    if (!check.ok) {
      const error = check.reason === 'throttled' ? 'Trop de tentatives : réessayez plus tard.' : 'Mot de passe actuel incorrect.';
      return settingsPage(reply, session, { ...view, status: check.reason === 'throttled' ? 429 : 400 }, passwordForm(session, { current: error }));
    }
    const passwordHash = await hashPassword(next);
    await ctx.batcher.run((db) => {
      updateAccountSettings(db, session.login, { passwordHash }, 'portal');
      deleteAccountPortalSessions(db, session.accountId, session.tokenHash);
    });
    auditSettings(ctx, session, session.login, { changed: ['password'] });
    return reply.redirect('/compte/mot-de-passe?ok=1', 303);
  });

  // ------------------------------------------------------------------ Double authentification
  const enrolPage = async (reply: FastifyReply, session: PortalSession, options: { first?: boolean; notice?: string | null; error?: string; status?: number }) => {
    const enrolment = findTotpEnrolment(ctx.db, session.accountId);
    let secret = session.pendingTotpSecret;
    if (!secret) {
      secret = newTotpSecret();
      setPendingTotpSecret(ctx.db, session.tokenHash, secret);
    }
    const uri = totpUri(session.login, secret);
    const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, scale: 5 });
    const intro = options.first
      ? html`<p>Pour vos prochaines connexions, configurez une application d’authentification (par exemple FreeOTP, Google Authenticator, Microsoft Authenticator) : elle vous donnera un code à six chiffres à saisir après votre mot de passe.</p>`
      : enrolment
        ? html`<p>Une application d’authentification est configurée depuis le ${new Date(enrolment.enrolledAt).toLocaleDateString('fr-FR')}. Pour la remplacer (nouveau téléphone), scannez le code ci-dessous avec la nouvelle application et saisissez le code qu’elle affiche : l’ancienne cessera de fonctionner.</p>`
        : html`<p>Aucune application d’authentification n’est configurée : les codes de connexion vous sont envoyés par courriel.</p>`;
    return settingsPage(reply, session, { title: 'Double authentification', path: '/compte/double-authentification', notice: options.notice, status: options.status }, html`
${intro}
<ol>
<li>Ouvrez votre application d’authentification et ajoutez un compte.</li>
<li>Scannez ce QR code :<br><img class="qr" src="${qr}" alt="QR code de configuration de l’application d’authentification (l’adresse otpauth est donnée en texte ci-dessous)"></li>
<li>Ou saisissez cette adresse dans l’application : <code class="uri" id="totp-uri">${uri}</code><br>(clé secrète : <code id="totp-secret">${secret}</code>)</li>
<li>Saisissez le code affiché par l’application.</li>
</ol>
<form method="post" action="/compte/double-authentification" novalidate>${csrfInput(session.csrfToken)}
${field({ name: 'code', label: 'Code affiché par l’application', autocomplete: 'one-time-code', inputmode: 'numeric', required: true, error: options.error })}
<p><button type="submit">Activer cette application</button></p>
</form>`);
  };

  app.get('/compte/double-authentification', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const query = request.query as Record<string, string>;
    return enrolPage(reply, session, { first: query.premiere !== undefined, notice: query.ok !== undefined ? 'Application d’authentification activée.' : null });
  });

  app.post('/compte/double-authentification', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const blocked = ctx.codeThrottle.blockedFor(session.accountId);
    if (blocked > 0) return enrolPage(reply, session, { error: 'Trop de codes erronés : réessayez plus tard.', status: 429 });
    const code = normaliseCode(formText(request.body, 'code'));
    if (!session.pendingTotpSecret || !(await confirmEnrolment(ctx.db, session.accountId, session.pendingTotpSecret, code))) {
      ctx.codeThrottle.fail(session.accountId);
      return enrolPage(reply, session, { error: 'Code incorrect : vérifiez l’heure de votre téléphone et saisissez le code actuel.', status: 400 });
    }
    setPendingTotpSecret(ctx.db, session.tokenHash, null);
    auditSettings(ctx, session, session.login, { changed: ['second-factor'], secondFactor: 'totp' });
    return reply.redirect('/compte/double-authentification?ok=1', 303);
  });

  // ------------------------------------------------------------------ Réponse automatique (R8)
  const autoreplyForm = (session: PortalSession, values: { active: boolean; start: string; end: string; subject: string; body: string }, errors: Record<string, string> = {}) => html`
<p>Pendant la période choisie, chaque expéditeur reçoit une fois votre réponse automatique (jamais les messages automatiques ni les listes de diffusion).</p>
<form method="post" action="/compte/reponse-automatique" novalidate>${csrfInput(session.csrfToken)}
${checkbox('active', 'Activer la réponse automatique', values.active)}
${field({ name: 'start', label: 'Début', type: 'datetime-local', value: values.start, error: errors.start, required: true })}
${field({ name: 'end', label: 'Fin', type: 'datetime-local', value: values.end, error: errors.end, required: true })}
${field({ name: 'subject', label: 'Objet', value: values.subject, error: errors.subject, required: true })}
<p class="field"><label for="f-body">Message <span aria-hidden="true">*</span></label>
<textarea id="f-body" name="body" required${errors.body ? html` aria-invalid="true" aria-describedby="f-body-error"` : ''}>${values.body}</textarea>
${errors.body ? html`<span class="field-error" id="f-body-error">${errors.body}</span>` : ''}</p>
<p><button type="submit">Enregistrer</button></p>
</form>`;

  app.get('/compte/reponse-automatique', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const reply_ = settingsOf(ctx, session).autoreply;
    const now = Date.now();
    const values = reply_
      ? { active: true, start: localInput(Date.parse(reply_.start)), end: localInput(Date.parse(reply_.end)), subject: reply_.subject, body: reply_.body }
      : { active: false, start: localInput(now), end: localInput(now + 7 * 86_400_000), subject: 'Absence', body: '' };
    return settingsPage(reply, session, { title: 'Réponse automatique', path: '/compte/reponse-automatique', notice: savedNotice(request.query) }, autoreplyForm(session, values));
  });

  app.post('/compte/reponse-automatique', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const body = request.body;
    const values = {
      active: formSwitch(body, 'active'),
      start: formText(body, 'start'),
      end: formText(body, 'end'),
      subject: formText(body, 'subject'),
      body: typeof (body as Record<string, unknown>).body === 'string' ? ((body as Record<string, string>).body).replace(/\r\n/g, '\n') : '',
    };
    const view = { title: 'Réponse automatique', path: '/compte/reponse-automatique', status: 400 };
    if (!values.active) {
      const cleared = await ctx.batcher.run((db) => clearAutoreply(db, session.login, 'portal'));
      if (cleared) auditSettings(ctx, session, session.login, { changed: ['autoreply'], autoreply: 'cleared' });
      return reply.redirect('/compte/reponse-automatique?ok=1', 303);
    }
    const startAt = parseLocalInput(values.start);
    const endAt = parseLocalInput(values.end);
    const errors: Record<string, string> = {};
    if (Number.isNaN(startAt)) errors.start = 'Date de début invalide (jj/mm/aaaa hh:mm).';
    if (Number.isNaN(endAt)) errors.end = 'Date de fin invalide (jj/mm/aaaa hh:mm).';
    if (Object.keys(errors).length === 0) {
      try {
        await ctx.batcher.run((db) => setAutoreply(db, session.login, { startAt, endAt, subject: values.subject, body: values.body }, Date.now(), 'portal'));
        auditSettings(ctx, session, session.login, { changed: ['autoreply'], autoreply: 'set', start: new Date(startAt).toISOString(), end: new Date(endAt).toISOString() });
        return reply.redirect('/compte/reponse-automatique?ok=1', 303);
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        const message = inFrench(err.message);
        const key = /subject/.test(err.message) ? 'subject' : /body/.test(err.message) ? 'body' : 'end';
        errors[key] = message;
      }
    }
    return settingsPage(reply, session, view, autoreplyForm(session, values, errors));
  });

  // ------------------------------------------------------------------ Transferts automatiques (R7)
  const forwardsPage = (reply: FastifyReply, session: PortalSession, options: { target?: string; error?: string; pageError?: string; notice?: string | null; status?: number } = {}) => {
    const box = settingsOf(ctx, session);
    return settingsPage(reply, session, { title: 'Transferts automatiques', path: '/compte/transferts', notice: options.notice, error: options.pageError, status: options.status }, html`
<p>Le transfert automatique envoie une copie de chaque message reçu à une autre adresse de l’espace de confiance MSSanté (par exemple votre secrétariat).</p>
<h2>Ajouter un transfert automatique</h2>
<form method="post" action="/compte/transferts/ajout" novalidate>${csrfInput(session.csrfToken)}
${field({ name: 'target', label: 'Adresse email de redirection', type: 'email', value: options.target, error: options.error, required: true })}
<p><button type="submit">Ajouter le transfert automatique</button></p>
</form>
<h2>Transferts automatiques actifs</h2>
${box.forwards.length === 0 ? html`<p>Aucun transfert automatique.</p>` : html`<ul>${box.forwards.map((target) => html`<li>${target}
<form class="inline" method="post" action="/compte/transferts/suppression">${csrfInput(session.csrfToken)}<input type="hidden" name="target" value="${target}"><button type="submit" class="secondary" aria-label="Supprimer le transfert vers ${target}">Supprimer</button></form></li>`)}</ul>`}`);
  };

  app.get('/compte/transferts', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    return forwardsPage(reply, session, { notice: savedNotice(request.query) });
  });

  app.post('/compte/transferts/ajout', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const target = formText(request.body, 'target').toLowerCase();
    const ownDomains = [...ctx.config.domains.mssante, ...ctx.config.domains.internal];
    try {
      // The same R1 check and store rules as `mssd forward add`, on the daemon's live trust space.
      await ctx.batcher.run((db) =>
        addForward(db, session.login, target, {
          isAllowedDomain: (domain) =>
            findBox(db, target) !== undefined ||
            isAllowedDestination(domain, { ownDomains, patientDomain: ctx.config.trustSpace.patientDomain, trustSpace: ctx.trustSpace() }),
          patientDomain: ctx.config.trustSpace.patientDomain,
        }, 'portal'),
      );
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return forwardsPage(reply, session, { target, error: inFrench(err.message), status: 400 });
    }
    auditSettings(ctx, session, session.login, { changed: ['forwards'], forwardAdded: target });
    return reply.redirect('/compte/transferts?ok=1', 303);
  });

  app.post('/compte/transferts/suppression', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const target = formText(request.body, 'target');
    try {
      await ctx.batcher.run((db) => removeForward(db, session.login, target, 'portal'));
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return forwardsPage(reply, session, { pageError: inFrench(err.message), status: 400 });
    }
    auditSettings(ctx, session, session.login, { changed: ['forwards'], forwardRemoved: target });
    return reply.redirect('/compte/transferts?ok=1', 303);
  });

  // ------------------------------------------------------------------ Notifications (R9)
  app.get('/compte/notifications', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const box = settingsOf(ctx, session);
    return settingsPage(reply, session, { title: 'Notifications', path: '/compte/notifications', notice: savedNotice(request.query) }, html`
<form method="post" action="/compte/notifications">${csrfInput(session.csrfToken)}
<fieldset><legend>Notifications de réception</legend>
<p class="hint">Les notifications sont envoyées à votre adresse de connexion (${box.login}) et ne contiennent aucune donnée de santé.</p>
${checkbox('each', 'Recevoir une notification à chaque réception d’un message', box.notifications.each, 'À laisser cochée si vous utilisez un client de messagerie (Outlook, Thunderbird…).')}
${checkbox('daily', 'Recevoir une notification quotidienne de réception', box.notifications.daily)}
</fieldset>
<fieldset><legend>Notifications d’ouverture</legend>
${checkbox('opening', 'Recevoir une notification quand tous les destinataires ont ouvert un message envoyé', box.notifications.opening, 'Concerne les envois vers les utilisateurs de cet opérateur uniquement.')}
</fieldset>
${box.memberships.length > 0 ? html`<fieldset><legend>Comptes partagés</legend>${box.memberships.map((m, i) =>
  html`<input type="hidden" name="org${i}" value="${m.org}">${checkbox(`orgnotify${i}`, `Recevoir les notifications de réception de ${m.org}`, m.notify)}`)}</fieldset>` : ''}
<p><button type="submit">Enregistrer</button></p>
</form>`);
  });

  app.post('/compte/notifications', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const body = request.body;
    const before = settingsOf(ctx, session);
    const wanted = { notifyEach: formSwitch(body, 'each'), notifyDaily: formSwitch(body, 'daily'), notifyOpening: formSwitch(body, 'opening') };
    const changes: Record<string, boolean> = {};
    if (wanted.notifyEach !== before.notifications.each) changes.notifyEach = wanted.notifyEach;
    if (wanted.notifyDaily !== before.notifications.daily) changes.notifyDaily = wanted.notifyDaily;
    if (wanted.notifyOpening !== before.notifications.opening) changes.notifyOpening = wanted.notifyOpening;
    const orgChanges: Array<{ org: string; notify: boolean }> = [];
    before.memberships.forEach((membership, i) => {
      if (formText(body, `org${i}`) !== membership.org) return;
      const notify = formSwitch(body, `orgnotify${i}`);
      if (notify !== membership.notify) orgChanges.push({ org: membership.org, notify });
    });
    await ctx.batcher.run((db) => {
      if (Object.keys(changes).length > 0) updateAccountSettings(db, session.login, changes, 'portal');
      for (const change of orgChanges) setOrgMemberNotify(db, change.org, session.login, change.notify, 'portal');
    });
    if (Object.keys(changes).length > 0 || orgChanges.length > 0) {
      auditSettings(ctx, session, session.login, { changed: ['notifications'], ...changes, ...(orgChanges.length > 0 ? { orgNotify: orgChanges } : {}) });
    }
    return reply.redirect('/compte/notifications?ok=1', 303);
  });

  // ------------------------------------------------------------------ Annuaire (R13)
  app.get('/compte/annuaire', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const box = settingsOf(ctx, session);
    const nationalPossible = box.type === 'PER';
    return settingsPage(reply, session, { title: 'Visibilité dans l’annuaire', path: '/compte/annuaire', notice: savedNotice(request.query) }, html`
<form method="post" action="/compte/annuaire">${csrfInput(session.csrfToken)}
${checkbox('local', 'Apparaître dans l’annuaire de l’opérateur', box.visibility.localDirectory)}
${nationalPossible
  ? checkbox('national', 'Apparaître dans l’annuaire santé national', box.visibility.nationalDirectory, 'Décoché : liste rouge, votre adresse MSSanté n’est pas publiée.')
  : html`<p class="hint">Une boîte ${box.type} n’est jamais publiée dans l’annuaire santé national.</p>`}
<p><button type="submit">Enregistrer</button></p>
</form>`);
  });

  app.post('/compte/annuaire', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const before = settingsOf(ctx, session);
    const changes: Record<string, boolean> = {};
    const local = formSwitch(request.body, 'local');
    if (local !== before.visibility.localDirectory) changes.localDirectory = local;
    if (before.type === 'PER') {
      const national = formSwitch(request.body, 'national');
      if (national !== before.visibility.nationalDirectory) changes.nationalDirectory = national;
    }
    if (Object.keys(changes).length > 0) {
      await ctx.batcher.run((db) => updateAccountSettings(db, session.login, changes, 'portal'));
      auditSettings(ctx, session, session.login, { changed: ['directory'], ...changes });
    }
    return reply.redirect('/compte/annuaire?ok=1', 303);
  });

  // ------------------------------------------------------------------ Dématérialisation (R13)
  app.get('/compte/dematerialisation', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const box = settingsOf(ctx, session);
    return settingsPage(reply, session, { title: 'Dématérialisation', path: '/compte/dematerialisation', notice: savedNotice(request.query) }, html`
<p class="hint">Ce choix, publié dans l’annuaire, est pris en compte sous réserve que l’établissement émetteur soit en capacité de gérer cette option.</p>
<form method="post" action="/compte/dematerialisation">${csrfInput(session.csrfToken)}
${checkbox('dematerialisation', 'Je souhaite dématérialiser tous mes échanges et ne plus recevoir de papier.', box.dematerialisation)}
<p><button type="submit">Enregistrer</button></p>
</form>`);
  });

  app.post('/compte/dematerialisation', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const before = settingsOf(ctx, session);
    const wanted = formSwitch(request.body, 'dematerialisation');
    if (wanted !== before.dematerialisation) {
      await ctx.batcher.run((db) => updateAccountSettings(db, session.login, { dematerialisation: wanted }, 'portal'));
      auditSettings(ctx, session, session.login, { changed: ['dematerialisation'], dematerialisation: wanted });
    }
    return reply.redirect('/compte/dematerialisation?ok=1', 303);
  });
}

