//! Services with no HUD code (meals, showers, day-shelter visits) for the agency's HMIS: in
//! ClientTrack's batch upload layout (a service code per service type, the HMIS client and
//! enrollment numbers, M/D/YYYY dates, units of measure), or as plain CSV for other HMIS
//! products. A service that cannot go into the ClientTrack file (no service code for its type,
//! a client or enrollment the HMIS never sent) is listed with the reason instead of dropped
//! silently.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, params_from_iter};

use crate::store::StoreError;

/// ClientTrack's batch upload columns, in order.
pub const CLIENTTRACK_COLUMNS: [&str; 16] = [
    "Service_ServiceCodeID",
    "Service_ClientID",
    "Service_EnrollID",
    "Service_RegionID",
    "Service_BeginDate",
    "Service_EndDate",
    "Service_UnitsOfMeasure",
    "Service_Units",
    "Service_UnitValue",
    "Service_UserID",
    "Service_CreatedDate",
    "Service_CreatedBy",
    "Service_UpdatedDate",
    "Service_UpdatedBy",
    "Service_OrgID",
    "Service_RestrictOrg",
];

/// The plain layout's columns.
pub const PLAIN_COLUMNS: [&str; 7] =
    ["PersonalID", "ClientNumber", "Program", "Service", "Date", "Units", "UnitValue"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    ClientTrack,
    Plain,
}

