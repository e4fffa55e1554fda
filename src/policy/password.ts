// Password storage: scrypt (RFC 7914) with a random salt per password, encoded as a
// self-describing string `scrypt$N$r$p$salt$hash` (salt and hash in base64) so that the cost can be
// raised later without invalidating the hashes already stored.
//
// Cost: N=2^13, r=8, p=1 (8 MiB of memory) takes about 40 ms per hash on this project's 2-core
// reference machine, inside the ~50 ms budget for a login; the async API runs it on the libuv pool
// so an IMAP/SMTP login never blocks the event loop. Passwords are hashed in Unicode NFC, so an
// "é" typed as one code point or as e + combining accent is the same password.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_PARAMS = { N: 8192, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds accepted when reading a stored hash: a corrupted row must not exhaust memory. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; leave headroom over Node's 32 MiB default for larger N.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password (already accepted by checkPassword) for storage. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface DecodedHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

function decode(encoded: string): DecodedHash | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : NaN));
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || !(r >= 1 && r <= MAX_R) || !(p >= 1 && p <= MAX_P)) return null;
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  if (salt.length === 0 || hash.length < 16) return null;
  return { N, r, p, salt, hash };
}

/**
 * True when `password` matches `encoded`. The comparison is constant-time; a missing or malformed
 * hash (an account without a password) never matches.
 */
export async function verifyPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  const decoded = encoded ? decode(encoded) : null;
  if (!decoded) return false;
  const candidate = await derive(password, decoded.salt, decoded.hash.length, decoded);
  return timingSafeEqual(candidate, decoded.hash);
}

/** True when a stored hash uses other parameters than today's: rehash it after a good login. */
export function needsRehash(encoded: string): boolean {
  const decoded = decode(encoded);
  return (
    !decoded || decoded.N !== SCRYPT_PARAMS.N || decoded.r !== SCRYPT_PARAMS.r || decoded.p !== SCRYPT_PARAMS.p
  );
}
