//! One writer a file of the export. Each record is composed the same way (`compose`): the
//! row the HMIS sent when there is one, with Scanline's values written over it only when they
//! changed since the import; Scanline's own row otherwise.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use super::super::model::Kept;
use super::super::model::kept::{
    ClientOwned, EnrollmentOwned, ExitOwned, OrganizationOwned, Owned, ProjectOwned, ServiceOwned,
};
use super::super::model::records::{
    ClientRecord, EnrollmentRecord, ExitRecord, OrganizationRecord, ProjectRecord, ServicesRecord,
    UserRecord,
};
use super::by_id::ById;
use super::pipe::pipe;
use super::{CsvFile, DATE, Fmt, IdMap, Named, Out, hash_name, hash_ssn};
use crate::store::StoreError;
use crate::store::hmis::outgoing::{self, KeptText};

/// Scanline's user for records no staff member made (stations, imports, the system).
const SCANLINE_USER: &str = "SL-U0";
/// HUD's "data not collected".
const NOT_COLLECTED: &str = "99";

/// The record to write: the kept row, with Scanline's values (`now`) put over it by `put`
/// when they differ from what the import stored; or, for a record Scanline made, `fresh`
/// with the values put on it.
fn compose<T: DeserializeOwned + Default, O: Owned>(
    kept: &KeptText,
    now: impl FnOnce() -> O,
    fresh: impl FnOnce() -> T,
    put: impl FnOnce(&mut T, bool),
) -> T {
    let Some(received) = &kept.kept else {
        let mut record = fresh();
        put(&mut record, true);
        return record;
    };
    let mut record: T = serde_json::from_str(received).unwrap_or_default();
    if !kept.owned.as_deref().is_some_and(|stored| now().same_as(stored)) {
        put(&mut record, false);
    }
    record
}

/// Services.csv: the HUD services of each program in the period, program by program in date
/// order, with each enrollment's export IDs and each HUD service type's codes looked up once.
/// Services of types without HUD codes (meals) are not HUD data and are left out, and so is a
/// second bed night for an enrollment on the same night. Read here, written on a second
/// thread (`pipe`).
pub(super) fn services(
    out: &Out<'_>,
    programs: &[i64],
    named: &mut Named,
) -> Result<(Vec<u8>, u64), StoreError> {
    let conn = out.conn;
    let hud_types: IdMap<HudCodes> = outgoing::hud_service_types(conn)?
        .into_iter()
        .map(|(id, rt, tp)| {
            (
                id,
                HudCodes {
                    record_type: rt,
                    text: (rt.to_string(), tp.to_string()),
                    type_provided: tp,
                },
            )
        })
        .collect();
    let hud = &hud_types;
    let mut count = 0u64;
    // Each enrollment's last bed night written: services come in date order, so a second bed
    // night for the same night follows the first.
    let mut last_night: ById<[u8; 10]> = ById::default();
    let (o, fmt) = (out.o, out.fmt.clone());
    // Room for the file at once: a million rows grown by doubling cost the writing thread a
    // copy of the file and twice its pages. Room not written to is never given memory.
    let mut bound = 0u64;
    for program in programs {
        bound += outgoing::count_services(conn, *program, o.start, o.end)?;
    }
    let room = usize::try_from(bound.saturating_mul(ROW_ROOM)).unwrap_or(usize::MAX).min(MAX_ROOM);
    let (file, users) = pipe(
        |put| {
            for program in programs {
                // The program's enrollments' export IDs, read at its first HUD service: a
                // meal program has many enrollments and none.
                let mut ids: Option<ById<Option<ExportIds>>> = None;
                let mut other_programs = BTreeSet::new();
                let before = count;
                outgoing::for_each_service(conn, *program, o.start, o.end, |s| {
                    let Some(codes) = hud.get(&s.service_type_id) else { return Ok(()) };
                    if codes.record_type == 200 && s.deleted_at.is_none() {
                        let mut night = [0u8; 10];
                        let date = s.date_provided.as_bytes();
                        night[..date.len().min(10)].copy_from_slice(&date[..date.len().min(10)]);
                        let last = last_night.slot(s.enrollment_id);
                        if *last == night {
                            return Ok(());
                        }
                        *last = night;
                    }
                    let ids = match &mut ids {
                        Some(ids) => ids,
                        None => {
                            let mut of = ById::default();
                            for (id, e, p) in outgoing::enrollment_ids(conn, *program)? {
                                *of.slot(id) = Some(Arc::new((e, p)));
                            }
                            ids.insert(of)
                        }
                    };
                    let slot = ids.slot(s.enrollment_id);
                    let of = match slot {
                        Some(known) => Arc::clone(known),
                        // A service recorded against an enrollment of another program: it is
                        // exported with that enrollment, which the enrollment pass then
                        // writes too.
                        None => {
                            let (eid, pid, other) =
                                outgoing::enrollment_ids_of(conn, s.enrollment_id)?;
                            other_programs.insert(other);
                            Arc::clone(slot.insert(Arc::new((eid, pid))))
                        }
                    };
                    *named.enrollments.slot(s.enrollment_id) = true;
                    count += 1;
                    put((s, of, codes));
                    Ok(())
                })?;
                if count > before {
                    other_programs.insert(*program);
                }
                for p in other_programs {
                    if !named.programs.contains(&p) {
                        named.programs.push(p);
                    }
                }
            }
            Ok(())
        },
        move |rows| write_services(&fmt, room, rows),
    )?;
    named.users.extend(users);
    Ok((file, count))
}

