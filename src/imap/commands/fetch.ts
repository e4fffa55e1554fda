// FETCH and UID FETCH (RFC 3501 sections 6.4.5, 6.4.8, 7.4.2) with MODSEQ and the CHANGEDSINCE
// modifier of CONDSTORE (RFC 7162 sections 3.1.4, 3.1.4.1), and QRESYNC's VANISHED modifier
// (section 3.2.6: "* VANISHED (EARLIER)" for the UIDs of the set expunged since CHANGEDSINCE,
// before the FETCH responses; see ../qresync.ts).
//
// - FLAGS, UID and MODSEQ alone (Thunderbird and Outlook resynchronising a folder, "UID FETCH 1:*
//   (FLAGS)", README "Client quirks") come from the session's view of the mailbox, never from
//   the database.
// - Everything else comes from what this process kept of the message (../fetch-cache.ts: its
//   INTERNALDATE, size and body hash, rendered ENVELOPE and structure, header sections), or is read
//   in batches of rows (cached ENVELOPE and MIME structure, parsed at ingest), bodies one message
//   at a time, and written in chunks of about 64 KB waiting for the socket to drain: memory stays
//   bounded whatever the mailbox or message size.
// - BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen in a read-write mailbox, through
//   the same store entry point as STORE (store/flags.ts: the R9 openings commit with it); the new
//   FLAGS (and MODSEQ with CONDSTORE) then go with the response (section 6.4.5).
// - A non-UID FETCH never carries EXPUNGE responses (section 7.4.1, holdsExpunges). When it names
//   a message another session expunged meanwhile, what the view holds (FLAGS, UID, MODSEQ) is
//   still answered, and so is what this process kept of the message (fetch-cache.ts, its body
//   while the store still has it: RFC 2180 section 4.1.1); otherwise the message is left out and
//   the command ends in NO [EXPUNGEISSUED] (RFC 2180 section 4.1.2, RFC 5530).
import { messagePreview, type MimePart } from '../../mime';
import type { Db } from '../../store/database';
import { setFlags } from '../../store/flags';
import { commitChange } from '../store-writes';
import { fetchMessageKeys, fetchMessages, flagNames, type MessageKey } from '../../store/imap-messages';
import { FLAG_BITS, readBody, readBodyPrefix } from '../../store/messages';
import { bodyStructureText, fillRendered, headerOctets, keepHeaderSection, keptHeaderSection, keptRendering, renderingOf, type Rendered } from '../fetch-cache';
import { internalDate, string } from '../protocol/encode';
import { parseFetchArguments, type BodySectionItem, type FetchItem, type FetchRequest } from '../protocol/fetch-items';
import { expectSequenceSet, resolveRanges, type Ranges } from '../protocol/sequence';
import { fetchBinary, fetchSection, type BinaryAnswer } from '../protocol/sections';
import { vanishedEarlierLine, vanishedSince } from '../qresync';
import type { SelectedMailbox } from '../selected';
import type { ImapSession } from '../session';
import { announceFlagChange, currentMailbox, expungeIssued, ResponseStream, targetRanges } from './message-common';
import { no, ok, SELECTED, type CommandHandler } from './registry';

const SEEN = FLAG_BITS['\\Seen'];
/** Messages whose rows are read from the store at a time. */
const BATCH = 256;

/** Flag lists of messages without keywords or \Recent, by flag bits: most messages. */
const plainFlagText: string[] = [];

/** The text inside FLAGS ( ) for the message at 0-based `index` of the view. */
function flagText(selected: SelectedMailbox, index: number): string {
  const bits = selected.flagBits[index];
  if (selected.keywordsAt(index).length === 0 && (selected.recent.size === 0 || !selected.recent.has(selected.uids[index]))) {
    return (plainFlagText[bits] ??= flagNames(bits, []).join(' '));
  }
  return selected.flagsAt(index).join(' ');
}

/** Items answered from the session's view alone. */
const VIEW_ITEMS = new Set<FetchItem['type']>(['UID', 'FLAGS', 'MODSEQ']);

/** The 0-based view indexes a FETCH covers, in order, CHANGEDSINCE applied. */
function* indexesOf(selected: SelectedMailbox, ranges: Ranges, changedSince: number | null): Generator<number> {
  for (const [low, high] of ranges) {
    for (let index = low - 1; index < high; index++) {
      if (changedSince === null || selected.modseqs[index] > changedSince) yield index;
    }
  }
}

