// SEARCH and UID SEARCH (RFC 3501 section 6.4.4; MODSEQ RFC 7162 section 3.1.5).
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';
import { world } from './messages-world';

t.test('SEARCH keys, UTF-8 text, UID SEARCH, MODSEQ', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const search = async (criteria: string | Buffer) => (await a.run(Buffer.concat([Buffer.from('SEARCH '), Buffer.from(criteria)]))).split('\r\n')[0];
  t.equal(await search('ALL'), '* SEARCH 1 2 3');
  t.equal(await search('UNSEEN'), '* SEARCH 1 2');
  t.equal(await search('FLAGGED UNSEEN'), '* SEARCH 2');
  t.equal(await search('KEYWORD $label1'), '* SEARCH 3');
  t.equal(await search('OR FLAGGED KEYWORD $label1'), '* SEARCH 2 3');
  t.equal(await search('NOT FROM secretariat'), '* SEARCH 1');
  t.equal(await search('SUBJECT planning'), '* SEARCH 3');
  t.equal(await search('SINCE 2-Jun-2026 BEFORE 3-Jun-2026'), '* SEARCH 2');
  t.equal(await search('SENTON 1-Jun-2026'), '* SEARCH 1');
  t.equal(await search('RECENT'), '* SEARCH 1 2 3');
  t.equal(await search('2:* LARGER 10'), '* SEARCH 2 3');
  t.equal(await search('HEADER X-MSS-INS 1800175'), '* SEARCH 1');
  const accents = Buffer.from('hémoglobine', 'utf8');
  t.equal(await search(Buffer.concat([Buffer.from(`CHARSET UTF-8 TEXT {${accents.length}}\r\n`), accents])), '* SEARCH 1', 'decoded quoted-printable body');
  const subject = Buffer.from('résultats', 'utf8');
  t.equal(await search(Buffer.concat([Buffer.from(`CHARSET UTF-8 SUBJECT {${subject.length}}\r\n`), subject])), '* SEARCH 1', 'decoded RFC 2047 subject');
  t.equal(await search('BODY garde'), '* SEARCH 3');
  t.equal(await search('CHARSET KOI8-R TEXT x'), 'TAG NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R');
  t.match(await search('FROBNICATE'), /^TAG BAD /);
  t.equal((await a.run('UID SEARCH UID 2:* UNFLAGGED')).split('\r\n')[0], '* SEARCH 3');
  const modseqs = fetchMessages(db, mailboxId(db, jean, 'INBOX'), [1, 2, 3]).map((row) => row.modseq);
  t.equal(
    await a.run(`SEARCH MODSEQ ${modseqs[1]}`),
    `* OK [HIGHESTMODSEQ ${Math.max(...modseqs)}] Highest modification sequence\r\n* SEARCH 2 3 (MODSEQ ${Math.max(...modseqs)})\r\nTAG OK SEARCH completed\r\n`,
    'RFC 7162 section 3.1: SEARCH MODSEQ enables CONDSTORE, which reports HIGHESTMODSEQ first',
  );
  t.equal(await search(`MODSEQ ${modseqs[1]}`), `* SEARCH 2 3 (MODSEQ ${Math.max(...modseqs)})`, 'only the first time');
  t.equal(await search('MODSEQ 99999'), '* SEARCH');
});

t.test('SEARCH: unknown keys are BAD, and it needs a selected mailbox', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('SEARCH ALL'), 'TAG BAD SEARCH needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  a.select('INBOX');
  t.match(await a.run('SEARCH FROBNICATE'), /^TAG BAD /);
  t.match(await a.run('SEARCH'), /^TAG BAD /, 'no key');
  t.match(await a.run('SEARCH CHARSET X-UNKNOWN TEXT a'), /^TAG NO \[BADCHARSET/, 'unknown charset: NO [BADCHARSET] (RFC 3501 section 6.4.4)');
  t.equal(await a.run('SEARCH SUBJECT "absent de partout"'), '* SEARCH\r\nTAG OK SEARCH completed\r\n', 'no match: an empty SEARCH response');
});
