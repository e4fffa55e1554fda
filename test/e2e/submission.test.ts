// The submission server as a user's mail program sees it: nodemailer submitting over STARTTLS
// (or implicit TLS) with AUTH, to the real daemon started from bin/mssd. Remote mail goes to a
// small peer operator (test/helpers/peer.ts) through relay.smarthost. AUTH before STARTTLS, bad
// credentials, foreign sender addresses and R1 are tested on the server object in
// test/smtp/submission.test.ts.
import t from 'tap';
import { waitUntil } from '../helpers/wait';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { simpleParser } from 'mailparser';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { luhnCompleted, peerDomain } from '../helpers/fixtures';
import { makeTestPki, startPeer } from '../helpers/peer';

interface SubmitOptions {
  user: string;
  pass?: string;
  from: string;
  to: string[];
  raw: Buffer;
  implicitTls?: boolean;
  dsn?: { id?: string; return?: 'headers' | 'full'; notify?: string | string[] };
}

function submit(env: TestEnv, options: SubmitOptions) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: options.implicitTls ? env.ports.submissions : env.ports.submission,
    secure: options.implicitTls ?? false,
    requireTLS: !options.implicitTls,
    auth: { user: options.user, pass: options.pass ?? TEST_PASSWORD },
    tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
  });
  return transport
    .sendMail({ envelope: { from: options.from, to: options.to }, raw: options.raw, ...(options.dsn ? { dsn: options.dsn } : {}) })
    .finally(() => transport.close());
}

function refusedWith(promise: Promise<unknown>): Promise<{ response?: string; responseCode?: number; rejectedErrors?: Array<{ response?: string }> } | null> {
  return promise.then(
    () => null,
    (err: { response?: string }) => err,
  );
}

const XDM = randomBytes(3000);

