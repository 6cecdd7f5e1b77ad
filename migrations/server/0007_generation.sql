-- The database's generation: made when the database is, and made anew by every restore, so a
-- station can tell the server went back in time and resend what the server no longer holds.
CREATE TABLE server_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO server_meta (key, value) VALUES ('generation', lower(hex(randomblob(8))));
