-- Scanline server schema, version 1.
-- Timestamps are TEXT in UTC, 'YYYY-MM-DD HH:MM:SS.SSS+00:00' (sortable); dates are TEXT
-- 'YYYY-MM-DD' in the organization's time zone. Booleans are INTEGER 0/1.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    time_zone TEXT NOT NULL,
    hmis_organization_id TEXT,
    phone TEXT NOT NULL DEFAULT '',
    return_address TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    project_type INTEGER NOT NULL CHECK (project_type BETWEEN 0 AND 99),
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0),
    capacity_policy TEXT NOT NULL DEFAULT 'enforce' CHECK (capacity_policy IN ('warn', 'enforce')),
    cutover_hour INTEGER NOT NULL DEFAULT 12 CHECK (cutover_hour BETWEEN 0 AND 23),
    enrollment_policy TEXT NOT NULL DEFAULT 'reject'
        CHECK (enrollment_policy IN ('reject', 'queue_for_intake', 'auto_enroll')),
    auto_exit_after_nights INTEGER CHECK (auto_exit_after_nights IS NULL OR auto_exit_after_nights >= 0),
    hmis_project_id TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (organization_id, name)
) STRICT;

CREATE TABLE service_types (
    id INTEGER PRIMARY KEY,
    program_id INTEGER NOT NULL REFERENCES programs(id),
    name TEXT NOT NULL,
    record_type INTEGER,
    type_provided INTEGER,
    default_units REAL NOT NULL DEFAULT 1,
    unit_value REAL NOT NULL DEFAULT 0,
    max_per_day INTEGER NOT NULL DEFAULT 1 CHECK (max_per_day >= 0),
    frequency_max INTEGER CHECK (frequency_max IS NULL OR frequency_max >= 1),
    frequency_days INTEGER CHECK (frequency_days IS NULL OR frequency_days >= 1),
    frequency_policy TEXT NOT NULL DEFAULT 'enforce' CHECK (frequency_policy IN ('warn', 'enforce')),
    hmis_service_code TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (program_id, name),
    CHECK ((frequency_max IS NULL) = (frequency_days IS NULL))
) STRICT;

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    client_number INTEGER NOT NULL UNIQUE CHECK (client_number BETWEEN 1 AND 999999999),
    personal_id TEXT UNIQUE,
    first_name TEXT NOT NULL,
    middle_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL,
    name_suffix TEXT NOT NULL DEFAULT '',
    preferred_name TEXT NOT NULL DEFAULT '',
    name_data_quality INTEGER NOT NULL DEFAULT 1,
    dob TEXT,
    dob_data_quality INTEGER NOT NULL DEFAULT 99,
    ssn TEXT,
    ssn_data_quality INTEGER NOT NULL DEFAULT 99,
    restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1)),
    photo_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX clients_by_name ON clients (last_name COLLATE NOCASE, first_name COLLATE NOCASE);
CREATE INDEX clients_by_dob ON clients (dob);
CREATE INDEX clients_by_ssn ON clients (ssn);

CREATE TABLE enrollments (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    household_id TEXT NOT NULL,
    relationship_to_hoh INTEGER NOT NULL DEFAULT 1,
    entry_date TEXT NOT NULL,
    exit_date TEXT,
    destination INTEGER,
    hmis_enrollment_id TEXT UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (exit_date IS NULL OR exit_date >= entry_date),
    CHECK ((exit_date IS NULL) = (destination IS NULL))
) STRICT;
CREATE INDEX enrollments_by_client ON enrollments (client_id, program_id);
CREATE INDEX enrollments_open_by_program ON enrollments (program_id, exit_date);

CREATE TABLE cards (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    kind TEXT NOT NULL CHECK (kind IN ('scanline', 'legacy', 'magstripe', 'prox')),
    seq INTEGER,
    issued_at TEXT NOT NULL,
    expires_on TEXT,
    replaced_by INTEGER REFERENCES cards(id),
    revoked_at TEXT,
    revoked_reason TEXT
) STRICT;
CREATE INDEX cards_by_client ON cards (client_id);

CREATE TABLE bars (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('organization', 'program', 'service_type')),
    scope_id INTEGER NOT NULL,
    begin_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    ended_early_at TEXT,
    CHECK (end_date >= begin_date)
) STRICT;
CREATE INDEX bars_by_client ON bars (client_id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
) STRICT;

CREATE TABLE user_organizations (
    user_id INTEGER NOT NULL REFERENCES users(id),
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'viewer')),
    PRIMARY KEY (user_id, organization_id)
) STRICT;

CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    -- SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_seen_at TEXT,
    UNIQUE (organization_id, name)
) STRICT;

CREATE TABLE station_programs (
    station_id INTEGER NOT NULL REFERENCES stations(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    PRIMARY KEY (station_id, program_id)
) STRICT;

CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    program_id INTEGER NOT NULL REFERENCES programs(id),
    service_date TEXT NOT NULL,
    units REAL NOT NULL,
    unit_value REAL NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    auto_post INTEGER NOT NULL DEFAULT 0,
    station_id INTEGER REFERENCES stations(id),
    created_by INTEGER REFERENCES users(id),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    created_at TEXT NOT NULL,
    closed_at TEXT,
    last_posted_at TEXT
) STRICT;

