// STARTTLS (RFC 3501 section 6.2.1): the handshake starts right after the tagged OK. The client
// must then ask for CAPABILITY again; the server forgets nothing because nothing was learnt.
import { expectEnd } from '../protocol/tokens';
import { bad, type CommandHandler } from './registry';

export const starttls: CommandHandler = {
  name: 'STARTTLS',
  states: ['not-authenticated'],
  run(session, command) {
    expectEnd(command.args, 0);
    if (session.io.secure) return bad('TLS is already active');
    return { status: 'OK', text: 'Begin TLS negotiation now', after: () => session.io.startTls() };
  },
};
