// The mailboxes a logged-in person sees over IMAP (R6), and how a name they type reaches a
// mailbox row. One place decides it, so that no name can reach another account's mailbox.
//
// Namespaces (RFC 2342):
// - personal, prefix "" : the person's own mailboxes at the root — INBOX, Envoyés, Brouillons,
//   Corbeille, their folders;
// - shared, prefix "Partagé/" : for every ORG box the person is linked to (org_members), that
//   ORG's mailboxes under "Partagé/<ORG MSSanté address>/", e.g.
//   "Partagé/pharmacie@x.mssante.fr/INBOX".
// Hierarchy delimiter "/" everywhere. Names here are Unicode strings (NFC); the protocol layer
// converts from and to modified UTF-7 (RFC 3501 section 5.1.3).
//
// Membership is read from org_members on every call: unlinking a person removes access at their
// next command, including in sessions already open (R6). A suspended ORG box is hidden from its
// members like an unlinked one.
//
// A name without a mailbox row but with rows below it ("a" when only "a/b" exists, "Partagé",
// "Partagé/<ORG address>") is listed as \Noselect (RFC 3501 section 6.3.8): that is how a deleted
// folder with children stays in the hierarchy (section 6.3.4) without a row of its own.
import { cachedStatement, type Db } from './database';
import { subscribedNames } from './subscriptions';

export const HIERARCHY_DELIMITER = '/';
/** Root of the shared namespace (RFC 2342), without its delimiter. */
export const SHARED_ROOT = 'Partagé';
/** The shared namespace prefix as announced by NAMESPACE. */
export const SHARED_NAMESPACE_PREFIX = `${SHARED_ROOT}${HIERARCHY_DELIMITER}`;

/** Longest name a mailbox may have inside its owner's box (characters). */
export const MAX_MAILBOX_NAME_LENGTH = 255;
/** Deepest hierarchy inside a box. */
export const MAX_MAILBOX_DEPTH = 16;

/**
 * A refusal of a mailbox operation. `code` is the RFC 5530 response code the session puts in
 * its NO reply; the message is one line for the human reading it (R15).
 */
