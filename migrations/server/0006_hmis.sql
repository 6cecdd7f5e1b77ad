-- HMIS interchange: the HMIS's own IDs and DateUpdated on every record that comes from it, so
-- a re-import finds its records and the newer DateUpdated wins; the ClientTrack service code and
-- unit of measure of each service type; the HMIS user and sharing setting an organization's
-- batch uploads carry.
ALTER TABLE organizations ADD COLUMN hmis_updated_at TEXT;
ALTER TABLE organizations ADD COLUMN hmis_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN hmis_restrict_org TEXT NOT NULL DEFAULT 'Restrict to MOU/Info Release';
CREATE UNIQUE INDEX organizations_by_hmis_id ON organizations (hmis_organization_id)
    WHERE hmis_organization_id IS NOT NULL;

ALTER TABLE programs ADD COLUMN hmis_updated_at TEXT;
CREATE UNIQUE INDEX programs_by_hmis_id ON programs (hmis_project_id)
    WHERE hmis_project_id IS NOT NULL;

ALTER TABLE clients ADD COLUMN hmis_updated_at TEXT;

ALTER TABLE enrollments ADD COLUMN hmis_updated_at TEXT;
ALTER TABLE enrollments ADD COLUMN hmis_exit_id TEXT;
ALTER TABLE enrollments ADD COLUMN hmis_exit_updated_at TEXT;
CREATE UNIQUE INDEX enrollments_by_hmis_exit_id ON enrollments (hmis_exit_id)
    WHERE hmis_exit_id IS NOT NULL;

ALTER TABLE services ADD COLUMN hmis_services_id TEXT;
ALTER TABLE services ADD COLUMN hmis_updated_at TEXT;
CREATE UNIQUE INDEX services_by_hmis_id ON services (hmis_services_id)
    WHERE hmis_services_id IS NOT NULL;

-- ClientTrack's unit of measure: C count, D dollars, M minutes, H hours.
ALTER TABLE service_types ADD COLUMN unit_of_measure TEXT NOT NULL DEFAULT 'C'
    CHECK (unit_of_measure IN ('C', 'D', 'M', 'H'));

-- An import may delete an enrollment the HMIS deleted, and move a service to another date or
-- type: stations hear of both in their next delta.
CREATE TRIGGER roster_enrollments_del AFTER DELETE ON enrollments
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('enrollment', OLD.id); END;
CREATE TRIGGER roster_services_moved AFTER UPDATE OF date_provided, service_type_id, enrollment_id, client_id ON services
BEGIN INSERT INTO roster_changes (entity, entity_key) VALUES ('service', NEW.id); END;
