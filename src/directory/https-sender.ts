// The HTTPS channel of the national publication (R13, `directory.endpoint`): the diff since the last
// accepted publication is POSTed as JSON. Only a 2xx answer counts as accepted; a network error, a
// timeout, a 5xx, 408 or 429 is tried again after each of `directory.retryDelays`, and when every
// attempt failed the sender throws — publishDirectory then records the run as failed, so the last
// accepted snapshot stays the reference and the next run sends everything that changed since it.
// Any other 4xx means the endpoint refuses this document: no retry within the run.
//
// Body (application/json; charset=utf-8):
//   { "operator": <hostname>, "publishedAt": ISO, "since": ISO | null,
//     "created": [entry…], "updated": [{ "before": entry, "after": entry }…], "removed": [entry…] }
// `since` is the publication the diff is based on; a receiver that already applied part of it (a
// run whose files failed after the endpoint accepted) gets the same changes again, so it applies
// created/updated as upserts and removed as deletions.
import { describeHttpsError, httpsRequest, type HttpsTrust } from '../util/https-client';
import type { Publication, PublicationSender } from './publish';
import { RETRYABLE_STATUS, wait } from './retry';

export interface HttpsSenderOptions {
  endpoint: string;
  /** Sent as "operator" in the body and in the User-Agent. */
  operator: string;
  trust: HttpsTrust;
  /** Waits (ms) between attempts; attempts = retryDelays.length + 1. */
  retryDelays: number[];
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** Aborts the waits and the request under way (daemon shutdown). */
  signal?: AbortSignal;
  /** Told of each failed attempt (for the log). */
  onAttemptFailed?: (attempt: number, reason: string, nextDelayMs: number | null) => void;
}

export class EndpointRefusedError extends Error {
  override name = 'EndpointRefusedError';
}

export function httpsSender(options: HttpsSenderOptions): PublicationSender {
  return {
    name: 'https',
    async send(publication: Publication) {
      const body = JSON.stringify({
        operator: options.operator,
        publishedAt: publication.publishedAt.toISOString(),
        since: publication.since?.toISOString() ?? null,
        ...publication.diff,
      });
      const attempts = options.retryDelays.length + 1;
      let lastReason = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        let retryable = true;
        try {
          const response = await httpsRequest({
            url: options.endpoint,
            method: 'POST',
            headers: {
              'content-type': 'application/json; charset=utf-8',
              'user-agent': `mssd (${options.operator})`,
              'x-publication-id': publication.publishedAt.toISOString(),
            },
            body,
            trust: options.trust,
            timeoutMs: options.timeoutMs,
            maxBytes: 1024 * 1024,
            signal: options.signal,
          });
          if (response.status >= 200 && response.status < 300) return [`${options.endpoint} (HTTP ${response.status})`];
          const detail = response.body.toString('utf8').split('\n')[0].trim().slice(0, 200);
          lastReason = `HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
          retryable = RETRYABLE_STATUS(response.status);
        } catch (err) {
          if (options.signal?.aborted) throw new Error('publication interrupted');
          lastReason = describeHttpsError(err);
        }
        if (!retryable) {
          options.onAttemptFailed?.(attempt, lastReason, null);
          throw new EndpointRefusedError(`${options.endpoint} refused the publication: ${lastReason}`);
        }
        const delay = attempt < attempts ? options.retryDelays[attempt - 1] : null;
        options.onAttemptFailed?.(attempt, lastReason, delay);
        if (delay !== null) await wait(delay, options.signal);
      }
      throw new Error(`${options.endpoint} did not accept the publication after ${attempts} attempt(s): ${lastReason}`);
    },
  };
}
