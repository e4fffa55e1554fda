// One IMAP session (RFC 3501 section 3): its state, the logged-in person, the selected mailbox,
// and the way commands talk back to the client. Socket handling lives in connection.ts; each
// command lives in commands/<name>.ts.
import type { Authenticator, AuthenticatedAccount, LoginInvalidity } from '../auth/authenticator';
import type { Config } from '../config/schema';
import type { MailboxChanges } from '../store/mailbox-changes';
import type { CommitBatcher } from '../store/commit-batcher';
import type { Db } from '../store/database';
import { credentialChanges } from '../store/devices';
import { canAccessMailbox, sessionCounters } from '../store/mailbox-view';
import { mailboxOwner } from '../store/quota';
import type { ConnectionLimiter } from '../util/connection-limits';
import type { Logger } from '../util/log';
import type { Metrics } from '../util/metrics';
import { encodeMailboxName, quoted } from './protocol/encode';
import type { IdleWatchers } from './idle-watchers';
import type { RawLine, ReaderError } from './protocol/reader';
import { expungedRemovals, hasContexts, refreshContexts } from './search-context';
import type { SelectedMailbox } from './selected';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

/** What every session shares: the store, the config and the daemon's services. */
export interface ImapServices {
  config: Config;
  db: Db;
  log: Logger;
  authenticator: Authenticator;
  /** 'mailbox-changed' (mailboxId | null = unknown, resynchronise) after commits. */
  changes: MailboxChanges;
  /**
   * Sessions per account (limits.maxConnectionsPerAccount), keyed by account id: counted here, or
   * by the main process for all IMAP workers (src/imap/workers.ts).
   */
  accountSessions: Pick<ConnectionLimiter, 'tryAcquire' | 'release'>;
  /** Sessions in IDLE by selected mailbox: whom a commit wakes (RFC 2177). */
  idleWatchers: IdleWatchers;
  /** Counters for GET /metrics (src/util/metrics.ts); none when absent. */
  metrics?: Metrics;
  /** The daemon's group commit (src/imap/store-writes.ts); without it each write commits alone. */
  batcher?: CommitBatcher;
}

/** The connection side of a session: bytes out, raw lines in, TLS upgrade, closing. */
export interface SessionIo {
  write(data: string | Buffer): void;
  /** Resolves once the socket's buffer drained (true), or the connection closed (false). */
  waitForDrain(): Promise<boolean>;
  /** The next raw client line (AUTHENTICATE responses, IDLE's DONE); null when the client left. */
  readLine(): Promise<RawLine | ReaderError | null>;
  /** Whether the connection is under TLS (implicit, or after STARTTLS). */
  readonly secure: boolean;
  startTls(): Promise<void>;
  /** COMPRESS=DEFLATE (RFC 4978): deflate both directions from now on; absent where unsupported. */
  startCompression?(): void;
  /**
   * Holds everything written from now on until `durable` resolves (R14: an answer may follow a
   * commit only once it is on disk); if it rejects, nothing held is sent and the connection ends.
   * Absent where unsupported: commits are then awaited until durable.
   */
  holdOutputUntil?(durable: Promise<void>): void;
  close(): void;
}

export class ImapSession {
  state: SessionState = 'not-authenticated';
  user: AuthenticatedAccount | null = null;
  selected: SelectedMailbox | null = null;
  /** Extensions turned on with ENABLE (RFC 5161) or implicitly (CONDSTORE by a MODSEQ use). */
  readonly enabled = new Set<string>();
  /** The mailbox this session idles on (registered in services.idleWatchers), while IDLE runs. */
  private idlingOn: number | null = null;
  /** COMPRESS DEFLATE succeeded on this connection (RFC 4978: a second one gets COMPRESSIONACTIVE). */
  compressing = false;
  /** Ends the registration that lets a revocation cut this session (set at login). */
  unregister: (() => void) | null = null;
  /** The last mailbox found to be the person's own (canStillAccess). */
  private ownMailboxId = 0;
  /** The credential_changes counter when `credentialsHeldFor` last passed the full check (R16). */
  private credentialsHeldAt = -1;
  private credentialsHeldFor: AuthenticatedAccount | null = null;

  constructor(
    readonly services: ImapServices,
    readonly io: SessionIo,
    readonly peer: string,
    /** Short id of this connection in logs. */
    readonly id: string,
  ) {}

  get config(): Config {
    return this.services.config;
  }

