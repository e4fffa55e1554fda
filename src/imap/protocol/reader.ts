// Incremental reader of client commands (RFC 3501 §2.2.1, §4, §7.5, §9; RFC 7888 LITERAL+).
//
// The session pushes socket bytes in with push() and pulls events out with next(), one at a
// time, whenever it is ready for the next command. Pulling keeps pipelining right: bytes that
// follow a command stay buffered until the session asks, so after AUTHENTICATE or IDLE it can
// switch to nextLine() and read the client's raw continuation lines instead of commands.
//
//   reader.push(chunk);
//   for (let event = reader.next(); event; event = reader.next()) {
//     if (event.type === 'continue') write('+ Ready for literal data\r\n');   // RFC 3501 §7.5
//     else if (event.type === 'error') { write(errorLine(event)); if (event.fatal) close(); }
//     else await run(event);                                                  // a Command
//   }
//
// Each line of a command is tokenised as soon as it is complete, so a malformed command is
// refused before the client is invited to send the literal that follows it. Every violation ends
// in a ReaderError, after which the reader discards the rest of the rejected command (including
// the bytes of a non-synchronising literal it announced) and carries on with the next command.
import { TextDecoder } from 'node:util';
import type { SectionToken, Token } from './tokens';

export interface ReaderOptions {
  /** Longest line, CRLF and literals excluded (each line between two literals counts alone). */
  maxLineLength?: number;
  /** Largest literal (the APPENDLIMIT of RFC 7889). */
  maxLiteralSize?: number;
  /** Largest command: every line and every literal together. */
  maxCommandSize?: number;
  /** Deepest nesting of lists and sections. */
  maxDepth?: number;
  /**
   * A refused non-synchronising literal up to this size is read and thrown away so the session
   * survives (RFC 7888 §4 lets the server choose); above it the error is fatal.
   */
  maxDiscardSize?: number;
  /** Accept UTF-8 in quoted strings (RFC 6855 UTF8=ACCEPT); RFC 3501 quoted strings are 7-bit. */
  utf8QuotedStrings?: boolean;
}

export const DEFAULT_MAX_LINE_LENGTH = 65536;
export const DEFAULT_MAX_LITERAL_SIZE = 26214400;
export const DEFAULT_MAX_DEPTH = 32;

/** A complete command. `UID FETCH ...` comes as name FETCH with uid true (RFC 3501 §6.4.8). */
export interface Command {
  type: 'command';
  tag: string;
  /** Command name in upper case. */
  name: string;
  uid: boolean;
  args: Token[];
  /** Octets the command took on the wire, line ends and literals included. */
  size: number;
}

/** The client announced a synchronising literal: answer "+ ..." so it sends the octets. */
export interface ContinuationRequest {
  type: 'continue';
}

/** One raw line read with nextLine(), line end removed, octets as Latin-1 characters. */
export interface RawLine {
  type: 'line';
  text: string;
}

/**
 * A command the reader refused. Answer `${tag ?? '*'} ${kind} [${code}] ${text}`; when `fatal`,
 * send BYE and close: the input can no longer be followed.
 */
export interface ReaderError {
  type: 'error';
  /** null when the tag could not be read: answer untagged. */
  tag: string | null;
  kind: 'BAD' | 'NO';
  code?: 'TOOBIG' | 'LIMIT';
  text: string;
  fatal: boolean;
}

export type ReaderEvent = Command | ContinuationRequest | ReaderError;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const DQUOTE = 0x22;
const PLUS = 0x2b;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LT = 0x3c;
const GT = 0x3e;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const TILDE = 0x7e;

const EMPTY = Buffer.alloc(0);
/** Past this capacity an emptied input buffer is released (1 000 idle connections stay small). */
const KEEP_CAPACITY = 4096;
/** How much of a discarded line is kept to spot the literal announced at its end. */
const TAIL_KEPT = 32;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Received octets not yet consumed. The first chunk is kept as it is (no copy in the common case
 * of whole commands per chunk); later chunks go to an owned buffer that grows by doubling, so a
 * line sent one octet at a time costs linear time.
 */
