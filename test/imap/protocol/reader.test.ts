import t from 'tap';
import { CommandReader, type Command, type ReaderError, type ReaderEvent, type ReaderOptions } from '../../../src/imap/protocol/reader';
import { generator as random } from '../../fuzz/mutate';

/** Every event the reader yields for this input, pushed in one chunk or in chunks of `step` octets. */
function events(input: string | Buffer, options: ReaderOptions = {}, step = 0): ReaderEvent[] {
  const reader = new CommandReader(options);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: ReaderEvent[] = [];
  const drain = (): void => {
    for (let event = reader.next(); event; event = reader.next()) out.push(event);
  };
  if (step <= 0) {
    reader.push(bytes);
    drain();
  } else {
    for (let i = 0; i < bytes.length; i += step) {
      reader.push(bytes.subarray(i, i + step));
      drain();
    }
  }
  return out;
}

function only<T extends ReaderEvent['type']>(list: ReaderEvent[], type: T): Array<Extract<ReaderEvent, { type: T }>> {
  return list.filter((event): event is Extract<ReaderEvent, { type: T }> => event.type === type);
}

/** A compact, comparable form of the arguments. */
function shape(command: Command): unknown {
  const of = (token: Command['args'][number]): unknown => {
    switch (token.type) {
      case 'atom':
        return token.value;
      case 'number':
        return token.number;
      case 'nil':
        return null;
      case 'string':
        return { q: token.value };
      case 'literal':
        return { lit: token.value.toString('latin1') };
      case 'list':
        return token.items.map(of);
      case 'section':
        return { section: token.name, items: token.items.map(of), partial: token.partial };
    }
  };
  return command.args.map(of);
}

t.test('simple commands: tag, upper-cased name, typed arguments (RFC 3501 §2.2.1, §4)', async (t) => {
  const [login, noop] = events('a001 login fred "pass word"\r\nA2 noop\r\n') as Command[];
  t.equal(login.type, 'command');
  t.equal(login.tag, 'a001');
  t.equal(login.name, 'LOGIN');
  t.equal(login.uid, false);
  t.same(shape(login), ['fred', { q: 'pass word' }]);
  t.equal(login.size, 'a001 login fred "pass word"\r\n'.length);
  t.equal(noop.name, 'NOOP');
  t.same(noop.args, []);

  const [fetch] = events('A3 FETCH 1:*,7 (FLAGS UID RFC822.SIZE) (CHANGEDSINCE 12345)\r\n') as Command[];
  t.same(shape(fetch), ['1:*,7', ['FLAGS', 'UID', 'RFC822.SIZE'], ['CHANGEDSINCE', 12345]]);
  t.equal((fetch.args[2] as { items: Array<{ type: string }> }).items[1].type, 'number');

  const [nil] = events('A4 ID nil\r\n') as Command[];
  t.same(nil.args, [{ type: 'nil', value: 'nil' }], 'NIL in any case, spelling kept');
});

t.test('UID prefix folds into the command (RFC 3501 §6.4.8)', async (t) => {
  const [command] = events('A1 uid fetch 1:* (FLAGS)\r\n') as Command[];
  t.equal(command.name, 'FETCH');
  t.equal(command.uid, true);
  t.same(shape(command), ['1:*', ['FLAGS']]);
  const [error] = events('A2 UID\r\n') as ReaderError[];
  t.match(error, { type: 'error', tag: 'A2', kind: 'BAD', fatal: false });
});

t.test('flags, wildcards, "]" and "+" stay inside atoms', async (t) => {
  const [store] = events('A1 STORE 2:4 +FLAGS.SILENT (\\Seen \\Deleted $Forwarded)\r\n') as Command[];
  t.same(shape(store), ['2:4', '+FLAGS.SILENT', ['\\Seen', '\\Deleted', '$Forwarded']]);
  const [list] = events('A2 LIST "" INBOX.*\r\nA3 LIST "" %\r\n') as Command[];
  t.same(shape(list), [{ q: '' }, 'INBOX.*']);
  const [select] = events('A4 SELECT foo[bar]\r\n') as Command[];
  t.same(shape(select), ['foo[bar]'], 'brackets are plain characters outside BODY[...]');
  const [auth] = events('A5 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0==\r\n') as Command[];
  t.same(shape(auth), ['PLAIN', 'AGZyZWQAc2VjcmV0==']);
});

