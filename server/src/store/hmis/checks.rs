//! What the HMIS page checks before an export (DESIGN §12.6, §12.7): the data-quality checks
//! HUD's CSV checking tool makes on night-by-night shelters, and the services that cannot go
//! to ClientTrack yet because a client, an enrollment or a service type has no HMIS ID. Each
//! finding names the client, so staff can open the dashboard and fix it; a client restricted to
//! another organization is counted but not named.

use chrono::NaiveDate;
use rusqlite::{Connection, params_from_iter, types::Value};

use crate::store::StoreError;

/// Days without a bed night after which an open night-by-night enrollment is reported (HUD's
/// tool leaves the number to local settings).
pub const LONG_GAP_DAYS: i64 = 30;
/// Most findings a check lists; the count is always the whole.
pub const SHOWN: usize = 50;

/// One finding: the client it is about and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub client: i64,
    pub client_number: u32,
    /// The client's name, empty when the viewer may not see it.
    pub name: String,
    pub program: String,
    pub detail: String,
}

/// A check and what it found.
#[derive(Debug, Clone)]
pub struct Check {
    pub title: &'static str,
    /// Why it matters, in a line.
    pub why: &'static str,
    pub total: u64,
    pub findings: Vec<Finding>,
}

impl Check {
    /// How many findings the list leaves out.
    pub fn more(&self) -> u64 {
        self.total.saturating_sub(self.findings.len() as u64)
    }
}

