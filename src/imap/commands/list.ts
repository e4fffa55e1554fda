// LIST (RFC 3501 section 6.3.8) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154 section
// 3), CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819); LSUB (section 6.3.9).
//
//   LIST [(selection options)] reference (pattern | (pattern ...)) [RETURN (return options)]
//
// What a person sees is decided by the store (mailbox-view.ts listMailboxes): their own
// mailboxes, then under "Partagé/<ORG address>/" those of every ORG box they are linked to (R6),
// checked at every command so that an unlinked box disappears at once (read again whenever the
// store's listing counter moved, currentListing below).
//
// Decisions:
// - Names go out in modified UTF-7, always as quoted strings; patterns and references come in
//   modified UTF-7 and are matched in Unicode. The reference is prefixed to each pattern as it
//   is (RFC 3501's examples), one delimiter dropped when both sides carry it.
// - Attributes: \HasChildren or \HasNoChildren always (CHILDREN is advertised, RFC 5258 section
//   4 lets a server send them unasked); the special-use attribute of the person's own Sent,
//   Drafts and Trash always (RFC 6154 section 2; an ORG's are never announced, or a client would
//   file the person's sent mail there, README "Client quirks"); \Subscribed when SUBSCRIBED is
//   selected or returned. Subscriptions are kept by name (store/subscriptions.ts): a subscribed
//   name whose mailbox was deleted or renamed is still listed by LIST (SUBSCRIBED), with
//   \NonExistent (RFC 5258 section 3), and by LSUB (RFC 3501 section 6.3.9).
// - A name with mailboxes below it but none of its own (a deleted folder's name, RFC 3501
//   section 6.3.4) is \Noselect in a basic LIST and \NonExistent in an extended one (RFC 5258
//   section 3: "\NonExistent" implies "\Noselect"); the shared namespace's own nodes ("Partagé",
//   "Partagé/<ORG address>") are \Noselect in both, as namespace prefixes are.
// - Selection options SUBSCRIBED, SPECIAL-USE (RFC 6154), REMOTE (nothing is remote here) and
//   RECURSIVEMATCH, which must come with SUBSCRIBED or SPECIAL-USE; it adds the CHILDINFO
//   extended data item (RFC 5258 section 3.5) to a matching name that has a descendant meeting
//   the selection criteria which no pattern matches (a descendant listed on its own needs no
//   CHILDINFO on its parent: RFC 5258 section 5 example 9, as Dovecot does). Unknown options are a BAD (section 3).
// - RETURN (STATUS (...)) sends a STATUS response after the LIST response of each selectable
//   mailbox (RFC 5819 section 2), none for \Noselect names.
// - LSUB returns subscribed mailboxes; a name that is not subscribed but has a subscribed
//   mailbox below it that the pattern does not match is returned \Noselect when the pattern
//   matches it (section 6.3.9, the "%" case).
// - LIST "" "" (and LSUB "" "") answers the delimiter and the root: "" for the personal
//   namespace, "Partagé/" for a reference in the shared one.
import {
  HIERARCHY_DELIMITER,
  listingChanges,
  listMailboxes,
  listPatternMatcher,
  SHARED_NAMESPACE_PREFIX,
  SHARED_ROOT,
  type ListedMailbox,
} from '../../store/mailbox-view';
import { decodeMailboxName, encodeMailboxName, quoted, string } from '../protocol/encode';
import { badSyntax } from '../protocol/errors';
import { describeToken, expectAstring, expectEnd, expectList, expectListMailbox, isWord, type Token } from '../protocol/tokens';
import type { ImapSession } from '../session';
import { AUTHENTICATED, ok, type CommandHandler, type Completion } from './registry';
import { parseStatusItems, statusResponse, type StatusItem } from './status';

interface ListRequest {
  /** The command used the RFC 5258 syntax (selection or return options, several patterns). */
  extended: boolean;
  selectSubscribed: boolean;
  selectSpecialUse: boolean;
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  returnStatus: StatusItem[] | null;
  reference: string;
  patterns: string[];
}

const DELIMITER = quoted(HIERARCHY_DELIMITER);

function wireName(name: string): string {
  return string(encodeMailboxName(name));
}

/** A session's last listing, kept while the store's listing counter stays the same. */
interface KeptListing {
  changes: number;
  withSubscribedNames: boolean;
  entries: readonly ListedMailbox[];
  /** View name -> name on the wire, filled as names are sent. */
  wire: Map<string, string>;
}

const keptListings = new WeakMap<ImapSession, KeptListing>();

/**
 * What the person sees (store/mailbox-view.ts listMailboxes), read again only when something it
 * depends on changed since this session last read it (store listingChanges; the counter is read
 * first, so a change made meanwhile is seen next time).
 */
function currentListing(session: ImapSession, withSubscribedNames: boolean): KeptListing {
  const changes = listingChanges(session.db);
  const kept = keptListings.get(session);
  if (kept && kept.changes === changes && kept.withSubscribedNames === withSubscribedNames) return kept;
  const listing = { changes, withSubscribedNames, entries: listMailboxes(session.db, session.user!.accountId, { withSubscribedNames }), wire: new Map() };
  keptListings.set(session, listing);
  return listing;
}