t.test('FETCH sections: BODY[...], BODY.PEEK[...] and partials (RFC 3501 §6.4.5)', async (t) => {
  const [command] = events('A1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.100> body[1.2.MIME] BODY[] BODY[TEXT]<5>)\r\n') as Command[];
  t.same(shape(command), [
    1,
    [
      { section: 'BODY.PEEK', items: ['HEADER.FIELDS', ['DATE', 'FROM']], partial: '0.100' },
      { section: 'BODY', items: ['1.2.MIME'], partial: null },
      { section: 'BODY', items: [], partial: null },
      { section: 'BODY', items: ['TEXT'], partial: '5' },
    ],
  ]);
  const [bare] = events('A2 FETCH 1 BODY[HEADER]\r\n') as Command[];
  t.same(shape(bare), [1, { section: 'BODY', items: ['HEADER'], partial: null }]);

  const [literalField] = events('A3 FETCH 1 BODY[HEADER.FIELDS ({4+}\r\nDATE)]\r\n') as Command[];
  t.same(shape(literalField), [1, { section: 'BODY', items: ['HEADER.FIELDS', [{ lit: 'DATE' }]], partial: null }], 'a literal inside a section');

  for (const bad of ['A4 FETCH 1 BODY[TEXT\r\n', 'A4 FETCH 1 BODY[TEXT]<1.2\r\n', 'A4 FETCH 1 BODY[TEXT]<a>\r\n', 'A4 FETCH 1 BODY[TEXT]x\r\n']) {
    const [error] = events(bad) as ReaderError[];
    t.match(error, { type: 'error', tag: 'A4', kind: 'BAD', fatal: false }, JSON.stringify(bad));
  }
});

t.test('quoted strings: escapes, 7-bit only unless UTF-8 is accepted (RFC 3501 §4.3, RFC 6855)', async (t) => {
  const [command] = events('A1 LOGIN "a\\"b\\\\c" ""\r\n') as Command[];
  t.same(shape(command), [{ q: 'a"b\\c' }, { q: '' }]);
  const utf8 = Buffer.from('A2 SEARCH SUBJECT "résultat"\r\n', 'utf8');
  t.match(events(utf8)[0], { type: 'error', tag: 'A2', kind: 'BAD' }, 'strict RFC 3501: 8-bit needs a literal');
  t.same(shape(events(utf8, { utf8QuotedStrings: true })[0] as Command), ['SUBJECT', { q: 'résultat' }]);
  t.match(events(Buffer.from('A3 X "\xff"\r\n', 'latin1'), { utf8QuotedStrings: true })[0], { type: 'error', tag: 'A3', text: /UTF-8/ });
  t.match(events('A4 LOGIN "abc\r\n')[0], { type: 'error', tag: 'A4', text: /Unterminated/ });
  t.match(events('A5 LOGIN "a\\nb"\r\n')[0], { type: 'error', tag: 'A5', text: /escape/ });
  t.same(shape(events('A6 X "tab\there"\r\n')[0] as Command), [{ q: 'tab\there' }], 'TAB is a TEXT-CHAR');
});

