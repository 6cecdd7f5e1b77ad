-- An enrollment's services by night: the import asks, for each bed night it reads, whether
-- Scanline already holds one for that enrollment and night, and the checks of an import ask
-- the same of entry and exit nights. Keyed by the enrollment alone, each of those questions
-- read every service of the enrollment; this index answers it directly and serves every
-- question by enrollment the old one did.
DROP INDEX services_by_enrollment;
CREATE INDEX services_by_enrollment_night ON services (enrollment_id, date_provided);
