// Publication to the national directory (R13): the entries to publish now are compared with the
// snapshot of the last successful publication, and the full list plus the diff are handed to each
// configured sender: `fileSender` writes files under `directory.outputDir`, `httpsSender`
// (src/directory/https-sender.ts) POSTs the diff to `directory.endpoint`.
//
// Each run is a `directory_publications` row: 'pending' while senders run, then 'published' (the
// new reference snapshot) or 'failed'. A run that fails or is killed leaves the previous
// 'published' snapshot as the reference, so the next run recomputes the full diff.
//
// Senders run one after the other, in the order given, and the first that fails ends the run as
// 'failed' (the later ones are not called). Callers therefore put the remote endpoint first and the
// files last (src/jobs/directory.ts publicationSenders): files appear only for a publication the
// endpoint accepted, and an unreachable endpoint leaves no file claiming a publication happened.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/database';
import { writeFileAtomic } from '../util/write-file-atomic';
import { nationalEntries, type DirectoryEntry } from './entries';
import { publishFhirFeed, type FhirFeedOptions, type FhirFeedResult } from './fhir-publish';
import { lastPublication, markPublicationFailed, markPublicationPublished, startPublication } from '../store/directory';

export interface DirectoryDiff {
  created: DirectoryEntry[];
  updated: Array<{ before: DirectoryEntry; after: DirectoryEntry }>;
  removed: DirectoryEntry[];
}

export interface Publication {
  publishedAt: Date;
  /** When the reference snapshot was published; null for the first publication. */
  since: Date | null;
  entries: DirectoryEntry[];
  diff: DirectoryDiff;
}

/** Hands a publication to the national directory by some channel; returns where it went. */
export interface PublicationSender {
  name: string;
  send(publication: Publication): Promise<string[]>;
}

export interface PublicationResult {
  dryRun: boolean;
  publishedAt: string;
  since: string | null;
  entries: number;
  created: number;
  updated: number;
  removed: number;
  diff: DirectoryDiff;
  /** Files (or other destinations) the senders wrote to; empty in a dry run. */
  written: string[];
  /** The FHIR feed of the same run (DESIGN.md "National directory feed"), when asked for. */
  fhir?: FhirFeedResult;
}

const ENTRY_FIELDS: Array<keyof DirectoryEntry> = [
  'address',
  'type',
  'identifier',
  'firstName',
  'lastName',
  'profession',
  'structure',
  'service',
  'description',
  'dematerialisation',
];

/** Entries are keyed by address, which compares case-insensitively. */
const keyOf = (entry: DirectoryEntry) => entry.address.toLowerCase();

function sameEntry(a: DirectoryEntry, b: DirectoryEntry): boolean {
  return ENTRY_FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));
}

/** What changed between two snapshots, each list ordered by address. */
export function diffEntries(previous: DirectoryEntry[], current: DirectoryEntry[]): DirectoryDiff {
  const before = new Map(previous.map((entry) => [keyOf(entry), entry]));
  const after = new Map(current.map((entry) => [keyOf(entry), entry]));
  const diff: DirectoryDiff = { created: [], updated: [], removed: [] };
  for (const [key, entry] of after) {
    const old = before.get(key);
    if (!old) diff.created.push(entry);
    else if (!sameEntry(old, entry)) diff.updated.push({ before: old, after: entry });
  }
  for (const [key, entry] of before) if (!after.has(key)) diff.removed.push(entry);
  const byAddress = (a: DirectoryEntry, b: DirectoryEntry) => keyOf(a).localeCompare(keyOf(b));
  diff.created.sort(byAddress);
  diff.removed.sort(byAddress);
  diff.updated.sort((a, b) => byAddress(a.after, b.after));
  return diff;
}

