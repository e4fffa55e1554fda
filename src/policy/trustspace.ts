// The MSSanté trust space (DESIGN.md R1, glossary "trust space / liste blanche"): the allowlist
// ANS publishes as XML (https://listeblanche.mssante.fr/schema). Each <Domaine> names a domain and
// the subject DN of an operator certificate allowed to send for it; a domain appears once per
// allowed DN.
//
//   <ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">
//     <DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>
//     <ListeDomaines>
//       <Domaine><Nom>…</Nom><Description>…</Description>
//         <DNCertificatOperateur>CN=…,OU=…,O=…,ST=…,C=FR</DNCertificatOperateur>
//         <ResponsableContact>…</ResponsableContact><SupportContact>…</SupportContact>
//         <DateMAJ>…</DateMAJ></Domaine> …
//
// Parsing is strict: a list that is truncated, of another format, or holds an entry without a
// usable domain or DN is refused as a whole (AllowlistError), so a bad download never replaces a
// good list. Domains match exactly: the list names every allowed domain, and a subdomain of a
// listed domain is NOT in the trust space.
//
// DNs are compared by `normalizeDn`: RFC 4514 strings, attribute types and values compared
// case-insensitively with whitespace collapsed, and the order of the attributes ignored (peers'
// certificates are rendered most-specific-first or most-general-first depending on the tool).
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** An allowlist that cannot be used; the message says what is wrong and where. */
export class AllowlistError extends Error {
  override name = 'AllowlistError';
}

/** A string that is not an RFC 4514 distinguished name. */
export class DnSyntaxError extends Error {
  override name = 'DnSyntaxError';
}

// ---------------------------------------------------------------------------------------------
// Distinguished names (RFC 4514)

interface AttributeTypeAndValue {
  type: string;
  value: string;
}

/** Canonical short names for attribute types: RFC 4514 §3 keywords, their long names, the OIDs of
 * RFC 4519 / RFC 5280, and the aliases other tools print (S for ST, E / email for emailAddress). */
const ATTRIBUTE_TYPE_ALIASES: Record<string, string> = {
  cn: 'CN', commonname: 'CN', '2.5.4.3': 'CN',
  c: 'C', countryname: 'C', '2.5.4.6': 'C',
  l: 'L', localityname: 'L', '2.5.4.7': 'L',
  st: 'ST', s: 'ST', stateorprovincename: 'ST', '2.5.4.8': 'ST',
  o: 'O', organizationname: 'O', '2.5.4.10': 'O',
  ou: 'OU', organizationalunitname: 'OU', '2.5.4.11': 'OU',
  street: 'STREET', streetaddress: 'STREET', '2.5.4.9': 'STREET',
  serialnumber: 'SERIALNUMBER', '2.5.4.5': 'SERIALNUMBER',
  sn: 'SN', surname: 'SN', '2.5.4.4': 'SN',
  gn: 'GN', givenname: 'GN', '2.5.4.42': 'GN',
  title: 'TITLE', '2.5.4.12': 'TITLE',
  organizationidentifier: 'ORGANIZATIONIDENTIFIER', '2.5.4.97': 'ORGANIZATIONIDENTIFIER',
  dc: 'DC', domaincomponent: 'DC', '0.9.2342.19200300.100.1.25': 'DC',
  uid: 'UID', userid: 'UID', '0.9.2342.19200300.100.1.1': 'UID',
  e: 'EMAILADDRESS', email: 'EMAILADDRESS', emailaddress: 'EMAILADDRESS', '1.2.840.113549.1.9.1': 'EMAILADDRESS',
};

function canonicalAttributeType(type: string): string {
  const bare = type.replace(/^oid\./i, '');
  return ATTRIBUTE_TYPE_ALIASES[bare.toLowerCase()] ?? bare.toUpperCase();
}

