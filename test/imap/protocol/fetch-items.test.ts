import t from 'tap';
import { ImapError } from '../../../src/imap/protocol/errors';
import { formatSection, parseFetchArguments, type BodySectionItem, type FetchItem } from '../../../src/imap/protocol/fetch-items';
import { argsOf } from './helpers';

const fetch = (text: string, uid = false) => parseFetchArguments(argsOf(text), { uid });
const names = (items: FetchItem[]): string[] => items.map((item) => (item.type === 'section' ? item.responseName : item.type));
const section = (text: string): BodySectionItem => fetch(text).items[0] as BodySectionItem;

t.test('macros ALL, FAST, FULL (RFC 3501 §6.4.5)', async (t) => {
  t.same(names(fetch('ALL').items), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  t.same(names(fetch('fast').items), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  t.same(names(fetch('FULL').items), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
  t.throws(() => fetch('(ALL)'), ImapError, 'a macro is only valid alone');
  t.throws(() => fetch('(FLAGS FAST)'), ImapError);
});

t.test('simple attributes, alone or in a list, duplicates dropped', async (t) => {
  t.same(names(fetch('FLAGS').items), ['FLAGS']);
  t.same(names(fetch('(uid flags BODYSTRUCTURE body envelope internaldate rfc822.size modseq FLAGS)').items), [
    'UID',
    'FLAGS',
    'BODYSTRUCTURE',
    'BODY',
    'ENVELOPE',
    'INTERNALDATE',
    'RFC822.SIZE',
    'MODSEQ',
  ]);
  t.same(names(fetch('()').items), [], 'an empty list is tolerated');
  for (const bad of ['FOO', '(FLAGS FOO)', '"FLAGS"', '1', 'BINARY[1.TEXT]', 'BINARY.SIZE[1]<0.5>', 'BINARY[0]', '(FLAGS) (FOO 1)', 'FLAGS (CHANGEDSINCE)', 'FLAGS (CHANGEDSINCE x)', 'FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)', 'FLAGS () ', 'FLAGS (CHANGEDSINCE 1) extra']) {
    t.throws(() => fetch(bad), ImapError, bad);
  }
  t.throws(() => parseFetchArguments([], { uid: false }), ImapError, 'attributes are required');
});

t.test('BINARY, BINARY.PEEK, BINARY.SIZE (RFC 3516 §4.2)', async (t) => {
  const request = fetch('(BINARY.PEEK[1.2]<0.10> BINARY.SIZE[1.2] BINARY[])');
  t.same(
    request.items.map((item) => (item.type === 'binary' ? [item.responseName, item.part, item.peek, item.sizeOnly] : item.type)),
    [
      ['BINARY[1.2]<0>', [1, 2], true, false],
      ['BINARY.SIZE[1.2]', [1, 2], true, true],
      ['BINARY[]', [], false, false],
    ],
  );
  t.ok(request.setsSeen, 'BINARY without PEEK sets \\Seen');
  t.ok(request.needs.content && request.needs.structure && !request.needs.headerOnly);
  t.notOk(fetch('BINARY.SIZE[1]').setsSeen, 'BINARY.SIZE never sets \\Seen');
});

t.test('UID FETCH always returns UID; CHANGEDSINCE adds MODSEQ (RFC 3501 §6.4.8, RFC 7162 §3.1.4.1)', async (t) => {
  t.same(names(fetch('(FLAGS)', true).items), ['UID', 'FLAGS']);
  t.same(names(fetch('(FLAGS UID)', true).items), ['UID', 'FLAGS']);
  const changed = fetch('(FLAGS) (CHANGEDSINCE 12345)', true);
  t.same(names(changed.items), ['UID', 'FLAGS', 'MODSEQ']);
  t.equal(changed.changedSince, 12345);
  t.equal(fetch('FLAGS (changedsince 0)').changedSince, 0, 'mod-sequence-valzer allows 0');
  t.equal(fetch('FLAGS').changedSince, null);
});

t.test('BODY[section]: every section form (RFC 3501 §6.4.5, §9 section-spec)', async (t) => {
  const cases: Array<[string, { part: number[]; text: string | null; fields: string[] }, string]> = [
    ['BODY[]', { part: [], text: null, fields: [] }, 'BODY[]'],
    ['BODY[header]', { part: [], text: 'HEADER', fields: [] }, 'BODY[HEADER]'],
    ['BODY[TEXT]', { part: [], text: 'TEXT', fields: [] }, 'BODY[TEXT]'],
    ['BODY[1]', { part: [1], text: null, fields: [] }, 'BODY[1]'],
    ['BODY[1.2.3]', { part: [1, 2, 3], text: null, fields: [] }, 'BODY[1.2.3]'],
    ['BODY[1.2.MIME]', { part: [1, 2], text: 'MIME', fields: [] }, 'BODY[1.2.MIME]'],
    ['BODY[4.HEADER]', { part: [4], text: 'HEADER', fields: [] }, 'BODY[4.HEADER]'],
    ['BODY[4.2.TEXT]', { part: [4, 2], text: 'TEXT', fields: [] }, 'BODY[4.2.TEXT]'],
    ['BODY[HEADER.FIELDS (Date From)]', { part: [], text: 'HEADER.FIELDS', fields: ['Date', 'From'] }, 'BODY[HEADER.FIELDS (Date From)]'],
    ['BODY[header.fields.not (X-MSS-INS "Received")]', { part: [], text: 'HEADER.FIELDS.NOT', fields: ['X-MSS-INS', 'Received'] }, 'BODY[HEADER.FIELDS.NOT (X-MSS-INS Received)]'],
    ['BODY[2.HEADER.FIELDS (SUBJECT)]', { part: [2], text: 'HEADER.FIELDS', fields: ['SUBJECT'] }, 'BODY[2.HEADER.FIELDS (SUBJECT)]'],
  ];
  for (const [text, expected, responseName] of cases) {
    const item = section(text);
    t.same(item.section, expected, text);
    t.equal(item.responseName, responseName, `${text} answers as ${responseName}`);
    t.equal(item.peek, false);
    t.equal(item.partial, null);
    t.equal(formatSection(item.section), responseName.slice(5, -1));
  }
  for (const bad of ['BODY[MIME]', 'BODY[0]', 'BODY[01]', 'BODY[1.0]', 'BODY[1..2]', 'BODY[FOO]', 'BODY[1.FOO]', 'BODY[HEADER.FIELDS]', 'BODY[HEADER.FIELDS ()]', 'BODY[HEADER.FIELDS (A:B)]', 'BODY[HEADER (A)]', 'BODY[TEXT TEXT]', 'BODY[HEADER.FIELDS (A) (B)]', 'BODY[(A)]', 'BODY["TEXT"]', 'BODY[HEADER.FIELDS (NIL)] x']) {
    t.throws(() => fetch(bad), ImapError, bad);
  }
});

t.test('PEEK, partials, RFC822 forms and \\Seen', async (t) => {
  const peek = section('BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.2048>');
  t.equal(peek.peek, true);
  t.same(peek.partial, { origin: 0, count: 2048 });
  t.equal(peek.responseName, 'BODY[HEADER.FIELDS (FROM TO)]<0>', 'the response drops PEEK and the count (§7.4.2)');
  t.equal(section('BODY[]<100.5>').responseName, 'BODY[]<100>');
  for (const bad of ['BODY[]<5>', 'BODY[]<1.0>', 'BODY[]<.5>', 'BODY[]<1.>', 'BODY[]<1.2.3>', 'BODY[]<99999999999.1>']) t.throws(() => fetch(bad), ImapError, bad);

  const rfc822 = section('RFC822');
  t.same([rfc822.responseName, rfc822.peek, rfc822.section], ['RFC822', false, { part: [], text: null, fields: [] }]);
  const header = section('RFC822.HEADER');
  t.same([header.responseName, header.peek, header.section.text], ['RFC822.HEADER', true, 'HEADER']);
  const text = section('RFC822.TEXT');
  t.same([text.responseName, text.peek, text.section.text], ['RFC822.TEXT', false, 'TEXT']);

  t.equal(fetch('(FLAGS BODY.PEEK[] RFC822.HEADER)').setsSeen, false);
  t.equal(fetch('(BODY.PEEK[] BODY[1])').setsSeen, true);
  t.equal(fetch('RFC822').setsSeen, true);
  t.equal(fetch('RFC822.TEXT').setsSeen, true);
  t.same(names(fetch('(BODY[1] BODY.PEEK[1] BODY[1]<0.10>)').items), ['BODY[1]', 'BODY[1]<0>'], 'the same response name only once');
});

t.test('what the session must load', async (t) => {
  t.same(fetch('(FLAGS)', true).needs, { flags: true, internalDate: false, size: false, envelope: false, structure: false, content: false, headerOnly: false, modseq: false });
  t.same(fetch('ALL').needs, { flags: true, internalDate: true, size: true, envelope: true, structure: false, content: false, headerOnly: false, modseq: false });
  t.match(fetch('(BODY.PEEK[HEADER.FIELDS (FROM)] RFC822.HEADER)').needs, { flags: false, content: true, headerOnly: true, structure: false });
  t.match(fetch('BODY[TEXT]').needs, { flags: true, content: true, headerOnly: false }, 'setting \\Seen means answering FLAGS');
  t.match(fetch('BODY.PEEK[1.MIME]').needs, { content: true, structure: true, headerOnly: false });
  t.match(fetch('BODYSTRUCTURE (CHANGEDSINCE 5)').needs, { structure: true, content: false, modseq: true });
});
