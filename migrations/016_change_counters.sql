-- R16 "at once", cheaply (issue 12): an open IMAP session re-checks its credentials before every
-- command (box active, device not revoked, person still active and linked to the ORG box:
-- src/store/devices.ts loginInvalidity). This counter moves with every change to the rows that
-- check reads, whichever connection or process makes it (portal, CLI, another IMAP worker), in
-- the same transaction: a session compares one number and runs the full check only when it
-- moved. Inserts are left out: a new row can make no open session's credentials stop holding.
CREATE TABLE credential_changes (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  counter INTEGER NOT NULL
);
INSERT INTO credential_changes (id, counter) VALUES (1, 0);

CREATE TRIGGER accounts_credentials_updated AFTER UPDATE OF id, status, type ON accounts
BEGIN
  UPDATE credential_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_credentials_deleted AFTER DELETE ON accounts
BEGIN
  UPDATE credential_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER devices_credentials_updated AFTER UPDATE OF id, account_id, secret_sha256 ON devices
BEGIN
  UPDATE credential_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER devices_credentials_deleted AFTER DELETE ON devices
BEGIN
  UPDATE credential_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER org_members_credentials_updated AFTER UPDATE OF org_id, member_id ON org_members
BEGIN
  UPDATE credential_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER org_members_credentials_deleted AFTER DELETE ON org_members
BEGIN
  UPDATE credential_changes SET counter = counter + 1 WHERE id = 1;
END;

-- The same for what LIST shows (src/store/mailbox-view.ts listMailboxes): the mailboxes' names
-- and special use, subscriptions, and the ORG boxes a person sees (links, ORG status, the
-- address that names them). Not the messages: APPEND, STORE and EXPUNGE update other columns
-- of mailboxes, which these triggers do not watch. A session keeps its last listing while the
-- counter stays the same.
CREATE TABLE listing_changes (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  counter INTEGER NOT NULL
);
INSERT INTO listing_changes (id, counter) VALUES (1, 0);

CREATE TRIGGER mailboxes_listing_inserted AFTER INSERT ON mailboxes
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER mailboxes_listing_deleted AFTER DELETE ON mailboxes
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER mailboxes_listing_updated AFTER UPDATE OF id, account_id, name, special_use ON mailboxes
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER subscriptions_listing_inserted AFTER INSERT ON subscriptions
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER subscriptions_listing_deleted AFTER DELETE ON subscriptions
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER subscriptions_listing_updated AFTER UPDATE ON subscriptions
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER shared_subscriptions_listing_inserted AFTER INSERT ON shared_subscriptions
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER shared_subscriptions_listing_deleted AFTER DELETE ON shared_subscriptions
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER shared_subscriptions_listing_updated AFTER UPDATE ON shared_subscriptions
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER org_members_listing_inserted AFTER INSERT ON org_members
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER org_members_listing_deleted AFTER DELETE ON org_members
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER org_members_listing_updated AFTER UPDATE OF org_id, member_id ON org_members
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_listing_inserted AFTER INSERT ON accounts
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_listing_deleted AFTER DELETE ON accounts
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER accounts_listing_updated AFTER UPDATE OF id, type, status ON accounts
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER addresses_listing_inserted AFTER INSERT ON addresses
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER addresses_listing_deleted AFTER DELETE ON addresses
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER addresses_listing_updated AFTER UPDATE ON addresses
BEGIN
  UPDATE listing_changes SET counter = counter + 1 WHERE id = 1;
END;
