-- The export reads a program's services over a period, deleted ones too (they go out with
-- DateDeleted): the index by program and date covers every service, not only the live ones.
DROP INDEX services_by_program_date;
CREATE INDEX services_by_program_date ON services (program_id, date_provided);

-- From this version the export compares `hmis_owned` as a fingerprint of the values the import
-- stored (DESIGN §12.3); values stored earlier as JSON are still recognised.
