-- Batch templates (DESIGN §3): "Lunch line", "Night check-in": the day's batch in one tap.
CREATE TABLE batch_templates (
    id INTEGER PRIMARY KEY,
    program_id INTEGER NOT NULL REFERENCES programs(id),
    name TEXT NOT NULL,
    units REAL,
    unit_value REAL,
    description TEXT NOT NULL DEFAULT '',
    auto_post INTEGER NOT NULL DEFAULT 0 CHECK (auto_post IN (0, 1)),
    created_at TEXT NOT NULL,
    UNIQUE (program_id, name)
) STRICT;

CREATE TABLE batch_template_service_types (
    template_id INTEGER NOT NULL REFERENCES batch_templates(id),
    service_type_id INTEGER NOT NULL REFERENCES service_types(id),
    PRIMARY KEY (template_id, service_type_id)
) STRICT;

ALTER TABLE batches ADD COLUMN template_id INTEGER REFERENCES batch_templates(id);
