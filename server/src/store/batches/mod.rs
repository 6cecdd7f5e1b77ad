//! Batches and their entries (DESIGN §3, §5, §7): create, upload entries idempotently by UUID
//! with the server's authoritative verdict, delete and revalidate entries, and post services
//! exactly once.
//!
//! Idempotency lives in the schema: entry UUIDs and batch UUIDs are unique, and services are
//! unique per (entry, service type), so a retried request finds its rows and writes nothing.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_core::bounds;
use scanline_core::domain::{ProgramRules, ServiceTypeRules};
use scanline_core::night::local_time;
use scanline_core::verdict::{self, BatchContext, Judgement, Verdict, Warning};
use scanline_core::wire::{BatchInfo, BatchState, CreateBatch, NotPosted, PostSummary};
use uuid::Uuid;

mod fixes;
mod intake;
mod lists;
#[cfg(test)]
mod tests;

pub use fixes::{delete_entry, revalidate, set_bed};
pub(crate) use intake::stored_verdict;
pub use intake::{add_entries, upload};
pub use lists::{BatchListRow, EntryRow, list_for_orgs, missing_for_station, review};

use crate::store::audit::{self, Actor};
use crate::store::facts::Door;
use crate::store::stations::StationAuth;
use crate::store::{OptionalExt, StoreError, StoreResult, now};

/// What staff read on an entry that reached the server after its batch was closed.
pub const LATE_NOTE: &str = "arrived after the batch was closed: review it, then Post Services";

/// Longest scanned payload kept verbatim; longer ones are misreads and stored cut.
const MAX_STORED_CODE: usize = 256;

#[derive(Debug, Clone)]
pub struct BatchRow {
    pub id: i64,
    pub uuid: Uuid,
    pub program_id: i64,
    pub service_date: NaiveDate,
    pub units: f64,
    pub unit_value: f64,
    pub description: String,
    pub auto_post: bool,
    pub station_id: Option<i64>,
    pub state: BatchState,
    pub service_type_ids: Vec<i64>,
}

/// The program and service types a batch's entries are judged against.
#[derive(Debug, Clone)]
pub struct Rules {
    pub program: ProgramRules,
    pub service_types: Vec<ServiceTypeRules>,
    pub time_zone: chrono_tz::Tz,
}

impl Rules {
    pub fn load(conn: &Connection, batch: &BatchRow) -> StoreResult<Self> {
        let program =
            crate::store::programs::get_rules(conn, crate::store::ProgramId(batch.program_id))?;
        let service_types = batch
            .service_type_ids
            .iter()
            .map(|&id| crate::store::programs::get_service_type(conn, id))
            .collect::<StoreResult<_>>()?;
        let time_zone = crate::store::orgs::time_zone(conn, program.organization_id)?;
        Ok(Self { program, service_types, time_zone })
    }

    /// The rules for services of `service_type_ids` in a program (the desk's Add service and
    /// Quick Services, which have no batch).
    pub fn for_program(
        conn: &Connection,
        program_id: i64,
        service_type_ids: &[i64],
    ) -> StoreResult<Self> {
        let program = crate::store::programs::get_rules(conn, crate::store::ProgramId(program_id))?;
        let service_types = service_type_ids
            .iter()
            .map(|&id| crate::store::programs::get_service_type(conn, id))
            .collect::<StoreResult<_>>()?;
        let time_zone = crate::store::orgs::time_zone(conn, program.organization_id)?;
        Ok(Self { program, service_types, time_zone })
    }

    pub fn ctx(&self) -> BatchContext<'_> {
        BatchContext { program: &self.program, service_types: &self.service_types }
    }
}

