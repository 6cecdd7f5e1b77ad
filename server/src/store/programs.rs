//! Programs (HMIS projects) and their service types, with the rules validation reads.

use rusqlite::{Connection, Row, named_params};
use scanline_core::domain::{
    EnrollmentPolicy, FrequencyLimit, LimitPolicy, ProgramRules, ServiceTypeRules,
};

use super::ids::ProgramId;
use super::{OptionalExt, StoreError, StoreResult, is_unique_violation, now, required_text};

#[derive(Debug, Clone)]
pub struct NewProgram {
    pub organization_id: i64,
    pub name: String,
    pub project_type: u8,
    pub capacity: Option<u32>,
    pub capacity_policy: LimitPolicy,
    pub cutover_hour: u8,
    pub enrollment_policy: EnrollmentPolicy,
    pub auto_exit_after_nights: Option<u32>,
}

impl NewProgram {
    /// A meal line: services only (HMIS project type 6), no capacity, the day turning at noon,
    /// and only guests already enrolled are served.
    pub fn meal_line(organization_id: i64, name: &str) -> Self {
        Self {
            organization_id,
            name: name.to_owned(),
            project_type: 6,
            capacity: None,
            capacity_policy: LimitPolicy::Enforce,
            cutover_hour: 12,
            enrollment_policy: EnrollmentPolicy::Reject,
            auto_exit_after_nights: None,
        }
    }
}

pub fn insert(conn: &Connection, p: &NewProgram) -> StoreResult<ProgramId> {
    let name = required_text("program name", &p.name, 200)?;
    if p.project_type > 14 {
        return Err(StoreError::Invalid(format!(
            "project type {} is not a HUD ProjectType (0 to 14)",
            p.project_type
        )));
    }
    if p.cutover_hour > 23 {
        return Err(StoreError::Invalid("cut-over hour must be 0 to 23".into()));
    }
    super::orgs::get(conn, p.organization_id)?;
    conn.execute(
        "INSERT INTO programs (organization_id, name, project_type, capacity, capacity_policy,
             cutover_hour, enrollment_policy, auto_exit_after_nights, created_at)
         VALUES (:org, :name, :pt, :cap, :cap_policy, :cutover, :policy, :auto_exit, :at)",
        named_params! {
            ":org": p.organization_id, ":name": name, ":pt": p.project_type,
            ":cap": p.capacity, ":cap_policy": p.capacity_policy.as_str(),
            ":cutover": p.cutover_hour, ":policy": p.enrollment_policy.as_str(),
            ":auto_exit": p.auto_exit_after_nights, ":at": now(),
        },
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("the organization already has a program named {name:?}"))
        } else {
            e.into()
        }
    })?;
    Ok(super::ProgramId(conn.last_insert_rowid()))
}

#[derive(Debug, Clone)]
pub struct NewServiceType {
    pub program_id: i64,
    pub name: String,
    pub record_type: Option<u8>,
    pub type_provided: Option<u16>,
    pub default_units: f64,
    pub unit_value: f64,
    pub max_per_day: u32,
    pub frequency: Option<FrequencyLimit>,
    pub hmis_service_code: Option<String>,
}

impl NewServiceType {
    /// One unit, no value, once per day, no frequency limit.
    pub fn simple(program_id: i64, name: &str) -> Self {
        Self {
            program_id,
            name: name.to_owned(),
            record_type: None,
            type_provided: None,
            default_units: 1.0,
            unit_value: 0.0,
            max_per_day: 1,
            frequency: None,
            hmis_service_code: None,
        }
    }
}

pub fn insert_service_type(conn: &Connection, st: &NewServiceType) -> StoreResult<i64> {
    let name = required_text("service type name", &st.name, 200)?;
    get_rules(conn, super::ProgramId(st.program_id))?;
    if !(st.default_units.is_finite() && st.default_units >= 0.0) {
        return Err(StoreError::Invalid("default units must be a number >= 0".into()));
    }
    if !(st.unit_value.is_finite() && st.unit_value >= 0.0) {
        return Err(StoreError::Invalid("unit value must be a number >= 0".into()));
    }
    if let Some(f) = st.frequency
        && (f.max == 0 || f.days == 0)
    {
        return Err(StoreError::Invalid("a frequency limit needs a count and days >= 1".into()));
    }
    conn.execute(
        "INSERT INTO service_types (program_id, name, record_type, type_provided, default_units,
             unit_value, max_per_day, frequency_max, frequency_days, frequency_policy,
             hmis_service_code, created_at)
         VALUES (:program, :name, :rt, :tp, :units, :value, :max, :fmax, :fdays, :fpolicy,
             :code, :at)",
        named_params! {
            ":program": st.program_id, ":name": name, ":rt": st.record_type,
            ":tp": st.type_provided, ":units": st.default_units, ":value": st.unit_value,
            ":max": st.max_per_day, ":fmax": st.frequency.map(|f| f.max),
            ":fdays": st.frequency.map(|f| f.days),
            ":fpolicy": st.frequency.map_or("enforce", |f| f.policy.as_str()),
            ":code": st.hmis_service_code, ":at": now(),
        },
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("the program already has a service type named {name:?}"))
        } else {
            e.into()
        }
    })?;
    Ok(conn.last_insert_rowid())
}

