//! What leaves for the HMIS, read from the system of record: the services with no HUD code
//! (meals, showers) of some organizations and programs over a period, with what the
//! ClientTrack upload needs of each.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, params_from_iter};

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
