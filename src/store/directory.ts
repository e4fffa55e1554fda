// The directory's tables and queries (R13): the boxes listed in the operator's local directory
// and searched there, the boxes published to the national directory, and the record of each
// publication (`directory_publications`). src/directory builds entries, diffs and files from
// these; it holds no SQL.
import { departmentOf, foldText } from '../policy/directory-matching';
import { cachedStatement, type Db } from './database';

// ---------------------------------------------------------------------------------------------
// Local directory search

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

export type ListedBoxType = 'PER' | 'MED' | 'INT' | 'ORG';

/** A box listed in the local directory, as its account row holds it. */
export interface ListedBox {
  accountId: number;
  type: ListedBoxType;
  login: string;
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

/**
 * The active boxes whose owner left "local directory" on and that match every given criterion,
 * sorted by name. Text criteria match case- and accent-insensitively anywhere in the field;
 * identifiers match exactly. APP boxes are software, never listed.
 */
export function searchListedBoxes(db: Db, criteria: SearchCriteria): ListedBox[] {
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

  return db
    .prepare(
      `SELECT a.id AS accountId, a.type, a.login, a.first_name AS firstName, a.last_name AS lastName,
              a.org_name AS name, a.rpps, a.finess, a.profession, a.structure, a.service, a.description,
              a.city, a.postcode
       FROM accounts a WHERE ${where.join(' AND ')}
       ORDER BY mssd_fold(coalesce(a.last_name, a.org_name, '')), mssd_fold(coalesce(a.first_name, '')), a.login`,
    )
    .all(...params) as ListedBox[];
}

/** The MSSanté addresses of a box, ordered case-insensitively. */
export function mssanteAddressesOf(db: Db, accountId: number): string[] {
  return (
    cachedStatement(db, `SELECT address FROM addresses WHERE account_id = ? AND kind = 'mssante' ORDER BY lower(address)`)
      .raw(true)
      .all(accountId) as Array<[string]>
  ).map((row) => row[0]);
}

export interface ListedOrganisation {
  /** The ORG box's first MSSanté address, or its login when it has none. */
  address: string;
  name: string | null;
}

/**
 * The ORG boxes a person is linked to (delegation, R6) that are listed themselves: a hidden or
 * suspended ORG is not revealed through its members.
 */
export function listedOrganisationsOf(db: Db, memberAccountId: number): ListedOrganisation[] {
  registerFunctions(db);
  return cachedStatement(
    db,
    `SELECT coalesce((SELECT min(x.address) FROM addresses x WHERE x.account_id = o.id AND x.kind = 'mssante'), o.login)
              AS address, o.org_name AS name
     FROM org_members m JOIN accounts o ON o.id = m.org_id
     WHERE m.member_id = ? AND o.status = 'active' AND o.local_directory = 1
     ORDER BY mssd_fold(coalesce(o.org_name, '')), address`,
  ).all(memberAccountId) as ListedOrganisation[];
}

// ---------------------------------------------------------------------------------------------
// National directory

/** A box to publish nationally, under one of its MSSanté addresses. */
export interface PublishableBox {
  address: string;
  type: 'PER' | 'ORG';
  rpps: string | null;
  finess: string | null;
  firstName: string | null;
  lastName: string | null;
  orgName: string | null;
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  dematerialisation: boolean;
}

/**
 * One row per MSSanté address of a PER or ORG box that is active and not on the liste rouge,
 * ordered by address (addresses compare case-insensitively). MED boxes have no MSSanté address;
 * INT boxes are never published (R2).
 */
export function publishableBoxes(db: Db): PublishableBox[] {
  const rows = cachedStatement(
    db,
    `SELECT ad.address, a.type, a.rpps, a.finess, a.first_name AS firstName, a.last_name AS lastName,
            a.org_name AS orgName, a.profession, a.structure, a.service, a.description, a.dematerialisation
     FROM accounts a JOIN addresses ad ON ad.account_id = a.id AND ad.kind = 'mssante'
     WHERE a.type IN ('PER', 'ORG') AND a.status = 'active' AND a.national_directory = 1
     ORDER BY lower(ad.address)`,
  ).all() as Array<Omit<PublishableBox, 'dematerialisation'> & { dematerialisation: number }>;
  return rows.map((row) => ({ ...row, dematerialisation: row.dematerialisation === 1 }));
}

/** The last successful publication: its snapshot (JSON, as recorded) and when it was published. */
export function lastPublication(db: Db): { snapshotJson: string; publishedAt: number } | undefined {
  return cachedStatement(
    db,
    `SELECT snapshot AS snapshotJson, published_at AS publishedAt FROM directory_publications WHERE status = 'published'
     ORDER BY id DESC LIMIT 1`,
  ).get() as { snapshotJson: string; publishedAt: number } | undefined;
}

/** Records a publication run as 'pending' while its senders run; returns its id. */
export function startPublication(db: Db, startedAt: number, snapshotJson: string, diffJson: string): number {
  return Number(
    cachedStatement(db, `INSERT INTO directory_publications (started_at, status, snapshot, diff) VALUES (?, 'pending', ?, ?)`).run(
      startedAt,
      snapshotJson,
      diffJson,
    ).lastInsertRowid,
  );
}

/** A sender refused the publication: it is not the reference for the next diff. */
export function markPublicationFailed(db: Db, publicationId: number): void {
  cachedStatement(db, `UPDATE directory_publications SET status = 'failed' WHERE id = ?`).run(publicationId);
}

/** Every sender accepted the publication: its snapshot is the reference for the next diff. */
export function markPublicationPublished(db: Db, publicationId: number, publishedAt: number): void {
  cachedStatement(db, `UPDATE directory_publications SET status = 'published', published_at = ? WHERE id = ?`).run(
    publishedAt,
    publicationId,
  );
}