t.test('bad tags are answered untagged, other syntax errors tagged', async (t) => {
  for (const line of ['* NOOP', '+ NOOP', ' NOOP', 'a{b NOOP', 'a(b NOOP', 'a"b NOOP', 'a%b NOOP', 'a\\b NOOP', '\xe9 NOOP']) {
    const [error] = events(`${line}\r\n`) as ReaderError[];
    t.match(error, { type: 'error', tag: null, kind: 'BAD', fatal: false }, JSON.stringify(line));
  }
  t.match(events('\r\n'), [{ type: 'error', tag: null, kind: 'BAD' }], 'an empty line');
  t.match(events('A1\r\n'), [{ type: 'error', tag: 'A1', text: /Missing command/ }]);
  t.match(events('A1 NO(OP\r\n'), [{ type: 'error', tag: 'A1', text: /Invalid command/ }]);
  t.match(events('A1 SELECT INB\xe9X\r\n'), [{ type: 'error', tag: 'A1', text: /8-bit/ }]);
  t.match(events('A1 SELECT IN\x01BOX\r\n'), [{ type: 'error', tag: 'A1', text: /Control/ }]);
  t.match(events('A1 X (a b\r\n'), [{ type: 'error', tag: 'A1', text: /Missing "\)"/ }]);
  t.match(events('A1 X a)\r\n'), [{ type: 'error', tag: 'A1', text: /Unexpected/ }]);
  t.match(events('A1 X "a"b\r\n'), [{ type: 'error', tag: 'A1', text: /Missing space/ }]);
  t.match(events('A1 X a\\b\r\n'), [{ type: 'error', tag: 'A1' }]);
  t.match(events('A1 X {5}x\r\n'), [{ type: 'error', tag: 'A1', text: /end its line/ }], 'garbage after a literal announcement');
  t.match(events('A1 X {}\r\n'), [{ type: 'error', tag: 'A1', text: /Invalid literal/ }]);
  t.match(events(']tag NOOP\r\n'), [{ type: 'command', tag: ']tag' }], '"]" is an ASTRING-CHAR, valid in a tag');
  const after = events('* BAD\r\nA2 NOOP\r\n');
  t.match(after, [{ type: 'error', tag: null }, { type: 'command', tag: 'A2' }], 'the session stays usable');
});

t.test('lenient whitespace: extra and trailing spaces, bare LF', async (t) => {
  const [command] = events('A1  LOGIN  fred   ( a  b )  \n') as Command[];
  t.same(shape(command), ['fred', ['a', 'b']]);
});

t.test('synchronising literals ask for a continuation (RFC 3501 §4.3, §7.5)', async (t) => {
  const reader = new CommandReader();
  reader.push(Buffer.from('A1 LOGIN {4}\r\n'));
  t.same(reader.next(), { type: 'continue' });
  t.equal(reader.next(), null, 'nothing more until the octets arrive');
  reader.push(Buffer.from('fr'));
  t.equal(reader.next(), null);
  reader.push(Buffer.from('ed {6}\r\n'));
  t.same(reader.next(), { type: 'continue' }, 'a second literal asks again');
  reader.push(Buffer.from('se\r\n"t\r\n'));
  const command = reader.next() as Command;
  t.same(shape(command), [{ lit: 'fred' }, { lit: 'se\r\n"t' }], 'literal octets are taken as they are');
  t.equal(command.size, 'A1 LOGIN {4}\r\nfred {6}\r\nse\r\n"t\r\n'.length);
  t.equal(reader.next(), null);
});

t.test('non-synchronising literals need no continuation (RFC 7888)', async (t) => {
  const all = events('A1 APPEND INBOX (\\Seen) {11+}\r\nHello\r\nBye!\r\nA2 NOOP\r\n');
  t.equal(only(all, 'continue').length, 0);
  t.same(shape(all[0] as Command), ['INBOX', ['\\Seen'], { lit: 'Hello\r\nBye!' }]);
  t.match(all[1], { type: 'command', name: 'NOOP' });
  const binary = Buffer.concat([Buffer.from('A1 APPEND INBOX {5+}\r\n'), Buffer.from([0, 0xff, 0x0d, 0x0a, 0x80]), Buffer.from('\r\n')]);
  const [append] = events(binary) as Command[];
  t.same((append.args[1] as { value: Buffer }).value, Buffer.from([0, 0xff, 0x0d, 0x0a, 0x80]));
  const [empty] = events('A1 X {0+}\r\n\r\n') as Command[];
  t.same(shape(empty), [{ lit: '' }], 'an empty literal');
});

