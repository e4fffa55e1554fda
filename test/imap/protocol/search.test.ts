import t from 'tap';
import { parseMessage, searchableText } from '../../../src/mime';
import { dayNumber } from '../../../src/imap/protocol/dates';
import { ImapError } from '../../../src/imap/protocol/errors';
import { compileSearch, evaluate, parseSearch, searchNeeds, usesModseq, type SearchMailbox, type SearchMessage } from '../../../src/imap/protocol/search';
import { parseSequenceSet } from '../../../src/imap/protocol/sequence';
import { argsOf, commandOf } from './helpers';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const search = (text: string) => parseSearch(argsOf(text));

interface Spec {
  seq: number;
  uid: number;
  flags?: string[];
  internalDate?: number;
  modseq?: number;
  recent?: boolean;
  raw?: Buffer;
}

const defaultRaw = crlf('Subject: hello', '', 'body');

/** A message as SEARCH sees it; counts how often the costly accessors run. */
function message(spec: Spec, calls = { headers: 0, body: 0 }): SearchMessage {
  const raw = spec.raw ?? defaultRaw;
  const parsed = parseMessage(raw);
  return {
    seq: spec.seq,
    uid: spec.uid,
    flags: new Set(spec.flags ?? []),
    internalDate: spec.internalDate ?? Date.UTC(2025, 2, 4, 10, 0, 0),
    size: raw.length,
    modseq: spec.modseq ?? 1,
    recent: spec.recent ?? false,
    headers: () => {
      calls.headers++;
      return parsed.header;
    },
    bodyText: () => {
      calls.body++;
      return searchableText(raw, parsed.structure);
    },
  };
}

const mailbox: SearchMailbox = { messageCount: 5, largestUid: 50 };
const matches = (text: string, spec: Spec, box = mailbox): boolean => evaluate(search(text).key, message(spec), box);

t.test('parsing every key into the tree (RFC 3501 §6.4.4)', async (t) => {
  t.same(search('ALL').key, { type: 'all' });
  t.same(search('unseen').key, { type: 'flag', flag: '\\Seen', set: false });
  t.same(search('ANSWERED DELETED DRAFT FLAGGED SEEN').key, {
    type: 'and',
    keys: ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen'].map((flag) => ({ type: 'flag', flag, set: true })),
  });
  t.same(search('UNANSWERED UNDELETED UNDRAFT UNFLAGGED').key, {
    type: 'and',
    keys: ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged'].map((flag) => ({ type: 'flag', flag, set: false })),
  });
  t.same(search('KEYWORD $Forwarded UNKEYWORD $Junk').key, {
    type: 'and',
    keys: [
      { type: 'flag', flag: '$Forwarded', set: true },
      { type: 'flag', flag: '$Junk', set: false },
    ],
  });
  t.same(search('NEW').key, { type: 'and', keys: [{ type: 'recent', recent: true }, { type: 'flag', flag: '\\Seen', set: false }] });
  t.same(search('OLD').key, { type: 'recent', recent: false });
  t.same(search('RECENT').key, { type: 'recent', recent: true });
  t.same(search('FROM dupont').key, { type: 'header', field: 'from', value: 'dupont' });
  for (const name of ['TO', 'CC', 'BCC', 'SUBJECT']) t.same(search(`${name} "x y"`).key, { type: 'header', field: name.toLowerCase(), value: 'x y' });
  t.same(search('HEADER X-MSS-INS 2790').key, { type: 'header', field: 'x-mss-ins', value: '2790' });
  t.same(search('BODY {5+}\r\nrésu').key, { type: 'body', value: 'résu' }, 'a literal, read as UTF-8');
  t.same(search('TEXT "analyse"').key, { type: 'text', value: 'analyse' });
  t.same(search('BEFORE 1-Feb-1994').key, { type: 'date', of: 'internal', comparison: 'before', day: dayNumber(1994, 1, 1) });
  t.same(search('ON "4-Mar-2025"').key, { type: 'date', of: 'internal', comparison: 'on', day: dayNumber(2025, 2, 4) });
  t.same(search('SINCE 04-mar-2025').key, { type: 'date', of: 'internal', comparison: 'since', day: dayNumber(2025, 2, 4) });
  t.same(search('SENTBEFORE 1-Jan-2025').key, { type: 'date', of: 'sent', comparison: 'before', day: dayNumber(2025, 0, 1) });
  t.same(search('SENTON 1-Jan-2025').key, { type: 'date', of: 'sent', comparison: 'on', day: dayNumber(2025, 0, 1) });
  t.same(search('SENTSINCE 1-Jan-2025').key, { type: 'date', of: 'sent', comparison: 'since', day: dayNumber(2025, 0, 1) });
  t.same(search('LARGER 100').key, { type: 'size', comparison: 'larger', octets: 100 });
  t.same(search('SMALLER 100').key, { type: 'size', comparison: 'smaller', octets: 100 });
  t.same(search('NOT SEEN').key, { type: 'not', key: { type: 'flag', flag: '\\Seen', set: true } });
  t.same(search('OR SEEN FLAGGED').key, { type: 'or', left: { type: 'flag', flag: '\\Seen', set: true }, right: { type: 'flag', flag: '\\Flagged', set: true } });
  t.same(search('UID 1:*').key, { type: 'uid', set: parseSequenceSet('1:*') });
  t.same(search('2:4,7').key, { type: 'sequence', set: parseSequenceSet('2:4,7') });
  t.same(search('3').key, { type: 'sequence', set: parseSequenceSet('3') });
  t.same(search('*').key, { type: 'sequence', set: parseSequenceSet('*') });
  t.same(search('(SEEN)').key, { type: 'flag', flag: '\\Seen', set: true }, 'a group of one is that key');
  t.same(search('(SEEN (FLAGGED DRAFT))').key, {
    type: 'and',
    keys: [
      { type: 'flag', flag: '\\Seen', set: true },
      { type: 'and', keys: [{ type: 'flag', flag: '\\Flagged', set: true }, { type: 'flag', flag: '\\Draft', set: true }] },
    ],
  });
  t.same(search('MODSEQ 620162338').key, { type: 'modseq', modseq: 620162338 });
  t.same(search('MODSEQ "/flags/\\\\draft" all 620162338').key, { type: 'modseq', modseq: 620162338 }, 'RFC 7162 entry name and type');
});

