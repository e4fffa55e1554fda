// LIST (RFC 3501 section 6.3.8) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), CHILDREN
// (RFC 3348) and LIST-STATUS (RFC 5819); LSUB (section 6.3.9).
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';
import path from 'node:path';
import { openDatabase } from '../../../src/store/database';
import { createUserMailbox, deleteUserMailbox, renameUserMailbox } from '../../../src/store/imap-mailboxes';
import { removeOrgMember } from '../../../src/store/org-members';
import { subscribeName } from '../../../src/store/subscriptions';

const ORG = 'Partag&AOk-/pharmacie@x.mssante.fr';

t.test('LIST "" "*": own folders with their special use, then the linked ORG box under Partagé/ (R6)', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const lines = (await a.run('LIST "" "*"')).split('\r\n');
  t.equal(lines.pop(), '');
  t.equal(lines.pop(), 'TAG OK LIST completed');
  t.ok(lines.includes('* LIST (\\HasNoChildren) "/" "INBOX"'));
  t.ok(lines.includes('* LIST (\\HasNoChildren \\Sent) "/" "Envoy&AOk-s"'), 'names in modified UTF-7, \\Sent');
  t.ok(lines.includes('* LIST (\\HasNoChildren \\Drafts) "/" "Brouillons"'));
  t.ok(lines.includes('* LIST (\\HasNoChildren \\Trash) "/" "Corbeille"'));
  t.ok(lines.includes(`* LIST (\\Noselect \\HasChildren) "/" "${ORG}"`), 'the ORG node is \\Noselect');
  t.ok(lines.includes(`* LIST (\\HasNoChildren) "/" "${ORG}/INBOX"`), "the ORG's INBOX, without special use");
  t.notOk(lines.some((line) => line.includes('labo@')), 'no ORG box one is not linked to');
});

t.test('LIST "" "" answers the delimiter; % stops at a level; references are prefixed', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('LIST "" ""'), '* LIST (\\Noselect) "/" ""\r\nTAG OK LIST completed\r\n');
  await a.run('CREATE Patients/Dupont');
  t.equal(await a.run('LIST "" "Pat%"'), '* LIST (\\HasChildren) "/" "Patients"\r\nTAG OK LIST completed\r\n');
  t.equal(await a.run('LIST "Patients/" "%"'), '* LIST (\\HasNoChildren) "/" "Patients/Dupont"\r\nTAG OK LIST completed\r\n');
});

t.test('LIST-EXTENDED: SUBSCRIBED selection, SPECIAL-USE, RETURN (STATUS ...)', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  await a.run('CREATE Patients');
  await a.run('CREATE Archives');
  await a.run('SUBSCRIBE Archives');
  const subscribed = await a.run('LIST (SUBSCRIBED) "" "*"');
  t.match(subscribed, /^\* LIST \(\\HasNoChildren \\Subscribed\) "\/" "INBOX"\r\n/m, 'the default folders are subscribed');
  t.match(subscribed, /^\* LIST \(\\HasNoChildren \\Subscribed\) "\/" "Archives"\r\n/m, 'SUBSCRIBE subscribes');
  t.notMatch(subscribed, /"Patients"/, 'CREATE does not subscribe (RFC 3501 section 6.3.3, RFC 5258): not selected');
  const special = await a.run('LIST (SPECIAL-USE) "" "*"');
  t.equal(special.match(/^\* LIST/gm)?.length, 3, 'Sent, Drafts and Trash only');
  t.equal(
    await a.run('LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN))'),
    '* LIST (\\HasNoChildren) "/" "INBOX"\r\n* STATUS "INBOX" (MESSAGES 3 UNSEEN 2)\r\nTAG OK LIST completed\r\n',
    'RFC 5819: STATUS right after its LIST line',
  );
});

t.test('LIST and LSUB: arguments and state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const cases: Array<[string, RegExp]> = [
    ['LIST', /^TAG BAD Expected a reference name, got nothing/],
    ['LIST ""', /^TAG BAD Expected a mailbox pattern, got nothing/],
    ['LIST "" * RETURN', /^TAG BAD Expected a list of return options after RETURN/],
    ['LSUB "" "*" extra', /^TAG BAD Unexpected argument/],
    ['LIST (SUBSCRIBED "x") "" "*"', /^TAG BAD Expected a LIST selection option/],
    ['LIST (FOO) "" "*"', /^TAG BAD Unknown LIST selection option FOO/],
    ['LIST (RECURSIVEMATCH) "" "*"', /^TAG BAD RECURSIVEMATCH needs another selection option/],
    // not modified UTF-7: taken literally and answered, as Dovecot does (imaptest "atoms", issue 12)
    ['LIST "" "R&AOk*"', /^TAG OK LIST completed\r\n$/],
    ['LIST "&" "*"', /^TAG OK LIST completed\r\n$/],
  ];
  for (const [command, expected] of cases) t.match(await a.run(command), expected, command);
  t.equal(await connectedSession(db).run('LIST "" "*"'), 'TAG BAD LIST needs you to log in first\r\n');
  t.equal(await connectedSession(db).run('LSUB "" "*"'), 'TAG BAD LSUB needs you to log in first\r\n');
});

