-- Deleting a body (its last reference released: a purge, an expunge, a finished queue entry)
-- makes SQLite check the foreign keys that point at it: without these indexes, every deletion
-- scanned the whole messages and outbound_queue tables (seen in bench/submission: 10% of the
-- daemon's time at a few thousand messages; a purge of a million would crawl).
CREATE INDEX messages_body_hash ON messages(body_hash);
CREATE INDEX outbound_queue_body_hash ON outbound_queue(body_hash);