t.test('CHARSET (RFC 3501 §6.4.4): UTF-8 and US-ASCII, anything else NO [BADCHARSET]', async (t) => {
  t.equal(search('CHARSET UTF-8 SUBJECT x').charset, 'UTF-8');
  t.equal(search('charset "us-ascii" ALL').charset, 'US-ASCII');
  t.equal(search('ALL').charset, 'US-ASCII');
  const error = t.throws(() => search('CHARSET ISO-8859-1 SUBJECT x')) as unknown as ImapError;
  t.equal(error.kind, 'NO');
  t.equal(error.code, 'BADCHARSET (UTF-8 US-ASCII)');
  t.throws(() => search('SUBJECT x CHARSET UTF-8'), ImapError, 'CHARSET comes first');
});

t.test('syntax errors are a BAD', async (t) => {
  const bad = [
    '',
    'CHARSET UTF-8',
    'FOO',
    'SUBJECT',
    'HEADER X',
    'BEFORE 2025-03-04',
    'BEFORE 31-Feb-2025',
    'SINCE',
    'LARGER x',
    'LARGER -1',
    'NOT',
    'OR SEEN',
    'UID',
    'UID x',
    'UID "1:2"',
    '0',
    '1:0',
    '()',
    '"SEEN"',
    'KEYWORD \\Seen',
    'KEYWORD "x"',
    'MODSEQ',
    'MODSEQ x',
    'MODSEQ "/flags/x" nope 5',
    'MODSEQ "x" all 5',
    '$1',
    'UID $:2',
  ];
  for (const text of bad) {
    const error = t.throws(() => search(text), ImapError, JSON.stringify(text)) as unknown as ImapError;
    t.equal(error?.kind, 'BAD', JSON.stringify(text));
  }
  const deep = `${'NOT '.repeat(150)}ALL`;
  t.throws(() => search(deep), /too complex/, 'NOT nesting is bounded');
  t.ok(search(`${'NOT '.repeat(99)}ALL`), 'but ordinary nesting is fine');
  const grouped = parseSearch(commandOf(`A1 SEARCH ${'('.repeat(30)}SEEN${')'.repeat(30)}`).args);
  t.equal(evaluate(grouped.key, message({ seq: 1, uid: 1, flags: ['\\Seen'] }), mailbox), true, 'deep groups (the reader bounds their depth)');
});