pub fn load(conn: &Connection, uuid: Uuid) -> StoreResult<BatchRow> {
    let mut row = conn
        .prepare_cached(
            "SELECT id, program_id, service_date, units, unit_value, description, auto_post,
                 station_id, state FROM batches WHERE uuid = :uuid",
        )?
        .query_row(named_params! {":uuid": uuid.to_string()}, |r| {
            let state: String = r.get(8)?;
            Ok(BatchRow {
                id: r.get(0)?,
                uuid,
                program_id: r.get(1)?,
                service_date: r.get(2)?,
                units: r.get(3)?,
                unit_value: r.get(4)?,
                description: r.get(5)?,
                auto_post: r.get(6)?,
                station_id: r.get(7)?,
                state: if state == "open" { BatchState::Open } else { BatchState::Closed },
                service_type_ids: Vec::new(),
            })
        })
        .or_not_found(|| format!("no batch {uuid}"))?;
    let mut stmt = conn.prepare_cached(
        "SELECT service_type_id FROM batch_service_types WHERE batch_id = :b ORDER BY service_type_id",
    )?;
    row.service_type_ids =
        stmt.query_map(named_params! {":b": row.id}, |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(row)
}

/// Loads a batch that belongs to this station; other stations' batches are "not found".
pub fn load_for_station(
    conn: &Connection,
    station: &StationAuth,
    uuid: Uuid,
) -> StoreResult<BatchRow> {
    let batch = load(conn, uuid)?;
    if batch.station_id != Some(station.id) {
        return Err(StoreError::NotFound(format!("no batch {uuid}")));
    }
    Ok(batch)
}

pub fn info(conn: &Connection, batch: &BatchRow) -> StoreResult<BatchInfo> {
    let (entries, posted): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COUNT(posted_at) FROM batch_entries
             WHERE batch_id = :b AND deleted_at IS NULL",
        )?
        .query_row(named_params! {":b": batch.id}, |r| Ok((r.get(0)?, r.get(1)?)))?;
    let anonymous = anonymous(conn, batch)?;
    Ok(BatchInfo {
        uuid: batch.uuid,
        program_id: batch.program_id,
        service_type_ids: batch.service_type_ids.clone(),
        service_date: batch.service_date,
        units: batch.units,
        unit_value: batch.unit_value,
        description: batch.description.clone(),
        auto_post: batch.auto_post,
        state: batch.state,
        entries: entries as u64,
        posted_entries: posted as u64,
        anonymous,
    })
}

/// The guests a batch served without a card and without a record.
pub fn anonymous(conn: &Connection, batch: &BatchRow) -> StoreResult<u32> {
    Ok(conn
        .prepare_cached("SELECT anonymous FROM batches WHERE id = :b")?
        .query_row(named_params! {":b": batch.id}, |r| r.get(0))?)
}

/// Records a station's count of guests without a record for a batch: the larger of the count
/// held and `count` stands, so counts sent again or out of order change nothing. Returns the
/// count held now.
pub fn set_anonymous(conn: &Connection, batch: &BatchRow, count: u32) -> StoreResult<u32> {
    if count > scanline_core::wire::MAX_ANONYMOUS {
        return Err(StoreError::Invalid(format!(
            "{count} guests without a card is more than one batch can count ({})",
            scanline_core::wire::MAX_ANONYMOUS
        )));
    }
    conn.prepare_cached("UPDATE batches SET anonymous = MAX(anonymous, :n) WHERE id = :b")?
        .execute(named_params! {":n": count, ":b": batch.id})?;
    anonymous(conn, batch)
}

/// Guests served without a record, per day, program and service type, of the batches of
/// programs in `orgs` (only `programs` when not empty) from `from` to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnonymousLine {
    pub date: NaiveDate,
    pub program: String,
    pub service: String,
    pub guests: i64,
    /// The batch's units per guest, times the guests.
    pub units: f64,
    pub unit_value: f64,
    /// The service type has a HUD record type (a bed night), so it goes in the HUD export's
    /// world rather than the file of services without a HUD code.
    pub hud: bool,
}