export class MailboxError extends Error {
  override name = 'MailboxError';
  constructor(
    readonly code: 'NONEXISTENT' | 'ALREADYEXISTS' | 'CANNOT' | 'NOPERM' | 'LIMIT',
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * Checks and canonicalises a mailbox name as typed by a client: NFC, no empty level (no leading,
 * trailing or doubled "/"), no control characters, no LIST wildcards "%" "*" (RFC 3501 section
 * 5.1 lets a server refuse them), no "." or ".." level, bounded length and depth; a first level
 * equal to INBOX in any case becomes "INBOX" (section 5.1: INBOX is case-insensitive).
 * Returns the levels, or null when the name is not acceptable.
 */
export function mailboxNameLevels(name: string): string[] | null {
  if (typeof name !== 'string' || name === '') return null;
  const normal = name.normalize('NFC');
  if (normal.length > MAX_MAILBOX_NAME_LENGTH * 2) return null;
  // C0 and C1 controls, DEL, wildcards, and the characters that cannot be encoded in an IMAP
  // mailbox name at all (lone surrogates).
  if (/[\u0000-\u001f\u007f-\u009f%*]|\p{Cs}/u.test(normal)) return null;
  const levels = normal.split(HIERARCHY_DELIMITER);
  if (levels.length > MAX_MAILBOX_DEPTH + 2) return null;
  for (const level of levels) {
    if (level === '' || level === '.' || level === '..') return null;
    if (level.trim() !== level) return null; // " Patients" next to "Patients": refused
  }
  if (/^inbox$/i.test(levels[0])) levels[0] = 'INBOX';
  return levels;
}

/** The same rule for a name inside one box (below the shared prefix, or a personal name). */
function boxRelativeName(levels: string[]): string | null {
  if (levels.length === 0 || levels.length > MAX_MAILBOX_DEPTH) return null;
  if (/^inbox$/i.test(levels[0])) levels = ['INBOX', ...levels.slice(1)];
  const name = levels.join(HIERARCHY_DELIMITER);
  return name.length > MAX_MAILBOX_NAME_LENGTH ? null : name;
}

/** True when the first level is the shared root, in any case: such a personal name is refused. */
function looksShared(level: string): boolean {
  return level.toLowerCase() === SHARED_ROOT.toLowerCase();
}

/** Where a view name points, before looking for a mailbox row there. */
export interface LocatedName {
  ownerAccountId: number;
  /** The name inside the owner's box (mailboxes.name). */
  ownerName: string;
  isShared: boolean;
  /** The ORG's MSSanté address as shown in view names (shared names only). */
  orgAddress: string | null;
  /** The canonical view name. */
  viewName: string;
}

interface OrgLink {
  orgId: number;
  address: string;
}

/** The ORG box behind a shared-namespace address, if the user is linked to it (R6). */
function linkedOrgByAddress(db: Db, userAccountId: number, address: string): OrgLink | undefined {
  return cachedStatement(
    db,
    `SELECT a.id AS orgId,
            (SELECT MIN(address) FROM addresses WHERE account_id = a.id AND kind = 'mssante') AS address
     FROM addresses ad
     JOIN accounts a ON a.id = ad.account_id
     JOIN org_members m ON m.org_id = a.id AND m.member_id = ?
     WHERE ad.address = ? AND ad.kind = 'mssante' AND a.type = 'ORG' AND a.status <> 'suspended'`,
  ).get(userAccountId, address) as OrgLink | undefined;
}

/** Every ORG box the user is linked to, with the address that names it in the view. */
export function linkedOrgs(db: Db, userAccountId: number): OrgLink[] {
  return (
    cachedStatement(
      db,
      `SELECT a.id AS orgId,
              (SELECT MIN(address) FROM addresses WHERE account_id = a.id AND kind = 'mssante') AS address
       FROM org_members m JOIN accounts a ON a.id = m.org_id
       WHERE m.member_id = ? AND a.type = 'ORG' AND a.status <> 'suspended'`,
    ).all(userAccountId) as OrgLink[]
  ).filter((org) => org.address !== null);
}

/**
 * Maps a view name to (owner account, name in that account), checking the ORG link on the way;
 * null when the name is malformed, is the shared root or an ORG node itself, or names an ORG the
 * user is not linked to (or anything that is not an ORG: a person's address gives nothing).
 * Does not check that a mailbox exists there.
 */
export function locateMailboxName(db: Db, userAccountId: number, name: string): LocatedName | null {
  const levels = mailboxNameLevels(name);
  if (!levels) return null;
  if (levels[0] === SHARED_ROOT) {
    if (levels.length < 3) return null;
    const org = linkedOrgByAddress(db, userAccountId, levels[1]);
    if (!org) return null;
    const ownerName = boxRelativeName(levels.slice(2));
    if (ownerName === null) return null;
    return {
      ownerAccountId: org.orgId,
      ownerName,
      isShared: true,
      orgAddress: org.address,
      viewName: sharedViewName(org.address, ownerName),
    };
  }
  if (looksShared(levels[0])) return null;
  const ownerName = boxRelativeName(levels);
  if (ownerName === null) return null;
  return { ownerAccountId: userAccountId, ownerName, isShared: false, orgAddress: null, viewName: ownerName };
}

export function sharedViewName(orgAddress: string, ownerName: string): string {
  return [SHARED_ROOT, orgAddress, ownerName].join(HIERARCHY_DELIMITER);
}

// ---------------------------------------------------------------------------------------------
// Resolution

export interface ResolvedMailbox extends LocatedName {
  mailboxId: number;
  specialUse: string | null;
  /**
   * UIDVALIDITY of the row. A session keeps (mailboxId, uidValidity) for its selected mailbox and
   * treats any change as "the mailbox it selected is gone".
   */
  uidValidity: number;
}

interface MailboxIdentityRow {
  id: number;
  special_use: string | null;
  uidvalidity: number;
}

export function findOwnedMailbox(db: Db, ownerAccountId: number, ownerName: string): MailboxIdentityRow | undefined {
  return cachedStatement(db, 'SELECT id, special_use, uidvalidity FROM mailboxes WHERE account_id = ? AND name = ?').get(
    ownerAccountId,
    ownerName,
  ) as MailboxIdentityRow | undefined;
}

/**
 * The mailbox a name typed by `userAccountId` designates, or null: malformed names, wildcards,
 * "../" tricks, \Noselect nodes, ORG boxes the user is not (or no longer) linked to, other
 * persons' boxes. Called for every command that names a mailbox, so revocation is immediate (R6).
 */
export function resolveMailbox(db: Db, userAccountId: number, name: string): ResolvedMailbox | null {
  const located = locateMailboxName(db, userAccountId, name);
  if (!located) return null;
  const row = findOwnedMailbox(db, located.ownerAccountId, located.ownerName);
  if (!row) return null;
  return { ...located, mailboxId: row.id, specialUse: row.special_use, uidValidity: row.uidvalidity };
}

/**
 * Whether `userAccountId` may still act on mailbox `mailboxId` (their own, or one of an ORG they
 * are linked to): for a session that holds a selected mailbox id between commands.
 */
export function canAccessMailbox(db: Db, userAccountId: number, mailboxId: number): boolean {
  return (
    cachedStatement(
      db,
      `SELECT 1 FROM mailboxes mb
       WHERE mb.id = ? AND (mb.account_id = ? OR EXISTS (
         SELECT 1 FROM org_members m JOIN accounts a ON a.id = m.org_id
         WHERE m.org_id = mb.account_id AND m.member_id = ? AND a.type = 'ORG' AND a.status <> 'suspended'))`,
    ).get(mailboxId, userAccountId, userAccountId) !== undefined
  );
}

// ---------------------------------------------------------------------------------------------
// Listing

export interface ListedMailbox {
  /** View name (Unicode). */
  name: string;
  /** null for a \Noselect node. */
  mailboxId: number | null;
  ownerAccountId: number | null;
  /**
   * RFC 6154 attribute to announce. Only for the person's own mailboxes: an ORG's "Envoyés"
   * announced as \Sent would be taken by Outlook or Thunderbird as the person's own Sent folder
   * (README "Client quirks").
   */
  specialUse: string | null;
  subscribed: boolean;
  /**
   * A subscribed name without a mailbox nor mailboxes below it (deleted or renamed since it was
   * subscribed): listed only when asked for (LIST (SUBSCRIBED), LSUB), \NonExistent (RFC 5258).
   */
  nonExistent?: boolean;
  /** RFC 3348 \HasChildren / \HasNoChildren. */
  hasChildren: boolean;
  /** RFC 3501 \Noselect: a hierarchy node without a mailbox. */
  noselect: boolean;
  isShared: boolean;
}

interface ListedRow {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
  subscribed?: number;
}

/**
 * Everything `userAccountId` can see: own mailboxes, then the mailboxes of each linked ORG under
 * the shared prefix, with the intermediate \Noselect nodes. INBOX first, then by name.
 * `withSubscribedNames` adds the subscribed names of the personal namespace that have no
 * mailbox (nonExistent), for LIST (SUBSCRIBED) and LSUB.
 */
export function listMailboxes(db: Db, userAccountId: number, options: { withSubscribedNames?: boolean } = {}): ListedMailbox[] {
  const entries = new Map<string, ListedMailbox>();
  const subscriptions = subscribedNames(db, userAccountId);
  const own = cachedStatement(
    db,
    'SELECT id, account_id, name, special_use FROM mailboxes WHERE account_id = ?',
  ).all(userAccountId) as ListedRow[];
  for (const row of own) {
    // A personal row under the shared root could never be reached: never shown either.
    if (looksShared(row.name.split(HIERARCHY_DELIMITER)[0])) continue;
    entries.set(row.name, {
      name: row.name,
      mailboxId: row.id,
      ownerAccountId: row.account_id,
      specialUse: row.special_use,
      subscribed: subscriptions.has(row.name),
      hasChildren: false,
      noselect: false,
      isShared: false,
    });
  }
  const sharedRows = cachedStatement(
    db,
    `SELECT mb.id, mb.account_id, mb.name, mb.special_use,
            COALESCE(s.subscribed, 1) AS subscribed
     FROM mailboxes mb
     LEFT JOIN shared_subscriptions s ON s.mailbox_id = mb.id AND s.member_id = ?
     WHERE mb.account_id = ?`,
  );
  for (const org of linkedOrgs(db, userAccountId)) {
    for (const row of sharedRows.all(userAccountId, org.orgId) as ListedRow[]) {
      const name = sharedViewName(org.address, row.name);
      entries.set(name, {
        name,
        mailboxId: row.id,
        ownerAccountId: row.account_id,
        specialUse: null,
        subscribed: row.subscribed === 1,
        hasChildren: false,
        noselect: false,
        isShared: true,
      });
    }
  }
  // Parents: mark those that exist, add \Noselect nodes for those that do not.
  for (const name of [...entries.keys()]) {
    const levels = name.split(HIERARCHY_DELIMITER);
    for (let depth = levels.length - 1; depth >= 1; depth--) {
      const parent = levels.slice(0, depth).join(HIERARCHY_DELIMITER);
      const existing = entries.get(parent);
      if (existing) {
        existing.hasChildren = true;
        continue;
      }
      entries.set(parent, {
        name: parent,
        mailboxId: null,
        ownerAccountId: null,
        specialUse: null,
        subscribed: levels[0] !== SHARED_ROOT && subscriptions.has(parent),
        hasChildren: true,
        noselect: true,
        isShared: levels[0] === SHARED_ROOT,
      });
    }
  }
  if (options.withSubscribedNames) {
    for (const name of subscriptions) {
      if (entries.has(name) || looksShared(name.split(HIERARCHY_DELIMITER)[0])) continue;
      entries.set(name, {
        name,
        mailboxId: null,
        ownerAccountId: null,
        specialUse: null,
        subscribed: true,
        nonExistent: true,
        hasChildren: false,
        noselect: true,
        isShared: false,
      });
    }
  }
  return [...entries.values()].sort(compareViewNames);
}

/**
 * A number that moves whenever something listMailboxes reads changes, in any connection or
 * process (migration 016's triggers): while it stays the same, a listing read earlier is still
 * exactly what listMailboxes would return (unlinking from an ORG box moves it: R6 at once).
 */
export function listingChanges(db: Db): number {
  return cachedStatement(db, 'SELECT counter FROM listing_changes WHERE id = 1').pluck().get() as number;
}

/**
 * What a session in the selected state reads before each command, in one statement: the
 * credential_changes counter (store/devices.ts credentialChanges) and the selected mailbox's
 * counters (mailboxCounters; undefined once it no longer exists). One read transaction instead of
 * two: each one that starts after another process committed reloads the pages it reads.
 */
export function sessionCounters(db: Db, mailboxId: number): { credentials: number; mailbox: MailboxCounters | undefined } {
  const row = cachedStatement(
    db,
    `SELECT (SELECT counter FROM credential_changes WHERE id = 1) AS credentials, m.uidvalidity, m.uidnext, m.highestmodseq, m.recent_floor
     FROM (SELECT 1) LEFT JOIN mailboxes m ON m.id = ?`,
  ).get(mailboxId) as { credentials: number } & { [K in keyof MailboxCounters]: number | null };
  const mailbox =
    row.uidvalidity === null
      ? undefined
      : { uidvalidity: row.uidvalidity, uidnext: row.uidnext!, highestmodseq: row.highestmodseq!, recent_floor: row.recent_floor! };
  return { credentials: row.credentials, mailbox };
}

function compareViewNames(a: ListedMailbox, b: ListedMailbox): number {
  const rank = (entry: ListedMailbox) => (entry.isShared ? 2 : entry.name === 'INBOX' ? 0 : 1);
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// LIST patterns (RFC 3501 section 6.3.8)

/**
 * A matcher for a LIST/LSUB pattern: "*" matches anything, "%" anything but the hierarchy
 * delimiter, the rest literally (mailbox names are case-sensitive, except INBOX: a pattern whose
 * first level starts with "inbox" in any case matches it). The caller has already joined the
 * reference and the pattern. Runs in O(name × pattern) whatever the pattern (no backtracking
 * regular expression a hostile pattern could blow up).
 */
export function listPatternMatcher(pattern: string): (name: string) => boolean {
  let normal = pattern.normalize('NFC');
  if (/^inbox(?=$|[/%*])/i.test(normal)) normal = `INBOX${normal.slice(5)}`;
  // Consecutive wildcards collapse: "**", "*%", "%*" are "*"; "%%" is "%".
  const tokens: string[] = [];
  for (const char of normal) {
    const last = tokens[tokens.length - 1];
    if ((char === '*' || char === '%') && (last === '*' || last === '%')) {
      tokens[tokens.length - 1] = char === '%' && last === '%' ? '%' : '*';
    } else {
      tokens.push(char);
    }
  }
  if (tokens.length === 1 && tokens[0] === '*') return () => true;
  if (!tokens.includes('*') && !tokens.includes('%')) {
    const literal = tokens.join('');
    return (name) => name === literal;
  }
  const literals = tokens.filter((token) => token !== '*' && token !== '%').length;
  return (name) => {
    const chars = [...name];
    if (literals > chars.length) return false;
    // reachable[j]: the first i name characters can be matched by the first j pattern tokens.
    let reachable = new Uint8Array(tokens.length + 1);
    reachable[0] = 1;
    for (let j = 0; j < tokens.length && (tokens[j] === '*' || tokens[j] === '%'); j++) reachable[j + 1] = 1;
    for (const char of chars) {
      const next = new Uint8Array(tokens.length + 1);
      let any = false;
      for (let j = 0; j < tokens.length; j++) {
        const token = tokens[j];
        if (token === '*' || (token === '%' && char !== HIERARCHY_DELIMITER)) {
          // The wildcard absorbs this character (it was reachable before or after it).
          if (reachable[j] || reachable[j + 1]) next[j + 1] = 1;
        } else if (token === char && reachable[j]) {
          next[j + 1] = 1;
        }
        // A wildcard may also match nothing: carry over to the next token.
        if (next[j] && (tokens[j] === '*' || tokens[j] === '%')) next[j + 1] = 1;
        if (next[j + 1]) any = true;
      }
      if (!any) return false;
      reachable = next;
    }
    return reachable[tokens.length] === 1;
  };
}

// ---------------------------------------------------------------------------------------------
// Counters of a selected mailbox

/** What a session compares with its view of a selected mailbox (RFC 3501 section 2.3.1.1, RFC 7162). */
export interface MailboxCounters {
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  /** UIDs from here up have not been shown as \Recent to any session yet (it only grows). */
  recent_floor: number;
}

/** The UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and \Recent floor of a mailbox; undefined once it no longer exists. */
export function mailboxCounters(db: Db, mailboxId: number): MailboxCounters | undefined {
  return cachedStatement(db, 'SELECT uidvalidity, uidnext, highestmodseq, recent_floor FROM mailboxes WHERE id = ?').get(mailboxId) as
    | MailboxCounters
    | undefined;
}
