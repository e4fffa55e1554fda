-- mssd initial schema. Times are milliseconds since the Unix epoch (UTC).
-- Addresses compare case-insensitively (COLLATE NOCASE); local parts are stored as given.

-- Boxes of every BAL type (DESIGN.md glossary). An ORG box has no password: it is reached only
-- through the personal accounts linked to it (R2, R6).
CREATE TABLE accounts (
  id                 INTEGER PRIMARY KEY,
  type               TEXT    NOT NULL CHECK (type IN ('PER', 'MED', 'INT', 'ORG', 'APP')),
  status             TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'suspended')),
  login              TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  password_hash      TEXT,
  first_name         TEXT,
  last_name          TEXT,
  org_name           TEXT,
  rpps               TEXT,
  finess             TEXT,
  responsible_rpps   TEXT,
  profession         TEXT,
  structure          TEXT,
  service            TEXT,
  description        TEXT,
  city               TEXT,
  postcode           TEXT,
  local_directory    INTEGER NOT NULL DEFAULT 1,   -- visible in the operator's directory (R13)
  national_directory INTEGER NOT NULL DEFAULT 1,   -- 0 = liste rouge (R13)
  dematerialisation  INTEGER NOT NULL DEFAULT 0,
  notify_each        INTEGER NOT NULL DEFAULT 0,   -- reception notice per delivery (R9)
  notify_daily       INTEGER NOT NULL DEFAULT 0,   -- daily digest instead (R9)
  notify_opening     INTEGER NOT NULL DEFAULT 0,   -- tell me when all recipients opened (R9)
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  CHECK (type <> 'ORG' OR password_hash IS NULL)
);
CREATE INDEX accounts_rpps ON accounts(rpps);
CREATE INDEX accounts_finess ON accounts(finess);

-- Every address a box answers to: its login (internal address) and its MSSanté address(es).
CREATE TABLE addresses (
  address    TEXT    PRIMARY KEY COLLATE NOCASE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  kind       TEXT    NOT NULL CHECK (kind IN ('login', 'mssante'))
);
CREATE INDEX addresses_account ON addresses(account_id);

-- Delegation (R6): personal accounts linked to an ORG box; `notify` is the per-ORG reception
-- notice switch of that member (R9).
CREATE TABLE org_members (
  org_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  member_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  notify     INTEGER NOT NULL DEFAULT 0,
  added_at   INTEGER NOT NULL,
  PRIMARY KEY (org_id, member_id)
);
CREATE INDEX org_members_member ON org_members(member_id);

-- Automatic forwards (R7).
CREATE TABLE forwards (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  target     TEXT    NOT NULL COLLATE NOCASE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, target)
);

-- Automatic reply (R8) and the senders already answered (RFC 3834 section 2: once per period).
CREATE TABLE autoreplies (
  account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  start_at   INTEGER NOT NULL,
  end_at     INTEGER NOT NULL,
  subject    TEXT    NOT NULL,
  body       TEXT    NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (end_at > start_at)
);
CREATE TABLE autoreply_log (
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  sender     TEXT    NOT NULL COLLATE NOCASE,
  sent_at    INTEGER NOT NULL,
  PRIMARY KEY (account_id, sender)
);

-- IMAP mailboxes (RFC 3501 section 2.3.1.1, RFC 7162, RFC 6154). `name` is the full hierarchical
-- name with '/' as delimiter; UIDVALIDITY is fixed at creation, UIDNEXT only grows.
CREATE TABLE mailboxes (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name          TEXT    NOT NULL,
  special_use   TEXT    CHECK (special_use IN ('\Sent', '\Drafts', '\Trash', '\Junk', '\Archive')),
  uidvalidity   INTEGER NOT NULL,
  uidnext       INTEGER NOT NULL DEFAULT 1,
  highestmodseq INTEGER NOT NULL DEFAULT 1,
  recent_floor  INTEGER NOT NULL DEFAULT 1,  -- lowest UID not yet shown as \Recent to a session
  subscribed    INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  UNIQUE (account_id, name)
);

