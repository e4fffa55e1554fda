// Client access under R16 (issue 11), end to end on the real daemon: device passwords and PSC-like
// bearer tokens (signed by a key of a JWKS served over local HTTPS) with imapflow, nodemailer and
// Python's imaplib/smtplib; every kind of bad token refused with the RFC 7628 exchange; a revoked
// device's or suspended account's IDLE session cut at once, also when the CLI (another process) did it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { luhnCompleted } from '../helpers/fixtures';
import { RawImap } from '../helpers/imap-raw';
import { AUDIENCE, ISSUER, newKey, signToken, startJwksServer } from '../helpers/oauth';

const pythonClients = path.join(__dirname, 'clients', 'auth_clients.py');

function python(env: TestEnv, protocol: 'imap' | 'smtp', mechanism: 'login' | 'xoauth2' | 'oauthbearer', user: string, secret: string) {
  const port = protocol === 'imap' ? env.ports.imaps : env.ports.submission;
  const run = spawnSync('python3', [pythonClients, '127.0.0.1', String(port), env.caFile, protocol, mechanism, user, secret], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`python client failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { ok: boolean; error: string | null; capabilities: string[]; messages: number | null };
}

function imapflow(env: TestEnv, auth: { user: string; pass?: string; accessToken?: string }): ImapFlow {
  const client = new ImapFlow({ host: '127.0.0.1', port: env.ports.imaps, secure: true, tls: { ca: readFileSync(env.caFile) }, auth, logger: false });
  client.on('error', () => undefined);
  return client;
}

async function send(env: TestEnv, auth: Record<string, string>, from: string, to: string): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.ports.submission,
    secure: false,
    requireTLS: true,
    auth: auth as never,
    tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
  });
  try {
    const info = await transport.sendMail({ envelope: { from, to: [to] }, raw: `From: <${from}>\r\nTo: <${to}>\r\nSubject: test\r\n\r\nBonjour\r\n` });
    return info.response;
  } finally {
    transport.close();
  }
}

/** AUTHENTICATE from `localAddress` over IMAPS; answers the RFC 7628 challenge with an empty line. */
async function authenticateFrom(env: TestEnv, localAddress: string, command: string): Promise<[string, string]> {
  // localAddress is a TCP option: open the TCP connection from that address, then TLS over it.
  const socket = tls.connect({ socket: net.connect({ host: '127.0.0.1', port: env.ports.imaps, localAddress }), ca: readFileSync(env.caFile), servername: 'localhost' });
  socket.on('error', () => undefined);
  const lines: string[] = [];
  let buffer = '';
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      lines.push(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
    wake?.();
  });
  const next = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return lines.shift()!;
  };
  await next(); // greeting
  socket.write(`a ${command}\r\n`);
  const challenge = await next();
  socket.write('\r\n');
  const tagged = await next();
  socket.destroy();
  return [challenge, tagged];
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** Waits at most `ms` for the raw client's connection to close; returns the lines it got. */
async function closedWithin(client: RawImap, ms: number): Promise<{ closed: boolean; lines: string[] }> {
  const lines: string[] = [];
  const deadline = Date.now() + ms;
  while (!client.closed && Date.now() < deadline) {
    try {
      lines.push(await client.line(Math.max(1, deadline - Date.now())));
    } catch {
      break;
    }
  }
  return { closed: client.closed, lines };
}

t.test('device passwords and tokens with real clients', async (t) => {
  const keys = [await newKey('psc-1')];
  const tmp = (await makeEnv()).dir;
  const jwks = await startJwksServer(tmp, keys);
  t.teardown(() => jwks.close());
  const env = await makeEnv({ auth: { oauth: { issuer: ISSUER, audience: AUDIENCE, jwks: jwks.url, caFile: jwks.caFile } } });
  const jean = createPer(env, 'Jean', 'Dupont', '10000000001');
  const anne = createPer(env, 'Anne', 'Roy', '10000000002');
  const paul = createPer(env, 'Paul', 'Martin', '10000000003');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const jeanToken = await signToken({ rpps: '10000000001', key: keys[0] });

  const added = cli(env, ['device', 'add', jean.login, '--name', 'Thunderbird cabinet', '--json']);
  t.equal(added.status, 0, added.stderr);
  const device = added.json<{ id: number; name: string; password: string }>();
  t.match(device, { id: Number, name: 'Thunderbird cabinet', password: /^[a-z2-9-]{29}$/ });

  await t.test('imapflow: device password, then a token (OAUTHBEARER)', async (t) => {
    const byDevice = imapflow(env, { user: jean.login, pass: device.password });
    await byDevice.connect();
    t.ok(byDevice.authenticated);
    await byDevice.logout();
    const byToken = imapflow(env, { user: jean.mssante, accessToken: jeanToken });
    await byToken.connect();
    t.ok(byToken.authenticated);
    t.ok(byToken.capabilities.size > 0);
    const status = await byToken.status('INBOX', { messages: true });
    t.equal(status && status.messages, 0);
    await byToken.logout();
  });

  await t.test('nodemailer: device password, then a token (XOAUTH2)', async (t) => {
    t.match(await send(env, { user: jean.login, pass: device.password }, jean.mssante, anne.mssante), /^250 /);
    t.match(await send(env, { type: 'OAuth2', user: jean.login, accessToken: jeanToken }, jean.mssante, anne.mssante), /^250 /);
  });

  await t.test('Python imaplib and smtplib: device password, XOAUTH2 and OAUTHBEARER', async (t) => {
    const viaDevice = python(env, 'imap', 'login', jean.login, device.password);
    t.match(viaDevice, { ok: true, messages: 0 });
    t.ok(viaDevice.capabilities.includes('AUTH=OAUTHBEARER') && viaDevice.capabilities.includes('AUTH=XOAUTH2'), 'advertised when an issuer is set');
    t.match(python(env, 'imap', 'xoauth2', jean.login, jeanToken), { ok: true });
    t.match(python(env, 'imap', 'oauthbearer', jean.login, jeanToken), { ok: true });
    const smtp = python(env, 'smtp', 'oauthbearer', jean.login, jeanToken);
    t.match(smtp, { ok: true });
    t.same(smtp.capabilities, ['PLAIN', 'LOGIN', 'OAUTHBEARER', 'XOAUTH2']);
    t.match(python(env, 'smtp', 'login', jean.login, device.password), { ok: true });
  });

  await t.test("a linked person's token opens the ORG box (health software); unlinking cuts it", async (t) => {
    const org = 'pharmacie@mssd-test.mssante.fr';
    const created = cli(env, ['org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', org, '--name', 'Pharmacie', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001']);
    t.equal(created.status, 0, created.stderr);
    t.equal(cli(env, ['org', 'add-member', org, jean.login]).status, 0);
    t.match(await send(env, { user: anne.login, pass: TEST_PASSWORD }, anne.mssante, org), /^250 /, 'a message for the ORG box');
    const software = imapflow(env, { user: org, accessToken: jeanToken });
    await software.connect();
    const orgInbox = await software.status('INBOX', { messages: true });
    t.equal(orgInbox && orgInbox.messages, 1, "the ORG's own INBOX");
    await software.logout();
    const anneToken = await signToken({ rpps: '10000000002', key: keys[0] });
    const [, tagged] = await authenticateFrom(env, '127.0.0.20', `AUTHENTICATE XOAUTH2 ${b64(`user=${org}\x01auth=Bearer ${anneToken}\x01\x01`)}`);
    t.match(tagged, /NO \[AUTHENTICATIONFAILED\] The access token belongs to a professional who may not open this box/, 'not linked');
    const session = await RawImap.imaps(env);
    t.equal((await session.command(`AUTHENTICATE XOAUTH2 ${b64(`user=${org}\x01auth=Bearer ${jeanToken}\x01\x01`)}`)).status, 'OK');
    t.equal(cli(env, ['org', 'remove-member', org, jean.login]).status, 0);
    const cut = await closedWithin(session, 5_000);
    t.ok(cut.closed);
    t.ok(cut.lines.some((line) => /^\* BYE You are no longer linked to this organisational box/.test(line)), cut.lines.join(' | '));
  });

  await t.test('device list shows the last use', async (t) => {
    const listed = cli(env, ['device', 'list', jean.login, '--json']).json<Array<Record<string, unknown>>>();
    t.equal(listed.length, 1);
    t.match(listed[0], { id: device.id, name: 'Thunderbird cabinet', lastUsedAt: /^\d{4}-/, lastUsedProtocol: /^(imap|submission)$/, lastUsedAddress: '127.0.0.1' });
  });

  await t.test('bad tokens are refused with the RFC 7628 exchange', async (t) => {
    const unknownKey = await newKey('not-published');
    const cases: Array<[string, string, string, RegExp]> = [
      ['expired', jean.login, await signToken({ rpps: '10000000001', key: keys[0], expiresIn: -600 }), /expired/],
      ['wrong audience', jean.login, await signToken({ rpps: '10000000001', key: keys[0], audience: 'another-service' }), /not issued for this mail service/],
      ['wrong issuer', jean.login, await signToken({ rpps: '10000000001', key: keys[0], issuer: 'https://idp.example.org' }), /issuer this server does not trust/],
      ['unknown key', jean.login, await signToken({ rpps: '10000000001', key: unknownKey }), /not valid/],
      ['other professional', anne.login, jeanToken, /another professional|may not open this box/],
    ];
    let source = 10;
    for (const [name, user, token, text] of cases) {
      // Each from its own loopback address, as from different machines: no throttling delay adds up.
      const [challenge, tagged] = await authenticateFrom(env, `127.0.0.${source++}`, `AUTHENTICATE XOAUTH2 ${b64(`user=${user}\x01auth=Bearer ${token}\x01\x01`)}`);
      t.match(challenge, /^\+ /, `${name}: a challenge first`);
      t.match(JSON.parse(Buffer.from(challenge.slice(2), 'base64').toString()), { status: 'invalid_token', 'openid-configuration': `${ISSUER}/.well-known/openid-configuration` });
      t.match(tagged, /^a NO \[AUTHENTICATIONFAILED\] /, name);
      t.match(tagged, text, name);
    }
    // On submission too (nodemailer, XOAUTH2): 535 with the reason.
    const expired = await signToken({ rpps: '10000000001', key: keys[0], expiresIn: -600 });
    const refused = await send(env, { type: 'OAuth2', user: jean.login, accessToken: expired }, jean.mssante, anne.mssante).catch((err: { response?: string }) => err.response ?? String(err));
    t.match(refused, /^535 5\.7\.8 .*expired/);
    const pySmtp = python(env, 'smtp', 'oauthbearer', jean.login, expired);
    t.match(pySmtp, { ok: false, error: /535.*5\.7\.8 The access token has expired/ }, 'smtplib OAUTHBEARER: challenge answered, then 535');
    const pyImap = python(env, 'imap', 'oauthbearer', jean.login, expired);
    t.match(pyImap, { ok: false, error: /AUTHENTICATIONFAILED.*expired/ }, 'imaplib OAUTHBEARER');
    // A suspended box: the token is right, the box is not open.
    const paulToken = await signToken({ rpps: '10000000003', key: keys[0] });
    t.match(python(env, 'imap', 'xoauth2', paul.login, paulToken), { ok: true });
    t.equal(cli(env, ['account', 'suspend', paul.login]).status, 0);
    const suspended = await RawImap.imaps(env);
    const reply = await suspended.command(`AUTHENTICATE OAUTHBEARER ${b64(`n,a=${paul.login},\x01auth=Bearer ${paulToken}\x01\x01`)}`);
    t.match(reply.tagged, /NO \[CONTACTADMIN\] This account is suspended/);
    suspended.close();
  });

  await t.test('a revoked device: IDLE session cut at once, next login refused (CLI revocation)', async (t) => {
    const phone = cli(env, ['device', 'add', anne.login, '--name', 'Téléphone', '--json']).json<{ id: number; password: string }>();
    const idle = await RawImap.login(env, anne.login, phone.password);
    const other = await RawImap.login(env, anne.login, TEST_PASSWORD); // her own password session stays
    t.equal((await idle.command('SELECT INBOX')).status, 'OK');
    idle.write('I1 IDLE\r\n');
    t.match(await idle.line(), /^\+ /);
    const revoked = cli(env, ['device', 'revoke', anne.login, String(phone.id)]);
    t.equal(revoked.status, 0, revoked.stderr);
    // The daemon polls other processes' commits every 500 ms: bounded wait, not a timing claim.
    const returned = Date.now();
    const cut = await closedWithin(idle, 5_000);
    t.comment(`IDLE session closed ${Date.now() - returned} ms after the CLI returned`);
    t.ok(cut.closed, 'connection closed');
    t.ok(cut.lines.some((line) => /^\* BYE This device was revoked/.test(line)), `BYE says why: ${cut.lines.join(' | ')}`);
    t.equal((await other.command('NOOP')).status, 'OK', 'a session with another credential is untouched');
    other.close();
    const again = await RawImap.imaps(env);
    t.match((await again.command(`LOGIN ${anne.login} ${phone.password}`)).tagged, /NO \[AUTHENTICATIONFAILED\]/);
    again.close();
  });

  await t.test('a suspended account: every session cut, token sessions included', async (t) => {
    // Anne: Jean's address has a few failed attempts behind it (the bad tokens above), so his
    // next attempts from it wait their progressive delay.
    const anneToken = await signToken({ rpps: '10000000002', key: keys[0] });
    const session = await RawImap.imaps(env);
    t.equal((await session.command(`AUTHENTICATE XOAUTH2 ${b64(`user=${anne.login}\x01auth=Bearer ${anneToken}\x01\x01`)}`, 30_000)).status, 'OK');
    t.equal((await session.command('SELECT INBOX')).status, 'OK');
    session.write('I1 IDLE\r\n');
    t.match(await session.line(), /^\+ /);
    t.equal(cli(env, ['account', 'suspend', anne.login]).status, 0);
    const cut = await closedWithin(session, 5_000);
    t.ok(cut.closed);
    t.ok(cut.lines.some((line) => /^\* BYE This account is suspended/.test(line)), cut.lines.join(' | '));
  });

  const logins = daemon.logs().filter((line) => line.msg === 'login accepted' || line.msg === 'login refused');
  t.ok(logins.some((line) => line.method === 'device' && line.deviceName === 'Thunderbird cabinet' && line.auth === 'imap'));
  t.ok(logins.some((line) => line.method === 'token' && line.auth === 'submission' && line.outcome === 'ok'));
  t.notOk(JSON.stringify(daemon.logs()).includes(device.password), 'no device password in the log');
  t.notOk(JSON.stringify(daemon.logs()).includes(jeanToken), 'no token in the log');
});
