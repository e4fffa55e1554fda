// Server-side HTML of the portal: a tagged template that escapes every interpolated value, and the
// page layout. No script anywhere; the only style sheet is /static/portail.css (CSP default-src 'self').

/** Markup already escaped (or written by us): interpolated as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

/** html`<p>${userText}</p>`: values are escaped unless they are Html (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

export interface NavUser {
  login: string;
  /** Shown on the logout form. */
  csrfToken: string;
  /** Whether the ORG management link is shown. */
  managesOrg?: boolean;
}

export interface PageOptions {
  title: string;
  /** Logged-in user (full session): shows the menu and the logout button. */
  user?: NavUser;
  /** Path of the current page, to mark it in the menu. */
  current?: string;
  /** A confirmation shown at the top (role=status). */
  notice?: string | null;
  /** A page-level error (role=alert). */
  error?: string | null;
}

const MENU: Array<[string, string]> = [
  ['/compte', 'Ma boîte'],
  ['/compte/mot-de-passe', 'Mot de passe'],
  ['/compte/double-authentification', 'Double authentification'],
  ['/compte/appareils', 'Appareils'],
  ['/compte/reponse-automatique', 'Réponse automatique'],
  ['/compte/transferts', 'Transferts automatiques'],
  ['/compte/notifications', 'Notifications'],
  ['/compte/annuaire', 'Visibilité dans l’annuaire'],
  ['/compte/dematerialisation', 'Dématérialisation'],
  ['/compte/boites-partagees', 'Comptes partagés'],
  ['/compte/configuration', 'Configurer ma messagerie'],
  ['/annuaire', 'Annuaire'],
];

export function page(options: PageOptions, body: Html): Html {
  const nav = options.user
    ? html`<nav aria-label="Menu principal"><ul>${MENU.map(
        ([href, label]) =>
          html`<li><a href="${href}"${options.current === href ? new Html(' aria-current="page"') : ''}>${label}</a></li>`,
      )}</ul></nav>`
    : '';
  const account = options.user
    ? html`<form class="logout" method="post" action="/deconnexion"><input type="hidden" name="_csrf" value="${options.user.csrfToken}"><span>${options.user.login}</span> <button type="submit">Se déconnecter</button></form>`
    : '';
  return html`<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} — Messagerie sécurisée de santé</title>
<link rel="stylesheet" href="/static/portail.css">
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header><p class="brand">Messagerie sécurisée de santé</p>${account}</header>
${nav}
<main id="contenu">
<h1>${options.title}</h1>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
${body}
</main>
</body>
</html>
`;
}

/** A text-like input with its label and, when given, its error right below (aria-describedby). */
export function field(options: {
  name: string;
  label: string;
  type?: string;
  value?: string;
  error?: string | null;
  autocomplete?: string;
  inputmode?: string;
  required?: boolean;
  hint?: string;
  extra?: string;
}): Html {
  const id = `f-${options.name}`;
  const described = [options.hint ? `${id}-hint` : '', options.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<p class="field">
<label for="${id}">${options.label}${options.required ? html` <span aria-hidden="true">*</span>` : ''}</label>
${options.hint ? html`<span class="hint" id="${id}-hint">${options.hint}</span>` : ''}
<input id="${id}" name="${options.name}" type="${options.type ?? 'text'}" value="${options.value ?? ''}"${
    options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''
  }${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.required ? new Html(' required') : ''}${
    described ? html` aria-describedby="${described}"` : ''
  }${options.error ? new Html(' aria-invalid="true"') : ''}>
${options.error ? html`<span class="field-error" id="${id}-error">${options.error}</span>` : ''}
</p>`;
}

export function checkbox(name: string, label: string, checked: boolean, hint?: string): Html {
  const id = `f-${name}`;
  return html`<p class="check"><input type="checkbox" id="${id}" name="${name}" value="on"${checked ? new Html(' checked') : ''}${
    hint ? html` aria-describedby="${id}-hint"` : ''
  }> <label for="${id}">${label}</label>${hint ? html`<br><span class="hint" id="${id}-hint">${hint}</span>` : ''}</p>`;
}

export function csrfInput(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
