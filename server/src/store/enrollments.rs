//! Enrollments: entry and exit, with the rules that keep them consistent (no two open
//! enrollments of a client in one program, exit on or after entry).

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};
use scanline_core::bounds;
use scanline_core::domain::EnrollmentSpan;

use super::ids::ProgramId;
use super::{OptionalExt, StoreError, StoreResult, now};

#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub client_id: i64,
    pub program_id: i64,
    pub entry_date: NaiveDate,
    /// A new household of one when `None`.
    pub household_id: Option<String>,
    /// HUD RelationshipToHoH (1 = self).
    pub relationship_to_hoh: u8,
}

pub fn insert(conn: &Connection, e: &NewEnrollment) -> StoreResult<i64> {
    super::in_range(bounds::calendar("entry date", e.entry_date))?;
    if !(1..=5).contains(&e.relationship_to_hoh) {
        return Err(StoreError::Invalid(format!(
            "relationship to the head of household {} is not a HUD code (1 to 5)",
            e.relationship_to_hoh
        )));
    }
    super::clients::get(conn, super::ClientId(e.client_id))?;
    super::programs::get_rules(conn, super::ProgramId(e.program_id))?;
    if !(1..=5).contains(&e.relationship_to_hoh) && e.relationship_to_hoh != 99 {
        return Err(StoreError::Invalid(
            "relationship to head of household must be 1 to 5 or 99".into(),
        ));
    }
    let open: Option<NaiveDate> = conn
        .prepare_cached(
            "SELECT entry_date FROM enrollments
             WHERE client_id = :c AND program_id = :p AND (exit_date IS NULL OR exit_date > :d)
             LIMIT 1",
        )?
        .query_row(named_params! {":c": e.client_id, ":p": e.program_id, ":d": e.entry_date}, |r| {
            r.get(0)
        })
        .map(Some)
        .or_else(|err| match err {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    if let Some(entry) = open {
        return Err(StoreError::Conflict(format!(
            "the client already has an enrollment in this program from {entry} that is open on \
             {}",
            e.entry_date
        )));
    }
    let at = now();
    let household = e.household_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    conn.prepare_cached(
        "INSERT INTO enrollments (client_id, program_id, household_id, relationship_to_hoh,
             entry_date, created_at, updated_at)
         VALUES (:c, :p, :h, :rel, :entry, :at, :at)",
    )?
    .execute(named_params! {
        ":c": e.client_id, ":p": e.program_id, ":h": household,
        ":rel": e.relationship_to_hoh, ":entry": e.entry_date, ":at": at,
    })?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> StoreResult<EnrollmentSpan> {
    conn.prepare_cached(
        "SELECT id, client_id, program_id, entry_date, exit_date FROM enrollments WHERE id = :id",
    )?
    .query_row(named_params! {":id": id}, from_row)
    .or_not_found(|| format!("no enrollment {id}"))
}

pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EnrollmentSpan> {
    Ok(EnrollmentSpan::from_stored((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get(4)?)))
}

/// The enrollments in one program of the clients in `clients` (a JSON array of ids), in the
/// order they were made. One statement for any number of clients.
pub fn of_clients(
    conn: &Connection,
    clients: &str,
    program: ProgramId,
) -> StoreResult<Vec<EnrollmentSpan>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, client_id, program_id, entry_date, exit_date FROM enrollments
         WHERE client_id IN (SELECT value FROM json_each(:c)) AND program_id = :p
         ORDER BY id",
    )?;
    let rows = stmt.query_map(named_params! {":c": clients, ":p": program}, from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records an exit. The exit date may not precede the entry or the last service recorded.
/// Sets (or, with `None`, clears) the enrollment's HMIS enrollment ID (checked with
/// `clients::hmis_id`).
pub fn set_hmis_id(conn: &Connection, id: i64, hmis_id: Option<&str>) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE enrollments SET hmis_enrollment_id = :h, updated_at = :at WHERE id = :id",
        )?
        .execute(named_params! {":h": hmis_id, ":at": now(), ":id": id})
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                StoreError::Conflict(format!(
                    "another enrollment already has HMIS enrollment ID {}",
                    hmis_id.unwrap_or_default()
                ))
            } else {
                e.into()
            }
        })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no enrollment {id}")));
    }
    Ok(())
}

