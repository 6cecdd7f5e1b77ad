-- HMIS fidelity (DESIGN §12.3): every record that came from the HMIS keeps the row as it was
-- received (its columns with a value, by HUD name, as JSON) and the values Scanline holds of it
-- as the import stored them. The export writes the received row back, with only what Scanline
-- itself changed written over it. Records Scanline made have neither.
ALTER TABLE organizations ADD COLUMN hmis_kept TEXT;
ALTER TABLE organizations ADD COLUMN hmis_owned TEXT;
ALTER TABLE programs ADD COLUMN hmis_kept TEXT;
ALTER TABLE programs ADD COLUMN hmis_owned TEXT;
ALTER TABLE clients ADD COLUMN hmis_kept TEXT;
ALTER TABLE clients ADD COLUMN hmis_owned TEXT;
ALTER TABLE enrollments ADD COLUMN hmis_kept TEXT;
ALTER TABLE enrollments ADD COLUMN hmis_owned TEXT;
ALTER TABLE enrollments ADD COLUMN hmis_exit_kept TEXT;
ALTER TABLE enrollments ADD COLUMN hmis_exit_owned TEXT;
ALTER TABLE services ADD COLUMN hmis_kept TEXT;
ALTER TABLE services ADD COLUMN hmis_owned TEXT;

-- The HMIS's users (User.csv), kept as received, so that the users the kept records name go
-- back with them.
CREATE TABLE hmis_users (
    user_id TEXT PRIMARY KEY,
    kept TEXT NOT NULL
) STRICT;
