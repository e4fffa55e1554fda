-- Full-text search for IMAP SEARCH TEXT/BODY/SUBJECT/FROM/TO/... (issue 12; src/store/search-index.ts).
--
-- One index entry per stored body (bodies are shared by SHA-256 between the boxes a message
-- reached and its copies), filled when the body is first stored for a mailbox message, gone
-- when the body is (expunge, purge, retention: the trigger below), so the index follows
-- delivery, APPEND, COPY, expunge and the purge without any code of theirs knowing about it.
--
-- Tokenizer: trigram, so that any substring of 3 characters or more can be looked up, as IMAP
-- SEARCH is a substring match (RFC 3501 section 6.4.4: "hyperglycémie" contains "glycémie");
-- remove_diacritics folds French accents ("glycemie" finds "glycémie"). The index only narrows
-- the candidates: SEARCH then checks each one exactly on the decoded message. Contentless
-- (content=''): the text is in the bodies already; contentless_delete lets rows be deleted.
CREATE TABLE body_search (
  id   INTEGER PRIMARY KEY,
  hash TEXT    NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE body_search_text USING fts5(
  subject, headers, body,
  content = '', contentless_delete = 1,
  tokenize = 'trigram remove_diacritics 1 case_sensitive 0'
);

CREATE TRIGGER bodies_forget_search AFTER DELETE ON bodies
BEGIN
  DELETE FROM body_search_text WHERE rowid = (SELECT id FROM body_search WHERE hash = OLD.hash);
  DELETE FROM body_search WHERE hash = OLD.hash;
END;

-- Bodies stored before this migration are indexed by the daemon in the background after it
-- starts (backfillSearchIndex); until that is done, SEARCH reads every message as before.
CREATE TABLE search_index_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  backfilled INTEGER NOT NULL
);
INSERT INTO search_index_state (id, backfilled) VALUES (1, NOT EXISTS (SELECT 1 FROM messages));

-- STATUS SIZE (RFC 8438) and QUOTA STORAGE (RFC 9208): the sum of message sizes of a mailbox,
-- read from this covering index instead of the message rows.
CREATE INDEX messages_size_by_mailbox ON messages(mailbox_id, size);
