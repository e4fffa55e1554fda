// THREAD (RFC 5256 section 3): ORDEREDSUBJECT and REFERENCES over the messages a search left,
// and the thread-list of the response (section 4). Pure: the keys come from the store
// (src/mime/sort-keys.ts computes them at ingest).
import { badSyntax } from './errors';
import { parseSearch, type SearchRequest } from './search';
import { checkCharset, sentDateOf } from './sort';
import { describeToken, type Token } from './tokens';

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES';

/** What THREAD reads of one message. */
export interface ThreadMessage {
  seq: number;
  /** What the response shows: the sequence number, or the UID for UID THREAD. */
  value: number;
  internalDate: number;
  sentDate: number | null;
  baseSubject: string;
  replyOrForward: boolean;
  messageId: string | null;
  references: readonly string[];
}

/** A node of a thread: a message, or a dummy (a message referred to but absent) with children. */
export interface ThreadNode {
  message: ThreadMessage | null;
  children: ThreadNode[];
}

/** `thread-alg SP search-charset 1*(SP search-key)` (RFC 5256 section 4). */
export function parseThread(args: readonly Token[]): { algorithm: ThreadAlgorithm; search: SearchRequest } {
  const name = args[0]?.type === 'atom' ? args[0].value.toUpperCase() : '';
  if (name !== 'ORDEREDSUBJECT' && name !== 'REFERENCES') {
    throw badSyntax(`Unknown threading algorithm ${describeToken(args[0])}; use ORDEREDSUBJECT or REFERENCES`);
  }
  checkCharset(args[1]);
  return { algorithm: name, search: parseSearch(args.slice(2)) };
}

/** The date a node sorts by: its message's sent date, or for a dummy its first child's. */
function nodeDate(node: ThreadNode): number {
  if (node.message) return sentDateOf(node.message);
  return node.children.length > 0 ? nodeDate(node.children[0]) : 0;
}

function nodeSeq(node: ThreadNode): number {
  if (node.message) return node.message.seq;
  return node.children.length > 0 ? nodeSeq(node.children[0]) : 0;
}

/** Sent date, then sequence number (RFC 5256 section 3: ties are in sequence order). */
function byDate(a: ThreadNode, b: ThreadNode): number {
  return nodeDate(a) - nodeDate(b) || nodeSeq(a) - nodeSeq(b);
}

/** Sorts every level of children by date, depth first (a dummy's date is its first child's). */
function sortTree(nodes: ThreadNode[]): void {
  for (const node of nodes) sortTree(node.children);
  nodes.sort(byDate);
}

/**
 * ORDEREDSUBJECT (section 3): messages grouped by base subject; in each group the earliest
 * message is the parent of all the others; threads ordered by their first message's date.
 */
export function orderedSubject(messages: readonly ThreadMessage[]): ThreadNode[] {
  const groups = new Map<string, ThreadMessage[]>();
  for (const message of messages) {
    const group = groups.get(message.baseSubject);
    if (group) group.push(message);
    else groups.set(message.baseSubject, [message]);
  }
  const threads: ThreadNode[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => sentDateOf(a) - sentDateOf(b) || a.seq - b.seq);
    const [first, ...rest] = group;
    threads.push({ message: first, children: rest.map((message) => ({ message, children: [] })) });
  }
  threads.sort(byDate);
  return threads;
}

interface Container {
  message: ThreadMessage | null;
  parent: Container | null;
  children: Container[];
}

function isAncestor(ancestor: Container, node: Container): boolean {
  for (let at: Container | null = node; at; at = at.parent) if (at === ancestor) return true;
  return false;
}

function unlink(child: Container): void {
  if (!child.parent) return;
  const siblings = child.parent.children;
  siblings.splice(siblings.indexOf(child), 1);
  child.parent = null;
}

function link(parent: Container, child: Container): void {
  unlink(child);
  child.parent = parent;
  parent.children.push(child);
}

/** Subject and reply/forward mark of a root: its message's, or a dummy's first child's. */
function rootMessage(node: ThreadNode): ThreadMessage | null {
  if (node.message) return node.message;
  return node.children.length > 0 ? rootMessage(node.children[0]) : null;
}

/** Steps (4): dummies without children go, others give their children to their parent. */
function prune(nodes: Container[], isRoot: boolean): Container[] {
  const kept: Container[] = [];
  for (const node of nodes) {
    if (node.children.length > 0) node.children = prune(node.children, false);
    if (node.message) {
      kept.push(node);
    } else if (node.children.length > 0) {
      // a dummy: its children move up, unless that would put several of them in the root set
      if (isRoot && node.children.length > 1) kept.push(node);
      else kept.push(...node.children);
    }
  }
  return kept;
}

