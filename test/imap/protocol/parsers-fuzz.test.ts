import t from 'tap';
import type { TapTest } from '../../helpers/tap';
import { parseStructure } from '../../../src/mime';
import { ImapError } from '../../../src/imap/protocol/errors';
import { decodeMailboxName, encodeMailboxName } from '../../../src/imap/protocol/encode';
import { parseFetchArguments } from '../../../src/imap/protocol/fetch-items';
import { parseStoreArguments } from '../../../src/imap/protocol/flags';
import { CommandReader } from '../../../src/imap/protocol/reader';
import { compileSearch, parseSearch } from '../../../src/imap/protocol/search';
import { fetchSection } from '../../../src/imap/protocol/sections';
import { parseSequenceSet } from '../../../src/imap/protocol/sequence';
import { generator as random } from '../../fuzz/mutate';


/** Runs `action`; anything thrown other than an ImapError is a failure. */
function onlyImapErrors(t: TapTest, what: string, action: () => unknown): 'ok' | 'refused' {
  try {
    action();
    return 'ok';
  } catch (error) {
    if (!(error instanceof ImapError)) t.fail(`${what}: ${String(error)}`);
    return 'refused';
  }
}

t.test('argument parsers refuse random arguments with an ImapError, never anything else', async (t) => {
  const next = random(7162);
  const words = [
    'ALL', 'FAST', 'FULL', 'FLAGS', '+FLAGS', '-FLAGS.SILENT', 'BODY', 'BODY.PEEK[', 'BODY[', ']', '<0.10>', 'HEADER', 'HEADER.FIELDS',
    'TEXT', 'MIME', '1.2', '0', '1:*', '*', '5:3', 'UID', 'MODSEQ', 'CHANGEDSINCE', 'UNCHANGEDSINCE', '12', 'NOT', 'OR', 'SEEN',
    'KEYWORD', '$Junk', '\\Seen', '\\Recent', 'SUBJECT', '"x"', 'HEADER', 'BEFORE', '1-Feb-1994', 'LARGER', 'CHARSET', 'UTF-8',
    'RFC822', 'RFC822.HEADER', 'ENVELOPE', '(', ')', 'NIL', '{3+}\r\nabc', '"/flags/\\\\seen"', 'all', 'priv', '99999999999999999999',
  ];
  const raw = Buffer.from('Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b--\r\n');
  const structure = parseStructure(raw);
  const outcomes = { ok: 0, refused: 0 };
  for (let round = 0; round < 4000; round++) {
    let text = '';
    const count = 1 + Math.floor(next() * 8);
    for (let i = 0; i < count; i++) text += (i > 0 && next() < 0.8 ? ' ' : '') + words[Math.floor(next() * words.length)];
    const reader = new CommandReader();
    reader.push(Buffer.from(`A1 X ${text}\r\n`, 'latin1'));
    const event = reader.next();
    if (event?.type !== 'command') continue;
    const args = event.args;
    outcomes[onlyImapErrors(t, `FETCH ${text}`, () => {
      const request = parseFetchArguments(args, { uid: next() < 0.5 });
      for (const item of request.items) if (item.type === 'section') fetchSection(raw, structure, item);
    })]++;
    outcomes[onlyImapErrors(t, `STORE ${text}`, () => parseStoreArguments(args))]++;
    outcomes[onlyImapErrors(t, `SEARCH ${text}`, () => {
      const predicate = compileSearch(parseSearch(args).key, { messageCount: 3, largestUid: 9 });
      predicate({ seq: 1, uid: 1, flags: new Set(), internalDate: 0, size: 10, modseq: 1, recent: false, headers: () => [], bodyText: () => '' });
    })]++;
    outcomes[onlyImapErrors(t, `sequence ${text}`, () => parseSequenceSet(text))]++;
  }
  t.ok(outcomes.ok > 200 && outcomes.refused > 1000, JSON.stringify(outcomes));
});

t.test('modified UTF-7: random names round-trip, random wire text never throws', async (t) => {
  const next = random(3501);
  const alphabet = 'aZ&-+,/ .~éà台😀\u0001\u007f';
  let accepted = 0;
  for (let round = 0; round < 3000; round++) {
    let name = '';
    const length = Math.floor(next() * 12);
    for (let i = 0; i < length; i++) name += Array.from(alphabet)[Math.floor(next() * Array.from(alphabet).length)];
    t.equal(decodeMailboxName(encodeMailboxName(name)), name);
    let wire = '';
    for (let i = 0; i < length; i++) wire += 'A&-+,Oky0AZ/é'[Math.floor(next() * 13)];
    const decoded = decodeMailboxName(wire);
    if (decoded !== null) {
      accepted++;
      t.equal(encodeMailboxName(decoded), wire, 'an accepted name has exactly one spelling');
    }
  }
  t.ok(accepted > 100, `${accepted} random wire names accepted`);
});
