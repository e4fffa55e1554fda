// The operator's local directory (R13): the active boxes whose owner left "local directory" on,
// searched by name, identifiers, profession, structure, place or address. Text criteria match
// case- and accent-insensitively anywhere in the field ("dupo" finds "Dupont", "helene" finds
// "Hélène"); identifiers match exactly. Each person is listed with the ORG boxes they are linked
// to (delegation, R6); ORG boxes are entries of their own. APP boxes are software, not listed.
import type { Db } from '../store/database';

export interface SearchCriteria {
  /** Every word must appear in the first name, last name or organisation name. */
  name?: string;
  firstName?: string;
  rpps?: string;
  finess?: string;
  profession?: string;
  structure?: string;
  city?: string;
  /** A postcode or its beginning ("75" finds every Paris postcode). */
  postcode?: string;
  /** Département: two digits, 2A / 2B for Corsica, three digits overseas (971…976). */
  department?: string;
  /** Part of any address of the box (login or MSSanté). */
  address?: string;
}

export interface LinkedOrganisation {
  address: string;
  name: string | null;
}

export interface LocalDirectoryEntry {
  type: 'PER' | 'MED' | 'INT' | 'ORG';
  login: string;
  /** MSSanté addresses (none for MED). */
  mssanteAddresses: string[];
  firstName: string | null;
  lastName: string | null;
  /** Organisation name, for ORG boxes. */
  name: string | null;
  rpps: string | null;
  finess: string | null;
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  city: string | null;
  postcode: string | null;
  /** For a person: the ORG boxes they are linked to and that are themselves listed. */
  organisations: LinkedOrganisation[];
}

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

/** SQL functions the search relies on, registered once per connection. */
const registered = new WeakSet<Db>();
function registerFunctions(db: Db): void {
  if (registered.has(db)) return;
  db.function('mssd_fold', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? foldText(value) : '',
  );
  db.function('mssd_department', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? departmentOf(value.trim()) : null,
  );
  registered.add(db);
}

interface AccountRow {
  id: number;
  type: LocalDirectoryEntry['type'];
  login: string;
  first_name: string | null;
  last_name: string | null;
  org_name: string | null;
  rpps: string | null;
  finess: string | null;
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  city: string | null;
  postcode: string | null;
}

/** The listed boxes matching every given criterion, ORG and persons alike, sorted by name. */
export function searchLocalDirectory(db: Db, criteria: SearchCriteria): LocalDirectoryEntry[] {
  registerFunctions(db);
  const where = [`a.status = 'active'`, 'a.local_directory = 1', `a.type IN ('PER', 'MED', 'INT', 'ORG')`];
  const params: unknown[] = [];
  const contains = (column: string, value: string) => {
    where.push(`instr(mssd_fold(${column}), ?) > 0`);
    params.push(foldText(value));
  };

  if (criteria.name !== undefined) {
    for (const word of foldText(criteria.name).split(' ').filter(Boolean)) {
      contains(`coalesce(a.first_name, '') || ' ' || coalesce(a.last_name, '') || ' ' || coalesce(a.org_name, '')`, word);
    }
  }
  if (criteria.firstName !== undefined) contains('a.first_name', criteria.firstName);
  if (criteria.profession !== undefined) contains('a.profession', criteria.profession);
  if (criteria.structure !== undefined) {
    contains(`coalesce(a.structure, '') || ' ' || coalesce(a.service, '') || ' ' || coalesce(a.org_name, '')`, criteria.structure);
  }
  if (criteria.city !== undefined) contains('a.city', criteria.city);
  if (criteria.rpps !== undefined) {
    where.push('a.rpps = ?');
    params.push(criteria.rpps);
  }
  if (criteria.finess !== undefined) {
    where.push('upper(a.finess) = upper(?)');
    params.push(criteria.finess);
  }
  if (criteria.postcode !== undefined) {
    where.push(`substr(a.postcode, 1, ?) = ?`);
    params.push(criteria.postcode.length, criteria.postcode);
  }
  if (criteria.department !== undefined) {
    where.push('mssd_department(a.postcode) = upper(?)');
    params.push(criteria.department);
  }
  if (criteria.address !== undefined) {
    where.push('EXISTS (SELECT 1 FROM addresses x WHERE x.account_id = a.id AND instr(lower(x.address), lower(?)) > 0)');
    params.push(criteria.address.trim());
  }

  const rows = db
    .prepare(
      `SELECT a.id, a.type, a.login, a.first_name, a.last_name, a.org_name, a.rpps, a.finess, a.profession,
              a.structure, a.service, a.description, a.city, a.postcode
       FROM accounts a WHERE ${where.join(' AND ')}
       ORDER BY mssd_fold(coalesce(a.last_name, a.org_name, '')), mssd_fold(coalesce(a.first_name, '')), a.login`,
    )
    .all(...params) as AccountRow[];

  const mssanteAddresses = db.prepare(
    `SELECT address FROM addresses WHERE account_id = ? AND kind = 'mssante' ORDER BY lower(address)`,
  );
  // Only ORG boxes that are listed themselves: a hidden or suspended ORG is not revealed through
  // its members.
  const organisations = db.prepare(
    `SELECT coalesce((SELECT min(x.address) FROM addresses x WHERE x.account_id = o.id AND x.kind = 'mssante'), o.login)
              AS address, o.org_name AS name
     FROM org_members m JOIN accounts o ON o.id = m.org_id
     WHERE m.member_id = ? AND o.status = 'active' AND o.local_directory = 1
     ORDER BY mssd_fold(coalesce(o.org_name, '')), address`,
  );

  return rows.map((row) => ({
    type: row.type,
    login: row.login,
    mssanteAddresses: (mssanteAddresses.all(row.id) as Array<{ address: string }>).map((r) => r.address),
    firstName: row.first_name,
    lastName: row.last_name,
    name: row.org_name,
    rpps: row.rpps,
    finess: row.finess,
    profession: row.profession,
    structure: row.structure,
    service: row.service,
    description: row.description,
    city: row.city,
    postcode: row.postcode,
    organisations: row.type === 'ORG' ? [] : (organisations.all(row.id) as LinkedOrganisation[]),
  }));
}
