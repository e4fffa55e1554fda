-- Full-text indexing after the fact (issue 12, as Dovecot's fts indexes after delivery;
-- src/store/search-index.ts, src/jobs/search-indexer.ts).
--
-- Storing a body for a mailbox message no longer indexes it (the trigram FTS5 entry cost most
-- of an APPEND's CPU): it records the body here, in the same transaction, and the daemon's
-- background indexer indexes it shortly after and removes the row. SEARCH stays exact
-- meanwhile: its candidates are the index's matches plus the mailbox's messages whose body is
-- listed here (checked by decoding them); SORT/THREAD read a pending body's keys from its header.
-- A body deleted before it was indexed (expunge, purge) leaves no row (trigger below).
CREATE TABLE search_pending (
  id        INTEGER PRIMARY KEY, -- indexing order: oldest first
  hash      TEXT    NOT NULL UNIQUE,
  -- when the body was stored (ms since the epoch): the indexer lets a new body settle a moment
  -- first, so that a message expunged soon after (a draft saved again, a copy moved on) is never
  -- indexed at all; 0 for the bodies listed by this migration
  queued_at INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER bodies_forget_search_pending AFTER DELETE ON bodies
BEGIN
  DELETE FROM search_pending WHERE hash = OLD.hash;
END;

-- The bodies of mailbox messages not indexed yet (stored before migrations 010/012 or while the
-- backfill ran) are pending like any new one: one mechanism, and no global "index complete" flag.
INSERT INTO search_pending (hash)
  SELECT b.hash FROM bodies b
  WHERE EXISTS (SELECT 1 FROM messages m WHERE m.body_hash = b.hash)
    AND NOT EXISTS (SELECT 1 FROM body_search s WHERE s.hash = b.hash);

DROP TABLE search_index_state;
