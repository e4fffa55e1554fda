// LOGOUT (RFC 3501 section 6.1.3): BYE, the tagged OK, then the connection closes.
import { expectEnd } from '../protocol/tokens';
import { ANY_STATE, type CommandHandler } from './registry';

export const logout: CommandHandler = {
  name: 'LOGOUT',
  states: ANY_STATE,
  run(session, command) {
    expectEnd(command.args, 0);
    session.untagged('BYE mssd logging out');
    session.deselect();
    session.state = 'logout';
    return { status: 'OK', text: 'LOGOUT completed', after: () => session.io.close() };
  },
};
