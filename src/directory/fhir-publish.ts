// Publishing the FHIR directory feed (R13, format in src/directory/fhir-feed.ts). Each run:
//   1. the boxes to declare now (store) are compared with those the channel last accepted — the
//      channel is `directory.fhirBase`, or '' when it is empty and the feed goes to files only;
//   2. the batch Bundle of the changes is written as `fhir-<stamp>.json` and `latest-fhir.json`;
//   3. with `directory.fhirBase`, each request is sent as a conditional PATCH (application/fhir+json)
//      over HTTPS with the operator certificate (mutual TLS), with the retries of the legacy endpoint
//      (`directory.retryDelays`: network errors, 5xx, 408, 429); a box is recorded as accepted only
//      after a 2xx, so a box whose request failed is sent again at the next run. When the server
//      cannot be reached at all, the remaining boxes are not tried this run (they stay pending).
//      Without `directory.fhirBase`, writing the files is the acceptance.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/database';
import { acceptedFeedBoxes, feedBoxes, recordFeedAccepted, type FeedBoxRow } from '../store/fhir-feed';
import { describeHttpsError, httpsRequest, type HttpsTrust } from '../util/https-client';
import { writeFileAtomic } from '../util/write-file-atomic';
import { batchEntry, fhirBundle, fhirChanges, type BatchEntry, type FhirBox, type FhirChange } from './fhir-feed';
import { RETRYABLE_STATUS, wait } from './retry';

export interface FhirFeedOptions {
  outputDir: string;
  /** `directory.fhirBase`; '' = files only. */
  fhirBase: string;
  operator: string;
  trust?: HttpsTrust;
  retryDelays: number[];
  timeoutMs?: number;
  signal?: AbortSignal;
  onAttemptFailed?: (request: string, attempt: number, reason: string, nextDelayMs: number | null) => void;
}

export interface FhirFeedResult {
  channel: string;
  requests: number;
  inserted: number;
  replaced: number;
  deleted: number;
  /** Boxes the channel accepted this run. */
  accepted: number;
  /** Boxes still pending (sent again next run), with why. */
  failed: Array<{ address: string; reason: string }>;
  written: string[];
}

export function toFhirBox(row: FeedBoxRow): FhirBox {
  const isOrg = row.type === 'ORG';
  return {
    address: row.address,
    type: row.type,
    identifier: (isOrg ? row.finess : row.rpps) ?? '',
    listeRouge: !row.nationalDirectory,
    description: isOrg ? row.description : null,
    service: isOrg ? row.service : null,
    responsible: isOrg && row.responsibleRpps ? `RPPS ${row.responsibleRpps}` : null,
    dematerialisation: row.dematerialisation,
  };
}

/** "20261122T020000.123Z", as the other publication files. */
const stampOf = (date: Date) => date.toISOString().replace(/[-:]/g, '');

class ServerUnreachable extends Error {}

/** One conditional PATCH with retries; resolves on 2xx, rejects with the reason otherwise. */
async function sendEntry(entry: BatchEntry, options: FhirFeedOptions): Promise<void> {
  const [resource, query] = entry.request.url.split('?');
  const [param, value] = query.split('=');
  const url = `${options.fhirBase.replace(/\/+$/, '')}/${resource}?${param}=${encodeURIComponent(value)}`;
  const attempts = options.retryDelays.length + 1;
  let lastReason = '';
  let reachedServer = false;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let retryable = true;
    try {
      const response = await httpsRequest({
        url,
        method: 'PATCH',
        headers: { 'content-type': 'application/fhir+json; charset=utf-8', accept: 'application/fhir+json', 'user-agent': `mssd (${options.operator})` },
        body: JSON.stringify(entry.resource),
        trust: options.trust,
        timeoutMs: options.timeoutMs,
        maxBytes: 1024 * 1024,
        signal: options.signal,
      });
      reachedServer = true;
      if (response.status >= 200 && response.status < 300) return;
      const detail = response.body.toString('utf8').split('\n')[0].trim().slice(0, 200);
      lastReason = `HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
      retryable = RETRYABLE_STATUS(response.status);
    } catch (err) {
      if (options.signal?.aborted) throw new ServerUnreachable('publication interrupted');
      lastReason = describeHttpsError(err);
    }
    const delay = retryable && attempt < attempts ? options.retryDelays[attempt - 1] : null;
    options.onAttemptFailed?.(entry.request.url, attempt, lastReason, delay);
    if (delay === null) break;
    await wait(delay, options.signal).catch(() => {
      throw new ServerUnreachable('publication interrupted');
    });
  }
  throw reachedServer ? new Error(lastReason) : new ServerUnreachable(lastReason);
}

/** Computes, writes and (with fhirBase) sends the feed; records what the channel accepted. */
export async function publishFhirFeed(db: Db, options: FhirFeedOptions, now: Date, dryRun = false): Promise<FhirFeedResult> {
  const channel = options.fhirBase;
  const current = feedBoxes(db).map(toFhirBox);
  const accepted = acceptedFeedBoxes(db, channel).map((json) => JSON.parse(json) as FhirBox);
  const changes = fhirChanges(accepted, current);
  const result: FhirFeedResult = {
    channel: channel || 'files',
    requests: changes.length,
    inserted: changes.filter((c) => c.kind === 'insert').length,
    replaced: changes.filter((c) => c.kind === 'replace').length,
    deleted: changes.filter((c) => c.kind === 'delete').length,
    accepted: 0,
    failed: [],
    written: [],
  };
  if (dryRun) return result;

  mkdirSync(options.outputDir, { recursive: true });
  const content = `${JSON.stringify(fhirBundle(changes, now), null, 2)}\n`;
  for (const name of [`fhir-${stampOf(now)}.json`, 'latest-fhir.json']) {
    const file = path.join(options.outputDir, name);
    writeFileAtomic(file, content, 0o640);
    result.written.push(file);
  }

  // The changes of one address go together (a carrier change is a delete then an insert).
  const byAddress = new Map<string, FhirChange[]>();
  for (const change of changes) {
    const key = change.box.address.toLowerCase();
    byAddress.set(key, [...(byAddress.get(key) ?? []), change]);
  }
  let unreachable: string | null = null;
  for (const group of byAddress.values()) {
    const address = group[group.length - 1].box.address;
    if (unreachable !== null) {
      result.failed.push({ address, reason: `not tried: ${unreachable}` });
      continue;
    }
    try {
      if (channel) for (const change of group) await sendEntry(batchEntry(change), options);
      const last = group[group.length - 1];
      recordFeedAccepted(db, channel, address, last.kind === 'delete' ? null : JSON.stringify(last.box), now.getTime());
      result.accepted++;
    } catch (err) {
      const reason = (err as Error).message;
      result.failed.push({ address, reason });
      if (err instanceof ServerUnreachable) unreachable = reason;
    }
  }
  return result;
}
