// The router's box rules (R7–R9) on a real store, without sockets: a failing rule is undone alone
// and the delivery stands; one copy per box and delivery; forward chains; R1/R2 checked again when
// a forward or an automatic reply is used.
import t from 'tap';
import type { TapTest } from '../helpers/tap';
import { Router, type InboundEnvelope } from '../../src/delivery/router';
import { MailboxChanges } from '../../src/store/mailbox-changes';
import { createPersonAccount, updateAccountSettings } from '../../src/store/accounts';
import { setAutoreply } from '../../src/store/box-rules';
import { findBox } from '../../src/store/boxes';
import { CommitBatcher } from '../../src/store/commit-batcher';
import type { Db } from '../../src/store/database';
import { listNotices } from '../../src/store/notices';
import { freshDb, memoryLogger, tempDir, testConfig } from '../jobs/fixtures';

let serial = 0;

function world(t: TapTest) {
  const dir = tempDir('mssd-router-');
  const db = freshDb(t, dir);
  const config = testConfig(dir);
  const router = new Router(db, new CommitBatcher(db), config, new MailboxChanges());
  const { log, lines } = memoryLogger();
  router.log = log;
  const person = (first: string, type: 'PER' | 'MED' = 'PER') => {
    createPersonAccount(db, config.domains, {
      type,
      login: `${first}@exemple.fr`,
      firstName: first,
      lastName: 'Test',
      ...(type === 'PER' ? { rpps: `1000000000${++serial % 10}` } : {}),
    });
    return { login: `${first}@exemple.fr`, mssante: type === 'PER' ? `${first}.test@exemple.mssante.fr` : `${first}@exemple.fr` };
  };
  const deliver = (mailFrom: string, to: string[], extra: string[] = []) => {
    const messageId = `<r${++serial}@client.example>`;
    const raw = Buffer.from(
      [`Return-Path: <${mailFrom}>`, `From: <${mailFrom}>`, `To: ${to.map((a) => `<${a}>`).join(', ')}`, 'Subject: Compte rendu', `Message-ID: ${messageId}`, ...extra, '', 'texte', ''].join('\r\n'),
    );
    const envelope: InboundEnvelope = {
      source: 'mta',
      queueId: `Q${serial}`,
      receivedAt: Date.now(),
      peerAddress: '127.0.0.1',
      helo: 'peer',
      tlsProtocol: null,
      clientDn: null,
      authLogin: null,
      mailFrom,
      envid: null,
      ret: null,
      recipients: to.map((address) => ({ address, orcpt: null, notify: null, box: findBox(db, address)! })),
    };
    return router.deliver(envelope, raw);
  };
  const inbox = (login: string) =>
    (
      db
        .prepare(
          `SELECT b.content FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
           JOIN bodies b ON b.hash = m.body_hash WHERE a.login = ? AND mb.name = 'INBOX' ORDER BY m.uid`,
        )
        .all(login) as Array<{ content: Buffer }>
    ).map((row) => row.content.toString('utf8'));
  const forward = (login: string, target: string) => {
    const id = findBox(db, login)!.accountId;
    db.prepare('INSERT INTO forwards (account_id, target, created_at) VALUES (?, ?, 0)').run(id, target);
  };
  return { db, config, router, lines, person, deliver, inbox, forward };
}

const queued = (db: Db) => db.prepare('SELECT kind, mail_from AS mailFrom FROM outbound_queue ORDER BY id').all() as Array<{ kind: string; mailFrom: string }>;

t.test('a rule that throws is undone alone: the delivery and the other rules stand', async (t) => {
  const w = world(t);
  const alice = w.person('alice');
  const bob = w.person('bob');
  w.forward(alice.login, bob.mssante);
  updateAccountSettings(w.db, alice.login, { notifyEach: true });
  // The forward rule of the router's box-rule runner (src/delivery/box-rule-runner.ts).
  const internals = (w.router as unknown as { rules: { forward: (...args: unknown[]) => void } }).rules;
  const original = internals.forward.bind(internals);
  internals.forward = (...args: unknown[]) => {
    original(...args); // writes Bob's copy...
    throw new Error('boom'); // ...then fails
  };
  const result = await w.deliver('dr@peer.fr', [alice.mssante]);
  t.equal(result.appended.length, 1, 'delivered');
  t.equal(w.inbox(alice.login).length, 1);
  t.equal(w.inbox(bob.login).length, 0, "the failed forward's copy was rolled back with it");
  t.equal(listNotices(w.db, { kind: 'reception' }).length, 1, 'the reception notice stands');
  t.match(w.lines.find((l) => l.msg === 'box rule failed; the message was delivered without it'), { rule: 'forward', box: alice.mssante });
});

t.test('one copy per box and delivery; a chain carries one trace header per hop', async (t) => {
  const w = world(t);
  const [a, b, c] = [w.person('anne'), w.person('bruno'), w.person('chloe')];
  w.forward(a.login, b.mssante);
  w.forward(b.login, c.login);
  await w.deliver('dr@peer.fr', [a.mssante, b.mssante]);
  t.equal(w.inbox(b.login).length, 1, 'Bruno, recipient and forward target, has one copy');
  t.equal(w.inbox(c.login).length, 1, 'Chloé gets Bruno’s forward');
  await w.deliver('dr@peer.fr', [a.mssante]);
  const chained = w.inbox(c.login)[1];
  t.match(chained, new RegExp(`^Return-Path: <${b.mssante}>\\r\\nX-MSSD-Forwarded-By: <${b.mssante}>; hop=2; .*\\r\\n(.*\\r\\n)*X-MSSD-Forwarded-By: <${a.mssante}>; hop=1; `));
  t.equal(w.inbox(c.login).length, 2);
});

t.test('R1/R2 checked again when a forward or an automatic reply is used', async (t) => {
  const w = world(t);
  const med = w.person('marie', 'MED');
  const per = w.person('paul');
  const local = w.person('lea');
  // Settings the CLI would refuse today (a MED forwarding outside, a domain out of the allowlist).
  w.forward(med.login, 'secretariat@peer.fr');
  w.forward(per.login, 'ailleurs@hors-espace.fr');
  await w.deliver(local.mssante, [med.login, per.mssante]);
  t.same(queued(w.db), [], 'nothing leaves');
  const skipped = w.lines.filter((l) => l.msg === 'message not forwarded').map((l) => (l.skipped as Array<{ reason: string }>)[0].reason);
  t.match(skipped, [/BAL MED account may only write to users of this operator/, /not in the MSSante trust space/]);

  const now = Date.now();
  setAutoreply(w.db, per.mssante, { startAt: now - 60_000, endAt: now + 3_600_000, subject: 'Absent', body: 'Absent.' });
  await w.deliver('dr@hors-espace.fr', [per.mssante]);
  t.same(queued(w.db), [], 'no reply to a sender outside the trust space (R1)');
  t.match(w.lines.filter((l) => l.msg === 'automatic reply not sent').at(-1), { outcome: 'refused', reason: /trust space/ });
  await w.deliver(local.mssante, [per.mssante]);
  t.equal(w.inbox(local.login).length, 1, 'a local sender is answered');
  t.match(w.inbox(local.login)[0], /^Return-Path: <>\r\nReceived: by .*\r\n\t.*\r\nFrom: <paul\.test@exemple\.mssante\.fr>\r\n/);
});
