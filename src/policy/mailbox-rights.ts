// Who may do what in a mailbox, in the terms of IMAP ACL (RFC 4314 section 2.1). mssd has no
// per-folder rights a client could change: they follow from ownership and from R6 (a person
// linked to an ORG box works in its folders as in their own box). This module states that rule
// once; the IMAP commands MYRIGHTS, GETACL and LISTRIGHTS report it.
//
// Rights (RFC 4314 section 2.1): l lookup, r read, s keep \Seen, w write other flags, i insert
// (APPEND, COPY into), p post, k create folders below, x delete/rename the folder, t set
// \Deleted, e EXPUNGE, a administer (read the ACL with GETACL and LISTRIGHTS).

/** How the logged-in account stands to the box that holds a mailbox. */
export type BoxRelation =
  /** The box is the account's own (a person's box, or an ORG box logged into with its token). */
  | 'owner'
  /** A person linked to the ORG box that holds the mailbox (R6). */
  | 'member'
  /** Anyone else: no access at all (the mailbox is not even visible). */
  | 'none';

/** Everything RFC 4314 defines: the owner of a box has it all. */
export const OWNER_RIGHTS = 'lrswipkxtea';
/**
 * What mssd lets a linked person do in an ORG box's folders (src/store/imap-mailboxes.ts: create,
 * rename and delete folders there, as in their own box; every message command): all but
 * administering, because who is linked is decided by the operator (`mssd org link`), and the
 * list of the other members is not theirs to read.
 */
export const MEMBER_RIGHTS = 'lrswipkxte';

export function rightsOf(relation: BoxRelation): string {
  return relation === 'owner' ? OWNER_RIGHTS : relation === 'member' ? MEMBER_RIGHTS : '';
}

/** Whether `rights` holds the right `right` (one letter). */
export function hasRight(rights: string, right: string): boolean {
  return rights.includes(right);
}
