//! Services.csv: HUD services (bed nights among them) found again by HMIS ID (or `SL-S`), each
//! under a service type of its program for its RecordType and TypeProvided, with the
//! data-quality warnings bed nights call for. A second bed night for the same enrollment and
//! night is reported and left out, and an HMIS bed night for a night Scanline already recorded
//! is linked to Scanline's record instead of doubling it. Each keeps the row as received.

use std::collections::HashMap;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};

use super::{
    Counts, EnrollmentRef, OUTSIDE, Run, StoreError, find, newer, service_org, service_type_for,
    tick,
};
use crate::hmis::model::kept::{Owned as _, ServiceOwned};
use crate::hmis::model::{Read, ServiceRow};
use crate::stamp;

/// What the services pass remembers between rows.
#[derive(Default)]
struct Seen {
    service_types: HashMap<(i64, i32, i32), i64>,
    /// (client, night) -> (enrollment, line) of each bed night read.
    bed_nights: HashMap<(i64, NaiveDate), (i64, u64)>,
}

/// What Scanline already holds of a bed night the HMIS sent under an ID it does not know.
enum Night {
    New,
    /// Scanline's own record of the night, not yet named by the HMIS.
    Unnamed(i64),
    /// The night is recorded under another HMIS ID.
    Recorded,
}

impl Run<'_> {
    fn service_owned(&self, s: &ServiceRow) -> String {
        ServiceOwned {
            id: s.id.clone(),
            enrollment_id: s.enrollment_id.clone(),
            personal_id: s.personal_id.clone(),
            date: s.date,
            record_type: s.record_type,
            type_provided: s.type_provided,
            deleted: s.common.deleted.map(|d| self.utc(d)),
        }
        .fingerprint()
    }

    /// Applies Services.csv as it is read, row by row; the problems reading finds are
    /// reported with the others.
    pub(super) fn services(&mut self) -> Result<(), StoreError> {
        let Some(file) = self.p.services.clone() else {
            self.counts.push(("Services.csv".to_owned(), Counts::default()));
            return Ok(());
        };
        let total = usize::try_from(file.rows_hint()).unwrap_or(usize::MAX);
        let mut counts = Counts::default();
        let mut seen = Seen::default();
        let mut failed = None;
        file.each(&mut |read| {
            match read {
                Read::Row(s) => {
                    tick(&mut self.progress, "Services.csv", counts.read as usize, total);
                    counts.read += 1;
                    if let Err(e) = self.service(s, &mut seen, &mut counts) {
                        failed = Some(e);
                        return ControlFlow::Break(());
                    }
                }
                Read::Error(e) => self.cx.errors.push(e),
                Read::Warning(w) => self.cx.warnings.push(w),
            }
            ControlFlow::Continue(())
        });
        if let Some(e) = failed {
            return Err(e);
        }
        // The lines counted ahead are only about the rows: the bar ends at the rows read.
        if counts.read > 0 && counts.read as usize != total {
            (self.progress)("Services.csv", counts.read, counts.read);
        }
        self.counts.push(("Services.csv".to_owned(), counts));
        Ok(())
    }

    fn service(
        &mut self,
        s: &ServiceRow,
        seen: &mut Seen,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let tx = self.tx;
        let existing = find(tx, "services", "hmis_services_id", "SL-S", &s.id)?;
        if let Some((id, _)) = existing
            && !self.opts.allows(service_org(tx, id)?)
        {
            self.cx.error(&s.common, "ServicesID", &s.id, &format!("the service {OUTSIDE}"));
            return Ok(());
        }
        if let Some(deleted) = s.common.deleted {
            let Some((id, _)) = existing else {
                counts.skipped += 1;
                return Ok(());
            };
            let n = tx.execute(
                "UPDATE services SET deleted_at = ?, deleted_reason = 'deleted in the HMIS',
                        hmis_kept = ?, hmis_owned = ?
                 WHERE id = ? AND deleted_at IS NULL",
                params![self.utc(deleted), s.common.kept.0, self.service_owned(s), id],
            )?;
            if n > 0 {
                counts.deleted += 1;
            } else {
                counts.unchanged += 1;
            }
            return Ok(());
        }
        let Some(en) = self.enrollment_for(&s.common, &s.enrollment_id, false)? else {
            return Ok(());
        };
        if en.personal_id != s.personal_id {
            let reason = format!("the enrollment belongs to PersonalID {}", en.personal_id);
            self.cx.error(&s.common, "PersonalID", &s.personal_id, &reason);
            return Ok(());
        }
        if s.record_type == 200 && !self.bed_night(s, &en, seen) {
            counts.skipped += 1;
            return Ok(());
        }
        let key = (en.program, s.record_type, s.type_provided);
        let service_type = match seen.service_types.get(&key) {
            Some(id) => *id,
            None => {
                let id = service_type_for(tx, key)?;
                seen.service_types.insert(key, id);
                id
            }
        };
        let existing = match existing {
            Some(found) => Some(found),
            None if s.record_type == 200 => match self.same_night(s, &en)? {
                Night::Recorded => {
                    counts.skipped += 1;
                    return Ok(());
                }
                Night::Unnamed(id) => Some((id, None)),
                Night::New => None,
            },
            None => None,
        };
        match existing {
            Some((id, stored)) if newer(s.common.updated, stored) => {
                tx.prepare_cached(
                    "UPDATE services SET enrollment_id = ?, client_id = ?, program_id = ?,
                            service_type_id = ?, date_provided = ?, hmis_services_id = ?,
                            hmis_updated_at = ?, hmis_kept = ?, hmis_owned = ?
                     WHERE id = ?",
                )?
                .execute(params![
                    en.id,
                    en.client,
                    en.program,
                    service_type,
                    stamp::date(s.date),
                    s.id,
                    stamp::naive(s.common.updated),
                    s.common.kept.0,
                    self.service_owned(s),
                    id
                ])?;
                counts.updated += 1;
            }
            Some(_) => counts.unchanged += 1,
            None => {
                tx.prepare_cached(
                    "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id,
                            date_provided, units, unit_value, created_at, hmis_services_id,
                            hmis_updated_at, hmis_kept, hmis_owned)
                     VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    en.id,
                    en.client,
                    en.program,
                    service_type,
                    stamp::date(s.date),
                    stamp::stored(&self.utc(s.common.created)),
                    s.id,
                    stamp::naive(s.common.updated),
                    s.common.kept.0,
                    self.service_owned(s)
                ])?;
                counts.added += 1;
            }
        }
        Ok(())
    }

    /// Checks a bed night against its enrollment and the bed nights read before it, with a
    /// warning for each finding; false when it is a second bed night for the same enrollment
    /// and night, which is left out.
    fn bed_night(&mut self, s: &ServiceRow, en: &EnrollmentRef, seen: &mut Seen) -> bool {
        let night = s.date.to_string();
        if en.project_type != 1 {
            let reason = "a bed night in a program that is not a night-by-night shelter";
            self.cx.warn(&s.common, "RecordType", "200", reason);
        }
        let exit = self.exit_of.get(s.enrollment_id.as_str()).map(|(_, d)| *d);
        if s.date < en.entry || exit.is_some_and(|x| s.date >= x) {
            self.cx.warn(&s.common, "DateProvided", &night, "a bed night outside its enrollment");
        }
        match seen.bed_nights.get(&(en.client, s.date)) {
            Some((other, line)) if *other == en.id => {
                let reason = format!(
                    "a second bed night for the same enrollment and night (line {line}): left out"
                );
                self.cx.warn(&s.common, "DateProvided", &night, &reason);
                return false;
            }
            Some((_, line)) => {
                let reason = format!(
                    "the same person has a bed night on the same night in another enrollment \
                     (line {line})"
                );
                self.cx.warn(&s.common, "DateProvided", &night, &reason);
            }
            None => {}
        }
        seen.bed_nights.insert((en.client, s.date), (en.id, s.common.line));
        true
    }

    /// A bed night Scanline already holds for the enrollment and night, that the HMIS has not
    /// named: the HMIS's row is the same night, linked to it rather than added beside it.
    fn same_night(&mut self, s: &ServiceRow, en: &EnrollmentRef) -> Result<Night, StoreError> {
        let found: Option<(i64, Option<String>)> = self
            .tx
            .prepare_cached(
                "SELECT s.id, s.hmis_services_id FROM services s
                   JOIN service_types st ON st.id = s.service_type_id
                 WHERE s.enrollment_id = ? AND s.date_provided = ? AND st.record_type = 200
                   AND s.deleted_at IS NULL
                 ORDER BY s.id LIMIT 1",
            )?
            .query_row(params![en.id, stamp::date(s.date)], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match found {
            Some((id, None)) => Ok(Night::Unnamed(id)),
            Some((_, Some(other))) => {
                let reason =
                    format!("the enrollment already has bed night {other} on this night: left out");
                self.cx.warn(&s.common, "DateProvided", &s.date.to_string(), &reason);
                Ok(Night::Recorded)
            }
            None => Ok(Night::New),
        }
    }
}

