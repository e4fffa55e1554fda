// Running one command: checking the session state, calling its handler, sending the pending
// mailbox updates the RFC allows at that moment, then the tagged completion (RFC 3501 section
// 7.1). A handler signals a refusal by returning NO/BAD or throwing ImapError; anything else it
// throws is a bug, answered NO [SERVERBUG] without closing the session.
import { ImapError } from './protocol/errors';
import type { Command } from './protocol/reader';
import type { CommandHandler, Completion } from './commands/registry';
import { hasContexts, refreshContexts } from './search-context';
import type { ImapSession } from './session';

/** Commands that have a UID form (RFC 3501 section 6.4.8, RFC 4315, RFC 6851). */
const UID_FORMS = new Set(['COPY', 'MOVE', 'FETCH', 'SEARCH', 'STORE', 'EXPUNGE', 'SORT', 'THREAD']);

function stateRefusal(session: ImapSession, command: Command, handler: CommandHandler): Completion {
  if (session.state === 'not-authenticated') return { status: 'BAD', text: `${command.name} needs you to log in first` };
  if (session.state === 'authenticated' && handler.states.includes('selected')) {
    return { status: 'BAD', text: `${command.name} needs a selected mailbox (SELECT or EXAMINE first)` };
  }
  return { status: 'BAD', text: `${command.name} is not valid now` };
}

export async function runCommand(
  session: ImapSession,
  command: Command,
  handlers: ReadonlyMap<string, CommandHandler>,
): Promise<Completion> {
  const handler = handlers.get(command.name);
  const started = performance.now();
  let completion: Completion;
  let allowExpunge = true;
  // R16: a revoked device or a suspended account runs no further command.
  if (session.cutIfNoLongerAllowed()) return { status: 'NO', code: 'UNAVAILABLE', text: 'Session ended' };
  if (session.state === 'selected') session.closeIfRevoked(); // R6, before the state check
  if (!handler || (command.uid && !UID_FORMS.has(command.name))) {
    completion = { status: 'BAD', text: `Unknown command ${command.uid ? 'UID ' : ''}${command.name}` };
  } else if (!handler.states.includes(session.state)) {
    completion = stateRefusal(session, command, handler);
  } else {
    allowExpunge = !(handler.holdsExpunges?.(command) ?? false);
    try {
      // A handler that answers synchronously is not awaited: its untagged lines and the tagged
      // completion then leave in one synchronous run, one TLS record (connection.ts write).
      const running = handler.run(session, command);
      completion = running instanceof Promise ? await running : running;
    } catch (err) {
      if (err instanceof ImapError) {
        completion = { status: err.kind, code: err.code, text: err.message };
      } else {
        session.log.error({ imap: session.id, command: command.name, err }, 'imap command failed');
        completion = { status: 'NO', code: 'SERVERBUG', text: `${command.name} failed on the server; please try again` };
      }
    }
  }
  if (session.state === 'selected') {
    session.flushUpdates(allowExpunge);
    session.selected?.dropPrimedHead(); // read at this command's start (selected.ts primeHead)
    // RFC 5267 section 4.3: ADDTO / REMOVEFROM of live contexts; a failure there costs the
    // updates, never the command's answer (no await, hence no pause, without a live context)
    if (hasContexts(session)) await refreshContexts(session).catch((err: unknown) => session.log.warn({ imap: session.id, err }, 'search context update failed'));
  }
  const code = completion.code ? `[${completion.code}] ` : '';
  session.io.write(`${command.tag} ${completion.status} ${code}${completion.text}\r\n`);
  // Unknown names are one label: a client cannot grow the metric's label set.
  session.services.metrics?.imapCommand(handler ? command.name : 'UNKNOWN', completion.status, (performance.now() - started) / 1000);
  return completion;
}
