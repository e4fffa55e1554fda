// Every IMAP command the server knows, by name. One file per command (or per small family).
import { deleteacl, getacl, listrights, myrights, setacl } from './acl';
import { append } from './append';
import { authenticate } from './authenticate';
import { cancelupdate } from './cancelupdate';
import { capability } from './capability';
import { close, unselect } from './close';
import { compress } from './compress';
import { copy, move } from './copy-move';
import { create } from './create';
import { deleteCommand } from './delete';
import { enable } from './enable';
import { expunge } from './expunge';
import { fetch } from './fetch';
import { id } from './id';
import { idle } from './idle';
import { list, lsub } from './list';
import { login } from './login';
import { logout } from './logout';
import { namespace } from './namespace';
import { check, noop } from './noop';
import type { CommandHandler } from './registry';
import { getquota, getquotaroot, setquota } from './quota';
import { rename } from './rename';
import { search } from './search';
import { sort } from './sort';
import { examine, select } from './select';
import { starttls } from './starttls';
import { status } from './status';
import { store } from './store';
import { subscribe, unsubscribe } from './subscribe';
import { thread } from './thread';

const ALL: CommandHandler[] = [capability, noop, check, logout, starttls, login, authenticate, id, enable, namespace, idle];
// Message commands: FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE (and their UID forms), APPEND.
ALL.push(fetch, store, search, copy, move, expunge, append);
// Mailbox commands: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS, CLOSE, UNSELECT.
ALL.push(select, examine, create, deleteCommand, rename, subscribe, unsubscribe, list, lsub, status, close, unselect);

// Extensions of issue 12: QUOTA (RFC 9208).
ALL.push(getquotaroot, getquota, setquota);
// SORT and THREAD (RFC 5256).
ALL.push(sort, thread);
// ACL, read side (RFC 4314).
ALL.push(myrights, getacl, listrights, setacl, deleteacl);
// COMPRESS=DEFLATE (RFC 4978).
ALL.push(compress);
// CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267): RETURN (UPDATE) contexts end with CANCELUPDATE.
ALL.push(cancelupdate);

export function commandHandlers(): ReadonlyMap<string, CommandHandler> {
  return new Map(ALL.map((handler) => [handler.name, handler]));
}
