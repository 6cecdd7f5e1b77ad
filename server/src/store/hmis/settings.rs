//! The HMIS settings admins edit: each service type's HMIS service code and unit of measure
//! (the ClientTrack mapping table), and each organization's HMIS organization ID, upload user
//! and sharing setting.

use rusqlite::Connection;

use crate::store::StoreError;

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
