// The `account show` view: everything the operator sees of one box in one read-only description,
// gathered from the tables that own each part (accounts, addresses, ORG links, box rules,
// mailboxes).
import { getAutoreply, listForwards } from './box-rules';
import type { BoxType } from '../policy/box-types';
import type { Db } from './database';
import { getAccount, listAddresses, type AccountRow, type AddressRow } from './accounts';
import { listMailboxesWithCounts } from './mailboxes';
import { listMemberships, listOrgMembers } from './org-members';

/** The free-text and identifier columns shown as they are stored. */
type ShownAsStored = 'login' | 'type' | 'status' | 'rpps' | 'finess' | 'profession' | 'structure' | 'service' | 'description' | 'city' | 'postcode';

export interface AccountDescription extends Pick<AccountRow, ShownAsStored> {
  hasPassword: boolean;
  addresses: AddressRow[];
  responsibleRpps: string | null;
  names: { firstName: string | null; lastName: string | null; orgName: string | null };
  visibility: { localDirectory: boolean; nationalDirectory: boolean };
  dematerialisation: boolean;
  notifications: { each: boolean; daily: boolean; opening: boolean };
  /** For a person: the ORG boxes they are linked to (by MSSanté address). */
  orgs: string[];
  /** For a person: the same ORG boxes with their switch for that ORG's reception notices (R9). */
  memberships: Array<{ org: string; notify: boolean }>;
  /** For an ORG: its members. */
  members: Array<{ login: string; type: BoxType; notify: boolean }>;
  forwards: string[];
  autoreply: { start: string; end: string; subject: string; body: string } | null;
  folders: Array<{ name: string; specialUse: string | null; messages: number }>;
  createdAt: string;
}

export function describeAccount(db: Db, address: string): AccountDescription {
  const account = getAccount(db, address);
  const reply = getAutoreply(db, account.id);
  return {
    login: account.login,
    type: account.type,
    status: account.status,
    hasPassword: account.password_hash !== null,
    addresses: listAddresses(db, account.id),
    rpps: account.rpps,
    finess: account.finess,
    responsibleRpps: account.responsible_rpps,
    names: { firstName: account.first_name, lastName: account.last_name, orgName: account.org_name },
    profession: account.profession,
    structure: account.structure,
    service: account.service,
    description: account.description,
    city: account.city,
    postcode: account.postcode,
    visibility: { localDirectory: account.local_directory === 1, nationalDirectory: account.national_directory === 1 },
    dematerialisation: account.dematerialisation === 1,
    notifications: {
      each: account.notify_each === 1,
      daily: account.notify_daily === 1,
      opening: account.notify_opening === 1,
    },
    orgs: listMemberships(db, account.id).map((membership) => membership.org),
    memberships: listMemberships(db, account.id),
    members: account.type === 'ORG' ? listOrgMembers(db, account.id) : [],
    forwards: listForwards(db, account.id),
    autoreply: reply && {
      start: new Date(reply.startAt).toISOString(),
      end: new Date(reply.endAt).toISOString(),
      subject: reply.subject,
      body: reply.body,
    },
    folders: listMailboxesWithCounts(db, account.id).map((box) => ({
      name: box.name,
      specialUse: box.special_use,
      messages: box.messages,
    })),
    createdAt: new Date(account.created_at).toISOString(),
  };
}
