//! Exit.csv: each exit closes its enrollment (one exit an enrollment, not before the entry); a
//! deleted exit reopens it. Each keeps the row as received.

use rusqlite::params;

use super::{
    Counts, EnrollmentRef, Kind, NaiveDateTime, OUTSIDE, Run, StoreError, enrollment_ref, newer,
    tick,
};
use crate::hmis::model::ExitRow;
use crate::hmis::model::kept::{ExitOwned, Owned as _};

fn owned(x: &ExitRow) -> String {
    ExitOwned {
        id: x.id.clone(),
        enrollment_id: x.enrollment_id.clone(),
        personal_id: x.personal_id.clone(),
        exit_date: x.exit_date,
        destination: x.destination,
    }
    .fingerprint()
}

impl<'a> Run<'a> {
    pub(super) fn exits(&mut self) -> Result<(), StoreError> {
        let p = self.p;
        let mut counts = Counts { read: p.exits.len() as u64, ..Counts::default() };
        for (i, x) in p.exits.iter().enumerate() {
            tick(&mut self.progress, "Exit.csv", i, p.exits.len());
            self.exit(x, &mut counts)?;
        }
        self.counts.push(("Exit.csv".to_owned(), counts));
        Ok(())
    }

    /// The enrollment an exit, service or other row names; `None` when there is none, with the
    /// row reported under its root cause (a refused enrollment, or one the HMIS deleted) or as
    /// a broken reference.
    pub(super) fn enrollment_for(
        &mut self,
        c: &crate::hmis::model::Common,
        enrollment_id: &str,
        deleted_row: bool,
    ) -> Result<Option<EnrollmentRef>, StoreError> {
        let found = enrollment_ref(self.tx, &self.enrollment_ids, enrollment_id)?;
        if let Some(en) = &found
            && !self.opts.allows(en.organization)
        {
            let reason = format!("the enrollment {OUTSIDE}");
            self.cx.error(c, "EnrollmentID", enrollment_id, &reason);
            return Ok(None);
        }
        if found.is_some() || deleted_row {
            return Ok(found);
        }
        if let Some(root) = self.root(Kind::Enrollment, enrollment_id) {
            self.depend(None, "", c, "EnrollmentID", &root);
        } else if self.deleted_enrollments.contains(enrollment_id) {
            let cause = format!("enrollment {enrollment_id} is deleted in the HMIS");
            self.orphans.add(c, "EnrollmentID", cause);
        } else {
            let reason = "no such enrollment in Enrollment.csv or in Scanline";
            self.cx.error(c, "EnrollmentID", enrollment_id, reason);
        }
        Ok(None)
    }

    fn exit(&mut self, x: &'a ExitRow, counts: &mut Counts) -> Result<(), StoreError> {
        let deleted = x.common.deleted.is_some();
        let Some(en) = self.enrollment_for(&x.common, &x.enrollment_id, deleted)? else {
            if deleted {
                counts.skipped += 1;
            }
            return Ok(());
        };
        if en.personal_id != x.personal_id {
            let reason = format!("the enrollment belongs to PersonalID {}", en.personal_id);
            self.cx.error(&x.common, "PersonalID", &x.personal_id, &reason);
            return Ok(());
        }
        let tx = self.tx;
        let stored: (Option<String>, Option<NaiveDateTime>) = tx
            .prepare_cached(
                "SELECT hmis_exit_id, hmis_exit_updated_at FROM enrollments WHERE id = ?",
            )?
            .query_row([en.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if deleted {
            if stored.0.as_deref() == Some(x.id.as_str()) {
                tx.execute(
                    "UPDATE enrollments SET exit_date = NULL, destination = NULL, hmis_exit_id = NULL,
                            hmis_exit_updated_at = NULL, hmis_exit_kept = NULL,
                            hmis_exit_owned = NULL, updated_at = ?
                     WHERE id = ?",
                    params![self.at, en.id],
                )?;
                counts.deleted += 1;
            } else {
                counts.skipped += 1;
            }
            return Ok(());
        }
        if let Some((line, _)) = self.exit_of.get(x.enrollment_id.as_str()) {
            let reason = format!("the enrollment already has an exit on line {line}");
            self.cx.error(&x.common, "EnrollmentID", &x.enrollment_id, &reason);
            return Ok(());
        }
        self.exit_of.insert(&x.enrollment_id, (x.common.line, x.exit_date));
        if x.exit_date < en.entry {
            let reason = format!("before the entry date {}", en.entry);
            self.cx.error(&x.common, "ExitDate", &x.exit_date.to_string(), &reason);
            return Ok(());
        }
        if !newer(x.common.updated, stored.1) {
            counts.unchanged += 1;
            return Ok(());
        }
        tx.prepare_cached(
            "UPDATE enrollments SET exit_date = ?, destination = ?, hmis_exit_id = ?,
                    hmis_exit_updated_at = ?, hmis_exit_kept = ?, hmis_exit_owned = ?,
                    updated_at = ?
             WHERE id = ?",
        )?
        .execute(params![
            x.exit_date,
            x.destination,
            x.id,
            x.common.updated,
            x.common.kept.0,
            owned(x),
            self.at,
            en.id
        ])?;
        if stored.1.is_some() {
            counts.updated += 1;
        } else {
            counts.added += 1;
        }
        Ok(())
    }
}
