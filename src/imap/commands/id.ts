// ID (RFC 2971): the client says who it is (logged, useful to diagnose client quirks: README
// "Client quirks") and the server answers with its name.
import { ImapError } from '../protocol/errors';
import { expectEnd, stringValue, type Token } from '../protocol/tokens';
import { ANY_STATE, ok, type CommandHandler } from './registry';

function clientFields(token: Token | undefined): Record<string, string | null> | null {
  // RFC 2971 section 4: id ::= "ID" SP id-params-list; the argument is not optional.
  if (!token) throw new ImapError('BAD', 'ID takes one argument: NIL or a list of field/value pairs');
  if (token.type === 'nil') return null;
  if (token.type !== 'list' || token.items.length % 2 !== 0 || token.items.length > 60) {
    throw new ImapError('BAD', 'ID takes NIL or a list of field/value pairs');
  }
  const fields: Record<string, string | null> = {};
  for (let i = 0; i < token.items.length; i += 2) {
    const field = stringValue(token.items[i]);
    if (field === null) throw new ImapError('BAD', 'ID field names are strings');
    fields[field.slice(0, 30).toLowerCase()] = stringValue(token.items[i + 1])?.slice(0, 1024) ?? null;
  }
  return fields;
}

export const id: CommandHandler = {
  name: 'ID',
  states: ANY_STATE,
  run(session, command) {
    const fields = clientFields(command.args[0]);
    expectEnd(command.args, 1);
    if (fields) session.log.info({ imap: session.id, peer: session.peer, client: fields }, 'imap client id');
    session.untagged('ID ("name" "mssd" "vendor" "mssd" "support-url" NIL)');
    return ok('ID completed');
  },
};
