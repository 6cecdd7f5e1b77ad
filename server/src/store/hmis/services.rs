//! Services.csv: HUD services (bed nights among them) found again by HMIS ID (or `SL-S`), each under a service type of its program for its RecordType and TypeProvided, with the data-quality warnings bed nights call for.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::params;

use super::{
    Counts, OUTSIDE, Run, StoreError, enrollment_ref, find, newer, service_org, service_type_for,
    tick,
};

impl Run<'_> {
    pub(super) fn services(&mut self) -> Result<(), StoreError> {
        let (tx, p, opts, _at, _tz) = (self.tx, self.p, self.opts, self.at, self.tz);
        let mut counts = Counts { read: p.services.len() as u64, ..Counts::default() };
        let mut service_types: HashMap<(i64, i32, i32), i64> = HashMap::new();
        let mut bed_nights: HashMap<(i64, NaiveDate), (i64, u64)> = HashMap::new();
        for (i, s) in p.services.iter().enumerate() {
            tick(&mut self.progress, "Services.csv", i, p.services.len());
            let existing = find(tx, "services", "hmis_services_id", "SL-S", &s.id)?;
            if let Some((id, _)) = existing
                && !opts.allows(service_org(tx, id)?)
            {
                self.cx.error(&s.common, "ServicesID", &s.id, &format!("the service {OUTSIDE}"));
                continue;
            }
            if let Some(deleted) = s.common.deleted {
                match existing {
                    Some((id, _)) => {
                        let n = tx.execute(
                        "UPDATE services SET deleted_at = ?, deleted_reason = 'deleted in the HMIS'
                         WHERE id = ? AND deleted_at IS NULL",
                        params![deleted.and_utc(), id],
                    )?;
                        if n > 0 { counts.deleted += 1 } else { counts.unchanged += 1 }
                    }
                    None => counts.skipped += 1,
                }
                continue;
            }
            let found = enrollment_ref(tx, &self.enrollment_ids, &s.enrollment_id)?;
            if let Some(en) = &found
                && !opts.allows(en.organization)
            {
                self.cx.error(
                    &s.common,
                    "EnrollmentID",
                    &s.enrollment_id,
                    &format!("the enrollment {OUTSIDE}"),
                );
                continue;
            }
            let Some(en) = found else {
                self.cx.error(
                    &s.common,
                    "EnrollmentID",
                    &s.enrollment_id,
                    "no such enrollment in Enrollment.csv or in Scanline",
                );
                continue;
            };
            if en.personal_id != s.personal_id {
                self.cx.error(
                    &s.common,
                    "PersonalID",
                    &s.personal_id,
                    &format!("the enrollment belongs to PersonalID {}", en.personal_id),
                );
                continue;
            }
            if s.record_type == 200 {
                if en.project_type != 1 {
                    self.cx.warn(
                        &s.common,
                        "RecordType",
                        "200",
                        "a bed night in a program that is not a night-by-night shelter",
                    );
                }
                let exit = self.exit_of.get(s.enrollment_id.as_str()).map(|(_, d)| *d);
                if s.date < en.entry || exit.is_some_and(|x| s.date >= x) {
                    self.cx.warn(
                        &s.common,
                        "DateProvided",
                        &s.date.to_string(),
                        "a bed night outside its enrollment",
                    );
                }
                if let Some((other, line)) = bed_nights.get(&(en.client, s.date))
                    && *other != en.id
                {
                    let line = *line;
                    self.cx.warn(&s.common, "DateProvided", &s.date.to_string(), &format!("the same person has a bed night on the same night in another enrollment (line {line})"));
                }
                bed_nights.insert((en.client, s.date), (en.id, s.common.line));
            }
            let key = (en.program, s.record_type, s.type_provided);
            let service_type = match service_types.get(&key) {
                Some(id) => *id,
                None => {
                    let id = service_type_for(tx, key)?;
                    service_types.insert(key, id);
                    id
                }
            };
            match existing {
                Some((id, stored)) => {
                    if newer(s.common.updated, stored) {
                        tx.prepare_cached(
                        "UPDATE services SET enrollment_id = ?, client_id = ?, program_id = ?, service_type_id = ?,
                                date_provided = ?, hmis_updated_at = ? WHERE id = ?",
                    )?
                    .execute(params![en.id, en.client, en.program, service_type, s.date, s.common.updated, id])?;
                        counts.updated += 1;
                    } else {
                        counts.unchanged += 1;
                    }
                }
                None => {
                    tx.prepare_cached(
                    "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided,
                            units, unit_value, created_at, hmis_services_id, hmis_updated_at)
                     VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?)",
                )?
                .execute(params![en.id, en.client, en.program, service_type, s.date, s.common.created.and_utc(), s.id, s.common.updated])?;
                    counts.added += 1;
                }
            }
        }
        self.counts.push(("Services.csv".to_owned(), counts));

        Ok(())
    }
}
