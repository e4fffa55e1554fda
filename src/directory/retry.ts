// Retries towards the national directory's endpoints, shared by the JSON publication
// (https-sender.ts) and the FHIR feed (fhir-publish.ts): which HTTP statuses are worth another
// attempt, and an interruptible wait between attempts.

/** Statuses worth another attempt. */
export const RETRYABLE_STATUS = (status: number) => status >= 500 || status === 408 || status === 429;

export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('publication interrupted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('publication interrupted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
