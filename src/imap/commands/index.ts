// Every IMAP command the server knows, by name. One file per command (or per small family).
import { authenticate } from './authenticate';
import { capability } from './capability';
import { enable } from './enable';
import { id } from './id';
import { idle } from './idle';
import { login } from './login';
import { logout } from './logout';
import { namespace } from './namespace';
import { check, noop } from './noop';
import type { CommandHandler } from './registry';
import { starttls } from './starttls';

const ALL: CommandHandler[] = [capability, noop, check, logout, starttls, login, authenticate, id, enable, namespace, idle];

export function commandHandlers(): ReadonlyMap<string, CommandHandler> {
  return new Map(ALL.map((handler) => [handler.name, handler]));
}
