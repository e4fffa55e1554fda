// The entries this operator hands to the national directory (R13): one per MSSanté address of a
// PER or ORG box that is active and not on the liste rouge. MED boxes have no MSSanté address and
// stay local; INT boxes are never published (R2); APP boxes are out of scope here.
import type { Db } from '../store/database';
import { publishableBoxes } from '../store/directory';

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

/** Every entry to publish nationally now, ordered by address (addresses compare case-insensitively). */
export function nationalEntries(db: Db): DirectoryEntry[] {
  return publishableBoxes(db).map((row) => {
    const isOrg = row.type === 'ORG';
    return {
      address: row.address,
      type: row.type,
      identifier: isOrg ? row.finess : row.rpps,
      firstName: isOrg ? null : row.firstName,
      lastName: isOrg ? row.orgName : row.lastName,
      profession: isOrg ? null : row.profession,
      structure: row.structure,
      service: row.service,
      description: row.description,
      dematerialisation: row.dematerialisation,
    };
  });
}
