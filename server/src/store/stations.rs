//! Stations: registered by an admin, each with a bearer token (256 random bits, shown once,
//! stored as its SHA-256), an organization and the programs it may serve.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, named_params};
use sha2::{Digest, Sha256};

use super::{OptionalExt, StoreError, StoreResult, is_unique_violation, now, required_text};

/// Prefix of every station token, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "sls_";

/// A station as authenticated from its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationAuth {
    pub id: i64,
    pub name: String,
    pub organization_id: i64,
    pub programs: Vec<i64>,
}

fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", super::random_hex(32))
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Registers a station and returns its id and token; the token is not stored and cannot be
/// shown again.
pub fn insert(
    conn: &Connection,
    organization_id: i64,
    name: &str,
    programs: &[i64],
) -> StoreResult<(i64, String)> {
    let name = required_text("station name", name, 100)?;
    super::orgs::get(conn, organization_id)?;
    if programs.is_empty() {
        return Err(StoreError::Invalid("a station serves at least one program".into()));
    }
    for &p in programs {
        let rules = super::programs::get_rules(conn, super::ProgramId(p))?;
        if rules.organization_id != organization_id {
            return Err(StoreError::Invalid(format!(
                "program {p} belongs to another organization"
            )));
        }
    }
    let token = new_token();
    conn.prepare_cached(
        "INSERT INTO stations (organization_id, name, token_hash, created_at)
         VALUES (:org, :name, :hash, :at)",
    )?
    .execute(named_params! {
        ":org": organization_id, ":name": name, ":hash": token_hash(&token), ":at": now(),
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("the organization already has a station named {name:?}"))
        } else {
            e.into()
        }
    })?;
    let id = conn.last_insert_rowid();
    let mut add = conn.prepare_cached(
        "INSERT OR IGNORE INTO station_programs (station_id, program_id) VALUES (:s, :p)",
    )?;
    for &p in programs {
        add.execute(named_params! {":s": id, ":p": p})?;
    }
    Ok((id, token))
}

pub fn revoke(conn: &Connection, id: i64) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE stations SET revoked_at = :at WHERE id = :id AND revoked_at IS NULL",
        )?
        .execute(named_params! {":at": now(), ":id": id})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no active station {id}")));
    }
    Ok(())
}

