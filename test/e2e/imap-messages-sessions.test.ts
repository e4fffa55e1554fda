// Several sessions on one mailbox (RFC 3501 sections 5.2, 7.4.1; RFC 2177): a flag change and an
// expunge made in one session reach the other as FETCH and EXPUNGE at the moments the RFC allows
// (never an EXPUNGE during a non-UID FETCH, STORE or SEARCH), at once during IDLE; new mail
// delivered by SMTP wakes a session in IDLE. Also the message commands in a shared ORG box (R6).
import t from 'tap';
import { cli, createPer, makeEnv, startDaemon } from '../helpers/daemon';
import { luhnCompleted } from '../helpers/fixtures';
import { connectedClient, deliver, peerOperator, RawImap, textMessage } from '../helpers/imap';

t.test('two sessions on one mailbox', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const org = cli(env, [
    'org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', 'pharmacie@mssd-test.mssante.fr',
    '--name', 'Pharmacie centrale', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001',
  ]);
  t.equal(org.status, 0, org.stderr);
  t.equal(cli(env, ['org', 'add-member', 'pharmacie@mssd-test.mssante.fr', bob.login]).status, 0);
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const peer = peerOperator(env);
  const sender = `dr.peer@${peer.domain}`;
  const send = (to: string, subject: string) =>
    deliver(env, sender, [to], textMessage(sender, to, subject, `Texte: ${subject}`, `${subject.replace(/\W/g, '')}.${Date.now()}@peer.example`), peer.cert);
  for (const subject of ['Un', 'Deux', 'Trois']) await send(alice.mssante, subject);

  await t.test('flag changes and expunges reach the other session when the RFC allows', async (t) => {
    const a = await RawImap.connect(env, alice.login);
    const b = await RawImap.connect(env, alice.login);
    t.teardown(() => {
      a.close();
      b.close();
    });
    await a.command('SELECT INBOX');
    await b.command('SELECT INBOX');
    await b.command('STORE 1 +FLAGS.SILENT (\\Flagged $label1)');
    t.match(
      (await a.command('NOOP')).all,
      /^\* FLAGS \([^)]*\$label1\)\r\n\* OK \[PERMANENTFLAGS [^\r]*\r\n\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \$label1 \\Recent\)\)\r\nTAG OK NOOP completed\r\n$/,
      'a flag change arrives as FETCH, after FLAGS naming the new keyword',
    );

    await b.command('STORE 2 +FLAGS.SILENT (\\Deleted)');
    await b.command('EXPUNGE');
    const fetch = await a.command('FETCH 1:3 (FLAGS)');
    t.notMatch(fetch.all, /EXPUNGE/, 'no EXPUNGE during FETCH');
    t.equal(fetch.untagged.length, 3, 'the client still sees three messages');
    const store = await a.command('STORE 3 +FLAGS (\\Answered)');
    t.equal(store.all, '* 3 FETCH (FLAGS (\\Answered \\Recent))\r\nTAG OK STORE completed\r\n', 'no EXPUNGE during STORE, and 3 is still 3');
    const search = await a.command('SEARCH ANSWERED');
    t.equal(search.all, '* SEARCH 3\r\nTAG OK SEARCH completed\r\n', 'no EXPUNGE during SEARCH');
    const body = await a.command('FETCH 2 BODY.PEEK[TEXT]');
    t.match(body.tagged.text, /^\S+ NO \[EXPUNGEISSUED\] /, 'the expunged message has no data left');
    t.equal((await a.command('NOOP')).all, '* 2 EXPUNGE\r\nTAG OK NOOP completed\r\n', 'then the EXPUNGE comes');
    t.equal((await a.command('FETCH 2 UID')).all, '* 2 FETCH (UID 3)\r\nTAG OK FETCH completed\r\n', 'numbering follows');

    await b.command('UID STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.command('UID EXPUNGE 1');
    const uidFetch = await a.command('UID FETCH 1:* (FLAGS)');
    t.equal(uidFetch.all, '* 1 EXPUNGE\r\n* 1 FETCH (UID 3 FLAGS (\\Answered \\Recent))\r\nTAG OK UID FETCH completed\r\n', 'a UID FETCH may carry the EXPUNGE, first');
    const moved = await b.command('UID MOVE 3 Corbeille');
    t.match(moved.all, /^\* OK \[COPYUID \d+ 3 \d+\] Moved\r\n\* 1 EXPUNGE\r\nTAG OK UID MOVE completed\r\n$/);
    t.equal((await a.command('CHECK')).all, '* 1 EXPUNGE\r\nTAG OK CHECK completed\r\n');
  });

  await t.test('IDLE: other sessions\' changes and SMTP deliveries arrive at once', async (t) => {
    const a = await RawImap.connect(env, alice.login);
    const b = await RawImap.connect(env, alice.login);
    t.teardown(() => {
      a.close();
      b.close();
    });
    for (const subject of ['Quatre', 'Cinq']) await send(alice.mssante, subject);
    const selected = await a.command('SELECT INBOX');
    t.match(selected.all, /\* 2 EXISTS/);
    await b.command('SELECT INBOX');
    const from = a.responses.length;
    a.write('I1 IDLE\r\n');
    await a.waitFor((r) => r.text.startsWith('+ '), 5000, from);

    await b.command('STORE 1 +FLAGS.SILENT (\\Seen)');
    t.match((await a.waitFor((r) => /FETCH/.test(r.text), 5000, from)).text, /^\* 1 FETCH \(UID \d+ FLAGS \(\\Seen \\Recent\)\)\r\n$/, 'flag change during IDLE');
    await b.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.command('EXPUNGE');
    t.equal((await a.waitFor((r) => /EXPUNGE/.test(r.text), 5000, from)).text, '* 1 EXPUNGE\r\n', 'expunge during IDLE');

    const latencies: number[] = [];
    for (const subject of ['Six', 'Sept', 'Huit']) {
      const mark = a.responses.length;
      await send(alice.mssante, subject);
      const acknowledged = performance.now();
      const exists = await a.waitFor((r) => /EXISTS/.test(r.text), 5000, mark);
      latencies.push(exists.at - acknowledged);
    }
    t.match(a.responses.slice(from).map((r) => r.text).join(''), /\* 2 EXISTS\r\n.*\* 3 EXISTS\r\n.*\* 4 EXISTS\r\n/s, 'EXISTS for each delivery');
    t.comment(`SMTP 250 to untagged EXISTS: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    t.ok(latencies.every((ms) => ms < 2000), `EXISTS within 2 s of the 250 (measured: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms)`);
    a.write('DONE\r\n');
    await a.waitFor((r) => r.text.startsWith('I1 OK'), 5000, from);
    t.equal((await a.command('FETCH 1:* (UID)')).untagged.length, 4);
  });

  await t.test('imapflow: events from another session and from SMTP while idling', async (t) => {
    const watcher = await connectedClient(t, env, alice.login);
    const actor = await connectedClient(t, env, alice.login);
    await watcher.mailboxOpen('INBOX');
    await actor.mailboxOpen('INBOX');
    const events: string[] = [];
    watcher.on('exists', (event: { count: number }) => events.push(`exists ${event.count}`));
    watcher.on('expunge', (event: { seq: number }) => events.push(`expunge ${event.seq}`));
    watcher.on('flags', (event: { seq: number; flags: Set<string> }) => events.push(`flags ${event.seq} ${[...event.flags].sort().join(' ')}`));
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 100 && !events.some((event) => pattern.test(event)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      return events.find((event) => pattern.test(event));
    };
    const idling = watcher.idle();
    await actor.messageFlagsAdd('2', ['$label2']);
    t.ok(await until(/^flags 2 \$label2/), 'flags event');
    await send(alice.mssante, 'Neuf');
    t.ok(await until(/^exists 5$/), 'exists event from an SMTP delivery');
    await actor.messageDelete('1');
    t.ok(await until(/^expunge 1$/), 'expunge event');
    await watcher.noop();
    await idling;
    t.equal(watcher.mailbox && watcher.mailbox.exists, 4);
  });

  await t.test('a member works in the shared ORG box with the same commands (R6)', async (t) => {
    await send('pharmacie@mssd-test.mssante.fr', 'Ordonnance');
    const client = await connectedClient(t, env, bob.login);
    const shared = 'Partagé/pharmacie@mssd-test.mssante.fr/INBOX';
    const mailbox = await client.mailboxOpen(shared);
    t.equal(mailbox.exists, 1);
    const message = await client.fetchOne('1', { envelope: true, source: true });
    t.equal(message && message.envelope?.subject, 'Ordonnance');
    t.ok(await client.messageFlagsAdd('1', ['\\Seen', '$Traite']));
    t.same(await client.search({ keyword: '$Traite' }), [1]);
    const appended = await client.append(shared, textMessage('pharmacie@mssd-test.mssante.fr', sender, 'Note', 'Préparée.', 'note.1@mssd-test.mssante.fr'), ['\\Seen']);
    t.equal(appended && appended.uid, 2);
    const copied = await client.messageCopy('1', 'INBOX');
    t.ok(copied && copied.uidMap?.size === 1, 'copied into the member\'s own INBOX');
    const moved = await client.messageMove('2', 'Partagé/pharmacie@mssd-test.mssante.fr/Corbeille');
    t.ok(moved && moved.uidMap?.size === 1, 'moved into the ORG\'s Trash');
    t.equal(client.mailbox && client.mailbox.exists, 1);
  });
});
