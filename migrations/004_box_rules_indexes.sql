-- Box rules (R7–R9): lookups that run on the hot paths of delivery and IMAP.

-- Opening status (R9): each first \Seen of a message looks up its deliveries by Message-ID; without
-- this index every opening scanned the whole deliveries table.
CREATE INDEX deliveries_message_id ON deliveries(message_id);

-- Notices (R9): merging a reception into the pending notice of a box, and "was the opening notice of
-- this message already queued?", look a box's notices up by kind.
CREATE INDEX notices_account_kind ON notices(account_id, kind);
