-- Beds, mats or rooms of a night-by-night program (DESIGN §16): named, grouped, with the
-- attributes that matter at the door. A bed taken out of use keeps its row (and the nights
-- slept in it) with `retired_at` set.
CREATE TABLE beds (
    id INTEGER PRIMARY KEY,
    program_id INTEGER NOT NULL REFERENCES programs(id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    grp TEXT NOT NULL DEFAULT '' CHECK (length(grp) <= 40),
    -- Short words joined by commas ("bottom bunk,accessible"); staff type them comma-separated,
    -- so no word holds one.
    attributes TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    retired_at TEXT
) STRICT;
CREATE UNIQUE INDEX beds_by_name ON beds (program_id, name) WHERE retired_at IS NULL;

-- Beds staff hold for a night or several: for a named guest, or for no one yet (a surge).
CREATE TABLE bed_holds (
    id INTEGER PRIMARY KEY,
    bed_id INTEGER NOT NULL REFERENCES beds(id),
    client_id INTEGER REFERENCES clients(id),
    first_night TEXT NOT NULL,
    last_night TEXT NOT NULL CHECK (last_night >= first_night),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    released_at TEXT,
    released_by INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX bed_holds_by_bed ON bed_holds (bed_id, last_night) WHERE released_at IS NULL;

-- The bed of a bed-night scan (given, or asked for when the verdict is bed_taken), and the bed
-- of the bed night it posted as, so a guest's usual bed outlives the batch.
ALTER TABLE batch_entries ADD COLUMN bed_id INTEGER REFERENCES beds(id);
ALTER TABLE services ADD COLUMN bed_id INTEGER REFERENCES beds(id);
CREATE INDEX services_by_bed_client ON services (client_id, program_id, date_provided)
    WHERE bed_id IS NOT NULL;

-- When a returning guest's bed stops being held, in minutes after midnight of the night.
ALTER TABLE programs ADD COLUMN bed_release_minutes INTEGER
    CHECK (bed_release_minutes IS NULL OR bed_release_minutes BETWEEN 0 AND 1439);

-- Stations get every bed and hold of their programs whenever one changes: a few dozen rows.
CREATE TRIGGER roster_beds_ins AFTER INSERT ON beds
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('beds', NEW.program_id); END;
CREATE TRIGGER roster_beds_upd AFTER UPDATE ON beds
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('beds', NEW.program_id); END;
CREATE TRIGGER roster_bed_holds_ins AFTER INSERT ON bed_holds
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('beds', NEW.bed_id); END;
CREATE TRIGGER roster_bed_holds_upd AFTER UPDATE ON bed_holds
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('beds', NEW.bed_id); END;
-- A bed given or changed on an entry is a change the stations must see.
CREATE TRIGGER roster_entries_bed AFTER UPDATE OF bed_id ON batch_entries
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('entry', NEW.uuid); END;
