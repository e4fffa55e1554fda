// Notices (R9): what a notice says (nothing of the health message, no link) and how the sender
// treats the relay: sent and audited, postponed when the relay cannot be reached (the whole pass
// waits), closed on a 5xx refusal.
import t from 'tap';
import { simpleParser } from 'mailparser';
import { buildNoticeMessage, NoticeSender } from '../../src/delivery/notices';
import { CommitBatcher } from '../../src/store/commit-batcher';
import { insertNotice, listNotices, type Notice } from '../../src/store/notices';
import { freshDb, memoryLogger, tempDir, testConfig } from '../jobs/fixtures';

const base = { id: 7, accountId: 1, recipient: 'alice@exemple.fr', createdAt: 0, dueAt: 0, attempts: 0, sentAt: null };
const at = Date.UTC(2026, 10, 23, 9, 5); // 10:05 in Paris

t.test('texts: which box, when, and nothing else', async (t) => {
  const config = testConfig(tempDir());
  const one: Notice = { ...base, kind: 'reception', payload: { box: 'alice@exemple.mssante.fr', count: 1, first: at, last: at } };
  const parsed = await simpleParser(buildNoticeMessage(one, config, new Date(at)));
  t.equal(parsed.from?.value[0].address, config.notifications.from);
  t.equal(parsed.headers.get('auto-submitted'), 'auto-generated');
  t.match(parsed.text, /Votre boîte aux lettres MSSanté alice@exemple\.mssante\.fr a reçu un nouveau message le lundi 23 novembre 2026 (à )?10:05\./);
  t.match(parsed.text, /Your MSSanté mailbox alice@exemple\.mssante\.fr received a new message on Monday(,)? 23 November 2026.* 10:05 \(Europe\/Paris time\)/);
  t.notMatch(parsed.text, /https?:|www\./);

  const burst: Notice = { ...base, kind: 'reception', payload: { box: 'alice@exemple.mssante.fr', count: 3, first: at, last: at + 120_000 } };
  t.match((await simpleParser(buildNoticeMessage(burst, config))).text, /a reçu 3 nouveaux messages entre 10:05 et 10:07 le lundi 23 novembre 2026/);

  const none: Notice = { ...base, kind: 'digest', payload: { box: 'f@exemple.mssante.fr', day: '2026-11-23', count: 0, since: at - 86_400_000, until: at } };
  t.match((await simpleParser(buildNoticeMessage(none, config))).text, /n’a reçu aucun nouveau message/);
  const two: Notice = { ...none, payload: { ...none.payload, count: 2 } } as Notice;
  t.match((await simpleParser(buildNoticeMessage(two, config))).subject, /2 nouveaux messages/);

  const opening: Notice = { ...base, kind: 'opening', payload: { box: 'erin@exemple.mssante.fr', messageId: '<m.1@client>', sentAt: at, recipients: 2, openedAt: at + 60_000 } };
  const text = (await simpleParser(buildNoticeMessage(opening, config))).text ?? '';
  t.match(text, /a été ouvert par ses 2 destinataires de votre opérateur/);
  t.match(text, /<m\.1@client>/);
});

interface Call {
  to: string[];
}

function stubTransport(behaviour: (call: Call) => Promise<{ response: string }>) {
  const calls: Call[] = [];
  return {
    calls,
    transport: {
      sendMail: (options: { envelope: { to: string[] } }) => {
        const call = { to: options.envelope.to };
        calls.push(call);
        return behaviour(call);
      },
      close: () => undefined,
    } as never,
  };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('sender: a relay that cannot be reached postpones the whole pass; then everything goes', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const config = testConfig(dir, (c) => (c.notifications.retryDelays = ['1s']));
  const { log, lines } = memoryLogger();
  const account = Number(db.prepare(`INSERT INTO accounts (type, status, login, created_at, updated_at) VALUES ('PER', 'active', 'a@exemple.fr', 0, 0)`).run().lastInsertRowid);
  for (const n of [1, 2, 3]) {
    insertNotice(db, { kind: 'reception', accountId: account, recipient: `r${n}@exemple.fr`, payload: { box: 'a@exemple.mssante.fr', count: 1, first: 0, last: 0 }, at: 0 });
  }
  let down = true;
  const { calls, transport } = stubTransport(async () => {
    if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ESOCKET' });
    return { response: '250 2.0.0 queued' };
  });
  const sender = new NoticeSender({ config, log, db, batcher: new CommitBatcher(db), transport });
  t.teardown(() => sender.stop(1_000));
  sender.start();
  await until('the first pass', () => listNotices(db).every((n) => n.attempts === 1));
  t.equal(calls.length, 1, 'one attempt at a dead relay, not one per notice');
  t.ok(listNotices(db).every((n) => n.sentAt === null && n.dueAt > Date.now()), 'all wait for the retry delay');
  t.equal(lines.filter((l) => l.msg === 'notice not sent; will retry').length, 3);
  down = false;
  await until('all sent', () => listNotices(db).every((n) => n.sentAt !== null));
  t.same(calls.slice(1).map((c) => c.to[0]).sort(), ['r1@exemple.fr', 'r2@exemple.fr', 'r3@exemple.fr']);
  t.equal((db.prepare(`SELECT COUNT(*) AS n FROM audit WHERE event = 'notice' AND outcome = 'sent'`).get() as { n: number }).n, 3);
});

t.test('sender: a 5xx refusal of the recipient closes the notice', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const config = testConfig(dir);
  const { log, lines } = memoryLogger();
  const account = Number(db.prepare(`INSERT INTO accounts (type, status, login, created_at, updated_at) VALUES ('PER', 'active', 'a@exemple.fr', 0, 0)`).run().lastInsertRowid);
  insertNotice(db, { kind: 'reception', accountId: account, recipient: 'gone@exemple.fr', payload: { box: 'a@exemple.mssante.fr', count: 1, first: 0, last: 0 }, at: 0 });
  const { transport } = stubTransport(async () => {
    throw Object.assign(new Error('Can\'t send mail - all recipients were rejected'), { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 no such user' });
  });
  const sender = new NoticeSender({ config, log, db, batcher: new CommitBatcher(db), transport });
  t.teardown(() => sender.stop(1_000));
  sender.start();
  await until('the refusal', () => listNotices(db)[0].sentAt !== null);
  t.match(db.prepare(`SELECT outcome, detail FROM audit WHERE event = 'notice'`).get(), { outcome: 'refused', detail: /550 5\.1\.1 no such user/ });
  t.ok(lines.some((l) => l.msg === 'notice refused for good by the notification relay'));
});
