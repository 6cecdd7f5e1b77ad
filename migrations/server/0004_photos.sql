-- Client photos (DESIGN §11): re-encoded JPEGs with no metadata, and a thumbnail.
CREATE TABLE photos (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    jpeg BLOB NOT NULL,
    thumbnail BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX photos_by_client ON photos (client_id);
