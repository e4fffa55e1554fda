// CAPABILITY (RFC 3501 section 6.1.1).
import { expectEnd } from '../protocol/tokens';
import { ANY_STATE, ok, type CommandHandler } from './registry';

export const capability: CommandHandler = {
  name: 'CAPABILITY',
  states: ANY_STATE,
  run(session, command) {
    expectEnd(command.args, 0);
    session.untagged(`CAPABILITY ${session.capabilities().join(' ')}`);
    return ok('CAPABILITY completed');
  },
};
