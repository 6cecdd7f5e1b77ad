//! Staff and stations fixing entries under review (DESIGN §3, §7, §16): delete one (the X),
//! judge a batch's entries again once a cause is fixed, and give an entry another bed.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_core::verdict::Judgement;
use scanline_core::wire::EntryVerdict;
use uuid::Uuid;

use super::{BatchRow, Rules, judge_scan, stored_verdict, warnings_text};
use crate::store::facts::Door;
use crate::store::{StoreError, StoreResult, now};

/// Deletes an entry from review (the X in the batch list). Posted entries cannot be deleted
/// here: their services are soft-deleted by an admin instead.
pub fn delete_entry(
    conn: &Connection,
    batch: &BatchRow,
    entry: Uuid,
    by: Option<i64>,
) -> StoreResult<()> {
    let row: Option<(i64, bool, bool)> = conn
        .prepare_cached(
            "SELECT batch_id, posted_at IS NOT NULL, deleted_at IS NOT NULL
             FROM batch_entries WHERE uuid = :u",
        )?
        .query_row(named_params! {":u": entry.to_string()}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    match row {
        Some((b, _, _)) if b != batch.id => Err(StoreError::NotFound(format!("no entry {entry}"))),
        None => Err(StoreError::NotFound(format!("no entry {entry}"))),
        Some((_, true, _)) => Err(StoreError::Conflict(format!("entry {entry} is already posted"))),
        Some((_, _, true)) => Ok(()),
        Some(_) => {
            conn.prepare_cached(
                "UPDATE batch_entries SET deleted_at = :at, deleted_by = :by WHERE uuid = :u",
            )?
            .execute(named_params! {":at": now(), ":by": by, ":u": entry.to_string()})?;
            Ok(())
        }
    }
}

/// Judges every unposted, undeleted entry of a batch again, in scan order, after staff fixed a
/// cause (enrolled the client, lifted a bar). Returns the new verdicts.
pub fn revalidate(conn: &Connection, batch: &BatchRow) -> StoreResult<Vec<EntryVerdict>> {
    type Row = (String, String, NaiveDate, Option<String>, DateTime<Utc>, Option<i64>);
    let rules = Rules::load(conn, batch)?;
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT uuid, code, service_date, station_verdict, scanned_at, bed_id
             FROM batch_entries
             WHERE batch_id = :b AND posted_at IS NULL AND deleted_at IS NULL
             ORDER BY scanned_at, id",
        )?
        .query_map(named_params! {":b": batch.id}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (uuid, code, service_date, station_verdict, at, bed) in rows {
        let door = Door { entry: Some(&uuid), at: Some(at), bed };
        let (card_id, j) = judge_scan(conn, &rules, &code, service_date, door)?;
        store_judgement(conn, &uuid, card_id, &j, j.bed_id.or(bed))?;
        out.push(EntryVerdict {
            uuid: uuid.parse().unwrap_or_default(),
            verdict: j.verdict,
            warnings: j.warnings,
            detail: j.detail,
            client_id: j.client_id,
            service_date,
            changed: station_verdict.is_some_and(|s| s != j.verdict.as_str()),
            duplicate_upload: false,
            posted: false,
            deleted: false,
            bed_id: j.bed_id,
        });
    }
    Ok(out)
}

/// Gives an entry of the batch another bed (staff chose it at the kiosk or on the batch page)
/// and judges it again: a bed another guest already has tonight is refused and nothing
/// changes. A `bed_taken` entry becomes accepted this way. Returns the new verdict.
pub fn set_bed(
    conn: &Connection,
    batch: &BatchRow,
    entry: Uuid,
    bed: i64,
) -> StoreResult<EntryVerdict> {
    let uuid = entry.to_string();
    let row: Option<(i64, String, NaiveDate, DateTime<Utc>, bool, bool)> = conn
        .prepare_cached(
            "SELECT batch_id, code, service_date, scanned_at, posted_at IS NOT NULL,
                 deleted_at IS NOT NULL
             FROM batch_entries WHERE uuid = :u",
        )?
        .query_row(named_params! {":u": uuid}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    let Some((batch_id, code, service_date, at, posted, deleted)) = row else {
        return Err(StoreError::NotFound(format!("no entry {entry}")));
    };
    if batch_id != batch.id {
        return Err(StoreError::NotFound(format!("no entry {entry}")));
    }
    if posted || deleted {
        return Err(StoreError::Conflict(format!(
            "entry {entry} is already {}",
            if posted { "posted" } else { "deleted" }
        )));
    }
    let rules = Rules::load(conn, batch)?;
    let name = crate::store::beds::get(conn, batch.program_id, bed)?.name;
    let door = Door { entry: Some(&uuid), at: Some(at), bed: Some(bed) };
    let (card_id, j) = judge_scan(conn, &rules, &code, service_date, door)?;
    if j.verdict == scanline_core::Verdict::BedTaken {
        return Err(StoreError::Conflict(format!(
            "bed {name} is already given to another guest tonight"
        )));
    }
    store_judgement(conn, &uuid, card_id, &j, j.bed_id)?;
    let (_, mut v) = stored_verdict(conn, &uuid)?
        .ok_or_else(|| StoreError::NotFound(format!("no entry {entry}")))?;
    v.duplicate_upload = false;
    Ok(v)
}

/// Stores an entry's new judgement.
fn store_judgement(
    conn: &Connection,
    uuid: &str,
    card_id: Option<i64>,
    j: &Judgement,
    bed: Option<i64>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE batch_entries SET card_id = :card, client_id = :client, enrollment_id = :enr,
             verdict = :verdict, warnings = :warnings, detail = :detail, auto_enroll = :auto,
             bed_id = :bed
         WHERE uuid = :uuid",
    )?
    .execute(named_params! {
        ":card": card_id, ":client": j.client_id, ":enr": j.enrollment_id,
        ":verdict": j.verdict.as_str(), ":warnings": warnings_text(&j.warnings),
        ":detail": j.detail, ":auto": j.auto_enroll, ":uuid": uuid, ":bed": bed,
    })?;
    Ok(())
}
