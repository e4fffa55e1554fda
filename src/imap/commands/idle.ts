// IDLE (RFC 2177): the client waits; new mail, flag changes and expunges (from SMTP delivery,
// other sessions, the purge job) are pushed as soon as they are committed, until "DONE".
import { expectEnd } from '../protocol/tokens';
import { refreshContexts } from '../search-context';
import { AUTHENTICATED, bad, ok, type CommandHandler } from './registry';

export const idle: CommandHandler = {
  name: 'IDLE',
  states: AUTHENTICATED,
  async run(session, command) {
    expectEnd(command.args, 0);
    session.io.write('+ idling\r\n');
    const wake = (): void => {
      session.flushUpdates(true);
      // RFC 5267 section 4.3: live search contexts follow too (errors are logged, IDLE goes on)
      refreshContexts(session).catch((err: unknown) => session.log.warn({ imap: session.id, err }, 'search context update failed'));
    };
    wake();
    session.idleWaker = wake;
    try {
      const line = await session.io.readLine();
      if (!line || line.type === 'error') return bad('IDLE ended by an unreadable line');
      if (line.text.trim().toUpperCase() !== 'DONE') return bad('IDLE ends with DONE');
      return ok('IDLE terminated');
    } finally {
      session.idleWaker = null;
    }
  },
};
