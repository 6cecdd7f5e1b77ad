-- An accepted entry's row in the roster change log is written by the upload that stores the
-- entry (store::batches::add_entries, the only door that inserts entries), in its own
-- statement. As a trigger it made every entry's insert a statement of several writes, which
-- SQLite journals page by page so that it can undo the statement alone.
DROP TRIGGER roster_entries_ins;
