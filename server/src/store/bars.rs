//! Bars: a client kept from an organization, program or service type between two dates.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, named_params};
use scanline_core::domain::{BarScope, BarSpan};

use super::{ProgramId, StoreError, StoreResult, now, required_text};

pub fn insert(
    conn: &Connection,
    client_id: i64,
    scope: BarScope,
    begin: NaiveDate,
    end: NaiveDate,
    reason: &str,
    created_by: Option<i64>,
) -> StoreResult<i64> {
    super::clients::get(conn, super::ClientId(client_id))?;
    let reason = required_text("reason", reason, 1000)?;
    if end < begin {
        return Err(StoreError::Invalid(format!(
            "the bar ends ({end}) before it begins ({begin})"
        )));
    }
    // A bar "for good" ends in 2099; only the calendar's limits apply.
    super::in_range(scanline_core::bounds::calendar("begin date", begin))?;
    super::in_range(scanline_core::bounds::calendar("end date", end))?;
    match scope {
        BarScope::Organization(id) => super::orgs::get(conn, id).map(drop)?,
        BarScope::Program(id) => super::programs::get_rules(conn, ProgramId(id)).map(drop)?,
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
    Ok(BarSpan::from_stored((r.get(0)?, r.get(1)?, &kind, r.get(3)?), (r.get(4)?, r.get(5)?)))
}

pub const COLUMNS: &str = "id, client_id, scope_kind, scope_id, begin_date, end_date";

/// The bars of the clients in `clients` (a JSON array of ids) still in force on or after
/// `from`; with `made_by`, only those made by then. One statement for any number of clients.
pub fn of_clients(
    conn: &Connection,
    clients: &str,
    from: NaiveDate,
    made_by: Option<DateTime<Utc>>,
) -> StoreResult<Vec<BarSpan>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM bars
         WHERE client_id IN (SELECT value FROM json_each(:c)) AND end_date >= :from
           AND (:made_by IS NULL OR created_at <= :made_by)
         ORDER BY id"
    ))?;
    let rows = stmt
        .query_map(named_params! {":c": clients, ":from": from, ":made_by": made_by}, from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ends a bar early: `last_day` becomes its (inclusive) end date.
pub fn end_early(conn: &Connection, id: i64, last_day: NaiveDate) -> StoreResult<()> {
    super::in_range(scanline_core::bounds::calendar("last day", last_day))?;
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

/// A bar as the bar list shows it.
#[derive(Debug, Clone)]
pub struct BarRow {
    pub id: i64,
    pub client_id: i64,
    pub client_number: u32,
    pub client_name: String,
    pub scope: String,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
    pub reason: String,
    pub ended_early: bool,
    /// The organization whose organization, program or service type the bar covers.
    pub organization_id: i64,
}

/// Bars covering the given organizations or their programs and service types, newest end
/// first. Restricted clients of other organizations are left out.
pub fn list_for_orgs(conn: &Connection, orgs: &[i64]) -> StoreResult<Vec<BarRow>> {
    let orgs = serde_json::to_string(orgs).expect("ids serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT b.id, c.id, c.client_number, c.first_name || ' ' || c.last_name,
             CASE b.scope_kind
                 WHEN 'organization' THEN 'all of ' || o.name
                 WHEN 'program' THEN p.name
                 ELSE st.name || ' (' || sp.name || ')' END,
             b.begin_date, b.end_date, b.reason, b.ended_early_at IS NOT NULL,
             COALESCE(o.id, p.organization_id, sp.organization_id)
         FROM bars b JOIN clients c ON c.id = b.client_id
           LEFT JOIN organizations o ON b.scope_kind = 'organization' AND o.id = b.scope_id
           LEFT JOIN programs p ON b.scope_kind = 'program' AND p.id = b.scope_id
           LEFT JOIN service_types st ON b.scope_kind = 'service_type' AND st.id = b.scope_id
           LEFT JOIN programs sp ON sp.id = st.program_id
         WHERE COALESCE(o.id, p.organization_id, sp.organization_id) IN (SELECT value FROM json_each(:orgs))
           AND (c.restricted = 0 OR c.organization_id IN (SELECT value FROM json_each(:orgs)))
         ORDER BY b.end_date DESC, b.id DESC LIMIT 500",
    )?;
    let rows = stmt.query_map(named_params! {":orgs": orgs}, |r| {
        Ok(BarRow {
            id: r.get(0)?,
            client_id: r.get(1)?,
            client_number: r.get(2)?,
            client_name: r.get(3)?,
            scope: r.get(4)?,
            begin_date: r.get(5)?,
            end_date: r.get(6)?,
            reason: r.get(7)?,
            ended_early: r.get(8)?,
            organization_id: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The organization a bar's scope belongs to.
pub fn scope_organization(conn: &Connection, scope: BarScope) -> StoreResult<i64> {
    Ok(match scope {
        BarScope::Organization(id) => super::orgs::get(conn, id)?.id,
        BarScope::Program(id) => {
            super::programs::get_rules(conn, super::ProgramId(id))?.organization_id
        }
        BarScope::ServiceType(id) => {
            let st = super::programs::get_service_type(conn, id)?;
            super::programs::get_rules(conn, super::ProgramId(st.program_id))?.organization_id
        }
    })
}

/// The organization a stored bar's scope belongs to.
pub fn organization_of(conn: &Connection, id: i64) -> StoreResult<i64> {
    let (kind, sid): (String, i64) = conn
        .prepare_cached("SELECT scope_kind, scope_id FROM bars WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|_| StoreError::NotFound(format!("no bar {id}")))?;
    let scope = BarScope::from_parts(&kind, sid)
        .ok_or_else(|| StoreError::NotFound(format!("no bar {id}")))?;
    scope_organization(conn, scope)
}
