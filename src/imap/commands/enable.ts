// ENABLE (RFC 5161): CONDSTORE is the one extension here that needs enabling (RFC 7162 section
// 3.1); unknown ones are ignored, as the RFC says.
import { expectAtom } from '../protocol/tokens';
import { ok, type CommandHandler } from './registry';

const ENABLEABLE = new Set(['CONDSTORE']);

export const enable: CommandHandler = {
  name: 'ENABLE',
  states: ['authenticated'],
  run(session, command) {
    const newly: string[] = [];
    for (let i = 0; i < command.args.length; i++) {
      const extension = expectAtom(command.args[i], 'extension name').toUpperCase();
      if (ENABLEABLE.has(extension) && !session.enabled.has(extension)) {
        session.enabled.add(extension);
        newly.push(extension);
      }
    }
    session.untagged(`ENABLED${newly.map((name) => ` ${name}`).join('')}`);
    return ok('ENABLE completed');
  },
};
