// The event bus of committed changes, built once in src/daemon.ts and handed to whoever commits
// (the router, IMAP commands, jobs) and whoever listens (IMAP sessions, the notice sender).
import { EventEmitter } from 'node:events';

/**
 * Emits 'mailbox-changed' (mailboxId, or null for "look again at every mailbox") after a commit
 * that changed a mailbox, so IMAP sessions can tell their clients at once (RFC 2177 IDLE); and
 * 'notices-queued' after a commit that queued notices (R9), for the notice sender.
 */
export class MailboxChanges extends EventEmitter {}
