// A small mutation fuzzer: seeded (the same FUZZ_SEED gives the same inputs), bounded in time
// (FUZZ_SECONDS), fed from the seed corpora under test/fuzz/corpus/. Mutations are the classic
// ones (bit flips, interesting bytes, inserted grammar tokens, deletions, duplications, splices
// with another seed, truncation), chosen to reach the parsers' edge cases: literals of every
// size, unbalanced brackets, bare CR/LF, NUL, 8-bit, dot lines.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** mulberry32: a tiny deterministic generator of floats in [0, 1). */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 15);
export const FUZZ_MS = Number(process.env.FUZZ_SECONDS ?? 4) * 1000;

/** The seed files of test/fuzz/corpus/<name>, LF turned into CRLF. */
export function loadCorpus(name: string): Array<{ file: string; data: Buffer }> {
  const dir = path.join(__dirname, 'corpus', name);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.txt'))
    .sort()
    .map((file) => ({ file, data: Buffer.from(readFileSync(dir + '/' + file, 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1') }));
}

const INTERESTING_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x28, 0x29, 0x5b, 0x5d, 0x2a, 0x25, 0x2e, 0x3c, 0x3e, 0x40, 0x7f, 0x80, 0xc3, 0xff];

export class Mutator {
  constructor(
    readonly next: () => number,
    private readonly corpus: Buffer[],
    private readonly tokens: string[],
  ) {}

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One to five mutations of a random seed. */
  input(): Buffer {
    let data = this.pick(this.corpus);
    const rounds = 1 + this.int(5);
    for (let i = 0; i < rounds; i++) data = this.mutateOnce(data);
    return data;
  }

  private mutateOnce(data: Buffer): Buffer {
    const at = this.int(data.length + 1);
    switch (this.int(8)) {
      case 0: {
        if (data.length === 0) return data;
        const copy = Buffer.from(data);
        copy[Math.min(at, copy.length - 1)] ^= 1 << this.int(8);
        return copy;
      }
      case 1: {
        if (data.length === 0) return data;
        const copy = Buffer.from(data);
        copy[Math.min(at, copy.length - 1)] = this.pick(INTERESTING_BYTES);
        return copy;
      }
      case 2:
      case 3:
        return Buffer.concat([data.subarray(0, at), Buffer.from(this.pick(this.tokens), 'latin1'), data.subarray(at)]);
      case 4: {
        const length = 1 + this.int(16);
        return Buffer.concat([data.subarray(0, at), data.subarray(at + length)]);
      }
      case 5: {
        const slice = data.subarray(at, at + 1 + this.int(64));
        const times = 1 + this.int(this.next() < 0.1 ? 200 : 4);
        return Buffer.concat([data.subarray(0, at), ...Array.from({ length: times }, () => slice), data.subarray(at)]);
      }
      case 6: {
        const other = this.pick(this.corpus);
        const from = this.int(other.length);
        return Buffer.concat([data.subarray(0, at), other.subarray(from, from + 1 + this.int(200)), data.subarray(at)]);
      }
      default:
        return data.subarray(0, at);
    }
  }

  /** Cuts `data` into 1 to 8 chunks at random places (how it will reach the parser). */
  chunks(data: Buffer): Buffer[] {
    const cuts = [...new Set(Array.from({ length: this.int(8) }, () => this.int(data.length)))].sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const cut of cuts) {
      pieces.push(data.subarray(from, cut));
      from = cut;
    }
    pieces.push(data.subarray(from));
    return pieces.filter((piece) => piece.length > 0);
  }
}

/** How a failing input is shown: printable, CRLF visible, so it can be added to the corpus. */
export function showInput(data: Buffer): string {
  return JSON.stringify(data.toString('latin1').slice(0, 2000));
}