/** RFC 4514 §3 `escaped` special characters (besides `\XX` hex pairs). */
const ESCAPABLE = ' "#+,;<=>\\';
const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|(?:oid\.)?\d+(?:\.\d+)+)$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 4514 §2.4 `#hexstring`: the BER encoding of the value. Character-string types are decoded
 * so `CN=#0c03616263` equals `CN=abc`; anything else stays as its hex text. */
function decodeHexValue(hex: string): string {
  if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new DnSyntaxError(`"#${hex}" is not a hex-encoded value`);
  const bytes = Buffer.from(hex, 'hex');
  const tag = bytes[0];
  let length = bytes[1] ?? 0;
  let offset = 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + (bytes[offset + i] ?? 0);
    offset += lengthBytes;
  }
  const content = bytes.subarray(offset, offset + length);
  if (offset + length !== bytes.length) return `#${hex.toLowerCase()}`;
  switch (tag) {
    case 0x0c: // UTF8String
      return utf8.decode(content);
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x14: // TeletexString (in practice Latin-1)
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return content.toString('latin1');
    case 0x1e: // BMPString (UCS-2 big endian)
      return Buffer.from(content).swap16().toString('utf16le');
    default:
      return `#${hex.toLowerCase()}`;
  }
}

/**
 * Parses an RFC 4514 DN into its attribute/value pairs, in string order. Accepts escapes
 * (`\,` `\+` `\\` `\"` and `\XX` UTF-8 bytes), multi-valued RDNs (`+`), quoted values and `;`
 * separators of RFC 1779, and spaces around `=`, `,` and `+`.
 */
function parseDn(dn: string): AttributeTypeAndValue[] {
  const pairs: AttributeTypeAndValue[] = [];
  let i = 0;
  const skipSpaces = (): void => {
    while (i < dn.length && /\s/.test(dn[i])) i++;
  };
  skipSpaces();
  if (i === dn.length) throw new DnSyntaxError('empty distinguished name');

  while (i < dn.length) {
    skipSpaces();
    const equals = dn.indexOf('=', i);
    if (equals < 0) throw new DnSyntaxError(`"${dn.slice(i)}" has no "=" (expected TYPE=value)`);
    const type = dn.slice(i, equals).trim();
    if (!ATTRIBUTE_TYPE.test(type)) throw new DnSyntaxError(`"${type}" is not an attribute type (at character ${i + 1})`);
    i = equals + 1;
    skipSpaces();

    let value: string;
    if (dn[i] === '#') {
      const start = ++i;
      while (i < dn.length && /[0-9a-f]/i.test(dn[i])) i++;
      value = decodeHexValue(dn.slice(start, i));
    } else if (dn[i] === '"') {
      let text = '';
      i++;
      while (i < dn.length && dn[i] !== '"') {
        if (dn[i] === '\\') i++;
        if (i < dn.length) text += dn[i++];
      }
      if (dn[i] !== '"') throw new DnSyntaxError(`unterminated quoted value for ${type}`);
      i++;
      value = text;
    } else {
      let text = '';
      let keptLength = 0; // text up to here is kept; unescaped trailing spaces are not
      let escapedBytes: number[] = []; // a run of `\XX` escapes, decoded together as UTF-8
      const flushEscapedBytes = (): void => {
        if (escapedBytes.length === 0) return;
        try {
          text += utf8.decode(Uint8Array.from(escapedBytes));
        } catch {
          throw new DnSyntaxError(`the hex escapes in the value of ${type} are not valid UTF-8`);
        }
        escapedBytes = [];
        keptLength = text.length;
      };
      while (i < dn.length && !',+;'.includes(dn[i])) {
        const character = dn[i];
        if (character === '\\') {
          const next = dn[i + 1];
          if (next === undefined) throw new DnSyntaxError(`"${dn}" ends with a lone backslash`);
          if (/[0-9a-f]/i.test(next)) {
            const hexPair = dn.slice(i + 1, i + 3);
            if (!/^[0-9a-f]{2}$/i.test(hexPair)) throw new DnSyntaxError(`"\\${hexPair}" is not a valid escape in ${type}`);
            escapedBytes.push(parseInt(hexPair, 16));
            i += 3;
            continue;
          }
          if (!ESCAPABLE.includes(next)) throw new DnSyntaxError(`"\\${next}" is not a valid escape in ${type}`);
          flushEscapedBytes();
          text += next;
          keptLength = text.length;
          i += 2;
        } else {
          flushEscapedBytes();
          text += character;
          if (!/\s/.test(character)) keptLength = text.length;
          i++;
        }
      }
      flushEscapedBytes();
      value = text.slice(0, keptLength);
    }
    pairs.push({ type, value });

    skipSpaces();
    if (i < dn.length) {
      if (!',+;'.includes(dn[i])) throw new DnSyntaxError(`unexpected "${dn[i]}" after the value of ${type}`);
      i++;
      skipSpaces();
      if (i === dn.length) throw new DnSyntaxError(`"${dn}" ends with a separator`);
    }
  }
  return pairs;
}

