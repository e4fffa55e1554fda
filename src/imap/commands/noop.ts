// NOOP (RFC 3501 section 6.1.2) and CHECK (section 6.4.1): nothing to do but let the session send
// the pending mailbox updates, which dispatch does after every command. Every commit is already
// durable, so CHECK has no checkpoint to make.
import { expectEnd } from '../protocol/tokens';
import { ANY_STATE, ok, SELECTED, type CommandHandler } from './registry';

export const noop: CommandHandler = {
  name: 'NOOP',
  states: ANY_STATE,
  run(_session, command) {
    expectEnd(command.args, 0);
    return ok('NOOP completed');
  },
};

export const check: CommandHandler = {
  name: 'CHECK',
  states: SELECTED,
  run(_session, command) {
    expectEnd(command.args, 0);
    return ok('CHECK completed');
  },
};