function keptWireName(listing: KeptListing, name: string): string {
  let wire = listing.wire.get(name);
  if (wire === undefined) {
    wire = wireName(name);
    listing.wire.set(name, wire);
  }
  return wire;
}

/**
 * A reference or pattern from the wire (modified UTF-7) in Unicode. One that is not valid
 * modified UTF-7 (a lone "&", raw 8-bit) is taken as it is: LIST answers what matches it
 * (usually nothing) instead of refusing a well-formed command (imaptest "atoms", as Dovecot).
 */
function decodePattern(text: string): string {
  return decodeMailboxName(text) ?? text;
}

function atomWord(token: Token, what: string): string {
  if (token.type === 'atom') return token.value.toUpperCase();
  throw badSyntax(`Expected ${what}, got ${describeToken(token)}`);
}

function parseList(args: readonly Token[]): ListRequest {
  const request: ListRequest = {
    extended: false,
    selectSubscribed: false,
    selectSpecialUse: false,
    recursiveMatch: false,
    returnSubscribed: false,
    returnStatus: null,
    reference: '',
    patterns: [],
  };
  let at = 0;
  if (args[0]?.type === 'list') {
    request.extended = true;
    for (const item of args[0].items) {
      const option = atomWord(item, 'a LIST selection option');
      if (option === 'SUBSCRIBED') request.selectSubscribed = true;
      else if (option === 'SPECIAL-USE') request.selectSpecialUse = true;
      else if (option === 'RECURSIVEMATCH') request.recursiveMatch = true;
      else if (option === 'REMOTE') continue; // no mailbox is remote here (RFC 5258 section 3.1)
      else throw badSyntax(`Unknown LIST selection option ${option}; use SUBSCRIBED, SPECIAL-USE, REMOTE or RECURSIVEMATCH`);
    }
    if (request.recursiveMatch && !request.selectSubscribed && !request.selectSpecialUse) {
      throw badSyntax('RECURSIVEMATCH needs another selection option such as SUBSCRIBED (RFC 5258 section 3.1)');
    }
    at = 1;
  }
  request.reference = decodePattern(expectAstring(args[at], 'a reference name'));
  const patterns = args[at + 1];
  if (patterns?.type === 'list') {
    request.extended = true;
    if (patterns.items.length === 0) throw badSyntax('LIST needs at least one pattern in its list');
    for (const item of patterns.items) request.patterns.push(decodePattern(expectListMailbox(item, 'a mailbox pattern')));
  } else {
    request.patterns.push(decodePattern(expectListMailbox(patterns, 'a mailbox pattern')));
  }
  at += 2;
  if (args.length > at) {
    if (!isWord(args[at], 'RETURN')) throw badSyntax(`Unexpected argument: ${describeToken(args[at])}; return options follow RETURN`);
    request.extended = true;
    const options = expectList(args[at + 1], 'a list of return options after RETURN');
    for (let i = 0; i < options.length; i++) {
      const option = atomWord(options[i], 'a LIST return option');
      if (option === 'SUBSCRIBED') request.returnSubscribed = true;
      else if (option === 'CHILDREN' || option === 'SPECIAL-USE') continue; // always sent
      else if (option === 'STATUS') request.returnStatus = parseStatusItems(options[++i]);
      else throw badSyntax(`Unknown LIST return option ${option}; use SUBSCRIBED, CHILDREN, SPECIAL-USE or STATUS (...)`);
    }
    expectEnd(args, at + 2);
  }
  return request;
}

/** Reference + pattern (RFC 3501 section 6.3.8), without a doubled delimiter between them. */
function joinReference(reference: string, pattern: string): string {
  if (reference.endsWith(HIERARCHY_DELIMITER) && pattern.startsWith(HIERARCHY_DELIMITER)) return reference + pattern.slice(1);
  return reference + pattern;
}

/** LIST "" "" / LIST ref "": the delimiter and the root of the reference's namespace. */
function rootResponse(command: 'LIST' | 'LSUB', reference: string): string {
  const shared = reference.split(HIERARCHY_DELIMITER)[0] === SHARED_ROOT && reference.includes(HIERARCHY_DELIMITER);
  return `${command} (\\Noselect) ${DELIMITER} ${wireName(shared ? SHARED_NAMESPACE_PREFIX : '')}`;
}

/** "Partagé" and "Partagé/<ORG address>": namespace nodes, never mailboxes. */
function isNamespaceNode(entry: ListedMailbox): boolean {
  return entry.isShared && entry.noselect && entry.name.split(HIERARCHY_DELIMITER).length <= 2;
}

function matcherFor(request: ListRequest): ((name: string) => boolean) | null {
  const matchers = request.patterns
    .filter((pattern) => pattern !== '')
    .map((pattern) => listPatternMatcher(joinReference(request.reference, pattern)));
  if (matchers.length === 0) return null;
  return (name) => matchers.some((matches) => matches(name));
}