pub fn exit(conn: &Connection, id: i64, exit_date: NaiveDate, destination: u16) -> StoreResult<()> {
    super::in_range(bounds::not_future("exit date", exit_date, super::now().date_naive()))?;
    if !crate::hmis::model::codes::DESTINATION.contains(i32::from(destination)) {
        return Err(StoreError::Invalid(format!(
            "{destination} is not a HUD exit destination code"
        )));
    }
    let e = get(conn, id)?;
    if e.exit_date.is_some() {
        return Err(StoreError::Conflict(format!("enrollment {id} is already exited")));
    }
    if exit_date < e.entry_date {
        return Err(StoreError::Invalid(format!(
            "exit date {exit_date} is before the entry date {}",
            e.entry_date
        )));
    }
    let last_service: Option<NaiveDate> = conn
        .prepare_cached(
            "SELECT MAX(date_provided) FROM services WHERE enrollment_id = :id AND deleted_at IS NULL",
        )?
        .query_row(named_params! {":id": id}, |r| r.get(0))?;
    // Residential programs count nights: the exit day itself holds no bed night.
    let residential =
        super::programs::get_rules(conn, super::ProgramId(e.program_id))?.is_residential();
    if let Some(last) = last_service
        && (last > exit_date || (residential && last == exit_date))
    {
        return Err(StoreError::Invalid(format!(
            "the enrollment has a service on {last}; the exit date must come after it"
        )));
    }
    conn.prepare_cached(
        "UPDATE enrollments SET exit_date = :exit, destination = :dest, updated_at = :at
         WHERE id = :id",
    )?
    .execute(named_params! {":exit": exit_date, ":dest": destination, ":at": now(), ":id": id})?;
    Ok(())
}

/// A client enrolled in a program on a date, for Quick Services.
#[derive(Debug, Clone)]
pub struct EnrolledClient {
    pub client_id: i64,
    pub enrollment_id: i64,
    pub name: String,
    pub client_number: u32,
}

/// Clients with an enrollment in `program` open on `date` whom the viewer may see, by last
/// name, optionally only last names starting with `last_prefix`. At most `limit`.
pub fn open_on(
    conn: &Connection,
    program: i64,
    date: NaiveDate,
    viewer_orgs: &[i64],
    last_prefix: &str,
    limit: usize,
) -> StoreResult<Vec<EnrolledClient>> {
    let residential = super::programs::get_rules(conn, super::ProgramId(program))?.is_residential();
    let orgs = serde_json::to_string(viewer_orgs).expect("ids serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, e.id, c.last_name || ', ' || c.first_name, c.client_number
         FROM enrollments e JOIN clients c ON c.id = e.client_id
         WHERE e.program_id = :p AND e.entry_date <= :d
           AND (e.exit_date IS NULL OR e.exit_date > :d OR (:residential = 0 AND e.exit_date = :d))
           AND (c.restricted = 0 OR c.organization_id IN (SELECT value FROM json_each(:orgs)))
           AND (:prefix = '' OR c.last_name LIKE :prefix || '%')
         ORDER BY c.last_name COLLATE NOCASE, c.first_name COLLATE NOCASE LIMIT :lim",
    )?;
    let rows = stmt.query_map(
        named_params! {
            ":p": program, ":d": date, ":residential": residential, ":orgs": orgs,
            ":prefix": last_prefix.replace(['%', '_'], ""), ":lim": limit as i64,
        },
        |r| {
            Ok(EnrolledClient {
                client_id: r.get(0)?,
                enrollment_id: r.get(1)?,
                name: r.get(2)?,
                client_number: r.get(3)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
