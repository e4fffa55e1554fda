// Issue 15 finding 6 (IMAP side): a user could create folders "Partage/<org address>/…" that read
// like the shared namespace "Partagé/" once accents are lost, and BODY[1.1.1] of a single-part
// message returned its body instead of an empty section (RFC 3501 section 6.4.5).
import t from 'tap';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { RawImap } from '../helpers/imap-raw';
import { answered } from '../helpers/tap';
import { deliver, imapClient, peerOperator, textMessage } from '../helpers/imap';

t.test('IMAP hardening', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const imap = await RawImap.login(env, alice.login, TEST_PASSWORD);
  t.teardown(() => imap.command('LOGOUT').catch(() => undefined));

  await t.test('folders that read like the shared namespace are refused', async (t) => {
    for (const name of ['Partage/pharmacie@mssd-test.mssante.fr/INBOX', 'PARTAGE/x', 'partage', 'Partag&AOg-/x', 'P&AMA-rtage']) {
      const reply = await imap.command(`CREATE "${name}"`);
      t.match(reply.tagged, /^\S+ NO \[CANNOT\] "\S+" would read like the folder of the shared boxes \(BAL ORG\) where accents or case are lost: choose another name$/, `CREATE ${name}`);
    }
    t.match((await imap.command('CREATE "Partag&AOk-/x"')).tagged, /NO \[CANNOT\]/, 'the namespace itself stays refused');
    t.match((await imap.command('CREATE "Dossiers/Partage"')).tagged, /OK/, 'deeper levels are free');
    t.match((await imap.command('CREATE "Partages medicaux"')).tagged, /OK/, 'other names starting alike are free');
    t.match((await imap.command('CREATE "A renommer"')).tagged, /OK/);
    const rename = await imap.command('RENAME "A renommer" "Partage/pharmacie@mssd-test.mssante.fr/INBOX"');
    t.match(rename.tagged, /NO \[CANNOT\] "Partage" would read like the folder of the shared boxes/, 'RENAME too');
    const list = await imap.command('LIST "" "*"');
    t.notMatch(list.untagged.join('\n'), /"Partage("|\/)/i, 'nothing was created');
  });

  await t.test('BODY[1.1.1] of a single-part message is empty; BODY[1] is its body', async (t) => {
    const peer = peerOperator(env);
    await deliver(env, `dr.peer@${peer.domain}`, [alice.mssante], textMessage(`dr.peer@${peer.domain}`, alice.mssante, 'Simple', 'corps du message', '<simple@peer.example>'), peer.cert);
    t.match((await imap.command('SELECT INBOX')).tagged, /OK/);
    const fetched = await imap.command('FETCH 1 (BODY.PEEK[1] BODY.PEEK[1.1.1] BODY.PEEK[1.1])');
    const line = fetched.untagged.join('\n');
    t.match(line, /BODY\[1\] \{\d+\}\r?\n?corps du message/, 'part 1: the body');
    t.match(line, /BODY\[1\.1\.1\] (""|\{0\})/, 'part 1.1.1: empty');
    t.match(line, /BODY\[1\.1\] (""|\{0\})/, 'part 1.1: empty');

    const client = imapClient(env, alice.login); // a real client sees the same
    await client.connect();
    t.teardown(() => client.logout().catch(() => undefined));
    await client.mailboxOpen('INBOX');
    const message = answered(await client.fetchOne('1', { bodyParts: ['1', '1.1.1'] }), 'FETCH');
    t.match(message.bodyParts?.get('1')?.toString(), /corps du message/);
    t.equal(message.bodyParts?.get('1.1.1')?.length ?? 0, 0);
  });
});
