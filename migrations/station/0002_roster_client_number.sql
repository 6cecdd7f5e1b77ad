-- The client number beside the display name, for telling apart two clients whose display
-- names are the same at the no-card lookup (the number printed on the card).
ALTER TABLE roster_clients ADD COLUMN client_number TEXT NOT NULL DEFAULT '';
-- The roster held has no numbers yet: the next refresh takes a whole snapshot instead of a
-- delta, while the roster held keeps serving scans until it arrives.
INSERT OR REPLACE INTO meta (key, value) VALUES ('snapshot_wanted', '1');
