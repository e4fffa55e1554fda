// Malformed input over a raw TLS socket, the way a broken or hostile client sends it: each class
// gets its BAD or NO (tagged whenever the tag could be read) and the session stays usable; the
// mailbox commands' own argument errors are in test/imap/commands/<command>.test.ts.
import t from 'tap';
import type { TapTest } from '../helpers/tap';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { RawImap } from '../helpers/imap-raw';

t.test('malformed IMAP input', async (t) => {
  const env = await makeEnv({ limits: { maxMessageBytes: 1024 * 1024 } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const c = await RawImap.login(env, alice.login, TEST_PASSWORD);
  t.teardown(() => c.close());

  /** The session still answers a plain command, and is still in the state it was. */
  const usable = async (t: TapTest, state: 'authenticated' | 'selected' = 'authenticated') => {
    const noop = await c.command('NOOP');
    t.match(noop.tagged, /^T\d+ OK NOOP completed$/, 'NOOP answered afterwards');
    const check = await c.command('CHECK');
    t.match(check.tagged, state === 'selected' ? /OK/ : /BAD/, `still ${state}`);
  };

  await t.test('bad tags: untagged BAD, next command runs', async (t) => {
    for (const line of ['+ NOOP', '"A1" NOOP', 'A(1 NOOP', 'A{1 NOOP', '', '    ']) {
      c.write(`${line}\r\n`);
      t.match(await c.line(), /^\* BAD /, JSON.stringify(line));
    }
    c.write('A1\r\n');
    t.match(await c.line(), /^(\* |A1 )BAD /, 'a tag with no command');
    await usable(t);
  });

  await t.test('unknown commands and commands in the wrong state', async (t) => {
    t.match((await c.command('FROBNICATE INBOX')).tagged, /^T\d+ BAD Unknown command FROBNICATE$/);
    t.match((await c.command('UID LIST "" "*"')).tagged, /BAD Unknown command UID LIST/);
    t.match((await c.command('CLOSE')).tagged, /BAD CLOSE needs a selected mailbox/);
    t.match((await c.command('LOGIN a b')).tagged, /BAD LOGIN is not valid now$/);
    await usable(t);
  });

  await t.test('unterminated quote, bad escapes, NUL, stray parenthesis', async (t) => {
    for (const command of ['SELECT "INBOX', 'LIST "" "*', 'SELECT "a\\zb"', 'LIST ("" "*"', 'STATUS INBOX (MESSAGES', 'STATUS INBOX MESSAGES)']) {
      t.match((await c.command(command)).tagged, /^T\d+ BAD /, command);
    }
    c.write(Buffer.from('T90 SELECT "a\u0000b"\r\n'));
    t.match((await c.until('T90')).tagged, /^T90 BAD /, 'NUL in a quoted string');
    await usable(t);
  });

  await t.test('8-bit octets: refused in atoms, and mailbox names must be modified UTF-7', async (t) => {
    t.match((await c.command('SELECT Envoyés')).tagged, /^T\d+ BAD 8-bit octets are not allowed in an atom/);
    t.match((await c.command('CREATE "Résumé"')).tagged, /^T\d+ NO \[CANNOT\] Mailbox name "Resume" is not valid modified UTF-7/, 'UTF-8 in a quoted string is read (RFC 9051 section 4.3), but a name must be modified UTF-7');
    const tag = c.nextTag();
    const name = Buffer.from('Résumé');
    c.write(`${tag} CREATE {${name.length}}\r\n`);
    t.match(await c.line(), /^\+ /);
    c.write(Buffer.concat([name, Buffer.from('\r\n')]));
    t.match((await c.until(tag)).tagged, /NO \[CANNOT\] Mailbox name "Resume" is not valid modified UTF-7/, 'UTF-8 in a literal');
    for (const bad of ['R&AOk', 'R&AOk-&AOk-', '&Jjo!-', 'a&-b&ZeVnLIqe-&', 'R&AGU-sum&AOk-']) {
      t.match((await c.command(`CREATE "${bad}"`)).tagged, /NO \[CANNOT\] .*not valid modified UTF-7/, bad);
      t.match((await c.command(`SELECT "${bad}"`)).tagged, /NO \[CANNOT\] .*not valid modified UTF-7/, `SELECT ${bad}`);
    }
    // not modified UTF-7: taken literally and answered, as Dovecot does (imaptest "atoms", issue 12)
    t.match((await c.command('LIST "" "R&AOk*"')).tagged, /OK LIST completed/);
    t.match((await c.command('LIST "&" "*"')).tagged, /OK LIST completed/);
    t.notOk((await c.command('LIST "" "*"')).untagged.some((line) => /R&|sum/.test(line)), 'nothing was created');
    await usable(t);
  });

  await t.test('oversize literals', async (t) => {
    const tag = c.nextTag();
    c.write(`${tag} APPEND INBOX {999999999}\r\n`);
    t.match((await c.until(tag)).tagged, new RegExp(`^${tag} NO \\[TOOBIG\\]`), 'synchronising: refused before any octet is sent');
    const create = c.nextTag();
    c.write(`${create} CREATE {999999999}\r\n`);
    t.match((await c.until(create)).tagged, /NO \[TOOBIG\]/, 'for a mailbox name as well');
    await usable(t);
  });

  await t.test('wrong literal lengths', async (t) => {
    // Announces 10 octets, sends a 3-letter name: the literal swallows the start of the next
    // command, the rest of that line is a syntax error of the first one; then all is in step.
    const tag = c.nextTag();
    c.write(`${tag} CREATE {10}\r\n`);
    t.match(await c.line(), /^\+ /);
    c.write('abc\r\nT99 NOOP\r\n');
    t.match((await c.until(tag)).tagged, new RegExp(`^${tag} BAD `), 'too short: the command is refused');
    const tag2 = c.nextTag();
    c.write(`${tag2} CREATE {2}\r\n`);
    t.match(await c.line(), /^\+ /);
    c.write('abcd\r\n');
    t.match((await c.until(tag2)).tagged, new RegExp(`^${tag2} BAD `), 'too long: the rest is a syntax error');
    t.notOk((await c.command('LIST "" "*"')).untagged.some((line) => /"ab/.test(line)), 'no mailbox created from either');
    await usable(t);
  });

  await t.test('limits: line length and nesting', async (t) => {
    const long = await c.command(`SELECT "${'a'.repeat(70_000)}"`);
    t.match(long.tagged, /BAD \[TOOBIG\]|NO \[CANNOT\]/, 'a 70 000-character line');
    t.match((await c.command(`LIST ${'('.repeat(40)}${')'.repeat(40)} "" "*"`)).tagged, /BAD/, 'deep nesting');
    const name = await c.command(`CREATE "${'x'.repeat(300)}"`);
    t.match(name.tagged, /NO \[CANNOT\] "x{97}\.\.\." is too long for a mailbox name: at most 255 characters/, 'a 300-character name');
    await usable(t);
  });

  await t.test('pipelined CREATEs up to the per-box limit: NO [LIMIT] past it', async (t) => {
    const other = await RawImap.login(env, alice.login, TEST_PASSWORD);
    t.teardown(() => other.close());
    const existing = (await other.command('LIST "" "*"')).untagged.length;
    const count = 1000 - existing + 2;
    let batch = '';
    for (let i = 1; i <= count; i++) batch += `P${i} CREATE "Dossier ${i}"\r\n`;
    other.write(batch);
    const replies: string[] = [];
    for (let i = 1; i <= count; i++) replies.push((await other.until(`P${i}`)).tagged);
    t.ok(replies.slice(0, count - 2).every((line) => /OK CREATE completed$/.test(line)), `${count - 2} folders created, answered in order`);
    t.match(replies[count - 2], /NO \[LIMIT\] Too many mailboxes: at most 1000 mailboxes per box; delete some folders first$/);
    t.match(replies[count - 1], /NO \[LIMIT\]/);
    t.equal((await other.command('LIST "" "*"')).untagged.length, 1000);
  });

  await t.test('oversize non-synchronising literal: BAD, then the connection ends (input cannot be followed)', async (t) => {
    const other = await RawImap.login(env, alice.login, TEST_PASSWORD);
    t.teardown(() => other.close());
    other.write('X1 APPEND INBOX {999999999+}\r\nFrom: x\r\n');
    t.match(await other.line(), /^X1 BAD \[TOOBIG\]/);
    t.match(await other.line(), /^\* BYE /);
  });
});
