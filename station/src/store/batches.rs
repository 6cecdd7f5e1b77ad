//! Batches, entries and the outbox on the station. A scan is one transaction writing one entry
//! row with its verdict; entries reach the server in `seq` order behind a cursor, so an
//! acknowledged scan is never lost, and a resend changes nothing (the server is idempotent by
//! entry UUID). Other work for the server (create, delete, revalidate, post, close) waits in the
//! outbox, each item behind the entries scanned before it.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use scanline_core::verdict::{Verdict, Warning};
use scanline_core::wire::{CreateBatch, EntryUpload, EntryVerdict, PostSummary};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{StoreError, StoreResult, get_meta, set_meta};

/// Records that time `t` has been seen (a scan, or the server's clock), so a clock that later
/// runs behind it is noticed.
pub fn note_time(conn: &Connection, t: DateTime<Utc>) -> StoreResult<()> {
    let seen = high_water(conn)?;
    if seen.is_none_or(|s| t > s) {
        set_meta(conn, "clock_high_water", &t.to_rfc3339())?;
    }
    Ok(())
}

/// The latest time this station has seen: the server's clock at the last sync, or the last
/// scan, whichever is later.
pub fn high_water(conn: &Connection) -> StoreResult<Option<DateTime<Utc>>> {
    let synced: Option<DateTime<Utc>> =
        get_meta(conn, "clock_high_water")?.and_then(|s| s.parse().ok());
    let scanned: Option<DateTime<Utc>> = conn
        .prepare_cached("SELECT scanned_at FROM entries ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(synced.max(scanned))
}

#[derive(Debug, Clone, Serialize)]
pub struct LocalBatch {
    pub uuid: String,
    pub template: String,
    pub program_id: i64,
    pub service_type_ids: Vec<i64>,
    pub service_date: NaiveDate,
    pub auto_post: bool,
    pub open: bool,
    pub anonymous: i64,
    pub post_requested: bool,
    pub post_summary: Option<PostSummary>,
}

fn load_batch(conn: &Connection, uuid: &str) -> StoreResult<Option<LocalBatch>> {
    let row = conn
        .prepare_cached(
            "SELECT template, program_id, service_date, auto_post, state = 'open', anonymous,
                 post_requested_at IS NOT NULL, post_summary FROM batches WHERE uuid = :u",
        )?
        .query_row(named_params! {":u": uuid}, |r| {
            let summary: Option<String> = r.get(7)?;
            Ok(LocalBatch {
                uuid: uuid.to_owned(),
                template: r.get(0)?,
                program_id: r.get(1)?,
                service_type_ids: Vec::new(),
                service_date: r.get(2)?,
                auto_post: r.get(3)?,
                open: r.get(4)?,
                anonymous: r.get(5)?,
                post_requested: r.get(6)?,
                post_summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })
        .optional()?;
    let Some(mut b) = row else { return Ok(None) };
    b.service_type_ids = conn
        .prepare_cached("SELECT service_type_id FROM batch_service_types WHERE batch_uuid = :u ORDER BY service_type_id")?
        .query_map(named_params! {":u": uuid}, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(b))
}

/// The open batch scans go into (the newest one).
pub fn current(conn: &Connection) -> StoreResult<Option<LocalBatch>> {
    let uuid: Option<String> = conn
        .prepare_cached("SELECT uuid FROM batches WHERE state = 'open' ORDER BY created_at DESC, rowid DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    match uuid {
        Some(u) => load_batch(conn, &u),
        None => Ok(None),
    }
}

/// The batch shown on the kiosk: the open one, else the last one.
pub fn latest(conn: &Connection) -> StoreResult<Option<LocalBatch>> {
    if let Some(b) = current(conn)? {
        return Ok(Some(b));
    }
    let uuid: Option<String> = conn
        .prepare_cached("SELECT uuid FROM batches ORDER BY created_at DESC, rowid DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    match uuid {
        Some(u) => load_batch(conn, &u),
        None => Ok(None),
    }
}

pub fn get(conn: &Connection, uuid: &str) -> StoreResult<Option<LocalBatch>> {
    load_batch(conn, uuid)
}

/// Queues work for the server behind every entry scanned so far.
fn enqueue(tx: &Transaction<'_>, kind: &str, batch: &str, entry: Option<&str>) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO outbox (kind, batch_uuid, entry_uuid, after_entry, created_at)
         VALUES (:k, :b, :e, (SELECT COALESCE(MAX(seq), 0) FROM entries), :at)",
    )?
    .execute(named_params! {":k": kind, ":b": batch, ":e": entry, ":at": Utc::now()})?;
    Ok(())
}

/// A batch the kiosk can start in one tap ("Lunch line", "Night check-in").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchTemplate {
    pub name: String,
    pub program_id: i64,
    pub service_type_ids: Vec<i64>,
    #[serde(default)]
    pub units: Option<f64>,
    /// Post the accepted services automatically when the batch is closed.
    #[serde(default)]
    pub auto_post: bool,
}

/// Closes the open batch (if any) and starts a new one from a template.
pub fn start(
    tx: &Transaction<'_>,
    template: &BatchTemplate,
    service_date: NaiveDate,
) -> StoreResult<LocalBatch> {
    if let Some(open) = current(tx)? {
        close(tx, &open.uuid)?;
    }
    let uuid = Uuid::now_v7().to_string();
    tx.prepare_cached(
        "INSERT INTO batches (uuid, template, program_id, service_date, units, auto_post, created_at)
         VALUES (:u, :t, :p, :d, :units, :auto, :at)",
    )?
    .execute(named_params! {
        ":u": uuid, ":t": template.name, ":p": template.program_id, ":d": service_date,
        ":units": template.units, ":auto": template.auto_post, ":at": Utc::now(),
    })?;
    let mut add = tx.prepare_cached(
        "INSERT OR IGNORE INTO batch_service_types (batch_uuid, service_type_id) VALUES (:u, :st)",
    )?;
    for st in &template.service_type_ids {
        add.execute(named_params! {":u": uuid, ":st": st})?;
    }
    enqueue(tx, "create_batch", &uuid, None)?;
    Ok(load_batch(tx, &uuid)?.expect("inserted above"))
}

/// Closes a batch: no more scans; the server closes it too (and auto-posts if asked).
pub fn close(tx: &Transaction<'_>, uuid: &str) -> StoreResult<()> {
    let n = tx
        .prepare_cached("UPDATE batches SET state = 'closed' WHERE uuid = :u AND state = 'open'")?
        .execute(named_params! {":u": uuid})?;
    if n > 0 {
        enqueue(tx, "close", uuid, None)?;
    }
    Ok(())
}

/// The request that creates a batch on the server.
pub fn create_request(conn: &Connection, uuid: &str) -> StoreResult<Option<CreateBatch>> {
    let Some(b) = load_batch(conn, uuid)? else { return Ok(None) };
    let (units, description): (Option<f64>, String) = conn
        .prepare_cached("SELECT units, description FROM batches WHERE uuid = :u")?
        .query_row(named_params! {":u": uuid}, |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(CreateBatch {
        uuid: uuid.parse().unwrap_or_default(),
        program_id: b.program_id,
        service_type_ids: b.service_type_ids,
        service_date: b.service_date,
        units,
        unit_value: None,
        description: (!description.is_empty()).then_some(description),
        auto_post: b.auto_post,
    }))
}

/// A scan as recorded on the station.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub uuid: Uuid,
    pub batch_uuid: &'a str,
    pub source: &'a str,
    pub code: &'a str,
    pub client_id: Option<i64>,
    pub display_name: &'a str,
    pub program_id: i64,
    pub service_date: NaiveDate,
    pub scanned_at: DateTime<Utc>,
    pub verdict: Verdict,
    pub warnings: &'a [Warning],
    pub detail: &'a str,
    /// The bed given, in a program with beds.
    pub bed_id: Option<i64>,
}