/** Writes one item answered from the view; false if the item needs the store. */
function writeViewItem(out: string[], item: FetchItem, selected: SelectedMailbox, index: number): boolean {
  switch (item.type) {
    case 'UID':
      out.push(`UID ${selected.uids[index]}`);
      return true;
    case 'FLAGS':
      out.push(`FLAGS (${flagText(selected, index)})`);
      return true;
    case 'MODSEQ':
      out.push(`MODSEQ (${selected.modseqs[index]})`);
      return true;
    default:
      return false;
  }
}

async function fetchFromView(selected: SelectedMailbox, request: FetchRequest, ranges: Ranges, out: ResponseStream): Promise<void> {
  const items = request.items;
  const parts: string[] = [];
  for (const index of indexesOf(selected, ranges, request.changedSince)) {
    parts.length = 0;
    for (const item of items) writeViewItem(parts, item, selected, index);
    out.write(`* ${index + 1} FETCH (${parts.join(' ')})\r\n`);
    if (out.full && !(await out.flush())) return;
  }
}

interface StoreFetchOutcome {
  /** Some message was expunged from the store before its data could be read. */
  missing: boolean;
  /** A BINARY item named a part whose Content-Transfer-Encoding is unknown (RFC 3516 §4.2). */
  unknownCte: string | null;
}

/** Sets \Seen on the unseen messages of a batch (store/flags.ts); returns the UIDs whose flags changed. */
async function markSeen(session: ImapSession, selected: SelectedMailbox, indexes: readonly number[]): Promise<Set<number>> {
  const unseen: number[] = [];
  for (const index of indexes) {
    const uid = selected.uids[index];
    if (!(selected.flagBits[index] & SEEN) && !selected.isExpunged(uid)) unseen.push(uid);
  }
  if (unseen.length === 0) return new Set();
  // the flags and the openings they record (R9) in one commit, announced once committed
  const result = await commitChange(session, (db) => setFlags(db, { mailboxId: selected.mailboxId, uids: unseen, mode: 'add', flags: ['\\Seen'] }));
  selected.applyFlagStates(result.changed);
  announceFlagChange(session, result);
  return new Set(result.changed.map((state) => state.uid));
}

/**
 * Whether every item that needs the message's octets is a section of the top-level header
 * (BODY[HEADER], BODY[HEADER.FIELDS (...)], BODY[HEADER.FIELDS.NOT (...)], RFC822.HEADER): then
 * the header block alone is read (the structure says where it ends), never the whole body.
 */
function headerOnly(items: readonly FetchItem[]): boolean {
  return items.every(
    (item) =>
      (item.type !== 'section' && item.type !== 'binary' && item.type !== 'PREVIEW') ||
      (item.type === 'section' && item.section.part.length === 0 && item.section.text !== null && item.section.text.startsWith('HEADER')),
  );
}

const EMPTY = Buffer.alloc(0);

/**
 * Adds what this process kept of the batch's messages (fetch-cache.ts): their keys (INTERNALDATE,
 * RFC822.SIZE, body hash: a message's identity binds them for good, so they need no read) and
 * their entries; returns the UIDs whose keys must be read from the store. A kept key also answers
 * for a message another session expunged that this client still sees (RFC 2180 section 4.1.1); a
 * message without one that the store no longer has stays missing (section 4.1.2).
 */
function addKept(
  db: Db,
  selected: SelectedMailbox,
  batch: readonly number[],
  rows: Map<number, MessageKey>,
  renderings: Map<number, Rendered>,
): number[] {
  const unknown: number[] = [];
  for (const index of batch) {
    const uid = selected.uids[index];
    const kept = keptRendering(db, selected.mailboxId, selected.uidValidity, uid);
    if (kept) {
      rows.set(uid, kept.key);
      renderings.set(uid, kept);
    } else {
      unknown.push(uid);
    }
  }
  return unknown;
}

/** A BODY[section] answer; in a header-only FETCH, kept for the next FETCH of the message. */
function sectionAnswer(item: BodySectionItem, content: Buffer, structure: MimePart, onlyHeader: boolean, rendered: Rendered): Buffer {
  if (!onlyHeader) return fetchSection(content, structure, item);
  let answer = keptHeaderSection(rendered, item);
  if (!answer) {
    answer = fetchSection(content, structure, item);
    keepHeaderSection(rendered, item, answer);
  }
  return answer;
}

