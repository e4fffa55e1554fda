// Preloaded into a benchmark's daemon only (node --expose-gc --require …/memory-probe.js): on an
// IPC message 'probe' it runs a full garbage collection and answers with the process's memory
// (process.memoryUsage and the proportional set size of /proc/self/smaps_rollup). Nothing of this
// is in the daemon itself: it only exists in the child process a benchmark spawns.
import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';

export interface MemoryProbe {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Proportional set size, octets (shared pages split between the processes using them). */
  pss: number;
}

function pss(): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

if (process.send) {
  process.on('message', (message) => {
    // 'snapshot:<file>' (BENCH_HEAP_SNAPSHOT_DIR): a V8 heap snapshot, to see what a connection holds
    if (typeof message === 'string' && message.startsWith('snapshot:')) {
      writeHeapSnapshot(message.slice('snapshot:'.length));
      process.send!('snapshot-written');
      return;
    }
    // 'probe-no-gc': memory as it is (garbage included), as a daemon without --expose-gc runs
    if (message !== 'probe' && message !== 'probe-no-gc') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (message === 'probe') {
      // twice: the first pass may only finalise what the second frees
      gc?.();
      gc?.();
    }
    const usage = process.memoryUsage();
    const probe: MemoryProbe = { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers, pss: pss() };
    process.send!(probe);
  });
  // the channel must not keep the daemon alive once it is told to stop
  process.channel?.unref();
}
