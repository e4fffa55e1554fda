// How the local directory (R13) compares what a person types with the boxes' fields: text folded
// case- and accent-insensitively, and the département a French postcode belongs to. Pure
// functions: the store registers them as SQL functions (src/store/directory.ts), the search
// folds the criteria with them (src/directory/search.ts).

/**
 * Lower case, accents and ligatures removed, hyphens/apostrophes/runs of spaces as one space:
 * "Jean-Hélène  d'Œuf" → "jean helene d oeuf".
 */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
    .replace(/[\s\-'’‘.]+/g, ' ')
    .trim();
}

/** The département of a French postcode: Corsica 200xx–201xx is 2A, 202xx–206xx 2B; 97x/98x overseas. */
export function departmentOf(postcode: string): string | null {
  if (!/^\d{5}$/.test(postcode)) return null;
  if (postcode.startsWith('20')) return Number(postcode.slice(2, 3)) <= 1 ? '2A' : '2B';
  if (postcode.startsWith('97') || postcode.startsWith('98')) return postcode.slice(0, 3);
  return postcode.slice(0, 2);
}