/// Bytes set aside for each service the period holds: a row of Scanline's own IDs is about
/// 160 bytes.
const ROW_ROOM: u64 = 176;
/// At most this much is set aside; a larger file grows as it is written.
const MAX_ROOM: usize = 1 << 29;

/// An enrollment's EnrollmentID and PersonalID, shared by the rows of its services.
type ExportIds = Arc<(String, String)>;

/// A service to write: the service, its enrollment's export IDs and its type's HUD codes.
type ServiceRow<'c> = (outgoing::HudService, Arc<(String, String)>, &'c HudCodes);

/// Services.csv from the services read, and the UserIDs its rows name.
fn write_services(
    fmt: &Fmt<'_>,
    room: usize,
    rows: &mut dyn Iterator<Item = ServiceRow<'_>>,
) -> (Vec<u8>, BTreeSet<String>) {
    let mut file = CsvFile::with_room::<ServicesRecord>(room);
    // Each staff member's UserID, made once (0: Scanline's own user).
    let mut users: IdMap<String> = IdMap::default();
    let mut named = BTreeSet::new();
    let mut id = String::new();
    for (s, ids, codes) in rows {
        if s.kept.kept.is_none() {
            let user = users.entry(s.created_by.unwrap_or(0)).or_insert_with(|| {
                let user = s.created_by.map_or_else(|| SCANLINE_USER.to_owned(), user_id);
                named.insert(user.clone());
                user
            });
            put_own_service(&mut file, fmt, &s, &ids, codes, user, &mut id);
        } else {
            let record = service_record(fmt, &s, &ids, codes);
            if !named.contains(&record.user_id) {
                named.insert(record.user_id.clone());
            }
            file.put(&record);
        }
    }
    (file.finish(), named)
}

/// A HUD service type's codes, as numbers and as the text the file holds.
struct HudCodes {
    record_type: i64,
    type_provided: i64,
    text: (String, String),
}

/// A staff member's UserID.
fn user_id(user: i64) -> String {
    format!("SL-U{user}")
}

/// Scanline's own service, the million-row case: its fields written straight to the file, in
/// `ServicesRecord`'s column order, with no record built; `id` is a reused buffer.
fn put_own_service(
    file: &mut CsvFile,
    out: &Fmt<'_>,
    s: &outgoing::HudService,
    (enrollment_id, personal_id): &(String, String),
    codes: &HudCodes,
    user: &str,
    id: &mut String,
) {
    use std::fmt::Write as _;
    id.clear();
    match &s.hmis_services_id {
        Some(hmis) => id.push_str(hmis),
        None => {
            let _ = write!(id, "SL-S{}", s.id);
        }
    }
    let created = out.local_text(&s.created_at);
    let deleted = s.deleted_at.as_deref().map(|d| out.local_text(d));
    let updated = deleted.as_deref().unwrap_or(&created);
    file.put_fields([
        id.as_str(),
        enrollment_id,
        personal_id,
        &s.date_provided,
        &codes.text.0,
        &codes.text.1,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        &created,
        updated,
        user,
        deleted.as_deref().unwrap_or(""),
        &out.export_id,
    ]);
}

