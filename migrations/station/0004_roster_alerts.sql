-- Alerts on clients, as the server sends them to stations: the kind and the short text staff
-- marked for stations (never the note behind it), the period and the programs it shows in
-- (a JSON array; empty for every program). Shown beside a verdict on the staff kiosk only.
CREATE TABLE roster_alerts (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    begin_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    program_ids TEXT NOT NULL
) STRICT;
CREATE INDEX roster_alerts_by_client ON roster_alerts (client_id);
-- The roster held has no alerts yet: the next refresh takes a whole snapshot.
INSERT OR REPLACE INTO meta (key, value) VALUES ('snapshot_wanted', '1');
