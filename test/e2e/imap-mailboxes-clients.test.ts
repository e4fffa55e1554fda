// Mailbox commands as real clients send them: a Thunderbird-like session (lower-case commands,
// AUTHENTICATE PLAIN with SASL-IR, ID, NAMESPACE, LIST (SPECIAL-USE), LSUB, STATUS on every
// folder, SELECT (CONDSTORE), UID FETCH ... (CHANGEDSINCE), IDLE), an Outlook-like one (LOGIN,
// LIST "" "*", SELECT INBOX, CLOSE, LOGOUT), and Python's imaplib as a second, independent client.
import t from 'tap';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { peerSender } from '../helpers/imap-mailboxes';
import { RawImap } from '../helpers/imap-raw';

const pythonScript = path.join(__dirname, '..', 'helpers', 'imaplib-scenarios.py');

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', [pythonScript, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('real client sequences', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const send = peerSender(env);
  await send(alice.mssante, 'Compte rendu 1');
  await send(alice.mssante, 'Compte rendu 2');

  await t.test('Thunderbird-like session', async (t) => {
    const tb = await RawImap.starttls(env);
    t.teardown(() => tb.close());
    const caps = await tb.command('capability');
    t.match(caps.untagged[0], /^\* CAPABILITY .*AUTH=PLAIN/);
    const plain = Buffer.from(`\0${alice.login}\0${TEST_PASSWORD}`).toString('base64');
    t.match((await tb.command(`authenticate PLAIN ${plain}`)).tagged, /OK \[CAPABILITY [^\]]*LIST-EXTENDED[^\]]*\] Logged in/);
    const id = await tb.command('ID ("name" "Thunderbird" "version" "128.5.0")');
    t.match(id.untagged[0], /^\* ID \("name" "mssd"/);
    const namespace = await tb.command('namespace');
    t.same(namespace.untagged, ['* NAMESPACE (("" "/")) NIL (("Partag&AOk-/" "/"))']);
    const special = await tb.command('list (special-use) "" "*"');
    t.same(special.untagged, [
      '* LIST (\\HasNoChildren \\Drafts) "/" "Brouillons"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Corbeille"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Envoy&AOk-s"',
    ]);
    const subscribed = await tb.command('list (subscribed) "" "*"');
    t.equal(subscribed.untagged.length, 4);
    const lsub = await tb.command('lsub "" "*"');
    t.same(lsub.untagged, ['* LSUB () "/" "INBOX"', '* LSUB () "/" "Brouillons"', '* LSUB () "/" "Corbeille"', '* LSUB () "/" "Envoy&AOk-s"']);
    const all = await tb.command('list "" "*"');
    const names = all.untagged.map((line) => /"\/" (".*")$/.exec(line)![1]);
    for (const name of names) {
      const status = await tb.command(`STATUS ${name} (UIDNEXT MESSAGES UNSEEN RECENT HIGHESTMODSEQ)`);
      t.match(status.untagged[0], new RegExp(`^\\* STATUS ${name.replace(/[&()]/g, '\\$&')} \\(UIDNEXT \\d+ MESSAGES \\d+ UNSEEN \\d+ RECENT \\d+ HIGHESTMODSEQ \\d+\\)$`), `STATUS ${name}`);
    }
    const inboxStatus = await tb.command('STATUS "INBOX" (MESSAGES UNSEEN)');
    t.equal(inboxStatus.untagged[0], '* STATUS "INBOX" (MESSAGES 2 UNSEEN 2)');

    const select = await tb.command('select "INBOX" (CONDSTORE)');
    t.match(select.tagged, /OK \[READ-WRITE\]/);
    t.ok(select.untagged.includes('* 2 EXISTS'));
    t.ok(select.untagged.includes('* OK [UNSEEN 1] First message not yet read'));
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(select.untagged.join('\n'))![1]);
    t.ok(highest >= 1);

    const fetch = await tb.command('UID fetch 1:* (FLAGS) (CHANGEDSINCE 1)');
    t.match(fetch.tagged, /OK/);
    t.equal(fetch.untagged.length, 2, 'both messages changed since MODSEQ 1');
    for (const line of fetch.untagged) t.match(line, /^\* \d+ FETCH \(.*UID \d+.*FLAGS \(\\Recent\).*MODSEQ \(\d+\).*\)$/);
    const none = await tb.command(`UID fetch 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
    t.same(none.untagged, [], 'nothing changed since HIGHESTMODSEQ');

    const idleTag = tb.nextTag();
    tb.write(`${idleTag} IDLE\r\n`);
    t.equal(await tb.line(), '+ idling');
    await send(alice.mssante, 'Compte rendu 3');
    t.equal(await tb.line(), '* 3 EXISTS', 'IDLE woken by the SMTP delivery');
    t.equal(await tb.line(), '* 3 RECENT', 'all three are new to this session');
    tb.write('DONE\r\n');
    t.match((await tb.until(idleTag)).tagged, /OK IDLE terminated/);
    const logout = await tb.command('logout');
    t.same(logout.untagged, ['* BYE mssd logging out']);
  });

  await t.test('Outlook-like session', async (t) => {
    const ol = await RawImap.starttls(env);
    t.teardown(() => ol.close());
    t.match((await ol.command(`LOGIN "${alice.login}" "${TEST_PASSWORD}"`)).tagged, /OK/);
    const list = await ol.command('LIST "" "*"');
    t.equal(list.untagged.length, 4);
    t.ok(list.untagged.includes('* LIST (\\HasNoChildren \\Sent) "/" "Envoy&AOk-s"'));
    const select = await ol.command('SELECT "INBOX"');
    t.match(select.tagged, /OK \[READ-WRITE\] SELECT completed/);
    t.ok(select.untagged.includes('* 3 EXISTS'));
    t.match((await ol.command('CLOSE')).tagged, /OK CLOSE completed$/);
    const logout = await ol.command('LOGOUT');
    t.same(logout.untagged, ['* BYE mssd logging out']);
    t.match(logout.tagged, /OK LOGOUT completed/);
  });

  await t.test("Python's imaplib", async (t) => {
    const run = await runPython(['127.0.0.1', String(env.ports.imap), String(env.ports.imaps), env.caFile, alice.login, TEST_PASSWORD]);
    t.equal(run.code, 0, `python3 ran: ${run.stderr}`);
    const r = JSON.parse(run.stdout);
    t.ok(r.capabilities_before_tls.includes('LOGINDISABLED') && r.capabilities_before_tls.includes('STARTTLS'), 'no login before TLS');
    t.ok(r.capabilities_after_tls.includes('AUTH=PLAIN'));
    t.equal(r.login, 'OK');
    t.equal(r.list.typ, 'OK');
    t.ok(r.list.lines.includes('(\\HasNoChildren \\Sent) "/" "Envoy&AOk-s"'), 'Sent with its special use');
    t.equal(r.create, 'OK');
    t.match(r.create_again[0], /^\[ALREADYEXISTS\] A mailbox named "Dossier imaplib\/Resultats" \(Dossier imaplib\/R&AOk-sultats\) already exists$/);
    const statuses = r.status_all as Record<string, { typ: string; data: string[] }>;
    t.same(Object.keys(statuses).sort(), ['"Brouillons"', '"Corbeille"', '"Dossier imaplib"', '"Dossier imaplib/R&AOk-sultats"', '"Envoy&AOk-s"', '"INBOX"'].sort(), 'STATUS on every folder, the parent CREATE made included');
    t.match(statuses['"INBOX"'].data[0], /^"INBOX" \(MESSAGES 3 UIDNEXT 4 UNSEEN 3\)$/);
    t.equal(r.select.typ, 'OK');
    t.same(r.select.exists, ['3']);
    t.match(r.select.flags[0], /\\Seen/);
    t.equal(r.close, 'OK');
    t.equal(r.examine.typ, 'OK');
    t.same(r.examine.readonly, ['']);
    t.equal(r.select_missing, 'NO');
    t.equal(r.delete, 'OK');
    t.match(r.delete_special[0], /^\[CANNOT\] Corbeille is a special folder/);
    t.equal(r.logout, 'BYE');
    t.equal(r.imaps_login, 'OK');
    t.match(r.imaps_status[0], /^"INBOX" \(MESSAGES 3 HIGHESTMODSEQ \d+\)$/);
  });
});
