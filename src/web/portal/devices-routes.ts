// "Appareils" (seeds: Appareils mobiles; R16): the device passwords a mail client or health
// software logs in with instead of the box password. Created here (shown once), listed with
// their last use, revoked — through the Authenticator, so a revoked device's open IMAP/SMTP
// sessions are cut at once. src/auth/devices.ts writes the audit rows (source 'portal').
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createDevicePassword, DeviceError, listDevices, type NewDevice } from '../../auth/devices';
import type { PortalSession } from '../../store/portal-sessions';
import { formText, requireFullSession, type PortalContext } from './context';
import { csrfInput, field, html } from './html';
import { inFrench } from './refusals';
import { settingsPage } from './account-routes';

const PATH = '/compte/appareils';

function when(at: number | null): string {
  return at === null ? 'jamais' : new Date(at).toLocaleString('fr-FR', { dateStyle: 'short', timeStyle: 'short' });
}

function devicesPage(
  ctx: PortalContext,
  reply: FastifyReply,
  session: PortalSession,
  options: { created?: NewDevice; name?: string; error?: string; pageError?: string; notice?: string | null; status?: number } = {},
) {
  const devices = listDevices(ctx.db, session.accountId);
  return settingsPage(reply, session, { title: 'Appareils', path: PATH, notice: options.notice, error: options.pageError, status: options.status }, html`
<p>Votre messagerie (Outlook, Thunderbird, téléphone, logiciel métier) se connecte avec un mot de passe d’appareil, propre à chaque appareil et révocable, jamais avec le mot de passe du portail.</p>
${options.created ? html`<div class="notice" role="status"><p>Mot de passe de l’appareil « ${options.created.name} » :</p>
<p><code id="device-password">${options.created.password}</code></p>
<p>Saisissez-le maintenant dans votre messagerie : il ne sera plus jamais affiché.</p></div>` : ''}
<h2>Ajouter un appareil</h2>
<form method="post" action="${PATH}/ajout" novalidate>${csrfInput(session.csrfToken)}
${field({ name: 'name', label: 'Nom de l’appareil', value: options.name, error: options.error, required: true, hint: 'Par exemple « Téléphone » ou « Thunderbird cabinet ».' })}
<p><button type="submit">Créer un mot de passe d’appareil</button></p></form>
<h2>Appareils autorisés</h2>
${devices.length === 0 ? html`<p>Aucun appareil.</p>` : html`<table><thead><tr><th scope="col">Nom</th><th scope="col">Créé le</th><th scope="col">Dernière utilisation</th><th scope="col">Action</th></tr></thead><tbody>
${devices.map((device) => html`<tr><td>${device.name}</td><td>${when(device.createdAt)}</td><td>${when(device.lastUsedAt)}${device.lastUsedProtocol ? ` (${device.lastUsedProtocol === 'imap' ? 'IMAP' : 'envoi'}${device.lastUsedAddress ? `, ${device.lastUsedAddress}` : ''})` : ''}</td>
<td><form class="inline" method="post" action="${PATH}/revocation">${csrfInput(session.csrfToken)}<input type="hidden" name="id" value="${device.id}"><button type="submit" class="secondary" aria-label="Révoquer ${device.name}">Révoquer</button></form></td></tr>`)}
</tbody></table>`}`);
}

export function registerDevicesRoutes(app: FastifyInstance, ctx: PortalContext): void {
  app.get(PATH, async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    return devicesPage(ctx, reply, session, { notice: (request.query as Record<string, string>).ok !== undefined ? 'Appareil révoqué : ses connexions ouvertes ont été coupées.' : null });
  });

  app.post(`${PATH}/ajout`, async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const name = formText(request.body, 'name');
    try {
      // Shown once, in this answer (Cache-Control: no-store), never stored in clear.
      const created = createDevicePassword(ctx.db, session.accountId, name, { source: 'portal', login: session.login });
      return devicesPage(ctx, reply, session, { created });
    } catch (err) {
      if (!(err instanceof DeviceError)) throw err;
      return devicesPage(ctx, reply, session, { name, error: inFrench(err.message), status: 400 });
    }
  });

  app.post(`${PATH}/revocation`, async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const id = Number(formText(request.body, 'id'));
    if (!Number.isSafeInteger(id) || !ctx.authenticator.revokeDevice(session.accountId, id, { source: 'portal', login: session.login })) {
      return devicesPage(ctx, reply, session, { status: 404, pageError: 'Cet appareil n’existe pas (ou plus).' });
    }
    return reply.redirect(`${PATH}?ok=1`, 303);
  });
}
