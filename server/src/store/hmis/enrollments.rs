//! Enrollment.csv: enrollments found again by HMIS ID (or `SL-E`), tied to their client and program, updated when newer, deleted when the HMIS deleted them and they have no services.

use rusqlite::params;

use super::{
    Counts, EnrollmentRef, OUTSIDE, Run, StoreError, client_org, enrollment_org, find, find_client,
    newer, program_org, sql_err, tick,
};

impl Run<'_> {
    pub(super) fn enrollments(&mut self) -> Result<(), StoreError> {
        let (tx, p, opts, at, _tz) = (self.tx, self.p, self.opts, self.at, self.tz);
        let mut counts = Counts { read: p.enrollments.len() as u64, ..Counts::default() };
        // HMIS EnrollmentID -> (enrollment, client, program, project type, entry date, PersonalID).
        for (i, e) in p.enrollments.iter().enumerate() {
            tick(&mut self.progress, "Enrollment.csv", i, p.enrollments.len());
            let existing = find(tx, "enrollments", "hmis_enrollment_id", "SL-E", &e.id)?;
            if let Some((id, _)) = existing
                && !opts.allows(enrollment_org(tx, id)?)
            {
                self.cx.error(
                    &e.common,
                    "EnrollmentID",
                    &e.id,
                    &format!("the enrollment {OUTSIDE}"),
                );
                continue;
            }
            if e.common.deleted.is_some() {
                match existing {
                    Some((id, _)) => {
                        let used: i64 = tx.query_row(
                            "SELECT COUNT(*) FROM services WHERE enrollment_id = ?",
                            [id],
                            |r| r.get(0),
                        )?;
                        if used == 0 {
                            tx.execute("DELETE FROM enrollments WHERE id = ?", [id])?;
                            counts.deleted += 1;
                        } else {
                            self.cx.warn(
                                &e.common,
                                "DateDeleted",
                                "",
                                &format!(
                                    "deleted in the HMIS: kept, because it has {used} services"
                                ),
                            );
                            counts.skipped += 1;
                        }
                    }
                    None => counts.skipped += 1,
                }
                continue;
            }
            let client = match self.client_ids.get(e.personal_id.as_str()) {
                Some(id) => Some(*id),
                None => match find_client(tx, &e.personal_id)? {
                    Some((id, _)) => {
                        let (org, restricted) = client_org(tx, id)?;
                        if restricted && !opts.allows(org) {
                            self.cx.error(
                                &e.common,
                                "PersonalID",
                                &e.personal_id,
                                &format!("the client {OUTSIDE}"),
                            );
                            continue;
                        }
                        Some(id)
                    }
                    None => None,
                },
            };
            let program = match self.program_ids.get(e.project_id.as_str()) {
                Some(v) => Some(*v),
                None => match find(tx, "programs", "hmis_project_id", "SL-P", &e.project_id)? {
                    Some((id, _)) if !opts.allows(program_org(tx, id)?) => {
                        self.cx.error(
                            &e.common,
                            "ProjectID",
                            &e.project_id,
                            &format!("the program {OUTSIDE}"),
                        );
                        continue;
                    }
                    Some((id, _)) => Some((
                        id,
                        tx.query_row(
                            "SELECT project_type FROM programs WHERE id = ?",
                            [id],
                            |r| r.get(0),
                        )?,
                    )),
                    None => None,
                },
            };
            let (Some(client), Some((program, project_type))) = (client, program) else {
                if client.is_none() {
                    self.cx.error(
                        &e.common,
                        "PersonalID",
                        &e.personal_id,
                        "no such client in Client.csv or in Scanline",
                    );
                }
                if program.is_none() {
                    self.cx.error(
                        &e.common,
                        "ProjectID",
                        &e.project_id,
                        "no such project in Project.csv or in Scanline",
                    );
                }
                continue;
            };
            let id = match existing {
                Some((id, stored)) => {
                    if newer(e.common.updated, stored) {
                        let r = tx
                        .prepare_cached(
                            "UPDATE enrollments SET client_id = ?, program_id = ?, household_id = ?,
                                    relationship_to_hoh = ?, entry_date = ?, hmis_updated_at = ?, updated_at = ?
                             WHERE id = ?",
                        )?
                        .execute(params![client, program, e.household_id, e.relationship, e.entry_date, e.common.updated, at, id]);
                        match r {
                            Ok(_) => counts.updated += 1,
                            Err(rusqlite::Error::SqliteFailure(f, _))
                                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                            {
                                self.cx.error(
                                    &e.common,
                                    "EntryDate",
                                    &e.entry_date.to_string(),
                                    "after the enrollment's exit date",
                                );
                            }
                            Err(err) => return Err(sql_err(err)),
                        }
                    } else {
                        counts.unchanged += 1;
                    }
                    id
                }
                None => {
                    tx.prepare_cached(
                    "INSERT INTO enrollments (client_id, program_id, household_id, relationship_to_hoh, entry_date,
                            hmis_enrollment_id, hmis_updated_at, created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![client, program, e.household_id, e.relationship, e.entry_date, e.id, e.common.updated, e.common.created.and_utc(), at])?;
                    counts.added += 1;
                    tx.last_insert_rowid()
                }
            };
            self.enrollment_ids.insert(
                &e.id,
                EnrollmentRef {
                    id,
                    client,
                    program,
                    organization: program_org(tx, program)?,
                    project_type,
                    entry: e.entry_date,
                    personal_id: e.personal_id.clone(),
                },
            );
        }
        self.counts.push(("Enrollment.csv".to_owned(), counts));

        Ok(())
    }
}