/// The station a bearer token belongs to, if it is known and not revoked.
pub fn authenticate(conn: &Connection, token: &str) -> StoreResult<Option<StationAuth>> {
    let row = conn
        .prepare_cached(
            "SELECT id, name, organization_id FROM stations
             WHERE token_hash = :h AND revoked_at IS NULL",
        )?
        .query_row(named_params! {":h": token_hash(token)}, |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    let Some((id, name, organization_id)) = row else { return Ok(None) };
    let programs = programs_of(conn, id)?;
    Ok(Some(StationAuth { id, name, organization_id, programs }))
}

pub fn programs_of(conn: &Connection, station: i64) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT program_id FROM station_programs WHERE station_id = :s ORDER BY program_id",
    )?;
    let rows = stmt.query_map(named_params! {":s": station}, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn touch(conn: &Connection, id: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE stations SET last_seen_at = :at WHERE id = :id")?
        .execute(named_params! {":at": now(), ":id": id})?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct StationRow {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub revoked: bool,
    pub last_seen_at: Option<String>,
}

pub fn list(conn: &Connection) -> StoreResult<Vec<StationRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, organization_id, name, revoked_at IS NOT NULL, last_seen_at FROM stations
         ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(StationRow {
            id: r.get(0)?,
            organization_id: r.get(1)?,
            name: r.get(2)?,
            revoked: r.get(3)?,
            last_seen_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get_name(conn: &Connection, id: i64) -> StoreResult<String> {
    conn.prepare_cached("SELECT name FROM stations WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| r.get(0))
        .or_not_found(|| format!("no station {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_hashed_and_revocable() {
        let f = super::super::testing::fixture();
        let (id, token) = insert(&f.conn, f.org, "Door", &[f.shelter]).unwrap();
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 64);
        let stored: Vec<u8> = f
            .conn
            .query_row("SELECT token_hash FROM stations WHERE id = ?", [id], |r| r.get(0))
            .unwrap();
        assert_eq!(stored.len(), 32);
        assert_ne!(stored, token.as_bytes());
        let auth = authenticate(&f.conn, &token).unwrap().unwrap();
        assert_eq!(auth.programs, vec![f.shelter]);
        assert_eq!(authenticate(&f.conn, "sls_nope").unwrap(), None);
        revoke(&f.conn, id).unwrap();
        assert_eq!(authenticate(&f.conn, &token).unwrap(), None);
        assert!(revoke(&f.conn, id).is_err());
    }
}

/// A station as the admin page lists it.
#[derive(Debug, Clone)]
pub struct StationLine {
    pub id: i64,
    pub name: String,
    pub organization: String,
    pub programs: String,
    pub revoked: bool,
    pub last_seen_at: Option<String>,
    /// Accepted entries it uploaded that no Post Services has posted yet.
    pub unposted: i64,
}

/// The stations of some organizations.
pub fn list_for_orgs(conn: &Connection, orgs: &[i64]) -> StoreResult<Vec<StationLine>> {
    let orgs = serde_json::to_string(orgs).expect("ids serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.name, o.name,
             COALESCE((SELECT group_concat(p.name, ', ') FROM station_programs sp
                       JOIN programs p ON p.id = sp.program_id WHERE sp.station_id = s.id), ''),
             s.revoked_at IS NOT NULL, substr(s.last_seen_at, 1, 19),
             (SELECT COUNT(*) FROM batch_entries e JOIN batches b ON b.id = e.batch_id
              WHERE b.station_id = s.id AND e.verdict = 'accepted' AND e.posted_at IS NULL
                AND e.deleted_at IS NULL)
         FROM stations s JOIN organizations o ON o.id = s.organization_id
         WHERE s.organization_id IN (SELECT value FROM json_each(:orgs))
         ORDER BY s.revoked_at IS NOT NULL, s.name",
    )?;
    let rows = stmt.query_map(named_params! {":orgs": orgs}, |r| {
        Ok(StationLine {
            id: r.get(0)?,
            name: r.get(1)?,
            organization: r.get(2)?,
            programs: r.get(3)?,
            revoked: r.get(4)?,
            last_seen_at: r.get(5)?,
            unposted: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn organization_of(conn: &Connection, id: i64) -> StoreResult<i64> {
    conn.prepare_cached("SELECT organization_id FROM stations WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| r.get(0))
        .or_not_found(|| format!("no station {id}"))
}

/// What `/metrics` and the Stations page show of one station: scans received in all and in
/// the last minute before `now`, the average time from scan to arrival over the last five
/// minutes, and when it was last seen.
#[derive(Debug, Clone)]
pub struct Figures {
    pub id: i64,
    pub name: String,
    pub received: i64,
    pub last_minute: i64,
    pub upload_lag_seconds: Option<f64>,
    pub last_seen: Option<DateTime<Utc>>,
}

/// The figures of every station not revoked.
pub fn figures(conn: &Connection, as_of: DateTime<Utc>) -> StoreResult<Vec<Figures>> {
    let minute_ago = as_of - chrono::Duration::seconds(60);
    let five_ago = as_of - chrono::Duration::seconds(300);
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.name,
                (SELECT COUNT(*) FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                  WHERE b.station_id = s.id),
                (SELECT COUNT(*) FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                  WHERE b.station_id = s.id AND e.received_at >= :minute),
                (SELECT AVG((julianday(e.received_at) - julianday(e.scanned_at)) * 86400.0)
                   FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                  WHERE b.station_id = s.id AND e.received_at >= :five),
                s.last_seen_at
         FROM stations s WHERE s.revoked_at IS NULL ORDER BY s.id",
    )?;
    let rows = stmt.query_map(named_params! {":minute": minute_ago, ":five": five_ago}, |r| {
        Ok(Figures {
            id: r.get(0)?,
            name: r.get(1)?,
            received: r.get(2)?,
            last_minute: r.get(3)?,
            upload_lag_seconds: r.get(4)?,
            last_seen: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
