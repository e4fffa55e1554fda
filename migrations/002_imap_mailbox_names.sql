-- IMAP mailbox management (src/store/imap-mailboxes.ts, src/store/mailbox-view.ts).

-- Names a mailbox no longer carries (deleted, or renamed away), with the highest UIDVALIDITY and
-- mailbox id they had. RFC 3501 section 2.3.1.1: a mailbox created again under an old name must
-- get a UIDVALIDITY greater than the one the name had before, and clients cache per name; the
-- mailbox id of a deleted mailbox is never handed out again by the IMAP store, so an open session
-- that still holds it cannot end up in somebody else's mailbox.
CREATE TABLE retired_mailbox_names (
  account_id  INTEGER NOT NULL,
  name        TEXT    NOT NULL,
  mailbox_id  INTEGER NOT NULL,
  uidvalidity INTEGER NOT NULL,
  retired_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE INDEX retired_mailbox_names_id ON retired_mailbox_names(mailbox_id);
CREATE INDEX retired_mailbox_names_uidvalidity ON retired_mailbox_names(uidvalidity);
-- MAX(uidvalidity) for each new mailbox without a scan.
CREATE INDEX mailboxes_uidvalidity ON mailboxes(uidvalidity);

CREATE TRIGGER mailboxes_retire_deleted AFTER DELETE ON mailboxes
BEGIN
  INSERT INTO retired_mailbox_names (account_id, name, mailbox_id, uidvalidity, retired_at)
  VALUES (OLD.account_id, OLD.name, OLD.id, OLD.uidvalidity, CAST(unixepoch('subsec') * 1000 AS INTEGER))
  ON CONFLICT (account_id, name) DO UPDATE SET
    mailbox_id  = max(mailbox_id, excluded.mailbox_id),
    uidvalidity = max(uidvalidity, excluded.uidvalidity),
    retired_at  = excluded.retired_at;
END;

CREATE TRIGGER mailboxes_retire_renamed AFTER UPDATE OF name ON mailboxes
WHEN OLD.name <> NEW.name
BEGIN
  INSERT INTO retired_mailbox_names (account_id, name, mailbox_id, uidvalidity, retired_at)
  VALUES (OLD.account_id, OLD.name, OLD.id, OLD.uidvalidity, CAST(unixepoch('subsec') * 1000 AS INTEGER))
  ON CONFLICT (account_id, name) DO UPDATE SET
    mailbox_id  = max(mailbox_id, excluded.mailbox_id),
    uidvalidity = max(uidvalidity, excluded.uidvalidity),
    retired_at  = excluded.retired_at;
END;

-- A new mailbox row has no expunge history: if some other code path ever reuses the id of a
-- deleted mailbox (SQLite hands out max(rowid)+1), its old expunge records must not leak into the
-- new one's CONDSTORE resynchronisation.
CREATE TRIGGER mailboxes_fresh_expunge_history AFTER INSERT ON mailboxes
BEGIN
  DELETE FROM expunged WHERE mailbox_id = NEW.id;
END;

-- Subscriptions of ORG members to the ORG's mailboxes (R6). mailboxes.subscribed is one flag per
-- mailbox row, right for a person's own mailboxes but shared by every member for an ORG box:
-- each member's choice is kept here instead. No row = subscribed (the ORG's folders show up in a
-- new member's Outlook without any action).
CREATE TABLE shared_subscriptions (
  member_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  subscribed INTEGER NOT NULL,
  PRIMARY KEY (member_id, mailbox_id)
);
CREATE INDEX shared_subscriptions_mailbox ON shared_subscriptions(mailbox_id);

-- The IMAP message index (imap-messages.ts messageIndex, STATUS counts) read from the index
-- alone: SELECT of a 100 000-message folder must not touch the message rows, which carry the
-- envelope and structure and lie scattered among other mailboxes' rows. Costs one more index
-- entry per message written and per flag change.
CREATE INDEX messages_flags_by_uid ON messages(mailbox_id, uid, flags, modseq, keywords);