  get db(): Db {
    return this.services.db;
  }

  get log(): Logger {
    return this.services.log;
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE');
  }

  /** RFC 7162 section 3.2.3: turned on by ENABLE QRESYNC only (it implies CONDSTORE). */
  get qresync(): boolean {
    return this.enabled.has('QRESYNC');
  }

  /**
   * RFC 7162 section 3.1: a CONDSTORE enabling command (FETCH MODSEQ or CHANGEDSINCE, SEARCH
   * MODSEQ, STORE UNCHANGEDSINCE, STATUS HIGHESTMODSEQ). The first one run while a mailbox is
   * selected reports that mailbox's HIGHESTMODSEQ in an untagged OK (section 3.1.2.1), before the
   * command's own responses, as Dovecot does and imaptest's esearch-condstore expects.
   */
  enableCondstore(): void {
    if (this.enabled.has('CONDSTORE')) return;
    this.enabled.add('CONDSTORE');
    if (this.selected) this.untagged(`OK [HIGHESTMODSEQ ${this.selected.knownModseq}] Highest modification sequence`);
  }

  /** RFC 3501 section 7.2.1 and the extensions' own sections; what a client may use now. */
  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE'];
    if (this.state === 'not-authenticated') {
      if (!this.io.secure) return [...caps, 'STARTTLS', 'LOGINDISABLED'];
      const tokens = this.services.authenticator.acceptsTokens ? ['AUTH=OAUTHBEARER', 'AUTH=XOAUTH2'] : [];
      return [...caps, 'AUTH=PLAIN', 'AUTH=LOGIN', ...tokens];
    }
    return [
      ...caps,
      'IDLE',
      'NAMESPACE',
      'UIDPLUS',
      'MOVE',
      'UNSELECT',
      'CHILDREN',
      'SPECIAL-USE',
      'CREATE-SPECIAL-USE',
      'LIST-EXTENDED',
      'LIST-STATUS',
      'CONDSTORE',
      'QRESYNC',
      'ESEARCH',
      'STATUS=SIZE',
      'MULTIAPPEND',
      'SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES',
      'CONTEXT=SEARCH', 'CONTEXT=SORT', // RFC 5267: PARTIAL, UPDATE, CANCELUPDATE (search-context.ts)
      'CATENATE', // RFC 4469: APPEND ... CATENATE (TEXT / URL), commands/catenate.ts
      'QUOTA',
      'QUOTA=RES-STORAGE',
      'QUOTA=RES-MESSAGE',
      `APPENDLIMIT=${this.config.limits.maxMessageBytes}`,
      'ACL', // RFC 4314 read side: commands/acl.ts (SETACL/DELETEACL answered NO)
      'RIGHTS=texk', // RFC 4314 section 2.1.1: rights t, e, x, k in place of the obsolete d and c
      'COMPRESS=DEFLATE', // RFC 4978: commands/compress.ts, compression.ts
      'SEARCHRES', // RFC 5182: RETURN (SAVE) in commands/search.ts, "$" in saved-search.ts
      'WITHIN', // RFC 5032: protocol/search.ts YOUNGER, OLDER
      'PREVIEW', // RFC 8970: FETCH PREVIEW from the first text part (mime/preview.ts)
      'BINARY', // RFC 3516: commands/fetch.ts BINARY[], BINARY.SIZE; commands/append.ts literal8
    ];
  }

  /**
   * R16: the session's credentials no longer hold (device revoked, account suspended, the person
   * behind an ORG token unlinked). Says why with BYE (RFC 3501 section 7.1.5) and closes at once,
   * whatever the session is doing (IDLE included).
   */
  cut(reason: LoginInvalidity): void {
    if (this.state === 'logout') return;
    const why =
      reason === 'device-revoked'
        ? 'This device was revoked; sign in again with a valid device password'
        : reason === 'unlinked'
          ? 'You are no longer linked to this organisational box'
          : 'This account is suspended; contact the operator';
    this.unregister?.();
    this.unregister = null;
    this.state = 'logout';
    this.selected = null;
    this.untagged(`BYE ${why}`);
    this.io.close();
  }

  /**
   * Before each command: cuts the session when its credentials stopped holding; true if cut. The
   * full check runs only when a credential row changed since it last passed, in this process or
   * another (store/devices.ts credentialChanges): one number read per command otherwise.
   */
  cutIfNoLongerAllowed(): boolean {
    const user = this.user;
    if (!user || this.state === 'logout') return false;
    let counter: number;
    const selected = this.selected;
    if (selected) {
      // the selected mailbox's counters in the same read, for the command's first sync
      const read = sessionCounters(this.db, selected.mailboxId);
      counter = read.credentials;
      selected.primeHead(read.mailbox);
    } else {
      counter = credentialChanges(this.db);
    }
    if (counter === this.credentialsHeldAt && user === this.credentialsHeldFor) return false;
    const reason = this.services.authenticator.stillValid(user);
    if (reason === null) {
      this.credentialsHeldAt = counter;
      this.credentialsHeldFor = user;
      return false;
    }
    this.cut(reason);
    return true;
  }

  /** IDLE began (RFC 2177): changes to the selected mailbox are pushed until stopIdling(). */
  startIdling(): void {
    if (!this.selected || this.idlingOn !== null) return;
    this.selected.dropPrimedHead(); // IDLE waits for other sessions' changes: each push reads afresh
    this.idlingOn = this.selected.mailboxId;
    this.services.idleWatchers.add(this.idlingOn, this);
  }

  /** IDLE ended (DONE, or the connection closed). */
  stopIdling(): void {
    if (this.idlingOn === null) return;
    this.services.idleWatchers.remove(this.idlingOn, this);
    this.idlingOn = null;
  }

  /**
   * While idling: what changed in the selected mailbox, then the ADDTO / REMOVEFROM of live search
   * contexts (RFC 5267 section 4.3; nothing to do, and no promise made, without one).
   */
  idleUpdate(): void {
    this.flushUpdates(true);
    if (!hasContexts(this)) return;
    refreshContexts(this).catch((err: unknown) => this.log.warn({ imap: this.id, err }, 'search context update failed'));
  }

  get idling(): boolean {
    return this.idlingOn !== null;
  }

  untagged(line: string): void {
    this.io.write(`* ${line}\r\n`);
  }

  /** Leaves the selected state (CLOSE, UNSELECT, a new SELECT, a revoked ORG box). */
  deselect(): void {
    this.selected = null;
    if (this.state === 'selected') this.state = 'authenticated';
  }

  /**
   * Sends what changed in the selected mailbox since the client last heard (RFC 3501 section
   * 5.2). When the mailbox disappeared or access to it was withdrawn (R6), the session leaves the
   * selected state and says so with the CLOSED response code (RFC 7162 section 3.2.11).
   */
  flushUpdates(allowExpunge: boolean): void {
    const selected = this.selected;
    if (!selected || !this.user) return;
    // Access first: once the link is gone, not even a message count of the ORG box goes out.
    if (this.closeIfRevoked()) return;
    const before = allowExpunge && hasContexts(this) ? selected.uids.slice() : null; // RFC 5267 contexts
    const outcome = selected.sync({ allowExpunge, condstore: this.condstore, qresync: this.qresync });
    const removals = before ? expungedRemovals(this, before, selected.uids) : [];
    for (const line of [...removals, ...outcome.lines]) this.io.write(`${line}\r\n`);
    if (outcome.gone) this.closeSelected(selected);
  }

  /**
   * R6: when access to the selected mailbox was withdrawn (an ORG link removed), leaves the
   * selected state with CLOSED and returns true. Dispatch calls it before every command, so
   * that a FETCH right after the unlinking reads nothing from the ORG box.
   */
  closeIfRevoked(): boolean {
    const selected = this.selected;
    if (!selected || this.canStillAccess(selected.mailboxId)) return false;
    this.closeSelected(selected);
    return true;
  }

  private closeSelected(selected: SelectedMailbox): void {
    this.deselect();
    // Response text is 7-bit (RFC 3501 section 9): the name as the client spells it.
    this.untagged(`OK [CLOSED] ${quoted(encodeMailboxName(selected.name))} is no longer available to you; select another mailbox`);
  }

  /** Whether the person still has access to a mailbox (their own, or a linked ORG's; R6). */
  canStillAccess(mailboxId: number): boolean {
    if (this.user === null) return false;
    // A mailbox never changes owner: once seen to be the person's own, only its deletion ends
    // access, and sync() reports that. Saves a query before and after every command.
    if (mailboxId === this.ownMailboxId) return true;
    if (mailboxOwner(this.db, mailboxId) === this.user.accountId) {
      this.ownMailboxId = mailboxId;
      return true;
    }
    return canAccessMailbox(this.db, this.user.accountId, mailboxId);
  }
}
