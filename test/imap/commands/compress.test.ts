// COMPRESS (RFC 4978 section 3): only DEFLATE, only after login, once per connection; the
// streams themselves are exercised end to end in test/e2e/imap-issue12-ext.test.ts.
import t from 'tap';
import { freshWorld } from '../../store/imap-fixtures';
import { connectedSession, testSession } from './harness';

t.test('COMPRESS DEFLATE switches once, after the tagged OK', async (t) => {
  const { db, jean } = freshWorld(t);
  const s = testSession(db, jean);
  let started = 0;
  Object.assign(s.io, {
    startCompression: () => {
      started++;
    },
  });
  t.ok(s.session.capabilities().includes('COMPRESS=DEFLATE'));
  t.match(await s.run('COMPRESS GZIP'), /^TAG BAD Unknown compression mechanism GZIP/);
  t.match(await s.run('COMPRESS'), /^TAG BAD/);
  t.equal(started, 0);
  t.equal(await s.run('COMPRESS deflate'), 'TAG OK DEFLATE active\r\n', 'the mechanism name is case-insensitive');
  t.equal(started, 1, 'the connection switched once the OK was written');
  t.match(await s.run('COMPRESS DEFLATE'), /^TAG NO \[COMPRESSIONACTIVE\]/);
  t.equal(started, 1);
});

t.test('COMPRESS is refused before login and where the connection cannot do it', async (t) => {
  const { db, jean } = freshWorld(t);
  const before = connectedSession(db);
  t.notOk(before.session.capabilities().includes('COMPRESS=DEFLATE'), 'not offered before login');
  t.match(await before.run('COMPRESS DEFLATE'), /^TAG BAD/);
  const s = testSession(db, jean); // FakeIo without startCompression
  t.match(await s.run('COMPRESS DEFLATE'), /^TAG NO \[CANNOT\]/);
});
