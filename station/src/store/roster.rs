//! The roster cache: the server's snapshot and deltas applied to local tables, and the facts a
//! verdict needs read back from them plus the station's own entries (DESIGN §5, §7).
//!
//! The station's own entries are counted from `entries`; a served record from the server that
//! came from one of this station's entries is skipped so nothing is counted twice.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use scanline_core::ScanCode;
use scanline_core::domain::{
    BarSpan, CardStatus, EnrollmentSpan, ProgramRules, Served, ServiceTypeRules,
};
use scanline_core::verdict::{BatchContext, ClientFacts};
use scanline_core::wire::{
    OrganizationInfo, RosterCard, RosterDelta, RosterServed, RosterSnapshot, StationInfo,
};

use super::{StoreError, StoreResult, get_meta, set_meta};

/// The rules and identity the roster carries, parsed from `meta`.
#[derive(Debug, Clone)]
pub struct Rules {
    pub station: StationInfo,
    pub organization: OrganizationInfo,
    pub time_zone: chrono_tz::Tz,
    pub programs: Vec<ProgramRules>,
    pub service_types: Vec<ServiceTypeRules>,
}

impl Rules {
    pub fn program(&self, id: i64) -> Option<&ProgramRules> {
        self.programs.iter().find(|p| p.id == id)
    }

    pub fn service_types_of(&self, ids: &[i64]) -> Vec<ServiceTypeRules> {
        ids.iter()
            .filter_map(|id| self.service_types.iter().find(|s| s.id == *id).cloned())
            .collect()
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("roster values serialise")
}

fn parse<T: serde::de::DeserializeOwned>(key: &str, s: &str) -> StoreResult<T> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Invalid(format!("stored {key} is unreadable: {e}")))
}

/// Loads the rules, or `NoRoster` before the first snapshot.
pub fn rules(conn: &Connection) -> StoreResult<Rules> {
    let get = |k: &str| get_meta(conn, k)?.ok_or(StoreError::NoRoster);
    let organization: OrganizationInfo = parse("organization", &get("organization")?)?;
    let time_zone = organization.time_zone.parse().map_err(|_| {
        StoreError::Invalid(format!("unknown time zone {}", organization.time_zone))
    })?;
    Ok(Rules {
        station: parse("station", &get("station")?)?,
        time_zone,
        organization,
        programs: parse("programs", &get("programs")?)?,
        service_types: parse("service_types", &get("service_types")?)?,
    })
}

/// The cursor of the roster held, if any.
pub fn cursor(conn: &Connection) -> StoreResult<Option<i64>> {
    Ok(get_meta(conn, "cursor")?.and_then(|c| c.parse().ok()))
}

/// The cursor to ask for a delta from: none when the roster held must be replaced by a whole
/// snapshot (after an upgrade that added to what the roster holds).
pub fn delta_cursor(conn: &Connection) -> StoreResult<Option<i64>> {
    if get_meta(conn, "snapshot_wanted")?.is_some() {
        return Ok(None);
    }
    cursor(conn)
}

/// When the roster was last brought up to date, by the station's clock.
pub fn synced_at(conn: &Connection) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(get_meta(conn, "synced_at")?.and_then(|s| s.parse().ok()))
}

fn upsert_card(tx: &Transaction<'_>, c: &RosterCard) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO roster_cards (code, client_id, replaced, expires_on) VALUES (:code, :c, :r, :e)
         ON CONFLICT (code) DO UPDATE SET client_id = excluded.client_id,
             replaced = excluded.replaced, expires_on = excluded.expires_on",
    )?
    .execute(named_params! {":code": c.code, ":c": c.client_id, ":r": c.replaced, ":e": c.expires_on})?;
    Ok(())
}