class InputBuffer {
  private data: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private owned = false;

  get length(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.length === 0 && !this.owned) {
      this.data = chunk;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    const needed = this.length + chunk.length;
    if (!this.owned || this.end + chunk.length > this.data.length) {
      const capacity = this.owned && needed <= this.data.length ? this.data.length : Math.max(4096, needed * 2);
      const next = capacity === this.data.length && this.owned ? this.data : Buffer.allocUnsafe(capacity);
      this.data.copy(next, 0, this.start, this.end);
      this.data = next;
      this.end = this.length;
      this.start = 0;
      this.owned = true;
    }
    chunk.copy(this.data, this.end);
    this.end += chunk.length;
  }

  /** Offset of `byte` at or after `from`, relative to the unconsumed start, or -1. */
  indexOf(byte: number, from: number): number {
    if (from >= this.length) return -1;
    const at = this.data.subarray(0, this.end).indexOf(byte, this.start + from);
    return at < 0 ? -1 : at - this.start;
  }

  at(offset: number): number {
    return this.data[this.start + offset];
  }

  /** A view of [from, to): valid until the next append(), so use it at once. */
  view(from: number, to: number): Buffer {
    return this.data.subarray(this.start + from, this.start + to);
  }

  consume(count: number): void {
    this.start += count;
    if (this.start >= this.end) {
      this.start = 0;
      this.end = 0;
      if (!this.owned || this.data.length > KEEP_CAPACITY) {
        this.data = EMPTY;
        this.owned = false;
      }
    }
  }
}

interface Frame {
  items: Token[];
  /** The octet that closes this frame: ")" for a list, "]" for a section, -1 for the command. */
  close: number;
  section: SectionToken | null;
}

interface PendingCommand {
  tag: string;
  name: string;
  uid: boolean;
  args: Token[];
  stack: Frame[];
  /** A token just ended: the next octet must be SP, a closing bracket or the line end. */
  needSeparator: boolean;
  size: number;
}

interface PendingLiteral {
  chunks: Buffer[];
  received: number;
  size: number;
  /** Announced as literal8 "~{N}" (RFC 3516 §4.3). */
  binary: boolean;
}

type LineOutcome =
  | { kind: 'done' }
  | { kind: 'literal'; size: number; sync: boolean; binary: boolean }
  | { kind: 'error'; text: string; code?: 'LIMIT' };

type State = 'idle' | 'line' | 'literal' | 'skip-line' | 'skip-raw-line' | 'skip-literal' | 'closed';

/** Octets allowed in a tag: ASTRING-CHAR except "+" (RFC 3501 §9), i.e. no ( ) { % * " \ +. */
function isTagOctet(byte: number): boolean {
  return byte > 0x20 && byte < 0x7f && byte !== LPAREN && byte !== RPAREN && byte !== LBRACE && byte !== 0x25 && byte !== 0x2a && byte !== DQUOTE && byte !== BACKSLASH && byte !== PLUS;
}

/** Octets allowed in a command name: ATOM-CHAR (RFC 3501 §9). */
function isAtomOctet(byte: number): boolean {
  return (isTagOctet(byte) && byte !== RBRACKET) || byte === PLUS;
}

const SECTION_NAMES = new Set(['BODY', 'BODY.PEEK', 'BINARY', 'BINARY.PEEK', 'BINARY.SIZE']);

/** The literal announced at the end of a line, "{N}" or "{N+}" (RFC 3501 §4.3, RFC 7888). */
function literalAtEnd(tail: string): { size: number; sync: boolean } | null {
  const match = /\{(\d+)(\+?)\}$/.exec(tail);
  if (!match) return null;
  return { size: match[1].length > 15 ? Infinity : Number(match[1]), sync: match[2] === '' };
}

export class CommandReader {
  private readonly maxLineLength: number;
  private readonly maxLiteralSize: number;
  private readonly maxCommandSize: number;
  private readonly maxDepth: number;
  private readonly maxDiscardSize: number;
  /** May be switched on after ENABLE UTF8=ACCEPT (RFC 6855). */
  utf8QuotedStrings: boolean;