/// A service as the HMIS sent it, with what Scanline changed since written over it.
fn service_record(
    out: &Fmt<'_>,
    s: &outgoing::HudService,
    (enrollment_id, personal_id): &(String, String),
    codes: &HudCodes,
) -> ServicesRecord {
    let services_id = || s.hmis_services_id.clone().unwrap_or_else(|| format!("SL-S{}", s.id));
    let put = |r: &mut ServicesRecord| {
        r.services_id = services_id();
        r.enrollment_id.clone_from(enrollment_id);
        r.personal_id.clone_from(personal_id);
        r.date_provided = s.date_provided.to_string();
        r.record_type.clone_from(&codes.text.0);
        r.type_provided.clone_from(&codes.text.1);
        r.date_deleted = s.deleted_at.as_deref().map(|d| out.local_text(d)).unwrap_or_default();
        r.date_updated = out.local_text(s.deleted_at.as_deref().unwrap_or(&s.created_at));
        r.export_id.clone_from(&out.export_id);
    };
    let now = || ServiceOwned {
        id: services_id(),
        enrollment_id: enrollment_id.clone(),
        personal_id: personal_id.clone(),
        date: NaiveDate::parse_from_str(&s.date_provided, DATE).unwrap_or_default(),
        record_type: codes.record_type as i32,
        type_provided: codes.type_provided as i32,
        deleted: s.deleted_at.as_deref().and_then(super::parse_stored),
    };
    let mut record = compose(&s.kept, now, ServicesRecord::default, |r, _| put(r));
    record.export_id.clone_from(&out.export_id);
    record
}

/// Enrollment.csv and Exit.csv: the enrollments the services named, and their exits.
pub(super) fn enrollments_and_exits(
    out: &Out<'_>,
    named: &mut Named,
) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let fmt = out.fmt.clone();
    let (enrollments, exits, users) = pipe(
        |put| {
            for program in named.programs.clone() {
                outgoing::for_each_enrollment(out.conn, program, |e| {
                    let first = named.first_entry.entry(program).or_insert(e.entry_date);
                    *first = (*first).min(e.entry_date);
                    if named.enrollments.get(e.id) == Some(&true) {
                        named.written_programs.insert(program);
                        *named.clients.slot(e.client_id) = true;
                        put(e);
                    }
                    Ok(())
                })?;
            }
            Ok(())
        },
        move |rows| {
            let mut enrollments = CsvFile::new::<EnrollmentRecord>();
            let mut exits = CsvFile::new::<ExitRecord>();
            let mut users = BTreeSet::new();
            for e in rows {
                let record = enrollment_record(&fmt, &e);
                users.insert(record.user_id.clone());
                enrollments.put(&record);
                if let Some(record) = exit_record(&fmt, &e) {
                    users.insert(record.user_id.clone());
                    exits.put(&record);
                }
            }
            (enrollments.finish(), exits.finish(), users)
        },
    )?;
    named.users.extend(users);
    Ok((enrollments, exits))
}

fn enrollment_record(out: &Fmt<'_>, e: &outgoing::EnrollmentOut) -> EnrollmentRecord {
    let now = || EnrollmentOwned {
        id: e.enrollment_id.clone(),
        personal_id: e.personal_id.clone(),
        project_id: e.project_id.clone(),
        entry_date: e.entry_date,
        household_id: e.household_id.clone(),
        relationship: e.relationship_to_hoh,
    };
    let fresh = || EnrollmentRecord {
        disabling_condition: NOT_COLLECTED.into(),
        date_created: out.local_text(&e.created_at),
        user_id: SCANLINE_USER.into(),
        ..EnrollmentRecord::default()
    };
    let mut record = compose(&e.kept, now, fresh, |r, _| {
        r.enrollment_id.clone_from(&e.enrollment_id);
        r.personal_id.clone_from(&e.personal_id);
        r.project_id.clone_from(&e.project_id);
        r.entry_date = crate::stamp::date(e.entry_date);
        r.household_id.clone_from(&e.household_id);
        r.relationship_to_hoh = e.relationship_to_hoh.to_string();
        r.date_updated = out.local_text(&e.updated_at);
    });
    record.export_id.clone_from(&out.export_id);
    record
}

fn exit_record(out: &Fmt<'_>, e: &outgoing::EnrollmentOut) -> Option<ExitRecord> {
    let exit_date = e.exit_date?;
    let destination = e.destination.unwrap_or(99);
    let now = || ExitOwned {
        id: e.exit_id.clone(),
        enrollment_id: e.enrollment_id.clone(),
        personal_id: e.personal_id.clone(),
        exit_date,
        destination,
    };
    let fresh = || ExitRecord {
        date_created: out.local_text(&e.updated_at),
        user_id: SCANLINE_USER.into(),
        ..ExitRecord::default()
    };
    let mut record = compose(&e.exit_kept, now, fresh, |r, _| {
        r.exit_id.clone_from(&e.exit_id);
        r.enrollment_id.clone_from(&e.enrollment_id);
        r.personal_id.clone_from(&e.personal_id);
        r.exit_date = crate::stamp::date(exit_date);
        r.destination = destination.to_string();
        r.date_updated = out.local_text(&e.updated_at);
    });
    record.export_id.clone_from(&out.export_id);
    Some(record)
}

