// LOGIN (RFC 3501 section 6.2.3).
import { expectAstring, expectEnd } from '../protocol/tokens';
import { logIn } from './login-common';
import type { CommandHandler } from './registry';

export const login: CommandHandler = {
  name: 'LOGIN',
  states: ['not-authenticated'],
  run(session, command) {
    const user = expectAstring(command.args[0], 'user name');
    const password = expectAstring(command.args[1], 'password');
    expectEnd(command.args, 2);
    return logIn(session, user, password);
  },
};
