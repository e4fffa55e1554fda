// NAMESPACE (RFC 2342): the person's own mailboxes at the root, the ORG boxes they are linked to
// under the shared prefix (R6); no "other users" namespace.
import { encodeMailboxName, quoted } from '../protocol/encode';
import { expectEnd } from '../protocol/tokens';
import { HIERARCHY_DELIMITER, SHARED_NAMESPACE_PREFIX } from '../../store/mailbox-view';
import { AUTHENTICATED, ok, type CommandHandler } from './registry';

export const namespace: CommandHandler = {
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  run(session, command) {
    expectEnd(command.args, 0);
    const delimiter = quoted(HIERARCHY_DELIMITER);
    const shared = quoted(encodeMailboxName(SHARED_NAMESPACE_PREFIX));
    session.untagged(`NAMESPACE (("" ${delimiter})) NIL ((${shared} ${delimiter}))`);
    return ok('NAMESPACE completed');
  },
};