pub(crate) fn warnings_text(w: &[Warning]) -> String {
    w.iter()
        .map(|w| {
            serde_json::to_value(w)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Stores a scan, in the caller's transaction. The sync task sends it from here: one row is
/// the whole durable write of a scan.
pub fn record(tx: &Transaction<'_>, e: &NewEntry<'_>) -> StoreResult<()> {
    let uuid = e.uuid.to_string();
    let code: String = e.code.chars().take(256).collect();
    tx.prepare_cached(
        "INSERT INTO entries (uuid, batch_uuid, source, code, client_id, display_name, program_id,
             service_date, scanned_at, verdict, warnings, detail, bed_id)
         VALUES (:u, :b, :src, :code, :c, :name, :p, :d, :at, :v, :w, :detail, :bed)",
    )?
    .execute(named_params! {
        ":u": uuid, ":b": e.batch_uuid, ":src": e.source, ":code": code, ":c": e.client_id,
        ":name": e.display_name, ":p": e.program_id, ":d": e.service_date, ":at": e.scanned_at,
        ":v": e.verdict.as_str(), ":w": warnings_text(e.warnings), ":detail": e.detail,
        ":bed": e.bed_id,
    })?;
    Ok(())
}

/// Deletes an entry from review (X). Returns false when it is unknown, posted or deleted.
pub fn delete_entry(tx: &Transaction<'_>, uuid: &str) -> StoreResult<bool> {
    let batch: Option<String> = tx
        .prepare_cached(
            "SELECT batch_uuid FROM entries WHERE uuid = :u AND deleted_at IS NULL AND posted = 0",
        )?
        .query_row(named_params! {":u": uuid}, |r| r.get(0))
        .optional()?;
    let Some(batch) = batch else { return Ok(false) };
    tx.prepare_cached("UPDATE entries SET deleted_at = :at WHERE uuid = :u")?
        .execute(named_params! {":at": Utc::now(), ":u": uuid})?;
    enqueue(tx, "delete_entry", &batch, Some(uuid))?;
    Ok(true)
}

/// Queues Post Services for a batch (the local posting intent).
pub fn request_post(tx: &Transaction<'_>, uuid: &str) -> StoreResult<()> {
    tx.prepare_cached("UPDATE batches SET post_requested_at = :at WHERE uuid = :u")?
        .execute(named_params! {":at": Utc::now(), ":u": uuid})?;
    enqueue(tx, "post", uuid, None)
}

pub fn request_revalidate(tx: &Transaction<'_>, uuid: &str) -> StoreResult<()> {
    enqueue(tx, "revalidate", uuid, None)
}

/// Counts one more guest served without a card, and queues the batch's new count for the
/// server (each count sent supersedes the ones before).
pub fn add_anonymous(tx: &Transaction<'_>, uuid: &str) -> StoreResult<i64> {
    tx.prepare_cached("UPDATE batches SET anonymous = anonymous + 1 WHERE uuid = :u")?
        .execute(named_params! {":u": uuid})?;
    enqueue(tx, "anonymous", uuid, None)?;
    anonymous(tx, uuid)
}

/// The batch's count of guests served without a card.
pub fn anonymous(conn: &Connection, uuid: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT anonymous FROM batches WHERE uuid = :u")?
        .query_row(named_params! {":u": uuid}, |r| r.get(0))?)
}

/// One entry as the kiosk's review list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub uuid: String,
    pub seq: i64,
    pub source: String,
    pub code: String,
    pub client_id: Option<i64>,
    pub display_name: String,
    pub service_date: NaiveDate,
    pub scanned_at: DateTime<Utc>,
    pub verdict: Verdict,
    pub local_verdict: Verdict,
    pub server_verdict: Option<Verdict>,
    pub warnings: Vec<String>,
    pub detail: String,
    pub uploaded: bool,
    pub posted: bool,
    pub deleted: bool,
    pub bed_id: Option<i64>,
    pub program_id: i64,
    pub bed_name: Option<String>,
}

