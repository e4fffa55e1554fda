// IDLE (RFC 2177): the client waits; new mail, flag changes and expunges (from SMTP delivery,
// other sessions, the purge job) are pushed as soon as they are committed, until "DONE".
import { expectEnd } from '../protocol/tokens';
import { AUTHENTICATED, bad, ok, type CommandHandler } from './registry';

export const idle: CommandHandler = {
  name: 'IDLE',
  states: AUTHENTICATED,
  async run(session, command) {
    expectEnd(command.args, 0);
    session.io.write('+ idling\r\n');
    session.idleUpdate();
    session.startIdling();
    try {
      const line = await session.io.readLine();
      if (!line || line.type === 'error') return bad('IDLE ended by an unreadable line');
      if (line.text.trim().toUpperCase() !== 'DONE') return bad('IDLE ends with DONE');
      return ok('IDLE terminated');
    } finally {
      session.stopIdling();
    }
  },
};
