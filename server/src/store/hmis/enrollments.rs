//! Enrollment.csv: enrollments found again by HMIS ID (or `SL-E`), tied to their client and
//! program, updated when newer, deleted when the HMIS deleted them and they have no services.
//! An enrollment the HMIS sent without a HouseholdID is a household of one. Each keeps the row
//! as received.

use rusqlite::params;

use super::{
    Counts, EnrollmentRef, Kind, OUTSIDE, Run, StoreError, client_org, enrollment_org, find,
    find_client, newer, program_org, sql_err, tick,
};
use crate::hmis::model::EnrollmentRow;
use crate::hmis::model::kept::{EnrollmentOwned, Owned as _};

/// The household an enrollment is in: the HMIS's, or one of its own when it sent none.
fn household(e: &EnrollmentRow) -> String {
    if e.household_id.is_empty() { format!("SL-H{}", e.id) } else { e.household_id.clone() }
}

fn owned(e: &EnrollmentRow) -> String {
    EnrollmentOwned {
        id: e.id.clone(),
        personal_id: e.personal_id.clone(),
        project_id: e.project_id.clone(),
        entry_date: e.entry_date,
        household_id: household(e),
        relationship: e.relationship,
    }
    .fingerprint()
}

impl<'a> Run<'a> {
    pub(super) fn enrollments(&mut self) -> Result<(), StoreError> {
        let p = self.p;
        let mut counts = Counts { read: p.enrollments.len() as u64, ..Counts::default() };
        for (i, e) in p.enrollments.iter().enumerate() {
            tick(&mut self.progress, "Enrollment.csv", i, p.enrollments.len());
            self.enrollment(e, &mut counts)?;
        }
        self.counts.push(("Enrollment.csv".to_owned(), counts));
        Ok(())
    }