t.test('flags, recent, sizes, modseq', async (t) => {
  const spec: Spec = { seq: 1, uid: 10, flags: ['\\Seen', '$Forwarded'], recent: true, modseq: 42 };
  t.equal(matches('SEEN', spec), true);
  t.equal(matches('UNSEEN', spec), false);
  t.equal(matches('FLAGGED', spec), false);
  t.equal(matches('UNFLAGGED', spec), true);
  t.equal(matches('KEYWORD $forwarded', spec), true, 'keywords compare case-insensitively');
  t.equal(matches('UNKEYWORD $Forwarded', spec), false);
  t.equal(matches('KEYWORD $Junk', spec), false);
  t.equal(matches('RECENT', spec), true);
  t.equal(matches('OLD', spec), false);
  t.equal(matches('NEW', spec), false, 'recent but seen');
  t.equal(matches('NEW', { ...spec, flags: [] }), true);
  t.equal(matches(`LARGER ${defaultRaw.length - 1}`, spec), true);
  t.equal(matches(`LARGER ${defaultRaw.length}`, spec), false, 'strictly larger');
  t.equal(matches(`SMALLER ${defaultRaw.length}`, spec), false, 'strictly smaller');
  t.equal(matches(`SMALLER ${defaultRaw.length + 1}`, spec), true);
  t.equal(matches('MODSEQ 42', spec), true, 'equal or greater (RFC 7162 §3.1.5)');
  t.equal(matches('MODSEQ 43', spec), false);
  t.equal(usesModseq(search('OR SEEN (NOT MODSEQ 5)').key), true);
  t.equal(usesModseq(search('SEEN').key), false);
});

t.test('sequence sets and UID sets, "*" taken from the mailbox', async (t) => {
  const last: Spec = { seq: 5, uid: 50 };
  const first: Spec = { seq: 1, uid: 3 };
  t.equal(matches('*', last), true, '"*" is the last message');
  t.equal(matches('*', first), false);
  t.equal(matches('1:2', first), true);
  t.equal(matches('4:*', last), true);
  t.equal(matches('UID 40:*', last), true);
  t.equal(matches('UID 60:*', last), true, '"60:*" is 50:60');
  t.equal(matches('UID 1:2,4', first), false);
  t.equal(matches('UID 3', first), true);
  t.equal(matches('NOT 1', first), false);
  t.equal(matches('9', { seq: 9, uid: 90 }), true, 'a number past the count only matches that message (none)');
});

t.test('internal dates compare by day, in the chosen zone (RFC 3501 §6.4.4)', async (t) => {
  const spec: Spec = { seq: 1, uid: 1, internalDate: Date.UTC(2025, 2, 4, 23, 30, 0) };
  t.equal(matches('ON 4-Mar-2025', spec), true, 'time disregarded');
  t.equal(matches('SINCE 4-Mar-2025', spec), true, 'SINCE includes the day');
  t.equal(matches('BEFORE 4-Mar-2025', spec), false, 'BEFORE excludes the day');
  t.equal(matches('BEFORE 5-Mar-2025', spec), true);
  t.equal(matches('SINCE 5-Mar-2025', spec), false);
  const paris = { ...mailbox, timeZoneOffset: 60 };
  t.equal(matches('ON 5-Mar-2025', spec, paris), true, '23:30 UTC is the 5th in Paris');
});

t.test('sent dates come from the Date: field as written, else from the internal date', async (t) => {
  const written = crlf('Date: Tue, 4 Mar 2025 23:59:00 -1000', 'Subject: x', '', 'body'); // 5 Mar in UTC
  const spec: Spec = { seq: 1, uid: 1, raw: written, internalDate: Date.UTC(2025, 5, 1) };
  t.equal(matches('SENTON 4-Mar-2025', spec), true, 'the day in the header, zone disregarded');
  t.equal(matches('SENTON 5-Mar-2025', spec), false);
  t.equal(matches('SENTBEFORE 5-Mar-2025', spec), true);
  t.equal(matches('SENTSINCE 5-Mar-2025', spec), false);
  t.equal(matches('SENTSINCE 4-Mar-2025', spec), true);
  const undated: Spec = { seq: 1, uid: 1, raw: crlf('Subject: x', '', 'b'), internalDate: Date.UTC(2025, 5, 1, 12) };
  t.equal(matches('SENTON 1-Jun-2025', undated), true, 'no Date: the internal date stands in');
  const broken: Spec = { seq: 1, uid: 1, raw: crlf('Date: someday', '', 'b'), internalDate: Date.UTC(2025, 5, 1, 12) };
  t.equal(matches('SENTON 1-Jun-2025', broken), true, 'an unreadable Date: too');
});

