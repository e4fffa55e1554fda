// IMAP mailbox commands against the real daemon with imapflow (and a raw client where the exact
// lines matter): default folders with their special use, CREATE/RENAME/DELETE with R11,
// subscriptions, STATUS on every folder, SELECT/EXAMINE data, CLOSE and UNSELECT, LIST-EXTENDED
// and LIST-STATUS.
import t from 'tap';
import { answered } from '../helpers/tap';
import type { ImapFlow } from 'imapflow';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { imapClient, testMessage } from '../helpers/imap-mailboxes';
import { RawImap } from '../helpers/imap-raw';

t.test('IMAP mailbox commands', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const client = await imapClient(env, alice.login, TEST_PASSWORD);
  t.teardown(() => client.logout().catch(() => undefined));
  const raw = await RawImap.login(env, alice.login, TEST_PASSWORD);
  t.teardown(() => raw.close());

  const folders = async (c: ImapFlow = client) => new Map((await c.list()).map((entry) => [entry.path, entry]));
  const messages = async (path: string) => answered(answered(await client.status(path, { messages: true }), `STATUS ${path}`).messages, `MESSAGES of ${path}`);

  await t.test('default folders: INBOX and the French special-use folders, subscribed', async (t) => {
    const list = await client.list();
    t.same(
      list.map((entry) => [entry.path, entry.specialUse ?? null]).sort(),
      [
        ['Brouillons', '\\Drafts'],
        ['Corbeille', '\\Trash'],
        ['Envoyés', '\\Sent'],
        ['INBOX', '\\Inbox'],
      ],
    );
    const sent = list.find((entry) => entry.path === 'Envoyés')!;
    t.equal(sent.pathAsListed, 'Envoy&AOk-s', 'names travel in modified UTF-7');
    t.equal(sent.specialUseSource, 'extension', 'the server announced \\Sent itself (not guessed from the name)');
    t.ok(list.every((entry) => entry.subscribed), 'new folders are subscribed');
    t.ok(list.every((entry) => entry.flags.has('\\HasNoChildren')));

    const basic = await raw.command('LIST "" "*"');
    t.same(basic.untagged, [
      '* LIST (\\HasNoChildren) "/" "INBOX"',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Brouillons"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Corbeille"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Envoy&AOk-s"',
    ]);
    const root = await raw.command('LIST "" ""');
    t.same(root.untagged, ['* LIST (\\Noselect) "/" ""'], 'LIST "" "" gives the delimiter');
    const inbox = await raw.command('LIST "" "inbox"');
    t.same(inbox.untagged, ['* LIST (\\HasNoChildren) "/" "INBOX"'], 'INBOX matches in any case');
  });

  await t.test('special folders cannot be deleted', async (t) => {
    for (const name of ['INBOX', 'Envoyés', 'Brouillons', 'Corbeille']) {
      const err = await client.mailboxDelete(name).then(
        () => null,
        (e: { responseStatus?: string; serverResponseCode?: string; responseText?: string }) => e,
      );
      t.equal(err?.responseStatus, 'NO', `${name} refused`);
      t.equal(err?.serverResponseCode, 'CANNOT', `${name}: [CANNOT]`);
      t.match(err?.responseText, /cannot be deleted/);
    }
    t.equal((await client.list()).length, 4, 'all four still there');
  });

  await t.test('create, rename and delete folders; a deleted folder gives its messages back to INBOX (R11)', async (t) => {
    const created = await client.mailboxCreate(['Patients', 'Résultats']);
    t.equal(created.path, 'Patients/Résultats');
    t.equal(created.created, true);
    let list = await folders();
    t.ok(list.get('Patients')?.flags.has('\\HasChildren'), 'the parent was created too');
    t.equal(list.get('Patients/Résultats')?.pathAsListed, 'Patients/R&AOk-sultats');
    t.equal((await client.mailboxCreate('Patients/Résultats')).created, false, 'imapflow reads [ALREADYEXISTS] as "already there"');
    const again = await raw.command('CREATE "Patients/R&AOk-sultats"');
    t.match(again.tagged, /^T\d+ NO \[ALREADYEXISTS\] A mailbox named "Patients\/Resultats" \(Patients\/R&AOk-sultats\) already exists$/);

    await client.append('Patients/Résultats', testMessage(alice.mssante, 'Bilan 1'));
    await client.append('Patients/Résultats', testMessage(alice.mssante, 'Bilan 2'), ['\\Seen']);
    t.equal(await messages('Patients/Résultats'), 2);

    const renamed = await client.mailboxRename('Patients/Résultats', 'Archives 2026/Résultats');
    t.equal(renamed.newPath, 'Archives 2026/Résultats');
    list = await folders();
    t.notOk(list.has('Patients/Résultats'));
    t.ok(list.has('Archives 2026'), 'missing parent created by RENAME');
    t.equal(await messages('Archives 2026/Résultats'), 2, 'messages follow the rename');

    const inboxBefore = await messages('INBOX');
    const deleted = await raw.command('DELETE "Archives 2026/R&AOk-sultats"');
    t.match(deleted.tagged, /OK DELETE completed; its 2 message\(s\) were moved back to INBOX$/);
    t.equal(await messages('INBOX'), inboxBefore + 2, 'R11: both messages are back in INBOX');
    const back = answered(await client.status('INBOX', { messages: true, unseen: true }), 'STATUS INBOX');
    t.equal(back.unseen, 1, 'flags kept (one was \\Seen)');
    list = await folders();
    t.notOk(list.has('Archives 2026/Résultats'));

    const missing = await raw.command('DELETE "Archives 2026/R&AOk-sultats"');
    t.match(missing.tagged, /NO \[NONEXISTENT\] Mailbox "Archives 2026\/Resultats" \(Archives 2026\/R&AOk-sultats\) does not exist$/);
  });

  await t.test('a folder deleted with children stays as a non-existent parent', async (t) => {
    await client.mailboxCreate('Dossiers/Cardiologie');
    await client.mailboxDelete('Dossiers');
    const basic = await raw.command('LIST "" "Dossiers*"');
    t.same(basic.untagged, ['* LIST (\\Noselect \\HasChildren) "/" "Dossiers"', '* LIST (\\HasNoChildren) "/" "Dossiers/Cardiologie"']);
    const extended = await raw.command('LIST "" "Dossiers*" RETURN (CHILDREN)');
    t.same(
      extended.untagged,
      ['* LIST (\\NonExistent \\HasChildren) "/" "Dossiers"', '* LIST (\\HasNoChildren) "/" "Dossiers/Cardiologie"'],
      'LIST-EXTENDED says \\NonExistent',
    );
    const select = await raw.command('SELECT Dossiers');
    t.match(select.tagged, /NO \[NONEXISTENT\]/, 'a \\Noselect name cannot be selected');
    t.equal((await client.mailboxCreate('Dossiers')).created, true, 'the name can be created again');
    t.ok((await folders()).get('Dossiers')?.flags.has('\\HasChildren'));
  });

  await t.test('renaming INBOX moves its messages to a new folder and leaves INBOX empty', async (t) => {
    const before = await messages('INBOX');
    t.ok(before > 0);
    await client.mailboxRename('INBOX', 'Ancienne boîte');
    t.equal(await messages('INBOX'), 0);
    t.equal(await messages('Ancienne boîte'), before);
  });

  await t.test('bad names are refused with a reason', async (t) => {
    const cases: Array<[string, RegExp]> = [
      ['CREATE "a//b"', /NO \[CANNOT\] "a\/\/b" is not a valid mailbox name/],
      ['CREATE "Patients/"', /OK CREATE completed|NO \[ALREADYEXISTS\]/],
      ['CREATE "foo%"', /NO \[CANNOT\] "foo%" is not a valid mailbox name/],
      ['CREATE "Partag&AOk-"', /NO \[CANNOT\] Partage and its boxes are managed by the operator/],
      ['CREATE "partag&AOk-/x"', /NO \[CANNOT\]/],
      ['CREATE "Partag&AOk-/labo@mssd-test.mssante.fr/x"', /NO \[NONEXISTENT\]/],
      ['CREATE "R&AOk"', /NO \[CANNOT\] Mailbox name "R&AOk" is not valid modified UTF-7/],
      ['RENAME "Envoy&AOk-s" "INBOX"', /NO \[ALREADYEXISTS\]/],
      ['RENAME "Nope" "Nope2"', /NO \[NONEXISTENT\] Mailbox "Nope" does not exist$/],
      ['RENAME "Dossiers" "Dossiers/Sous"', /NO \[CANNOT\] A mailbox cannot be moved inside itself/],
      ['CREATE x (USE (\\Sent))', /NO \[USEATTR\] Your box already has its \\Sent folder, "Envoyes" \(Envoy&AOk-s\), and only one/],
      ['CREATE x (USE (\\Archive))', /NO \[USEATTR\] This server does not keep \\Archive folders/],
      ['CREATE x (USE (\\Bogus))', /BAD Unknown special-use attribute/],
      ['CREATE x (FOO (1))', /BAD Unknown CREATE parameter FOO/],
    ];
    for (const [command, expected] of cases) t.match((await raw.command(command)).tagged, expected, command);
    t.notOk((await folders()).has('x'), 'no folder created by a refused USE');
    t.match((await raw.command('CREATE y (USE ())')).tagged, /OK CREATE completed/, 'an empty USE is an ordinary CREATE');
    await client.mailboxDelete('y');
  });

  await t.test('subscriptions: SUBSCRIBE, UNSUBSCRIBE, LSUB and LIST (SUBSCRIBED)', async (t) => {
    await client.mailboxCreate('Newsletters');
    await client.mailboxUnsubscribe('Newsletters');
    let list = await folders();
    t.notOk(list.get('Newsletters')?.subscribed);
    t.equal(list.get('INBOX')?.subscribed, true);
    const lsub = await raw.command('LSUB "" "*"');
    t.notOk(lsub.untagged.some((line) => line.includes('"Newsletters"')), 'not in LSUB');
    t.ok(lsub.untagged.includes('* LSUB () "/" "INBOX"'));
    const selected = await raw.command('LIST (SUBSCRIBED) "" "N*"');
    t.same(selected.untagged, []);
    await client.mailboxSubscribe('Newsletters');
    list = await folders();
    t.equal(list.get('Newsletters')?.subscribed, true);
    t.match((await raw.command('SUBSCRIBE "Nowhere"')).tagged, /NO \[NONEXISTENT\]/, 'SUBSCRIBE needs a mailbox');
    t.match((await raw.command('UNSUBSCRIBE "Nowhere"')).tagged, /OK UNSUBSCRIBE completed/, 'UNSUBSCRIBE of a missing name: nothing to do');

    // CREATE alone does not subscribe (imapflow, like Thunderbird, sends SUBSCRIBE itself); a
    // subscription outlives its mailbox and LIST (SUBSCRIBED) says \NonExistent (RFC 5258).
    t.match((await raw.command('CREATE "Brut"')).tagged, /OK CREATE completed/);
    t.notOk((await raw.command('LSUB "" "Brut"')).untagged.length, 'a raw CREATE does not subscribe');
    await raw.command('SUBSCRIBE "Brut"');
    await raw.command('DELETE "Brut"');
    t.same((await raw.command('LIST (SUBSCRIBED) "" "Brut"')).untagged, ['* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" "Brut"']);
    await raw.command('UNSUBSCRIBE "Brut"');

    // RFC 3501 section 6.3.9: an unsubscribed parent of a subscribed child, under "%".
    await client.mailboxCreate('Labo/Hématologie');
    await client.mailboxUnsubscribe('Labo');
    const parent = await raw.command('LSUB "" "L%"');
    t.same(parent.untagged, ['* LSUB (\\Noselect) "/" "Labo"']);
    const recursive = await raw.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "L%"');
    t.same(recursive.untagged, ['* LIST (\\HasChildren) "/" "Labo" ("CHILDINFO" ("SUBSCRIBED"))'], 'RFC 5258 CHILDINFO');
    const bad = await raw.command('LIST (RECURSIVEMATCH) "" "*"');
    t.match(bad.tagged, /BAD RECURSIVEMATCH needs another selection option/);
  });

  await t.test('STATUS on every folder', async (t) => {
    await client.append('INBOX', testMessage(alice.mssante, 'Nouveau'));
    const list = await client.list();
    for (const entry of list) {
      if (entry.flags.has('\\Noselect') || entry.flags.has('\\NonExistent')) continue;
      const status = answered(await client.status(entry.path, { messages: true, recent: true, uidNext: true, uidValidity: true, unseen: true, highestModseq: true }), `STATUS ${entry.path}`);
      t.type(status.messages, 'number', entry.path);
      t.ok(status.uidNext! >= 1 && status.uidValidity! > 0n && status.highestModseq! >= 1n, `${entry.path}: UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ`);
    }
    const inbox = await raw.command('STATUS inbox (MESSAGES UNSEEN RECENT UIDNEXT UIDVALIDITY HIGHESTMODSEQ)');
    t.match(inbox.untagged[0], /^\* STATUS "inbox" \(MESSAGES 1 UNSEEN 1 RECENT 1 UIDNEXT \d+ UIDVALIDITY \d+ HIGHESTMODSEQ \d+\)$/, 'the name as sent, items in the order asked');
    t.match((await raw.command('STATUS INBOX (MESSAGES SIZE)')).untagged[0], /^\* STATUS "INBOX" \(MESSAGES 1 SIZE [1-9]\d*\)$/, 'STATUS=SIZE (RFC 8438)');
    t.match((await raw.command('STATUS INBOX (FROB)')).tagged, /BAD Unknown STATUS item FROB/);
    t.match((await raw.command('STATUS INBOX ()')).tagged, /BAD STATUS needs at least one item/);
    t.match((await raw.command('STATUS Nowhere (MESSAGES)')).tagged, /NO \[NONEXISTENT\]/);
  });

  await t.test('LIST-EXTENDED and LIST-STATUS', async (t) => {
    const withStatus = await client.list({ statusQuery: { messages: true, unseen: true, uidNext: true } });
    const inbox = withStatus.find((entry) => entry.path === 'INBOX')!;
    t.equal(inbox.status?.messages, 1, 'STATUS data came with the LIST (RFC 5819)');
    t.equal(inbox.status?.unseen, 1);
    const lines = await raw.command('LIST (SUBSCRIBED) "" ("INBOX" "Labo*") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES))');
    t.same(lines.untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"',
      '* STATUS "INBOX" (MESSAGES 1)',
      '* LIST (\\HasNoChildren \\Subscribed) "/" "Labo/H&AOk-matologie"',
      '* STATUS "Labo/H&AOk-matologie" (MESSAGES 0)',
    ], 'several patterns, SUBSCRIBED selection, STATUS after each LIST line');
    const special = await raw.command('LIST (SPECIAL-USE) "" "*" RETURN (STATUS (UNSEEN))');
    t.same(special.untagged.filter((line) => line.startsWith('* LIST')), [
      '* LIST (\\HasNoChildren \\Drafts) "/" "Brouillons"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Corbeille"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Envoy&AOk-s"',
    ]);
    const noselect = await raw.command('LIST "" "Dossiers/%" RETURN (STATUS (MESSAGES))');
    t.ok(noselect.untagged.every((line) => !line.startsWith('* STATUS "Dossiers"')), 'no STATUS for a name without a mailbox');
    const remote = await raw.command('LIST (REMOTE) "" "INBOX"');
    t.same(remote.untagged, ['* LIST (\\HasNoChildren) "/" "INBOX"'], 'REMOTE changes nothing here');
    const reference = await raw.command('LIST "Labo/" "%"');
    t.same(reference.untagged, ['* LIST (\\HasNoChildren) "/" "Labo/H&AOk-matologie"'], 'reference prefixed to the pattern');
    for (const [command, expected] of [
      ['LIST (FOO) "" "*"', /BAD Unknown LIST selection option FOO/],
      ['LIST "" "*" RETURN (FOO)', /BAD Unknown LIST return option FOO/],
      ['LIST "" "*" EXTRA', /BAD Unexpected argument: EXTRA/],
      ['LIST "" ()', /BAD LIST needs at least one pattern/],
      ['LIST "" "*" RETURN (STATUS (FOO))', /BAD Unknown STATUS item FOO/],
    ] as const) {
      t.match((await raw.command(command)).tagged, expected, command);
    }
  });

  await t.test('SELECT and EXAMINE', async (t) => {
    await client.append('INBOX', testMessage(alice.mssante, 'Lu'), ['\\Seen', '$Label1']);
    const mailbox = await client.mailboxOpen('INBOX');
    t.equal(mailbox.exists, 2);
    t.equal(mailbox.readOnly, false);
    t.ok(mailbox.permanentFlags?.has('\\*'), 'keywords may be created');
    t.ok(mailbox.flags.has('$Label1'), 'keywords in use are in FLAGS');
    t.type(mailbox.highestModseq, 'bigint');
    await client.mailboxClose();
    await client.append('INBOX', testMessage(alice.mssante, 'A supprimer'), ['\\Deleted']);

    const select = await raw.command('SELECT INBOX');
    t.same(select.untagged.slice(0, 2), [
      '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Label1)',
      '* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Label1 \\*)] Flags and new keywords are kept',
    ]);
    t.ok(select.untagged.includes('* 3 EXISTS'));
    t.ok(select.untagged.includes('* 1 RECENT'), 'only the message appended after imapflow left is \\Recent here');
    t.ok(select.untagged.includes('* OK [UNSEEN 1] First message not yet read'));
    t.ok(select.untagged.some((line) => /^\* OK \[UIDVALIDITY \d+\]/.test(line)));
    t.ok(select.untagged.some((line) => /^\* OK \[UIDNEXT \d+\]/.test(line)));
    t.ok(select.untagged.some((line) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(line)));
    t.match(select.tagged, /OK \[READ-WRITE\] SELECT completed/);

    const examine = await raw.command('EXAMINE "Envoy&AOk-s"');
    t.equal(examine.untagged[0], '* OK [CLOSED] Previous mailbox closed', 'selecting again closes the previous mailbox first');
    t.ok(examine.untagged.includes('* OK [PERMANENTFLAGS ()] Read-only: no flag can be changed'));
    t.match(examine.tagged, /OK \[READ-ONLY\]/);
    t.match((await raw.command('CLOSE')).tagged, /OK CLOSE completed$/, 'CLOSE of a read-only mailbox expunges nothing');

    const failed = await raw.command('SELECT "Nowhere"');
    t.match(failed.tagged, /NO \[NONEXISTENT\] Mailbox "Nowhere" does not exist$/);
    t.match((await raw.command('SELECT INBOX (FOO)')).tagged, /BAD Unknown select parameter FOO/);

    const condstore = await raw.command('SELECT INBOX (CONDSTORE)');
    t.match(condstore.tagged, /OK \[READ-WRITE\]/);
    const reselectFailed = await raw.command('SELECT "Nowhere"');
    t.equal(reselectFailed.untagged[0], '* OK [CLOSED] Previous mailbox closed');
    t.match(reselectFailed.tagged, /NO \[NONEXISTENT\]/);
    t.match((await raw.command('CLOSE')).tagged, /BAD CLOSE needs a selected mailbox/, 'a failed SELECT leaves no mailbox selected');

    await raw.command('SELECT INBOX');
    t.match((await raw.command('UNSELECT')).tagged, /OK UNSELECT completed/);
    t.equal(await messages('INBOX'), 3, 'UNSELECT removes nothing');
    await raw.command('SELECT INBOX');
    const close = await raw.command('CLOSE');
    t.same(close.untagged, [], 'no untagged EXPUNGE from CLOSE');
    t.match(close.tagged, /OK CLOSE completed, 1 deleted message\(s\) removed/);
    t.equal(await messages('INBOX'), 2, 'CLOSE removed the \\Deleted message');
    t.match((await raw.command('UNSELECT')).tagged, /BAD UNSELECT needs a selected mailbox/);
  });

  await t.test('a selected folder deleted by another session is reported closed', async (t) => {
    await client.mailboxCreate('Temporaire');
    await raw.command('SELECT Temporaire');
    await client.mailboxDelete('Temporaire');
    const noop = await raw.command('NOOP');
    t.same(noop.untagged, ['* OK [CLOSED] "Temporaire" is no longer available to you; select another mailbox']);
    t.match((await raw.command('CLOSE')).tagged, /BAD/, 'back in the authenticated state');
  });

  await t.test('implicit TLS works the same', async (t) => {
    const secure = await imapClient(env, alice.mssante, TEST_PASSWORD, 'imaps');
    t.teardown(() => secure.logout().catch(() => undefined));
    t.ok((await folders(secure)).has('Envoyés'), 'login with the MSSanté address, same folders');
  });
});