t.test('LIST-EXTENDED: a subscription outlives DELETE and RENAME (\\NonExistent), CHILDINFO only for unlisted descendants', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  for (const name of ['Gone', 'Old', 'Old/Child', 'Tree/Leaf', 'Tree/Other']) await a.run(`CREATE ${name}`);
  for (const name of ['Gone', 'Old', 'Old/Child', 'Tree/Leaf']) await a.run(`SUBSCRIBE ${name}`);
  await a.run('DELETE Gone');
  await a.run('RENAME Old New');
  const subscribed = await a.run('LIST (SUBSCRIBED) "" "*"');
  t.match(subscribed, /^\* LIST \(\\NonExistent \\HasNoChildren \\Subscribed\) "\/" "Gone"\r\n/m, 'RFC 5258 section 3: deleted, still subscribed');
  t.match(subscribed, /^\* LIST \(\\NonExistent \\HasNoChildren \\Subscribed\) "\/" "Old"\r\n/m, 'renamed away: the old name stays subscribed');
  t.match(subscribed, /^\* LIST \(\\NonExistent \\HasNoChildren \\Subscribed\) "\/" "Old\/Child"\r\n/m);
  t.match(subscribed, /^\* LIST \(\\HasChildren \\Subscribed\) "\/" "New"\r\n/m, 'the new name is subscribed too');
  t.match(subscribed, /^\* LIST \(\\HasNoChildren \\Subscribed\) "\/" "New\/Child"\r\n/m);
  t.notMatch(await a.run('LIST "" "*"'), /"Gone"|"Old"/, 'a plain LIST shows only what exists');
  t.match(await a.run('LSUB "" "*"'), /^\* LSUB \(\) "\/" "Gone"\r\n/m, 'LSUB lists the subscription list (RFC 3501 section 6.3.9)');
  t.equal(
    await a.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Tree"'),
    '* LIST (\\HasChildren) "/" "Tree" ("CHILDINFO" ("SUBSCRIBED"))\r\nTAG OK LIST completed\r\n',
    'RFC 5258 section 3.5: the parent of a subscribed child the pattern does not match',
  );
  t.equal(
    await a.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Tree*"'),
    '* LIST (\\HasNoChildren \\Subscribed) "/" "Tree/Leaf"\r\nTAG OK LIST completed\r\n',
    'no CHILDINFO when the subscribed child is itself listed',
  );
  t.equal(await a.run('UNSUBSCRIBE Gone'), 'TAG OK UNSUBSCRIBE completed\r\n', 'a subscription without mailbox can be removed');
  t.notMatch(await a.run('LSUB "" "*"'), /"Gone"/);
});

t.test('LIST and LSUB show what another process just changed: folders, subscriptions, ORG links (R6 at once)', async (t) => {
  const { db, jean, pharmacy } = world(t);
  // Another process (the CLI, another IMAP worker): its own connection to the same store.
  const other = openDatabase(path.dirname(db.name));
  t.teardown(() => other.close());
  const a = testSession(db, jean);
  const listed = async (command = 'LIST "" "*"') => (await a.run(command)).split('\r\n').filter((line) => line.startsWith('* '));
  const before = await listed();
  t.same(await listed(), before, 'nothing changed, the same answer');

  createUserMailbox(other, jean, 'Patients/2026');
  t.ok((await listed()).includes('* LIST (\\HasNoChildren) "/" "Patients/2026"'), 'a folder created elsewhere');
  t.ok((await listed()).includes('* LIST (\\HasChildren) "/" "Patients"'));
  renameUserMailbox(other, jean, 'Patients/2026', 'Patients/2027');
  const renamed = await listed();
  t.ok(renamed.includes('* LIST (\\HasNoChildren) "/" "Patients/2027"') && !renamed.some((line) => line.includes('2026')), 'renamed elsewhere');
  t.same(await listed('LSUB "" "Patients*"'), [], 'not subscribed');
  subscribeName(other, jean, 'Patients/2027');
  t.same(await listed('LSUB "" "Patients*"'), ['* LSUB () "/" "Patients/2027"'], 'subscribed elsewhere');
  t.ok((await listed('LIST (SUBSCRIBED) "" "*"')).includes('* LIST (\\HasNoChildren \\Subscribed) "/" "Patients/2027"'));
  deleteUserMailbox(other, jean, 'Patients/2027');
  t.ok((await listed('LIST (SUBSCRIBED) "" "*"')).includes('* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" "Patients/2027"'), 'deleted elsewhere, still subscribed');
  const afterDelete = await listed();
  t.ok(afterDelete.includes('* LIST (\\HasNoChildren) "/" "Patients"') && !afterDelete.some((line) => line.includes('2027')), 'deleted elsewhere');

  t.ok((await listed()).some((line) => line.includes(ORG)), 'the linked ORG box is listed');
  removeOrgMember(other, 'pharmacie@x.mssante.fr', 'jean.dupont@hopital.fr');
  t.notOk((await listed()).some((line) => line.includes('Partag')), 'unlinked elsewhere: gone at the next LIST');
  t.ok(pharmacy > 0);
});