/** RFC 4514 §2.4 escaping, plus control characters as `\XX` so a DN is always one printable line. */
function escapeDnValue(value: string): string {
  let escaped = '';
  for (const character of value) {
    const code = character.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) escaped += `\\${code.toString(16).padStart(2, '0').toUpperCase()}`;
    else if ('"+,;<>\\='.includes(character)) escaped += `\\${character}`;
    else escaped += character;
  }
  if (escaped.startsWith('#') || escaped.startsWith(' ')) escaped = `\\${escaped}`;
  if (escaped.endsWith(' ')) escaped = `${escaped.slice(0, -1)}\\ `;
  return escaped;
}

/** Unicode NFC, whitespace collapsed and trimmed, lower case: how two renderings of one value meet. */
function comparableValue(value: string): string {
  return value.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * The comparison key of a DN: its attribute/value pairs with canonical types and comparable
 * values, sorted. Two DNs are the same subject iff their keys are equal. RDN order and grouping
 * (`+`) are ignored: a certificate subject read from Node comes as a flat set of attributes.
 * Throws DnSyntaxError on a string that is not a DN.
 */
export function normalizeDn(dn: string): string {
  return parseDn(dn)
    .map(({ type, value }) => `${canonicalAttributeType(type)}=${escapeDnValue(comparableValue(value))}`)
    .sort()
    .join(',');
}

function normalizeDnOrNull(dn: string): string | null {
  try {
    return normalizeDn(dn);
  } catch {
    return null;
  }
}

/**
 * The subject of a certificate as an RFC 4514 string, most specific attribute first like the ANS
 * list (`CN=…,OU=…,O=…,ST=…,C=FR`). Accepts a crypto.X509Certificate or a tls.PeerCertificate
 * (whose subject is an object; repeated attributes come as arrays). Returns '' when the
 * certificate has no subject (e.g. `getPeerCertificate()` without a peer certificate).
 */
export function dnOfCertificate(cert: X509Certificate | PeerCertificate): string {
  const subject = cert instanceof X509Certificate ? cert.toLegacyObject().subject : cert.subject;
  if (!subject || typeof subject !== 'object') return '';
  const rendered: string[] = [];
  for (const [type, values] of Object.entries(subject as unknown as Record<string, string | string[]>)) {
    for (const value of Array.isArray(values) ? values : [values]) rendered.push(`${type}=${escapeDnValue(String(value))}`);
  }
  // Node lists attributes in DER order (most general first); RFC 4514 §2.1 reverses it.
  return rendered.reverse().join(',');
}

// ---------------------------------------------------------------------------------------------
// The allowlist

/** One authorisation of the list: this DN may send for this domain. */
export interface DomainDn {
  domain: string;
  dn: string;
}

export interface TrustSpaceDiff {
  domainsAdded: string[];
  domainsRemoved: string[];
  /** DNs (as written in the list) that appear, or no longer appear, for any domain. */
  dnsAdded: string[];
  dnsRemoved: string[];
  /** Domain/DN pairs that appear or disappear: also catches a domain moving between operators. */
  authorizationsAdded: DomainDn[];
  authorizationsRemoved: DomainDn[];
  counts: {
    domainsAdded: number;
    domainsRemoved: number;
    dnsAdded: number;
    dnsRemoved: number;
    authorizationsAdded: number;
    authorizationsRemoved: number;
  };
}

const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const ROOT = 'ListeBlancheMSSante';

/** normalized DN → the DN as first written in the list */
type DnTable = Map<string, string>;

function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase();
}

