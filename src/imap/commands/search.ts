// SEARCH and UID SEARCH (RFC 3501 sections 6.4.4, 6.4.8, 7.2.5), CHARSET UTF-8 / US-ASCII, every
// search key, and RFC 7162 section 3.1.5 MODSEQ (the response then ends with the highest MODSEQ
// of the matches). Parsing and evaluation live in protocol/search.ts; this handler feeds it the
// messages: flags, MODSEQ and \Recent from the session's view; internal date and size from the
// store in batches, and headers and decoded text from the message only when a key asks for them.
import { findHeaderEnd, parseHeaderBlock, searchableText, type HeaderField, type MimePart } from '../../mime';
import { fetchMessages, flagNames, type FetchedMessage } from '../../store/imap-messages';
import { readBody } from '../../store/messages';
import { indexedTexts, searchCandidates, type IndexedText } from '../../store/search-index';
import { compileSearch, foldedTextSuffices, fullTextQuery, parseSearch, searchNeeds, usesModseq, type FoldedText, type SearchKey, type SearchMessage } from '../protocol/search';
import type { SelectedMailbox } from '../selected';
import type { ImapSession } from '../session';
import { saveSearchResult, savedUids } from '../saved-search';
import { addContext } from '../search-context';
import { quoted } from '../protocol/encode';
import { esearchResponse, onlySave, parseSearchReturn, savedSubset } from './esearch';
import { currentMailbox, ResponseStream } from './message-common';
import { ok, SELECTED, type CommandHandler } from './registry';

/** Messages whose rows are read from the store at a time. */
const BATCH = 256;

const NO_HEADERS: readonly HeaderField[] = [];

/** One message as the search predicate sees it; every costly piece is computed on first use. */
class CandidateMessage implements SearchMessage {
  private flagSet: Set<string> | null = null;
  private raw: Buffer | undefined | null = null;
  private headerFields: readonly HeaderField[] | null = null;
  private text: string | null = null;

  constructor(
    private readonly session: ImapSession,
    private readonly selected: SelectedMailbox,
    private readonly index: number,
    private readonly row: FetchedMessage | undefined,
    private readonly indexed: IndexedText | undefined,
  ) {}

  folded(): FoldedText | null {
    return this.indexed ?? null;
  }

  get seq(): number {
    return this.index + 1;
  }

  get uid(): number {
    return this.selected.uids[this.index];
  }

  get flags(): ReadonlySet<string> {
    return (this.flagSet ??= new Set(flagNames(this.selected.flagBits[this.index], this.selected.keywordsAt(this.index))));
  }

  get internalDate(): number {
    return this.row?.internalDate ?? 0;
  }

  get size(): number {
    return this.row?.size ?? 0;
  }

  get modseq(): number {
    return this.selected.modseqs[this.index];
  }

  get recent(): boolean {
    return this.selected.recent.has(this.uid);
  }

  private content(): Buffer | undefined {
    if (this.raw === null) this.raw = this.row ? readBody(this.session.db, this.row.bodyHash) : undefined;
    return this.raw;
  }

  headers(): readonly HeaderField[] {
    if (this.headerFields === null) {
      const raw = this.content();
      this.headerFields = raw ? parseHeaderBlock(raw, 0, findHeaderEnd(raw, 0).bodyStart) : NO_HEADERS;
    }
    return this.headerFields;
  }

  bodyText(): string {
    if (this.text === null) {
      const raw = this.content();
      this.text = raw && this.row ? searchableText(raw, JSON.parse(this.row.structureJson) as MimePart) : '';
    }
    return this.text;
  }
}

/**
 * Sequence indexes (0-based, ascending) of the messages the full-text index leaves as candidates
 * (with those whose body is not indexed yet), or null to check every message (no text key to
 * look up).
 */
function candidateIndexes(session: ImapSession, selected: SelectedMailbox, key: SearchKey): Uint32Array | null {
  const query = fullTextQuery(key);
  if (query === null) return null;
  const uids = searchCandidates(session.db, selected.mailboxId, query);
  const indexes: number[] = [];
  for (let index = 0; index < selected.exists; index++) if (uids.has(selected.uids[index])) indexes.push(index);
  return Uint32Array.from(indexes);
}

/**
 * Sequence indexes (0-based, ascending) of the messages of the selected mailbox that match `key`
 * (RFC 3501 section 6.4.4). SEARCH, SORT and THREAD all select their messages through it.
 */
