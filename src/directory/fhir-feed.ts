// The national directory feed in the ANS "API MSSanté" format (R13; DESIGN.md "National directory
// feed"; IG github ansforge/interop-ig-fhir-api-messagerie-securisee-sante,
// input/pagecontent/spec-technique-flux-alimentation.md). A BAL is a `telecom` ContactPoint of its
// carrier resource — Practitioner (PER, by RPPS) or Organization (ORG, by FINESS) — with the
// extension as-ext-mailbox-mss-metadata (IG Annuaire, ASMailboxMetadataExtension.fsh). Each change
// is one conditional FHIR Patch (`Parameters` of operations, FHIRPath paths) on the carrier:
//   - insert: a box the national directory does not have yet (new PER/ORG, a MED that became PER);
//   - replace: the whole ContactPoint of a box whose metadata changed (the IG's "mise à jour de
//     l'attribut telecom en entier": listeRouge, description, service, responsible, digitization
//     in one operation; the address and the type stay as they are, which the IG requires);
//   - delete: a box that left the feed (removed, suspended, no longer PER/ORG).
// A box on the liste rouge stays in the feed with listeRouge = true: the IG's model is that the
// national directory knows the box and withholds it (spec-fonctionnelle-alimentation.md).
// Pure functions: the store supplies the boxes, src/directory/fhir-publish.ts sends and records.

export const MAILBOX_METADATA_URL = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata';
/** RPPS carrier identifier system (idnatps = "8" + RPPS). */
export const IDNATPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
export const FINESS_SYSTEM = 'https://finess.esante.gouv.fr';
/** Code system of the BAL type codes (TRE-R257-TypeBAL, bound through JDV-J139-TypeBAL-RASS). */
export const BAL_TYPE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL';

/** One box as the national directory should know it. */
export interface FhirBox {
  address: string;
  type: 'PER' | 'ORG';
  /** RPPS (PER) or FINESS (ORG). */
  identifier: string;
  listeRouge: boolean;
  description: string | null;
  service: string | null;
  /** ORG: its responsible professional (we hold their RPPS); PER: null. */
  responsible: string | null;
  dematerialisation: boolean;
}

export type FhirChange =
  | { kind: 'insert'; box: FhirBox }
  | { kind: 'replace'; before: FhirBox; box: FhirBox }
  | { kind: 'delete'; box: FhirBox };

interface Extension {
  url: string;
  valueString?: string;
  valueBoolean?: boolean;
  valueCodeableConcept?: { coding: Array<{ system: string; code: string }> };
  extension?: Extension[];
}

export interface ContactPoint {
  system: 'email';
  value: string;
  extension: Extension[];
}

type OperationPart =
  | { name: 'type'; valueCode: 'insert' | 'replace' | 'delete' }
  | { name: 'path'; valueString: string }
  | { name: 'index'; valueInteger: number }
  | { name: 'value'; valueContactPoint: ContactPoint };

export interface PatchParameters {
  resourceType: 'Parameters';
  parameter: Array<{ name: 'operation'; part: OperationPart[] }>;
}

export interface BatchEntry {
  resource: PatchParameters;
  request: { method: 'PATCH'; url: string };
}

export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'batch';
  timestamp: string;
  entry: BatchEntry[];
}

const FIELDS: Array<keyof FhirBox> = ['address', 'type', 'identifier', 'listeRouge', 'description', 'service', 'responsible', 'dematerialisation'];
const keyOf = (box: FhirBox) => box.address.toLowerCase();
const sameBox = (a: FhirBox, b: FhirBox) => FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));

/** What to tell the national directory so that it goes from `accepted` to `current`, by address. */
export function fhirChanges(accepted: FhirBox[], current: FhirBox[]): FhirChange[] {
  const before = new Map(accepted.map((box) => [keyOf(box), box]));
  const after = new Map(current.map((box) => [keyOf(box), box]));
  const changes: FhirChange[] = [];
  for (const [key, box] of after) {
    const old = before.get(key);
    if (!old) changes.push({ kind: 'insert', box });
    else if (old.type !== box.type || old.identifier !== box.identifier) {
      // Another carrier resource: the box leaves the old one and joins the new one.
      changes.push({ kind: 'delete', box: old }, { kind: 'insert', box });
    } else if (!sameBox(old, box)) changes.push({ kind: 'replace', before: old, box });
  }
  for (const [key, box] of before) if (!after.has(key)) changes.push({ kind: 'delete', box });
  return changes.sort((a, b) => keyOf(a.box).localeCompare(keyOf(b.box)));
}

function resourceOf(box: FhirBox): 'Practitioner' | 'Organization' {
  return box.type === 'PER' ? 'Practitioner' : 'Organization';
}

/** The conditional PATCH target: the carrier by its national identifier. */
export function carrierUrl(box: FhirBox): string {
  return box.type === 'PER'
    ? `Practitioner?identifier=${IDNATPS_SYSTEM}|8${box.identifier}`
    : `Organization?identifier=${FINESS_SYSTEM}|${box.identifier}`;
}

/** The box as a ContactPoint with its metadata extension (sub-extensions as the FSH profile names them). */
export function contactPoint(box: FhirBox): ContactPoint {
  const meta: Extension[] = [{ url: 'type', valueCodeableConcept: { coding: [{ system: BAL_TYPE_SYSTEM, code: box.type }] } }];
  if (box.description) meta.push({ url: 'description', valueString: box.description });
  if (box.service) meta.push({ url: 'service', valueString: box.service });
  if (box.responsible) meta.push({ url: 'responsible', valueString: box.responsible });
  meta.push({ url: 'digitization', valueBoolean: box.dematerialisation });
  meta.push({ url: 'listeRouge', valueBoolean: box.listeRouge });
  return { system: 'email', value: box.address, extension: [{ url: MAILBOX_METADATA_URL, extension: meta }] };
}

/** FHIRPath string literal (single quotes, backslash escapes). */
function fhirPathString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The one FHIR Patch operation of a change. */
export function patchOperation(change: FhirChange): PatchParameters['parameter'][number] {
  const resource = resourceOf(change.box);
  const telecom = `${resource}.telecom.where(value = ${fhirPathString(change.box.address)})`;
  switch (change.kind) {
    case 'insert':
      return {
        name: 'operation',
        part: [
          { name: 'type', valueCode: 'insert' },
          { name: 'path', valueString: `${resource}.telecom` },
          { name: 'index', valueInteger: 0 },
          { name: 'value', valueContactPoint: contactPoint(change.box) },
        ],
      };
    case 'replace':
      return {
        name: 'operation',
        part: [
          { name: 'type', valueCode: 'replace' },
          { name: 'path', valueString: telecom },
          { name: 'value', valueContactPoint: contactPoint(change.box) },
        ],
      };
    case 'delete':
      return { name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: telecom }] };
  }
}

/** One batch entry: a conditional PATCH of the carrier with one operation. */
export function batchEntry(change: FhirChange): BatchEntry {
  return {
    resource: { resourceType: 'Parameters', parameter: [patchOperation(change)] },
    request: { method: 'PATCH', url: carrierUrl(change.box) },
  };
}

/** The FHIR R4 batch Bundle of a publication's changes. */
export function fhirBundle(changes: FhirChange[], at: Date): FhirBundle {
  return { resourceType: 'Bundle', type: 'batch', timestamp: at.toISOString(), entry: changes.map(batchEntry) };
}