pub fn anonymous_by_day(
    conn: &Connection,
    orgs: &[i64],
    programs: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<AnonymousLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT b.service_date, p.name, t.name, SUM(b.anonymous), SUM(b.anonymous * b.units),
             MAX(b.unit_value), t.record_type IS NOT NULL
         FROM batches b JOIN programs p ON p.id = b.program_id
           JOIN batch_service_types bt ON bt.batch_id = b.id
           JOIN service_types t ON t.id = bt.service_type_id
         WHERE b.anonymous > 0 AND b.service_date BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))
           AND (:all OR p.id IN (SELECT value FROM json_each(:programs)))
         GROUP BY b.service_date, p.id, t.id ORDER BY b.service_date, p.name, t.name",
    )?;
    let rows = stmt.query_map(
        named_params! {
            ":from": from, ":to": to,
            ":orgs": serde_json::to_string(orgs).expect("ids serialise"),
            ":all": programs.is_empty(),
            ":programs": serde_json::to_string(programs).expect("ids serialise"),
        },
        |r| {
            Ok(AnonymousLine {
                date: r.get(0)?,
                program: r.get(1)?,
                service: r.get(2)?,
                guests: r.get(3)?,
                units: r.get(4)?,
                unit_value: r.get(5)?,
                hud: r.get(6)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Who creates a batch.
#[derive(Debug, Clone, Copy)]
pub enum Creator<'a> {
    Station(&'a StationAuth),
    User(i64),
}

/// Creates a batch, or returns the existing one when the same request is retried.
/// Returns the batch and whether it was created now.
pub fn create(
    conn: &Connection,
    by: Creator<'_>,
    req: &CreateBatch,
    as_of: DateTime<Utc>,
) -> StoreResult<(BatchRow, bool)> {
    let program = crate::store::programs::get_rules(conn, crate::store::ProgramId(req.program_id))?;
    if let Creator::Station(station) = by
        && !station.programs.contains(&req.program_id)
    {
        return Err(StoreError::Forbidden(format!(
            "this station does not serve program {}",
            req.program_id
        )));
    }
    if req.service_type_ids.is_empty() {
        return Err(StoreError::Invalid("a batch needs at least one service type".into()));
    }
    let mut types = req.service_type_ids.clone();
    types.sort_unstable();
    types.dedup();
    if types.len() != req.service_type_ids.len() {
        return Err(StoreError::Invalid("a service type is listed twice".into()));
    }
    let mut first_units = None;
    for &st in &types {
        let rules = crate::store::programs::get_service_type(conn, st)?;
        if rules.program_id != program.id {
            return Err(StoreError::Invalid(format!(
                "service type {st} does not belong to program {}",
                program.id
            )));
        }
        if first_units.is_none() && st == req.service_type_ids[0] {
            first_units = Some((rules.default_units, rules.unit_value));
        }
    }
    let (default_units, default_value) = match first_units {
        Some(v) => v,
        None => {
            let r = crate::store::programs::get_service_type(conn, req.service_type_ids[0])?;
            (r.default_units, r.unit_value)
        }
    };
    let units = req.units.unwrap_or(default_units);
    let unit_value = req.unit_value.unwrap_or(default_value);
    if !(units.is_finite() && (0.0..=1_000_000.0).contains(&units)) {
        return Err(StoreError::Invalid("units must be a number from 0 to 1000000".into()));
    }
    if !(unit_value.is_finite() && (0.0..=1_000_000.0).contains(&unit_value)) {
        return Err(StoreError::Invalid("unit value must be a number from 0 to 1000000".into()));
    }
    let description = req.description.as_deref().unwrap_or("").trim().to_owned();
    if description.chars().count() > 500 || description.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "the description must be at most 500 characters, without control characters".into(),
        ));
    }
    let (station_id, user_id) = match by {
        Creator::Station(s) => (Some(s.id), None),
        Creator::User(u) => (None, Some(u)),
    };

    if let Some(existing) = conn
        .prepare_cached("SELECT 1 FROM batches WHERE uuid = :u")?
        .query_row(named_params! {":u": req.uuid.to_string()}, |_| Ok(()))
        .optional()?
    {
        let () = existing;
        let batch = load(conn, req.uuid)?;
        let same = batch.station_id == station_id
            && batch.program_id == req.program_id
            && batch.service_date == req.service_date
            && batch.service_type_ids == types;
        if !same {
            return Err(StoreError::Conflict(format!(
                "batch {} already exists with other settings",
                req.uuid
            )));
        }
        return Ok((batch, false));
    }

    // A new batch's date lies in the window a station can produce, in the organization's
    // zone; a retried request for an existing batch was checked when it was made.
    let zone = crate::store::orgs::time_zone(conn, program.organization_id)?;
    let today = as_of.with_timezone(&zone).date_naive();
    bounds::service_date("service date", req.service_date, today)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO batches (uuid, program_id, service_date, units, unit_value, description,
             auto_post, station_id, created_by, created_at)
         VALUES (:uuid, :p, :date, :units, :value, :desc, :auto, :station, :user, :at)",
    )?
    .execute(named_params! {
        ":uuid": req.uuid.to_string(), ":p": program.id, ":date": req.service_date,
        ":units": units, ":value": unit_value, ":desc": description, ":auto": req.auto_post,
        ":station": station_id, ":user": user_id, ":at": now(),
    })?;
    let id = conn.last_insert_rowid();
    let mut add = conn.prepare_cached(
        "INSERT INTO batch_service_types (batch_id, service_type_id) VALUES (:b, :st)",
    )?;
    for st in &types {
        add.execute(named_params! {":b": id, ":st": st})?;
    }
    Ok((load(conn, req.uuid)?, true))
}