function meetsSelection(request: ListRequest, entry: ListedMailbox): boolean {
  if (request.selectSubscribed && !entry.subscribed) return false;
  if (request.selectSpecialUse && entry.specialUse === null) return false;
  return true;
}

/** The selection criteria a mailbox meets, as CHILDINFO names them. */
function criteriaMet(request: ListRequest, entry: ListedMailbox): string[] {
  const met: string[] = [];
  if (request.selectSubscribed && entry.subscribed) met.push('SUBSCRIBED');
  if (request.selectSpecialUse && entry.specialUse !== null) met.push('SPECIAL-USE');
  return met;
}

function runList(session: ImapSession, args: readonly Token[]): Completion {
  const request = parseList(args);
  if (request.patterns.some((pattern) => pattern === '')) session.untagged(rootResponse('LIST', request.reference));
  const matches = matcherFor(request);
  if (!matches) return ok('LIST completed');

  // RFC 5258 section 3: subscribed names whose mailbox is gone are listed, \NonExistent.
  const listing = currentListing(session, request.selectSubscribed);
  const entries = listing.entries;
  const selecting = request.selectSubscribed || request.selectSpecialUse;
  // CHILDINFO (RFC 5258 sections 3.5 and 5, example 9): for each name, the criteria met by a
  // descendant that is not itself returned because no pattern matches it.
  const childInfo = new Map<string, Set<string>>();
  if (request.recursiveMatch) {
    for (const entry of entries) {
      if (matches(entry.name)) continue;
      const met = criteriaMet(request, entry);
      if (met.length === 0) continue;
      const levels = entry.name.split(HIERARCHY_DELIMITER);
      for (let depth = 1; depth < levels.length; depth++) {
        const ancestor = levels.slice(0, depth).join(HIERARCHY_DELIMITER);
        const set = childInfo.get(ancestor) ?? new Set<string>();
        for (const criterion of met) set.add(criterion);
        childInfo.set(ancestor, set);
      }
    }
  }
  const showSubscribed = request.selectSubscribed || request.returnSubscribed;

  for (const entry of entries) {
    if (!matches(entry.name)) continue;
    const meets = !selecting || meetsSelection(request, entry);
    const info = childInfo.get(entry.name);
    if (!meets && !info) continue;
    const attributes: string[] = [];
    if (entry.noselect) attributes.push(request.extended && !isNamespaceNode(entry) ? '\\NonExistent' : '\\Noselect');
    attributes.push(entry.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    if (entry.specialUse) attributes.push(entry.specialUse);
    if (showSubscribed && entry.subscribed) attributes.push('\\Subscribed');
    const extra = info ? ` ("CHILDINFO" (${[...info].map((criterion) => quoted(criterion)).join(' ')}))` : '';
    const name = keptWireName(listing, entry.name);
    session.untagged(`LIST (${attributes.join(' ')}) ${DELIMITER} ${name}${extra}`);
    if (request.returnStatus && entry.mailboxId !== null) {
      try {
        session.untagged(statusResponse(session, entry.mailboxId, encodeMailboxName(entry.name), request.returnStatus));
      } catch {
        // deleted since listMailboxes read it: no STATUS for it (RFC 5819 section 2 allows that)
      }
    }
  }
  return ok('LIST completed');
}

function runLsub(session: ImapSession, args: readonly Token[]): Completion {
  const reference = decodePattern(expectAstring(args[0], 'a reference name'));
  const pattern = decodePattern(expectListMailbox(args[1], 'a mailbox pattern'));
  expectEnd(args, 2);
  if (pattern === '') {
    session.untagged(rootResponse('LSUB', reference));
    return ok('LSUB completed');
  }
  const matches = listPatternMatcher(joinReference(reference, pattern));
  const entries = currentListing(session, true).entries;
  const subscribed = entries.filter((entry) => entry.subscribed);
  const subscribedNames = new Set(subscribed.map((entry) => entry.name));
  // Parents returned \Noselect: not subscribed, matching, above a subscribed name that does not match.
  const noselectParents = new Set<string>();
  for (const entry of subscribed) {
    if (matches(entry.name)) continue;
    const levels = entry.name.split(HIERARCHY_DELIMITER);
    for (let depth = 1; depth < levels.length; depth++) {
      const ancestor = levels.slice(0, depth).join(HIERARCHY_DELIMITER);
      if (!subscribedNames.has(ancestor) && matches(ancestor)) noselectParents.add(ancestor);
    }
  }
  for (const entry of entries) {
    if (subscribedNames.has(entry.name) && matches(entry.name)) {
      session.untagged(`LSUB () ${DELIMITER} ${wireName(entry.name)}`);
    } else if (noselectParents.has(entry.name)) {
      session.untagged(`LSUB (\\Noselect) ${DELIMITER} ${wireName(entry.name)}`);
    }
  }
  return ok('LSUB completed');
}

export const list: CommandHandler = {
  name: 'LIST',
  states: AUTHENTICATED,
  run(session, command) {
    return runList(session, command.args);
  },
};

export const lsub: CommandHandler = {
  name: 'LSUB',
  states: AUTHENTICATED,
  run(session, command) {
    return runLsub(session, command.args);
  },
};