async function fetchFromStore(
  session: ImapSession,
  selected: SelectedMailbox,
  request: FetchRequest,
  ranges: Ranges,
  out: ResponseStream,
): Promise<StoreFetchOutcome> {
  const outcome: StoreFetchOutcome = { missing: false, unknownCte: null };
  const setSeen = request.setsSeen && !selected.readOnly;
  const condstore = session.condstore;
  const hasFlags = request.items.some((item) => item.type === 'FLAGS');
  const hasModseq = request.items.some((item) => item.type === 'MODSEQ');
  const needsRow = request.items.some((item) => !VIEW_ITEMS.has(item.type));
  const needsStructure = request.items.some((item) => item.type === 'BODY' || item.type === 'BODYSTRUCTURE' || item.type === 'section' || item.type === 'binary' || item.type === 'PREVIEW');
  const needsContent = request.items.some((item) => item.type === 'section' || item.type === 'binary' || item.type === 'PREVIEW');
  const onlyHeader = needsContent && headerOnly(request.items);
  const needsEnvelope = request.items.some((item) => item.type === 'ENVELOPE');
  const hasBinary = request.items.some((item) => item.type === 'binary');
  const wanted = { envelope: needsEnvelope, structure: needsStructure };

  const iterator = indexesOf(selected, ranges, request.changedSince);
  const batch: number[] = [];
  for (let done = false; !done; ) {
    batch.length = 0;
    for (let next = iterator.next(); ; next = iterator.next()) {
      if (next.done) {
        done = true;
        break;
      }
      batch.push(next.value);
      if (batch.length >= BATCH) break;
    }
    if (batch.length === 0) break;
    if (!done) await new Promise<void>((resolve) => setImmediate(resolve)); // let other sessions run between batches

    const seenNow = setSeen ? await markSeen(session, selected, batch) : new Set<number>();
    const rows = new Map<number, MessageKey>();
    const renderings = new Map<number, Rendered>();
    if (needsRow) {
      const unknown = addKept(session.db, selected, batch, rows, renderings);
      if (unknown.length > 0) for (const row of fetchMessageKeys(session.db, selected.mailboxId, unknown)) rows.set(row.uid, row);
    }
    if (needsEnvelope || needsStructure) {
      // ENVELOPE and structure from the per-process cache (../fetch-cache.ts); the stored JSON
      // is read only for the messages it does not hold yet
      const misses: number[] = [];
      for (const row of rows.values()) {
        let rendered = renderings.get(row.uid); // kept: found by addKept
        if (!rendered) {
          rendered = renderingOf(session.db, selected.mailboxId, selected.uidValidity, row);
          renderings.set(row.uid, rendered);
        }
        if ((needsEnvelope && rendered.envelope === null) || (needsStructure && rendered.structure === null)) misses.push(row.uid);
      }
      if (misses.length > 0) {
        const filled = new Set<number>();
        for (const stored of fetchMessages(session.db, selected.mailboxId, misses)) {
          const rendered = renderings.get(stored.uid);
          if (!rendered || rendered.key.bodyHash !== stored.bodyHash) continue; // replaced meanwhile: treated as gone
          fillRendered(rendered, wanted, stored);
          filled.add(stored.uid);
        }
        for (const uid of misses) if (!filled.has(uid)) renderings.delete(uid); // expunged meanwhile
      }
    }

    for (const index of batch) {
      const uid = selected.uids[index];
      const row = rows.get(uid);
      const rendered = renderings.get(uid);
      if (needsRow && (!row || ((needsEnvelope || needsStructure) && !rendered))) {
        outcome.missing = true;
        continue;
      }
      const structure = needsStructure && rendered?.structure ? rendered.structure.part : null;
      let content: Buffer | undefined;
      if (needsContent && row) {
        const hash = row.bodyHash;
        if (!onlyHeader) {
          content = readBody(session.db, hash);
        } else if (request.items.every((item) => item.type !== 'section' || keptHeaderSection(rendered as Rendered, item))) {
          content = EMPTY; // every answer is kept: the octets are not needed
        } else {
          // the header block alone (the structure says where it ends), kept for the next FETCH
          content = headerOctets(rendered as Rendered, (length) => readBodyPrefix(session.db, hash, length));
        }
      }
      if (needsContent && !content) {
        outcome.missing = true;
        continue;
      }
      // BINARY answers first: a part that cannot be decoded leaves the whole message out
      const binaries = new Map<FetchItem, BinaryAnswer>();
      if (hasBinary) {
        for (const item of request.items) {
          if (item.type === 'binary') binaries.set(item, fetchBinary(content as Buffer, structure as MimePart, item));
        }
        const undecodable = [...binaries.values()].find((answer) => answer.kind === 'unknown-cte');
        if (undecodable?.kind === 'unknown-cte') {
          outcome.unknownCte = undecodable.encoding;
          continue;
        }
      }
      out.write(`* ${index + 1} FETCH (`);
      let first = true;
      const text = (value: string) => {
        out.write(first ? value : ` ${value}`);
        first = false;
      };
      const parts: string[] = [];
      for (const item of request.items) {
        parts.length = 0;
        if (writeViewItem(parts, item, selected, index)) {
          text(parts[0]);
          continue;
        }
        const message = row as MessageKey;
        switch (item.type) {
          case 'INTERNALDATE':
            text(`INTERNALDATE ${internalDate(message.internalDate)}`);
            break;
          case 'RFC822.SIZE':
            text(`RFC822.SIZE ${message.size}`);
            break;
          case 'ENVELOPE':
            text(`ENVELOPE ${(rendered as Rendered).envelope as string}`);
            break;
          case 'BODY':
            text(`BODY ${bodyStructureText(rendered as Rendered, false)}`);
            break;
          case 'BODYSTRUCTURE':
            text(`BODYSTRUCTURE ${bodyStructureText(rendered as Rendered, true)}`);
            break;
          case 'PREVIEW': // RFC 8970 section 3: UTF-8 text, a literal when not plain ASCII
            text(`PREVIEW ${string(messagePreview(content as Buffer, structure as MimePart))}`);
            break;
          case 'section':
            text(`${item.responseName} `);
            out.literal(sectionAnswer(item, content as Buffer, structure as MimePart, onlyHeader, rendered as Rendered));
            break;
          case 'binary': {
            const answer = binaries.get(item) as BinaryAnswer;
            if (item.sizeOnly) {
              text(`${item.responseName} ${answer.kind === 'data' ? answer.size : 0}`);
            } else if (answer.kind === 'data') {
              text(`${item.responseName} `);
              out.literal(answer.data, answer.literal8);
            } else {
              text(`${item.responseName} NIL`);
            }
            break;
          }
        }
      }
      if (seenNow.has(uid)) {
        // RFC 3501 section 6.4.5: the flags that changed go with the data (RFC 7162: and MODSEQ)
        if (!hasFlags) text(`FLAGS (${flagText(selected, index)})`);
        if (condstore && !hasModseq) text(`MODSEQ (${selected.modseqs[index]})`);
      }
      out.write(')\r\n');
      if (out.full && !(await out.flush())) return outcome;
    }
  }
  return outcome;
}