pub(crate) fn warnings_text(w: &[Warning]) -> String {
    w.iter()
        .map(|w| match w {
            Warning::FrequencyLimit => "frequency_limit",
            Warning::CapacityFull => "capacity_full",
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn warnings_parse(s: &str) -> Vec<Warning> {
    s.split(',')
        .filter_map(|w| match w {
            "frequency_limit" => Some(Warning::FrequencyLimit),
            "capacity_full" => Some(Warning::CapacityFull),
            _ => None,
        })
        .collect()
}

/// Judges one scan against the system of record.
pub fn judge_scan(
    conn: &Connection,
    rules: &Rules,
    code: &str,
    service_date: NaiveDate,
    door: Door<'_>,
) -> StoreResult<(Option<i64>, Judgement)> {
    match verdict::first_look(code) {
        Err(misread) => Ok((None, misread)),
        Ok(scan) => {
            let ctx = rules.ctx();
            let (card_id, facts) =
                crate::store::facts::gather(conn, &ctx, &scan, service_date, door)?;
            Ok((card_id, verdict::judge(&ctx, service_date, &facts)))
        }
    }
}

/// The verdict on a service staff record at the desk (Add service, Quick Services) for a
/// client they picked: the rules a scan meets once its card resolved, over the same facts,
/// so the desk can never give a second meal the station already gave (DESIGN §13).
pub fn judge_desk(
    conn: &Connection,
    rules: &Rules,
    client_id: i64,
    service_date: NaiveDate,
) -> StoreResult<Judgement> {
    let facts = crate::store::facts::of_client(
        conn,
        &rules.ctx(),
        client_id,
        service_date,
        Door::default(),
        None,
    )?;
    Ok(verdict::judge_client(&rules.ctx(), service_date, client_id, &facts))
}

/// Why a service was not recorded, for the person at the desk: the verdict's words and its
/// reason.
pub fn refusal(j: &Judgement) -> String {
    let words = match j.verdict {
        Verdict::Barred => "Barred",
        Verdict::Duplicate => "Already served",
        Verdict::QueuedForIntake => "Not enrolled",
        other => other.staff_label(),
    };
    format!("Not saved. {words}: {}.", j.detail)
}

/// The service date of a scan in this batch.
pub fn service_date_of(batch: &BatchRow, rules: &Rules, scanned_at: DateTime<Utc>) -> NaiveDate {
    rules.ctx().service_date(batch.service_date, local_time(scanned_at, &rules.time_zone))
}

struct Pending {
    id: i64,
    uuid: String,
    client_id: i64,
    service_date: NaiveDate,
    scanned_at: DateTime<Utc>,
    bed_id: Option<i64>,
}

/// Posts the accepted entries of a batch that are not posted yet: one service per service type,
/// tied to the entry's open enrollment (auto-enrolling when the program says so). Runs in the
/// caller's transaction, so it is all or nothing; a second call posts nothing new.
///
/// Each entry is judged again as it posts, inside this transaction: what was recorded since it
/// was scanned (a service at the desk, an HMIS import, another station's scan) may make it a
/// duplicate now, and then it is flagged with its new verdict, not posted. Bars made after the
/// scan are left out of that judgement: they do not undo a meal already given.
pub fn post(conn: &Connection, batch: &BatchRow, actor: Actor) -> StoreResult<PostSummary> {
    let rules = Rules::load(conn, batch)?;
    let ctx = rules.ctx();
    let pending: Vec<Pending> = conn
        .prepare_cached(
            "SELECT id, uuid, client_id, service_date, scanned_at, bed_id
             FROM batch_entries
             WHERE batch_id = :b AND verdict = 'accepted' AND posted_at IS NULL
               AND deleted_at IS NULL AND client_id IS NOT NULL
             ORDER BY scanned_at, id",
        )?
        .query_map(named_params! {":b": batch.id}, |r| {
            Ok(Pending {
                id: r.get(0)?,
                uuid: r.get(1)?,
                client_id: r.get(2)?,
                service_date: r.get(3)?,
                scanned_at: r.get(4)?,
                bed_id: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;

    let at = now();
    let (station_id, user_id) = match actor {
        Actor::Station(s) => (Some(s), None),
        Actor::User(u) => (None, Some(u)),
        Actor::System | Actor::Cli => (batch.station_id, None),
    };
    let mut insert_service = conn.prepare_cached(
        "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id,
             date_provided, units, unit_value, batch_entry_id, station_id, created_by, created_at,
             bed_id)
         VALUES (:enr, :c, :p, :st, :date, :units, :value, :entry, :station, :user, :at, :bed)
         ON CONFLICT (batch_entry_id, service_type_id) WHERE batch_entry_id IS NOT NULL
         DO NOTHING",
    )?;
    let mut mark_posted = conn.prepare_cached(
        "UPDATE batch_entries SET posted_at = :at, enrollment_id = :enr WHERE id = :id",
    )?;
    let mut reflag = conn.prepare_cached(
        "UPDATE batch_entries SET verdict = :verdict, warnings = :warnings, detail = :detail,
             enrollment_id = NULL, auto_enroll = 0
         WHERE id = :id",
    )?;
    let mut posted = 0;
    let mut services_created = 0;
    let mut enrollments_created = 0;
    for p in &pending {
        let facts = crate::store::facts::of_client(
            conn,
            &ctx,
            p.client_id,
            p.service_date,
            Door { entry: Some(&p.uuid), at: Some(p.scanned_at), bed: p.bed_id },
            Some(p.scanned_at),
        )?;
        let j = verdict::judge_client(&ctx, p.service_date, p.client_id, &facts);
        if !j.verdict.is_accepted() {
            reflag.execute(named_params! {
                ":verdict": j.verdict.as_str(), ":warnings": warnings_text(&j.warnings),
                ":detail": j.detail, ":id": p.id,
            })?;
            continue;
        }
        let enrollment_id = match j.enrollment_id {
            Some(id) => id,
            // The verdict accepts without an enrollment only when the program enrolls on the
            // first bed night.
            None => {
                enrollments_created += 1;
                crate::store::enrollments::insert(
                    conn,
                    &crate::store::enrollments::NewEnrollment {
                        client_id: p.client_id,
                        program_id: batch.program_id,
                        entry_date: p.service_date,
                        household_id: None,
                        relationship_to_hoh: 1,
                    },
                )?
            }
        };
        for &st in &batch.service_type_ids {
            services_created += insert_service.execute(named_params! {
                ":enr": enrollment_id, ":c": p.client_id, ":p": batch.program_id, ":st": st,
                ":date": p.service_date, ":units": batch.units, ":value": batch.unit_value,
                ":entry": p.id, ":station": station_id, ":user": user_id, ":at": at,
                ":bed": j.bed_id,
            })? as u64;
        }
        mark_posted.execute(named_params! {":at": at, ":enr": enrollment_id, ":id": p.id})?;
        posted += 1;
    }
    conn.prepare_cached("UPDATE batches SET last_posted_at = :at WHERE id = :b")?
        .execute(named_params! {":at": at, ":b": batch.id})?;

    let (already_posted, deleted): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*) FILTER (WHERE posted_at IS NOT NULL AND posted_at != :at),
                    COUNT(*) FILTER (WHERE deleted_at IS NOT NULL)
             FROM batch_entries WHERE batch_id = :b",
        )?
        .query_row(named_params! {":b": batch.id, ":at": at}, |r| Ok((r.get(0)?, r.get(1)?)))?;
    let flagged = conn
        .prepare_cached(
            "SELECT uuid, verdict, detail FROM batch_entries
             WHERE batch_id = :b AND verdict != 'accepted' AND deleted_at IS NULL
             ORDER BY scanned_at, id",
        )?
        .query_map(named_params! {":b": batch.id}, |r| {
            let uuid: String = r.get(0)?;
            let verdict: String = r.get(1)?;
            Ok(NotPosted {
                uuid: uuid.parse().unwrap_or_default(),
                verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Misread),
                detail: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    audit::record(
        conn,
        actor,
        "post_services",
        None,
        &format!("batch {}", batch.uuid),
        &format!("posted {posted}, services {services_created}, flagged {}", flagged.len()),
    )?;
    Ok(PostSummary {
        batch: batch.uuid,
        posted,
        services_created,
        enrollments_created,
        already_posted: already_posted as u64,
        flagged,
        deleted: deleted as u64,
    })
}

/// Closes a batch to new scans; with auto-post, posts it in the same transaction.
pub fn close(
    conn: &Connection,
    batch: &BatchRow,
    actor: Actor,
) -> StoreResult<(BatchRow, Option<PostSummary>)> {
    if batch.state == BatchState::Open {
        conn.prepare_cached("UPDATE batches SET state = 'closed', closed_at = :at WHERE id = :b")?
            .execute(named_params! {":at": now(), ":b": batch.id})?;
    }
    let summary = if batch.auto_post { Some(post(conn, batch, actor)?) } else { None };
    Ok((load(conn, batch.uuid)?, summary))
}

/// How many entries are stored, deleted ones too: what the layers above check in their tests.
#[cfg(test)]
pub(crate) fn stored_entries(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0))?)
}
