// RFC 5322 section 2.3 and RFC 5321 section 2.3.8: lines end with CRLF. Some peers send bare LF;
// the store keeps every message in CRLF form so that the sizes and part offsets computed at
// ingest are exactly what IMAP serves later.

/** The message with every bare LF turned into CRLF; the same Buffer when there is none. */
export function toCrlf(raw: Buffer): Buffer {
  let bare = 0;
  for (let at = raw.indexOf(10); at !== -1; at = raw.indexOf(10, at + 1)) {
    if (at === 0 || raw[at - 1] !== 13) bare++;
  }
  if (bare === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + bare);
  let written = 0;
  let from = 0;
  for (let at = raw.indexOf(10); at !== -1; at = raw.indexOf(10, at + 1)) {
    if (at === 0 || raw[at - 1] !== 13) {
      written += raw.copy(out, written, from, at);
      out[written++] = 13;
      from = at;
    }
  }
  written += raw.copy(out, written, from);
  return out.subarray(0, written);
}