function message(options: { from: string; to: string; cc?: string; bcc?: string; subject: string; body?: string; date?: boolean; messageId?: boolean; attachment?: boolean }): Buffer {
  const boundary = 'b-mssd-test';
  const lines = [
    `From: Dr Alice Martin <${options.from}>`,
    `To: <${options.to}>`,
    ...(options.cc ? [`Cc: ${options.cc}`] : []),
    ...(options.bcc ? [`Bcc: ${options.bcc}`] : []),
    `Subject: ${options.subject}`,
    ...(options.date === false ? [] : ['Date: Sun, 22 Nov 2026 10:00:00 +0100']),
    ...(options.messageId === false ? [] : [`Message-ID: <${options.subject.replace(/\W/g, '')}.${Date.now()}@client.example>`]),
    'X-MSS-MES: FIN',
    'X-MSS-INS: 180017512345678',
    'X-MSS-CODECDA: 11488-4',
    'MIME-Version: 1.0',
  ];
  if (!options.attachment) {
    lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', options.body ?? 'Bonjour, résultats ci-joints — UTF-8 ✓', '');
  } else {
    lines.push(
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      options.body ?? 'Compte rendu en pièce jointe.',
      `--${boundary}`,
      'Content-Type: application/zip; name="IHE_XDM.ZIP"',
      'Content-Disposition: attachment; filename="IHE_XDM.ZIP"',
      'Content-Transfer-Encoding: base64',
      '',
      ...(XDM.toString('base64').match(/.{1,76}/g) ?? []),
      `--${boundary}--`,
      '',
    );
  }
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

function inbox(env: TestEnv, login: string): Array<{ uid: number; content: Buffer }> {
  const db = new Database(path.join(env.dataDir, 'mssd.sqlite'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT m.uid, b.content FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
         JOIN bodies b ON b.hash = m.body_hash WHERE a.login = ? AND mb.name = 'INBOX' ORDER BY m.uid`,
      )
      .all(login) as Array<{ uid: number; content: Buffer }>;
  } finally {
    db.close();
  }
}

t.test('submission', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const peer = await startPeer({ pki });
  t.teardown(() => peer.close());
  const env = await makeEnv({
    limits: { maxRecipients: 3, maxMessageBytes: 256 * 1024 },
    relay: { smarthost: { host: '127.0.0.1', port: peer.port }, caFile: pki.caFile, certFile: pki.daemonCertFile, keyFile: pki.daemonKeyFile, retryDelays: ['1s'], maxAge: '1h' },
  });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const medLogin = 'marie.med@hopital-test.fr';
  t.equal(cli(env, ['account', 'create', '--type', 'MED', '--login', medLogin, '--first-name', 'Marie', '--last-name', 'Med', '--password-stdin'], `${TEST_PASSWORD}\n`).status, 0);
  const intLogin = 'ivan.interne@hopital-test.fr';
  t.equal(cli(env, ['account', 'create', '--type', 'INT', '--login', intLogin, '--first-name', 'Ivan', '--last-name', 'Interne', '--password-stdin'], `${TEST_PASSWORD}\n`).status, 0);
  const org = 'pharmacie@mssd-test.mssante.fr';
  t.equal(
    cli(env, ['org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', org, '--name', 'Pharmacie centrale', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001']).status,
    0,
  );
  t.equal(cli(env, ['org', 'add-member', org, alice.login]).status, 0);
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const remote = `dr.peer@${peerDomain().domain}`;

  await t.test('local delivery: Bcc removed, Date and Message-ID added, X-MSS and attachment intact', async (t) => {
    const before = inbox(env, bob.login).length;
    const raw = message({ from: alice.mssante, to: bob.mssante, bcc: `<${bob.login}>`, subject: 'Compte rendu', date: false, messageId: false, attachment: true });
    const info = await submit(env, { user: alice.login, from: alice.mssante, to: [bob.mssante, bob.login], raw });
    t.match(info.response, /^250 2\.6\.0 Message accepted as [0-9A-Z]+/);
    const stored = inbox(env, bob.login);
    t.equal(stored.length, before + 1, 'one copy for one box reached by two addresses');
    const content = stored[stored.length - 1].content.toString('utf8');
    t.match(content, /^Return-Path: <alice\.martin@mssd-test\.mssante\.fr>\r\nReceived: from client\.example|^Return-Path: <alice\.martin@mssd-test\.mssante\.fr>\r\nReceived: from /);
    t.match(content, /with ESMTPSA id /, 'authenticated submission over TLS (RFC 3848)');
    t.notMatch(content, /^Bcc:/im, 'Bcc removed');
    t.match(content, /^Date: \w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r$/m, 'Date added');
    t.match(content, /^Message-ID: <[0-9A-Z]+\.[0-9a-f]+@mx\.mssd-test\.mssante\.fr>\r$/m, 'Message-ID added');
    for (const header of ['X-MSS-MES: FIN', 'X-MSS-INS: 180017512345678', 'X-MSS-CODECDA: 11488-4']) t.ok(content.includes(`${header}\r\n`), header);
    const parsed = await simpleParser(stored[stored.length - 1].content);
    const xdm = parsed.attachments.find((a) => a.filename === 'IHE_XDM.ZIP');
    t.ok(xdm && xdm.content.equals(XDM), 'IHE_XDM.ZIP byte for byte');
    t.ok(raw.subarray(raw.indexOf('X-MSS-MES')).equals(Buffer.from(content.slice(content.indexOf('X-MSS-MES')), 'utf8')), 'everything after the headers we touch is untouched');
  });

  await t.test('implicit TLS on listen.submissions', async (t) => {
    const info = await submit(env, { implicitTls: true, user: alice.mssante, from: alice.login, to: [bob.login], raw: message({ from: alice.login, to: bob.login, subject: 'Implicite' }) });
    t.match(info.response, /^250 /);
  });

  await t.test('send-as ORG: a member may, a non-member may not', async (t) => {
    const before = inbox(env, bob.login).length;
    const info = await submit(env, { user: alice.login, from: org, to: [bob.mssante], raw: message({ from: org, to: bob.mssante, subject: 'De la pharmacie' }) });
    t.match(info.response, /^250 /);
    t.equal(inbox(env, bob.login).length, before + 1);
    t.match(inbox(env, bob.login).at(-1)!.content.toString(), /^From: Dr Alice Martin <pharmacie@mssd-test\.mssante\.fr>\r$/m);
    const refused = await refusedWith(submit(env, { user: bob.login, from: org, to: [alice.login], raw: message({ from: org, to: alice.login, subject: 'x' }) }));
    t.match(refused?.response, /^553 5\.7\.1 Sender address rejected: <pharmacie@mssd-test\.mssante\.fr> \(MAIL FROM\) is not one of your addresses nor of an organisational box/);
    t.equal(cli(env, ['org', 'remove-member', org, alice.login]).status, 0);
    const unlinked = await refusedWith(submit(env, { user: alice.login, from: org, to: [bob.mssante], raw: message({ from: org, to: bob.mssante, subject: 'x' }) }));
    t.match(unlinked?.response, /^553 5\.7\.1 /, 'unlinking applies at once');
    t.equal(cli(env, ['org', 'add-member', org, alice.login]).status, 0);
  });

  await t.test('R2: a MED writes to local users only', async (t) => {
    const err = await refusedWith(submit(env, { user: medLogin, from: medLogin, to: [remote], raw: message({ from: medLogin, to: remote, subject: 'x' }) }));
    t.match(err?.response, /^550 5\.7\.1 <dr\.peer@[^>]+> refused: a BAL MED account may only write to users of this operator/);
    const info = await submit(env, { user: medLogin, from: medLogin, to: [bob.mssante], raw: message({ from: medLogin, to: bob.mssante, subject: 'Interne' }) });
    t.match(info.response, /^250 /);
  });

  await t.test('R3: at most limits.maxRecipients recipients (To, Cc, Bcc)', async (t) => {
    const others = ['a1', 'a2', 'a3'].map((n) => `${n}@${peerDomain().domain}`);
    const info = await submit(env, { user: alice.login, from: alice.login, to: [bob.login, ...others], raw: message({ from: alice.login, to: bob.login, cc: others.join(', '), subject: 'Trop' }) });
    t.same(info.rejected, [others[2]]);
    t.match((info as unknown as { rejectedErrors: Array<{ response: string }> }).rejectedErrors[0].response, /^452 4\.5\.3 Too many recipients: at most 3 per message \(To, Cc and Bcc together\)/);
  });

  await t.test('R4: patient addresses', async (t) => {
    const ins = '180017512345678'; // NIR 1800175123456, key 97 - (NIR mod 97)
    const nir = 1800175123456n;
    const goodIns = `${nir}${String(97n - (nir % 97n)).padStart(2, '0')}`;
    const badKey = goodIns.slice(0, 13) + String((Number(goodIns.slice(13)) % 97) + 1).padStart(2, '0');
    const patient = `${goodIns}@patient.mssante.fr`;
    void ins;
    const wrongKey = await refusedWith(submit(env, { user: alice.login, from: alice.login, to: [`${badKey}@patient.mssante.fr`], raw: message({ from: alice.login, to: patient, subject: 'x' }) }));
    t.match(wrongKey?.response, /^550 5\.1\.3 <\d{15}@patient\.mssante\.fr> is not a patient address: the key of INS \d{15} \(its last two digits\) is wrong/);
    const notIns = await refusedWith(submit(env, { user: alice.login, from: alice.login, to: ['jean@patient.mssante.fr'], raw: message({ from: alice.login, to: patient, subject: 'x' }) }));
    t.match(notIns?.response, /^550 5\.1\.3 /);
    const int = await refusedWith(submit(env, { user: intLogin, from: intLogin, to: [patient], raw: message({ from: intLogin, to: patient, subject: 'x' }) }));
    t.match(int?.response, /^550 5\.7\.1 <\d{15}@patient\.mssante\.fr> refused: only a personal PER box or an organisational ORG box may write to a patient, not a BAL INT/);
    const withOther = await submit(env, { user: alice.login, from: alice.login, to: [patient, bob.login], raw: message({ from: alice.login, to: patient, subject: 'Patient et autre' }) }).catch((e) => e);
    t.match(withOther.rejectedErrors?.[0]?.response ?? withOther.response, /^550 5\.7\.1 <bob\.durand@hopital-test\.fr> refused: a message to a patient must have the patient as its only recipient/);
    const otherFirst = await submit(env, { user: alice.login, from: alice.login, to: [bob.login, patient], raw: message({ from: alice.login, to: patient, subject: 'Autre et patient' }) }).catch((e) => e);
    t.match(otherFirst.rejectedErrors?.[0]?.response ?? otherFirst.response, /^550 5\.7\.1 <\d{15}@patient\.mssante\.fr> refused: a message to a patient must have the patient as its only recipient, and this message already has other recipients/);
    const peerBefore = peer.messages.length;
    const alone = await submit(env, { user: alice.login, from: alice.login, to: [patient], raw: message({ from: alice.login, to: patient, subject: 'Patient seul' }) });
    t.match(alone.response, /^250 /);
    const asOrg = await submit(env, { user: alice.login, from: org, to: [patient], raw: message({ from: org, to: patient, subject: 'Patient par ORG' }) });
    t.match(asOrg.response, /^250 /, 'an ORG may write to a patient');
    const received = await peer.waitFor(peerBefore + 2);
    t.ok(received.some((m) => m.to.some((r) => r.address === patient)), 'relayed towards the patient domain');
  });

  await t.test('NOTIFY=SUCCESS on local delivery: a success DSN in the sender INBOX', async (t) => {
    const before = inbox(env, alice.login).length;
    await submit(env, {
      user: alice.login,
      from: alice.mssante,
      to: [bob.mssante],
      raw: message({ from: alice.mssante, to: bob.mssante, subject: 'Accuse de reception' }),
      dsn: { id: 'ENV-42', return: 'headers', notify: ['SUCCESS', 'FAILURE'] },
    });
    await waitUntil('the success DSN', () => inbox(env, alice.login).length > before);
    const dsn = inbox(env, alice.login).at(-1)!.content;
    t.match(dsn.toString(), /^Return-Path: <>\r\n/);
    const parsed = await simpleParser(dsn, { keepDeliveryStatus: true });
    t.equal(parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value: string }).value, 'multipart/report');
    t.equal((parsed.headers.get('content-type') as { params: Record<string, string> }).params['report-type'], 'delivery-status');
    t.match(parsed.text, /Message distribué|distribué dans la boîte/);
    t.match(parsed.text, /delivered to the recipient/);
    const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status');
    t.ok(status, 'a message/delivery-status part');
    const fields = status!.content.toString();
    t.match(fields, /Reporting-MTA: dns; mx\.mssd-test\.mssante\.fr/);
    t.match(fields, /Original-Envelope-Id: ENV-42/);
    t.match(fields, /Final-Recipient: rfc822; bob\.durand@mssd-test\.mssante\.fr/);
    t.match(fields, /Action: delivered/);
    t.match(fields, /Status: 2\.0\.0/);
    t.ok(parsed.attachments.some((a) => a.contentType === 'text/rfc822-headers'), 'the original header only');
  });

  await t.test('one log line per submission with login and outcome, and per refusal', async (t) => {
    // The refusals' codes are tested in test/smtp/submission.test.ts; here, what the log says.
    await refusedWith(submit(env, { user: alice.login, pass: 'Wrong-pass-1!', from: alice.login, to: [bob.login], raw: message({ from: alice.login, to: bob.login, subject: 'x' }) }));
    await refusedWith(submit(env, { user: alice.login, from: alice.mssante, to: ['someone@gmail.com'], raw: message({ from: alice.mssante, to: 'someone@gmail.com', subject: 'x' }) }));
    await waitUntil('the refusals logged', () => daemon.logs().some((l) => l.msg === 'submission refused' && /gmail/.test(String(l.to))));
    const lines = daemon.logs();
    t.ok(lines.some((l) => l.msg === 'message submitted' && l.login === alice.login && l.outcome === 'delivered'));
    t.ok(lines.some((l) => l.msg === 'submission refused' && /gmail/.test(String(l.to))));
    t.ok(lines.some((l) => l.msg === 'login refused' && l.auth === 'submission'));
    t.notOk(JSON.stringify(lines).includes(TEST_PASSWORD), 'passwords never logged');
  });
});