fn upsert_enrollment(tx: &Transaction<'_>, e: &EnrollmentSpan) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO roster_enrollments (id, client_id, program_id, entry_date, exit_date)
         VALUES (:id, :c, :p, :entry, :exit)
         ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id,
             program_id = excluded.program_id, entry_date = excluded.entry_date,
             exit_date = excluded.exit_date",
    )?
    .execute(named_params! {
        ":id": e.id, ":c": e.client_id, ":p": e.program_id, ":entry": e.entry_date, ":exit": e.exit_date,
    })?;
    Ok(())
}

fn upsert_bar(tx: &Transaction<'_>, b: &BarSpan) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO roster_bars (id, client_id, scope_kind, scope_id, begin_date, end_date)
         VALUES (:id, :c, :k, :s, :b, :e)
         ON CONFLICT (id) DO UPDATE SET client_id = excluded.client_id,
             scope_kind = excluded.scope_kind, scope_id = excluded.scope_id,
             begin_date = excluded.begin_date, end_date = excluded.end_date",
    )?
    .execute(named_params! {
        ":id": b.id, ":c": b.client_id, ":k": b.scope.kind_str(), ":s": b.scope.id(),
        ":b": b.begin_date, ":e": b.end_date,
    })?;
    Ok(())
}

fn upsert_served(tx: &Transaction<'_>, s: &RosterServed) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO roster_served (key, client_id, program_id, service_type_id, date, entry_uuid,
             bed_id)
         VALUES (:k, :c, :p, :st, :d, :u, :bed)
         ON CONFLICT (key) DO UPDATE SET client_id = excluded.client_id, date = excluded.date,
             bed_id = excluded.bed_id",
    )?
    .execute(named_params! {
        ":k": s.key, ":c": s.client_id, ":p": s.program_id, ":st": s.service_type_id,
        ":d": s.date, ":u": s.entry_uuid.map(|u| u.to_string()), ":bed": s.bed_id,
    })?;
    Ok(())
}

fn upsert_alert(tx: &Transaction<'_>, a: &scanline_core::wire::RosterAlert) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO roster_alerts (id, client_id, kind, text, begin_date, end_date,
             program_ids)
         VALUES (:id, :c, :k, :t, :b, :e, :p)",
    )?
    .execute(named_params! {
        ":id": a.id, ":c": a.client_id, ":k": a.kind.as_str(), ":t": a.text,
        ":b": a.begin_date, ":e": a.end_date,
        ":p": serde_json::to_string(&a.program_ids).expect("ids serialise"),
    })?;
    Ok(())
}

/// An alert a staff screen shows beside a verdict: the kind in words and the short text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShownAlert {
    pub kind: String,
    pub text: String,
}

/// The alerts a scan of `client` in `program` on `day` shows on the staff kiosk.
pub fn alerts_for(
    conn: &Connection,
    client: i64,
    program: i64,
    day: chrono::NaiveDate,
) -> StoreResult<Vec<ShownAlert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, text, program_ids FROM roster_alerts
         WHERE client_id = :c AND begin_date <= :d AND end_date >= :d ORDER BY kind, id",
    )?;
    let rows = stmt.query_map(named_params! {":c": client, ":d": day}, |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, text, programs) = row?;
        let programs: Vec<i64> = serde_json::from_str(&programs).unwrap_or_default();
        if !programs.is_empty() && !programs.contains(&program) {
            continue;
        }
        let kind = scanline_core::domain::AlertKind::parse(&kind)
            .map_or_else(|| "Alert".to_owned(), |k| k.label().to_owned());
        out.push(ShownAlert { kind, text });
    }
    Ok(out)
}

fn upsert_client(tx: &Transaction<'_>, c: &scanline_core::wire::RosterClient) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO roster_clients (id, display_name, client_number) VALUES (:id, :n, :num)
         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
             client_number = excluded.client_number",
    )?
    .execute(named_params! {":id": c.id, ":n": c.display_name, ":num": c.client_number})?;
    Ok(())
}

