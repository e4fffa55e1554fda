// CANCELUPDATE (RFC 5267 section 4.3): ends the live search contexts named by their tags; the
// server sends no more ADDTO / REMOVEFROM for them. A tag that names no live context is BAD.
import { badSyntax } from '../protocol/errors';
import { describeToken, stringValue } from '../protocol/tokens';
import { cancelContext } from '../search-context';
import { bad, ok, SELECTED, type CommandHandler } from './registry';

export const cancelupdate: CommandHandler = {
  name: 'CANCELUPDATE',
  states: SELECTED,
  run(session, command) {
    if (command.args.length === 0) throw badSyntax('CANCELUPDATE needs the tag of a SEARCH or SORT ... RETURN (UPDATE)');
    const tags = command.args.map((token) => {
      const tag = token.type === 'string' ? stringValue(token) : null; // tag-string = string (RFC 5267 section 5)
      if (tag === null) throw badSyntax(`CANCELUPDATE takes quoted tags, got ${describeToken(token)}`);
      return tag;
    });
    const unknown = tags.filter((tag) => !cancelContext(session, tag));
    if (unknown.length > 0) return bad(`No search context is being updated for tag ${unknown.map((tag) => JSON.stringify(tag)).join(', ')}`);
    return ok('CANCELUPDATE completed');
  },
};
