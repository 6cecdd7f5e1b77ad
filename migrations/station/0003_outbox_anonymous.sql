-- The outbox also carries the count of guests served without a card ("anonymous"), so it
-- reaches the server with the batch. SQLite cannot change a CHECK, so the table is rebuilt
-- with every row it held.
CREATE TABLE outbox_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL
        CHECK (kind IN ('create_batch', 'delete_entry', 'revalidate', 'post', 'close',
                        'anonymous')),
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
-- Batches counted before this version send their count once.
INSERT INTO outbox (kind, batch_uuid, after_entry, created_at)
    SELECT 'anonymous', uuid, (SELECT COALESCE(MAX(seq), 0) FROM entries), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    FROM batches WHERE anonymous > 0;
