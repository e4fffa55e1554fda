-- Device passwords (R16, issue 11): one row per named device of a personal box. Only the SHA-256
-- of the random secret is kept (a 120-bit random secret needs no slow hash). Revoking deletes
-- the row; the audit table keeps who added and revoked what. The last use is kept on the row
-- (rather than searched in the audit table) so `mssd device list` and the portal read it with
-- one indexed query whatever the audit retention.
CREATE TABLE devices (
  id                 INTEGER PRIMARY KEY,
  account_id         INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name               TEXT    NOT NULL,
  secret_sha256      TEXT    NOT NULL UNIQUE,
  created_at         INTEGER NOT NULL,
  last_used_at       INTEGER,
  last_used_protocol TEXT,
  last_used_peer     TEXT
);
CREATE UNIQUE INDEX devices_account_name ON devices(account_id, name COLLATE NOCASE);
