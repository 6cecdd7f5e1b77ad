//! Entries coming in: a station's upload and scans on the web batch page, stored with the
//! server's verdicts, idempotently by UUID. A request reads what its entries need once for all
//! of them, then judges them in order (DESIGN §7).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, named_params, params};
use scanline_core::bounds;
use scanline_core::verdict::{self, Verdict};
use scanline_core::wire::{BatchState, EntryUpload, EntryVerdict, MAX_ENTRIES_PER_UPLOAD};
use uuid::Uuid;

use super::{
    BatchRow, LATE_NOTE, MAX_STORED_CODE, Rules, load_for_station, service_date_of, warnings_parse,
    warnings_text,
};
use crate::store::facts::{Door, Known};
use crate::store::stations::StationAuth;
use crate::store::{StoreError, StoreResult, now};

pub(crate) fn stored_verdict(
    conn: &Connection,
    uuid: &str,
) -> StoreResult<Option<(i64, EntryVerdict)>> {
    Ok(stored_verdicts(conn, &[uuid.to_owned()])?.remove(uuid))
}

/// The stored entries among `uuids`, by UUID: each one's batch and the verdict it was
/// answered with, marked as a duplicate upload. One statement for any number of entries.
fn stored_verdicts(
    conn: &Connection,
    uuids: &[String],
) -> StoreResult<HashMap<String, (i64, EntryVerdict)>> {
    let list = serde_json::to_string(uuids).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT uuid, batch_id, verdict, warnings, detail, client_id, service_date,
             station_verdict, posted_at IS NOT NULL, deleted_at IS NOT NULL, bed_id
         FROM batch_entries WHERE uuid IN (SELECT value FROM json_each(:u))",
    )?;
    let rows = stmt.query_map(named_params! {":u": list}, |r| {
        let uuid: String = r.get(0)?;
        let verdict: String = r.get(2)?;
        let warnings: String = r.get(3)?;
        let station: Option<String> = r.get(7)?;
        let verdict = Verdict::parse(&verdict).unwrap_or(Verdict::Misread);
        let answer = EntryVerdict {
            uuid: uuid.parse().unwrap_or_default(),
            verdict,
            warnings: warnings_parse(&warnings),
            detail: r.get(4)?,
            client_id: r.get(5)?,
            service_date: r.get(6)?,
            changed: station.is_some_and(|s| s != verdict.as_str()),
            duplicate_upload: true,
            posted: r.get(8)?,
            deleted: r.get(9)?,
            bed_id: r.get(10)?,
        };
        Ok((uuid, (r.get(1)?, answer)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores a station's entries with the server's verdicts, in order, in the caller's
/// transaction; scan times are checked against the server's clock `as_of`. Entries already stored are answered from the database and left untouched.
pub fn upload(
    conn: &Connection,
    station: &StationAuth,
    batch_uuid: Uuid,
    entries: &[EntryUpload],
    as_of: DateTime<Utc>,
) -> StoreResult<Vec<EntryVerdict>> {
    if entries.len() > MAX_ENTRIES_PER_UPLOAD {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_ENTRIES_PER_UPLOAD} entries per request, got {}",
            entries.len()
        )));
    }
    let batch = load_for_station(conn, station, batch_uuid)?;
    let out = add_entries(conn, &batch, entries, as_of)?;
    crate::store::stations::touch(conn, station.id)?;
    Ok(out)
}