  private readonly input = new InputBuffer();
  /** Octets of `input` already searched for a line feed. */
  private scanned = 0;
  private state: State = 'idle';
  private command: PendingCommand | null = null;
  private literal: PendingLiteral | null = null;
  private skipRemaining = 0;
  private skipTail = '';

  constructor(options: ReaderOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.maxLiteralSize = options.maxLiteralSize ?? DEFAULT_MAX_LITERAL_SIZE;
    this.maxCommandSize = options.maxCommandSize ?? this.maxLiteralSize + 1048576;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxDiscardSize = options.maxDiscardSize ?? this.maxLiteralSize * 4;
    this.utf8QuotedStrings = options.utf8QuotedStrings ?? false;
  }

  /**
   * Octets received and not yet consumed. The reader buffers whatever it is given while the
   * session is busy, so the session should pause the socket above a bound (pipelining).
   */
  get buffered(): number {
    return this.input.length;
  }

  /**
   * Whether part of a command or line has arrived and not been returned yet (octets buffered, a
   * line or literal half read, a refused command being skipped): the session's command deadline
   * runs while this holds and it waits for the client.
   */
  get midCommand(): boolean {
    return this.state === 'idle' ? this.input.length > 0 : this.state !== 'closed';
  }

  /** Whether the reader stopped after a fatal error; next() and nextLine() then return null. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Adds received octets. Literal octets go straight to the literal being read, uncopied, so
   * the chunk must not be reused afterwards (socket chunks never are). Nothing is parsed here.
   */
  push(chunk: Buffer): void {
    if (this.state === 'closed' || chunk.length === 0) return;
    if (this.input.length === 0) {
      if (this.state === 'literal' && this.literal) {
        const take = Math.min(chunk.length, this.literal.size - this.literal.received);
        if (take > 0) {
          this.literal.chunks.push(chunk.subarray(0, take));
          this.literal.received += take;
          chunk = chunk.subarray(take);
        }
      } else if (this.state === 'skip-literal') {
        const take = Math.min(chunk.length, this.skipRemaining);
        this.skipRemaining -= take;
        chunk = chunk.subarray(take);
      }
    }
    this.input.append(chunk);
  }

  /**
   * The next command, continuation request or error, or null when more input is needed. Call it
   * again after each event: one push() may complete several pipelined commands.
   */
  next(): ReaderEvent | null {
    for (;;) {
      switch (this.state) {
        case 'closed':
          return null;
        case 'literal':
          if (!this.fillLiteral()) return null;
          continue;
        case 'skip-literal':
        case 'skip-line':
        case 'skip-raw-line': {
          const outcome = this.skip();
          if (outcome !== 'done') return outcome === 'wait' ? null : outcome;
          continue;
        }
        case 'idle':
        case 'line': {
          const event = this.readCommandLine();
          if (event !== undefined) return event;
          continue;
        }
      }
    }
  }

  /**
   * The next raw line (AUTHENTICATE responses, RFC 3501 §6.2.2; IDLE's DONE, RFC 2177), or null
   * when it is not complete yet. Only between commands: never while a command is half read.
   */
  nextLine(): RawLine | ReaderError | null {
    if (this.state === 'line' || this.state === 'literal') {
      throw new Error('nextLine() called while a command is being read');
    }
    while (this.state === 'skip-literal' || this.state === 'skip-line' || this.state === 'skip-raw-line') {
      const outcome = this.skip();
      if (outcome === 'wait') return null;
      if (outcome !== 'done') return outcome;
    }
    if (this.state === 'closed') return null;
    const lineFeed = this.input.indexOf(LF, this.scanned);
    if (lineFeed < 0) {
      if (this.input.length > this.maxLineLength + 1) {
        this.skipTail = '';
        this.input.consume(this.input.length);
        this.scanned = 0;
        this.state = 'skip-raw-line';
        return this.error(null, 'BAD', 'Line too long', 'TOOBIG');
      }
      this.scanned = this.input.length;
      return null;
    }
    const lineEnd = lineFeed > 0 && this.input.at(lineFeed - 1) === CR ? lineFeed - 1 : lineFeed;
    const text = this.input.view(0, lineEnd).toString('latin1');
    this.input.consume(lineFeed + 1);
    this.scanned = 0;
    if (lineEnd > this.maxLineLength) return this.error(null, 'BAD', 'Line too long', 'TOOBIG');
    return { type: 'line', text };
  }

