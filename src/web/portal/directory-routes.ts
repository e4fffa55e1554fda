// The local directory (annuaire, R13) as the seeds show it: search by name, RPPS, profession,
// city, postcode, department, FINESS or structure; results are the boxes their owners left
// visible (src/directory/search.ts decides, as for `mssd directory search`).
import type { FastifyInstance } from 'fastify';
import { searchLocalDirectory, type SearchCriteria } from '../../directory/search';
import { requireFullSession, type PortalContext } from './context';
import { field, html } from './html';
import { settingsPage } from './account-routes';

const MAX_SHOWN = 100;

const FIELDS: Array<[keyof SearchCriteria, string]> = [
  ['name', 'Nom ou prénom'],
  ['rpps', 'RPPS'],
  ['profession', 'Profession'],
  ['city', 'Ville'],
  ['postcode', 'Code postal'],
  ['department', 'Département'],
  ['finess', 'FINESS'],
  ['structure', 'Structure'],
];

export function registerDirectoryRoutes(app: FastifyInstance, ctx: PortalContext): void {
  app.get('/annuaire', async (request, reply) => {
    const session = requireFullSession(request, reply);
    if (!session) return reply;
    const query = request.query as Record<string, unknown>;
    const criteria: SearchCriteria = {};
    for (const [key] of FIELDS) {
      const value = typeof query[key] === 'string' ? (query[key] as string).trim().slice(0, 100) : '';
      if (value !== '') criteria[key] = value;
    }
    const searched = Object.keys(criteria).length > 0;
    const results = searched ? searchLocalDirectory(ctx.db, criteria) : [];
    const form = html`<form method="get" action="/annuaire" role="search">
${FIELDS.map(([key, label]) => field({ name: key, label, value: criteria[key] ?? '' }))}
<p><button type="submit">Rechercher</button></p></form>`;
    const table = !searched
      ? html`<p>Saisissez au moins un critère.</p>`
      : results.length === 0
        ? html`<p role="status">Aucun résultat.</p>`
        : html`<p role="status">${results.length} résultat(s)${results.length > MAX_SHOWN ? ` ; les ${MAX_SHOWN} premiers sont affichés, précisez la recherche` : ''}.</p>
<table><thead><tr><th scope="col">Nom</th><th scope="col">Type</th><th scope="col">Adresse MSSanté</th><th scope="col">Profession / structure</th><th scope="col">Ville</th><th scope="col">Identifiant</th></tr></thead><tbody>
${results.slice(0, MAX_SHOWN).map((entry) => html`<tr>
<td>${entry.type === 'ORG' ? entry.name : [entry.firstName, entry.lastName].filter(Boolean).join(' ')}${entry.organisations.length > 0 ? html`<br><span class="hint">${entry.organisations.map((o) => o.name ?? o.address).join(', ')}</span>` : ''}</td>
<td>${entry.type}</td>
<td>${entry.mssanteAddresses.length > 0 ? entry.mssanteAddresses.join(', ') : entry.login}</td>
<td>${[entry.profession, entry.structure, entry.service].filter(Boolean).join(' — ')}</td>
<td>${[entry.postcode, entry.city].filter(Boolean).join(' ')}</td>
<td>${entry.rpps ? `RPPS ${entry.rpps}` : entry.finess ? `FINESS ${entry.finess}` : ''}</td></tr>`)}
</tbody></table>`;
    return settingsPage(reply, session, { title: 'Annuaire', path: '/annuaire' }, html`${form}${table}`);
  });
}