/// Client.csv: the clients of those enrollments, hashed as HashStatus 4 when asked.
pub(super) fn clients(out: &Out<'_>, named: &mut Named) -> Result<Vec<u8>, StoreError> {
    let fmt = out.fmt.clone();
    let (file, users) = pipe(
        |put| {
            let mut written: ById<bool> = ById::default();
            for program in &named.written_programs {
                outgoing::for_each_client(out.conn, *program, |c| {
                    if named.clients.get(c.id) == Some(&true) {
                        let written = written.slot(c.id);
                        if !*written {
                            *written = true;
                            put(c);
                        }
                    }
                    Ok(())
                })?;
            }
            Ok(())
        },
        move |rows| {
            let mut file = CsvFile::new::<ClientRecord>();
            let mut users = BTreeSet::new();
            for c in rows {
                let mut record = client_record(&fmt, &c);
                if fmt.o.hashed {
                    for name in
                        [&mut record.first_name, &mut record.middle_name, &mut record.last_name]
                    {
                        *name = hash_name(name);
                    }
                    if !record.ssn.is_empty() {
                        record.ssn = hash_ssn(&record.ssn);
                    }
                }
                users.insert(record.user_id.clone());
                file.put(&record);
            }
            (file.finish(), users)
        },
    )?;
    named.users.extend(users);
    Ok(file)
}

fn client_record(out: &Fmt<'_>, c: &outgoing::ClientOut) -> ClientRecord {
    let now = || ClientOwned {
        id: c.personal_id.clone(),
        first: c.first_name.clone(),
        middle: c.middle_name.clone(),
        last: c.last_name.clone(),
        suffix: c.name_suffix.clone(),
        name_dq: c.name_data_quality,
        ssn: c.ssn.clone(),
        ssn_dq: c.ssn_data_quality,
        dob: c.dob,
        dob_dq: c.dob_data_quality,
    };
    let no = || "0".to_owned();
    let fresh = || ClientRecord {
        sex: NOT_COLLECTED.into(),
        am_ind_ak_native: no(),
        asian: no(),
        black_af_american: no(),
        hispanic_latinao: no(),
        mid_east_n_african: no(),
        native_hi_pacific: no(),
        white: no(),
        race_none: NOT_COLLECTED.into(),
        veteran_status: NOT_COLLECTED.into(),
        date_created: out.local_text(&c.created_at),
        user_id: SCANLINE_USER.into(),
        ..ClientRecord::default()
    };
    let mut record = compose(&c.kept, now, fresh, |r, _| {
        r.personal_id.clone_from(&c.personal_id);
        r.first_name.clone_from(&c.first_name);
        r.middle_name.clone_from(&c.middle_name);
        r.last_name.clone_from(&c.last_name);
        r.name_suffix.clone_from(&c.name_suffix);
        r.name_data_quality = c.name_data_quality.to_string();
        r.ssn = c.ssn.clone().unwrap_or_default();
        r.ssn_data_quality = c.ssn_data_quality.to_string();
        r.dob = c.dob.map(crate::stamp::date).unwrap_or_default();
        r.dob_data_quality = c.dob_data_quality.to_string();
        r.date_updated = out.local_text(&c.updated_at);
    });
    record.export_id.clone_from(&out.export_id);
    record
}

/// Project.csv: the programs of those enrollments.
pub(super) fn projects(out: &Out<'_>, named: &mut Named) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<ProjectRecord>();
    for id in &named.written_programs {
        let p = outgoing::project(out.conn, *id)?;
        let now = || ProjectOwned {
            id: p.project_id.clone(),
            organization_id: p.organization_id.clone(),
            name: p.name.clone(),
            project_type: p.project_type,
        };
        let created = p.created_at.with_timezone(&out.zone).date_naive();
        let fresh = || ProjectRecord {
            // The program has run at least since it was made, or since its first enrollment.
            operating_start_date: named
                .first_entry
                .get(id)
                .map_or(created, |d| (*d).min(created))
                .to_string(),
            continuum_project: "0".into(),
            target_population: "4".into(),
            date_created: out.local(p.created_at),
            user_id: SCANLINE_USER.into(),
            ..ProjectRecord::default()
        };
        let mut record = compose(&p.kept, now, fresh, |r, fresh| {
            r.project_id.clone_from(&p.project_id);
            r.organization_id.clone_from(&p.organization_id);
            r.project_name.clone_from(&p.name);
            r.project_type = p.project_type.to_string();
            r.date_updated = out.local(if fresh { p.created_at } else { out.now });
        });
        record.export_id.clone_from(&out.export_id);
        named.users.insert(record.user_id.clone());
        file.put(&record);
        named.organizations.insert(p.organization);
    }
    Ok(file.finish())
}