  private error(tag: string | null, kind: 'BAD' | 'NO', text: string, code?: 'TOOBIG' | 'LIMIT', fatal = false): ReaderError {
    const error: ReaderError = { type: 'error', tag, kind, text, fatal };
    if (code) error.code = code;
    if (fatal) this.close();
    return error;
  }

  private close(): void {
    this.state = 'closed';
    this.command = null;
    this.literal = null;
    this.input.consume(this.input.length);
  }

  /** Moves buffered octets into the literal being read; true once it is complete. */
  private fillLiteral(): boolean {
    const literal = this.literal;
    const command = this.command;
    if (!literal || !command) throw new Error('literal state without a literal');
    const take = Math.min(this.input.length, literal.size - literal.received);
    if (take > 0) {
      literal.chunks.push(Buffer.from(this.input.view(0, take))); // copied: the view is reused
      literal.received += take;
      this.input.consume(take);
      this.scanned = 0;
    }
    if (literal.received < literal.size) return false;
    const value = literal.chunks.length === 1 ? literal.chunks[0] : Buffer.concat(literal.chunks, literal.size);
    command.stack[command.stack.length - 1].items.push(literal.binary ? { type: 'literal', value, binary: true } : { type: 'literal', value });
    command.needSeparator = true;
    this.literal = null;
    this.state = 'line';
    return true;
  }

  /** Discards the rest of a refused command: 'wait' for more input, 'done', or a fatal error. */
  private skip(): 'wait' | 'done' | ReaderError {
    if (this.state === 'skip-literal') {
      const take = Math.min(this.input.length, this.skipRemaining);
      this.input.consume(take);
      this.skipRemaining -= take;
      if (this.skipRemaining > 0) return 'wait';
      this.state = 'skip-line'; // the command goes on after its literal
      this.skipTail = '';
      this.scanned = 0;
      return 'done';
    }
    const lineFeed = this.input.indexOf(LF, 0);
    const available = lineFeed < 0 ? this.input.length : lineFeed;
    const from = Math.max(0, available - TAIL_KEPT);
    this.skipTail = (this.skipTail + this.input.view(from, available).toString('latin1')).slice(-TAIL_KEPT);
    if (lineFeed < 0) {
      this.input.consume(this.input.length);
      return 'wait';
    }
    this.input.consume(lineFeed + 1);
    this.scanned = 0;
    const tail = this.skipTail.endsWith('\r') ? this.skipTail.slice(0, -1) : this.skipTail;
    this.skipTail = '';
    if (this.state === 'skip-raw-line') {
      this.state = 'idle';
      return 'done';
    }
    return this.afterRefusedLine(tail) ?? 'done';
  }

  /**
   * After a refused command line, decides what follows it. A synchronising literal announced at
   * its end will not come (the client waits for "+", and gets the tagged error instead); a
   * non-synchronising one will, and its octets are skipped, then the rest of the command.
   */
  private afterRefusedLine(tail: string): ReaderError | null {
    this.command = null;
    this.literal = null;
    const literal = literalAtEnd(tail);
    if (literal && !literal.sync) {
      if (literal.size > this.maxDiscardSize) {
        return this.error(null, 'BAD', 'Non-synchronizing literal too large', 'TOOBIG', true);
      }
      this.state = 'skip-literal';
      this.skipRemaining = literal.size;
      return null;
    }
    this.state = 'idle';
    return null;
  }

