-- Self-service portal (issue 10, R16/R17): server-side web sessions and TOTP second factors.

-- One row per browser session. The cookie carries a random token; only its SHA-256 is stored, so a
-- copy of the database does not hand out live sessions. `stage` is 'password' between the password
-- and the second factor (nothing but the second-factor pages is reachable then) and 'full' after.
CREATE TABLE portal_sessions (
  token_hash       TEXT    PRIMARY KEY,
  account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  stage            TEXT    NOT NULL CHECK (stage IN ('password', 'full')),
  method           TEXT,                        -- 'password+totp' | 'password+email' | 'psc' once full
  csrf_token       TEXT    NOT NULL,            -- synchronizer token of every form of this session
  peer             TEXT,
  created_at       INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  email_code_hash  TEXT,                        -- SHA-256 of the one-time code mailed to the login
  email_code_until INTEGER,
  email_code_sent_at INTEGER,
  email_code_tries INTEGER NOT NULL DEFAULT 0,
  pending_totp_secret TEXT                      -- a secret being enrolled, until its first code
);
CREATE INDEX portal_sessions_account ON portal_sessions(account_id);
CREATE INDEX portal_sessions_last_seen ON portal_sessions(last_seen_at);

-- The TOTP secret (RFC 6238) of an account; no row = not enrolled (the next login enrols).
-- last_step: the time step of the last accepted code, so a code is never accepted twice.
CREATE TABLE second_factors (
  account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  totp_secret TEXT    NOT NULL,
  enrolled_at INTEGER NOT NULL,
  last_step   INTEGER NOT NULL DEFAULT 0
);