/// Stores entries in a batch with the server's verdicts, in order, in the caller's
/// transaction; entries already stored are answered from the database and left untouched.
/// Station uploads and scans on the web batch page both come here.
pub fn add_entries(
    conn: &Connection,
    batch: &BatchRow,
    entries: &[EntryUpload],
    as_of: DateTime<Utc>,
) -> StoreResult<Vec<EntryVerdict>> {
    // Every scan time is checked before any is judged, so one impossible time refuses the
    // request whole and nothing is stored (DESIGN §13).
    for e in entries {
        bounds::scanned_at(e.scanned_at, as_of)
            .map_err(|err| StoreError::Invalid(format!("entry {}: {err}", e.uuid)))?;
    }
    let rules = Rules::load(conn, batch)?;
    let ctx = rules.ctx();
    // Bound as text once for the whole request rather than formatted again for each entry.
    let received = crate::stamp::stored(&now());
    // What the request needs from the database is read once for all its entries: those
    // already stored, the cards scanned, and what is known about their holders.
    let uuids: Vec<String> = entries.iter().map(|e| e.uuid.to_string()).collect();
    let mut stored = stored_verdicts(conn, &uuids)?;
    let looks: Vec<_> = entries.iter().map(|e| verdict::first_look(&e.code)).collect();
    let keys: Vec<&str> = looks.iter().flatten().map(|scan| scan.key.as_str()).collect();
    let cards = crate::store::cards::statuses(conn, &keys)?;
    let mut holders: Vec<i64> = (cards.values())
        .filter(|(_, card)| !card.revoked && !card.replaced)
        .map(|(_, card)| card.client_id)
        .collect();
    holders.sort_unstable();
    holders.dedup();
    let dates: Vec<NaiveDate> =
        entries.iter().map(|e| service_date_of(batch, &rules, e.scanned_at)).collect();
    let mut date_text: HashMap<NaiveDate, String> = HashMap::new();
    for &d in &dates {
        if let std::collections::hash_map::Entry::Vacant(slot) = date_text.entry(d) {
            slot.insert(bound_text(&d)?);
        }
    }
    let (Some(&first), Some(&last)) = (dates.iter().min(), dates.iter().max()) else {
        return Ok(Vec::new());
    };
    let mut known = Known::load(conn, &ctx, &holders, first..=last, None)?;

    let mut out = Vec::with_capacity(entries.len());
    let mut insert = conn.prepare_cached(
        "INSERT INTO batch_entries (uuid, batch_id, code, card_id, client_id, enrollment_id,
             program_id, service_date, scanned_at, received_at, station_verdict, verdict,
             warnings, detail, auto_enroll, late, bed_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut changed = conn
        .prepare_cached("INSERT INTO roster_changes (entity, entity_key) VALUES ('entry', ?1)")?;
    for ((e, uuid), (look, &service_date)) in
        entries.iter().zip(&uuids).zip(looks.iter().zip(&dates))
    {
        if let Some((batch_id, answer)) = stored.get(uuid) {
            if *batch_id != batch.id {
                return Err(StoreError::Conflict(format!(
                    "entry {uuid} was uploaded to another batch"
                )));
            }
            out.push(answer.clone());
            continue;
        }
        let door = Door { entry: None, at: Some(e.scanned_at), bed: e.bed_id };
        let (card_id, mut j) = match look {
            Err(misread) => (None, misread.clone()),
            Ok(scan) => {
                let card = cards.get(&scan.key).copied();
                let (card_id, facts) = crate::store::facts::with_card(card, |client| {
                    known.facts(conn, &ctx, client, service_date, door)
                })?;
                (card_id, verdict::judge(&ctx, service_date, &facts))
            }
        };
        let code: String = e.code.chars().take(MAX_STORED_CODE).collect();
        // A closed batch still takes what an offline station scanned before it learnt of the
        // close: nothing a guest was told is lost. Such an entry is judged like any other and
        // marked late, for staff to review and post (auto-post ran at the close).
        let late = batch.state == BatchState::Closed;
        if late {
            j.detail = if j.detail.is_empty() {
                LATE_NOTE.to_owned()
            } else {
                format!("{}; {LATE_NOTE}", j.detail)
            };
        }
        // Bound by position, the scan time as text made here: per entry, looking up names
        // and chrono's format parsing were a tenth of the writer's time.
        insert.execute(params![
            uuid,
            batch.id,
            code,
            card_id,
            j.client_id,
            j.enrollment_id,
            batch.program_id,
            date_text[&service_date],
            crate::stamp::stored(&e.scanned_at),
            received,
            e.station_verdict.map(Verdict::as_str),
            j.verdict.as_str(),
            warnings_text(&j.warnings),
            j.detail,
            j.auto_enroll,
            late,
            j.bed_id,
        ])?;
        if j.verdict.is_accepted() {
            // Stations learn of it in their next roster delta.
            changed.execute([uuid])?;
            // The next entries of this request count this one, as a fresh read would.
            if let Some(client) = j.client_id {
                known.count_accepted(&ctx, client, service_date, uuid);
            }
        }
        let answer = EntryVerdict {
            uuid: e.uuid,
            verdict: j.verdict,
            warnings: j.warnings,
            detail: j.detail,
            client_id: j.client_id,
            service_date,
            changed: e.station_verdict.is_some_and(|s| s != j.verdict),
            duplicate_upload: false,
            posted: false,
            deleted: false,
            bed_id: j.bed_id,
        };
        // The same UUID again in this request is answered as a repeated upload.
        stored.insert(
            uuid.clone(),
            (batch.id, EntryVerdict { duplicate_upload: true, ..answer.clone() }),
        );
        out.push(answer);
    }
    Ok(out)
}

/// The text SQLite stores for a value bound as a parameter (a date or a time).
pub(super) fn bound_text(value: &dyn rusqlite::ToSql) -> StoreResult<String> {
    use rusqlite::types::{ToSqlOutput, Value, ValueRef};
    match value.to_sql()? {
        ToSqlOutput::Owned(Value::Text(text)) => Ok(text),
        ToSqlOutput::Borrowed(ValueRef::Text(text)) => Ok(String::from_utf8_lossy(text).into()),
        other => Err(StoreError::Invalid(format!("not bound as text: {other:?}"))),
    }
}
