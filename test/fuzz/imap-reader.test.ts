// Fuzzing the IMAP command reader (src/imap/protocol/reader.ts) in process: mutated command
// streams from test/fuzz/corpus/imap, cut into random chunks, with small limits so the limit
// paths run too. Whatever the bytes: no exception, every pull returns (no endless loop), errors
// are BAD/NO, a fatal error closes the reader, and the reader never holds more than it was given.
// FUZZ_SEED and FUZZ_SECONDS replay or lengthen a run.
import t from 'tap';
import { CommandReader, type ReaderEvent } from '../../src/imap/protocol/reader';
import { FUZZ_MS, FUZZ_SEED, generator, loadCorpus, Mutator, showInput } from './mutate';

const TOKENS = [
  '{0}\r\n', '{5}\r\n', '{4}\r\n', '{3+}\r\n', '{10+}\r\n', '{999999999}\r\n', '{4294967296}\r\n', '{99999999999999999999}\r\n', '~{3}\r\n',
  '\r\n', '\n', '\r', ' ', '  ', '(', ')', '((((((((((((((((((((((((((((((((((', '[', ']', '<0.10>', '<', '"', '\\', '\\"', '*', '%', 'NIL',
  'BODY[', 'BODY.PEEK[HEADER.FIELDS (', 'BINARY[1.2.3]', 'UID ', 'DONE\r\n', 'a1 ', '+ ', 'é', '\u0000', '&AOk-', '&-', '&Jjo', '1:*', '4294967296',
];

t.test(`IMAP reader: mutated command streams (seed ${FUZZ_SEED}, ${FUZZ_MS} ms)`, async (t) => {
  const corpus = loadCorpus('imap');
  t.ok(corpus.length >= 6, `${corpus.length} seed files`);
  const next = generator(FUZZ_SEED);
  const mutator = new Mutator(next, corpus.map((seed) => seed.data), TOKENS);
  const counts = { inputs: 0, commands: 0, errors: 0, fatal: 0, lines: 0, continuations: 0 };
  const started = Date.now();
  while (Date.now() - started < FUZZ_MS) {
    const input = counts.inputs % 10 === 0 ? corpus[(counts.inputs / 10) % corpus.length].data : mutator.input();
    counts.inputs++;
    const reader = new CommandReader({ maxLineLength: 512, maxLiteralSize: 2048, maxCommandSize: 4096, maxDepth: 8, maxDiscardSize: 4096, utf8QuotedStrings: next() < 0.5 });
    let pushed = 0;
    let wantLines = 0;
    try {
      for (const chunk of mutator.chunks(input)) {
        reader.push(chunk);
        pushed += chunk.length;
        // Pull until the reader needs more input; a bound on pulls catches an endless loop.
        for (let pulls = 0; ; pulls++) {
          if (pulls > pushed + 100) throw new Error('the reader keeps returning events without consuming input');
          if (wantLines > 0) {
            const line = reader.nextLine();
            if (!line) break;
            wantLines--;
            counts.lines++;
            continue;
          }
          const event: ReaderEvent | null = reader.next();
          if (!event) break;
          if (event.type === 'continue') counts.continuations++;
          else if (event.type === 'error') {
            counts.errors++;
            if (event.kind !== 'BAD' && event.kind !== 'NO') throw new Error(`error kind ${event.kind}`);
            if (event.fatal) {
              counts.fatal++;
              if (!reader.closed) throw new Error('a fatal error left the reader open');
            }
          } else {
            counts.commands++;
            if (!/^[^\s(){%*"\\\]\x00-\x1f\x7f-\uffff]+$/.test(event.name) || event.size <= 0) throw new Error(`odd command ${JSON.stringify(event.name)} size ${event.size}`);
            // The session reads raw lines after these (RFC 3501 §6.2.2, RFC 2177).
            if (event.name === 'AUTHENTICATE' || event.name === 'IDLE') wantLines = 1 + Math.floor(next() * 2);
          }
        }
        if (reader.buffered > pushed) throw new Error('the reader holds more than it was given');
      }
    } catch (err) {
      t.fail(`seed ${FUZZ_SEED}, input ${counts.inputs}: ${(err as Error).stack}\ninput: ${showInput(input)}`);
      break;
    }
  }
  t.comment(JSON.stringify(counts));
  t.ok(counts.inputs > 100, `${counts.inputs} inputs tried`);
  t.ok(counts.commands > 0 && counts.errors > 0, 'the inputs reached both accepted commands and refusals');
});
