-- A service an HMIS import adds from years back is no roster change: no station's verdict can
-- use it, and a change row for each of a million of them made the import's landing write a
-- million more rows, and every station's next delta carry them all. While an import lands,
-- `roster_quiet` holds its today (store::roster::quiet_history); a service it adds from before
-- its type's limit window (one day where there is none), two days more for time zones and a
-- night begun yesterday, writes no change. The table is empty at any other time, and every
-- service then is a change as before.
CREATE TABLE roster_quiet (today TEXT NOT NULL) STRICT;
DROP TRIGGER roster_services_ins;
CREATE TRIGGER roster_services_ins AFTER INSERT ON services
WHEN NOT EXISTS (
    SELECT 1 FROM roster_quiet q JOIN service_types st ON st.id = NEW.service_type_id
    WHERE NEW.date_provided < date(q.today, printf('-%d days', 2 + COALESCE(st.frequency_days, 1))))
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('service', NEW.id); END;
