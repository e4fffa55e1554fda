// QUOTA (RFC 9208): GETQUOTAROOT / GETQUOTA with STORAGE and MESSAGE per box, SETQUOTA refused,
// [OVERQUOTA] on APPEND, COPY and MOVE into another box.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId, PHARMACY } from '../../store/imap-fixtures';
import { testSession } from './harness';

const message = (text: string) => Buffer.from(`Subject: q\r\n\r\n${text}\r\n`);

t.test('QUOTA commands and [OVERQUOTA]', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const sent = mailboxId(db, jean, 'Envoyés');
  const big = message('x'.repeat(1500));
  appendToMailbox(db, inbox, big);
  appendToMailbox(db, sent, message('envoyé'));
  const s = testSession(db, jean);
  const limits = s.session.config.limits;
  const saved = { storage: limits.quotaStorageBytes, messages: limits.quotaMessages };
  t.teardown(() => {
    limits.quotaStorageBytes = saved.storage;
    limits.quotaMessages = saved.messages;
  });
  limits.quotaStorageBytes = 4096;
  limits.quotaMessages = 3;
  const used = big.length + message('envoyé').length;
  t.ok(s.session.capabilities().includes('QUOTA') && s.session.capabilities().includes('QUOTA=RES-STORAGE'));

  t.equal(
    await s.run('GETQUOTAROOT INBOX'),
    `* QUOTAROOT "INBOX" ""\r\n* QUOTA "" (STORAGE ${Math.ceil(used / 1024)} 4 MESSAGE 2 3)\r\nTAG OK GETQUOTAROOT completed\r\n`,
    'one root for the whole box, every folder counted, STORAGE in KiB rounded up',
  );
  t.equal(await s.run('GETQUOTA ""'), `* QUOTA "" (STORAGE ${Math.ceil(used / 1024)} 4 MESSAGE 2 3)\r\nTAG OK GETQUOTA completed\r\n`);
  t.match(await s.run('GETQUOTA "autre"'), /^TAG NO \[NONEXISTENT\]/);
  t.match(await s.run('SETQUOTA "" (STORAGE 100000)'), /^TAG NO \[NOPERM\]/);
  t.match(await s.run('GETQUOTAROOT Nulle-part'), /^TAG NO \[NONEXISTENT\]/);

  // an ORG box the person is linked to has its own root (R6)
  const orgRoot = `Partag&AOk-/${PHARMACY}`;
  t.match(await s.run(`GETQUOTAROOT "${orgRoot}/INBOX"`), new RegExp(`^\\* QUOTAROOT "${orgRoot.replace(/[&/.+-]/g, '\\$&')}/INBOX" "${orgRoot.replace(/[&/.+-]/g, '\\$&')}"\\r\\n\\* QUOTA "[^"]+" \\(STORAGE 0 4 MESSAGE 0 3\\)`));

  const small = message('un petit');
  t.match(await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${small.length}}\r\n`), small])), /^TAG OK \[APPENDUID/, 'fits');
  t.match(await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${small.length}}\r\n`), small])), /^TAG NO \[OVERQUOTA\] The mailbox is full \(limit 3 messages\)/, 'MESSAGE limit');
  limits.quotaMessages = 0;
  const large = message('y'.repeat(3000));
  t.match(await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${large.length}}\r\n`), large])), /^TAG NO \[OVERQUOTA\]/, 'STORAGE limit');

  s.select('INBOX');
  limits.quotaStorageBytes = 3000; // 1563 octets used, message 1 is 1516
  t.match(await s.run('COPY 1 Envoy&AOk-s'), /^TAG NO \[OVERQUOTA\]/, 'COPY adds to the box');
  t.match(await s.run('MOVE 1 Envoy&AOk-s'), /TAG OK MOVE completed\r\n$/, 'MOVE within the box adds nothing');
  t.match(await s.run(`COPY 1 "${orgRoot}/INBOX"`), /^TAG OK \[COPYUID/, 'the ORG box has its own quota, with room');
  limits.quotaStorageBytes = 1 << 20;
  limits.quotaMessages = 1;
  t.match(await s.run(`COPY 1 "${orgRoot}/INBOX"`), /^TAG NO \[OVERQUOTA\] .*limit 1 messages/, 'and its own limit');
});
