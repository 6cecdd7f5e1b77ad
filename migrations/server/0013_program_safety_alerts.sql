-- A program may ask that a client with a safety alert is seen by staff before being served:
-- the scan's verdict is then "see staff" at every door.
ALTER TABLE programs ADD COLUMN safety_alerts_stop INTEGER NOT NULL DEFAULT 0
    CHECK (safety_alerts_stop IN (0, 1));