function sortedDifference<T>(from: Map<string, T>, without: Map<string, unknown>): T[] {
  return [...from.entries()]
    .filter(([key]) => !without.has(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, item]) => item);
}

/** XMLValidator's "Invalid '[…]' found." lists the elements still open at the end of the text. */
function describeXmlError(error: { code: string; msg: string; line?: number; col?: number }): string {
  const unclosed = /^Invalid '(\[.*\])' found\.$/s.exec(error.msg);
  if (unclosed) {
    try {
      const open = JSON.parse(unclosed[1]) as string[];
      return `the document ends inside <${open.join('> <')}> (truncated download?)`;
    } catch {
      // fall through to the validator's own words
    }
  }
  const where = error.line ? ` at line ${error.line}${error.col ? `, column ${error.col}` : ''}` : '';
  return `not well-formed XML${where}: ${error.msg}`;
}

/**
 * Well-formedness check. The list as ANS publishes it (checksum-verified copy in shared/data) ends
 * right after </ListeDomaines> without closing the root element; that one omission is accepted
 * because nothing can be missing after a complete ListeDomaines. Any other truncation is refused.
 */
function wellFormedXml(xml: string): string {
  const verdict = XMLValidator.validate(xml);
  if (verdict === true) return xml;
  const trimmed = xml.trimEnd();
  if (verdict.err.msg === `Unclosed tag '${ROOT}'.` && /<\/(?:[\w.-]+:)?ListeDomaines\s*>$/.test(trimmed)) {
    const completed = `${trimmed}\n</${ROOT}>`;
    if (XMLValidator.validate(completed) === true) return completed;
  }
  throw new AllowlistError(describeXmlError(verdict.err));
}

function textField(entry: Record<string, unknown>, field: string, where: string): string | undefined {
  const value = entry[field];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new AllowlistError(`${where}: has ${value.length} <${field}> elements, expected one`);
  if (typeof value !== 'string') throw new AllowlistError(`${where}: <${field}> must hold text, not elements`);
  return value.trim();
}

export class TrustSpace {
  /** Distinct domains in the list. */
  readonly domainCount: number;
  /** Distinct operator certificate DNs in the list (compared with `normalizeDn`). */
  readonly dnCount: number;

  private constructor(
    /** lower-case domain → its allowed DNs */
    private readonly domains: Map<string, DnTable>,
    /** every DN of the list */
    private readonly allDns: DnTable,
    /** DateDeGeneration, when the list states it */
    readonly generatedAt: Date | null,
  ) {
    this.domainCount = domains.size;
    this.dnCount = allDns.size;
  }