fn set_rules(
    tx: &Transaction<'_>,
    programs: &[ProgramRules],
    service_types: &[ServiceTypeRules],
) -> StoreResult<()> {
    set_meta(tx, "programs", &json(&programs))?;
    set_meta(tx, "service_types", &json(&service_types))?;
    Ok(())
}

fn mark_synced(tx: &Transaction<'_>, cursor: i64, server_time: DateTime<Utc>) -> StoreResult<()> {
    let now = Utc::now();
    set_meta(tx, "cursor", &cursor.to_string())?;
    set_meta(tx, "synced_at", &now.to_rfc3339())?;
    set_meta(tx, "server_offset_ms", &(server_time - now).num_milliseconds().to_string())?;
    super::batches::note_time(tx, server_time.max(now))?;
    Ok(())
}

/// Replaces the whole roster with a snapshot.
pub fn apply_snapshot(tx: &Transaction<'_>, s: &RosterSnapshot) -> StoreResult<()> {
    tx.execute_batch(
        "DELETE FROM roster_clients; DELETE FROM roster_cards; DELETE FROM roster_enrollments;
         DELETE FROM roster_bars; DELETE FROM roster_served; DELETE FROM roster_alerts;",
    )?;
    tx.prepare_cached("DELETE FROM meta WHERE key = 'snapshot_wanted'")?.execute([])?;
    set_meta(tx, "station", &json(&s.station))?;
    set_meta(tx, "organization", &json(&s.organization))?;
    set_rules(tx, &s.programs, &s.service_types)?;
    for c in &s.clients {
        upsert_client(tx, c)?;
    }
    for c in &s.cards {
        upsert_card(tx, c)?;
    }
    for e in &s.enrollments {
        upsert_enrollment(tx, e)?;
    }
    for b in &s.bars {
        upsert_bar(tx, b)?;
    }
    for v in &s.served {
        upsert_served(tx, v)?;
    }
    for a in &s.alerts {
        upsert_alert(tx, a)?;
    }
    super::beds::replace(tx, &s.beds, &s.holds)?;
    mark_synced(tx, s.cursor, s.server_time)
}

/// Applies a delta on top of the roster held.
pub fn apply_delta(tx: &Transaction<'_>, d: &RosterDelta) -> StoreResult<()> {
    if let (Some(p), Some(st)) = (&d.programs, &d.service_types) {
        set_rules(tx, p, st)?;
    }
    for c in &d.clients {
        upsert_client(tx, c)?;
    }
    for c in &d.cards {
        upsert_card(tx, c)?;
    }
    let mut del = tx.prepare_cached("DELETE FROM roster_cards WHERE code = :k")?;
    for k in &d.removed_cards {
        del.execute(named_params! {":k": k})?;
    }
    for e in &d.enrollments {
        upsert_enrollment(tx, e)?;
    }
    let mut del = tx.prepare_cached("DELETE FROM roster_enrollments WHERE id = :k")?;
    for k in &d.removed_enrollments {
        del.execute(named_params! {":k": k})?;
    }
    for b in &d.bars {
        upsert_bar(tx, b)?;
    }
    let mut del = tx.prepare_cached("DELETE FROM roster_bars WHERE id = :k")?;
    for k in &d.removed_bars {
        del.execute(named_params! {":k": k})?;
    }
    for s in &d.served {
        upsert_served(tx, s)?;
    }
    let mut del = tx.prepare_cached("DELETE FROM roster_served WHERE key = :k")?;
    for k in &d.removed_served {
        del.execute(named_params! {":k": k})?;
    }
    for a in &d.alerts {
        upsert_alert(tx, a)?;
    }
    let mut del = tx.prepare_cached("DELETE FROM roster_alerts WHERE id = :k")?;
    for k in &d.removed_alerts {
        del.execute(named_params! {":k": k})?;
    }
    if let (Some(beds), Some(holds)) = (&d.beds, &d.holds) {
        super::beds::replace(tx, beds, holds)?;
    }
    mark_synced(tx, d.cursor, d.server_time)
}

