// How text is compared: SEARCH's folding (issue 12: French accents ignored) and the comparator
// i;unicode-casemap of SORT and THREAD (RFC 5051, used by RFC 5256 section 2.1).

/**
 * Text as SEARCH compares it: lower case, accents removed ("Glycémie" → "glycemie"), so that a
 * French word matches with or without its accents, as the full-text index folds them too.
 */
export function foldText(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text.toLowerCase();
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * RFC 5051 i;unicode-casemap key: each character title-cased (upper case is the same for every
 * script mssd meets) then decomposed (NFKD). Keys compare by code point.
 */
export function casemap(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text.toUpperCase();
  return text.normalize('NFKD').toUpperCase().normalize('NFKD');
}
