//! Clients: the people served. Personal fields stay here; stations get a display name only.

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};

use super::{OptionalExt, StoreError, StoreResult, is_unique_violation, now, required_text};

#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub organization_id: i64,
    /// Assigned as the next free number when `None`.
    pub client_number: Option<u32>,
    pub personal_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: String,
    pub dob: Option<NaiveDate>,
    /// Nine digits, no dashes.
    pub ssn: Option<String>,
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub id: i64,
    pub organization_id: i64,
    pub client_number: u32,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: String,
    pub dob: Option<NaiveDate>,
    pub restricted: bool,
}

pub fn insert(conn: &Connection, c: &NewClient) -> StoreResult<(i64, u32)> {
    let first = required_text("first name", &c.first_name, 100)?;
    let last = required_text("last name", &c.last_name, 100)?;
    if let Some(ssn) = &c.ssn
        && !(ssn.len() == 9 && ssn.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(StoreError::Invalid("SSN must be nine digits".into()));
    }
    if let Some(dob) = c.dob
        && dob > super::today_in(chrono_tz::UTC) + chrono::Days::new(1)
    {
        return Err(StoreError::Invalid("date of birth is in the future".into()));
    }
    super::orgs::get(conn, c.organization_id)?;
    let number = match c.client_number {
        Some(n) if (1..=999_999_999).contains(&n) => n,
        Some(n) => {
            return Err(StoreError::Invalid(format!(
                "client number {n} is out of range (1 to 999999999)"
            )));
        }
        None => conn
            .prepare_cached("SELECT COALESCE(MAX(client_number), 0) + 1 FROM clients")?
            .query_row([], |r| r.get(0))?,
    };
    let at = now();
    conn.prepare_cached(
        "INSERT INTO clients (organization_id, client_number, personal_id, first_name, last_name,
             preferred_name, dob, dob_data_quality, ssn, ssn_data_quality, restricted,
             created_at, updated_at)
         VALUES (:org, :number, :pid, :first, :last, :preferred, :dob, :dobdq, :ssn, :ssndq,
             :restricted, :at, :at)",
    )?
    .execute(named_params! {
        ":org": c.organization_id, ":number": number, ":pid": c.personal_id,
        ":first": first, ":last": last, ":preferred": c.preferred_name.trim(),
        ":dob": c.dob, ":dobdq": if c.dob.is_some() { 1 } else { 99 },
        ":ssn": c.ssn, ":ssndq": if c.ssn.is_some() { 1 } else { 99 },
        ":restricted": c.restricted, ":at": at,
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("client number {number} or HMIS PersonalID is taken"))
        } else {
            e.into()
        }
    })?;
    Ok((conn.last_insert_rowid(), number))
}

pub fn get(conn: &Connection, id: i64) -> StoreResult<ClientRow> {
    conn.prepare_cached(
        "SELECT id, organization_id, client_number, first_name, last_name, preferred_name, dob,
             restricted FROM clients WHERE id = :id",
    )?
    .query_row(named_params! {":id": id}, |r| {
        Ok(ClientRow {
            id: r.get(0)?,
            organization_id: r.get(1)?,
            client_number: r.get(2)?,
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            preferred_name: r.get(5)?,
            dob: r.get(6)?,
            restricted: r.get(7)?,
        })
    })
    .or_not_found(|| format!("no client {id}"))
}

/// Finds a client by internal id or client number (`#123` or `number:123`).
pub fn resolve(conn: &Connection, reference: &str) -> StoreResult<i64> {
    let by_number = reference.strip_prefix('#').or_else(|| reference.strip_prefix("number:"));
    if let Some(n) = by_number {
        let n: u32 = n
            .parse()
            .map_err(|_| StoreError::Invalid(format!("{reference:?} is not a client number")))?;
        return conn
            .prepare_cached("SELECT id FROM clients WHERE client_number = :n")?
            .query_row(named_params! {":n": n}, |r| r.get(0))
            .or_not_found(|| format!("no client number {n}"));
    }
    let id: i64 = reference.parse().map_err(|_| {
        StoreError::Invalid(format!("{reference:?} is not a client id (or #number)"))
    })?;
    get(conn, id).map(|c| c.id)
}
