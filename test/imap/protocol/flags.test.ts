import t from 'tap';
import { ImapError } from '../../../src/imap/protocol/errors';
import { parseFlag, parseFlagList, parseStoreArguments } from '../../../src/imap/protocol/flags';
import { argsOf } from './helpers';

const store = (text: string) => parseStoreArguments(argsOf(text));

t.test('flags: system flags in canonical case, keywords as sent (RFC 3501 §2.3.2, §9 flag)', async (t) => {
  const [list] = argsOf('(\\seen \\ANSWERED \\Flagged \\deleted \\Draft $Forwarded $MDNSent Junk)');
  t.same(parseFlagList(list), ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$Forwarded', '$MDNSent', 'Junk']);
  t.same(parseFlagList(argsOf('()')[0]), [], 'an empty flag list');
  t.same(parseFlagList(argsOf('(\\Seen \\SEEN $a $A)')[0]), ['\\Seen', '$a'], 'duplicates dropped, keywords case-insensitively');
  t.throws(() => parseFlag(argsOf('\\Recent')[0]), /Recent/, '\\Recent belongs to the server');
  t.throws(() => parseFlag(argsOf('\\Important')[0]), ImapError, 'unknown system flag');
  t.throws(() => parseFlag(argsOf('"Junk"')[0]), ImapError, 'a keyword is an atom, not a string');
  t.throws(() => parseFlag(argsOf('a]b')[0]), ImapError, '"]" is not an ATOM-CHAR');
  t.throws(() => parseFlag(argsOf('a*')[0]), ImapError);
  t.throws(() => parseFlag(argsOf('12')[0]), ImapError, 'a number token is not an atom flag');
  t.throws(() => parseFlagList(argsOf('\\Seen')[0]), ImapError, 'a flag list needs its parentheses');
  t.throws(() => parseFlagList(argsOf('((\\Seen))')[0]), ImapError);
});

t.test('STORE arguments (RFC 3501 §6.4.6)', async (t) => {
  t.same(store('+FLAGS.SILENT (\\Seen)'), { operation: 'add', silent: true, flags: ['\\Seen'], unchangedSince: null });
  t.same(store('-flags (\\Deleted $Junk)'), { operation: 'remove', silent: false, flags: ['\\Deleted', '$Junk'], unchangedSince: null });
  t.same(store('FLAGS ()'), { operation: 'replace', silent: false, flags: [], unchangedSince: null }, 'FLAGS () clears every flag');
  t.same(store('+FLAGS \\Seen \\Flagged'), { operation: 'add', silent: false, flags: ['\\Seen', '\\Flagged'], unchangedSince: null }, 'flags without parentheses');
  for (const bad of ['', '+FLAGS', 'FLAGS.LOUD (\\Seen)', '*FLAGS (\\Seen)', 'KEYWORDS (a)', '+FLAGS (\\Recent)', '+FLAGS (\\Seen) (\\Draft)', '+FLAGS "x"', '(\\Seen)']) {
    t.throws(() => store(bad), ImapError, JSON.stringify(bad));
  }
});

t.test('STORE with UNCHANGEDSINCE (RFC 7162 §3.1.3)', async (t) => {
  t.same(store('(UNCHANGEDSINCE 12) +FLAGS.SILENT (\\Seen)'), { operation: 'add', silent: true, flags: ['\\Seen'], unchangedSince: 12 });
  t.equal(store('(unchangedsince 0) FLAGS ()').unchangedSince, 0, '0 is allowed (mod-sequence-valzer)');
  t.equal(store(`(UNCHANGEDSINCE ${Number.MAX_SAFE_INTEGER}) FLAGS ()`).unchangedSince, Number.MAX_SAFE_INTEGER);
  for (const bad of ['() FLAGS ()', '(UNCHANGEDSINCE) FLAGS ()', '(UNCHANGEDSINCE x) FLAGS ()', '(FOO 1) FLAGS ()', '(UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()', '(UNCHANGEDSINCE 99999999999999999999) FLAGS ()', 'FLAGS () (UNCHANGEDSINCE 1)']) {
    t.throws(() => store(bad), ImapError, bad);
  }
});
