//! Bars: a client kept from an organization, program or service type between two dates.

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};
use scanline_core::domain::{BarScope, BarSpan};

use super::{StoreError, StoreResult, now, required_text};

pub fn insert(
    conn: &Connection,
    client_id: i64,
    scope: BarScope,
    begin: NaiveDate,
    end: NaiveDate,
    reason: &str,
    created_by: Option<i64>,
) -> StoreResult<i64> {
    super::clients::get(conn, client_id)?;
    let reason = required_text("reason", reason, 1000)?;
    if end < begin {
        return Err(StoreError::Invalid(format!(
            "the bar ends ({end}) before it begins ({begin})"
        )));
    }
    match scope {
        BarScope::Organization(id) => super::orgs::get(conn, id).map(drop)?,
        BarScope::Program(id) => super::programs::get_rules(conn, id).map(drop)?,
        BarScope::ServiceType(id) => super::programs::get_service_type(conn, id).map(drop)?,
    }
    conn.prepare_cached(
        "INSERT INTO bars (client_id, scope_kind, scope_id, begin_date, end_date, reason,
             created_by, created_at)
         VALUES (:c, :kind, :sid, :begin, :end, :reason, :by, :at)",
    )?
    .execute(named_params! {
        ":c": client_id, ":kind": scope.kind_str(), ":sid": scope.id(), ":begin": begin,
        ":end": end, ":reason": reason, ":by": created_by, ":at": now(),
    })?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BarSpan> {
    let kind: String = r.get(2)?;
    let sid: i64 = r.get(3)?;
    Ok(BarSpan {
        id: r.get(0)?,
        client_id: r.get(1)?,
        // The schema's CHECK admits only the three scope words.
        scope: BarScope::from_parts(&kind, sid).unwrap_or(BarScope::Organization(sid)),
        begin_date: r.get(4)?,
        end_date: r.get(5)?,
    })
}

pub const COLUMNS: &str = "id, client_id, scope_kind, scope_id, begin_date, end_date";

/// A client's bars that are still in force on or after `from`.
pub fn of_client(conn: &Connection, client: i64, from: NaiveDate) -> StoreResult<Vec<BarSpan>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM bars WHERE client_id = :c AND end_date >= :from"
    ))?;
    let rows = stmt.query_map(named_params! {":c": client, ":from": from}, from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ends a bar early: `last_day` becomes its (inclusive) end date.
pub fn end_early(conn: &Connection, id: i64, last_day: NaiveDate) -> StoreResult<()> {
    let (begin, end): (NaiveDate, NaiveDate) = conn
        .prepare_cached("SELECT begin_date, end_date FROM bars WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|_| StoreError::NotFound(format!("no bar {id}")))?;
    if last_day >= end {
        return Err(StoreError::Invalid(format!("bar {id} already ends on {end}")));
    }
    if last_day < begin {
        return Err(StoreError::Invalid(format!(
            "bar {id} begins on {begin}; its last day cannot be earlier"
        )));
    }
    conn.prepare_cached("UPDATE bars SET end_date = :d, ended_early_at = :at WHERE id = :id")?
        .execute(named_params! {":d": last_day, ":at": now(), ":id": id})?;
    Ok(())
}
