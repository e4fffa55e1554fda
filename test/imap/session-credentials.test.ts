// R16 before every command: a session whose device was revoked, whose box was suspended or whose
// ORG link was removed answers no further command, even when the change came from another
// process (its own SQLite connection) and the session had just passed the check.
import t from 'tap';
import path from 'node:path';
import { setAccountStatus } from '../../src/store/accounts';
import { openDatabase } from '../../src/store/database';
import { deleteDevice, insertDevice } from '../../src/store/devices';
import { testSession } from './commands/harness';
import { freshWorld } from '../store/imap-fixtures';

t.test('a device revoked by another process cuts the session before its next command answers', async (t) => {
  const { db, jean } = freshWorld(t);
  const other = openDatabase(path.dirname(db.name));
  t.teardown(() => other.close());
  const phone = insertDevice(db, jean, 'Phone', 'a'.repeat(64), 1000);
  const laptop = insertDevice(db, jean, 'Laptop', 'b'.repeat(64), 1000);
  const s = testSession(db, jean);
  s.session.user = { accountId: jean, login: 'jean.dupont@hopital.fr', type: 'PER', method: 'device', deviceId: phone };
  s.select('INBOX');
  t.equal(await s.run('NOOP'), 'TAG OK NOOP completed\r\n');
  t.equal(await s.run('NOOP'), 'TAG OK NOOP completed\r\n', 'checked again, nothing changed');

  deleteDevice(other, jean, laptop);
  t.equal(await s.run('NOOP'), 'TAG OK NOOP completed\r\n', "another device's revocation leaves this one");

  deleteDevice(other, jean, phone);
  t.equal(
    await s.run('STATUS INBOX (MESSAGES)'),
    '* BYE This device was revoked; sign in again with a valid device password\r\n',
    'BYE, and no STATUS line: the command did not run',
  );
  t.equal(s.session.state, 'logout');
});

t.test('a box suspended by another process cuts its session before the next command answers', async (t) => {
  const { db, jean } = freshWorld(t);
  const other = openDatabase(path.dirname(db.name));
  t.teardown(() => other.close());
  const s = testSession(db, jean);
  t.match(await s.run('LIST "" INBOX'), /^\* LIST .*INBOX"\r\nTAG OK/);
  setAccountStatus(other, 'jean.dupont@hopital.fr', 'suspended');
  t.equal(await s.run('LIST "" INBOX'), '* BYE This account is suspended; contact the operator\r\n');
});