export const fetch: CommandHandler = {
  name: 'FETCH',
  states: SELECTED,
  holdsExpunges: (command) => !command.uid,
  async run(session, command) {
    const selected = currentMailbox(session, command.uid);
    const ranges = targetRanges(selected, command.args[0], command.uid);
    const request = parseFetchArguments(command.args.slice(1), { uid: command.uid });
    if (request.vanished) {
      // RFC 7162 section 3.2.6: UID FETCH only, once QRESYNC is enabled.
      if (!command.uid) return { status: 'BAD', text: 'VANISHED is a UID FETCH modifier (RFC 7162 section 3.2.6)' };
      if (!session.qresync) return { status: 'BAD', text: 'VANISHED needs ENABLE QRESYNC first (RFC 7162 section 3.2.6)' };
    }
    // RFC 7162 section 3.1: FETCH MODSEQ and CHANGEDSINCE are CONDSTORE enabling commands
    if (request.changedSince !== null || request.needs.modseq) session.enableCondstore();
    if (request.vanished) {
      // The UIDs asked about; "$" (RFC 5182) holds only messages still there: none vanished.
      const set = command.args[0];
      const asked = set?.type === 'atom' && set.value === '$' ? [] : resolveRanges(expectSequenceSet(set), 0xffffffff);
      const line = vanishedEarlierLine(vanishedSince(session.db, selected, request.changedSince!, asked));
      if (line) session.io.write(`${line}\r\n`);
    }

    const out = new ResponseStream(session.io);
    const fromView = !(request.setsSeen && !selected.readOnly) && request.items.every((item) => VIEW_ITEMS.has(item.type));
    if (fromView) {
      await fetchFromView(selected, request, ranges, out);
      await out.flush();
      return ok(`${command.uid ? 'UID ' : ''}FETCH completed`);
    }
    const outcome = await fetchFromStore(session, selected, request, ranges, out);
    await out.flush();
    if (outcome.unknownCte !== null) {
      // RFC 3516 §4.2 and §6 resp-text-code "UNKNOWN-CTE"; response text is 7-bit
      const encoding = outcome.unknownCte.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
      return no(`Cannot decode the content transfer encoding ${encoding} of a part; fetch it with BODY[] instead`, 'UNKNOWN-CTE');
    }
    if (outcome.missing && !command.uid) return expungeIssued();
    return ok(`${command.uid ? 'UID ' : ''}FETCH completed`);
  },
};