const ENTRY_COLUMNS: &str =
    "uuid, seq, source, code, client_id, display_name, service_date, scanned_at,
    verdict, server_verdict, warnings, COALESCE(server_detail, detail), uploaded_at IS NOT NULL,
    posted, deleted_at IS NOT NULL, bed_id, program_id,
    (SELECT name FROM roster_beds b WHERE b.id = entries.bed_id)";

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EntryView> {
    let local: String = r.get(8)?;
    let server: Option<String> = r.get(9)?;
    let local = Verdict::parse(&local).unwrap_or(Verdict::Misread);
    let server = server.as_deref().and_then(Verdict::parse);
    let warnings: String = r.get(10)?;
    Ok(EntryView {
        uuid: r.get(0)?,
        seq: r.get(1)?,
        source: r.get(2)?,
        code: r.get(3)?,
        client_id: r.get(4)?,
        display_name: r.get(5)?,
        service_date: r.get(6)?,
        scanned_at: r.get(7)?,
        verdict: server.unwrap_or(local),
        local_verdict: local,
        server_verdict: server,
        warnings: warnings.split(',').filter(|w| !w.is_empty()).map(str::to_owned).collect(),
        detail: r.get(11)?,
        uploaded: r.get(12)?,
        posted: r.get(13)?,
        deleted: r.get(14)?,
        bed_id: r.get(15)?,
        program_id: r.get(16)?,
        bed_name: r.get(17)?,
    })
}