  /** Parses and checks the XML text of the list; throws AllowlistError naming what is wrong. */
  static parse(xml: string): TrustSpace {
    const document = wellFormedXml(xml.replace(/^\uFEFF/, ''));
    const parsed = new XMLParser({
      ignoreAttributes: true,
      removeNSPrefix: true,
      ignoreDeclaration: true,
      ignorePiTags: true,
      parseTagValue: false,
      trimValues: true,
      isArray: (tagName) => tagName === 'Domaine',
    }).parse(document) as Record<string, unknown>;

    const roots = Object.keys(parsed);
    if (roots.length !== 1 || roots[0] !== ROOT) {
      throw new AllowlistError(`root element is <${roots.join('>, <') || '(none)'}>, expected <${ROOT}> (is this the ANS liste blanche?)`);
    }
    const root = parsed[ROOT];
    if (typeof root !== 'object' || root === null) throw new AllowlistError(`<${ROOT}> is empty`);
    const { DateDeGeneration: generated, ListeDomaines: list } = root as Record<string, unknown>;

    let generatedAt: Date | null = null;
    if (generated !== undefined) {
      generatedAt = new Date(String(generated));
      if (typeof generated !== 'string' || Number.isNaN(generatedAt.getTime())) {
        throw new AllowlistError(`<DateDeGeneration> "${String(generated)}" is not a date`);
      }
    }
    if (list === undefined) throw new AllowlistError(`<${ROOT}> has no <ListeDomaines>`);
    if (Array.isArray(list)) throw new AllowlistError(`<${ROOT}> has ${list.length} <ListeDomaines>, expected one`);
    // An empty <ListeDomaines/> parses as '', a populated one as { Domaine: [...] }.
    const entries = typeof list === 'object' && list !== null ? ((list as Record<string, unknown>).Domaine as unknown[] | undefined) : undefined;
    if (!entries || entries.length === 0) {
      // An empty list would refuse every peer: certainly a bad download, never a real state.
      throw new AllowlistError('<ListeDomaines> holds no <Domaine>');
    }

    const domains = new Map<string, DnTable>();
    const allDns: DnTable = new Map();
    entries.forEach((entry, index) => {
      let where = `Domaine #${index + 1}`;
      if (typeof entry !== 'object' || entry === null) throw new AllowlistError(`${where}: has no <Nom> nor <DNCertificatOperateur>`);
      const fields = entry as Record<string, unknown>;
      const name = textField(fields, 'Nom', where);
      if (!name) throw new AllowlistError(`${where}: missing <Nom>`);
      if (!DOMAIN_NAME.test(name)) throw new AllowlistError(`${where}: <Nom> "${name}" is not a valid domain name`);
      where += ` (${name})`;
      const dn = textField(fields, 'DNCertificatOperateur', where);
      if (!dn) throw new AllowlistError(`${where}: missing <DNCertificatOperateur>`);
      let key: string;
      try {
        key = normalizeDn(dn);
      } catch (err) {
        throw new AllowlistError(`${where}: <DNCertificatOperateur> "${dn}" is not a distinguished name: ${(err as Error).message}`);
      }
      const domain = normalizeDomain(name);
      let dns = domains.get(domain);
      if (!dns) domains.set(domain, (dns = new Map()));
      // The published list repeats some domain/DN pairs; a repeat adds nothing.
      if (!dns.has(key)) dns.set(key, dn);
      if (!allDns.has(key)) allDns.set(key, dn);
    });
    return new TrustSpace(domains, allDns, generatedAt);
  }

  /** Whether `domain` is in the trust space: exact match, case-insensitive (no subdomains). */
  hasDomain(domain: string): boolean {
    return this.domains.has(normalizeDomain(domain));
  }

  /** The DNs allowed to send for `domain`, as written in the list; [] for an unlisted domain. */
  dnsForDomain(domain: string): string[] {
    return [...(this.domains.get(normalizeDomain(domain))?.values() ?? [])];
  }

  /** Whether a certificate with subject `dn` may send for `domain`. False for a malformed DN. */
  isDnAllowedForDomain(domain: string, dn: string): boolean {
    const key = normalizeDnOrNull(dn);
    return key !== null && (this.domains.get(normalizeDomain(domain))?.has(key) ?? false);
  }

  /** Whether `dn` is listed for at least one domain (e.g. a peer sending a DSN with a null sender). */
  isDnListed(dn: string): boolean {
    const key = normalizeDnOrNull(dn);
    return key !== null && this.allDns.has(key);
  }