/// The night-by-night shelters among `programs`, checked over the enrollments active from
/// `from` to `to`; the long-gap check looks at `today`. `orgs` are the viewer's, whose
/// clients are named.
pub fn bed_night_checks(
    conn: &Connection,
    orgs: &[i64],
    programs: &[i64],
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> Result<Vec<Check>, StoreError> {
    let gap_since = today - chrono::Days::new(LONG_GAP_DAYS as u64);
    let list = |xs: &[i64]| vec!["?"; xs.len().max(1)].join(",");
    // Every query starts from the NbN enrollments of these programs active in the period.
    let scope = format!(
        "WITH e AS (
            SELECT e.* FROM enrollments e JOIN programs p ON p.id = e.program_id
            WHERE p.project_type = 1 AND e.program_id IN ({})
              AND e.entry_date <= ? AND (e.exit_date IS NULL OR e.exit_date >= ?)),
         night AS (
            SELECT s.enrollment_id, s.date_provided FROM services s
              JOIN service_types st ON st.id = s.service_type_id
            WHERE st.record_type = 200 AND s.deleted_at IS NULL)",
        list(programs)
    );
    let args = |extra: Vec<Value>| -> Vec<Value> {
        let mut v: Vec<Value> = programs.iter().map(|p| Value::from(*p)).collect();
        if programs.is_empty() {
            v.push(Value::Null);
        }
        v.push(to.to_string().into());
        v.push(from.to_string().into());
        v.extend(extra);
        v
    };
    let checks = [
        (
            "No bed night on the entry date",
            "HUD needs a bed night on the day a night-by-night stay begins.",
            "SELECT e.client_id, e.program_id, 'entered ' || e.entry_date FROM e
             WHERE NOT EXISTS (SELECT 1 FROM night n WHERE n.enrollment_id = e.id AND n.date_provided = e.entry_date)",
            vec![],
        ),
        (
            "A bed night on the exit date",
            "The exit date is the morning after the last night: no bed night may fall on it.",
            "SELECT e.client_id, e.program_id, 'exited ' || e.exit_date FROM e
             WHERE EXISTS (SELECT 1 FROM night n WHERE n.enrollment_id = e.id AND n.date_provided = e.exit_date)",
            vec![],
        ),
        (
            "Bed nights outside the enrollment",
            "A bed night before the entry date or after the exit date belongs to no stay.",
            "SELECT e.client_id, e.program_id, 'a bed night on ' || n.date_provided || ' (stay ' || e.entry_date || ' to ' || COALESCE(e.exit_date, 'open') || ')'
             FROM e JOIN night n ON n.enrollment_id = e.id
             WHERE n.date_provided < e.entry_date OR n.date_provided > e.exit_date",
            vec![],
        ),
        (
            "Overlapping enrollments in one program",
            "One person is in one shelter once at a time; an overlap counts nights twice.",
            "SELECT a.client_id, a.program_id, 'entered ' || a.entry_date || ' and ' || b.entry_date FROM e a JOIN e b
               ON a.client_id = b.client_id AND a.program_id = b.program_id AND a.id < b.id
             WHERE a.entry_date < COALESCE(b.exit_date, '9999-12-31') AND b.entry_date < COALESCE(a.exit_date, '9999-12-31')",
            vec![],
        ),
        (
            "Open with no bed night for 30 days",
            "A stay still open long after the last night should be exited (the day after the last night).",
            "SELECT e.client_id, e.program_id, 'last night ' || COALESCE(MAX(n.date_provided), 'none') || ', entered ' || e.entry_date
             FROM e LEFT JOIN night n ON n.enrollment_id = e.id
             WHERE e.exit_date IS NULL GROUP BY e.id
             HAVING COALESCE(MAX(n.date_provided), e.entry_date) < ?",
            vec![Value::from(gap_since.to_string())],
        ),
    ];
    let mut out = Vec::new();
    for (title, why, select, extra) in checks {
        let sql = format!("{scope} {select}");
        let rows: Vec<(i64, i64, String)> = conn
            .prepare(&sql)?
            .query_map(params_from_iter(args(extra)), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let total = rows.len() as u64;
        let mut findings = Vec::new();
        for (client, program, detail) in rows.into_iter().take(SHOWN) {
            findings.push(finding(conn, orgs, client, program, detail)?);
        }
        out.push(Check { title, why, total, findings });
    }
    Ok(out)
}

/// A finding about a client in a program, named when the viewer may see the client.
fn finding(
    conn: &Connection,
    orgs: &[i64],
    client: i64,
    program: i64,
    detail: String,
) -> Result<Finding, StoreError> {
    let (number, first, last, org, restricted, program_name): (
        u32,
        String,
        String,
        i64,
        bool,
        String,
    ) = conn
        .prepare_cached(
            "SELECT c.client_number, c.first_name, c.last_name, c.organization_id, c.restricted,
                    (SELECT name FROM programs WHERE id = ?2)
             FROM clients c WHERE c.id = ?1",
        )?
        .query_row([client, program], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
    let visible = !restricted || orgs.contains(&org);
    Ok(Finding {
        client,
        client_number: number,
        name: if visible { format!("{first} {last}") } else { String::new() },
        program: program_name,
        detail,
    })
}

/// What a missing HMIS ID holds back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The client to fix.
    pub finding: Finding,
    pub services: u64,
}

/// The services with no HUD code of `programs` from `from` to `to` that ClientTrack's upload
/// cannot take yet, by what is missing: a client's HMIS client ID, an enrollment's HMIS
/// enrollment ID (for a client who has a client ID), a service type's HMIS service code.
#[derive(Debug, Clone, Default)]
pub struct MissingIds {
    /// Services held back by any of them, each counted once.
    pub waiting: u64,
    pub clients: Vec<Waiting>,
    pub enrollments: Vec<Waiting>,
    /// (service type, its program and name, services waiting).
    pub service_types: Vec<(i64, String, u64)>,
}

pub fn missing_ids(
    conn: &Connection,
    orgs: &[i64],
    programs: &[i64],
    (from, to): (NaiveDate, NaiveDate),
) -> Result<MissingIds, StoreError> {
    if programs.is_empty() {
        return Ok(MissingIds::default());
    }
    let base = format!(
        "FROM services s JOIN service_types st ON st.id = s.service_type_id
           JOIN clients c ON c.id = s.client_id JOIN enrollments e ON e.id = s.enrollment_id
         WHERE s.deleted_at IS NULL AND st.record_type IS NULL AND s.program_id IN ({})
           AND s.date_provided BETWEEN ? AND ?",
        vec!["?"; programs.len()].join(",")
    );
    let mut args: Vec<Value> = programs.iter().map(|p| Value::from(*p)).collect();
    args.push(from.to_string().into());
    args.push(to.to_string().into());
    let query = |sql: String| -> Result<Vec<(i64, i64, String, u64)>, StoreError> {
        Ok(conn
            .prepare(&sql)?
            .query_map(params_from_iter(args.clone()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64))
            })?
            .collect::<Result<_, _>>()?)
    };
    let waiting = |rows: Vec<(i64, i64, String, u64)>| -> Result<Vec<Waiting>, StoreError> {
        rows.into_iter()
            .map(|(client, program, detail, services)| {
                Ok(Waiting { finding: finding(conn, orgs, client, program, detail)?, services })
            })
            .collect()
    };
    let clients = waiting(query(format!(
        "SELECT c.id, MIN(s.program_id), 'no HMIS client ID', COUNT(*) {base}
           AND c.personal_id IS NULL
         GROUP BY c.id ORDER BY COUNT(*) DESC, c.id"
    ))?)?;
    let enrollments = waiting(query(format!(
        "SELECT c.id, e.program_id, 'enrollment of ' || e.entry_date || ' has no HMIS enrollment ID',
                COUNT(*) {base}
           AND c.personal_id IS NOT NULL AND e.hmis_enrollment_id IS NULL
         GROUP BY e.id ORDER BY COUNT(*) DESC, e.id"
    ))?)?;
    let service_types = query(format!(
        "SELECT st.id, 0, (SELECT name FROM programs WHERE id = st.program_id) || ': ' || st.name,
                COUNT(*) {base}
           AND st.hmis_service_code IS NULL
         GROUP BY st.id ORDER BY COUNT(*) DESC, st.id"
    ))?
    .into_iter()
    .map(|(id, _, name, n)| (id, name, n))
    .collect();
    let waiting = conn.query_row(
        &format!(
            "SELECT COUNT(*) {base} AND (c.personal_id IS NULL OR e.hmis_enrollment_id IS NULL
                                         OR st.hmis_service_code IS NULL)"
        ),
        params_from_iter(args.clone()),
        |r| r.get::<_, i64>(0).map(|n| n as u64),
    )?;
    Ok(MissingIds { waiting, clients, enrollments, service_types })
}
