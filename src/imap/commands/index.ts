// Every IMAP command the server knows, by name. One file per command (or per small family).
import { append } from './append';
import { authenticate } from './authenticate';
import { capability } from './capability';
import { copy, move } from './copy-move';
import { enable } from './enable';
import { expunge } from './expunge';
import { fetch } from './fetch';
import { id } from './id';
import { idle } from './idle';
import { login } from './login';
import { logout } from './logout';
import { namespace } from './namespace';
import { check, noop } from './noop';
import type { CommandHandler } from './registry';
import { search } from './search';
import { starttls } from './starttls';
import { store } from './store';

const ALL: CommandHandler[] = [capability, noop, check, logout, starttls, login, authenticate, id, enable, namespace, idle];
// Message commands: FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE (and their UID forms), APPEND.
ALL.push(fetch, store, search, copy, move, expunge, append);

export function commandHandlers(): ReadonlyMap<string, CommandHandler> {
  return new Map(ALL.map((handler) => [handler.name, handler]));
}