  /** Every domain of the list, lower case, sorted. */
  domainNames(): string[] {
    return [...this.domains.keys()].sort();
  }

  /** What changed from `previous` to this list (e.g. for the allowlist refresh job's log). */
  diff(previous: TrustSpace): TrustSpaceDiff {
    const domainKeys = (space: TrustSpace): Map<string, string> => new Map([...space.domains.keys()].map((d) => [d, d]));
    const pairs = (space: TrustSpace): Map<string, DomainDn> => {
      const out = new Map<string, DomainDn>();
      for (const [domain, dns] of space.domains) for (const [key, dn] of dns) out.set(`${domain}\n${key}`, { domain, dn });
      return out;
    };
    const [currentDomains, previousDomains] = [domainKeys(this), domainKeys(previous)];
    const [currentPairs, previousPairs] = [pairs(this), pairs(previous)];
    const domainsAdded = sortedDifference(currentDomains, previousDomains);
    const domainsRemoved = sortedDifference(previousDomains, currentDomains);
    const dnsAdded = sortedDifference(this.allDns, previous.allDns);
    const dnsRemoved = sortedDifference(previous.allDns, this.allDns);
    const authorizationsAdded = sortedDifference(currentPairs, previousPairs);
    const authorizationsRemoved = sortedDifference(previousPairs, currentPairs);
    return {
      domainsAdded,
      domainsRemoved,
      dnsAdded,
      dnsRemoved,
      authorizationsAdded,
      authorizationsRemoved,
      counts: {
        domainsAdded: domainsAdded.length,
        domainsRemoved: domainsRemoved.length,
        dnsAdded: dnsAdded.length,
        dnsRemoved: dnsRemoved.length,
        authorizationsAdded: authorizationsAdded.length,
        authorizationsRemoved: authorizationsRemoved.length,
      },
    };
  }
}

/** The digest a checksum file gives for `file`: `sha256sum` output (`<hex>  <name>` or
 * `<hex> *<name>`, one line per file) or a bare hex digest. */
function expectedDigest(checksumText: string, file: string, checksumFile: string): string {
  const lines = checksumText
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => /^([0-9a-f]{64})(?:\s+\*?(.+))?$/i.exec(line));
  if (lines.length === 0 || lines.some((match) => match === null)) {
    throw new AllowlistError(`${checksumFile}: expected a SHA-256 digest (64 hex digits), optionally followed by a file name`);
  }
  const matches = lines as RegExpExecArray[];
  const named = matches.find((match) => match[2] !== undefined && path.basename(match[2]) === path.basename(file));
  const chosen = named ?? (matches.length === 1 ? matches[0] : undefined);
  if (!chosen) throw new AllowlistError(`${checksumFile}: no digest for ${path.basename(file)}`);
  return chosen[1].toLowerCase();
}

/**
 * Reads the allowlist from `file`. With `checksumFile`, the file's SHA-256 is checked first, so
 * a partial or altered download is refused before it is parsed.
 */
export function loadTrustSpaceFile(file: string, checksumFile?: string): TrustSpace {
  const read = (target: string, what: string): Buffer => {
    try {
      return readFileSync(target);
    } catch (err) {
      throw new AllowlistError(`cannot read ${what} ${target}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  };
  const content = read(file, 'allowlist');
  if (checksumFile) {
    const expected = expectedDigest(read(checksumFile, 'checksum file').toString('utf8'), file, checksumFile);
    const actual = createHash('sha256').update(content).digest('hex');
    if (actual !== expected) {
      throw new AllowlistError(`${file}: SHA-256 is ${actual} but ${checksumFile} expects ${expected} (incomplete or altered file)`);
    }
  }
  try {
    return TrustSpace.parse(content.toString('utf8'));
  } catch (err) {
    if (err instanceof AllowlistError) throw new AllowlistError(`${file}: ${err.message}`);
    throw err;
  }
}
