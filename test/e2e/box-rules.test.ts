// Box rules with the real daemon (R7, R8): automatic forwards to a local box and to a peer operator
// (test/helpers/peer.ts, reached through relay.smarthost), forward loops that stop, a target
// checked again when used, and automatic replies (RFC 3834) to local and remote senders, once per
// sender per period, never outside their dates, never to automatic mail or the null sender.
// Clients: nodemailer on submission and on the MTA (as a peer operator), imapflow.
import t from 'tap';
import { waitUntil } from '../helpers/wait';
import { mssdOk, person, submit, withDb } from '../helpers/boxes';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { makeEnv, startDaemon, type TestEnv } from '../helpers/daemon';
import { peerDomain } from '../helpers/fixtures';
import { connectedClient, deliver, peerOperator } from '../helpers/imap';
import { makeTestPki, PeerReply, startPeer } from '../helpers/peer';

let counter = 0;
function mail(from: string, to: string, subject: string, extra: string[] = []): { raw: Buffer; messageId: string } {
  const messageId = `<rules.${++counter}.${Date.now()}@client.example>`;
  const raw = Buffer.from(
    [
      `From: <${from}>`,
      `To: <${to}>`,
      `Subject: ${subject}`,
      `Message-ID: ${messageId}`,
      'Date: Mon, 23 Nov 2026 09:00:00 +0100',
      ...extra,
      'X-MSS-MES: FIN',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Compte rendu — données de santé, ligne 8-bit ✓',
      '',
    ].join('\r\n'),
    'utf8',
  );
  return { raw, messageId };
}

function inbox(env: TestEnv, login: string): Buffer[] {
  return withDb(env, (db) =>
    (
      db
        .prepare(
          `SELECT b.content FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
           JOIN bodies b ON b.hash = m.body_hash WHERE a.login = ? AND mb.name = 'INBOX' ORDER BY m.uid`,
        )
        .all(login) as Array<{ content: Buffer }>
    ).map((row) => row.content),
  );
}

function audits(env: TestEnv, event: string): Array<{ outcome: string; recipients: string; mail_from: string; detail: string }> {
  return withDb(env, (db) => db.prepare('SELECT outcome, recipients, mail_from, detail FROM audit WHERE event = ? ORDER BY id').all(event) as never);
}

const withoutReturnPath = (raw: Buffer) => raw.subarray(raw.indexOf('\r\n') + 2);