    fn enrollment(&mut self, e: &'a EnrollmentRow, counts: &mut Counts) -> Result<(), StoreError> {
        let tx = self.tx;
        let existing = find(tx, "enrollments", "hmis_enrollment_id", "SL-E", &e.id)?;
        if let Some((id, _)) = existing
            && !self.opts.allows(enrollment_org(tx, id)?)
        {
            let reason = format!("the enrollment {OUTSIDE}");
            self.refuse(Kind::Enrollment, &e.id, &e.common, ("EnrollmentID", &e.id, &reason));
            return Ok(());
        }
        if e.common.deleted.is_some() {
            return self.deleted_enrollment(e, existing.map(|(id, _)| id), counts);
        }
        let Some(client) = self.client_of(e)? else { return Ok(()) };
        let Some((program, project_type)) = self.program_of(e)? else { return Ok(()) };
        let id = match existing {
            Some((id, stored)) => {
                if newer(e.common.updated, stored) {
                    self.update_enrollment(e, id, (client, program), counts)?;
                } else {
                    counts.unchanged += 1;
                }
                id
            }
            None => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO enrollments (client_id, program_id, household_id,
                                relationship_to_hoh, entry_date, hmis_enrollment_id, hmis_updated_at,
                                hmis_kept, hmis_owned, created_at, updated_at)
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )?
                    .execute(params![
                        client,
                        program,
                        household(e),
                        e.relationship,
                        e.entry_date,
                        e.id,
                        e.common.updated,
                        e.common.kept.0,
                        owned(e),
                        self.utc(e.common.created),
                        self.at
                    ])?;
                counts.added += 1;
                tx.last_insert_rowid()
            }
        };
        let organization = program_org(tx, program)?;
        let personal_id = e.personal_id.clone();
        let entry = e.entry_date;
        self.enrollment_ids.insert(
            &e.id,
            EnrollmentRef { id, client, program, organization, project_type, entry, personal_id },
        );
        Ok(())
    }

    fn deleted_enrollment(
        &mut self,
        e: &EnrollmentRow,
        existing: Option<i64>,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let Some(id) = existing else {
            counts.skipped += 1;
            return Ok(());
        };
        let used: i64 = self.tx.query_row(
            "SELECT COUNT(*) FROM services WHERE enrollment_id = ?",
            [id],
            |r| r.get(0),
        )?;
        if used == 0 {
            self.tx.execute("DELETE FROM enrollments WHERE id = ?", [id])?;
            counts.deleted += 1;
        } else {
            let reason = format!("deleted in the HMIS: kept, because it has {used} services");
            self.cx.warn(&e.common, "DateDeleted", "", &reason);
            counts.skipped += 1;
        }
        Ok(())
    }

    /// The enrollment's client; `None` when it was refused (and reported).
    fn client_of(&mut self, e: &'a EnrollmentRow) -> Result<Option<i64>, StoreError> {
        if let Some(id) = self.client_ids.get(e.personal_id.as_str()) {
            return Ok(Some(*id));
        }
        if let Some((id, _)) = find_client(self.tx, &e.personal_id)? {
            let (org, restricted) = client_org(self.tx, id)?;
            if restricted && !self.opts.allows(org) {
                let reason = format!("the client {OUTSIDE}");
                let column = ("PersonalID", e.personal_id.as_str(), reason.as_str());
                self.refuse(Kind::Enrollment, &e.id, &e.common, column);
                return Ok(None);
            }
            return Ok(Some(id));
        }
        if let Some(root) = self.root(Kind::Client, &e.personal_id) {
            self.depend(Some(Kind::Enrollment), &e.id, &e.common, "PersonalID", &root);
        } else {
            let reason = "no such client in Client.csv or in Scanline";
            let column = ("PersonalID", e.personal_id.as_str(), reason);
            self.refuse(Kind::Enrollment, &e.id, &e.common, column);
        }
        Ok(None)
    }

    /// The enrollment's program and its project type; `None` when it was refused (and
    /// reported).
    fn program_of(&mut self, e: &'a EnrollmentRow) -> Result<Option<(i64, i32)>, StoreError> {
        if let Some(v) = self.program_ids.get(e.project_id.as_str()) {
            return Ok(Some(*v));
        }
        if let Some((id, _)) = find(self.tx, "programs", "hmis_project_id", "SL-P", &e.project_id)?
        {
            if !self.opts.allows(program_org(self.tx, id)?) {
                let reason = format!("the program {OUTSIDE}");
                let column = ("ProjectID", e.project_id.as_str(), reason.as_str());
                self.refuse(Kind::Enrollment, &e.id, &e.common, column);
                return Ok(None);
            }
            let project_type =
                self.tx.query_row("SELECT project_type FROM programs WHERE id = ?", [id], |r| {
                    r.get(0)
                })?;
            return Ok(Some((id, project_type)));
        }
        if let Some(root) = self.root(Kind::Project, &e.project_id) {
            self.depend(Some(Kind::Enrollment), &e.id, &e.common, "ProjectID", &root);
        } else {
            let reason = "no such project in Project.csv or in Scanline";
            let column = ("ProjectID", e.project_id.as_str(), reason);
            self.refuse(Kind::Enrollment, &e.id, &e.common, column);
        }
        Ok(None)
    }

    fn update_enrollment(
        &mut self,
        e: &EnrollmentRow,
        id: i64,
        (client, program): (i64, i64),
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let r = self
            .tx
            .prepare_cached(
                "UPDATE enrollments SET client_id = ?, program_id = ?, household_id = ?,
                        relationship_to_hoh = ?, entry_date = ?, hmis_updated_at = ?, hmis_kept = ?,
                        hmis_owned = ?, updated_at = ?
                 WHERE id = ?",
            )?
            .execute(params![
                client,
                program,
                household(e),
                e.relationship,
                e.entry_date,
                e.common.updated,
                e.common.kept.0,
                owned(e),
                self.at,
                id
            ]);
        match r {
            Ok(_) => counts.updated += 1,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                let column =
                    ("EntryDate", e.entry_date.to_string(), "after the enrollment's exit date");
                self.refuse(Kind::Enrollment, &e.id, &e.common, (column.0, &column.1, column.2));
            }
            Err(err) => return Err(sql_err(err)),
        }
        Ok(())
    }
}