export async function matchingIndexes(
  session: ImapSession,
  selected: SelectedMailbox,
  key: SearchKey,
  saved: ReadonlySet<number> = new Set(savedUids(selected)),
): Promise<number[]> {
  const count = selected.exists;
  const matches = compileSearch(key, {
    messageCount: count,
    largestUid: count > 0 ? selected.uids[count - 1] : 0,
    savedUids: saved, // RFC 5182: "$" is the UIDs of the last SEARCH ... SAVE
  });
  const needs = searchNeeds(key);
  const needsRow = needs.internalDate || needs.size || needs.headers || needs.body;
  const needsText = needs.headers || needs.body;
  const textOnly = !needs.internalDate && !needs.size && foldedTextSuffices(key);

  // The full-text index rules out the messages that cannot match; the rest are checked exactly,
  // against the folded text the index keeps (no body decoded), or by decoding the message when
  // its body is still waiting for the indexer.
  const indexes = candidateIndexes(session, selected, key);
  const total = indexes ? indexes.length : count;
  const found: number[] = [];
  for (let start = 0; start < total; start += BATCH) {
    const end = Math.min(total, start + BATCH);
    const batch = indexes ? indexes.subarray(start, end) : null;
    const rows = new Map<number, FetchedMessage>();
    let texts: Map<number, IndexedText> | null = null;
    if (needsRow) {
      const uids = batch ? Array.from(batch, (index) => selected.uids[index]) : Array.from(selected.uids.subarray(start, end));
      if (needsText) texts = indexedTexts(session.db, selected.mailboxId, uids);
      // text keys alone read only the indexed text; the message rows serve the other keys and
      // the messages whose text is not there
      const rowUids = texts && textOnly ? uids.filter((uid) => !texts!.has(uid)) : uids;
      if (rowUids.length > 0) for (const row of fetchMessages(session.db, selected.mailboxId, rowUids)) rows.set(row.uid, row);
      if (end < total) await new Promise<void>((resolve) => setImmediate(resolve)); // let other sessions run
    }
    for (let at = start; at < end; at++) {
      const index = batch ? batch[at - start] : at;
      const uid = selected.uids[index];
      const row = rows.get(uid);
      const text = texts?.get(uid);
      if (needsRow && !row && !text) continue; // expunged meanwhile: its data is gone
      if (matches(new CandidateMessage(session, selected, index, row, text))) found.push(index);
    }
  }
  return found;
}

export const search: CommandHandler = {
  name: 'SEARCH',
  states: SELECTED,
  holdsExpunges: (command) => !command.uid,
  async run(session, command) {
    const selected = currentMailbox(session, command.uid);
    const { options: returnOptions, partial, rest } = parseSearchReturn(command.args);
    const saving = returnOptions?.has('SAVE') ?? false;
    const previous = new Set(savedUids(selected)); // "$" may be used by the SEARCH that replaces it
    if (saving) saveSearchResult(selected, []); // RFC 5182 section 2.1: a SEARCH ... SAVE that fails leaves "$" empty
    const request = parseSearch(rest);
    const withModseq = usesModseq(request.key);
    if (withModseq) session.enableCondstore(); // RFC 7162 section 3.1: an enabling command
    const indexes = await matchingIndexes(session, selected, request.key, previous);
    const found = indexes.map((index) => (command.uid ? selected.uids[index] : index + 1));
    const foundModseqs = indexes.map((index) => selected.modseqs[index]);
    const highestModseq = foundModseqs.reduce((highest, modseq) => Math.max(highest, modseq), 0);

    if (returnOptions) {
      const matches = found.map((value, i) => ({ value, modseq: foundModseqs[i] }));
      if (saving) {
        const kept = savedSubset(returnOptions, found);
        saveSearchResult(selected, command.uid ? kept : kept.map((seq) => selected.uids[seq - 1]));
      }
      if (!onlySave(returnOptions)) session.untagged(esearchResponse(command.tag, command.uid, returnOptions, matches, withModseq, partial));
      if (returnOptions.has('UPDATE')) {
        // RFC 5267 section 4.2: the context stays live; refused (NOUPDATE) beyond the limit or with PARTIAL
        const uids = indexes.map((index) => selected.uids[index]);
        const kept = !partial && addContext(session, { tag: command.tag, uid: command.uid, selected, key: request.key, criteria: null, uids });
        if (!kept) return ok(`${command.uid ? 'UID ' : ''}SEARCH completed, without updates`, `NOUPDATE ${quoted(command.tag)}`);
      }
      return ok(`${command.uid ? 'UID ' : ''}SEARCH completed`);
    }
    const out = new ResponseStream(session.io);
    out.write('* SEARCH');
    for (const value of found) {
      out.write(` ${value}`);
      if (out.full && !(await out.flush())) break;
    }
    if (withModseq && found.length > 0) out.write(` (MODSEQ ${highestModseq})`);
    out.write('\r\n');
    await out.flush();
    return ok(`${command.uid ? 'UID ' : ''}SEARCH completed`);
  },
};
