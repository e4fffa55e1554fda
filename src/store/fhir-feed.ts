// What the FHIR directory feed (R13, src/directory/fhir-publish.ts) reads and records: the boxes
// to declare nationally now, and per channel the state each box was last accepted in.
import { cachedStatement, type Db } from './database';

export interface FeedBoxRow {
  address: string;
  type: 'PER' | 'ORG';
  rpps: string | null;
  finess: string | null;
  nationalDirectory: boolean;
  description: string | null;
  service: string | null;
  responsibleRpps: string | null;
  dematerialisation: boolean;
}

/**
 * Every MSSanté address of an active PER or ORG box, liste rouge included (it is declared with
 * listeRouge = true). A PER without RPPS or an ORG without FINESS cannot be targeted and is left out.
 */
export function feedBoxes(db: Db): FeedBoxRow[] {
  const rows = cachedStatement(
    db,
    `SELECT ad.address, a.type, a.rpps, a.finess, a.national_directory AS nationalDirectory, a.description, a.service,
            a.responsible_rpps AS responsibleRpps, a.dematerialisation
     FROM accounts a JOIN addresses ad ON ad.account_id = a.id AND ad.kind = 'mssante'
     WHERE a.status = 'active' AND ((a.type = 'PER' AND a.rpps IS NOT NULL) OR (a.type = 'ORG' AND a.finess IS NOT NULL))
     ORDER BY lower(ad.address)`,
  ).all() as Array<Omit<FeedBoxRow, 'nationalDirectory' | 'dematerialisation'> & { nationalDirectory: number; dematerialisation: number }>;
  return rows.map((row) => ({ ...row, nationalDirectory: row.nationalDirectory === 1, dematerialisation: row.dematerialisation === 1 }));
}

/** The boxes as `channel` last accepted them (JSON as recorded). */
export function acceptedFeedBoxes(db: Db, channel: string): string[] {
  return (cachedStatement(db, 'SELECT box FROM directory_fhir_boxes WHERE channel = ? ORDER BY lower(address)').all(channel) as Array<{ box: string }>).map(
    (row) => row.box,
  );
}

/** `channel` accepted the request for `address`: it now knows the box as `boxJson` (null = deleted). */
export function recordFeedAccepted(db: Db, channel: string, address: string, boxJson: string | null, at: number): void {
  if (boxJson === null) {
    cachedStatement(db, 'DELETE FROM directory_fhir_boxes WHERE channel = ? AND address = ?').run(channel, address);
    return;
  }
  cachedStatement(
    db,
    `INSERT INTO directory_fhir_boxes (channel, address, box, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(channel, address) DO UPDATE SET box = excluded.box, updated_at = excluded.updated_at`,
  ).run(channel, address, boxJson, at);
}