/// The batch's last `limit` entries, newest first: the review list, which stays as quick to read
/// at the 10,000th entry of a long offline spell as at the first.
pub fn recent_entries(conn: &Connection, batch: &str, limit: usize) -> StoreResult<Vec<EntryView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM entries WHERE batch_uuid = :b ORDER BY seq DESC LIMIT :n"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(named_params! {":b": batch, ":n": limit}, entry_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn entry(conn: &Connection, uuid: &str) -> StoreResult<Option<EntryView>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE uuid = :u"))?
        .query_row(named_params! {":u": uuid}, entry_from_row)
        .optional()?)
}

/// An entry of a batch not posted or deleted, for revalidation.
#[derive(Debug, Clone)]
pub struct OpenEntry {
    pub uuid: String,
    pub code: String,
    pub service_date: NaiveDate,
    pub scanned_at: DateTime<Utc>,
    pub bed_id: Option<i64>,
}

/// Entries of a batch that are not posted or deleted, in scan order, for revalidation.
pub fn open_entries(conn: &Connection, batch: &str) -> StoreResult<Vec<OpenEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT uuid, code, service_date, scanned_at, bed_id FROM entries
         WHERE batch_uuid = :b AND posted = 0 AND deleted_at IS NULL ORDER BY seq",
    )?;
    let rows = stmt.query_map(named_params! {":b": batch}, |r| {
        Ok(OpenEntry {
            uuid: r.get(0)?,
            code: r.get(1)?,
            service_date: r.get(2)?,
            scanned_at: r.get(3)?,
            bed_id: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Gives an entry another bed, and tells the server through the outbox once the entry has
/// been sent (even when an upload of it is on its way now, with the bed it had). The server's
/// answers never replace a bed the station holds (`apply_server_verdicts`).
pub fn set_bed(tx: &Transaction<'_>, uuid: &str, bed: i64) -> StoreResult<()> {
    let batch: Option<String> = tx
        .prepare_cached("UPDATE entries SET bed_id = :bed WHERE uuid = :u RETURNING batch_uuid")?
        .query_row(named_params! {":bed": bed, ":u": uuid}, |r| r.get(0))
        .optional()?;
    match batch {
        Some(batch) => enqueue(tx, "bed", &batch, Some(uuid)),
        None => Err(StoreError::Invalid(format!("no entry {uuid}"))),
    }
}

/// The batch an entry belongs to.
pub fn batch_of(conn: &Connection, uuid: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT batch_uuid FROM entries WHERE uuid = :u")?
        .query_row(named_params! {":u": uuid}, |r| r.get(0))
        .optional()?)
}

/// The bed of an entry, for the outbox.
pub fn bed_of(conn: &Connection, uuid: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT bed_id FROM entries WHERE uuid = :u")?
        .query_row(named_params! {":u": uuid}, |r| r.get(0))
        .optional()?
        .flatten())
}

/// Sets a local verdict after revalidation; the server's verdict is cleared until it answers.
pub fn set_local_verdict(
    tx: &Transaction<'_>,
    uuid: &str,
    client_id: Option<i64>,
    display_name: &str,
    verdict: Verdict,
    warnings: &[Warning],
    detail: &str,
) -> StoreResult<()> {
    tx.prepare_cached(
        "UPDATE entries SET client_id = :c, display_name = :n, verdict = :v, warnings = :w,
             detail = :d, server_verdict = NULL, server_detail = NULL WHERE uuid = :u",
    )?
    .execute(named_params! {
        ":c": client_id, ":n": display_name, ":v": verdict.as_str(), ":w": warnings_text(warnings),
        ":d": detail, ":u": uuid,
    })?;
    Ok(())
}

/// Counts of a batch's entries by verdict (deleted ones apart).
pub fn counts(conn: &Connection, batch: &str) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT CASE WHEN deleted_at IS NOT NULL THEN 'deleted' ELSE COALESCE(server_verdict, verdict) END AS v,
             COUNT(*) FROM entries WHERE batch_uuid = :b GROUP BY v ORDER BY v",
    )?;
    let rows = stmt.query_map(named_params! {":b": batch}, |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One piece of work for the server other than a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub kind: String,
    pub batch_uuid: String,
    pub entry_uuid: Option<String>,
    /// Runs only once every entry up to this `seq` has been sent.
    pub after_entry: i64,
    pub attempts: i64,
}

/// The oldest pending outbox item.
pub fn next_op(conn: &Connection) -> StoreResult<Option<OutboxItem>> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, kind, batch_uuid, entry_uuid, after_entry, attempts FROM outbox
             WHERE done_at IS NULL AND failed_at IS NULL ORDER BY seq LIMIT 1",
        )?
        .query_row([], |r| {
            Ok(OutboxItem {
                seq: r.get(0)?,
                kind: r.get(1)?,
                batch_uuid: r.get(2)?,
                entry_uuid: r.get(3)?,
                after_entry: r.get(4)?,
                attempts: r.get(5)?,
            })
        })
        .optional()?)
}

