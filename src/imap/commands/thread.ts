// THREAD and UID THREAD (RFC 5256 section 3): ORDEREDSUBJECT and REFERENCES over the messages
// SEARCH's evaluation selects; keys from the store, algorithms in protocol/thread.ts.
import { orderedSubject, parseThread, referencesThreads, threadResponse } from '../protocol/thread';
import { currentMailbox } from './message-common';
import { no, ok, SELECTED, type CommandHandler } from './registry';
import { matchingIndexes } from './search';
import { keyedMessages, THREAD_GROUPS } from './sort';

export const thread: CommandHandler = {
  name: 'THREAD',
  states: SELECTED,
  holdsExpunges: (command) => !command.uid,
  async run(session, command) {
    const selected = currentMailbox(session, command.uid);
    const { algorithm, search } = parseThread(command.args);
    const keyed = await keyedMessages(session, selected, await matchingIndexes(session, selected, search.key), THREAD_GROUPS);
    const messages = keyed.map((message) => Object.assign(message, { value: command.uid ? message.uid : message.seq }));
    try {
      const threads = algorithm === 'ORDEREDSUBJECT' ? orderedSubject(messages) : referencesThreads(messages);
      session.untagged(threadResponse(threads));
    } catch (err) {
      // the tree is walked recursively: a reply chain thousands of messages deep exhausts the stack
      if (err instanceof RangeError) return no('Threads nested too deeply to answer; use SORT instead', 'LIMIT');
      throw err;
    }
    return ok(`${command.uid ? 'UID ' : ''}THREAD completed`);
  },
};
