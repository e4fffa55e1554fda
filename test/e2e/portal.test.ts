// The self-service portal end to end (issue 10, R16, R17), driven by Debian's Chromium through
// playwright-core: password + mailed code, TOTP enrolment and login (codes computed with otplib),
// wrong codes refused then throttled, every settings page changing what the daemon does (an
// automatic reply the next delivery answers with, a forward that forwards, a notification switch
// that notifies), an ORG responsible unlinking a member whose open IMAP sessions lose the ORG
// folders, CSRF refusals, session expiry, and `mssd account second-factor reset`.
//
// Screenshots: set MSSD_SCREENSHOTS=DIR to keep one PNG per page (looked at by hand).
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { generate } from 'otplib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { luhnCompleted } from '../helpers/fixtures';
import { imapClient } from '../helpers/imap';
import { RawImap } from '../helpers/imap-raw';
import { startNoticeSink, type NoticeSink } from '../helpers/notice-sink';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const ORG = 'pharmacie@mssd-test.mssante.fr';
const ORG_WIRE = 'Partag&AOk-/pharmacie@mssd-test.mssante.fr';
const SCREENS = process.env.MSSD_SCREENSHOTS;

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENS) return;
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });
}

function auditRows(env: TestEnv, event: string): Array<{ source: string; auth_login: string; outcome: string; detail: string }> {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT source, auth_login, outcome, detail FROM audit WHERE event = ? ORDER BY id').all(event) as never;
  } finally {
    db.close();
  }
}

/** Submits a small message as `user` through submission (STARTTLS, AUTH). */
async function submit(env: TestEnv, user: string, from: string, to: string, subject: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.ports.submission,
    requireTLS: true,
    auth: { user, pass: TEST_PASSWORD },
    tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
  });
  try {
    await transport.sendMail({ from, to, subject, text: 'Bonjour, voici le compte rendu.', messageId: `<portal.${Date.now()}.${Math.random()}@test>` });
  } finally {
    transport.close();
  }
}

