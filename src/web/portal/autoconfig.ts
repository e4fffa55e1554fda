// Client autoconfiguration on the portal's listener: Thunderbird (config-v1.1.xml at both places
// Thunderbird looks: /.well-known/autoconfig/mail/ on the domain, /mail/ on autoconfig.<domain>),
// Outlook POX autodiscover (POST /autodiscover/autodiscover.xml), and, for a logged-in person, the
// "Configurer ma messagerie" page with an Apple .mobileconfig download. The values come from the
// listeners actually serving (src/web/portal/client-settings.ts).
import { XMLParser } from 'fast-xml-parser';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isValidEmail } from '../../policy/identity';
import { describeAccount } from '../../store/account-view';
import { requireFullSession, type PortalContext } from './context';
import { html } from './html';
import { settingsPage } from './account-routes';
import { appleMobileconfig, autodiscoverError, autodiscoverResponse, clientSettings, thunderbirdConfig } from './client-settings';

const xml = new XMLParser({ removeNSPrefix: true, processEntities: false, parseTagValue: false });

/** The domain the answer names: the one of `emailaddress` when it is ours, else the first MSSanté domain. */
function providerDomain(ctx: PortalContext, email: unknown): string {
  const own = [...ctx.config.domains.mssante, ...ctx.config.domains.internal].map((d) => d.toLowerCase());
  if (typeof email === 'string' && isValidEmail(email)) {
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (own.includes(domain)) return domain;
  }
  return ctx.config.domains.mssante[0];
}

export function registerAutoconfigRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const thunderbird = async (request: FastifyRequest) => {
    const domain = providerDomain(ctx, (request.query as Record<string, unknown>).emailaddress);
    return thunderbirdConfig(clientSettings(ctx.config, ctx.listening), domain);
  };
  for (const url of ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml']) {
    app.get(url, async (request, reply) => reply.type('application/xml; charset=utf-8').send(await thunderbird(request)));
  }

  const autodiscover = async (request: FastifyRequest) => {
    let email: unknown;
    try {
      const parsed = xml.parse(typeof request.body === 'string' ? request.body : '');
      email = parsed?.Autodiscover?.Request?.EMailAddress;
    } catch {
      email = undefined;
    }
    if (typeof email !== 'string' || !isValidEmail(email.trim())) return autodiscoverError('Invalid Request: no EMailAddress');
    return autodiscoverResponse(clientSettings(ctx.config, ctx.listening), email.trim());
  };
  for (const url of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
    app.post(url, async (request, reply) => reply.type('text/xml; charset=utf-8').send(await autodiscover(request)));
  }

  app.get('/compte/configuration', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const settings = clientSettings(ctx.config, ctx.listening);
    const row = (label: string, s: typeof settings.imap) =>
      s ? html`<tr><th scope="row">${label}</th><td>${s.hostname}</td><td>${s.port}</td><td>${s.socketType === 'SSL' ? 'SSL/TLS' : 'STARTTLS'}</td></tr>` : '';
    return settingsPage(reply, session, { title: 'Configurer ma messagerie', path: '/compte/configuration' }, html`
<p>Thunderbird et Outlook trouvent ces paramètres tout seuls à partir de votre adresse. Sinon, saisissez-les :</p>
<table><thead><tr><th scope="col">Serveur</th><th scope="col">Nom</th><th scope="col">Port</th><th scope="col">Sécurité</th></tr></thead>
<tbody>${row('Réception (IMAP)', settings.imap)}${row('Envoi (SMTP)', settings.smtp)}</tbody></table>
<p>Identifiant : <strong>${session.login}</strong>. Mot de passe : un <a href="/compte/appareils">mot de passe d’appareil</a> créé pour cette messagerie.</p>
<h2>iPhone, iPad, Mac</h2>
<p><a href="/compte/configuration/mssante.mobileconfig" download>Télécharger le profil de configuration</a> puis ouvrez-le : le mot de passe d’appareil vous sera demandé à l’installation.</p>`);
  });

  app.get('/compte/configuration/mssante.mobileconfig', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const box = describeAccount(ctx.db, session.login);
    const email = box.addresses.find((a) => a.kind === 'mssante')?.address ?? box.login;
    const name = [box.names.firstName, box.names.lastName].filter(Boolean).join(' ') || box.login;
    const profile = appleMobileconfig(clientSettings(ctx.config, ctx.listening), { email, login: box.login, displayName: name }, ctx.config.hostname);
    return reply
      .type('application/x-apple-aspen-config; charset=utf-8')
      .header('Content-Disposition', 'attachment; filename="mssante.mobileconfig"')
      .send(profile);
  });
}
