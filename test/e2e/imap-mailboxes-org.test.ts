// The ORG shared namespace over IMAP (R2, R6): a member sees the ORG box under
// "Partagé/<ORG address>/", announced by NAMESPACE, and works there; a non-member reaches
// nothing by any name; `mssd org remove-member` closes the ORG folder selected in the member's
// open sessions at their next command (or at once in IDLE) and the folders leave LIST.
import t from 'tap';
import { answered } from '../helpers/tap';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { luhnCompleted } from '../helpers/fixtures';
import { imapClient, peerSender } from '../helpers/imap-mailboxes';
import { RawImap } from '../helpers/imap-raw';

const ORG = 'pharmacie@mssd-test.mssante.fr';
const ORG_WIRE = 'Partag&AOk-/pharmacie@mssd-test.mssante.fr';
const ORG_INBOX = `Partagé/${ORG}/INBOX`;

t.test('ORG shared namespace', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const created = cli(env, [
    'org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', ORG, '--name', 'Pharmacie centrale',
    '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001', '--json',
  ]);
  t.equal(created.status, 0, `org create: ${created.stderr}`);
  t.equal(cli(env, ['org', 'add-member', ORG, alice.login]).status, 0, 'alice linked to the ORG');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const send = peerSender(env);
  await send(ORG, 'Ordonnance Dupont');

  await t.test('a member sees the ORG folders under the shared prefix announced by NAMESPACE', async (t) => {
    const client = await imapClient(env, alice.login, TEST_PASSWORD);
    t.teardown(() => client.logout().catch(() => undefined));
    t.same(answered(client.namespaces?.shared, 'NAMESPACE shared')[0], { prefix: 'Partag&AOk-/', delimiter: '/' }, 'NAMESPACE shared prefix (imapflow keeps it encoded)');
    const list = new Map((await client.list()).map((entry) => [entry.path, entry]));
    for (const name of ['INBOX', 'Envoyés', 'Brouillons', 'Corbeille']) t.ok(list.has(`Partagé/${ORG}/${name}`), `ORG ${name} listed`);
    t.ok(list.has('INBOX') && list.has('Envoyés'), 'her own folders too');

    const raw = await RawImap.login(env, alice.login, TEST_PASSWORD);
    t.teardown(() => raw.close());
    const root = await raw.command('LIST "" "%"');
    t.ok(root.untagged.includes('* LIST (\\Noselect \\HasChildren) "/" "Partag&AOk-"'), 'the shared root is a \\Noselect node');
    const shared = await raw.command('LIST "" "Partag&AOk-/*" RETURN (SPECIAL-USE)');
    t.same(shared.untagged, [
      `* LIST (\\Noselect \\HasChildren) "/" "${ORG_WIRE}"`,
      `* LIST (\\HasNoChildren) "/" "${ORG_WIRE}/Brouillons"`,
      `* LIST (\\HasNoChildren) "/" "${ORG_WIRE}/Corbeille"`,
      `* LIST (\\HasNoChildren) "/" "${ORG_WIRE}/Envoy&AOk-s"`,
      `* LIST (\\HasNoChildren) "/" "${ORG_WIRE}/INBOX"`,
    ], "the ORG's special folders carry no special use (the member's own Sent stays hers)");
    const namespace = await raw.command('NAMESPACE');
    t.same(namespace.untagged, ['* NAMESPACE (("" "/")) NIL (("Partag&AOk-/" "/"))']);
    const sharedRoot = await raw.command('LIST "Partag&AOk-/x" ""');
    t.same(sharedRoot.untagged, ['* LIST (\\Noselect) "/" "Partag&AOk-/"'], 'LIST ref "" gives the shared root');

    const status = answered(await client.status(ORG_INBOX, { messages: true, unseen: true }), 'STATUS');
    t.equal(status.messages, 1, 'the mail delivered to the ORG address is there');

    const mailbox = await client.mailboxOpen(ORG_INBOX);
    t.equal(mailbox.exists, 1);
    t.equal(mailbox.readOnly, false, 'members work in the ORG box read-write');
    const message = await client.fetchOne('*', { envelope: true });
    t.equal(message && message.envelope?.subject, 'Ordonnance Dupont');
    await client.mailboxClose();

    await client.mailboxCreate(`Partagé/${ORG}/Traité`);
    t.ok((await client.list()).some((entry) => entry.path === `Partagé/${ORG}/Traité`), 'a member can file in a new ORG folder');
    const special = await raw.command(`DELETE "${ORG_WIRE}/Corbeille"`);
    t.match(special.tagged, /NO \[CANNOT\] .*special folder/, "the ORG's special folders cannot be deleted either");
    const across = await raw.command(`RENAME "${ORG_WIRE}/Trait&AOk-" "Trait&AOk-"`);
    t.match(across.tagged, /NO \[CANNOT\] A mailbox cannot be renamed into another box/);
    await client.mailboxUnsubscribe(`Partagé/${ORG}/Traité`);
    const subscribed = await raw.command('LIST (SUBSCRIBED) "" "Partag&AOk-/*"');
    t.notOk(subscribed.untagged.some((line) => line.includes('Trait&AOk-')), 'subscriptions to ORG folders are per member');
    const create = await raw.command('CREATE "Partag&AOk-/pharmacie@mssd-test.mssante.fr"');
    t.match(create.tagged, /NO \[CANNOT\]/, 'the ORG node itself is not a folder to create');
  });

  await t.test('a non-member reaches nothing of the ORG box, by any name', async (t) => {
    const raw = await RawImap.login(env, bob.login, TEST_PASSWORD);
    t.teardown(() => raw.close());
    const list = await raw.command('LIST "" "*"');
    t.notOk(list.untagged.some((line) => line.includes('Partag')), 'nothing shared listed');
    for (const command of [
      `SELECT "${ORG_WIRE}/INBOX"`,
      `EXAMINE "${ORG_WIRE}/INBOX"`,
      `STATUS "${ORG_WIRE}/INBOX" (MESSAGES)`,
      `CREATE "${ORG_WIRE}/Vol"`,
      `DELETE "${ORG_WIRE}/Brouillons"`,
      `SUBSCRIBE "${ORG_WIRE}/INBOX"`,
      `RENAME "${ORG_WIRE}/Brouillons" "Vol"`,
      `SELECT "${ORG_WIRE}/../../alice.martin@hopital-test.fr/INBOX"`,
      'SELECT "Partag&AOk-/alice.martin@mssd-test.mssante.fr/INBOX"',
    ]) {
      t.match((await raw.command(command)).tagged, /^T\d+ NO \[NONEXISTENT\]/, command);
    }
    const select = await raw.command(`SELECT "${ORG_WIRE}/INBOX"`);
    t.match(select.tagged, /NO \[NONEXISTENT\] Mailbox "Partage\/pharmacie@mssd-test.mssante.fr\/INBOX" \(Partag&AOk-\/pharmacie@mssd-test.mssante.fr\/INBOX\) does not exist or is not shared with you$/);
    const org = await RawImap.imaps(env);
    t.teardown(() => org.close());
    const login = await org.command(`LOGIN pharmacie@hopital-test.fr "${TEST_PASSWORD}"`);
    t.match(login.tagged, /NO \[AUTHENTICATIONFAILED\]/, 'the ORG box cannot log in by itself (R2)');
  });

  await t.test('remove-member closes the selected ORG folder in open sessions and hides the folders', async (t) => {
    const client = await imapClient(env, alice.login, TEST_PASSWORD);
    t.teardown(() => client.logout().catch(() => undefined));
    const working = await RawImap.login(env, alice.login, TEST_PASSWORD);
    t.teardown(() => working.close());
    const idling = await RawImap.login(env, alice.login, TEST_PASSWORD);
    t.teardown(() => idling.close());
    t.match((await working.command(`SELECT "${ORG_WIRE}/INBOX"`)).tagged, /OK \[READ-WRITE\]/);
    t.match((await idling.command(`EXAMINE "${ORG_WIRE}/INBOX"`)).tagged, /OK \[READ-ONLY\]/);
    const idleTag = idling.nextTag();
    idling.write(`${idleTag} IDLE\r\n`);
    t.equal(await idling.line(), '+ idling');

    const removed = cli(env, ['org', 'remove-member', ORG, alice.login]);
    t.equal(removed.status, 0, `remove-member: ${removed.stderr}`);

    // IDLE: the daemon notices the other process's commit and tells the client at once.
    t.equal(await idling.line(5000), `* OK [CLOSED] "${ORG_WIRE}/INBOX" is no longer available to you; select another mailbox`);
    idling.write('DONE\r\n');
    t.match((await idling.until(idleTag)).tagged, /OK IDLE terminated/);

    // A session not in IDLE: its very next command, whatever it is, reads nothing from the box.
    const fetch = await working.command('FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    t.same(fetch.untagged, [`* OK [CLOSED] "${ORG_WIRE}/INBOX" is no longer available to you; select another mailbox`]);
    t.match(fetch.tagged, /BAD FETCH needs a selected mailbox/, 'the FETCH ran in the authenticated state');
    const list = await working.command('LIST "" "*"');
    t.notOk(list.untagged.some((line) => line.includes('Partag')), 'the ORG folders left LIST');
    t.match((await working.command(`SELECT "${ORG_WIRE}/INBOX"`)).tagged, /NO \[NONEXISTENT\]/);
    t.match((await working.command(`STATUS "${ORG_WIRE}/INBOX" (MESSAGES)`)).tagged, /NO \[NONEXISTENT\]/);
    t.notOk((await client.list()).some((entry) => entry.path.startsWith('Partagé')), 'imapflow sees them gone too');
    t.match((await working.command('SELECT INBOX')).tagged, /OK \[READ-WRITE\]/, 'her own box is untouched');

    t.equal(cli(env, ['org', 'add-member', ORG, alice.login]).status, 0);
    t.ok((await client.list()).some((entry) => entry.path === ORG_INBOX), 'linked again: back at the next LIST');
  });
});