/** Waits until `user`'s INBOX holds a message whose subject matches. */
async function waitForMessage(env: TestEnv, user: string, subject: RegExp, ms = 20_000): Promise<string> {
  const client = imapClient(env, user, TEST_PASSWORD);
  client.on('error', () => undefined);
  await client.connect();
  try {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const lock = await client.getMailboxLock('INBOX');
      try {
        for await (const message of client.fetch('1:*', { envelope: true })) {
          if (message.envelope?.subject && subject.test(message.envelope.subject)) return message.envelope.subject;
        }
      } catch {
        // empty mailbox: '1:*' matches nothing
      } finally {
        lock.release();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no message matching ${subject} in ${user}'s INBOX`);
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** The one-time code of the last mail the sink got for `login`. */
async function mailedCode(sink: NoticeSink, login: string, count: number): Promise<string> {
  await sink.until(`code #${count} for ${login}`, () => sink.to(login).filter((m) => /code de connexion/.test(m.subject)).length >= count);
  const mails = sink.to(login).filter((m) => /code de connexion/.test(m.subject));
  const match = /code à usage unique est : (\d{6})/.exec(mails[mails.length - 1].text);
  if (!match) throw new Error('no code in the mail');
  return match[1];
}

async function passwordStep(page: Page, base: string, login: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto(`${base}/connexion`);
  await page.fill('#f-login', login);
  await page.fill('#f-password', password);
  await page.click('main button[type=submit]');
}

/**
 * A TOTP code for a step after `usedStep` (the server refuses a step already used, RFC 6238 5.2):
 * the current step, or the next one (accepted within the one-step drift window) when the current
 * one was used; waits only when both were.
 */
async function freshTotp(secret: string, usedStep: number): Promise<{ code: string; step: number }> {
  for (;;) {
    const current = Math.floor(Date.now() / 30_000);
    const step = Math.max(current, usedStep + 1);
    if (step <= current + 1) return { code: await generate({ secret, epoch: step * 30 }), step };
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

t.test('self-service portal', async (t) => {
  const sink = await startNoticeSink();
  t.teardown(() => sink.stop());
  const env = await makeEnv({
    notifications: { smtp: { host: '127.0.0.1', port: sink.port, secure: false }, mergeWindow: '1s', retryDelays: ['1s'] },
    portal: { sessionIdle: '15s' },
  });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const carol = createPer(env, 'Carol', 'Petit', '10000000003');
  const dave = createPer(env, 'Dave', 'Moreau', '10000000004');
  t.equal(cli(env, ['account', 'set', alice.login, '--notify-each', 'off']).status, 0);
  const org = cli(env, ['org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', ORG, '--name', 'Pharmacie centrale', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001']);
  t.equal(org.status, 0, org.stderr);
  t.equal(cli(env, ['org', 'add-member', ORG, bob.login]).status, 0);

  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const base = `https://127.0.0.1:${env.ports.https}`;
  const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  t.teardown(() => browser.close());
  // The daemon's development CA is not in Chromium's store: accept its certificate in this context.
  const context: BrowserContext = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'fr-FR' });
  const page = await context.newPage();
  let totpSecret = '';
  let usedStep = 0;
  const totp = async () => {
    const next = await freshTotp(totpSecret, usedStep);
    usedStep = next.step;
    return next.code;
  };

  await t.test('a password alone opens nothing; the mailed code does, then the app is enrolled', async (t) => {
    await page.goto(`${base}/compte`);
    t.match(page.url(), /\/connexion$/, 'the settings send a stranger to the login page');
    await screenshot(page, '01-connexion');
    const headers = (await page.request.get(`${base}/connexion`)).headers();
    t.match(headers['content-security-policy'], /default-src 'self'/);
    t.match(headers['strict-transport-security'], /max-age=\d+/);

    await passwordStep(page, base, alice.login, 'Wrong-pass-2026!');
    t.equal(await page.textContent('#f-password-error'), 'Adresse ou mot de passe incorrect.', 'the error stands next to the field');

    await passwordStep(page, base, alice.login);
    t.match(page.url(), /\/connexion\/code$/);
    await page.goto(`${base}/compte`);
    t.match(page.url(), /\/connexion\/code$/, 'password given, second factor not: still no settings');
    await page.click('form[action="/connexion/courriel"] button');
    t.equal(await page.getAttribute('#f-code', 'autocomplete'), 'one-time-code');
    t.equal(await page.getAttribute('#f-code', 'inputmode'), 'numeric');
    await screenshot(page, '02-code-courriel');
    const code = await mailedCode(sink, alice.login, 1);
    await page.fill('#f-code', code);
    await page.click('form[action="/connexion/code"] button');
    t.match(page.url(), /\/compte\/double-authentification\?premiere=1$/, 'the first login goes on to enrol an app');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-mssd-session');
    t.ok(session?.secure && session.httpOnly && session.sameSite === 'Strict', 'session cookie: Secure, HttpOnly, SameSite=Strict');

    t.match(await page.getAttribute('img.qr', 'src'), /^data:image\/png;base64,/, 'QR code as a data: image');
    const uri = (await page.textContent('#totp-uri')) ?? '';
    t.match(uri, /^otpauth:\/\/totp\//, 'the otpauth URI is shown as text');
    totpSecret = (await page.textContent('#totp-secret')) ?? '';
    await screenshot(page, '03-double-authentification');
    await page.fill('#f-code', '000000');
    await page.click('main form button');
    t.ok(await page.isVisible('#f-code-error'), 'a wrong enrolment code is refused');
    await page.fill('#f-code', await totp());
    await page.click('main form button');
    t.match(await page.textContent('.notice'), /activée/);
    const logins = auditRows(env, 'login').filter((row) => row.source === 'portal' && row.auth_login === alice.login);
    t.same(logins.map((row) => [row.outcome, JSON.parse(row.detail).method]), [
      ['invalid-credentials', 'account'],
      ['ok', 'account'],
      ['ok', 'password+email'],
    ], 'the password steps (written by the shared authenticator), then the second factor');
  });

  await t.test('logout, then password + TOTP', async (t) => {
    await page.click('header form.logout button');
    t.match(page.url(), /\/connexion\?sortie=1$/);
    await page.goto(`${base}/compte`);
    t.match(page.url(), /\/connexion/, 'logged out: no settings');
    await passwordStep(page, base, alice.login);
    t.equal(await page.getAttribute('#f-code', 'autocomplete'), 'one-time-code');
    await screenshot(page, '04-code-totp');
    await page.fill('#f-code', await totp());
    await page.click('form[action="/connexion/code"] button');
    t.match(page.url(), /\/compte$/);
    t.match(await page.textContent('main'), /Boîte de réception/);
    t.match(await page.textContent('main'), alice.mssante);
    await screenshot(page, '05-ma-boite');
    const last = auditRows(env, 'login').filter((row) => row.auth_login === alice.login).pop()!;
    t.same([last.outcome, JSON.parse(last.detail).method], ['ok', 'password+totp']);
  });

  await t.test('an automatic reply set on the portal answers the next delivery (R8)', async (t) => {
    await page.goto(`${base}/compte/reponse-automatique`);
    await page.check('#f-active');
    await page.fill('#f-subject', 'Absente cette semaine');
    await page.fill('#f-body', 'Je suis absente ; pour une urgence, appelez le secrétariat.');
    await page.click('main form button');
    t.match(await page.textContent('.notice'), /enregistrées/);
    await screenshot(page, '06-reponse-automatique');
    await submit(env, bob.login, bob.mssante, alice.mssante, 'Compte rendu Dupont');
    t.match(await waitForMessage(env, bob.login, /Absente cette semaine/), /Absente cette semaine/);
    const settings = auditRows(env, 'settings').filter((row) => row.source === 'portal');
    const autoreply = settings.find((row) => JSON.parse(row.detail).autoreply === 'set');
    t.ok(autoreply, 'audited');
    t.notMatch(autoreply!.detail, /secrétariat/, 'the audit never holds the body');
    t.equal(autoreply!.auth_login, alice.login);
    const storeRow = auditRows(env, 'account').filter((row) => row.outcome === 'autoreply-set').pop()!;
    t.equal(storeRow.source, 'portal', "the store's own row names the portal, not the CLI");
  });

  await t.test('a forward added on the portal forwards; R1 refusals are shown next to the field (R7)', async (t) => {
    await page.goto(`${base}/compte/transferts`);
    await page.fill('#f-target', 'quelquun@gmail.com');
    await page.click('form[action="/compte/transferts/ajout"] button');
    t.match(await page.textContent('#f-target-error'), /hors de l’espace de confiance MSSanté/);
    await screenshot(page, '07-transferts-refus');
    await page.fill('#f-target', carol.mssante);
    await page.click('form[action="/compte/transferts/ajout"] button');
    t.match(await page.textContent('main'), carol.mssante);
    await screenshot(page, '08-transferts');
    await submit(env, dave.login, dave.mssante, alice.mssante, 'Résultats à transférer');
    t.match(await waitForMessage(env, carol.login, /Résultats à transférer/), /Résultats/);
    await page.click(`form[action="/compte/transferts/suppression"] button`);
    t.match(await page.textContent('main'), /Aucun transfert automatique/, 'removed');
  });

  await t.test('a notification switched on at the portal notifies (R9)', async (t) => {
    await page.goto(`${base}/compte/notifications`);
    t.notOk(await page.isChecked('#f-each'));
    await page.check('#f-each');
    await page.click('main form button');
    t.ok(await page.isChecked('#f-each'), 'saved');
    await screenshot(page, '09-notifications');
    const before = sink.to(alice.login).filter((m) => !/code de connexion/.test(m.subject)).length;
    await submit(env, bob.login, bob.mssante, alice.mssante, 'Nouvelle ordonnance');
    await sink.until('a reception notice to Alice', () => sink.to(alice.login).filter((m) => !/code de connexion/.test(m.subject)).length > before);
    t.pass('a reception notice reached the login address');
  });

  await t.test('directory visibility and dématérialisation', async (t) => {
    await page.goto(`${base}/compte/annuaire`);
    await page.uncheck('#f-national');
    await page.click('main form button');
    await screenshot(page, '10-annuaire-visibilite');
    await page.goto(`${base}/compte/dematerialisation`);
    await page.check('#f-dematerialisation');
    await page.click('main form button');
    await screenshot(page, '11-dematerialisation');
    const shown = cli(env, ['account', 'show', alice.login, '--json']).json<{ visibility: { nationalDirectory: boolean }; dematerialisation: boolean }>();
    t.equal(shown.visibility.nationalDirectory, false, 'liste rouge');
    t.equal(shown.dematerialisation, true);
    await page.goto(`${base}/annuaire?name=durand`);
    t.match(await page.textContent('main table'), bob.mssante, 'the local directory finds Bob');
    await page.goto(`${base}/annuaire?name=martin`);
    t.match(await page.textContent('main table'), alice.mssante, 'and Alice, listed locally');
    await page.goto(`${base}/compte/annuaire`);
    await page.uncheck('#f-local');
    await page.click('main form button');
    await page.goto(`${base}/annuaire?name=martin`);
    t.match(await page.textContent('main'), /Aucun résultat/, 'unlisted from the local directory: search no longer finds her');
    await page.goto(`${base}/compte/annuaire`);
    await page.check('#f-local');
    await page.click('main form button');
    await screenshot(page, '12-annuaire');
    await page.goto(`${base}/compte/mot-de-passe`);
    await screenshot(page, '13-mot-de-passe');
    await page.goto(`${base}/compte/configuration`);
    t.match(await page.textContent('main table'), String(env.ports.imaps), 'the live IMAPS port');
    await screenshot(page, '17-configuration');
    const profile = await page.request.get(`${base}/compte/configuration/mssante.mobileconfig`);
    t.equal(profile.headers()['content-type'], 'application/x-apple-aspen-config; charset=utf-8');
    t.match(await profile.text(), alice.mssante, 'the Apple profile names her MSSanté address');
  });

  await t.test('the ORG responsible unlinks a member: his open IMAP sessions lose the ORG folders (R6)', async (t) => {
    const idling = await RawImap.login(env, bob.login, TEST_PASSWORD);
    t.teardown(() => idling.close());
    t.match((await idling.command(`EXAMINE "${ORG_WIRE}/INBOX"`)).tagged, /OK \[READ-ONLY\]/);
    const client = imapClient(env, bob.login, TEST_PASSWORD);
    client.on('error', () => undefined);
    await client.connect();
    t.teardown(() => client.logout().catch(() => undefined));
    t.ok((await client.list()).some((entry) => entry.path.startsWith('Partagé')), 'Bob sees the ORG folders');
    const idleTag = idling.nextTag();
    idling.write(`${idleTag} IDLE\r\n`);
    t.equal(await idling.line(), '+ idling');

    await page.goto(`${base}/compte/boites-partagees`);
    t.match(await page.textContent('main'), bob.login);
    await screenshot(page, '14-comptes-partages');
    await page.click(`button[aria-label="Retirer ${bob.login} de ${ORG}"]`);
    t.match(await page.textContent('.notice'), /enregistrées/);

    t.equal(await idling.line(5000), `* OK [CLOSED] "${ORG_WIRE}/INBOX" is no longer available to you; select another mailbox`, 'IDLE is told at once');
    idling.write('DONE\r\n');
    await idling.until(idleTag);
    t.notOk((await client.list()).some((entry) => entry.path.startsWith('Partagé')), 'imapflow: the ORG folders are gone');

    await page.fill('#f-member0', bob.login);
    await page.click('form[action="/compte/boites-partagees/ajout"] button');
    t.ok((await client.list()).some((entry) => entry.path.startsWith('Partagé')), 'linked again from the portal');
    const members = auditRows(env, 'settings').filter((row) => row.source === 'portal' && JSON.parse(row.detail).box === ORG);
    t.same(members.map((row) => Object.keys(JSON.parse(row.detail)).filter((k) => /^member/.test(k))), [['memberRemoved'], ['memberAdded']]);
  });

  await t.test('a device password made on the portal logs in over IMAP; revoking it cuts its open session (R16)', async (t) => {
    await page.goto(`${base}/compte/appareils`);
    await page.fill('#f-name', 'Thunderbird cabinet');
    await page.click('form[action="/compte/appareils/ajout"] button');
    const password = (await page.textContent('#device-password')) ?? '';
    t.match(password, /^[a-z2-9]{4}(-[a-z2-9]{4}){5}$/, 'shown once');
    await screenshot(page, '16-appareils');
    const client = imapClient(env, alice.login, password);
    client.on('error', () => undefined);
    await client.connect();
    t.teardown(() => client.close());
    const closed = new Promise((resolve) => client.once('close', resolve));
    t.ok((await client.list()).length > 0, 'the device logs in');
    await page.click('button[aria-label="Révoquer Thunderbird cabinet"]');
    t.match(await page.textContent('.notice'), /révoqué/);
    await closed;
    t.pass('its open IMAP session was closed');
    const again = imapClient(env, alice.login, password);
    again.on('error', () => undefined);
    await t.rejects(again.connect(), 'the revoked password no longer logs in');
  });

  await t.test('CSRF: a form post without the token, or with a wrong one, is refused with 403', async (t) => {
    const forms: Array<Record<string, string>> = [{ target: carol.mssante }, { target: carol.mssante, _csrf: 'x'.repeat(43) }];
    for (const form of forms) {
      const answer = await page.request.post(`${base}/compte/transferts/ajout`, { form });
      t.equal(answer.status(), 403);
    }
    const shown = cli(env, ['account', 'show', alice.login, '--json']).json<{ forwards: string[] }>();
    t.same(shown.forwards, [], 'nothing was added');
  });

  await t.test('an idle session expires', async (t) => {
    await page.goto(`${base}/compte`);
    t.match(page.url(), /\/compte$/);
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    await page.goto(`${base}/compte`);
    t.match(page.url(), /\/connexion\?expiree=1$/);
    t.match(await page.textContent('.notice'), /expiré/);
  });

  await t.test('mssd account second-factor reset: the next login goes by mail and enrols again', async (t) => {
    const reset = cli(env, ['account', 'second-factor', 'reset', alice.login]);
    t.equal(reset.status, 0, reset.stderr);
    t.match(reset.stdout, /next portal login enrols again/);
    await passwordStep(page, base, alice.login);
    t.notOk(await page.isVisible('input[name=mode][value=totp]'), 'no TOTP asked any more');
    await page.click('form[action="/connexion/courriel"] button');
    const code = await mailedCode(sink, alice.login, 2);
    await page.fill('#f-code', code);
    await page.click('form[action="/connexion/code"] button');
    t.match(page.url(), /double-authentification\?premiere=1$/);
    const secret = (await page.textContent('#totp-secret')) ?? '';
    t.not(secret, totpSecret, 'a new secret is offered');
    totpSecret = secret;
    usedStep = 0;
    await page.fill('#f-code', await totp());
    await page.click('main form button');
    t.match(await page.textContent('.notice'), /activée/, 'the new phone is enrolled');
    const unknown = cli(env, ['account', 'second-factor', 'reset', 'nobody@hopital-test.fr']);
    t.equal(unknown.status, 1);
    t.match(unknown.stderr, /^mssd: /);
  });
  await t.test('mssd account second-factor enrol: the operator enrols an app, the first login is password + TOTP', async (t) => {
    const enrol = cli(env, ['account', 'second-factor', 'enrol', dave.login, '--json']);
    t.equal(enrol.status, 0, enrol.stderr);
    const { secret, uri } = enrol.json<{ secret: string; uri: string }>();
    t.match(uri, /^otpauth:\/\/totp\/.*secret=/, 'an otpauth:// URI to scan');
    const fresh = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'fr-FR' });
    t.teardown(() => fresh.close());
    const davePage = await fresh.newPage();
    await passwordStep(davePage, base, dave.login);
    await davePage.fill('#f-code', (await freshTotp(secret, 0)).code);
    await davePage.click('form[action="/connexion/code"] button');
    t.match(davePage.url(), /\/compte$/, 'no mailed code needed');
    t.match(await davePage.textContent('main'), dave.mssante);
    const unknown = cli(env, ['account', 'second-factor', 'enrol', 'nobody@hopital-test.fr']);
    t.equal(unknown.status, 1);
    t.match(unknown.stderr, /^mssd: /);
  });

  await t.test('wrong TOTP codes are refused, then throttled even for the right code', async (t) => {
    const other = await browser.newContext({ ignoreHTTPSErrors: true });
    t.teardown(() => other.close());
    const tab = await other.newPage();
    await passwordStep(tab, base, alice.login);
    for (let i = 0; i < 5; i++) {
      await tab.fill('#f-code', String(100000 + i));
      const [answer] = await Promise.all([tab.waitForResponse((r) => r.url().endsWith('/connexion/code') && r.request().method() === 'POST'), tab.click('form[action="/connexion/code"] button')]);
      t.equal(answer.status(), 401, `wrong code ${i + 1} refused`);
    }
    await tab.fill('#f-code', await totp());
    const [answer] = await Promise.all([tab.waitForResponse((r) => r.url().endsWith('/connexion/code') && r.request().method() === 'POST'), tab.click('form[action="/connexion/code"] button')]);
    t.equal(answer.status(), 429, 'throttled');
    t.match(await tab.textContent('#f-code-error'), /Trop de codes erronés/);
    await screenshot(tab, '15-code-bloque');
    const outcomes = auditRows(env, 'login').filter((row) => row.auth_login === alice.login).slice(-6).map((row) => row.outcome);
    t.same(outcomes, ['wrong-code', 'wrong-code', 'wrong-code', 'wrong-code', 'wrong-code', 'throttled']);
  });

  await t.test('a password changed on the portal is the one IMAP accepts; the policy of the CLI applies', async (t) => {
    await page.goto(`${base}/compte/mot-de-passe`);
    await page.fill('#f-current', TEST_PASSWORD);
    await page.fill('#f-next', 'court');
    await page.fill('#f-confirm', 'court');
    await page.click('main form button');
    t.match(await page.textContent('#f-next-error'), /au moins 8 caractères/, 'refused by the password policy, next to the field');
    await page.fill('#f-current', 'Not-her-pass-1!');
    await page.fill('#f-next', 'Nouveau-secret-2027!');
    await page.fill('#f-confirm', 'Nouveau-secret-2027!');
    await page.click('main form button');
    t.match(await page.textContent('#f-current-error'), /Mot de passe actuel incorrect/);
    await page.fill('#f-current', TEST_PASSWORD);
    await page.fill('#f-next', 'Nouveau-secret-2027!');
    await page.fill('#f-confirm', 'Nouveau-secret-2027!');
    await page.click('main form button');
    t.match(await page.textContent('.notice'), /enregistrées/);
    const fresh = imapClient(env, alice.login, 'Nouveau-secret-2027!');
    fresh.on('error', () => undefined);
    await fresh.connect();
    await fresh.logout();
    t.pass('IMAP accepts the new password');
    const old = imapClient(env, alice.login, TEST_PASSWORD);
    old.on('error', () => undefined);
    await t.rejects(old.connect(), 'and no longer the old one');
    const row = auditRows(env, 'settings').filter((r) => r.source === 'portal').pop()!;
    t.same(JSON.parse(row.detail).changed, ['password']);
    t.notMatch(row.detail, /Nouveau-secret/, 'never the password itself');
  });
});