/** The snapshot of the last successful publication (empty before the first one). */
export function lastPublished(db: Db): { entries: DirectoryEntry[]; publishedAt: Date | null } {
  const row = lastPublication(db);
  if (!row) return { entries: [], publishedAt: null };
  return { entries: JSON.parse(row.snapshotJson) as DirectoryEntry[], publishedAt: new Date(row.publishedAt) };
}

/** "2026-11-22T02:00:00.123Z" → "20261122T020000.123Z": sortable and safe in file names. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

/**
 * The file sender: `full-<timestamp>.json` (every entry) and `diff-<timestamp>.json` (the
 * changes), then the same contents as `latest-full.json` and `latest-diff.json`.
 */
export function fileSender(outputDir: string): PublicationSender {
  return {
    name: 'files',
    async send(publication) {
      mkdirSync(outputDir, { recursive: true });
      const stamp = fileTimestamp(publication.publishedAt);
      const header = {
        publishedAt: publication.publishedAt.toISOString(),
        since: publication.since?.toISOString() ?? null,
      };
      const full = `${JSON.stringify({ ...header, entries: publication.entries }, null, 2)}\n`;
      const diff = `${JSON.stringify({ ...header, ...publication.diff }, null, 2)}\n`;
      const write = (name: string, content: string): string => {
        const file = path.join(outputDir, name);
        writeFileAtomic(file, content, 0o640);
        return file;
      };
      return [
        write(`full-${stamp}.json`, full),
        write(`diff-${stamp}.json`, diff),
        write('latest-full.json', full),
        write('latest-diff.json', diff),
      ];
    },
  };
}

/** A sender failed: the run is recorded 'failed'; `written` is what earlier senders did. */
export class PublicationError extends Error {
  override name = 'PublicationError';
  constructor(
    readonly sender: string,
    override readonly cause: unknown,
    readonly written: string[],
  ) {
    super(`publication not accepted (${sender}): ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface PublishOptions {
  now?: Date;
  /** Compute and return the diff only: no files, no publication row. */
  dryRun: boolean;
  senders: PublicationSender[];
  /** Also compute, write and send the FHIR feed (src/directory/fhir-publish.ts). */
  fhir?: FhirFeedOptions;
}

/** Computes the entries and their diff, hands them to every sender, and records the outcome. */
export async function publishDirectory(db: Db, options: PublishOptions): Promise<PublicationResult> {
  const publishedAt = options.now ?? new Date();
  const reference = lastPublished(db);
  const entries = nationalEntries(db);
  const diff = diffEntries(reference.entries, entries);
  const result: PublicationResult = {
    dryRun: options.dryRun,
    publishedAt: publishedAt.toISOString(),
    since: reference.publishedAt?.toISOString() ?? null,
    entries: entries.length,
    created: diff.created.length,
    updated: diff.updated.length,
    removed: diff.removed.length,
    diff,
    written: [],
  };
  if (options.dryRun) {
    if (options.fhir) result.fhir = await publishFhirFeed(db, options.fhir, publishedAt, true);
    return result;
  }

  const rowId = startPublication(db, publishedAt.getTime(), JSON.stringify(entries), JSON.stringify(diff));
  const publication: Publication = { publishedAt, since: reference.publishedAt, entries, diff };
  let failure: PublicationError | null = null;
  for (const sender of options.senders) {
    try {
      result.written.push(...(await sender.send(publication)));
    } catch (err) {
      markPublicationFailed(db, rowId);
      failure = new PublicationError(sender.name, err, result.written);
      break;
    }
  }
  if (failure) throw failure;
  markPublicationPublished(db, rowId, publishedAt.getTime());
  // The FHIR feed comes last, once the JSON channels accepted the run (so that a run the endpoint
  // refused leaves no file at all); it keeps its own per-box state, so a skipped or partly failed
  // feed is caught up at the next run.
  if (options.fhir) {
    result.fhir = await publishFhirFeed(db, options.fhir, publishedAt);
    result.written.push(...result.fhir.written);
  }
  return result;
}