t.test('header and text searches: decoded values, case-insensitive substrings', async (t) => {
  const raw = crlf(
    'From: =?UTF-8?Q?Laboratoire_Pasteur_M=C3=A9decine?= <labo@labo.mssante.fr>',
    'To: jean.dupont@ch-test.mssante.fr, "Secrétariat" <secretariat@ch-test.mssante.fr>',
    'Cc: cc@x.fr',
    'Subject: =?UTF-8?B?UsOpc3VsdGF0cyBkJ2FuYWx5c2U=?=',
    'X-MSS-INS: 279035121518989',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Les r=E9sultats sont NORMAUX.',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Glyc&#233;mie <b>normale</b></p>',
    '--b--',
    '',
  );
  const spec: Spec = { seq: 1, uid: 1, raw };
  t.equal(matches('FROM "pasteur médecine"', spec), true, 'encoded words decoded, case folded');
  t.equal(matches('FROM labo.mssante', spec), true, 'the address is in the value');
  t.equal(matches('TO "secrétariat"', spec), true);
  t.equal(matches('CC cc@x.fr', spec), true);
  t.equal(matches('BCC x', spec), false, 'no such field');
  t.equal(matches('SUBJECT "RÉSULTATS D\'ANALYSE"', spec), true);
  t.equal(matches('SUBJECT resultats', spec), true, 'accents folded, as the full-text index folds them (issue 12)');
  t.equal(matches('SUBJECT resultaz', spec), false);
  t.equal(matches('HEADER X-MSS-INS 2790351', spec), true);
  t.equal(matches('HEADER x-mss-ins ""', spec), true, 'an empty string: the field exists');
  t.equal(matches('HEADER X-MSS-MES ""', spec), false);
  t.equal(matches('BODY "résultats sont normaux"', spec), true, 'quoted-printable Latin-1 decoded');
  t.equal(matches('BODY "glycémie"', spec), true, 'HTML entities decoded');
  t.equal(matches('BODY pasteur', spec), false, 'BODY does not look at the header');
  t.equal(matches('TEXT pasteur', spec), true, 'TEXT does');
  t.equal(matches('TEXT normale', spec), true);
  t.equal(matches('TEXT x-mss-ins', spec), true, 'field names are part of the header text');
  t.equal(matches('TEXT absent', spec), false);
});

t.test('boolean structure and evaluation order: cheap keys first, costly data only when needed', async (t) => {
  const raw = crlf('Subject: Résultats', '', 'corps du message');
  const calls = { headers: 0, body: 0 };
  const seen = message({ seq: 1, uid: 1, raw, flags: ['\\Seen'] }, calls);
  const unseen = message({ seq: 2, uid: 2, raw }, calls);
  const predicate = compileSearch(search('BODY corps SUBJECT "résultats" UNSEEN').key, mailbox);
  t.equal(predicate(seen), false);
  t.same(calls, { headers: 0, body: 0 }, 'UNSEEN decides before any header or body is read');
  t.equal(predicate(unseen), true);
  t.same(calls, { headers: 1, body: 1 });
  const or = compileSearch(search('OR BODY corps SEEN').key, mailbox);
  calls.body = 0;
  t.equal(or(seen), true);
  t.equal(calls.body, 0, 'OR tries the cheap side first');
  t.equal(or(unseen), true);
  t.equal(calls.body, 1);
  t.equal(matches('OR (SEEN FLAGGED) NOT (UID 1:5)', { seq: 1, uid: 9, flags: ['\\Seen'] }), true);
  t.equal(matches('OR (SEEN FLAGGED) NOT (UID 1:5)', { seq: 1, uid: 3, flags: ['\\Seen'] }), false);
  t.equal(matches('NOT NOT SEEN', { seq: 1, uid: 3, flags: ['\\Seen'] }), true);
});

t.test('what a search needs loaded', async (t) => {
  t.same(searchNeeds(search('UNSEEN UID 1:*').key), { flags: true, internalDate: false, size: false, modseq: false, headers: false, body: false });
  t.same(searchNeeds(search('OR FROM x LARGER 5').key), { flags: false, internalDate: false, size: true, modseq: false, headers: true, body: false });
  t.same(searchNeeds(search('NOT TEXT x').key), { flags: false, internalDate: false, size: false, modseq: false, headers: true, body: true });
  t.same(searchNeeds(search('SENTON 1-Jan-2025 MODSEQ 3').key), { flags: false, internalDate: true, size: false, modseq: true, headers: true, body: false });
  t.same(searchNeeds(search('SINCE 1-Jan-2025').key), { flags: false, internalDate: true, size: false, modseq: false, headers: false, body: false });
});

t.test('100 000 messages: a flag search stays cheap (compiled once, no allocation per key)', async (t) => {
  const predicate = compileSearch(search('UNSEEN UNDELETED UID 1:*').key, { messageCount: 100000, largestUid: 100000 });
  const flags = [new Set<string>(), new Set(['\\Seen'])];
  let count = 0;
  const headers = (): never => {
    throw new Error('headers read');
  };
  for (let i = 1; i <= 100000; i++) {
    const matched = predicate({ seq: i, uid: i, flags: flags[i % 2], internalDate: 0, size: 1, modseq: 1, recent: false, headers, bodyText: headers });
    if (matched) count++;
  }
  t.equal(count, 50000);
});
