// Issue 12, the imap-ext part, with real clients against the real daemon: imapflow (which turns
// COMPRESS=DEFLATE on by itself when offered, then fetches with BINARY and uploads a NUL-bearing
// message as literal8) and Python (imaplib for BINARY and ACL, a raw TLS socket with zlib for
// COMPRESS; test/e2e/clients/imaplib_ext.py).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cli, createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { luhnCompleted } from '../helpers/fixtures';
import { imapClient } from '../helpers/imap-mailboxes';

const ORG = 'pharmacie@mssd-test.mssante.fr';
const ORG_WIRE_INBOX = `Partag&AOk-/${ORG}/INBOX`;
const PDF = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0xff, 0x0a]);
const script = path.join(__dirname, 'clients', 'imaplib_ext.py');

t.test('BINARY, ACL and COMPRESS=DEFLATE with imapflow and Python', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const created = cli(env, [
    'org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', ORG, '--name', 'Pharmacie centrale',
    '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001', '--json',
  ]);
  t.equal(created.status, 0, `org create: ${created.stderr}`);
  t.equal(cli(env, ['org', 'add-member', ORG, alice.login]).status, 0);
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  await t.test('imapflow: compressed session, BINARY fetch and literal8 APPEND', async (t) => {
    const client = await imapClient(env, bob.login, TEST_PASSWORD, 'imaps');
    t.teardown(() => client.logout().catch(() => undefined));
    t.ok(client.capabilities.has('COMPRESS=DEFLATE') && client.capabilities.has('BINARY'));
    t.ok((client as unknown as { _deflate?: unknown })._deflate, 'imapflow negotiated COMPRESS DEFLATE on its own');
    const raw = Buffer.concat([
      Buffer.from('From: a@b.fr\r\nSubject: scan\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      PDF,
      Buffer.from('\r\n'),
    ]);
    const appended = await client.append('INBOX', raw);
    t.ok(appended && appended.uid, 'the NUL-bearing message (sent as literal8) was accepted');
    const lock = await client.getMailboxLock('INBOX');
    try {
      const binary = await client.download('1', '1', { uid: false, binary: true } as never);
      const chunks: Buffer[] = [];
      for await (const chunk of binary.content!) chunks.push(chunk as Buffer);
      t.same(Buffer.concat(chunks).subarray(0, PDF.length), PDF, 'BINARY[1] gives the original octets back');
      const body = await client.fetchOne('1', { source: true, bodyParts: ['1'] });
      const source = body ? body.source! : Buffer.alloc(0);
      t.ok(source.length > 0 && !source.includes(0), 'BODY[] carries no NUL: the part is stored base64-encoded');
      t.match(source.toString('latin1'), /Content-Transfer-Encoding: base64/);
      // many messages through the compressed stream, both ways
      for (let i = 0; i < 30; i++) await client.append('INBOX', Buffer.from(`Subject: n${i}\r\n\r\n${'compte rendu '.repeat(200)}\r\n`));
      const subjects: string[] = [];
      for await (const message of client.fetch('1:*', { envelope: true, source: true })) subjects.push(message.envelope!.subject!);
      t.equal(subjects.length, 31);
      t.equal(subjects[30], 'n29');
    } finally {
      lock.release();
    }
  });

  await t.test('imapflow: IDLE over a compressed connection is woken by another session', async (t) => {
    const watcher = await imapClient(env, bob.login, TEST_PASSWORD, 'imaps');
    const writer = await imapClient(env, bob.login, TEST_PASSWORD, 'imaps');
    t.teardown(() => Promise.all([watcher.logout().catch(() => undefined), writer.logout().catch(() => undefined)]));
    t.ok((watcher as unknown as { _deflate?: unknown })._deflate, 'the watcher is compressed');
    await watcher.mailboxOpen('INBOX');
    const before = (watcher.mailbox as { exists: number }).exists;
    const woken = new Promise<number>((resolve) => watcher.on('exists', (event: { count: number }) => resolve(event.count)));
    const idling = watcher.idle();
    await writer.append('INBOX', Buffer.from('Subject: réveil\r\n\r\nnouveau\r\n'));
    t.equal(await woken, before + 1, 'the untagged EXISTS was flushed through the deflate stream at once');
    await watcher.noop();
    await idling.catch(() => undefined);
  });

  await t.test('Python: imaplib for BINARY and ACL, zlib for COMPRESS', async (t) => {
    const run = spawnSync('python3', [script, '127.0.0.1', String(env.ports.imaps), env.caFile, alice.login, TEST_PASSWORD, ORG_WIRE_INBOX], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.equal(run.status, 0, `python scenario: ${run.stderr}`);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    const caps = out.capabilities as string[];
    for (const cap of ['BINARY', 'ACL', 'RIGHTS=texk', 'COMPRESS=DEFLATE']) t.ok(caps.includes(cap), `${cap} advertised`);
    t.ok(out.binary_pdf_ok, 'BINARY.PEEK[2] is the decoded PDF');
    t.match(JSON.stringify(out.binary_fetch), /BINARY\.SIZE\[2\] 8/);
    t.equal(out.binary_text, 'Résultat', 'quoted-printable undone (the line break before the delimiter is not part of the part)');
    t.same(out.myrights_inbox, ['"INBOX" lrswipkxtea']);
    t.same(out.getacl_inbox, [`"INBOX" ${alice.login} lrswipkxtea`]);
    t.same(out.myrights_org, [`"${ORG_WIRE_INBOX}" lrswipkxte`], 'a linked person: all but administer (R6)');
    t.equal((out.getacl_org as string[])[0], 'NO');
    t.equal((out.setacl as string[])[0], 'NO');
    t.match((out.setacl as string[][])[1][0], /^\[NOPERM\] Rights are managed by the operator/);

    t.match(out.compress_before_login, /^C0 BAD .*log in first/, 'COMPRESS only after login');
    t.equal(out.compress, 'C2 OK DEFLATE active');
    t.match(out.compress_again, /^C3 NO \[COMPRESSIONACTIVE\]/);
    t.match((out.capability_compressed as string[])[1], /COMPRESS=DEFLATE/, 'a compressed exchange');
    t.equal(out.append_continuation, '+');
    t.match(out.append_big, /^C5 OK \[APPENDUID/);
    t.match(out.append_literal8, /^C6 OK \[APPENDUID/);
    t.equal((out.sizes as number[])[1], out.big_size);
    t.ok(out.big_roundtrip, 'the big message comes back byte for byte through both deflate streams');
    t.ok(out.literal8_binary, 'literal8 in, literal8 out');
    t.ok(out.literal8_body_base64);
    t.match(out.long_line, /^C12 BAD \[TOOBIG\] Line too long/, 'the line limit applies to what the client sends once inflated');
    t.match(out.after_long_line, /^C13 OK/, 'and the session goes on');
    t.match(out.logout, /^C11 OK/);
  });
});
