-- Subscriptions kept by name (RFC 3501 sections 6.3.6 and 6.3.7, RFC 9051 section 6.3.7: the
-- server MUST NOT remove a name from the subscription list because its mailbox no longer
-- exists; RFC 5258 section 3: LIST (SUBSCRIBED) shows such a name \NonExistent). Until now the
-- subscription was a column of the mailbox row, so it ended with DELETE and could not outlive a
-- RENAME. One row per subscribed name of a person's own namespace (the name as stored in
-- mailboxes.name, "/" delimiter, Unicode). ORG mailboxes keep shared_subscriptions (migration
-- 002): each member is subscribed to every ORG folder unless they unsubscribed (R6).
-- mailboxes.subscribed is no longer read.
CREATE TABLE subscriptions (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name       TEXT    NOT NULL,
  PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

-- Carry the existing subscriptions over.
INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed = 1;
