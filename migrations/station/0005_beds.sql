-- Beds of the station's programs and the holds staff put on them (DESIGN §16), as the server
-- sends them: whole, whenever one changes.
CREATE TABLE roster_beds (
    id INTEGER PRIMARY KEY,
    program_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    grp TEXT NOT NULL,
    attributes TEXT NOT NULL,
    position INTEGER NOT NULL
) STRICT;
CREATE TABLE roster_bed_holds (
    id INTEGER PRIMARY KEY,
    bed_id INTEGER NOT NULL,
    client_id INTEGER,
    first_night TEXT NOT NULL,
    last_night TEXT NOT NULL
) STRICT;
-- The bed of each bed night the server knows of, and of each scan here.
ALTER TABLE roster_served ADD COLUMN bed_id INTEGER;
ALTER TABLE entries ADD COLUMN bed_id INTEGER;
CREATE INDEX entries_by_night ON entries (program_id, service_date) WHERE bed_id IS NOT NULL;

-- The outbox also carries a bed staff changed on an entry already sent ('bed'). SQLite cannot
-- change a CHECK, so the table is rebuilt with every row it held.
CREATE TABLE outbox_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL
        CHECK (kind IN ('create_batch', 'delete_entry', 'revalidate', 'post', 'close',
                        'anonymous', 'bed')),
    batch_uuid TEXT NOT NULL,
    entry_uuid TEXT,
    after_entry INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at TEXT,
    failed_at TEXT
) STRICT;
INSERT INTO outbox_new (seq, kind, batch_uuid, entry_uuid, after_entry, created_at, attempts,
                        last_error, done_at, failed_at)
    SELECT seq, kind, batch_uuid, entry_uuid, after_entry, created_at, attempts, last_error,
           done_at, failed_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL AND failed_at IS NULL;

-- The roster held has no beds yet: the next refresh takes a whole snapshot.
INSERT OR REPLACE INTO meta (key, value) VALUES ('snapshot_wanted', '1');