/// The `seq` of the last entry the server has.
pub fn upload_cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(get_meta(conn, "upload_cursor")?.and_then(|s| s.parse().ok()).unwrap_or(0))
}

/// Entries not yet sent, in order: `(seq, uuid, batch)`, at most `limit`, none past `up_to`.
pub fn unsent(
    conn: &Connection,
    limit: usize,
    up_to: Option<i64>,
) -> StoreResult<Vec<(i64, String, String)>> {
    let cursor = upload_cursor(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, uuid, batch_uuid FROM entries WHERE seq > :c AND seq <= :upto ORDER BY seq LIMIT :n",
    )?;
    let rows = stmt.query_map(
        named_params! {":c": cursor, ":upto": up_to.unwrap_or(i64::MAX), ":n": limit as i64},
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Entries already sent (not refused) and scanned in the last `days` days: `(seq, uuid)`.
pub fn sent_recently(conn: &Connection, days: i64) -> StoreResult<Vec<(i64, String)>> {
    let since = chrono::Utc::now() - chrono::Duration::days(days);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, uuid FROM entries
         WHERE seq <= :c AND upload_error IS NULL AND scanned_at >= :since ORDER BY seq",
    )?;
    let rows = stmt
        .query_map(named_params! {":c": upload_cursor(conn)?, ":since": since}, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves the upload cursor back, so the entries after `to` are sent again.
pub fn rewind_cursor(conn: &Connection, to: i64) -> StoreResult<()> {
    if to < upload_cursor(conn)? {
        set_meta(conn, "upload_cursor", &to.max(0).to_string())?;
    }
    Ok(())
}

/// Moves the upload cursor past entries the server has answered (or refused for good).
pub fn advance_cursor(tx: &Transaction<'_>, to: i64) -> StoreResult<()> {
    if to > upload_cursor(tx)? {
        set_meta(tx, "upload_cursor", &to.to_string())?;
    }
    Ok(())
}

/// The server refused some entries for good: they are kept, with its words.
pub fn mark_entries_failed(tx: &Transaction<'_>, uuids: &[String], error: &str) -> StoreResult<()> {
    let mut stmt = tx.prepare_cached("UPDATE entries SET upload_error = :e WHERE uuid = :u")?;
    for u in uuids {
        stmt.execute(named_params! {":e": error, ":u": u})?;
    }
    Ok(())
}

/// How many entries are stored, deleted ones too: what the worker checks in its tests.
#[cfg(test)]
pub(crate) fn stored_entries(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))?)
}

/// Scans and other work waiting for the server.
pub fn outbox_depth(conn: &Connection) -> StoreResult<i64> {
    let ops: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL")?
        .query_row([], |r| r.get(0))?;
    let entries: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM entries WHERE seq > :c")?
        .query_row(named_params! {":c": upload_cursor(conn)?}, |r| r.get(0))?;
    Ok(ops + entries)
}

/// The last day this station served a client (an accepted entry not deleted), so a volunteer
/// can tell two people of the same name apart in the no-card lookup.
pub fn last_served(conn: &Connection, client: i64) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT MAX(service_date) FROM entries
             WHERE client_id = :c AND verdict = 'accepted' AND deleted_at IS NULL",
        )?
        .query_row(named_params! {":c": client}, |r| r.get(0))?)
}

/// Work the server refused for good.
pub fn failed_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL)
                  + (SELECT COUNT(*) FROM entries WHERE upload_error IS NOT NULL)",
        )?
        .query_row([], |r| r.get(0))?)
}

pub fn mark_done(tx: &Transaction<'_>, seq: i64) -> StoreResult<()> {
    tx.prepare_cached("UPDATE outbox SET done_at = :at, attempts = attempts + 1 WHERE seq = :s")?
        .execute(named_params! {":at": Utc::now(), ":s": seq})?;
    Ok(())
}

