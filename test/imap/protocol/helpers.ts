// Shared by the protocol tests: commands as the reader produces them.
import { CommandReader, type Command } from '../../../src/imap/protocol/reader';

/** The command the reader makes of one line (CRLF added); fails loudly if it is refused. */
export function commandOf(line: string, options: { utf8QuotedStrings?: boolean } = {}): Command {
  const reader = new CommandReader({ utf8QuotedStrings: options.utf8QuotedStrings ?? true });
  reader.push(Buffer.from(`${line}\r\n`, 'utf8'));
  const event = reader.next();
  if (!event || event.type !== 'command') throw new Error(`not a command: ${JSON.stringify(event)}`);
  return event;
}

/** The arguments of `A1 X <text>`. */
export function argsOf(text: string): Command['args'] {
  return commandOf(`A1 X ${text}`).args;
}
