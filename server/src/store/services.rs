//! Services recorded by hand on the staff pages (batches post theirs in `batches`), and the
//! soft delete: a service is never removed, only marked with who deleted it and why.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, named_params};

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

/// Adds a service, tied to an enrollment of the client open on the date, within the service
/// type's per-day maximum.
pub fn add(conn: &Connection, s: &NewService) -> StoreResult<i64> {
    let e = super::enrollments::get(conn, s.enrollment_id)?;
    if e.client_id != s.client_id {
        return Err(StoreError::Invalid("that enrollment is another client's".into()));
    }
    let st = super::programs::get_service_type(conn, s.service_type_id)?;
    if st.program_id != e.program_id {
        return Err(StoreError::Invalid("that service belongs to another program".into()));
    }
    let program = super::programs::get_rules(conn, e.program_id)?;
    if !e.is_open_on(s.date, program.is_residential()) {
        return Err(StoreError::Invalid(format!(
            "the enrollment is not open on {}: services go on days between entry and exit",
            s.date
        )));
    }
    if !(s.units.is_finite() && (0.0..=1_000_000.0).contains(&s.units)) {
        return Err(StoreError::Invalid("units must be a number from 0 to 1000000".into()));
    }
    if st.max_per_day > 0 {
        let same_day: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM services WHERE client_id = :c AND service_type_id = :st
                   AND date_provided = :d AND deleted_at IS NULL",
            )?
            .query_row(named_params! {":c": s.client_id, ":st": st.id, ":d": s.date}, |r| {
                r.get(0)
            })?;
        if same_day >= i64::from(st.max_per_day) {
            return Err(StoreError::Conflict(format!(
                "the client already has {} on {} (at most {} a day)",
                st.name, s.date, st.max_per_day
            )));
        }
    }
    conn.prepare_cached(
        "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided,
             units, unit_value, created_by, created_at)
         VALUES (:e, :c, :p, :st, :d, :units, :value, :user, :at)",
    )?
    .execute(named_params! {
        ":e": e.id, ":c": s.client_id, ":p": e.program_id, ":st": st.id, ":d": s.date,
        ":units": s.units, ":value": st.unit_value, ":user": s.user_id, ":at": now(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// The client and program of a service, for permission checks.
pub fn owner(conn: &Connection, id: i64) -> StoreResult<(i64, i64)> {
    conn.prepare_cached("SELECT client_id, program_id FROM services WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| Ok((r.get(0)?, r.get(1)?)))
        .or_not_found(|| format!("no service {id}"))
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
