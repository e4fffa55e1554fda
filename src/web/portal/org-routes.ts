// "Gérer son compte partagé" (seeds, PARTIE 3): the ORG boxes I am linked to, and for the ORG's
// responsible (the professional whose RPPS the ORG names), adding and removing linked accounts.
// Removal uses the store function of `mssd org remove-member`, then tells the daemon's change bus,
// so IMAP sessions already open (IDLE included) lose the ORG folders at once (R6).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AccountError, getAccount } from '../../store/accounts';
import { addOrgMember, listMemberships, listOrgMembers, removeOrgMember } from '../../store/org-members';
import { orgsUnderResponsibility } from '../../store/portal-lookups';
import type { PortalSession } from '../../store/portal-sessions';
import { auditSettings, formText, requireFullSession, type PortalContext } from './context';
import { csrfInput, field, html } from './html';
import { inFrench } from './refusals';
import { settingsPage } from './account-routes';

const PATH = '/compte/boites-partagees';

/** The ORG boxes this person manages (by RPPS); empty for a box without RPPS. */
function managedOrgs(ctx: PortalContext, session: PortalSession) {
  const rpps = getAccount(ctx.db, session.login).rpps;
  return rpps ? orgsUnderResponsibility(ctx.db, rpps) : [];
}

function orgPage(
  ctx: PortalContext,
  reply: FastifyReply,
  session: PortalSession,
  options: { notice?: string | null; error?: { org: string; message: string }; pageError?: string; status?: number } = {},
) {
  const memberships = listMemberships(ctx.db, session.accountId);
  const managed = managedOrgs(ctx, session);
  return settingsPage(reply, session, { title: 'Comptes partagés', path: PATH, notice: options.notice, error: options.pageError, status: options.status }, html`
<h2>Boîtes organisationnelles auxquelles je suis rattaché</h2>
${memberships.length === 0
  ? html`<p>Vous n’êtes rattaché à aucune boîte organisationnelle.</p>`
  : html`<ul>${memberships.map((m) => html`<li>${m.org}</li>`)}</ul><p class="hint">Leurs dossiers apparaissent dans votre messagerie (dossier partagé) et vous pouvez écrire en leur nom.</p>`}
${managed.map((org, index) => {
  const members = listOrgMembers(ctx.db, org.accountId);
  const error = options.error?.org === org.address ? options.error.message : null;
  return html`<h2>${org.name ?? org.address} — ${org.address}</h2>
<p>Vous êtes responsable de cette boîte : vous gérez les comptes qui y ont accès.</p>
<table><caption class="hint">Comptes rattachés</caption><thead><tr><th scope="col">Compte</th><th scope="col">Type</th><th scope="col">Action</th></tr></thead><tbody>
${members.length === 0 ? html`<tr><td colspan="3">Aucun compte rattaché.</td></tr>` : ''}
${members.map((member) => html`<tr><td>${member.login}</td><td>${member.type}</td><td>
<form class="inline" method="post" action="${PATH}/retrait">${csrfInput(session.csrfToken)}<input type="hidden" name="org" value="${org.address}"><input type="hidden" name="member" value="${member.login}">
<button type="submit" class="secondary" aria-label="Retirer ${member.login} de ${org.address}">Retirer</button></form></td></tr>`)}
</tbody></table>
<form method="post" action="${PATH}/ajout" novalidate>${csrfInput(session.csrfToken)}<input type="hidden" name="org" value="${org.address}">
${field({ name: `member${index}`, label: 'Adresse de connexion du compte à rattacher', type: 'email', error })}
<p><button type="submit">Rattacher ce compte</button></p></form>`;
})}`);
}

export function registerOrgRoutes(app: FastifyInstance, ctx: PortalContext): void {
  app.get(PATH, async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    return orgPage(ctx, reply, session, { notice: (request.query as Record<string, string>).ok !== undefined ? 'Modifications enregistrées.' : null });
  });

  /** The ORG named by the form, if this person is its responsible; else a 403 page. */
  const managedOrg = (reply: FastifyReply, session: PortalSession, address: string) => {
    const found = managedOrgs(ctx, session).findIndex((org) => org.address === address);
    if (found >= 0) return found;
    void orgPage(ctx, reply, session, { pageError: 'Vous n’êtes pas responsable de cette boîte organisationnelle.', status: 403 });
    return -1;
  };

  app.post(`${PATH}/ajout`, async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const org = formText(request.body, 'org');
    const index = managedOrg(reply, session, org);
    if (index < 0) return reply;
    const member = formText(request.body, `member${index}`).toLowerCase();
    try {
      await ctx.batcher.run((db) => addOrgMember(db, org, member, 'portal'));
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return orgPage(ctx, reply, session, { error: { org, message: inFrench(err.message) }, status: 400 });
    }
    auditSettings(ctx, session, org, { changed: ['members'], memberAdded: member });
    return reply.redirect(`${PATH}?ok=1`, 303);
  });

  app.post(`${PATH}/retrait`, async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const org = formText(request.body, 'org');
    if (managedOrg(reply, session, org) < 0) return reply;
    const member = formText(request.body, 'member');
    try {
      await ctx.batcher.run((db) => removeOrgMember(db, org, member, 'portal'));
    } catch (err) {
      if (!(err instanceof AccountError)) throw err;
      return orgPage(ctx, reply, session, { pageError: inFrench(err.message), status: 400 });
    }
    // R6: sessions of the removed member re-check their access now (IDLE ones are woken).
    ctx.changes.emit('mailbox-changed', null);
    auditSettings(ctx, session, org, { changed: ['members'], memberRemoved: member });
    return reply.redirect(`${PATH}?ok=1`, 303);
  });
}