/// For an import staged on a copy (`store::staged`): a bed night the live database recorded
/// after the copy was taken, for an enrollment and night the copy adds one for. The copy could
/// not link the two, so landing it would double the night.
pub fn night_recorded_meanwhile(
    tx: &rusqlite::Connection,
    moves: &crate::store::staged::Moves,
) -> Result<Option<String>, StoreError> {
    let s = crate::store::staged::ALIAS;
    let found: Option<(i64, String)> = tx
        .query_row(
            &format!(
                "SELECT m.enrollment_id, m.date_provided FROM main.services m
                   JOIN main.service_types mt ON mt.id = m.service_type_id AND mt.record_type = 200
                   JOIN {s}.services c ON c.enrollment_id = m.enrollment_id
                                      AND c.date_provided = m.date_provided
                                      AND c.deleted_at IS NULL
                   JOIN {s}.service_types ct ON ct.id = c.service_type_id AND ct.record_type = 200
                 WHERE m.id > ?1 AND m.deleted_at IS NULL AND m.enrollment_id <= ?2
                   AND c.rowid IN {added}
                 LIMIT 1",
                added = moves.added("services"),
            ),
            params![moves.newest("services"), moves.newest("enrollments")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(found.map(|(enrollment, night)| {
        format!("a bed night was recorded meanwhile for enrollment {enrollment} on {night}")
    }))
}
