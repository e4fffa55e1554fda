// ORG membership (R6): which persons are linked to an ORG box, and whether each wants that ORG's
// reception notices (R9). The links are written by the operator (`mssd org member …`) and read at
// submission (whom a person may send as) and by the box rules (whom an ORG's notices go to).
import type { BoxType } from '../policy/box-types';
import type { Db } from './database';
import { aBox, auditAccountChange as audit, getAccount, PERSON_TYPES, refuse, type AccountRow, type ChangeSource, type PersonType } from './accounts';


function getOrg(db: Db, address: string): AccountRow {
  const org = getAccount(db, address);
  if (org.type !== 'ORG') refuse(`${address} is not an ORG box (it is ${aBox(org.type)})`);
  return org;
}

/** A member is an individual account (PER, MED or INT): a secretary without RPPS (MED) is a
 * typical delegate; ORG and APP boxes cannot be members. */
function getMember(db: Db, login: string): AccountRow {
  const member = getAccount(db, login);
  if (!PERSON_TYPES.includes(member.type as PersonType)) {
    refuse(`${login} is ${aBox(member.type)}: only personal boxes (PER, MED, INT) can be ORG members`);
  }
  return member;
}

export interface Membership {
  org: string;
  member: string;
  notify: boolean;
}

export function addOrgMember(db: Db, orgAddress: string, memberLogin: string, source: ChangeSource = 'cli'): Membership {
  return db.transaction(() => {
    const org = getOrg(db, orgAddress);
    const member = getMember(db, memberLogin);
    const existing = db.prepare('SELECT 1 FROM org_members WHERE org_id = ? AND member_id = ?').get(org.id, member.id);
    if (existing) refuse(`${member.login} is already a member of ${orgAddress}`);
    // R18 (the seeds' default): a linked person is told of the ORG's receptions until they opt out.
    db.prepare('INSERT INTO org_members (org_id, member_id, notify, added_at) VALUES (?, ?, 1, ?)').run(
      org.id,
      member.id,
      Date.now(),
    );
    audit(db, org.login, 'member-added', { member: member.login }, source);
    return { org: orgAddress, member: member.login, notify: true };
  }).immediate();
}

export function removeOrgMember(db: Db, orgAddress: string, memberLogin: string, source: ChangeSource = 'cli'): void {
  db.transaction(() => {
    const org = getOrg(db, orgAddress);
    const member = getAccount(db, memberLogin);
    const result = db.prepare('DELETE FROM org_members WHERE org_id = ? AND member_id = ?').run(org.id, member.id);
    if (result.changes === 0) refuse(`${member.login} is not a member of ${orgAddress}`);
    audit(db, org.login, 'member-removed', { member: member.login }, source);
  }).immediate();
}

/**
 * A member's own switch for an ORG's reception notices (R9; on by default, R18): the opt-out of
 * `mssd org set-notify` and of the portal. Audited as `member-notify`, which is how migration 009
 * told a switch turned off from one never touched.
 */
export function setOrgMemberNotify(db: Db, orgAddress: string, memberLogin: string, notify: boolean, source: ChangeSource = 'cli'): Membership {
  return db.transaction(() => {
    const org = getOrg(db, orgAddress);
    const member = getAccount(db, memberLogin);
    const result = db
      .prepare('UPDATE org_members SET notify = ? WHERE org_id = ? AND member_id = ?')
      .run(notify ? 1 : 0, org.id, member.id);
    if (result.changes === 0) refuse(`${member.login} is not a member of ${orgAddress}`);
    audit(db, org.login, 'member-notify', { member: member.login, notify }, source);
    return { org: orgAddress, member: member.login, notify };
  }).immediate();
}

/** Members of an ORG box: their logins and notice switches. */
export function listOrgMembers(db: Db, orgId: number): Array<{ login: string; type: BoxType; notify: boolean }> {
  const rows = db
    .prepare(
      `SELECT a.login, a.type, m.notify FROM org_members m JOIN accounts a ON a.id = m.member_id
       WHERE m.org_id = ? ORDER BY a.login`,
    )
    .all(orgId) as Array<{ login: string; type: BoxType; notify: number }>;
  return rows.map((row) => ({ login: row.login, type: row.type, notify: row.notify === 1 }));
}

/** ORG boxes a person is linked to, by their MSSanté address. */
export function listMemberships(db: Db, memberId: number): Array<{ org: string; notify: boolean }> {
  const rows = db
    .prepare(
      `SELECT ad.address AS org, m.notify FROM org_members m
       JOIN addresses ad ON ad.account_id = m.org_id AND ad.kind = 'mssante'
       WHERE m.member_id = ? ORDER BY ad.address`,
    )
    .all(memberId) as Array<{ org: string; notify: number }>;
  return rows.map((row) => ({ org: row.org, notify: row.notify === 1 }));
}

