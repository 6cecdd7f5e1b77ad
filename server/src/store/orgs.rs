//! Organizations and their time zones.

use rusqlite::{Connection, named_params};
use scanline_core::wire::OrganizationInfo;

use super::{OptionalExt, StoreError, StoreResult, is_unique_violation, now, required_text};

/// Parses an IANA time zone name.
pub fn parse_time_zone(name: &str) -> StoreResult<chrono_tz::Tz> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        StoreError::Invalid(format!(
            "{name:?} is not an IANA time zone (for example America/Los_Angeles)"
        ))
    })
}

pub fn insert(conn: &Connection, name: &str, time_zone: &str) -> StoreResult<i64> {
    let name = required_text("organization name", name, 200)?;
    parse_time_zone(time_zone)?;
    conn.execute(
        "INSERT INTO organizations (name, time_zone, created_at) VALUES (:name, :tz, :at)",
        named_params! {":name": name, ":tz": time_zone, ":at": now()},
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("an organization named {name:?} already exists"))
        } else {
            e.into()
        }
    })?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> StoreResult<OrganizationInfo> {
    conn.prepare_cached("SELECT id, name, time_zone FROM organizations WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| {
            Ok(OrganizationInfo { id: r.get(0)?, name: r.get(1)?, time_zone: r.get(2)? })
        })
        .or_not_found(|| format!("no organization {id}"))
}

/// The organization's time zone, in which every date is computed.
pub fn time_zone(conn: &Connection, id: i64) -> StoreResult<chrono_tz::Tz> {
    parse_time_zone(&get(conn, id)?.time_zone)
}

/// Finds an organization by id or exact name (for the CLI).
pub fn resolve(conn: &Connection, id_or_name: &str) -> StoreResult<i64> {
    if let Ok(id) = id_or_name.parse::<i64>() {
        return get(conn, id).map(|o| o.id);
    }
    conn.prepare_cached("SELECT id FROM organizations WHERE name = :name")?
        .query_row(named_params! {":name": id_or_name}, |r| r.get(0))
        .or_not_found(|| format!("no organization named {id_or_name:?}"))
}

/// Sets the phone number and return address printed on the back of the organization's cards.
pub fn set_contact(
    conn: &Connection,
    id: i64,
    phone: &str,
    return_address: &str,
) -> StoreResult<()> {
    let phone = super::required_text("phone", phone, 40)?;
    let return_address = super::required_text("return address", return_address, 200)?;
    conn.prepare_cached(
        "UPDATE organizations SET phone = :phone, return_address = :address WHERE id = :id",
    )?
    .execute(rusqlite::named_params! {":phone": phone, ":address": return_address, ":id": id})?;
    Ok(())
}

/// The organization's phone and return address, as its cards and letters print them (empty
/// when not set).
pub fn contact(conn: &Connection, id: i64) -> StoreResult<(String, String)> {
    conn.prepare_cached(
        "SELECT COALESCE(phone, ''), COALESCE(return_address, '') FROM organizations WHERE id = :id",
    )?
    .query_row(named_params! {":id": id}, |r| Ok((r.get(0)?, r.get(1)?)))
    .or_not_found(|| format!("no organization {id}"))
}

/// Every organization's id, in order (the operator's exports cover them all).
pub fn all_ids(conn: &Connection) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM organizations ORDER BY id")?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// The date at `now` in the organization's time zone: what "today" is for its records.
pub fn today(
    conn: &Connection,
    org: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<chrono::NaiveDate> {
    Ok(now.with_timezone(&time_zone(conn, org)?).date_naive())
}