t.test('the same commands come out whatever the chunking', async (t) => {
  const input = 'A1 LOGIN {4+}\r\nfred "x y"\r\nA2 FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (FROM)]<0.10> FLAGS)\r\nA3 APPEND INBOX {3+}\r\nabc\r\n';
  const whole = events(input);
  t.equal(whole.length, 3);
  for (const step of [1, 2, 3, 7, 13]) t.same(events(input, {}, step), whole, `chunks of ${step}`);
});

t.test('a synchronising literal over the limit is refused with NO [TOOBIG] and never read', async (t) => {
  const reader = new CommandReader({ maxLiteralSize: 100 });
  reader.push(Buffer.from('A1 APPEND INBOX {101}\r\n'));
  t.same(reader.next(), { type: 'error', tag: 'A1', kind: 'NO', code: 'TOOBIG', text: 'Literal too large', fatal: false });
  reader.push(Buffer.from('A2 APPEND INBOX {100}\r\n'));
  t.same(reader.next(), { type: 'continue' }, 'the session is still usable');
  reader.push(Buffer.alloc(100, 0x61));
  reader.push(Buffer.from('\r\n'));
  t.match(reader.next(), { type: 'command', tag: 'A2' });
  t.match(events('A1 X {99999999999999999999999}\r\n'), [{ type: 'error', tag: 'A1', kind: 'NO', code: 'TOOBIG' }], 'a size past any number');
});

t.test('a non-synchronising literal over the limit: BAD [TOOBIG], octets discarded, or fatal when huge (RFC 7888 §4)', async (t) => {
  const all = events(`A1 APPEND INBOX {150+}\r\n${'x'.repeat(150)} more args {3+}\r\nabc\r\nA2 NOOP\r\n`, { maxLiteralSize: 100 }, 7);
  t.match(all, [{ type: 'error', tag: 'A1', kind: 'BAD', code: 'TOOBIG', fatal: false }, { type: 'command', tag: 'A2', name: 'NOOP' }]);
  t.equal(all.length, 2, 'the literal and the rest of the command are skipped');
  const fatal = events('A1 APPEND INBOX {1000+}\r\nxxxx', { maxLiteralSize: 100, maxDiscardSize: 500 });
  t.match(fatal, [{ type: 'error', tag: 'A1', kind: 'BAD', code: 'TOOBIG', fatal: true }]);
  const reader = new CommandReader({ maxLiteralSize: 100, maxDiscardSize: 500 });
  reader.push(Buffer.from('A1 APPEND INBOX {1000+}\r\n'));
  t.match(reader.next(), { fatal: true });
  t.equal(reader.closed, true);
  reader.push(Buffer.from('A2 NOOP\r\n'));
  t.equal(reader.next(), null, 'nothing is read after a fatal error');
});

t.test('a too-long line: BAD [TOOBIG] at once, the rest of the line discarded, session usable', async (t) => {
  const options = { maxLineLength: 64 };
  const long = `A1 SELECT ${'x'.repeat(200)}\r\nA2 NOOP\r\n`;
  for (const step of [0, 5]) {
    const all = events(long, options, step);
    t.match(all, [{ type: 'error', tag: 'A1', kind: 'BAD', code: 'TOOBIG', fatal: false }, { type: 'command', tag: 'A2' }], `step ${step}`);
    t.equal(all.length, 2);
  }
  // the discarded line announced a non-synchronising literal: its octets are skipped too
  const withLiteral = events(`A1 X ${'y'.repeat(100)} {5+}\r\nabcde\r\nA2 NOOP\r\n`, options, 3);
  t.match(withLiteral, [{ type: 'error', tag: 'A1' }, { type: 'command', tag: 'A2' }]);
  t.equal(withLiteral.length, 2);
  // a synchronising one will not come: the next line is a new command
  const withSync = events(`A1 X ${'y'.repeat(100)} {5}\r\nA2 NOOP\r\n`, options);
  t.match(withSync, [{ type: 'error', tag: 'A1' }, { type: 'command', tag: 'A2' }]);
  // a line after a literal is measured on its own
  const afterLiteral = events(`A1 X {3+}\r\nabc ${'z'.repeat(60)}\r\n`, options);
  t.match(afterLiteral, [{ type: 'command', tag: 'A1' }]);
  const tooLongAfterLiteral = events(`A1 X {3+}\r\nabc ${'z'.repeat(70)}\r\nA2 NOOP\r\n`, options);
  t.match(tooLongAfterLiteral, [{ type: 'error', tag: 'A1', code: 'TOOBIG' }, { type: 'command', tag: 'A2' }]);
  t.match(events(`${'('.repeat(100)}\r\n`, options), [{ type: 'error', tag: null }], 'no tag could be read');
  t.match(events(`${'T'.repeat(100)}\r\n`, options), [{ type: 'error', tag: 'T'.repeat(100) }], 'a long tag alone on a complete line is still a tag');
});

