//! Exit.csv: each exit closes its enrollment (one exit an enrollment, not before the entry); a deleted exit reopens it.

use rusqlite::params;

use super::{Counts, NaiveDateTime, OUTSIDE, Run, StoreError, enrollment_ref, newer, tick};

impl Run<'_> {
    pub(super) fn exits(&mut self) -> Result<(), StoreError> {
        let (tx, p, opts, at, _tz) = (self.tx, self.p, self.opts, self.at, self.tz);
        let mut counts = Counts { read: p.exits.len() as u64, ..Counts::default() };
        for (i, x) in p.exits.iter().enumerate() {
            tick(&mut self.progress, "Exit.csv", i, p.exits.len());
            let found = enrollment_ref(tx, &self.enrollment_ids, &x.enrollment_id)?;
            if let Some(en) = &found
                && !opts.allows(en.organization)
            {
                self.cx.error(
                    &x.common,
                    "EnrollmentID",
                    &x.enrollment_id,
                    &format!("the enrollment {OUTSIDE}"),
                );
                continue;
            }
            let Some(en) = found else {
                if x.common.deleted.is_none() {
                    self.cx.error(
                        &x.common,
                        "EnrollmentID",
                        &x.enrollment_id,
                        "no such enrollment in Enrollment.csv or in Scanline",
                    );
                } else {
                    counts.skipped += 1;
                }
                continue;
            };
            if en.personal_id != x.personal_id {
                self.cx.error(
                    &x.common,
                    "PersonalID",
                    &x.personal_id,
                    &format!("the enrollment belongs to PersonalID {}", en.personal_id),
                );
                continue;
            }
            let stored: (Option<String>, Option<NaiveDateTime>) = tx
                .prepare_cached(
                    "SELECT hmis_exit_id, hmis_exit_updated_at FROM enrollments WHERE id = ?",
                )?
                .query_row([en.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if x.common.deleted.is_some() {
                if stored.0.as_deref() == Some(x.id.as_str()) {
                    tx.execute(
                    "UPDATE enrollments SET exit_date = NULL, destination = NULL, hmis_exit_id = NULL,
                            hmis_exit_updated_at = NULL, updated_at = ? WHERE id = ?",
                    params![at, en.id],
                )?;
                    counts.deleted += 1;
                } else {
                    counts.skipped += 1;
                }
                continue;
            }
            if let Some((line, _)) = self.exit_of.get(x.enrollment_id.as_str()) {
                let line = *line;
                self.cx.error(
                    &x.common,
                    "EnrollmentID",
                    &x.enrollment_id,
                    &format!("the enrollment already has an exit on line {line}"),
                );
                continue;
            }
            self.exit_of.insert(&x.enrollment_id, (x.common.line, x.exit_date));
            if x.exit_date < en.entry {
                self.cx.error(
                    &x.common,
                    "ExitDate",
                    &x.exit_date.to_string(),
                    &format!("before the entry date {}", en.entry),
                );
                continue;
            }
            if newer(x.common.updated, stored.1) {
                tx.prepare_cached(
                    "UPDATE enrollments SET exit_date = ?, destination = ?, hmis_exit_id = ?,
                        hmis_exit_updated_at = ?, updated_at = ? WHERE id = ?",
                )?
                .execute(params![
                    x.exit_date,
                    x.destination,
                    x.id,
                    x.common.updated,
                    at,
                    en.id
                ])?;
                if stored.1.is_some() { counts.updated += 1 } else { counts.added += 1 }
            } else {
                counts.unchanged += 1;
            }
        }
        self.counts.push(("Exit.csv".to_owned(), counts));

        Ok(())
    }
}