  /** Refuses the command whose complete line is `line`; the error may turn fatal. */
  private refuse(line: Buffer, tag: string | null, kind: 'BAD' | 'NO', text: string, code?: 'TOOBIG' | 'LIMIT'): ReaderError {
    const tail = line.subarray(Math.max(0, line.length - TAIL_KEPT)).toString('latin1');
    const fatal = this.afterRefusedLine(tail);
    if (fatal) return { ...fatal, tag, text: `${text}; ${fatal.text}` };
    return this.error(tag, kind, text, code);
  }

  /** Reads and tokenises one line of a command; undefined when the loop should go on. */
  private readCommandLine(): ReaderEvent | null | undefined {
    const lineFeed = this.input.indexOf(LF, this.scanned);
    if (lineFeed < 0) {
      if (this.input.length <= this.maxLineLength + 1) {
        this.scanned = this.input.length;
        return null;
      }
      // Too long and still coming: answer now, discard the rest of the line as it arrives.
      const tag = this.command ? this.command.tag : this.tagOf(this.input.view(0, Math.min(this.input.length, 1024)), false);
      this.skipTail = this.input.view(Math.max(0, this.input.length - TAIL_KEPT), this.input.length).toString('latin1');
      this.input.consume(this.input.length);
      this.scanned = 0;
      this.command = null;
      this.state = 'skip-line';
      return this.error(tag, 'BAD', 'Line too long', 'TOOBIG');
    }
    const lineEnd = lineFeed > 0 && this.input.at(lineFeed - 1) === CR ? lineFeed - 1 : lineFeed;
    const line = this.input.view(0, lineEnd); // tokenised before any further append
    this.input.consume(lineFeed + 1);
    this.scanned = 0;

    let command = this.command;
    if (lineEnd > this.maxLineLength) {
      return this.refuse(line, command ? command.tag : this.tagOf(line), 'BAD', 'Line too long', 'TOOBIG');
    }
    let position = 0;
    if (!command) {
      if (line.length === 0) return this.error(null, 'BAD', 'Empty command line');
      const started = this.startCommand(line, lineFeed + 1);
      if ('type' in started) return started;
      command = started.command;
      position = started.position;
      this.command = command;
    } else {
      command.size += lineFeed + 1;
      if (command.size > this.maxCommandSize) return this.refuse(line, command.tag, 'BAD', 'Command too large', 'TOOBIG');
    }

    const outcome = this.tokenize(line, position, command);
    if (outcome.kind === 'error') return this.refuse(line, command.tag, 'BAD', outcome.text, outcome.code);
    if (outcome.kind === 'done') {
      const open = command.stack[command.stack.length - 1];
      if (open.close !== -1) return this.refuse(line, command.tag, 'BAD', open.close === RPAREN ? 'Missing ")"' : 'Missing "]"');
      this.command = null;
      this.state = 'idle';
      return { type: 'command', tag: command.tag, name: command.name, uid: command.uid, args: command.args, size: command.size };
    }

    // A literal follows (RFC 3501 §4.3; RFC 7888 for {N+}).
    if (outcome.size > this.maxLiteralSize || command.size + outcome.size > this.maxCommandSize) {
      const tag = command.tag;
      this.command = null;
      if (outcome.sync) {
        // RFC 3501 §7.5 and RFC 7889: refused before the client sends it; the command is over.
        this.state = 'idle';
        return this.error(tag, 'NO', 'Literal too large', 'TOOBIG');
      }
      // RFC 7888 §4: a refused non-synchronising literal is on its way; read and drop it, or
      // give up on a connection that announced more than is worth reading.
      if (outcome.size > this.maxDiscardSize) return this.error(tag, 'BAD', 'Literal too large', 'TOOBIG', true);
      this.state = 'skip-literal';
      this.skipRemaining = outcome.size;
      return this.error(tag, 'BAD', 'Literal too large', 'TOOBIG');
    }
    command.size += outcome.size;
    this.literal = { chunks: [], received: 0, size: outcome.size, binary: outcome.binary };
    this.state = 'literal';
    this.fillLiteral();
    return outcome.sync ? { type: 'continue' } : undefined;
  }

