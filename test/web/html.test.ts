// Portal templates: every interpolated value is escaped (a subject, a name or an address typed by
// someone cannot inject markup or script), fields carry their label and their error.
import t from 'tap';
import { checkbox, escapeHtml, field, html, Html, page } from '../../src/web/portal/html';

t.test('interpolated values are escaped, Html fragments are not', async (t) => {
  const subject = `<script>alert("x")</script> & 'co'`;
  t.equal(html`<p>${subject}</p>`.text, '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>');
  t.equal(html`<p title="${'" onmouseover="x'}">`.text, '<p title="&quot; onmouseover=&quot;x">', 'attribute values cannot be closed');
  t.equal(html`<ul>${['<a>', new Html('<b>')]}</ul>`.text, '<ul>&lt;a&gt;<b></ul>', 'arrays: strings escaped, Html kept');
  t.equal(html`${null}${undefined}${false}${0}`.text, '0');
  t.equal(escapeHtml('é&'), 'é&amp;');
});

t.test('a field has its label, and its error tied to it for screen readers', async (t) => {
  const markup = field({ name: 'target', label: 'Adresse', error: 'Adresse invalide <b>', value: '"><script>' }).text;
  t.match(markup, /<label for="f-target">Adresse/);
  t.match(markup, /aria-describedby="f-target-error"/);
  t.match(markup, /aria-invalid="true"/);
  t.match(markup, /<span class="field-error" id="f-target-error">Adresse invalide &lt;b&gt;<\/span>/);
  t.match(markup, /value="&quot;&gt;&lt;script&gt;"/);
  t.match(checkbox('each', 'Chaque réception', true).text, /<input type="checkbox" id="f-each" name="each" value="on" checked> <label for="f-each">/);
});

t.test('pages: French, one style sheet, no script, the current menu entry marked', async (t) => {
  const markup = page({ title: 'Notifications', current: '/compte/notifications', user: { login: 'a@b.fr', csrfToken: 'tok' } }, html`<p>x</p>`).text;
  t.match(markup, /<html lang="fr">/);
  t.match(markup, /<link rel="stylesheet" href="\/static\/portail.css">/);
  t.notMatch(markup, /<script|\sstyle=|\son[a-z]+=/i, 'no script, no inline style, no event handler');
  t.match(markup, /<a href="\/compte\/notifications" aria-current="page">Notifications<\/a>/);
  t.match(markup, /<input type="hidden" name="_csrf" value="tok">/, 'the logout form carries the CSRF token');
});
