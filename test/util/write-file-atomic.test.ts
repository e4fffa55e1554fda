import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeFileFlushed } from '../../src/util/write-file-atomic';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mssd-write-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('writeFileAtomic creates or replaces the file whole, with its mode, and leaves no temporary file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'latest-full.json');
  writeFileAtomic(file, '{"v":1}\n', 0o640);
  t.equal(readFileSync(file, 'utf8'), '{"v":1}\n');
  t.equal(statSync(file).mode & 0o777, 0o640);
  writeFileSync(path.join(dir, 'other'), 'kept');
  writeFileAtomic(file, Buffer.from('{"v":2}\n'), 0o640);
  t.equal(readFileSync(file, 'utf8'), '{"v":2}\n', 'the old content is replaced');
  t.same(readdirSync(dir).sort(), ['latest-full.json', 'other'], 'no temporary file remains');
});

t.test('writeFileAtomic into a missing directory throws and writes nothing', async (t) => {
  const dir = tempDir(t);
  t.throws(() => writeFileAtomic(path.join(dir, 'missing', 'key.pem'), 'secret', 0o600), { code: 'ENOENT' });
  t.same(readdirSync(dir), []);
});

t.test('writeFileFlushed refuses to overwrite an existing file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'allowlist.txt');
  writeFileFlushed(file, 'first', 0o644);
  t.throws(() => writeFileFlushed(file, 'second', 0o644), { code: 'EEXIST' });
  t.equal(readFileSync(file, 'utf8'), 'first');
});