t.test('forwards and automatic replies', async (t) => {
  const pki = makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'mssd-pki-')));
  const remoteDomain = peerDomain().domain;
  const peer = await startPeer({
    pki,
    respond: (stage, detail) => (stage === 'rcpt' && detail.to?.startsWith('ancien@') ? new PeerReply(550, '5.1.1 No such mailbox here') : null),
  });
  t.teardown(() => peer.close());
  const env = await makeEnv({
    relay: { smarthost: { host: '127.0.0.1', port: peer.port }, caFile: pki.caFile, certFile: pki.daemonCertFile, keyFile: pki.daemonKeyFile, retryDelays: ['1s'], maxAge: '1h' },
  });

  const [carol, alice, bob, dave, erin, frank, gina, hugo, ivan] = await Promise.all([
    person(env, 'Carol', 'Sender', '10000000001'),
    person(env, 'Alice', 'Martin', '10000000002'),
    person(env, 'Bob', 'Durand', '10000000003'),
    person(env, 'Dave', 'Boucle', '10000000004'),
    person(env, 'Erin', 'Boucle', '10000000005'),
    person(env, 'Frank', 'Absent', '10000000006'),
    person(env, 'Gina', 'Future', '10000000007'),
    person(env, 'Hugo', 'Renvoi', '10000000008'),
    person(env, 'Ivan', 'Suspendu', '10000000009'),
  ]);
  const bodyFile = path.join(env.dir, 'absence.txt');
  writeFileSync(bodyFile, 'Je suis absent jusqu’au 30 novembre.\nEn cas d’urgence, écrivez au secrétariat.\n');
  const hour = 3_600_000;
  const iso = (offset: number) => new Date(Date.now() + offset).toISOString();
  await Promise.all([
    mssdOk(env, ['forward', 'add', alice.mssante, bob.mssante]),
    mssdOk(env, ['forward', 'add', alice.login, `secretariat@${remoteDomain}`]),
    mssdOk(env, ['forward', 'add', alice.login, `ancien@${remoteDomain}`]),
    mssdOk(env, ['forward', 'add', dave.login, erin.mssante]),
    mssdOk(env, ['forward', 'add', erin.login, dave.mssante]),
    mssdOk(env, ['forward', 'add', hugo.login, ivan.mssante]),
    mssdOk(env, ['autoreply', 'set', frank.mssante, '--start', iso(-hour), '--end', iso(24 * hour), '--subject', 'Absent jusqu’au 30 novembre', '--body-file', bodyFile]),
    mssdOk(env, ['autoreply', 'set', gina.mssante, '--start', iso(24 * hour), '--end', iso(48 * hour), '--subject', 'Bientôt absente', '--body-file', bodyFile]),
  ]);
  await mssdOk(env, ['account', 'suspend', ivan.login]);
  const shown = JSON.parse(await mssdOk(env, ['account', 'show', alice.login, '--json'])) as { forwards: string[] };
  t.same(shown.forwards.sort(), [bob.mssante, `ancien@${remoteDomain}`, `secretariat@${remoteDomain}`].sort(), 'account show lists the forwards');

  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const remote = peerOperator(env);

  await t.test('a forward to a local box and to a peer operator; the bounce goes to the forwarding box', async (t) => {
    const { raw, messageId } = mail(carol.mssante, alice.mssante, 'Compte rendu opératoire');
    const before = peer.messages.length;
    await submit(env, carol.login, carol.mssante, [alice.mssante], raw);
    // Local copy: committed with the delivery itself (R14).
    const [original] = inbox(env, alice.login);
    const [copy] = inbox(env, bob.login);
    t.ok(original && copy, 'Alice has the message and Bob a copy as soon as the 250 came');
    const rest = withoutReturnPath(original);
    t.ok(copy.subarray(copy.length - rest.length).equals(rest), 'the copy is the original byte for byte after the trace fields');
    const prefix = copy.subarray(0, copy.length - rest.length).toString('utf8');
    t.match(
      prefix,
      new RegExp(
        `^Return-Path: <${alice.mssante}>\\r\\nX-MSSD-Forwarded-By: <${alice.mssante}>; hop=1; [^\\r]+\\r\\n` +
          `Received: by mx\\.mssd-test\\.mssante\\.fr \\(mssd\\) with local id [0-9A-Z]+\\r\\n\\t\\(automatic forward of <${alice.mssante}>\\);\\r\\n\\t[^\\r]+\\r\\n$`,
      ),
      'only trace fields before it: Return-Path (the forwarding box), our forward header, Received',
    );

    const bobImap = await connectedClient(t, env, bob.login);
    await bobImap.mailboxOpen('INBOX');
    const fetched = await bobImap.fetchOne('*', { source: true, envelope: true });
    t.ok(fetched && fetched.source?.equals(copy), 'Bob reads the copy over IMAP');
    t.equal(fetched && fetched.envelope?.messageId, messageId, 'same Message-ID as the original');

    // Remote copy: the peer gets one transaction from the forwarding box; the refused target bounces.
    const [received] = (await peer.waitFor(before + 1)).slice(before);
    t.equal(received.from, alice.mssante, 'envelope sender of the forward: the forwarding box');
    t.same(received.to.map((r) => r.address), [`secretariat@${remoteDomain}`]);
    t.ok(received.raw.subarray(received.raw.length - rest.length).equals(rest), 'the peer gets the original byte for byte after the trace fields');
    t.match(received.raw.toString('utf8'), new RegExp(`^X-MSSD-Forwarded-By: <${alice.mssante}>; hop=1;`));
    await waitUntil('the failure DSN of the refused target in Alice’s INBOX', () => inbox(env, alice.login).length === 2);
    const dsn = await simpleParser(inbox(env, alice.login)[1]);
    t.match(dsn.subject, /non distribué/i);
    t.match(dsn.text, new RegExp(`ancien@${remoteDomain.replace(/\./g, '\\.')}`));
    t.equal(inbox(env, carol.login).length, 0, 'nothing comes back to the original sender');
  });

  await t.test('a two-box forward loop stops; our trace header stops a loop through another operator', async (t) => {
    await submit(env, carol.login, carol.mssante, [dave.mssante], mail(carol.mssante, dave.mssante, 'Boucle').raw);
    t.equal(inbox(env, dave.login).length, 1, 'Dave: the original');
    t.equal(inbox(env, erin.login).length, 1, 'Erin: one copy');
    const erinCopy = inbox(env, erin.login)[0].toString('utf8');
    t.match(erinCopy, new RegExp(`X-MSSD-Forwarded-By: <${dave.mssante}>; hop=1;`));
    const declined = audits(env, 'forward').filter((row) => row.outcome === 'not-forwarded');
    t.match(JSON.parse(declined.at(-1)!.detail), { box: erin.mssante, skipped: [{ target: dave.mssante, reason: 'already received this message' }] });

    // The same message coming back from another operator, which kept our header: not forwarded again.
    const back = mail(`dr.peer@${remote.domain}`, dave.mssante, 'Retour', [`X-MSSD-Forwarded-By: <${dave.mssante}>; hop=1; Mon, 23 Nov 2026 08:00:00 +0000`]);
    await deliver(env, `dr.peer@${remote.domain}`, [dave.mssante], back.raw, remote.cert);
    t.equal(inbox(env, dave.login).length, 2, 'Dave receives it');
    t.equal(inbox(env, erin.login).length, 1, 'but does not forward it a second time');
    // The daemon's log lines reach us through a pipe, a moment after the 250.
    await waitUntil('the log line', () => daemon.logs().some((l) => l.msg === 'message not forwarded' && l.box === dave.mssante && l.outcome === 'loop'));

    // Five passes through forwards of this server already: nobody forwards it any more.
    const hops = [1, 2, 3, 4, 5].map((n) => `X-MSSD-Forwarded-By: <box${n}@mssd-test.mssante.fr>; hop=${6 - n}; Mon, 23 Nov 2026 08:00:00 +0000`);
    await deliver(env, `dr.peer@${remote.domain}`, [erin.mssante], mail(`dr.peer@${remote.domain}`, erin.mssante, 'Trop loin', hops).raw, remote.cert);
    t.equal(inbox(env, erin.login).length, 2);
    t.equal(inbox(env, dave.login).length, 2, 'not forwarded after MAX_FORWARD_HOPS');
    // The daemon's log lines reach us through a pipe, a moment after the 250.
    await waitUntil('the log line', () => daemon.logs().some((l) => l.msg === 'message not forwarded' && l.box === erin.mssante && l.outcome === 'too-many-hops'));
  });

  await t.test('a target is checked again when used: a suspended box gets no copy', async (t) => {
    await submit(env, carol.login, carol.mssante, [hugo.mssante], mail(carol.mssante, hugo.mssante, 'Pour Hugo').raw);
    t.equal(inbox(env, hugo.login).length, 1);
    t.equal(inbox(env, ivan.login).length, 0);
    t.match(JSON.parse(audits(env, 'forward').at(-1)!.detail), { box: hugo.mssante, skipped: [{ target: ivan.mssante, reason: 'no active box has this address' }] });
  });

  await t.test('automatic reply: once per sender within its period, RFC 3834 headers', async (t) => {
    const first = mail(carol.mssante, frank.mssante, 'Demande d’avis');
    await submit(env, carol.login, carol.mssante, [frank.mssante], first.raw);
    t.equal(inbox(env, frank.login).length, 1);
    const replies = inbox(env, carol.login);
    t.equal(replies.length, 1, 'Carol (local sender) gets the reply in her INBOX, committed with the delivery');
    const reply = await simpleParser(replies[0]);
    t.match(replies[0].toString('utf8'), /^Return-Path: <>\r\n/, 'sent from the null reverse-path');
    t.equal(reply.from?.value[0].address, frank.mssante, 'From: the box');
    t.equal(reply.to && !Array.isArray(reply.to) ? reply.to.value[0].address : null, carol.mssante);
    t.equal(reply.subject, 'Absent jusqu’au 30 novembre');
    t.equal(reply.headers.get('auto-submitted'), 'auto-replied');
    t.equal(reply.inReplyTo, first.messageId);
    t.match(String(reply.references), first.messageId);
    t.match(reply.text, /Je suis absent jusqu’au 30 novembre\.\nEn cas d’urgence/);

    await submit(env, carol.login, carol.mssante, [frank.mssante], mail(carol.mssante, frank.mssante, 'Relance').raw);
    t.equal(inbox(env, frank.login).length, 2);
    t.equal(inbox(env, carol.login).length, 1, 'no second reply to the same sender within the period');

    // A remote sender, through the MTA: the reply goes out through the queue, from <>.
    const before = peer.messages.length;
    const sender = `dr.peer@${remote.domain}`;
    await deliver(env, sender, [frank.mssante], mail(sender, frank.mssante, 'Question').raw, remote.cert);
    const [out] = (await peer.waitFor(before + 1)).slice(before);
    t.equal(out.from, '', 'MAIL FROM:<>');
    t.same(out.to.map((r) => r.address), [sender]);
    t.match(out.raw.toString('utf8'), /^Auto-Submitted: auto-replied\r\n/m);
    t.match(out.raw.toString('utf8'), new RegExp(`^From: <${frank.mssante}>\\r\\n`, 'm'));
    await deliver(env, sender, [frank.mssante], mail(sender, frank.mssante, 'Question bis').raw, remote.cert);
    t.equal(audits(env, 'autoreply').length, 2, 'one reply per sender: Carol and the remote doctor');
  });

  await t.test('never to automatic mail, bulk or list mail, the null sender, or outside its dates', async (t) => {
    const robot = `robot@${remote.domain}`;
    const cases: Array<[string, string, string[]]> = [
      ['auto-generated', robot, ['Auto-Submitted: auto-generated']],
      ['auto-replied', `autre@${remote.domain}`, ['Auto-Submitted: auto-replied']],
      ['bulk', `lettre@${remote.domain}`, ['Precedence: bulk']],
      ['list', `liste@${remote.domain}`, ['List-Id: <infos.ars.example>']],
      ['null sender', '', []],
    ];
    for (const [label, from, extra] of cases) {
      const response = await deliver(env, from, [frank.mssante], mail(from || `mailer-daemon@${remote.domain}`, frank.mssante, label, extra).raw, remote.cert);
      t.match(response, /^250 /, `${label}: delivered`);
    }
    t.equal(audits(env, 'autoreply').length, 2, 'none of them answered');
    await submit(env, carol.login, carol.mssante, [gina.mssante], mail(carol.mssante, gina.mssante, 'Avant l’absence').raw);
    t.equal(inbox(env, gina.login).length, 1);
    t.equal(audits(env, 'autoreply').length, 2, 'an automatic reply whose period has not started does not answer');
    t.equal(inbox(env, carol.login).length, 1);
  });

  await t.test('after the period (autoreply.intervalDays, 7 by default) the same sender is answered again', async (t) => {
    withDb(
      env,
      (db) => db.prepare(`UPDATE autoreply_log SET sent_at = ? WHERE sender = ?`).run(Date.now() - 8 * 86_400_000, carol.mssante),
      false,
    );
    await submit(env, carol.login, carol.mssante, [frank.mssante], mail(carol.mssante, frank.mssante, 'Une semaine plus tard').raw);
    t.equal(inbox(env, carol.login).length, 2, 'a new reply');
    t.equal(audits(env, 'autoreply').length, 3);
  });
});
