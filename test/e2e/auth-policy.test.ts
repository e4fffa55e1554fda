// auth.passwordLogins "devices" (issue 11) and login throttling under attack (issue 15, findings 1
// and 2), end to end; and submission AUTH PLAIN naming another user (issue 15, finding 6).
// Attack traffic comes from other loopback addresses (127.0.0.x), as from other machines.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { RawImap } from '../helpers/imap-raw';

/** One IMAPS connection from `localAddress` that sends `LOGIN` when told; resolves with the tagged reply. */
async function imapsFrom(env: TestEnv, localAddress: string): Promise<{ login(user: string, pass: string): Promise<string>; close(): void }> {
  // localAddress is a TCP option: open the TCP connection from that address, then TLS over it.
  const socket = tls.connect({ socket: net.connect({ host: '127.0.0.1', port: env.ports.imaps, localAddress }), ca: readFileSync(env.caFile), servername: 'localhost' });
  socket.on('error', () => undefined);
  let buffer = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    waiters.splice(0).forEach((wake) => wake());
  });
  const lineStarting = async (prefix: string): Promise<string> => {
    for (;;) {
      const line = buffer.split('\r\n').find((l) => l.startsWith(prefix));
      if (line) return line;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  await lineStarting('* OK');
  return {
    async login(user, pass) {
      buffer = '';
      socket.write(`a LOGIN ${JSON.stringify(user)} ${JSON.stringify(pass)}\r\n`);
      return lineStarting('a ');
    },
    close: () => socket.destroy(),
  };
}

/** A raw SMTP exchange on listen.submissions (implicit TLS): each command and its reply. */
async function smtpsExchange(env: TestEnv, commands: string[]): Promise<string[]> {
  const socket = tls.connect({ host: '127.0.0.1', port: env.ports.submissions, ca: readFileSync(env.caFile), servername: 'localhost' });
  let buffer = '';
  const replies: string[] = [];
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
        if (!match) return false;
        const end = match.index + match[0].length;
        const reply = buffer.slice(0, end).trim().split('\r\n').pop()!;
        buffer = buffer.slice(end);
        resolve(reply);
        return true;
      };
      if (check()) return;
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        if (check()) socket.off('data', onData);
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
  await next(); // greeting
  for (const command of commands) {
    socket.write(`${command}\r\n`);
    replies.push(await next());
  }
  socket.destroy();
  return replies;
}