/// Organization.csv: the organizations of those programs.
pub(super) fn organizations(out: &Out<'_>, named: &mut Named) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<OrganizationRecord>();
    for id in &named.organizations {
        let o = outgoing::organization(out.conn, *id)?;
        let now = || OrganizationOwned { id: o.organization_id.clone(), name: o.name.clone() };
        let fresh = || OrganizationRecord {
            victim_service_provider: "0".into(),
            date_created: out.local(o.created_at),
            user_id: SCANLINE_USER.into(),
            ..OrganizationRecord::default()
        };
        let mut record = compose(&o.kept, now, fresh, |r, fresh| {
            r.organization_id.clone_from(&o.organization_id);
            r.organization_name.clone_from(&o.name);
            r.date_updated = out.local(if fresh { o.created_at } else { out.now });
        });
        record.export_id.clone_from(&out.export_id);
        named.users.insert(record.user_id.clone());
        file.put(&record);
    }
    Ok(file.finish())
}

/// User.csv: every user the records name. Scanline's staff (`SL-U<id>`) and its stations
/// (`SL-U0`) as Scanline knows them; the HMIS's users as the HMIS sent them; a user the HMIS
/// named but never sent with its ID alone.
pub(super) fn users(out: &Out<'_>, named: &Named) -> Result<Vec<u8>, StoreError> {
    let mut file = CsvFile::new::<UserRecord>();
    for id in named.users.iter().filter(|id| !id.is_empty()) {
        let mut record = match id.strip_prefix("SL-U").and_then(|n| n.parse::<i64>().ok()) {
            Some(n) => {
                let (name, created) = if n == 0 {
                    ("Scanline station".to_owned(), out.now)
                } else {
                    outgoing::user(out.conn, n)?
                };
                let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
                UserRecord {
                    user_first_name: first.to_owned(),
                    user_last_name: last.to_owned(),
                    date_created: out.local(created),
                    date_updated: out.local(created),
                    ..UserRecord::default()
                }
            }
            None => match outgoing::hmis_user(out.conn, id)? {
                Some(kept) => Kept(kept).record(),
                None => UserRecord {
                    date_created: out.local(out.now),
                    date_updated: out.local(out.now),
                    ..UserRecord::default()
                },
            },
        };
        record.user_id.clone_from(id);
        record.export_id.clone_from(&out.export_id);
        file.put(&record);
    }
    Ok(file.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanline_s_own_service_is_the_row_its_record_makes() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let o = super::super::tests::everything();
        let out = super::super::tests::chicago(&conn, &o, "SL-X1");
        let codes =
            HudCodes { record_type: 200, type_provided: 200, text: ("200".into(), "200".into()) };
        let ids = ("SL-E7".to_owned(), "SL\"12, b".to_owned());
        for (deleted, hmis) in [(None, None), (Some("2026-03-09 02:00:00"), Some("S,1".to_owned()))]
        {
            let s = outgoing::HudService {
                id: 41,
                hmis_services_id: hmis.clone(),
                enrollment_id: 7,
                service_type_id: 3,
                date_provided: "2026-03-08".into(),
                created_at: "2026-03-08 07:59:59.000+00:00".into(),
                created_by: Some(5),
                deleted_at: deleted.map(Into::into),
                kept: KeptText::default(),
            };
            let mut fast = CsvFile::new::<ServicesRecord>();
            put_own_service(&mut fast, &out, &s, &ids, &codes, "SL-U5", &mut String::new());
            let mut record = CsvFile::new::<ServicesRecord>();
            record.put(&ServicesRecord {
                services_id: hmis.unwrap_or_else(|| "SL-S41".into()),
                enrollment_id: ids.0.clone(),
                personal_id: ids.1.clone(),
                date_provided: "2026-03-08".into(),
                record_type: "200".into(),
                type_provided: "200".into(),
                date_created: "2026-03-08 01:59:59".into(),
                date_updated: if deleted.is_some() {
                    "2026-03-08 21:00:00"
                } else {
                    "2026-03-08 01:59:59"
                }
                .into(),
                user_id: "SL-U5".into(),
                date_deleted: if deleted.is_some() { "2026-03-08 21:00:00" } else { "" }.into(),
                export_id: "SL-X1".into(),
                ..ServicesRecord::default()
            });
            assert_eq!(String::from_utf8(fast.finish()), String::from_utf8(record.finish()));
        }
    }
}
