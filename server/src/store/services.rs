//! Services recorded by hand on the staff pages (batches post theirs in `batches`), and the
//! soft delete: a service is never removed, only marked with who deleted it and why.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_core::bounds;

use super::{OptionalExt, StoreError, StoreResult, now, required_text};

/// A service to add to a client's enrollment.
#[derive(Debug, Clone)]
pub struct NewService {
    pub client_id: i64,
    pub enrollment_id: i64,
    pub service_type_id: i64,
    pub date: NaiveDate,
    pub units: f64,
    pub user_id: i64,
}

/// Adds a service staff picked at the desk, tied to an enrollment of the client open on the
/// date, if the verdict every scan meets accepts it (bars, duplicates, visit limits,
/// capacity, counting what stations accepted and have not posted yet). A refusal is
/// `Invalid` with the verdict's reason, and nothing is written. `as_of` is the server's clock:
/// the date must lie in the window a station could scan in.
pub fn add(conn: &Connection, s: &NewService, as_of: DateTime<Utc>) -> StoreResult<i64> {
    let e = super::enrollments::get(conn, s.enrollment_id)?;
    if e.client_id != s.client_id {
        return Err(StoreError::Invalid("that enrollment is another client's".into()));
    }
    let st = super::programs::get_service_type(conn, s.service_type_id)?;
    if st.program_id != e.program_id {
        return Err(StoreError::Invalid("that service belongs to another program".into()));
    }
    let rules = super::batches::Rules::for_program(conn, e.program_id, &[st.id])?;
    let today = as_of.with_timezone(&rules.time_zone).date_naive();
    bounds::service_date("service date", s.date, today)
        .map_err(|err| StoreError::Invalid(format!("Not saved: {err}.")))?;
    if !e.is_open_on(s.date, rules.program.is_residential()) {
        return Err(StoreError::Invalid(format!(
            "the enrollment is not open on {}: services go on days between entry and exit",
            s.date
        )));
    }
    if !(s.units.is_finite() && (0.0..=1_000_000.0).contains(&s.units)) {
        return Err(StoreError::Invalid("units must be a number from 0 to 1000000".into()));
    }
    let j = super::batches::judge_desk(conn, &rules, s.client_id, s.date)?;
    if !j.verdict.is_accepted() {
        return Err(StoreError::Invalid(super::batches::refusal(&j)));
    }
    conn.prepare_cached(
        "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided,
             units, unit_value, created_by, created_at, bed_id)
         VALUES (:e, :c, :p, :st, :d, :units, :value, :user, :at, :bed)",
    )?
    .execute(named_params! {
        ":e": e.id, ":c": s.client_id, ":p": e.program_id, ":st": st.id, ":d": s.date,
        ":units": s.units, ":value": st.unit_value, ":user": s.user_id, ":at": now(),
        // A bed night added at the desk is given a bed like a scan at the door.
        ":bed": j.bed_id.filter(|_| st.is_bed_night()),
    })?;
    Ok(conn.last_insert_rowid())
}

/// One service in a client's history, for the homeless verification letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayLine {
    pub program: String,
    pub service: String,
    /// A bed night (HUD record type 200): a night stayed.
    pub bed_night: bool,
    pub date: NaiveDate,
}

/// A client's services (not deleted) from `from` to `to` in the programs of `orgs`, by program,
/// then date.
pub fn stay_history(
    conn: &Connection,
    client: super::ClientId,
    orgs: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<StayLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.name, t.name, COALESCE(t.record_type = 200, 0), s.date_provided
         FROM services s JOIN programs p ON p.id = s.program_id
           JOIN service_types t ON t.id = s.service_type_id
         WHERE s.client_id = :c AND s.deleted_at IS NULL
           AND s.date_provided BETWEEN :from AND :to
           AND p.organization_id IN (SELECT value FROM json_each(:orgs))
         ORDER BY p.name, p.id, s.date_provided, t.name",
    )?;
    let rows = stmt.query_map(
        named_params! {
            ":c": client, ":from": from, ":to": to,
            ":orgs": serde_json::to_string(orgs).expect("ids serialise"),
        },
        |r| {
            Ok(StayLine {
                program: r.get(0)?,
                service: r.get(1)?,
                bed_night: r.get(2)?,
                date: r.get(3)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many services of `service_type` each client has in `program` on `date`: posted ones
/// (not deleted) and accepted batch entries waiting to post, as the duplicate rule counts them.
/// Clients with none are left out.
pub fn served_on(
    conn: &Connection,
    program: i64,
    service_type: i64,
    date: NaiveDate,
) -> StoreResult<std::collections::HashMap<i64, u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_id, COUNT(*) FROM (
             SELECT client_id FROM services
             WHERE program_id = :p AND date_provided = :d AND service_type_id = :st
               AND deleted_at IS NULL
             UNION ALL
             SELECT e.client_id FROM batch_entries e
             WHERE e.program_id = :p AND e.service_date = :d AND e.verdict = 'accepted'
               AND e.posted_at IS NULL AND e.deleted_at IS NULL AND e.client_id IS NOT NULL
               AND EXISTS (SELECT 1 FROM batch_service_types bst
                           WHERE bst.batch_id = e.batch_id AND bst.service_type_id = :st)
         ) GROUP BY client_id",
    )?;
    let rows = stmt
        .query_map(named_params! {":p": program, ":d": date, ":st": service_type}, |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, u32>(1)?))
        })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The client and program of a service, for permission checks.
pub fn owner(conn: &Connection, id: i64) -> StoreResult<Owner> {
    conn.prepare_cached("SELECT client_id, program_id FROM services WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| {
            Ok(Owner { client: r.get(0)?, program: r.get(1)? })
        })
        .or_not_found(|| format!("no service {id}"))
}

/// Whose a service is: the client it was given to and the program that gave it.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub client: super::ClientId,
    pub program: super::ProgramId,
}

/// Marks a service deleted, with who and why. It stays in the database and in exports as
/// deleted.
pub fn soft_delete(conn: &Connection, id: i64, user_id: i64, reason: &str) -> StoreResult<()> {
    let reason = required_text("reason", reason, 500)?;
    let deleted: Option<Option<String>> = conn
        .prepare_cached("SELECT deleted_at FROM services WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| r.get(0))
        .optional()?;
    match deleted {
        None => Err(StoreError::NotFound(format!("no service {id}"))),
        Some(Some(_)) => Err(StoreError::Conflict("that service is already deleted".into())),
        Some(None) => {
            conn.prepare_cached(
                "UPDATE services SET deleted_at = :at, deleted_by = :u, deleted_reason = :r WHERE id = :id",
            )?
            .execute(named_params! {":at": now(), ":u": user_id, ":r": reason, ":id": id})?;
            Ok(())
        }
    }
}
