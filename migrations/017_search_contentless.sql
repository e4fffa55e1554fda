-- Expunging a message cost more than indexing it (issue 12): deleting a row of the trigram FTS5
-- table body_search_text made FTS5 read the row's stored text back and tokenize it again to
-- find the entries to remove, 1 to 4 ms per body, inside the EXPUNGE's commit.
--
-- Now the folded text SEARCH compares lives in a plain table (body_search_folded, same id as
-- body_search), and the index is a contentless FTS5 table with contentless_delete=1
-- (https://sqlite.org/fts5.html#contentless_delete_tables): a delete no longer needs the text.
-- Deleting a body forgets its sort keys and folded text at once (plain rows) and only lists its
-- index entry in search_forget; the background indexer (src/store/search-index.ts) removes the
-- listed entries in batches, always before indexing new bodies in the same transaction, so a
-- body_search id that SQLite hands out again never meets an old entry. Until then the old entry
-- matches nothing: SEARCH reaches messages through body_search, which no longer has that id.
CREATE TABLE body_search_folded (
  id      INTEGER PRIMARY KEY, -- body_search.id
  subject TEXT    NOT NULL,
  headers TEXT    NOT NULL,
  body    TEXT    NOT NULL
);
INSERT INTO body_search_folded (id, subject, headers, body)
  SELECT rowid, subject, headers, body FROM body_search_text;

CREATE VIRTUAL TABLE body_search_fts USING fts5(
  subject, headers, body,
  content = '', contentless_delete = 1,
  tokenize = 'trigram remove_diacritics 1 case_sensitive 0'
);
-- Indexes once more what was indexed (a one-time cost of the upgrade, the same as indexing).
INSERT INTO body_search_fts (rowid, subject, headers, body)
  SELECT id, subject, headers, body FROM body_search_folded;

DROP TRIGGER bodies_forget_search;
DROP TABLE body_search_text;

CREATE TABLE search_forget (
  id INTEGER PRIMARY KEY -- a body_search.id whose body_search_fts entry is to be removed
);

CREATE TRIGGER bodies_forget_search AFTER DELETE ON bodies
BEGIN
  INSERT OR IGNORE INTO search_forget (id) SELECT id FROM body_search WHERE hash = OLD.hash;
  DELETE FROM body_search_folded WHERE id = (SELECT id FROM body_search WHERE hash = OLD.hash);
  DELETE FROM body_search WHERE hash = OLD.hash;
END;
