// The entries this operator hands to the national directory (R13): one per MSSanté address of a
// PER or ORG box that is active and not on the liste rouge. MED boxes have no MSSanté address and
// stay local; INT boxes are never published (R2); APP boxes are out of scope here.
import type { Db } from '../store/database';

export type PublishedType = 'PER' | 'ORG';

export interface DirectoryEntry {
  address: string;
  type: PublishedType;
  /** RPPS for PER, FINESS for ORG. */
  identifier: string | null;
  /** Null for ORG boxes. */
  firstName: string | null;
  /** The person's last name; for an ORG box, the organisation's name. */
  lastName: string | null;
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  /** The box accepts dematerialised documents (dématérialisation). */
  dematerialisation: boolean;
}

interface EntryRow {
  address: string;
  type: PublishedType;
  rpps: string | null;
  finess: string | null;
  first_name: string | null;
  last_name: string | null;
  org_name: string | null;
  profession: string | null;
  structure: string | null;
  service: string | null;
  description: string | null;
  dematerialisation: number;
}

/** Every entry to publish nationally now, ordered by address (addresses compare case-insensitively). */
export function nationalEntries(db: Db): DirectoryEntry[] {
  const rows = db
    .prepare(
      `SELECT ad.address, a.type, a.rpps, a.finess, a.first_name, a.last_name, a.org_name, a.profession,
              a.structure, a.service, a.description, a.dematerialisation
       FROM accounts a JOIN addresses ad ON ad.account_id = a.id AND ad.kind = 'mssante'
       WHERE a.type IN ('PER', 'ORG') AND a.status = 'active' AND a.national_directory = 1
       ORDER BY lower(ad.address)`,
    )
    .all() as EntryRow[];
  return rows.map((row) => {
    const isOrg = row.type === 'ORG';
    return {
      address: row.address,
      type: row.type,
      identifier: isOrg ? row.finess : row.rpps,
      firstName: isOrg ? null : row.first_name,
      lastName: isOrg ? row.org_name : row.last_name,
      profession: isOrg ? null : row.profession,
      structure: row.structure,
      service: row.service,
      description: row.description,
      dematerialisation: row.dematerialisation === 1,
    };
  });
}