impl Layout {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "clienttrack" => Some(Self::ClientTrack),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// A services file and the services left out of it.
#[derive(Debug, Default)]
pub struct ServicesFile {
    pub csv: Vec<u8>,
    pub rows: u64,
    /// (service id, client number, date, reason)
    pub skipped: Vec<(i64, u32, NaiveDate, String)>,
}

/// `M/D/YYYY` without leading zeros.
fn mdy(d: NaiveDate) -> String {
    d.format("%-m/%-d/%Y").to_string()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}

/// Non-HUD services of `programs` (which must belong to `organizations`; all of theirs when
/// empty) from `start` to `end`, not deleted.
pub fn export(
    conn: &Connection,
    layout: Layout,
    organizations: &[i64],
    programs: &[i64],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<ServicesFile, StoreError> {
    if organizations.is_empty() {
        return Ok(ServicesFile::default());
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

    let mut out = ServicesFile::default();
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let header: &[&str] = match layout {
        Layout::ClientTrack => &CLIENTTRACK_COLUMNS,
        Layout::Plain => &PLAIN_COLUMNS,
    };
    w.write_record(header).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let number_: u32 = r.get(1)?;
        let personal_id: Option<String> = r.get(2)?;
        let enrollment: Option<String> = r.get(3)?;
        let program: String = r.get(4)?;
        let service: String = r.get(5)?;
        let code: Option<String> = r.get(6)?;
        let unit: String = r.get(7)?;
        let units: f64 = r.get(8)?;
        let value: f64 = r.get(9)?;
        let date: NaiveDate = r.get(10)?;
        let created: DateTime<Utc> = r.get(11)?;
        let record: Vec<String> = match layout {
            Layout::Plain => vec![
                personal_id.unwrap_or_else(|| format!("SL{number_}")),
                number_.to_string(),
                program,
                service,
                date.to_string(),
                number(units),
                number(value),
            ],
            Layout::ClientTrack => {
                let reason = match (&code, &personal_id, &enrollment) {
                    (None, _, _) => Some(format!("\"{service}\" has no HMIS service code")),
                    (_, None, _) => Some("the client has no HMIS client ID".to_owned()),
                    (_, _, None) => Some("the enrollment did not come from the HMIS".to_owned()),
                    _ => None,
                };
                if let Some(reason) = reason {
                    out.skipped.push((id, number_, date, reason));
                    continue;
                }
                let org_id: Option<String> = r.get(12)?;
                let user: String = r.get(13)?;
                let restrict: String = r.get(14)?;
                let tz: String = r.get(15)?;
                let created_local = tz
                    .parse::<chrono_tz::Tz>()
                    .map_or(created.date_naive(), |tz| created.with_timezone(&tz).date_naive());
                vec![
                    code.unwrap_or_default(),
                    personal_id.unwrap_or_default(),
                    enrollment.unwrap_or_default(),
                    String::new(),
                    mdy(date),
                    mdy(date),
                    unit,
                    number(units),
                    number(value),
                    user.clone(),
                    mdy(created_local),
                    user.clone(),
                    mdy(created_local),
                    user,
                    org_id.unwrap_or_default(),
                    restrict,
                ]
            }
        };
        w.write_record(&record).map_err(|e| StoreError::Invalid(e.to_string()))?;
        out.rows += 1;
    }
    out.csv = w.into_inner().map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(out)
}

/// Sets a service type's HMIS service code (empty clears it) and unit of measure.
pub fn map_service_type(
    conn: &Connection,
    service_type: i64,
    code: &str,
    unit_of_measure: &str,
) -> Result<(), StoreError> {
    let code = code.trim();
    if code.len() > 50 || code.chars().any(char::is_control) {
        return Err(StoreError::Invalid("the HMIS service code is at most 50 characters".into()));
    }
    if !["C", "D", "M", "H"].contains(&unit_of_measure) {
        return Err(StoreError::Invalid(
            "the unit of measure is C (count), D (dollars), M (minutes) or H (hours)".into(),
        ));
    }
    let n = conn.execute(
        "UPDATE service_types SET hmis_service_code = NULLIF(?, ''), unit_of_measure = ? WHERE id = ?",
        rusqlite::params![code, unit_of_measure, service_type],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no service type {service_type}")));
    }
    Ok(())
}

/// Sets the HMIS organization ID, user ID and sharing setting an organization's uploads carry.
pub fn set_org_settings(
    conn: &Connection,
    org: i64,
    hmis_organization_id: &str,
    hmis_user_id: &str,
    restrict_org: &str,
) -> Result<(), StoreError> {
    for (what, v) in [
        ("HMIS organization ID", hmis_organization_id),
        ("HMIS user ID", hmis_user_id),
        ("sharing setting", restrict_org),
    ] {
        if v.len() > 200 || v.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!("the {what} is at most 200 characters")));
        }
    }
    conn.execute(
        "UPDATE organizations SET hmis_organization_id = NULLIF(?, ''), hmis_user_id = ?,
                hmis_restrict_org = ? WHERE id = ?",
        rusqlite::params![
            hmis_organization_id.trim(),
            hmis_user_id.trim(),
            restrict_org.trim(),
            org
        ],
    )
    .map_err(|e| {
        if crate::store::is_unique_violation(&e) {
            StoreError::Conflict("another organization has that HMIS organization ID".into())
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// A service type on the mapping table.
#[derive(Debug, Clone)]
pub struct MappingRow {
    pub service_type: i64,
    pub program: String,
    pub name: String,
    /// HUD RecordType/TypeProvided: such services go in the HUD export instead.
    pub hud: Option<(i64, i64)>,
    pub code: String,
    pub unit_of_measure: String,
}

/// The service types of some organizations, for the mapping table.
pub fn mapping_rows(
    conn: &Connection,
    organizations: &[i64],
) -> Result<Vec<MappingRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT st.id, p.name, st.name, st.record_type, st.type_provided,
                COALESCE(st.hmis_service_code, ''), st.unit_of_measure
         FROM service_types st JOIN programs p ON p.id = st.program_id
         WHERE p.organization_id = ? ORDER BY p.name, st.name",
    )?;
    let mut out = Vec::new();
    for org in organizations {
        let rows = stmt.query_map([org], |r| {
            let rt: Option<i64> = r.get(3)?;
            let tp: Option<i64> = r.get(4)?;
            Ok(MappingRow {
                service_type: r.get(0)?,
                program: r.get(1)?,
                name: r.get(2)?,
                hud: rt.zip(tp),
                code: r.get(5)?,
                unit_of_measure: r.get(6)?,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// An organization's HMIS settings.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub id: i64,
    pub name: String,
    pub hmis_organization_id: String,
    pub hmis_user_id: String,
    pub restrict_org: String,
}

pub fn org_settings(
    conn: &Connection,
    organizations: &[i64],
) -> Result<Vec<OrgSettings>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, COALESCE(hmis_organization_id, ''), hmis_user_id, hmis_restrict_org
         FROM organizations WHERE id = ?",
    )?;
    let mut out = Vec::new();
    for org in organizations {
        out.push(stmt.query_row([org], |r| {
            Ok(OrgSettings {
                id: r.get(0)?,
                name: r.get(1)?,
                hmis_organization_id: r.get(2)?,
                hmis_user_id: r.get(3)?,
                restrict_org: r.get(4)?,
            })
        })?);
    }
    Ok(out)
}

/// The organization a service type belongs to.
pub fn service_type_org(conn: &Connection, service_type: i64) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT p.organization_id FROM service_types st JOIN programs p ON p.id = st.program_id WHERE st.id = ?",
        [service_type],
        |r| r.get(0),
    )
    .map_err(|_| StoreError::NotFound(format!("no service type {service_type}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_no_leading_zeros_and_units_no_needless_decimals() {
        assert_eq!(mdy(NaiveDate::from_ymd_opt(2022, 5, 4).unwrap()), "5/4/2022");
        assert_eq!(mdy(NaiveDate::from_ymd_opt(2022, 11, 24).unwrap()), "11/24/2022");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(12.5), "12.5");
    }
}