  /**
   * The tag at the start of a line, or null when it is not a valid tag. `whole` says whether
   * `line` is the whole line (a tag alone on it is still a tag) or only its beginning.
   */
  private tagOf(line: Buffer, whole = true): string | null {
    let end = 0;
    while (end < line.length && isTagOctet(line[end])) end++;
    if (end === 0 || (end < line.length ? line[end] !== SP : !whole)) return null;
    return line.toString('latin1', 0, end);
  }

  /** Reads the tag and command name (RFC 3501 §2.2.1: tag SP command). */
  private startCommand(line: Buffer, size: number): { command: PendingCommand; position: number } | ReaderError {
    const tag = this.tagOf(line);
    if (tag === null) return this.refuse(line, null, 'BAD', 'Invalid tag');
    let position = tag.length;
    const readWord = (): string => {
      while (position < line.length && line[position] === SP) position++;
      const start = position;
      while (position < line.length && line[position] !== SP) position++;
      for (let i = start; i < position; i++) if (!isAtomOctet(line[i])) return '\u0000';
      return line.toString('latin1', start, position).toUpperCase();
    };
    let name = readWord();
    if (name === '') return this.refuse(line, tag, 'BAD', 'Missing command name');
    if (name === '\u0000') return this.refuse(line, tag, 'BAD', 'Invalid command name');
    let uid = false;
    if (name === 'UID') {
      name = readWord();
      if (name === '') return this.refuse(line, tag, 'BAD', 'UID must be followed by a command');
      if (name === '\u0000') return this.refuse(line, tag, 'BAD', 'Invalid command name');
      uid = true;
    }
    if (size > this.maxCommandSize) return this.refuse(line, tag, 'BAD', 'Command too large', 'TOOBIG');
    const args: Token[] = [];
    const command: PendingCommand = {
      tag,
      name,
      uid,
      args,
      stack: [{ items: args, close: -1, section: null }],
      needSeparator: true,
      size,
    };
    return { command, position };
  }

