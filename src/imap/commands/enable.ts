// ENABLE (RFC 5161): CONDSTORE and QRESYNC are the extensions here that need enabling (RFC 7162
// sections 3.1 and 3.2.3; QRESYNC implies CONDSTORE); unknown ones are ignored, as the RFC says.
// ENABLED names what this command turned on that was not on before.
import { expectAtom } from '../protocol/tokens';
import { ok, type CommandHandler } from './registry';

const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC']);

export const enable: CommandHandler = {
  name: 'ENABLE',
  states: ['authenticated'],
  run(session, command) {
    const before = new Set(session.enabled);
    const newly: string[] = [];
    for (let i = 0; i < command.args.length; i++) {
      const extension = expectAtom(command.args[i], 'extension name').toUpperCase();
      if (ENABLEABLE.has(extension) && !before.has(extension) && !newly.includes(extension)) {
        session.enabled.add(extension);
        newly.push(extension);
        if (extension === 'QRESYNC') session.enabled.add('CONDSTORE');
      }
    }
    session.untagged(`ENABLED${newly.map((name) => ` ${name}`).join('')}`);
    return ok('ENABLE completed');
  },
};
