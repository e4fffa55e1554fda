// Compliance fixes of issue 12 (the groups imaptest's scripted suite failed): \Recent under
// EXAMINE, NIL as a flag, FROM/TO matching addresses as Dovecot does, LIST patterns that are not
// modified UTF-7, and UTF-8 in quoted strings.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

function message(headers: string[], body = 'body'): Buffer {
  return Buffer.from([...headers, '', body, ''].join('\r\n'));
}

t.test('EXAMINE shows \\Recent without claiming it; SELECT then claims it', async (t) => {
  const w = freshWorld(t);
  const inbox = mailboxId(w.db, w.jean, 'INBOX');
  appendToMailbox(w.db, inbox, message(['Subject: a']), [], Date.now());
  appendToMailbox(w.db, inbox, message(['Subject: b']), [], Date.now());
  const s = testSession(w.db, w.jean);
  const examined = await s.run('EXAMINE INBOX');
  t.match(examined, /\* 2 RECENT\r\n/);
  t.match(await s.run('FETCH 1 FLAGS'), /FLAGS \(\\Recent\)/);
  await s.run('CLOSE');
  t.match(await s.run('STATUS INBOX (RECENT)'), /RECENT 2\)/, 'EXAMINE left \\Recent in place');
  t.match(await s.run('SELECT INBOX'), /\* 2 RECENT\r\n/);
  await s.run('CLOSE');
  t.match(await s.run('STATUS INBOX (RECENT)'), /RECENT 0\)/, 'SELECT claimed them');
  t.match(await s.run('EXAMINE INBOX'), /\* 0 RECENT\r\n/);
});

t.test('NIL is an atom: a keyword, a search string, a LIST pattern', async (t) => {
  const w = freshWorld(t);
  const inbox = mailboxId(w.db, w.jean, 'INBOX');
  appendToMailbox(w.db, inbox, message(['Subject: nil here'], 'nil body'), [], Date.now());
  const s = testSession(w.db, w.jean);
  s.select('INBOX');
  t.match(await s.run('STORE 1 +FLAGS NIL'), /FETCH \(FLAGS \(NIL \\Recent\)\)\r\nTAG OK/);
  t.match(await s.run('FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \(NIL \\Recent\)\)/);
  t.match(await s.run('SEARCH SUBJECT NIL'), /^\* SEARCH 1\r\n/);
  t.match(await s.run('SEARCH KEYWORD NIL'), /^\* SEARCH 1\r\n/);
  t.match(await s.run('LIST "" NIL'), /^TAG OK/);
});

t.test('FROM/TO/CC/BCC match display names and address parts, comments and groups included', async (t) => {
  const w = freshWorld(t);
  const inbox = mailboxId(w.db, w.jean, 'INBOX');
  const messages = [
    ['From: user-from@domain.org', 'To: user-to@domain.org'],
    ['From: RealFrom <user-from@domain.org>', 'To: RealTo <user-to@domain.org>'],
    ['From: <user-from (comment)@ (comment) domain.org>', 'To: <user-to@domain.org>'],
    ['From: user-from@domain.org (RealFrom)', 'To: user-to@domain.org (RealTo)'],
    ['From: user-from1@domain.org, user-from2@domain.org'],
    ['From: RealFrom <user-from@domain.org>', 'To: groupname: groupuser1@domain.org, groupuser2@domain.org;,', '  groupname2: groupuser3@domain.org;'],
    ['From: =?utf-8?q?Dr_=C3=89mile?= <emile@chu.fr>', 'To: groupname:;'],
  ];
  for (const headers of messages) appendToMailbox(w.db, inbox, message(headers), [], Date.now());
  const s = testSession(w.db, w.jean);
  s.select('INBOX');
  const search = async (criteria: string) => (await s.run(`SEARCH ${criteria}`)).split('\r\n')[0];
  t.equal(await search('FROM user-from@domain.org'), '* SEARCH 1 2 3 4 6');
  t.equal(await search('FROM realfrom'), '* SEARCH 2 4 6');
  t.equal(await search('FROM ealfro'), '* SEARCH 2 4 6');
  t.equal(await search('FROM ser-fro'), '* SEARCH 1 2 3 4 5 6');
  t.equal(await search('FROM user-from2'), '* SEARCH 5');
  t.equal(await search('TO groupname'), '* SEARCH 6 7');
  t.equal(await search('TO groupname2'), '* SEARCH 6');
  t.equal(await search('TO groupuser3'), '* SEARCH 6');
  t.equal(await search('TO groupuser4'), '* SEARCH');
  t.equal(await search('HEADER TO ""'), '* SEARCH 1 2 3 4 6 7');
  const accented = await s.runRaw(Buffer.from('SEARCH CHARSET UTF-8 FROM "émile"', 'utf8'));
  t.equal(accented.toString('utf8').split('\r\n')[0], '* SEARCH 7', 'encoded-word display name, UTF-8 quoted string');
});

t.test('LIST with a pattern that is not modified UTF-7 answers instead of refusing', async (t) => {
  const w = freshWorld(t);
  const s = testSession(w.db, w.jean);
  t.equal(await s.run('LIST "" ~foo'), 'TAG OK LIST completed\r\n');
  t.equal(await s.run("LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*"), 'TAG OK LIST completed\r\n');
  t.equal(await s.run('LSUB "" &foo'), 'TAG OK LSUB completed\r\n');
  t.match(await s.run("SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}"), /^TAG NO /, 'SELECT of such a name is a NO, not a BAD');
});

t.test('UTF-8 in a quoted string (Python imaplib SEARCH CHARSET UTF-8 TEXT "glycémie")', async (t) => {
  const w = freshWorld(t);
  const inbox = mailboxId(w.db, w.jean, 'INBOX');
  appendToMailbox(w.db, inbox, message(['Subject: bilan', 'Content-Type: text/plain; charset=utf-8'], 'Glycémie à jeun normale'), [], Date.now());
  appendToMailbox(w.db, inbox, message(['Subject: autre'], 'rien'), [], Date.now());
  const s = testSession(w.db, w.jean);
  s.select('INBOX');
  const reply = await s.runRaw(Buffer.from('SEARCH CHARSET UTF-8 TEXT "glycémie"', 'utf8'));
  t.equal(reply.toString('utf8').split('\r\n')[0], '* SEARCH 1');
  const invalid = await s.runRaw(Buffer.concat([Buffer.from('SEARCH TEXT "gly'), Buffer.from([0xc3, 0x28]), Buffer.from('"')]));
  t.match(invalid.toString('latin1'), /^T\d+ BAD Invalid UTF-8/, 'invalid UTF-8 is still a BAD');
});