  /**
   * Tokenises `line` from `position` into the command's open frames (RFC 3501 §4, §9): atoms,
   * numbers, NIL, quoted strings, lists, sections, up to the line end or a literal announcement.
   * Extra spaces between arguments are tolerated; a missing one is not.
   */
  private tokenize(line: Buffer, position: number, command: PendingCommand): LineOutcome {
    const stack = command.stack;
    const length = line.length;
    let pos = position;
    while (pos < length) {
      const byte = line[pos];
      if (byte === SP) {
        command.needSeparator = false;
        pos++;
        continue;
      }
      const frame = stack[stack.length - 1];
      if (byte === RPAREN || (byte === RBRACKET && frame.close === RBRACKET)) {
        if (frame.close !== byte) return { kind: 'error', text: 'Unexpected ")"' };
        stack.pop();
        pos++;
        if (frame.section && line[pos] === LT) {
          // RFC 3501 §6.4.5 partial: "<" number ["." nz-number] ">", checked by the FETCH parser
          const close = line.indexOf(GT, pos);
          if (close < 0) return { kind: 'error', text: 'Missing ">"' };
          const partial = line.toString('latin1', pos + 1, close);
          if (!/^[0-9.]*$/.test(partial)) return { kind: 'error', text: 'Invalid partial range' };
          frame.section.partial = partial;
          pos = close + 1;
        }
        command.needSeparator = true;
        continue;
      }
      if (command.needSeparator) return { kind: 'error', text: 'Missing space between arguments' };
      command.needSeparator = true;
      if (byte === LPAREN) {
        if (stack.length > this.maxDepth) return { kind: 'error', text: 'Too deeply nested', code: 'LIMIT' };
        const list: Token = { type: 'list', items: [] };
        frame.items.push(list);
        stack.push({ items: list.items, close: RPAREN, section: null });
        command.needSeparator = false;
        pos++;
        continue;
      }
      if (byte === DQUOTE) {
        const quoted = this.readQuoted(line, pos);
        if (typeof quoted === 'string') return { kind: 'error', text: quoted };
        frame.items.push({ type: 'string', value: quoted.value });
        pos = quoted.end;
        continue;
      }
      const binary = byte === TILDE && line[pos + 1] === LBRACE; // RFC 3516 §4.3 literal8 = "~{" number "}"
      if (byte === LBRACE || binary) {
        // RFC 3501 §4.3 literal = "{" number "}" CRLF; RFC 7888 adds "{" number "+}"
        if (binary) pos++;
        let digitsEnd = pos + 1;
        while (digitsEnd < length && line[digitsEnd] >= 0x30 && line[digitsEnd] <= 0x39) digitsEnd++;
        let close = digitsEnd;
        const sync = line[close] !== PLUS;
        if (!sync) close++;
        if (digitsEnd === pos + 1 || line[close] !== RBRACE) return { kind: 'error', text: 'Invalid literal' };
        if (close + 1 !== length) return { kind: 'error', text: 'A literal must end its line' };
        const digits = digitsEnd - pos - 1;
        return { kind: 'literal', size: digits > 15 ? Infinity : Number(line.toString('latin1', pos + 1, digitsEnd)), sync, binary };
      }

      // An atom, a number, NIL, or the name of a section ("BODY.PEEK[" ...)
      const start = pos;
      let opensSection = false;
      while (pos < length) {
        const octet = line[pos];
        if (octet === SP || octet === LPAREN || octet === RPAREN || octet === LBRACE || octet === DQUOTE) break;
        if (octet === RBRACKET && frame.close === RBRACKET) break;
        if (octet < 0x21 || octet > 0x7e) {
          return { kind: 'error', text: octet >= 0x80 ? '8-bit octets are not allowed in an atom' : 'Control characters are not allowed in an atom' };
        }
        if (octet === BACKSLASH && pos !== start) return { kind: 'error', text: 'Unexpected "\\" in an atom' };
        if (octet === LBRACKET && SECTION_NAMES.has(line.toString('latin1', start, pos).toUpperCase())) {
          opensSection = true;
          break;
        }
        pos++;
      }
      const text = line.toString('latin1', start, pos);
      if (opensSection) {
        if (stack.length > this.maxDepth) return { kind: 'error', text: 'Too deeply nested', code: 'LIMIT' };
        const section: SectionToken = { type: 'section', name: text.toUpperCase(), items: [], partial: null };
        frame.items.push(section);
        stack.push({ items: section.items, close: RBRACKET, section });
        command.needSeparator = false;
        pos++;
        continue;
      }
      if (/^[0-9]+$/.test(text)) frame.items.push({ type: 'number', value: text, number: Number(text) });
      else if (text.length === 3 && text.toUpperCase() === 'NIL') frame.items.push({ type: 'nil', value: text });
      else frame.items.push({ type: 'atom', value: text });
    }
    return { kind: 'done' };
  }

  /** A quoted string at `start` (RFC 3501 §9 quoted), or the error text. */
  private readQuoted(line: Buffer, start: number): { value: string; end: number } | string {
    const pieces: Buffer[] = [];
    let pieceStart = start + 1;
    let eightBit = false;
    let pos = start + 1;
    for (; pos < line.length; pos++) {
      const octet = line[pos];
      if (octet === DQUOTE) break;
      if (octet === BACKSLASH) {
        const escaped = line[pos + 1];
        if (escaped !== DQUOTE && escaped !== BACKSLASH) return 'Invalid escape in a quoted string';
        pieces.push(line.subarray(pieceStart, pos));
        pieceStart = pos + 1;
        pos++;
        continue;
      }
      if (octet === 0 || octet === CR || octet === LF) return 'Invalid character in a quoted string';
      if (octet >= 0x80) {
        if (!this.utf8QuotedStrings) return '8-bit octets are not allowed in a quoted string; send a literal';
        eightBit = true;
      }
    }
    if (pos >= line.length) return 'Unterminated quoted string';
    pieces.push(line.subarray(pieceStart, pos));
    const bytes = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    let value: string;
    if (eightBit) {
      try {
        value = strictUtf8.decode(bytes);
      } catch {
        return 'Invalid UTF-8 in a quoted string';
      }
    } else {
      value = bytes.toString('latin1');
    }
    return { value, end: pos + 1 };
  }
}
