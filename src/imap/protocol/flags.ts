// Message flags (RFC 3501 §2.3.2, §9 flag, flag-list) and the arguments of STORE (§6.4.6, with
// the RFC 7162 §3.1.3 UNCHANGEDSINCE modifier).
import { badSyntax } from './errors';
import { MAX_MODSEQ, describeToken, expectNumber, isAtomText, isWord, type Token } from './tokens';

/** The system flags a client may set, in their canonical spelling. */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;
export const RECENT = '\\Recent';

const CANONICAL = new Map<string, string>(SYSTEM_FLAGS.map((flag) => [flag.toLowerCase(), flag]));

/**
 * A flag a client may store or append (RFC 3501 §9 flag): a system flag in canonical case, or
 * a keyword (an atom such as $Forwarded or $MDNSent, kept as sent). \Recent is the server's
 * alone, and unknown "\" flags are refused: both are a BAD.
 */
export function parseFlag(token: Token | undefined): string {
  // NIL is an atom too (RFC 3501 section 9 flag-keyword = atom): as a flag it is the keyword "NIL".
  if (token && (token.type === 'atom' || token.type === 'nil')) {
    const value = token.value;
    if (value.startsWith('\\')) {
      const canonical = CANONICAL.get(value.toLowerCase());
      if (canonical) return canonical;
      if (value.toLowerCase() === '\\recent') throw badSyntax('\\Recent cannot be set by a client');
      throw badSyntax(`Unknown system flag: ${value.slice(0, 40)}`);
    }
    if (isAtomText(value)) return value;
  }
  throw badSyntax(`Invalid flag: ${describeToken(token)}`);
}

/** Removes duplicates; keywords compare case-insensitively (RFC 9051 §2.3.2), first spelling wins. */
function unique(flags: string[]): string[] {
  const seen = new Set<string>();
  return flags.filter((flag) => {
    const key = flag.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A flag list such as `(\Seen $Forwarded)` (RFC 3501 §9 flag-list, e.g. for APPEND), maybe empty. */
export function parseFlagList(token: Token | undefined): string[] {
  if (token?.type !== 'list') throw badSyntax(`Expected a flag list, got ${describeToken(token)}`);
  return unique(token.items.map(parseFlag));
}

export interface StoreRequest {
  /** FLAGS replaces, +FLAGS adds, -FLAGS removes. */
  operation: 'replace' | 'add' | 'remove';
  /** .SILENT: no untagged FETCH for the change (§6.4.6), except when CONDSTORE needs one. */
  silent: boolean;
  flags: string[];
  /** RFC 7162 §3.1.3: change only messages whose mod-sequence is at most this. */
  unchangedSince: number | null;
}

/**
 * Parses what follows the sequence set of STORE / UID STORE:
 * `[(UNCHANGEDSINCE n)] (+|-)FLAGS[.SILENT] (flag-list | flag *(SP flag))`. Throws a BAD.
 */
export function parseStoreArguments(args: readonly Token[]): StoreRequest {
  let position = 0;
  let unchangedSince: number | null = null;
  const first = args[0];
  if (first?.type === 'list') {
    // store-modifier (RFC 7162 §3.1.3)
    const items = first.items;
    if (items.length === 0) throw badSyntax('Empty STORE modifier list');
    for (let i = 0; i < items.length; i += 2) {
      if (!isWord(items[i], 'UNCHANGEDSINCE')) throw badSyntax(`Unknown STORE modifier: ${describeToken(items[i])}`);
      if (unchangedSince !== null) throw badSyntax('UNCHANGEDSINCE given twice');
      unchangedSince = expectNumber(items[i + 1], 'a mod-sequence', 0, MAX_MODSEQ);
    }
    position = 1;
  }
  const item = args[position];
  const match = item?.type === 'atom' ? /^([+-]?)FLAGS(\.SILENT)?$/i.exec(item.value) : null;
  if (!match) throw badSyntax(`Expected FLAGS, +FLAGS or -FLAGS, got ${describeToken(item)}`);
  const values = args.slice(position + 1);
  let flags: string[];
  if (values.length === 1 && values[0].type === 'list') flags = parseFlagList(values[0]);
  else if (values.length > 0) flags = unique(values.map(parseFlag));
  else throw badSyntax('STORE needs flags');
  return {
    operation: match[1] === '+' ? 'add' : match[1] === '-' ? 'remove' : 'replace',
    silent: match[2] !== undefined,
    flags,
    unchangedSince,
  };
}