t.test('"devices" mode and throttling', async (t) => {
  const env = await makeEnv({ auth: { passwordLogins: 'devices' } });
  const dave = createPer(env, 'Dave', 'Roux', '10000000004');
  const eve = createPer(env, 'Eve', 'Blanc', '10000000005');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const device = cli(env, ['device', 'add', dave.login, '--name', 'Outlook', '--json']).json<{ password: string }>();

  await t.test('the box password is refused on IMAP and submission, with the hint', async (t) => {
    const imap = await imapsFrom(env, '127.0.0.1');
    t.match(await imap.login(dave.login, TEST_PASSWORD), /^a NO \[AUTHENTICATIONFAILED\] .*create a device password for this mail program in the portal/);
    t.match(await imap.login(dave.login, device.password), /^a OK /, 'the device password works');
    imap.close();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.submission,
      requireTLS: true,
      auth: { user: dave.login, pass: TEST_PASSWORD },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
    const refused = await transport.verify().then(
      () => 'accepted',
      (err: { response?: string }) => err.response ?? String(err),
    );
    transport.close();
    t.match(refused, /^535 5\.7\.8 .*create a device password for this mail program in the portal/);
  });

  await t.test('a desktop mail client (isync/mbsync) syncs with a device password', async (t) => {
    const sent = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.submission,
      requireTLS: true,
      auth: { user: eve.login, pass: cli(env, ['device', 'add', eve.login, '--name', 'Envoi', '--json']).json<{ password: string }>().password },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
    await sent.sendMail({ envelope: { from: eve.mssante, to: [dave.mssante] }, raw: `From: <${eve.mssante}>\r\nTo: <${dave.mssante}>\r\nSubject: Compte rendu\r\n\r\nBonjour\r\n` });
    sent.close();
    const maildir = path.join(env.dir, 'mail');
    mkdirSync(maildir);
    const rc = path.join(env.dir, 'mbsyncrc');
    writeFileSync(
      rc,
      [
        'IMAPAccount mssd',
        'Host localhost', // the name in the development certificate
        `Port ${env.ports.imaps}`,
        `User ${dave.login}`,
        `Pass ${device.password}`,
        'SSLType IMAPS',
        `CertificateFile ${env.caFile}`,
        '',
        'IMAPStore remote',
        'Account mssd',
        '',
        'MaildirStore local',
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        '',
        'Channel inbox',
        'Far :remote:',
        'Near :local:',
        'Patterns INBOX',
        'Create Near',
        'Sync Pull',
        'SyncState *', // state in the maildir, not in ~/.mbsync: every run independent
        '',
      ].join('\n'),
    );
    const run = spawnSync('mbsync', ['-c', rc, 'inbox'], { encoding: 'utf8', timeout: 30_000 });
    t.equal(run.status, 0, `mbsync: ${run.stderr}`);
    const files = readdirSync(path.join(maildir, 'INBOX', 'new')).concat(readdirSync(path.join(maildir, 'INBOX', 'cur')));
    t.equal(files.length, 1, 'the message arrived in the local maildir');
  });

  await t.test('submission: a device revoked mid-session sends nothing more', async (t) => {
    const laptop = cli(env, ['device', 'add', dave.login, '--name', 'Portable', '--json']).json<{ id: number; password: string }>();
    // One pooled connection, authenticated once, reused for both messages.
    const pooled = nodemailer.createTransport({
      pool: true,
      maxConnections: 1,
      host: '127.0.0.1',
      port: env.ports.submission,
      requireTLS: true,
      auth: { user: dave.login, pass: laptop.password },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
    const message = { envelope: { from: dave.mssante, to: [eve.mssante] }, raw: `From: <${dave.mssante}>\r\nTo: <${eve.mssante}>\r\nSubject: x\r\n\r\nx\r\n` };
    t.match((await pooled.sendMail(message)).response, /^250 /);
    t.equal(cli(env, ['device', 'revoke', dave.login, String(laptop.id)]).status, 0);
    const refused = await pooled.sendMail(message).then(
      () => 'accepted',
      (err: { response?: string }) => err.response ?? String(err),
    );
    pooled.close();
    t.match(refused, /^550 5\.7\.1 This device was revoked/);
  });

  await t.test('30 parallel wrong passwords from one address: at most the limit reach a check (finding 1)', async (t) => {
    const connections = await Promise.all(Array.from({ length: 30 }, () => imapsFrom(env, '127.0.0.2')));
    const replies = await Promise.all(connections.map((c) => c.login(dave.login, 'Wrong-pass1!')));
    connections.forEach((c) => c.close());
    const checked = replies.filter((r) => r.includes('[AUTHENTICATIONFAILED]')).length;
    const held = replies.filter((r) => r.includes('[UNAVAILABLE]')).length;
    t.equal(checked + held, 30, replies.join('\n'));
    t.ok(checked >= 1 && checked <= 10, `${checked} passwords checked, auth.throttle.maxFailuresPerPair is 10`);
    // The daemon's log lines arrive through a pipe, possibly after the replies: wait for all 30.
    const refusals = () => daemon.logs().filter((l) => l.msg === 'login refused' && l.peer === '127.0.0.2');
    for (let waited = 0; refusals().length < 30 && waited < 5_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(refusals().filter((l) => l.reason === 'invalid-credentials').length, checked, 'the daemon checked exactly those');
  });

  await t.test("5 wrong passwords from a stranger do not refuse the owner's right one elsewhere (finding 2)", async (t) => {
    const stranger = await imapsFrom(env, '127.0.0.3');
    for (let i = 0; i < 5; i++) t.match(await stranger.login(eve.login, `Wrong-pass${i}!`), /^a NO \[AUTHENTICATIONFAILED\]/);
    stranger.close();
    const owner = await imapsFrom(env, '127.0.0.4');
    // In "devices" mode the hint only comes once the box password was checked and right.
    t.match(await owner.login(eve.login, TEST_PASSWORD), /create a device password/, 'password checked, not refused by throttling');
    const phone = cli(env, ['device', 'add', eve.login, '--name', 'Phone', '--json']).json<{ password: string }>();
    t.match(await owner.login(eve.login, phone.password), /^a OK /);
    owner.close();
  });

  await t.test('without auth.oauth.issuer, no token mechanism is offered', async (t) => {
    const raw = await RawImap.imaps(env);
    const caps = await raw.command('CAPABILITY');
    t.notMatch(caps.untagged[0], /OAUTHBEARER|XOAUTH2/);
    t.match((await raw.command('AUTHENTICATE XOAUTH2 dXNlcj14AWF1dGg9QmVhcmVyIHgBAQ==')).tagged, /^T\d+ NO Unsupported authentication mechanism/);
    raw.close();
    const ehlo = await smtpsExchange(env, ['EHLO client.example', 'AUTH XOAUTH2 dXNlcj14AWF1dGg9QmVhcmVyIHgBAQ==']);
    t.match(ehlo[1], /^504 /);
  });

  await t.test('submission AUTH PLAIN naming another user is refused (RFC 4954 section 4)', async (t) => {
    const plain = (authzid: string) => Buffer.from(`${authzid}\0${dave.login}\0${device.password}`).toString('base64');
    const refused = await smtpsExchange(env, ['EHLO client.example', `AUTH PLAIN ${plain(eve.login)}`]);
    t.match(refused[1], /^535 5\.7\.8 Signing in on behalf of another user/);
    const same = await smtpsExchange(env, ['EHLO client.example', `AUTH PLAIN ${plain(dave.login.toUpperCase())}`]);
    t.match(same[1], /^235 /, 'an authzid equal to the login is fine');
  });
});