CREATE TABLE batch_service_types (
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    service_type_id INTEGER NOT NULL REFERENCES service_types(id),
    PRIMARY KEY (batch_id, service_type_id)
) STRICT;

CREATE TABLE batch_entries (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    code TEXT NOT NULL,
    card_id INTEGER REFERENCES cards(id),
    client_id INTEGER REFERENCES clients(id),
    enrollment_id INTEGER REFERENCES enrollments(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    service_date TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    station_verdict TEXT,
    verdict TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    auto_enroll INTEGER NOT NULL DEFAULT 0,
    posted_at TEXT,
    deleted_at TEXT,
    deleted_by INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX batch_entries_by_batch ON batch_entries (batch_id);
-- Accepted, unposted entries count toward duplicates and capacity like services do.
CREATE INDEX batch_entries_pending ON batch_entries (client_id, program_id, service_date)
    WHERE verdict = 'accepted' AND posted_at IS NULL AND deleted_at IS NULL;
CREATE INDEX batch_entries_pending_night ON batch_entries (program_id, service_date)
    WHERE verdict = 'accepted' AND posted_at IS NULL AND deleted_at IS NULL;

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    enrollment_id INTEGER NOT NULL REFERENCES enrollments(id),
    client_id INTEGER NOT NULL REFERENCES clients(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    service_type_id INTEGER NOT NULL REFERENCES service_types(id),
    date_provided TEXT NOT NULL,
    units REAL NOT NULL,
    unit_value REAL NOT NULL,
    batch_entry_id INTEGER REFERENCES batch_entries(id),
    station_id INTEGER REFERENCES stations(id),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    -- Services are never deleted, only marked, with who and why.
    deleted_at TEXT,
    deleted_by INTEGER REFERENCES users(id),
    deleted_reason TEXT,
    CHECK ((deleted_at IS NULL) = (deleted_reason IS NULL))
) STRICT;
-- One service per entry and service type: posting twice cannot double a record.
CREATE UNIQUE INDEX services_once_per_entry ON services (batch_entry_id, service_type_id)
    WHERE batch_entry_id IS NOT NULL;
CREATE INDEX services_by_client ON services (client_id, service_type_id, date_provided)
    WHERE deleted_at IS NULL;
CREATE INDEX services_by_program_date ON services (program_id, date_provided)
    WHERE deleted_at IS NULL;
CREATE INDEX services_by_enrollment ON services (enrollment_id);

CREATE TRIGGER services_never_deleted BEFORE DELETE ON services
BEGIN
    SELECT RAISE(ABORT, 'services are soft-deleted only');
END;

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'station', 'system', 'cli')),
    actor_id INTEGER,
    action TEXT NOT NULL,
    client_id INTEGER REFERENCES clients(id),
    subject TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_by_client ON audit_events (client_id, at);

-- Roster deltas: every change a station's validation depends on appends a row here, written
-- by triggers so no code path can forget it. A station's cursor is the last seq it has seen.
CREATE TABLE roster_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL
) STRICT;

CREATE TRIGGER roster_cards_ins AFTER INSERT ON cards
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('card', NEW.code); END;
CREATE TRIGGER roster_cards_upd AFTER UPDATE ON cards
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('card', NEW.code); END;

CREATE TRIGGER roster_clients_upd AFTER UPDATE OF first_name, last_name, preferred_name, restricted ON clients
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('client', NEW.id); END;

CREATE TRIGGER roster_enrollments_ins AFTER INSERT ON enrollments
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('enrollment', NEW.id); END;
CREATE TRIGGER roster_enrollments_upd AFTER UPDATE ON enrollments
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('enrollment', NEW.id); END;

CREATE TRIGGER roster_bars_ins AFTER INSERT ON bars
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('bar', NEW.id); END;
CREATE TRIGGER roster_bars_upd AFTER UPDATE ON bars
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('bar', NEW.id); END;

CREATE TRIGGER roster_services_ins AFTER INSERT ON services
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('service', NEW.id); END;
CREATE TRIGGER roster_services_upd AFTER UPDATE OF deleted_at ON services
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('service', NEW.id); END;

CREATE TRIGGER roster_entries_ins AFTER INSERT ON batch_entries WHEN NEW.verdict = 'accepted'
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('entry', NEW.uuid); END;
CREATE TRIGGER roster_entries_upd AFTER UPDATE OF verdict, posted_at, deleted_at ON batch_entries
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('entry', NEW.uuid); END;

CREATE TRIGGER roster_programs_ins AFTER INSERT ON programs
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('rules', NEW.id); END;
CREATE TRIGGER roster_programs_upd AFTER UPDATE ON programs
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('rules', NEW.id); END;
CREATE TRIGGER roster_service_types_ins AFTER INSERT ON service_types
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('rules', NEW.program_id); END;
CREATE TRIGGER roster_service_types_upd AFTER UPDATE ON service_types
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('rules', NEW.program_id); END;
