-- Scanline station schema, version 1: roster cache, batches and entries, outbox.
-- Timestamps are UTC text (rusqlite's chrono encoding); dates are 'YYYY-MM-DD' in the
-- organization's time zone.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- The roster: only what validation needs, plus a display name (DESIGN §7).
CREATE TABLE roster_clients (
    id INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL
) STRICT;

CREATE TABLE roster_cards (
    code TEXT PRIMARY KEY,
    client_id INTEGER NOT NULL,
    replaced INTEGER NOT NULL,
    expires_on TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX roster_cards_by_client ON roster_cards (client_id);

CREATE TABLE roster_enrollments (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    entry_date TEXT NOT NULL,
    exit_date TEXT
) STRICT;
CREATE INDEX roster_enrollments_by_client ON roster_enrollments (client_id, program_id);

CREATE TABLE roster_bars (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_id INTEGER NOT NULL,
    begin_date TEXT NOT NULL,
    end_date TEXT NOT NULL
) STRICT;
CREATE INDEX roster_bars_by_client ON roster_bars (client_id);

CREATE TABLE roster_served (
    key TEXT PRIMARY KEY,
    client_id INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    service_type_id INTEGER NOT NULL,
    date TEXT NOT NULL,
    entry_uuid TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX roster_served_by_client ON roster_served (client_id, service_type_id, date);
CREATE INDEX roster_served_by_night ON roster_served (program_id, date);

CREATE TABLE batches (
    uuid TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    program_id INTEGER NOT NULL,
    service_date TEXT NOT NULL,
    units REAL,
    description TEXT NOT NULL DEFAULT '',
    auto_post INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    anonymous INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    post_requested_at TEXT,
    post_summary TEXT
) STRICT;

CREATE INDEX batches_open ON batches (created_at) WHERE state = 'open';

CREATE TABLE batch_service_types (
    batch_uuid TEXT NOT NULL REFERENCES batches(uuid),
    service_type_id INTEGER NOT NULL,
    PRIMARY KEY (batch_uuid, service_type_id)
) STRICT, WITHOUT ROWID;

-- Entries are never deleted, so the rowid grows with every scan: it orders uploads, and the
-- sync side keeps a cursor of the last one the server has (meta 'upload_cursor').
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    batch_uuid TEXT NOT NULL REFERENCES batches(uuid),
    source TEXT NOT NULL,
    code TEXT NOT NULL,
    client_id INTEGER,
    display_name TEXT NOT NULL DEFAULT '',
    program_id INTEGER NOT NULL,
    service_date TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    server_verdict TEXT,
    server_detail TEXT,
    uploaded_at TEXT,
    -- The server refused the upload for good: kept, with its words.
    upload_error TEXT,
    posted INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT
) STRICT;
CREATE INDEX entries_by_client ON entries (client_id, program_id, service_date);
CREATE INDEX entries_by_batch ON entries (batch_uuid, seq);

-- Work for the server other than scans (which are sent from `entries` by cursor), done in
-- order with them: an operation runs once every entry up to `after_entry` has been sent. Rows
-- are kept after they are done.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL
        CHECK (kind IN ('create_batch', 'delete_entry', 'revalidate', 'post', 'close')),
    batch_uuid TEXT NOT NULL,
    entry_uuid TEXT,
    after_entry INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at TEXT,
    failed_at TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL AND failed_at IS NULL;