t.test('the total command size is bounded, literals included', async (t) => {
  const options = { maxLiteralSize: 100, maxCommandSize: 150 };
  const all = events(`A1 X {90+}\r\n${'a'.repeat(90)} {90+}\r\n${'b'.repeat(90)}\r\nA2 NOOP\r\n`, options);
  t.match(all, [{ type: 'error', tag: 'A1', code: 'TOOBIG', fatal: false }, { type: 'command', tag: 'A2' }]);
  t.equal(all.length, 2);
  const sync = new CommandReader(options);
  sync.push(Buffer.from(`A1 X {90}\r\n`));
  t.same(sync.next(), { type: 'continue' });
  sync.push(Buffer.from(`${'a'.repeat(90)} {90}\r\n`));
  t.match(sync.next(), { type: 'error', tag: 'A1', kind: 'NO', code: 'TOOBIG' });
  sync.push(Buffer.from('A2 NOOP\r\n'));
  t.match(sync.next(), { type: 'command', tag: 'A2' });
});

t.test('nesting depth is bounded', async (t) => {
  t.match(events(`A1 X ${'('.repeat(4)}a${')'.repeat(4)}\r\n`, { maxDepth: 4 }), [{ type: 'command' }]);
  t.match(events(`A1 X ${'('.repeat(5)}a${')'.repeat(5)}\r\nA2 NOOP\r\n`, { maxDepth: 4 }), [
    { type: 'error', tag: 'A1', kind: 'BAD', code: 'LIMIT' },
    { type: 'command', tag: 'A2' },
  ]);
  t.match(events(`A1 FETCH 1 ((BODY[HEADER.FIELDS (A)]))\r\n`, { maxDepth: 3 }), [{ type: 'error', code: 'LIMIT' }], 'sections count');
});

t.test('a refused command that announced a literal: the literal is skipped or never comes', async (t) => {
  const nonSync = events('A1 X "unterminated {5+}\r\nA2 NO\r\nA3 NOOP\r\n');
  t.match(nonSync, [{ type: 'error', tag: 'A1' }, { type: 'command', tag: 'A3' }], '"A2 NO" were the 5 literal octets');
  const sync = events('A1 X "unterminated {5}\r\nA2 NOOP\r\n');
  t.match(sync, [{ type: 'error', tag: 'A1' }, { type: 'command', tag: 'A2' }]);
  t.equal(only(sync, 'continue').length, 0, 'no continuation is offered for a refused command');
  const wrongLength = events('A1 LOGIN {3+}\r\nfredx pass\r\nA2 NOOP\r\n');
  t.match(wrongLength, [{ type: 'error', tag: 'A1', text: /Missing space/ }, { type: 'command', tag: 'A2' }], 'literal shorter than its octets');
});

