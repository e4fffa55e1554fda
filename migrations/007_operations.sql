-- Operations (issue 13).
--
-- health_probe: one row the admin endpoint GET /readyz rewrites to prove the store takes writes.
CREATE TABLE health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
);

-- expunged_marks: each housekeeping run notes, per mailbox, its HIGHESTMODSEQ and the time. An
-- expunge raises the mailbox's MODSEQ (RFC 7162 section 3.2.10), so every `expunged` row with a
-- MODSEQ at or below a mark is at least as old as the mark: this dates the rows without touching
-- the delivery and expunge paths. Rows older than the kept history are trimmed.
CREATE TABLE expunged_marks (
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  at         INTEGER NOT NULL,
  modseq     INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, at)
);

-- expunged_floor: per mailbox, the highest MODSEQ whose expunges were trimmed. A client that
-- resynchronises from a MODSEQ at or below it cannot be told exactly what vanished (a QRESYNC
-- implementation then answers from the UIDs still present, RFC 7162 section 3.2.5.2).
CREATE TABLE expunged_floor (
  mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
  modseq     INTEGER NOT NULL
);

-- The expunges above a MODSEQ, per mailbox: what every IMAP session asks after each command
-- (src/store/imap-messages.ts expungedSince) and what the trimming above reads.
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);
