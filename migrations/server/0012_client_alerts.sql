-- Alerts staff put on a client (mail waiting, see case manager, medical, safety), shown beside
-- a scan's verdict on staff screens and never to the guest. `note` stays on the server;
-- stations get the kind and, when staff marked it for stations, `station_text`.
CREATE TABLE client_alerts (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    -- The organization whose staff put it; only its staff see it, only its stations get it.
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    kind TEXT NOT NULL CHECK (kind IN ('mail', 'case_manager', 'medical', 'safety')),
    note TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 500),
    station_text TEXT CHECK (station_text IS NULL OR length(station_text) BETWEEN 1 AND 60),
    begin_date TEXT NOT NULL,
    end_date TEXT NOT NULL CHECK (end_date >= begin_date),
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    ended_at TEXT,
    ended_by INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX client_alerts_by_client ON client_alerts (client_id, end_date);
CREATE INDEX client_alerts_by_org ON client_alerts (organization_id, end_date);

-- The programs an alert is shown in; none for every program of its organization.
CREATE TABLE client_alert_programs (
    alert_id INTEGER NOT NULL REFERENCES client_alerts(id),
    program_id INTEGER NOT NULL REFERENCES programs(id),
    PRIMARY KEY (alert_id, program_id)
) STRICT;

CREATE TRIGGER roster_alerts_ins AFTER INSERT ON client_alerts
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('alert', NEW.id); END;
CREATE TRIGGER roster_alerts_upd AFTER UPDATE ON client_alerts
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('alert', NEW.id); END;
CREATE TRIGGER roster_alert_programs_ins AFTER INSERT ON client_alert_programs
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('alert', NEW.alert_id); END;
