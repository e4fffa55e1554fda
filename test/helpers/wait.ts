// Waiting for something the daemon does in the background (a relay, a notice, a queue drained):
// polls `check` until it holds. The deadline only stops a test that would otherwise hang; it
// measures nothing (speed belongs to bench/).
export async function waitUntil(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
