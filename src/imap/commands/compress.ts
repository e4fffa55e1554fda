// COMPRESS (RFC 4978 section 3): "COMPRESS DEFLATE" turns on raw deflate in both directions,
// after the tagged OK (src/imap/compression.ts does the streams). Only after authentication:
// before it there is nothing to gain, and compressing a login mixes a secret with data an
// attacker may choose (CRIME-like guessing from compressed sizes). A second COMPRESS gets
// NO [COMPRESSIONACTIVE].
import { expectAtom, expectEnd } from '../protocol/tokens';
import { AUTHENTICATED, bad, no, ok, type CommandHandler } from './registry';

export const compress: CommandHandler = {
  name: 'COMPRESS',
  states: AUTHENTICATED,
  run(session, command) {
    const mechanism = expectAtom(command.args[0], 'a compression mechanism');
    expectEnd(command.args, 1);
    if (mechanism !== 'DEFLATE') return bad(`Unknown compression mechanism ${mechanism.slice(0, 40)}: only DEFLATE is offered`);
    if (session.compressing) return no('DEFLATE compression is already active on this connection', 'COMPRESSIONACTIVE');
    const start = session.io.startCompression?.bind(session.io);
    if (!start) return no('Compression is not available on this connection', 'CANNOT');
    session.compressing = true;
    return { ...ok('DEFLATE active'), after: () => start() };
  },
};