/// The card table's answer for a code.
pub fn card(conn: &Connection, key: &str) -> StoreResult<Option<CardStatus>> {
    Ok(conn
        .prepare_cached("SELECT client_id, replaced, expires_on FROM roster_cards WHERE code = :k")?
        .query_row(named_params! {":k": key}, |r| {
            Ok(CardStatus {
                client_id: r.get(0)?,
                replaced: r.get(1)?,
                revoked: false,
                expires_on: r.get(2)?,
            })
        })
        .optional()?)
}

pub fn display_name(conn: &Connection, client: i64) -> StoreResult<String> {
    Ok(conn
        .prepare_cached("SELECT display_name FROM roster_clients WHERE id = :id")?
        .query_row(named_params! {":id": client}, |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// The facts for one scan, from the roster and the station's own entries. `exclude_entry`
/// leaves out the entry being judged again.
pub fn facts(
    conn: &Connection,
    ctx: &BatchContext<'_>,
    code: &ScanCode,
    service_date: NaiveDate,
    exclude_entry: Option<&str>,
) -> StoreResult<ClientFacts> {
    let Some(card) = card(conn, &code.key)? else { return Ok(ClientFacts::default()) };
    let client = card.client_id;
    let mut f = ClientFacts { card: Some(card), ..ClientFacts::default() };
    if card.replaced {
        return Ok(f);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, client_id, scope_kind, scope_id, begin_date, end_date FROM roster_bars
         WHERE client_id = :c AND end_date >= :d",
    )?;
    for row in stmt.query_map(named_params! {":c": client, ":d": service_date}, |r| {
        let kind: String = r.get(2)?;
        Ok(BarSpan::from_stored((r.get(0)?, r.get(1)?, &kind, r.get(3)?), (r.get(4)?, r.get(5)?)))
    })? {
        f.bars.push(row?);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, client_id, program_id, entry_date, exit_date FROM roster_enrollments
         WHERE client_id = :c AND program_id = :p",
    )?;
    for row in stmt.query_map(named_params! {":c": client, ":p": ctx.program.id}, |r| {
        Ok(EnrollmentSpan::from_stored((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get(4)?)))
    })? {
        f.enrollments.push(row?);
    }
    let from = ctx.counts_from(service_date);
    let exclude = exclude_entry.unwrap_or("");
    let mut remote = conn.prepare_cached(
        "SELECT date FROM roster_served s
         WHERE client_id = :c AND service_type_id = :st AND date BETWEEN :from AND :to
           AND (entry_uuid IS NULL OR NOT EXISTS (SELECT 1 FROM entries e WHERE e.uuid = s.entry_uuid))",
    )?;
    let mut local = conn.prepare_cached(
        "SELECT e.service_date FROM entries e
           JOIN batch_service_types bst ON bst.batch_uuid = e.batch_uuid
         WHERE e.client_id = :c AND e.program_id = :p AND e.service_date BETWEEN :from AND :to
           AND COALESCE(e.server_verdict, e.verdict) = 'accepted' AND e.deleted_at IS NULL
           AND bst.service_type_id = :st AND e.uuid != :ex",
    )?;
    for st in ctx.service_types {
        for d in remote.query_map(
            named_params! {":c": client, ":st": st.id, ":from": from, ":to": service_date},
            |r| r.get::<_, NaiveDate>(0),
        )? {
            f.served.push(Served { service_type_id: st.id, date: d? });
        }
        for d in local.query_map(
            named_params! {":c": client, ":p": ctx.program.id, ":from": from, ":to": service_date, ":st": st.id, ":ex": exclude},
            |r| r.get::<_, NaiveDate>(0),
        )? {
            f.served.push(Served { service_type_id: st.id, date: d? });
        }
    }
    if ctx.records_bed_nights() && ctx.program.capacity.is_some() {
        let bed_types: Vec<i64> =
            ctx.service_types.iter().filter(|s| s.is_bed_night()).map(|s| s.id).collect();
        f.night_occupancy =
            occupancy(conn, ctx.program.id, &bed_types, service_date, Some(client))?;
    }
    // Only asked for where it can change the verdict: the scan path costs nothing more elsewhere.
    if ctx.program.safety_alerts_stop {
        f.safety_alert = conn
            .prepare_cached(
                "SELECT program_ids FROM roster_alerts WHERE client_id = :c AND kind = 'safety'
                 AND begin_date <= :d AND end_date >= :d",
            )?
            .query_map(named_params! {":c": client, ":d": service_date}, |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .any(|ids| {
                let ids: Vec<i64> = serde_json::from_str(ids).unwrap_or_default();
                ids.is_empty() || ids.contains(&ctx.program.id)
            });
    }
    Ok(f)
}

/// Guests with a bed night in the program on a night, from the roster and local entries.
pub fn occupancy(
    conn: &Connection,
    program: i64,
    bed_types: &[i64],
    night: NaiveDate,
    except_client: Option<i64>,
) -> StoreResult<u32> {
    let mut clients = std::collections::HashSet::new();
    let mut remote = conn.prepare_cached(
        "SELECT client_id FROM roster_served s
         WHERE program_id = :p AND date = :d AND service_type_id = :st
           AND (entry_uuid IS NULL OR NOT EXISTS (SELECT 1 FROM entries e WHERE e.uuid = s.entry_uuid))",
    )?;
    for &st in bed_types {
        for c in remote.query_map(named_params! {":p": program, ":d": night, ":st": st}, |r| {
            r.get::<_, i64>(0)
        })? {
            clients.insert(c?);
        }
    }
    let mut local = conn.prepare_cached(
        "SELECT client_id FROM entries
         WHERE program_id = :p AND service_date = :d AND client_id IS NOT NULL
           AND COALESCE(server_verdict, verdict) = 'accepted' AND deleted_at IS NULL",
    )?;
    for c in local.query_map(named_params! {":p": program, ":d": night}, |r| r.get::<_, i64>(0))? {
        clients.insert(c?);
    }
    if let Some(c) = except_client {
        clients.remove(&c);
    }
    Ok(clients.len() as u32)
}

/// Clients whose display name starts with the given first letters of the first name and of the
/// last initial ("mar g"), for the no-card path. At most `limit`.
pub fn lookup(
    conn: &Connection,
    query: &str,
    limit: usize,
) -> StoreResult<Vec<(i64, String, String)>> {
    let mut words = query.split_whitespace();
    let first = words.next().unwrap_or("").to_lowercase();
    let last = words.next().unwrap_or("").to_lowercase();
    if first.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.display_name, c.client_number FROM roster_clients c
         WHERE c.display_name LIKE :pat ESCAPE '\\' AND c.display_name != ''
           AND EXISTS (SELECT 1 FROM roster_cards k WHERE k.client_id = c.id AND k.replaced = 0)
         ORDER BY c.display_name, c.id LIMIT :limit",
    )?;
    let escaped = first.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let rows = stmt.query_map(
        named_params! {":pat": format!("{escaped}%"), ":limit": limit as i64 * 4},
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, number) = row?;
        let last_part = name.split_whitespace().nth(1).unwrap_or("").to_lowercase();
        if last.is_empty() || last_part.starts_with(&last) {
            out.push((id, name, number));
            if out.len() == limit {
                break;
            }
        }
    }
    Ok(out)
}

/// A current (not replaced) card code of a client, for entries made without a card.
pub fn current_card(conn: &Connection, client: i64) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT code FROM roster_cards WHERE client_id = :c AND replaced = 0 ORDER BY code DESC LIMIT 1")?
        .query_row(named_params! {":c": client}, |r| r.get(0))
        .optional()?)
}

pub fn client_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.prepare_cached("SELECT COUNT(*) FROM roster_clients")?.query_row([], |r| r.get(0))?)
}
