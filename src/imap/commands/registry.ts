// How a command is declared: the states it is valid in (RFC 3501 section 3) and its handler.
// Each command lives in its own file under commands/ and is listed in commands/index.ts.
import type { Command } from '../protocol/reader';
import type { ResponseCode } from '../protocol/errors';
import type { ImapSession, SessionState } from '../session';

/** The tagged completion of a command (RFC 3501 section 7.1). */
export interface Completion {
  status: 'OK' | 'NO' | 'BAD';
  /** Response code without brackets, e.g. 'READ-WRITE', 'APPENDUID 38505 3955'. */
  code?: ResponseCode | string;
  text: string;
  /** Runs once the tagged response is written (STARTTLS's handshake, LOGOUT's close). */
  after?: () => void | Promise<void>;
}

export interface CommandHandler {
  /** Upper-case command name as the client sends it (UID variants come with command.uid). */
  name: string;
  states: readonly SessionState[];
  /**
   * RFC 3501 section 7.4.1: no EXPUNGE response while FETCH, STORE or SEARCH run, because the
   * client relies on sequence numbers staying put. Their UID forms may carry EXPUNGEs.
   */
  holdsExpunges?: (command: Command) => boolean;
  run(session: ImapSession, command: Command): Promise<Completion> | Completion;
}

export const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
export const ANY_STATE: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];

export function ok(text: string, code?: string): Completion {
  return { status: 'OK', text, code };
}

export function no(text: string, code?: string): Completion {
  return { status: 'NO', text, code };
}

export function bad(text: string, code?: string): Completion {
  return { status: 'BAD', text, code };
}
