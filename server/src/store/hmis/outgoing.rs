//! What leaves for the HMIS, read from the system of record: the services with no HUD code
//! (meals, showers) of some organizations and programs over a period, with what the
//! ClientTrack upload needs of each.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension as _, params_from_iter};

use crate::stamp::Short;
use crate::store::StoreError;

/// A service with no HUD code, as the services files need it.
#[derive(Debug, Clone)]
pub struct NonHudService {
    pub id: i64,
    pub client_number: u32,
    pub personal_id: Option<String>,
    pub hmis_enrollment_id: Option<String>,
    pub program: String,
    pub service: String,
    pub hmis_service_code: Option<String>,
    pub unit_of_measure: String,
    pub units: f64,
    pub unit_value: f64,
    pub date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub hmis_organization_id: Option<String>,
    pub hmis_user_id: String,
    pub hmis_restrict_org: String,
    pub time_zone: String,
}

/// The services with no HUD code of `programs` (all of `organizations`' when empty) from
/// `start` to `end`, not deleted, in date order.
pub fn non_hud_services(
    conn: &Connection,
    organizations: &[i64],
    programs: &[i64],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<NonHudService>, StoreError> {
    if organizations.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<rusqlite::types::Value> = organizations.iter().map(|o| (*o).into()).collect();
    let mut sql = format!(
        "SELECT s.id, c.client_number, c.personal_id, e.hmis_enrollment_id, p.name, st.name,
                st.hmis_service_code, st.unit_of_measure, s.units, s.unit_value, s.date_provided,
                s.created_at, o.hmis_organization_id, o.hmis_user_id, o.hmis_restrict_org, o.time_zone
         FROM services s
         JOIN service_types st ON st.id = s.service_type_id
         JOIN programs p ON p.id = s.program_id
         JOIN organizations o ON o.id = p.organization_id
         JOIN clients c ON c.id = s.client_id
         JOIN enrollments e ON e.id = s.enrollment_id
         WHERE s.deleted_at IS NULL AND st.record_type IS NULL
           AND p.organization_id IN ({})",
        vec!["?"; organizations.len()].join(",")
    );
    if !programs.is_empty() {
        sql.push_str(&format!(" AND s.program_id IN ({})", vec!["?"; programs.len()].join(",")));
        args.extend(programs.iter().map(|p| rusqlite::types::Value::from(*p)));
    }
    sql.push_str(" AND s.date_provided BETWEEN ? AND ? ORDER BY s.date_provided, s.id");
    args.push(start.to_string().into());
    args.push(end.to_string().into());

    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(NonHudService {
            id: r.get(0)?,
            client_number: r.get(1)?,
            personal_id: r.get(2)?,
            hmis_enrollment_id: r.get(3)?,
            program: r.get(4)?,
            service: r.get(5)?,
            hmis_service_code: r.get(6)?,
            unit_of_measure: r.get(7)?,
            units: r.get(8)?,
            unit_value: r.get(9)?,
            date: r.get(10)?,
            created_at: r.get(11)?,
            hmis_organization_id: r.get(12)?,
            hmis_user_id: r.get(13)?,
            hmis_restrict_org: r.get(14)?,
            time_zone: r.get(15)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What the HMIS sent of a record, and the values of it Scanline held as the import stored
/// them (`hmis::model::kept`); both `None` for a record Scanline made.
#[derive(Debug, Clone, Default)]
pub struct KeptText {
    pub kept: Option<String>,
    pub owned: Option<String>,
}

/// A HUD service (one with a RecordType) as the export writes it: the stored text of each
/// value, and the HMIS IDs it came with.
#[derive(Debug, Clone)]
pub struct HudService {
    pub id: i64,
    pub hmis_services_id: Option<String>,
    pub enrollment_id: i64,
    pub service_type_id: i64,
    pub date_provided: Short,
    /// Stored UTC text, read as it is: the export reads a million.
    pub created_at: Short,
    pub created_by: Option<i64>,
    pub deleted_at: Option<Short>,
    pub kept: KeptText,
}

/// The HUD RecordType and TypeProvided of every service type that has them.
pub fn hud_service_types(conn: &Connection) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, record_type, type_provided FROM service_types
         WHERE record_type IS NOT NULL AND type_provided IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The enrollments of a program with the IDs the export gives them: (enrollment, its HMIS or
/// `SL-E` ID, its client's PersonalID or `SL<number>`).
pub fn enrollment_ids(
    conn: &Connection,
    program: i64,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, COALESCE(e.hmis_enrollment_id, 'SL-E' || e.id),
                COALESCE(c.personal_id, 'SL' || c.client_number)
         FROM enrollments e JOIN clients c ON c.id = e.client_id WHERE e.program_id = ?",
    )?;
    let rows = stmt.query_map([program], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One enrollment's export IDs and its program: for a service recorded in another program.
pub fn enrollment_ids_of(
    conn: &Connection,
    enrollment: i64,
) -> Result<(String, String, i64), StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(e.hmis_enrollment_id, 'SL-E' || e.id),
                    COALESCE(c.personal_id, 'SL' || c.client_number), e.program_id
             FROM enrollments e JOIN clients c ON c.id = e.client_id WHERE e.id = ?",
        )?
        .query_row([enrollment], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

/// Calls `each` with every service of `program` provided from `start` to `end`, in the order
/// (the program's date index; deleted ones too: the export marks them). What the HMIS sent
/// is read only for the services it sent.
pub fn for_each_service(
    conn: &Connection,
    program: i64,
    start: NaiveDate,
    end: NaiveDate,
    mut each: impl FnMut(HudService) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.hmis_services_id, s.enrollment_id, s.service_type_id, s.date_provided,
                s.created_at, s.created_by, s.deleted_at,
                CASE WHEN s.hmis_services_id IS NOT NULL THEN s.hmis_kept END,
                CASE WHEN s.hmis_services_id IS NOT NULL THEN s.hmis_owned END
         FROM services s
         WHERE s.program_id = ? AND s.date_provided BETWEEN ? AND ?
         ORDER BY s.date_provided",
    )?;
    let mut rows = stmt.query(rusqlite::params![program, start.to_string(), end.to_string()])?;
    while let Some(r) = rows.next()? {
        each(HudService {
            id: r.get(0)?,
            hmis_services_id: r.get(1)?,
            enrollment_id: r.get(2)?,
            service_type_id: r.get(3)?,
            date_provided: r.get(4)?,
            created_at: r.get(5)?,
            created_by: r.get(6)?,
            deleted_at: r.get(7)?,
            kept: KeptText { kept: r.get(8)?, owned: r.get(9)? },
        })?;
    }
    Ok(())
}

/// How many services a program has in the period, of every type: a bound on the rows
/// `for_each_service` gives, read from the index alone.
pub fn count_services(
    conn: &Connection,
    program: i64,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM services WHERE program_id = ? AND date_provided BETWEEN ? AND ?",
        )?
        .query_row(rusqlite::params![program, start.to_string(), end.to_string()], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// An enrollment, and its exit when it has one, as the export writes them.
#[derive(Debug, Clone)]
pub struct EnrollmentOut {
    pub id: i64,
    pub client_id: i64,
    pub enrollment_id: String,
    pub personal_id: String,
    pub project_id: String,
    pub entry_date: NaiveDate,
    pub household_id: String,
    pub relationship_to_hoh: i32,
    /// As stored (UTC text).
    pub created_at: String,
    pub updated_at: String,
    pub exit_date: Option<NaiveDate>,
    pub destination: Option<i32>,
    pub exit_id: String,
    pub kept: KeptText,
    pub exit_kept: KeptText,
}

/// Calls `each` with every enrollment of a program.
pub fn for_each_enrollment(
    conn: &Connection,
    program: i64,
    mut each: impl FnMut(EnrollmentOut) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.client_id, COALESCE(e.hmis_enrollment_id, 'SL-E' || e.id),
                COALESCE(c.personal_id, 'SL' || c.client_number),
                COALESCE(p.hmis_project_id, 'SL-P' || p.id), e.entry_date, e.household_id,
                e.relationship_to_hoh, e.created_at, e.updated_at, e.exit_date, e.destination,
                COALESCE(e.hmis_exit_id, 'SL-X' || e.id), e.hmis_kept, e.hmis_owned,
                e.hmis_exit_kept, e.hmis_exit_owned
         FROM enrollments e JOIN clients c ON c.id = e.client_id
           JOIN programs p ON p.id = e.program_id
         WHERE e.program_id = ?",
    )?;
    let mut rows = stmt.query([program])?;
    while let Some(r) = rows.next()? {
        each(EnrollmentOut {
            id: r.get(0)?,
            client_id: r.get(1)?,
            enrollment_id: r.get(2)?,
            personal_id: r.get(3)?,
            project_id: r.get(4)?,
            entry_date: r.get(5)?,
            household_id: r.get(6)?,
            relationship_to_hoh: r.get(7)?,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
            exit_date: r.get(10)?,
            destination: r.get(11)?,
            exit_id: r.get(12)?,
            kept: KeptText { kept: r.get(13)?, owned: r.get(14)? },
            exit_kept: KeptText { kept: r.get(15)?, owned: r.get(16)? },
        })?;
    }
    Ok(())
}

/// A client as the export writes it.
#[derive(Debug, Clone)]
pub struct ClientOut {
    pub id: i64,
    pub personal_id: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub name_suffix: String,
    pub name_data_quality: i32,
    pub ssn: Option<String>,
    pub ssn_data_quality: i32,
    pub dob: Option<NaiveDate>,
    pub dob_data_quality: i32,
    /// As stored (UTC text).
    pub created_at: String,
    pub updated_at: String,
    pub kept: KeptText,
}

/// Calls `each` with every client enrolled in a program.
pub fn for_each_client(
    conn: &Connection,
    program: i64,
    mut each: impl FnMut(ClientOut) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, COALESCE(personal_id, 'SL' || client_number), first_name, middle_name,
                last_name, name_suffix, name_data_quality, ssn, ssn_data_quality, dob,
                dob_data_quality, created_at, updated_at, hmis_kept, hmis_owned
         FROM clients WHERE id IN (SELECT client_id FROM enrollments WHERE program_id = ?)",
    )?;
    let mut rows = stmt.query([program])?;
    while let Some(r) = rows.next()? {
        each(ClientOut {
            id: r.get(0)?,
            personal_id: r.get(1)?,
            first_name: r.get(2)?,
            middle_name: r.get(3)?,
            last_name: r.get(4)?,
            name_suffix: r.get(5)?,
            name_data_quality: r.get(6)?,
            ssn: r.get(7)?,
            ssn_data_quality: r.get(8)?,
            dob: r.get(9)?,
            dob_data_quality: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            kept: KeptText { kept: r.get(13)?, owned: r.get(14)? },
        })?;
    }
    Ok(())
}

/// A program as the export writes it.
#[derive(Debug, Clone)]
pub struct ProjectOut {
    pub project_id: String,
    pub organization_id: String,
    pub organization: i64,
    pub name: String,
    pub project_type: i32,
    pub created_at: DateTime<Utc>,
    pub kept: KeptText,
}

pub fn project(conn: &Connection, program: i64) -> Result<ProjectOut, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(p.hmis_project_id, 'SL-P' || p.id),
                    COALESCE(o.hmis_organization_id, 'SL-O' || o.id), p.organization_id,
                    p.name, p.project_type, p.created_at,
                    p.hmis_kept, p.hmis_owned
             FROM programs p JOIN organizations o ON o.id = p.organization_id WHERE p.id = ?",
        )?
        .query_row([program], |r| {
            Ok(ProjectOut {
                project_id: r.get(0)?,
                organization_id: r.get(1)?,
                organization: r.get(2)?,
                name: r.get(3)?,
                project_type: r.get(4)?,
                created_at: r.get(5)?,
                kept: KeptText { kept: r.get(6)?, owned: r.get(7)? },
            })
        })?)
}

/// An organization as the export writes it.
#[derive(Debug, Clone)]
pub struct OrganizationOut {
    pub organization_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub kept: KeptText,
}

pub fn organization(conn: &Connection, id: i64) -> Result<OrganizationOut, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(hmis_organization_id, 'SL-O' || id), name, created_at, hmis_kept,
                    hmis_owned
             FROM organizations WHERE id = ?",
        )?
        .query_row([id], |r| {
            Ok(OrganizationOut {
                organization_id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                kept: KeptText { kept: r.get(3)?, owned: r.get(4)? },
            })
        })?)
}

/// A staff user's display name and when the account was made.
pub fn user(conn: &Connection, id: i64) -> Result<(String, DateTime<Utc>), StoreError> {
    Ok(conn
        .prepare_cached("SELECT display_name, created_at FROM users WHERE id = ?")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// An HMIS user as the HMIS sent it, when an import brought one.
pub fn hmis_user(conn: &Connection, user_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT kept FROM hmis_users WHERE user_id = ?")?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}