t.test('raw lines for AUTHENTICATE and IDLE', async (t) => {
  const reader = new CommandReader({ maxLineLength: 24 });
  reader.push(Buffer.from('A1 AUTHENTICATE PLAIN\r\nAGZyZWQAc2VjcmV0\r\nA2 IDLE\r\nDO'));
  t.match(reader.next(), { type: 'command', name: 'AUTHENTICATE' });
  t.same(reader.nextLine(), { type: 'line', text: 'AGZyZWQAc2VjcmV0' }, 'the line after the command, not parsed');
  t.match(reader.next(), { type: 'command', name: 'IDLE' });
  t.equal(reader.nextLine(), null);
  reader.push(Buffer.from('NE\r\nA3 NOOP\r\n'));
  t.same(reader.nextLine(), { type: 'line', text: 'DONE' });
  t.match(reader.next(), { type: 'command', tag: 'A3' });
  reader.push(Buffer.from(`${'x'.repeat(30)}`));
  t.match(reader.nextLine(), { type: 'error', tag: null, code: 'TOOBIG', fatal: false });
  reader.push(Buffer.from(`yy {5+}\r\nDONE\n`));
  t.same(reader.nextLine(), { type: 'line', text: 'DONE' }, 'the rest of the long line was dropped, no literal looked for');
  reader.push(Buffer.from('A4 X {2}\r\n'));
  t.same(reader.next(), { type: 'continue' });
  t.throws(() => reader.nextLine(), /command is being read/);
});

t.test('an idle connection releases its buffer', async (t) => {
  const reader = new CommandReader();
  for (let i = 0; i < 100; i++) reader.push(Buffer.from('A1 NOOP\r'));
  reader.push(Buffer.from('\n'));
  t.match(reader.next(), { type: 'error' }); // "NOOP\rA1" is not a valid separator
  t.equal(reader.buffered, 0);
});


t.test('fuzz: random bytes and truncations never throw and always end in commands or errors', async (t) => {
  const next = random(20260522);
  const pieces = ['A1', ' ', 'FETCH', 'BODY[', ']', '<', '>', '(', ')', '"', '\\', '{', '}', '+', '{3}', '{2+}', '\r\n', '\n', '\r', 'NIL', '1:*', '\xff', '\x00', 'UID', '[', '.'];
  const options = { maxLineLength: 200, maxLiteralSize: 50, maxCommandSize: 400, maxDepth: 5, maxDiscardSize: 100 };
  let commands = 0;
  let errors = 0;
  let checkedLines = 0;
  for (let round = 0; round < 3000; round++) {
    let text = '';
    const count = Math.floor(next() * 40);
    for (let i = 0; i < count; i++) {
      text += next() < 0.7 ? pieces[Math.floor(next() * pieces.length)] : String.fromCharCode(Math.floor(next() * 256));
    }
    const bytes = Buffer.from(`${text}\r\nZ9 NOOP\r\n`, 'latin1');
    const reader = new CommandReader(options);
    const seen: ReaderEvent[] = [];
    let position = 0;
    while (position < bytes.length) {
      const size = 1 + Math.floor(next() * 20);
      reader.push(bytes.subarray(position, position + size));
      position += size;
      for (let event = reader.next(); event; event = reader.next()) {
        seen.push(event);
        if (event.type === 'command') commands++;
        if (event.type === 'error') errors++;
        const wellFormed =
          event.type === 'continue' ||
          (event.type === 'command' && event.tag !== '' && event.name !== '' && event.name === event.name.toUpperCase()) ||
          (event.type === 'error' && event.tag !== '' && (event.kind === 'BAD' || event.kind === 'NO') && event.text !== '');
        if (!wellFormed) t.fail(`odd event ${JSON.stringify(event)}`);
      }
    }
    if (!text.includes('{')) {
      // Without literals every line is exactly one command or one error, and the last is ours.
      const lines = bytes.toString('latin1').split('\n').length - 1;
      if (seen.length !== lines) t.fail(`${JSON.stringify(text)}: ${seen.length} events for ${lines} lines`);
      const last = seen[seen.length - 1];
      if (last?.type !== 'command' || last.tag !== 'Z9') t.fail(`${JSON.stringify(text)}: ended with ${JSON.stringify(last)}`);
      checkedLines += lines;
    }
    // Truncated input leaves the reader waiting, never in an inconsistent state.
    const truncated = new CommandReader(options);
    truncated.push(bytes.subarray(0, Math.floor(next() * bytes.length)));
    for (let event = truncated.next(); event; event = truncated.next());
  }
  t.ok(commands > 1000 && errors > 1000, `${commands} commands, ${errors} errors`);
  t.ok(checkedLines > 500, `${checkedLines} lines checked one event each`);
});
