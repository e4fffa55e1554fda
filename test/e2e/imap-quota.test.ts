// QUOTA (RFC 9208) end to end: imapflow reads the quota of a box, an APPEND past the limit gets
// [OVERQUOTA], and the MTA refuses mail for the full box with 452 4.2.2 (nodemailer, R1 peer).
import t from 'tap';
import { createPer, makeEnv, startDaemon } from '../helpers/daemon';
import { connectedClient, deliver, peerOperator, textMessage } from '../helpers/imap';

t.test('a box at its message quota', async (t) => {
  const env = await makeEnv({ limits: { quotaMessages: 2, quotaStorageBytes: 10485760 } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const peer = peerOperator(env);
  const sender = `dr.durand@${peer.domain}`;

  t.match(await deliver(env, sender, [alice.mssante], textMessage(sender, alice.mssante, 'Un', 'premier', 'q1@peer.example'), peer.cert), /^250 /);
  const client = await connectedClient(t, env, alice.login);
  t.ok(client.capabilities.has('QUOTA'), 'QUOTA advertised');
  const quota = await client.getQuota('INBOX');
  t.match(quota, { path: 'INBOX', message: { usage: 1, limit: 2 } }, 'imapflow reads MESSAGE usage and limit');
  t.ok(quota && quota.storage && quota.storage.limit === 10485760, 'STORAGE limit, in octets as imapflow reports it');

  const appended = await client.append('Brouillons', 'Subject: brouillon\r\n\r\ntexte\r\n', ['\\Draft']);
  t.ok(appended, 'the second message fits');
  const refused = await client.append('Brouillons', 'Subject: de trop\r\n\r\ntexte\r\n').then(
    () => null,
    (err: { serverResponseCode?: string }) => err,
  );
  t.equal(refused?.serverResponseCode, 'OVERQUOTA', 'the third gets NO [OVERQUOTA]');

  await t.rejects(
    deliver(env, sender, [alice.mssante], textMessage(sender, alice.mssante, 'Trois', 'troisième', 'q3@peer.example'), peer.cert),
    /452 4\.2\.2 Mailbox full/,
    'SMTP: 452 4.2.2, the peer will retry',
  );
});
