// Pro Santé Connect login on the portal (R16), with oidc-provider over local HTTPS standing in for
// PSC: authorization code flow with PKCE driven by Chromium, the professional found by the national
// id claim ("8" + RPPS), an unknown RPPS refused, the login audited with method 'psc'.
import t from 'tap';
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { issueCertificate } from '../../src/tls/certificates';
import { createPer, makeEnv, readCa, startDaemon } from '../helpers/daemon';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENS = process.env.MSSD_SCREENSHOTS;

t.test('Pro Santé Connect login through oidc-provider', async (t) => {
  // The stand-in for PSC listens first, on a port the system picks and that it keeps: the issuer
  // URL must name that port before the daemon starts, and a port chosen in advance could be
  // taken meanwhile by another test running in parallel (EADDRINUSE). Its certificate and its
  // handler come once the daemon's development CA exists.
  let serveProvider = (_req: IncomingMessage, res: ServerResponse): void => {
    res.statusCode = 503;
    res.end();
  };
  const server = https.createServer({}, (req, res) => serveProvider(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const envPorts = { https: 0 };
  const env = await makeEnv({
    portal: { oidc: { issuer, clientId: 'mssd-portal', clientSecret: 'portal-secret-for-tests', caFile: '', identityClaim: 'SubjectNameID' } },
  });
  // makeEnv chose the ports; the PSC client must know the portal's redirect URI before start.
  envPorts.https = env.ports.https;
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemonConfig = JSON.parse(readFileSync(env.configFile, 'utf8'));
  daemonConfig.portal.oidc.caFile = env.caFile;
  daemonConfig.portal.publicUrl = `https://127.0.0.1:${envPorts.https}`;
  writeFileSync(env.configFile, JSON.stringify(daemonConfig));
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  // The stand-in for PSC, with a certificate from the daemon's development CA (portal.oidc.caFile).
  // oidc-provider ships no type declarations: the few options used here are typed by hand.
  const { default: Provider } = (await import('oidc-provider' as string)) as {
    default: new (issuer: string, configuration: Record<string, unknown>) => { callback(): (req: IncomingMessage, res: ServerResponse) => void };
  };
  const identities: Record<string, string> = { 'e-cps-alice': '810000000001', 'e-cps-stranger': '899999999999' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'mssd-portal',
        client_secret: 'portal-secret-for-tests',
        redirect_uris: [`https://127.0.0.1:${envPorts.https}/connexion/psc/retour`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    acrValues: ['eidas1'],
    scopes: ['openid', 'scope_all'],
    claims: { openid: ['sub'], scope_all: ['SubjectNameID'] },
    cookies: { keys: ['test-cookie-key'] },
    async findAccount(_ctx: unknown, id: string) {
      return { accountId: id, claims: async () => ({ sub: id, SubjectNameID: identities[id] }) };
    },
  });
  const pki = issueCertificate(readCa(env), { subject: { CN: '127.0.0.1' }, usage: 'server', days: 2, altNames: ['127.0.0.1'] });
  server.setSecureContext({ key: pki.keyPem, cert: pki.certPem });
  serveProvider = provider.callback();

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  t.teardown(() => browser.close());
  const base = `https://127.0.0.1:${envPorts.https}`;

  async function pscLogin(id: string) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${base}/connexion`);
    await page.click('text=S’identifier avec Pro Santé Connect');
    t.match(page.url(), new RegExp(`^${issuer}/`), 'sent to the provider');
    await page.fill('input[name=login]', id);
    await page.fill('input[name=password]', 'anything');
    await Promise.all([page.waitForURL(/\/interaction\/.+/), page.click('button[type=submit]')]);
    // The provider's consent screen ("Authorize … Continue"), then back to the portal.
    await Promise.all([page.waitForURL((url) => url.href.startsWith(base)), page.click('button.login-submit')]);
    await page.waitForLoadState('load');
    return { context, page };
  }

  await t.test('the professional with that RPPS is logged in, no password asked', async (t) => {
    const { context, page } = await pscLogin('e-cps-alice');
    t.teardown(() => context.close());
    await page.waitForURL(`${base}/compte`);
    t.match(await page.textContent('main'), alice.mssante);
    if (SCREENS) await page.screenshot({ path: path.join(SCREENS, '20-psc-compte.png'), fullPage: true });
    const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
    const row = db.prepare(`SELECT outcome, detail FROM audit WHERE event = 'login' AND source = 'portal' AND auth_login = ?`).get(alice.login) as { outcome: string; detail: string };
    db.close();
    t.same([row.outcome, JSON.parse(row.detail).method], ['ok', 'psc']);
  });

  await t.test('an identity with no box here is refused', async (t) => {
    const { context, page } = await pscLogin('e-cps-stranger');
    t.teardown(() => context.close());
    t.match(await page.textContent('.error'), /Aucune boîte active/);
    await page.goto(`${base}/compte`);
    t.match(page.url(), /\/connexion/, 'no session was opened');
  });

  await t.test('the authorization request carried PKCE S256, state and nonce', async (t) => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    t.teardown(() => context.close());
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${base}/connexion/psc`);
    const auth = new URL(requests.find((url) => url.startsWith(`${issuer}/auth`))!);
    t.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    t.match(auth.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    t.ok(auth.searchParams.get('state') && auth.searchParams.get('nonce'));
    t.equal(auth.searchParams.get('redirect_uri'), `${base}/connexion/psc/retour`);
  });
});