/// The server refused the item for good (a 4xx other than authentication): it is kept, marked
/// failed with the server's words, and the queue moves on.
pub fn mark_failed(conn: &Connection, seq: i64, error: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE outbox SET failed_at = :at, last_error = :e, attempts = attempts + 1 WHERE seq = :s",
    )?
    .execute(named_params! {":at": Utc::now(), ":e": error, ":s": seq})?;
    Ok(())
}

pub fn note_attempt(conn: &Connection, seq: i64, error: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = :e WHERE seq = :s",
    )?
    .execute(named_params! {":e": error, ":s": seq})?;
    Ok(())
}

/// The upload body for some entries.
pub fn uploads(conn: &Connection, uuids: &[String]) -> StoreResult<Vec<EntryUpload>> {
    let mut stmt = conn
        .prepare_cached("SELECT code, scanned_at, verdict, bed_id FROM entries WHERE uuid = :u")?;
    let mut out = Vec::with_capacity(uuids.len());
    for u in uuids {
        let row = stmt
            .query_row(named_params! {":u": u}, |r| {
                let v: String = r.get(2)?;
                Ok((r.get::<_, String>(0)?, r.get::<_, DateTime<Utc>>(1)?, v, r.get(3)?))
            })
            .optional()?;
        if let Some((code, scanned_at, v, bed_id)) = row {
            out.push(EntryUpload {
                uuid: u.parse().unwrap_or_default(),
                code,
                scanned_at,
                station_verdict: Verdict::parse(&v),
                bed_id,
            });
        }
    }
    Ok(out)
}

/// Stores the server's verdicts; returns those that differ from what the kiosk showed.
pub fn apply_server_verdicts(
    tx: &Transaction<'_>,
    verdicts: &[EntryVerdict],
) -> StoreResult<Vec<EntryVerdict>> {
    let mut changed = Vec::new();
    let mut get =
        tx.prepare_cached("SELECT COALESCE(server_verdict, verdict) FROM entries WHERE uuid = :u")?;
    let mut set = tx.prepare_cached(
        "UPDATE entries SET server_verdict = :v, server_detail = :d, client_id = COALESCE(client_id, :c),
             uploaded_at = COALESCE(uploaded_at, :at), posted = MAX(posted, :posted),
             bed_id = COALESCE(bed_id, :bed) WHERE uuid = :u",
    )?;
    let at = Utc::now();
    for v in verdicts {
        let uuid = v.uuid.to_string();
        let shown: Option<String> =
            get.query_row(named_params! {":u": uuid}, |r| r.get(0)).optional()?;
        set.execute(named_params! {
            ":v": v.verdict.as_str(), ":d": v.detail, ":c": v.client_id, ":at": at,
            ":posted": v.posted, ":u": uuid, ":bed": v.bed_id,
        })?;
        if shown.is_some_and(|s| s != v.verdict.as_str()) {
            changed.push(v.clone());
        }
    }
    Ok(changed)
}

/// Stores the server's Post Services summary and marks the posted entries.
pub fn apply_post_summary(tx: &Transaction<'_>, summary: &PostSummary) -> StoreResult<()> {
    let batch = summary.batch.to_string();
    tx.prepare_cached("UPDATE batches SET post_summary = :s WHERE uuid = :u")?.execute(
        named_params! {":s": serde_json::to_string(summary).unwrap_or_default(), ":u": batch},
    )?;
    // The server judges each entry again as it posts; one it flagged then (a meal recorded at
    // the desk since the scan) carries its new verdict, and is not marked posted.
    let mut reflag = tx.prepare_cached(
        "UPDATE entries SET server_verdict = :v, server_detail = :d
         WHERE uuid = :e AND batch_uuid = :u AND posted = 0",
    )?;
    for f in &summary.flagged {
        reflag.execute(named_params! {
            ":v": f.verdict.as_str(), ":d": f.detail, ":e": f.uuid.to_string(), ":u": batch,
        })?;
    }
    tx.prepare_cached(
        "UPDATE entries SET posted = 1 WHERE batch_uuid = :u AND deleted_at IS NULL
           AND COALESCE(server_verdict, verdict) = 'accepted' AND server_verdict IS NOT NULL",
    )?
    .execute(named_params! {":u": batch})?;
    Ok(())
}
