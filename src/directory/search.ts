// The operator's local directory (R13): the active boxes whose owner left "local directory" on,
// searched by name, identifiers, profession, structure, place or address. Text criteria match
// case- and accent-insensitively anywhere in the field ("dupo" finds "Dupont", "helene" finds
// "Hélène"); identifiers match exactly. Each person is listed with the ORG boxes they are linked
// to (delegation, R6); ORG boxes are entries of their own. APP boxes are software, not listed.
import type { Db } from '../store/database';
import {
  listedOrganisationsOf,
  mssanteAddressesOf,
  searchListedBoxes,
  type ListedBox,
  type ListedOrganisation,
  type SearchCriteria,
} from '../store/directory';

export type { SearchCriteria };
export type LinkedOrganisation = ListedOrganisation;

/** A listed box with its MSSanté addresses (none for MED) and, for a person, the ORG boxes they are linked to. */
export interface LocalDirectoryEntry extends Omit<ListedBox, 'accountId'> {
  mssanteAddresses: string[];
  /** For a person: the ORG boxes they are linked to and that are themselves listed. */
  organisations: LinkedOrganisation[];
}

/** The listed boxes matching every given criterion, ORG and persons alike, sorted by name. */
export function searchLocalDirectory(db: Db, criteria: SearchCriteria): LocalDirectoryEntry[] {
  return searchListedBoxes(db, criteria).map((box) => ({
    type: box.type,
    login: box.login,
    mssanteAddresses: mssanteAddressesOf(db, box.accountId),
    firstName: box.firstName,
    lastName: box.lastName,
    name: box.name,
    rpps: box.rpps,
    finess: box.finess,
    profession: box.profession,
    structure: box.structure,
    service: box.service,
    description: box.description,
    city: box.city,
    postcode: box.postcode,
    organisations: box.type === 'ORG' ? [] : listedOrganisationsOf(db, box.accountId),
  }));
}