const PROGRAM_COLUMNS: &str = "id, organization_id, name, project_type, capacity, capacity_policy,
    cutover_hour, enrollment_policy, auto_exit_after_nights, safety_alerts_stop, bed_release_minutes";

fn program_from_row(r: &Row<'_>) -> rusqlite::Result<ProgramRules> {
    let capacity_policy: String = r.get(5)?;
    let enrollment_policy: String = r.get(7)?;
    Ok(ProgramRules {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        name: r.get(2)?,
        project_type: r.get(3)?,
        capacity: r.get(4)?,
        // The schema's CHECK constraints admit only the known words.
        capacity_policy: LimitPolicy::parse(&capacity_policy).unwrap_or_default(),
        cutover_hour: r.get(6)?,
        enrollment_policy: EnrollmentPolicy::parse(&enrollment_policy).unwrap_or_default(),
        auto_exit_after_nights: r.get(8)?,
        safety_alerts_stop: r.get(9)?,
        bed_release_minutes: r.get(10)?,
    })
}

/// Whether a safety alert makes a scan's verdict "See staff" in the program.
pub fn set_safety_alerts_stop(conn: &Connection, id: ProgramId, stop: bool) -> StoreResult<()> {
    let n = conn
        .prepare_cached("UPDATE programs SET safety_alerts_stop = :s WHERE id = :id")?
        .execute(named_params! {":s": stop, ":id": id})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no program {id}")));
    }
    Ok(())
}

pub fn get_rules(conn: &Connection, id: ProgramId) -> StoreResult<ProgramRules> {
    conn.prepare_cached(&format!("SELECT {PROGRAM_COLUMNS} FROM programs WHERE id = :id"))?
        .query_row(named_params! {":id": id}, program_from_row)
        .or_not_found(|| format!("no program {id}"))
}

pub fn list_rules(conn: &Connection, ids: &[i64]) -> StoreResult<Vec<ProgramRules>> {
    ids.iter().map(|&id| get_rules(conn, super::ProgramId(id))).collect()
}

/// Every program of an organization.
pub fn list_for_org(conn: &Connection, org: i64) -> StoreResult<Vec<ProgramRules>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM programs WHERE organization_id = :org ORDER BY id"
    ))?;
    let rows = stmt.query_map(named_params! {":org": org}, program_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Night-by-night programs that auto-exit.
pub fn auto_exiting(conn: &Connection) -> StoreResult<Vec<ProgramRules>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM programs
         WHERE project_type = 1 AND auto_exit_after_nights IS NOT NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([], program_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const SERVICE_TYPE_COLUMNS: &str = "id, program_id, name, record_type, default_units, unit_value,
    max_per_day, frequency_max, frequency_days, frequency_policy";

fn service_type_from_row(r: &Row<'_>) -> rusqlite::Result<ServiceTypeRules> {
    let fmax: Option<u32> = r.get(7)?;
    let fdays: Option<u32> = r.get(8)?;
    let fpolicy: String = r.get(9)?;
    Ok(ServiceTypeRules {
        id: r.get(0)?,
        program_id: r.get(1)?,
        name: r.get(2)?,
        record_type: r.get(3)?,
        default_units: r.get(4)?,
        unit_value: r.get(5)?,
        max_per_day: r.get(6)?,
        frequency: fmax.zip(fdays).map(|(max, days)| FrequencyLimit {
            max,
            days,
            policy: LimitPolicy::parse(&fpolicy).unwrap_or_default(),
        }),
    })
}

pub fn get_service_type(conn: &Connection, id: i64) -> StoreResult<ServiceTypeRules> {
    conn.prepare_cached(&format!(
        "SELECT {SERVICE_TYPE_COLUMNS} FROM service_types WHERE id = :id"
    ))?
    .query_row(named_params! {":id": id}, service_type_from_row)
    .or_not_found(|| format!("no service type {id}"))
}

/// The service types of some programs.
pub fn service_types_of(conn: &Connection, programs: &[i64]) -> StoreResult<Vec<ServiceTypeRules>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SERVICE_TYPE_COLUMNS} FROM service_types WHERE program_id = :p ORDER BY id"
    ))?;
    let mut out = Vec::new();
    for &p in programs {
        for row in stmt.query_map(named_params! {":p": p}, service_type_from_row)? {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Finds a program by id, or by name within an organization (for the CLI).
pub fn resolve(conn: &Connection, org: Option<i64>, id_or_name: &str) -> StoreResult<ProgramId> {
    if let Ok(id) = id_or_name.parse::<i64>() {
        return get_rules(conn, ProgramId(id)).map(|p| ProgramId(p.id));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM programs WHERE name = :name AND (:org IS NULL OR organization_id = :org)",
    )?;
    let ids: Vec<i64> = stmt
        .query_map(named_params! {":name": id_or_name, ":org": org}, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [id] => Ok(ProgramId(*id)),
        [] => Err(StoreError::NotFound(format!("no program named {id_or_name:?}"))),
        _ => Err(StoreError::Invalid(format!(
            "several programs are named {id_or_name:?}: give its id or the organization"
        ))),
    }
}
