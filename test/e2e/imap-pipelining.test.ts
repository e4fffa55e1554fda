// Commands a client pipelines (RFC 3501 section 5.5) over TLS: their answers are sent together
// (connection.ts holds the socket corked while more commands wait in the reader), in order and
// complete, and never held back while a command waits for the client: IDLE's and a
// synchronizing literal's continuation requests arrive although the client has not sent more.
import t from 'tap';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD } from '../helpers/daemon';
import { RawImap } from '../helpers/imap-raw';

t.test('pipelined IMAP commands over TLS', async (t) => {
  const env = await makeEnv({ limits: { maxMessageBytes: 2 * 1024 * 1024 } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const c = await RawImap.login(env, alice.login, TEST_PASSWORD);
  t.teardown(() => c.close());

  await t.test('answers in order, each complete, then IDLE\'s continuation without waiting for DONE', async (t) => {
    c.write('P1 NOOP\r\nP2 LIST "" INBOX\r\nP3 STATUS INBOX (MESSAGES)\r\nP4 SELECT INBOX\r\nP5 IDLE\r\n');
    t.equal((await c.until('P1')).tagged, 'P1 OK NOOP completed');
    const list = await c.until('P2');
    t.same(list.untagged, ['* LIST (\\HasNoChildren) "/" "INBOX"']);
    t.equal(list.tagged, 'P2 OK LIST completed');
    t.same((await c.until('P3')).untagged, ['* STATUS "INBOX" (MESSAGES 0)']);
    t.match((await c.until('P4')).tagged, /^P4 OK \[READ-WRITE\]/);
    t.match(await c.line(), /^\+ /, 'IDLE asks for DONE while nothing more was sent');
    c.write('DONE\r\n');
    t.equal((await c.until('P5')).tagged, 'P5 OK IDLE terminated');
  });

  await t.test('a synchronizing literal after pipelined commands gets its "+" before the client sends it', async (t) => {
    const message = 'Subject: pipelined\r\n\r\n' + 'x'.repeat(200_000) + '\r\n';
    c.write(`A1 NOOP\r\nA2 APPEND INBOX {${Buffer.byteLength(message)}}\r\n`);
    t.equal((await c.until('A1')).tagged, 'A1 OK NOOP completed');
    t.match(await c.line(), /^\+ /, 'continuation request');
    c.write(`${message}\r\n`);
    t.match((await c.until('A2')).tagged, /^A2 OK \[APPENDUID \d+ 1\]/);

    // More than the 64 KiB held at once, between two pipelined commands: all of it, in order.
    c.write('F1 NOOP\r\nF2 FETCH 1 (BODY.PEEK[])\r\nF3 NOOP\r\nF4 FETCH 1 (RFC822.SIZE)\r\n');
    t.equal((await c.until('F1')).tagged, 'F1 OK NOOP completed');
    const body = await c.until('F2');
    t.equal(body.status, 'OK');
    t.ok(body.untagged.some((line) => line.includes(message)), 'the whole message');
    t.equal((await c.until('F3')).tagged, 'F3 OK NOOP completed');
    t.same((await c.until('F4')).untagged, [`* 1 FETCH (RFC822.SIZE ${Buffer.byteLength(message)})`]);
  });
});
