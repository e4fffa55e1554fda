// Notices with the real daemon (R9): a local smtp-server stands for the notification relay
// (notifications.smtp, test/helpers/notice-sink.ts). Reception notices without health content,
// merged for bursts, to an ORG's contact and its members unless they opted out (R18); the daily digest from the
// scheduler; opening status none → some → all as two recipients read a message over IMAP, seen by
// the sender as keywords on their Sent copy (IDLE wakes) and as one opening notice; a relay that is
// down delays notices without holding up deliveries or losing a notice.
import t, { type Test } from 'tap';
import { waitUntil } from '../helpers/wait';
import { mssdOk, person, submit, withDb, type Box } from '../helpers/boxes';
import { freePort, makeEnv, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { luhnCompleted, peerDomain } from '../helpers/fixtures';
import { connectedClient } from '../helpers/imap';
import { RawImap } from '../helpers/imap-raw';
import { startNoticeSink, type SinkMessage } from '../helpers/notice-sink';

/** Health content that must never appear in a notice. */
const SUBJECT = 'Résultats biologiques de M. Dupont';
const BODY = 'Hémoglobine 9,2 g/dL — à revoir en urgence';

let counter = 0;
function healthMessage(from: string, to: string[]): { raw: Buffer; messageId: string } {
  const messageId = `<notices.${++counter}.${Date.now()}@client.example>`;
  const raw = Buffer.from(
    [
      `From: "Dr Carole Expéditrice" <${from}>`,
      `To: ${to.map((address) => `<${address}>`).join(', ')}`,
      `Subject: ${SUBJECT}`,
      `Message-ID: ${messageId}`,
      'Date: Mon, 23 Nov 2026 09:00:00 +0100',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      BODY,
      '--b1',
      'Content-Type: application/pdf; name="bilan-dupont.pdf"',
      'Content-Disposition: attachment; filename="bilan-dupont.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 bilan').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n'),
    'utf8',
  );
  return { raw, messageId };
}

function query<T>(env: TestEnv, sql: string, ...params: unknown[]): T[] {
  return withDb(env, (db) => db.prepare(sql).all(...params) as T[]);
}

/** How many receptions a reception notice announces (French text). */
function announced(notice: SinkMessage): number {
  if (/a reçu un nouveau message/.test(notice.text)) return 1;
  const match = /a reçu (\d+) nouveaux messages/.exec(notice.text);
  return match ? Number(match[1]) : 0;
}

/** What no notice may carry: the subject, sender, body or attachment of the health message. */
function assertNoHealthContent(t: Test, notice: SinkMessage, sender: Box): void {
  const text = notice.raw.toString('utf8') + notice.text + notice.subject;
  for (const secret of ['Dupont', 'Résultats', 'Hémoglobine', 'bilan', 'Carole', sender.login, sender.mssante]) {
    t.notOk(text.includes(secret), `no "${secret}" in the notice`);
  }
  t.notMatch(text, /https?:|www\.|<a\s|href=/i, 'no link');
  t.equal(notice.headers.get('auto-submitted'), 'auto-generated');
  t.match(String((notice.headers.get('content-type') as { value?: string })?.value), /^text\/plain/);
}

t.test('notices', async (t) => {
  const sink = await startNoticeSink();
  t.teardown(() => sink.stop());
  const env = await makeEnv({
    notifications: { smtp: { host: '127.0.0.1', port: sink.port, secure: false }, mergeWindow: '3s', retryDelays: ['1s'] },
    schedules: { digest: '*/2 * * * * *' },
    // Remote recipients stay queued (nothing listens there): their opening is "unknown" anyway.
    relay: { smarthost: { host: '127.0.0.1', port: await freePort() }, retryDelays: ['1h'], maxAge: '5d' },
  });
  const [carol, alice, bob, dave, erin, frank, gina] = await Promise.all([
    person(env, 'Carol', 'Sender', '10000000001'),
    person(env, 'Alice', 'Martin', '10000000002'),
    person(env, 'Bob', 'Durand', '10000000003'),
    person(env, 'Dave', 'Petit', '10000000004'),
    person(env, 'Erin', 'Envoi', '10000000005'),
    person(env, 'Frank', 'Digest', '10000000006'),
    person(env, 'Gina', 'Panne', '10000000007'),
  ]);
  const org = { login: 'pharmacie@hopital-test.fr', mssante: 'pharmacie@mssd-test.mssante.fr' };
  await mssdOk(env, [
    'org', 'create', '--login', org.login, '--address', org.mssante, '--name', 'Pharmacie centrale',
    '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000002',
  ]);
  await Promise.all([
    mssdOk(env, ['account', 'set', alice.login, '--notify-each', 'on']),
    mssdOk(env, ['account', 'set', gina.login, '--notify-each', 'on']),
    mssdOk(env, ['account', 'set', erin.login, '--notify-opening', 'on']),
    mssdOk(env, ['org', 'add-member', org.mssante, bob.login]),
    mssdOk(env, ['org', 'add-member', org.mssante, dave.login]),
  ]);
  // R18: no switch set for the ORG's contact address nor for Bob (on by default); Dave opts out.
  await mssdOk(env, ['org', 'set-notify', org.mssante, dave.login, 'off']);
  const shownBob = JSON.parse(await mssdOk(env, ['account', 'show', bob.login, '--json']));
  t.same(shownBob.memberships, [{ org: org.mssante, notify: true }], 'account show: the per-ORG switch');
  const shownOrg = JSON.parse(await mssdOk(env, ['account', 'show', org.login, '--json']));
  t.same(shownOrg.notifications, { each: true, daily: false, opening: false }, 'account show: the contact address is on by default (R18)');
  t.same(shownOrg.members.map((m: { login: string; notify: boolean }) => [m.login, m.notify]), [[bob.login, true], [dave.login, false]]);
  t.match(await mssdOk(env, ['account', 'show', bob.login]), /member of: +pharmacie@mssd-test\.mssante\.fr \(reception notices on\)/);

  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  await t.test('a reception notice without health content; a burst makes one notice', async (t) => {
    await Promise.all([1, 2, 3].map(() => submit(env, carol.login, carol.mssante, [alice.mssante], healthMessage(carol.mssante, [alice.mssante]).raw)));
    t.equal(sink.to(alice.login).length, 0, 'the deliveries were acknowledged before any notice went out');
    t.equal(query(env, `SELECT 1 FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id WHERE a.login = ?`, alice.login).length, 3);
    const [notice] = (await sink.until('the notice to Alice', () => sink.to(alice.login).length >= 1)).filter((m) => m.to.includes(alice.login));
    t.equal(notice.from, 'ne-pas-repondre@exemple.mssante.fr', 'from notifications.from');
    t.same(notice.to, [alice.login], 'to the login address');
    t.equal(announced(notice), 3, 'three deliveries in the window: one notice for the three');
    t.match(notice.text, new RegExp(`Votre boîte aux lettres MSSanté ${alice.mssante.replace(/\./g, '\\.')} a reçu 3 nouveaux messages`));
    t.match(notice.text, /Your MSSanté mailbox .* received 3 new messages/);
    assertNoHealthContent(t, notice, carol);
    const rows = () => query<{ sent_at: number | null }>(env, `SELECT sent_at FROM notices WHERE recipient = ? AND kind = 'reception'`, alice.login);
    t.equal(rows().length, 1, 'one notice row for the burst');
    // Marked sent right after the relay's 250, which the sink has already given.
    await waitUntil('the notice marked sent', () => rows()[0].sent_at !== null);
    t.pass('marked sent');
  });

  await t.test('an ORG: notices to its contact address and to its members by default, not to one who opted out (R18)', async (t) => {
    await submit(env, carol.login, carol.mssante, [org.mssante], healthMessage(carol.mssante, [org.mssante]).raw);
    // The notice rows are committed with the delivery: who gets one is known at once.
    t.same(
      query<{ recipient: string }>(env, `SELECT recipient FROM notices WHERE kind = 'reception' AND payload LIKE ? ORDER BY recipient`, `%${org.mssante}%`).map((r) => r.recipient),
      [bob.login, org.login],
      'the contact address and Bob (no switch set); not Dave (opted out)',
    );
    await sink.until('notices to the ORG contact and Bob', () => sink.to(org.login).length === 1 && sink.to(bob.login).length === 1);
    for (const notice of [...sink.to(org.login), ...sink.to(bob.login)]) {
      t.match(notice.text, /a reçu un nouveau message/);
      t.match(notice.text, /pharmacie@mssd-test\.mssante\.fr/, 'names the ORG box');
      assertNoHealthContent(t, notice, carol);
    }
    t.equal(sink.to(dave.login).length, 0, 'no notice to Dave');
  });

  await t.test('opening status none → some → all, keywords on the Sent copy, one opening notice', async (t) => {
    const remoteRecipient = `dr.ailleurs@${peerDomain().domain}`;
    const { raw, messageId } = healthMessage(erin.mssante, [bob.mssante, dave.mssante, remoteRecipient]);
    await submit(env, erin.login, erin.mssante, [bob.mssante, dave.mssante, remoteRecipient], raw);
    // Erin's mail program files its copy in Sent, as Thunderbird and Outlook do.
    const erinImap = await connectedClient(t, env, erin.login);
    const sentFolder = (await erinImap.list()).find((box) => box.specialUse === '\\Sent')!;
    await erinImap.append(sentFolder.path, raw, ['\\Seen']);
    // A second session of Erin's, in IDLE on Sent, sees the keywords arrive.
    const watcher = await RawImap.login(env, erin.login, TEST_PASSWORD);
    t.teardown(() => watcher.close());
    t.equal((await watcher.command('SELECT "Envoy&AOk-s"')).status, 'OK');
    watcher.write('W1 IDLE\r\n');
    t.match(await watcher.line(), /^\+ /);

    const status = async () => JSON.parse(await mssdOk(env, ['message', 'status', messageId, '--json']));
    const initial = await status();
    t.equal(initial.status, 'none');
    t.same(initial.local.map((r: { address: string }) => r.address).sort(), [bob.mssante, dave.mssante].sort());
    t.same(initial.remote, [{ address: remoteRecipient, status: 'unknown' }], 'a recipient at another operator: unknown');

    // Bob reads it: STORE +FLAGS \Seen (imapflow).
    const bobImap = await connectedClient(t, env, bob.login);
    await bobImap.mailboxOpen('INBOX');
    await bobImap.messageFlagsAdd('*', ['\\Seen']);
    const some = await watcher.line();
    t.match(some, /^\* 1 FETCH \(.*FLAGS \([^)]*\$MSSOpenedSome/, 'the IDLE session of the sender sees $MSSOpenedSome');
    t.equal((await status()).status, 'some');

    // Dave reads it by fetching its body (FETCH BODY[] sets \Seen).
    const dave2 = await RawImap.login(env, dave.login, TEST_PASSWORD);
    t.teardown(() => dave2.close());
    await dave2.command('SELECT INBOX');
    t.equal((await dave2.command('FETCH 1 BODY[]')).status, 'OK');
    const all = await watcher.line();
    t.match(all, /\$MSSOpenedAll/, 'then $MSSOpenedAll');
    t.notMatch(all, /\$MSSOpenedSome/, 'and no longer $MSSOpenedSome');
    watcher.write('DONE\r\n');
    await watcher.until('W1');
    const final = await status();
    t.equal(final.status, 'all');
    const text = await mssdOk(env, ['message', 'status', messageId]);
    t.match(text, /status: all \(opened by 2 of 2 local recipient\(s\)\)/);
    t.match(text, new RegExp(`${remoteRecipient.replace(/\./g, '\\.')}  unknown \\(other operator\\)`));
    t.comment(text.trimEnd());
    t.ok(final.local.every((r: { openedAt: string | null }) => r.openedAt !== null));

    const flags = await erinImap.mailboxOpen(sentFolder.path).then(() => erinImap.fetchOne('*', { flags: true }));
    t.ok(flags && flags.flags?.has('$MSSOpenedAll'), 'imapflow sees the keyword on the Sent copy');

    const [notice] = await sink.until('the opening notice', () => sink.to(erin.login).length === 1).then(() => sink.to(erin.login));
    t.match(notice.subject, /ouvert par tous ses destinataires/);
    t.match(notice.text, new RegExp(messageId.replace(/[.<>]/g, '\\$&')), 'names the message by its Message-ID');
    t.match(notice.text, /ses 2 destinataires/);
    t.match(notice.text, /ne sont pas comptés/, 'says recipients elsewhere are not counted');
    assertNoHealthContent(t, notice, carol);

    // Opened again (unseen, then seen): the notice is not sent twice.
    await bobImap.messageFlagsRemove('*', ['\\Seen']);
    await bobImap.messageFlagsAdd('*', ['\\Seen']);
    t.equal(query(env, `SELECT 1 FROM notices WHERE kind = 'opening'`).length, 1, 'one opening notice, ever');
  });

  await t.test('the daily digest, from the scheduler (schedules.digest)', async (t) => {
    await submit(env, carol.login, carol.mssante, [frank.mssante], healthMessage(carol.mssante, [frank.mssante]).raw);
    await mssdOk(env, ['account', 'set', frank.login, '--notify-daily', 'on']);
    const [digest] = await sink.until('the digest', () => sink.to(frank.login).length === 1).then(() => sink.to(frank.login));
    t.match(digest.text, new RegExp(`Votre boîte aux lettres MSSanté ${frank.mssante.replace(/\./g, '\\.')} a reçu 1 nouveau message`));
    assertNoHealthContent(t, digest, carol);
    // Later runs of the same day queue nothing more.
    await waitUntil('a later digest run', () =>
      query<{ counts: string }>(env, `SELECT counts FROM job_runs WHERE job = 'digest' AND outcome = 'ok'`).some((r) => JSON.parse(r.counts).alreadyQueued >= 1),
    );
    t.equal(query(env, `SELECT 1 FROM notices WHERE kind = 'digest'`).length, 1, 'one digest per box and day');
  });

  await t.test('a notification relay that is down delays notices; no delivery and no notice is lost', async (t) => {
    await sink.stop();
    const before = Date.now();
    for (let i = 0; i < 2; i++) {
      t.match(await submit(env, carol.login, carol.mssante, [gina.mssante], healthMessage(carol.mssante, [gina.mssante]).raw), /^250 /, 'delivered while the relay is down');
    }
    t.equal(query(env, `SELECT 1 FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id WHERE a.login = ?`, gina.login).length, 2);
    await waitUntil('a failed attempt at the relay', () => daemon.logs().some((l) => l.msg === 'notice not sent; will retry' && l.to === gina.login));
    const waiting = query<{ attempts: number; sent_at: number | null }>(env, `SELECT attempts, sent_at FROM notices WHERE recipient = ?`, gina.login);
    t.ok(waiting.length >= 1 && waiting.every((n) => n.sent_at === null) && waiting.some((n) => n.attempts >= 1), 'the notice waits in the table');
    t.equal(sink.to(gina.login).length, 0);

    await sink.start();
    await sink.until('the delayed notices', () => sink.to(gina.login).reduce((sum, n) => sum + announced(n), 0) === 2);
    t.ok(sink.to(gina.login).every((n) => n.receivedAt > before));
    await waitUntil('every notice marked sent', () => query(env, `SELECT 1 FROM notices WHERE sent_at IS NULL AND kind <> 'digest'`).length === 0);
    t.equal(sink.to(gina.login).reduce((sum, n) => sum + announced(n), 0), 2, 'both receptions announced, none twice');
  });
});