-- Message contents, stored once by SHA-256 however many boxes (or queue entries) hold them.
CREATE TABLE bodies (
  hash       TEXT    PRIMARY KEY,
  size       INTEGER NOT NULL,
  refcount   INTEGER NOT NULL CHECK (refcount >= 0),
  content    BLOB    NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX bodies_unreferenced ON bodies(refcount) WHERE refcount = 0;

-- One row per SMTP transaction that was accepted: the envelope and DSN parameters (RFC 3461)
-- the later stages act on.
CREATE TABLE deliveries (
  id           INTEGER PRIMARY KEY,
  queue_id     TEXT    NOT NULL UNIQUE,
  source       TEXT    NOT NULL CHECK (source IN ('mta', 'submission', 'internal')),
  received_at  INTEGER NOT NULL,
  peer_address TEXT,
  helo         TEXT,
  tls_protocol TEXT,
  client_dn    TEXT,
  auth_login   TEXT,
  mail_from    TEXT    NOT NULL,            -- '' for the null reverse-path
  envid        TEXT,
  ret          TEXT    CHECK (ret IN ('FULL', 'HDRS')),
  message_id   TEXT,
  size         INTEGER NOT NULL
);
CREATE INDEX deliveries_received ON deliveries(received_at);
CREATE TABLE delivery_recipients (
  delivery_id  INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  address      TEXT    NOT NULL,
  orcpt        TEXT,
  notify       TEXT,                         -- e.g. 'SUCCESS,FAILURE' or 'NEVER'
  account_id   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  outcome      TEXT    NOT NULL,             -- 'delivered', 'queued'
  dsn_sent     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (delivery_id, address)
);

-- Messages in mailboxes. UID strictly increasing per mailbox, MODSEQ per RFC 7162.
-- flags: bit mask of system flags (1 \Seen, 2 \Answered, 4 \Flagged, 8 \Deleted, 16 \Draft);
-- keywords: space-separated IMAP keywords.
CREATE TABLE messages (
  id            INTEGER PRIMARY KEY,
  mailbox_id    INTEGER NOT NULL REFERENCES mailboxes(id),
  uid           INTEGER NOT NULL,
  modseq        INTEGER NOT NULL,
  flags         INTEGER NOT NULL DEFAULT 0,
  keywords      TEXT    NOT NULL DEFAULT '',
  internal_date INTEGER NOT NULL,
  arrived_at    INTEGER NOT NULL,            -- retention clock (R10), kept across moves
  size          INTEGER NOT NULL,
  body_hash     TEXT    NOT NULL REFERENCES bodies(hash),
  delivery_id   INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,
  message_id    TEXT,                        -- Message-ID header (opening status, R9)
  trash_origin  TEXT,                        -- folder a trashed message came from (R11)
  envelope      TEXT    NOT NULL,            -- cached IMAP ENVELOPE (JSON)
  structure     TEXT    NOT NULL,            -- cached MIME structure with part offsets (JSON)
  UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_arrived ON messages(arrived_at);
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);
CREATE INDEX messages_message_id ON messages(message_id);

-- Expunged UIDs, so that sessions (of this process or another) learn of removals, and for
-- CONDSTORE/QRESYNC-style resynchronisation.
CREATE TABLE expunged (
  mailbox_id INTEGER NOT NULL,
  uid        INTEGER NOT NULL,
  modseq     INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, uid)
);

-- Outbound queue: remote deliveries, forwards, automatic replies and DSNs, committed before the
-- 250 reply (R14) and worked through with retries.
CREATE TABLE outbound_queue (
  id              INTEGER PRIMARY KEY,
  queue_id        TEXT    NOT NULL UNIQUE,
  kind            TEXT    NOT NULL CHECK (kind IN ('relay', 'forward', 'autoreply', 'dsn', 'notice')),
  delivery_id     INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,
  sender_account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
  body_hash       TEXT    NOT NULL REFERENCES bodies(hash),
  mail_from       TEXT    NOT NULL,
  envid           TEXT,
  ret             TEXT,
  created_at      INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done'))
);
CREATE INDEX outbound_due ON outbound_queue(status, next_attempt_at);
CREATE TABLE outbound_recipients (
  queue_row_id INTEGER NOT NULL REFERENCES outbound_queue(id) ON DELETE CASCADE,
  address      TEXT    NOT NULL,
  domain       TEXT    NOT NULL COLLATE NOCASE,
  orcpt        TEXT,
  notify       TEXT,
  status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  last_reply   TEXT,
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (queue_row_id, address)
);

-- Audit trail of every SMTP transaction and operator action: who, to whom, when, outcome.
-- Never a message body.
CREATE TABLE audit (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  event       TEXT    NOT NULL,               -- 'smtp', 'purge', 'account', ...
  source      TEXT,
  queue_id    TEXT,
  peer        TEXT,
  auth_login  TEXT,
  mail_from   TEXT,
  recipients  TEXT,                           -- JSON array
  message_id  TEXT,
  size        INTEGER,
  outcome     TEXT    NOT NULL,
  detail      TEXT
);
CREATE INDEX audit_at ON audit(at);

-- Opening status (R9): first \Seen of a message (by Message-ID) by a local recipient box.
CREATE TABLE openings (
  message_id TEXT    NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  opened_at  INTEGER NOT NULL,
  PRIMARY KEY (message_id, account_id)
);

-- Pending notices to send through notifications.smtp (R9), durable so that a relay that is down
-- delays them without losing them.
CREATE TABLE notices (
  id          INTEGER PRIMARY KEY,
  kind        TEXT    NOT NULL CHECK (kind IN ('reception', 'opening', 'digest')),
  account_id  INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
  recipient   TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  due_at      INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  sent_at     INTEGER,
  payload     TEXT    NOT NULL               -- JSON, never health content
);
CREATE INDEX notices_due ON notices(sent_at, due_at);

-- National directory publications (R13): the snapshot last accepted, and each run's diff.
CREATE TABLE directory_publications (
  id           INTEGER PRIMARY KEY,
  started_at   INTEGER NOT NULL,
  published_at INTEGER,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'published', 'failed')),
  snapshot     TEXT    NOT NULL,
  diff         TEXT    NOT NULL
);

-- Scheduled and manual job runs (R10, R13, R9, R1 refresh).
CREATE TABLE job_runs (
  id          INTEGER PRIMARY KEY,
  job         TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  outcome     TEXT,
  counts      TEXT,
  error       TEXT
);
