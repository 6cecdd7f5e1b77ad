//! Batches as staff and stations look them over: the batch list with its counts, a batch's
//! entries for review, and which entries a station sent that the server does not hold.

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};
use scanline_core::verdict::Verdict;

use super::BatchRow;
use crate::store::StoreResult;

/// A batch in the batch list.
#[derive(Debug, Clone)]
pub struct BatchListRow {
    pub uuid: String,
    pub program: String,
    pub service_date: NaiveDate,
    pub source: String,
    pub open: bool,
    pub entries: i64,
    pub accepted: i64,
    pub posted: i64,
    pub flagged: i64,
}

/// Batches of the given organizations' programs, newest first.
pub fn list_for_orgs(
    conn: &Connection,
    orgs: &[i64],
    limit: usize,
) -> StoreResult<Vec<BatchListRow>> {
    let orgs = serde_json::to_string(orgs).expect("ids serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT b.uuid, p.name, b.service_date,
             COALESCE('station ' || s.name, 'web, ' || u.display_name, 'web'),
             b.state = 'open',
             (SELECT COUNT(*) FROM batch_entries e WHERE e.batch_id = b.id AND e.deleted_at IS NULL),
             (SELECT COUNT(*) FROM batch_entries e WHERE e.batch_id = b.id AND e.deleted_at IS NULL AND e.verdict = 'accepted'),
             (SELECT COUNT(*) FROM batch_entries e WHERE e.batch_id = b.id AND e.posted_at IS NOT NULL),
             (SELECT COUNT(*) FROM batch_entries e WHERE e.batch_id = b.id AND e.deleted_at IS NULL
                AND (e.verdict != 'accepted' OR (e.late = 1 AND e.posted_at IS NULL)))
         FROM batches b JOIN programs p ON p.id = b.program_id
           LEFT JOIN stations s ON s.id = b.station_id LEFT JOIN users u ON u.id = b.created_by
         WHERE p.organization_id IN (SELECT value FROM json_each(:orgs))
         ORDER BY b.created_at DESC, b.id DESC LIMIT :lim",
    )?;
    let rows = stmt.query_map(named_params! {":orgs": orgs, ":lim": limit as i64}, |r| {
        Ok(BatchListRow {
            uuid: r.get(0)?,
            program: r.get(1)?,
            service_date: r.get(2)?,
            source: r.get(3)?,
            open: r.get(4)?,
            entries: r.get(5)?,
            accepted: r.get(6)?,
            posted: r.get(7)?,
            flagged: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An entry on the batch review page.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub uuid: String,
    pub code: String,
    pub client_id: Option<i64>,
    pub client_name: String,
    pub verdict: Verdict,
    pub detail: String,
    pub scanned_at: chrono::DateTime<chrono::Utc>,
    pub posted: bool,
    pub deleted: bool,
    /// Reached the server after the batch was closed.
    pub late: bool,
    /// The bed given (or asked for, when `bed_taken`), in a program with beds.
    pub bed_id: Option<i64>,
    /// That bed's name; empty when there is none.
    pub bed_name: String,
}

/// A batch's entries for review, newest first.
pub fn review(conn: &Connection, batch: &BatchRow) -> StoreResult<Vec<EntryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.uuid, e.code, e.client_id, COALESCE(c.first_name || ' ' || c.last_name, ''),
             e.verdict, e.detail, e.scanned_at, e.posted_at IS NOT NULL,
             e.deleted_at IS NOT NULL, e.late, e.bed_id, COALESCE(b.name, '')
         FROM batch_entries e LEFT JOIN clients c ON c.id = e.client_id
             LEFT JOIN beds b ON b.id = e.bed_id
         WHERE e.batch_id = :b ORDER BY e.scanned_at DESC, e.id DESC",
    )?;
    let rows = stmt.query_map(named_params! {":b": batch.id}, |r| {
        let v: String = r.get(4)?;
        Ok(EntryRow {
            uuid: r.get(0)?,
            code: r.get(1)?,
            client_id: r.get(2)?,
            client_name: r.get(3)?,
            verdict: Verdict::parse(&v).unwrap_or(Verdict::Misread),
            detail: r.get(5)?,
            scanned_at: r.get(6)?,
            posted: r.get(7)?,
            deleted: r.get(8)?,
            late: r.get(9)?,
            bed_id: r.get(10)?,
            bed_name: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Of these entry UUIDs, those the station has no entry for on this server.
pub fn missing_for_station(
    conn: &Connection,
    station: i64,
    uuids: &[uuid::Uuid],
) -> StoreResult<Vec<uuid::Uuid>> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                        WHERE e.uuid = :u AND b.station_id = :s)",
    )?;
    let mut missing = Vec::new();
    for u in uuids {
        let held: bool =
            stmt.query_row(named_params! {":u": u.to_string(), ":s": station}, |r| r.get(0))?;
        if !held {
            missing.push(*u);
        }
    }
    Ok(missing)
}