/**
 * REFERENCES (section 3): parent/child links from References/In-Reply-To, dummies for the
 * messages referred to but not there, pruned; then roots with the same base subject merged;
 * every level sorted by sent date.
 */
export function referencesThreads(messages: readonly ThreadMessage[]): ThreadNode[] {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (id: string): Container => {
    let container = byId.get(id);
    if (!container) {
      container = { message: null, parent: null, children: [] };
      byId.set(id, container);
      all.push(container);
    }
    return container;
  };
  // (1) the ID table and the links
  for (const message of [...messages].sort((a, b) => a.seq - b.seq)) {
    let own: Container;
    const known = message.messageId === null ? undefined : byId.get(message.messageId);
    if (message.messageId !== null && (!known || known.message === null)) {
      own = containerFor(message.messageId);
      own.message = message;
    } else {
      // no Message-ID, or a duplicate: a container of its own
      own = { message, parent: null, children: [] };
      all.push(own);
    }
    // (1)(A) each reference is the parent of the next one, unless already linked or a loop
    const refs = message.references.map(containerFor);
    for (let i = 0; i + 1 < refs.length; i++) {
      const [parent, child] = [refs[i], refs[i + 1]];
      if (child.parent === null && parent !== child && !isAncestor(child, parent)) link(parent, child);
    }
    // (1)(B) the message is a child of its last reference (or a root): its current parent link
    // (from a truncated References of another message) is broken first; no link makes a loop
    const last = refs[refs.length - 1];
    unlink(own);
    if (last && last !== own && !isAncestor(own, last)) link(last, own);
  }
  // (2)-(4) the root set, pruned
  const roots = prune(
    all.filter((container) => container.parent === null),
    true,
  );
  const threads: ThreadNode[] = roots; // containers are thread nodes (their parent link is no longer used)
  for (const thread of threads) if (!thread.message) sortTree(thread.children);

  // (5) roots with the same base subject are gathered
  const bySubject = new Map<string, ThreadNode>();
  for (const thread of threads) {
    const message = rootMessage(thread);
    if (!message || message.baseSubject === '') continue;
    const held = bySubject.get(message.baseSubject);
    const heldMessage = held ? rootMessage(held) : null;
    if (
      !held ||
      (thread.message === null && held.message !== null) ||
      (heldMessage?.replyOrForward && !message.replyOrForward)
    ) {
      bySubject.set(message.baseSubject, thread);
    }
  }
  const merged: ThreadNode[] = [];
  const gone = new Set<ThreadNode>();
  const replacement = new Map<ThreadNode, ThreadNode>();
  for (const thread of threads) {
    const message = rootMessage(thread);
    const subject = message?.baseSubject ?? '';
    const held = subject === '' ? undefined : bySubject.get(subject);
    if (!held || held === thread || !message) continue;
    const heldMessage = rootMessage(held)!;
    if (held.message === null && thread.message === null) {
      held.children.push(...thread.children);
    } else if (held.message === null) {
      held.children.push(thread);
    } else if (thread.message === null) {
      thread.children.push(held);
      replacement.set(held, thread);
      bySubject.set(subject, thread);
      gone.add(held);
      continue;
    } else if (!heldMessage.replyOrForward && message.replyOrForward) {
      held.children.push(thread);
    } else {
      const dummy: ThreadNode = { message: null, children: [held, thread] };
      replacement.set(held, dummy);
      bySubject.set(subject, dummy);
    }
    gone.add(thread);
  }
  const resolve = (node: ThreadNode): ThreadNode => {
    let at = node;
    while (replacement.has(at)) at = replacement.get(at)!;
    return at;
  };
  const seen = new Set<ThreadNode>();
  for (const thread of threads) {
    const root = gone.has(thread) && !replacement.has(thread) ? null : resolve(thread);
    if (root && !seen.has(root)) {
      seen.add(root);
      merged.push(root);
    }
  }
  // (6) every level by sent date
  sortTree(merged);
  return merged;
}

/** One thread's members (RFC 5256 section 4 thread-members / thread-nested) without the outer parens. */
function renderNode(node: ThreadNode): string {
  const nested = (children: ThreadNode[]) => children.map((child) => `(${renderNode(child)})`).join('');
  if (!node.message) return nested(node.children);
  if (node.children.length === 0) return `${node.message.value}`;
  if (node.children.length === 1) return `${node.message.value} ${renderNode(node.children[0])}`;
  return `${node.message.value} ${nested(node.children)}`;
}

/** The untagged THREAD line (without "* " and CRLF). */
export function threadResponse(threads: readonly ThreadNode[]): string {
  return `THREAD${threads.length > 0 ? ' ' : ''}${threads.map((thread) => `(${renderNode(thread)})`).join('')}`;
}
