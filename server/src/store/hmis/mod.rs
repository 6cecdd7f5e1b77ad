//! Applying an HMIS CSV import inside one transaction: records are found by their HMIS IDs,
//! the newer DateUpdated wins, DateDeleted is honoured, references are checked against the
//! export and the database, and data-quality findings are collected. Any error fails the whole
//! import (the caller rolls back); nothing here commits. One module a file of the export, run in
//! order, each adding what later files refer to.

pub mod checks;
mod clients;
mod enrollments;
mod exits;
mod organizations;
pub mod outgoing;
mod projects;
mod services;
pub use services::night_recorded_meanwhile;
pub mod settings;
mod users;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, now};
use crate::hmis::model::codes;
use crate::hmis::model::{Common, Counts, Issue, Parsed};

/// Settings for records the HMIS does not describe.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// IANA time zone of organizations created by the import.
    pub time_zone: String,
    /// The organizations the import may act in: the organizations a signed-in admin
    /// administers, or the one the operator names on the command line. Records the file names
    /// outside them are errors, never updated or deleted; a client another organization
    /// shares is kept as that organization recorded it. `None`: the operator's unrestricted
    /// import, which may also create organizations.
    pub scope: Option<Vec<i64>>,
}

impl ImportOptions {
    fn allows(&self, org: i64) -> bool {
        self.scope.as_ref().is_none_or(|s| s.contains(&org))
    }
}

/// What a record found outside the import's organizations is told.
const OUTSIDE: &str =
    "belongs to an organization you do not administer: the import leaves it as it is";
/// What an organization outside the import's is told.
const NOT_ADMINISTERED: &str = "not an organization you administer: the import leaves it as it is";

/// What applying an import did and found. With any error the caller rolls it back.
#[derive(Debug, Default)]
pub struct Applied {
    pub counts: Vec<(String, Counts)>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

/// Reports progress: file, rows done, rows in the file.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

pub(super) struct Ctx {
    pub(super) errors: Vec<Issue>,
    pub(super) warnings: Vec<Issue>,
}

fn issue_at(c: &Common, column: &str, value: &str, reason: &str) -> Issue {
    Issue {
        file: c.file.to_owned(),
        line: c.line,
        column: column.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

impl Ctx {
    fn error(&mut self, c: &Common, column: &str, value: &str, reason: &str) {
        self.errors.push(issue_at(c, column, value, reason));
    }

    fn warn(&mut self, c: &Common, column: &str, value: &str, reason: &str) {
        self.warnings.push(issue_at(c, column, value, reason));
    }
}

/// A row that was refused, and that other rows may refer to: the root cause their own
/// refusal is reported under.
#[derive(Debug, Clone)]
pub(super) struct Root {
    /// "project P7 (Project.csv line 12)".
    pub(super) what: String,
}

impl Root {
    fn new(kind: &str, id: &str, file: &str, line: u64) -> Self {
        Self { what: format!("{kind} {id} ({file} line {line})") }
    }
}

/// The refused rows of each file, by HMIS ID.
#[derive(Debug, Default)]
pub(super) struct Roots {
    pub(super) organizations: HashMap<String, Root>,
    pub(super) projects: HashMap<String, Root>,
    pub(super) clients: HashMap<String, Root>,
    pub(super) enrollments: HashMap<String, Root>,
}

impl Roots {
    fn of(refused: &crate::hmis::model::Refused) -> Self {
        let each = |kind: &str, file: &str, m: &HashMap<String, u64>| {
            m.iter().map(|(id, line)| (id.clone(), Root::new(kind, id, file, *line))).collect()
        };
        Self {
            organizations: each("organization", "Organization.csv", &refused.organizations),
            projects: each("project", "Project.csv", &refused.projects),
            clients: each("client", "Client.csv", &refused.clients),
            enrollments: each("enrollment", "Enrollment.csv", &refused.enrollments),
        }
    }
}

/// Rows not applied because of one root cause, reported once for them all.
#[derive(Debug, Default)]
pub(super) struct Dependants {
    /// (file, column, cause) -> (rows, their first lines).
    groups: BTreeMap<(&'static str, &'static str, String), (u64, Vec<u64>)>,
}

/// How many lines of the dependants a report names.
const EXAMPLES: usize = 5;

impl Dependants {
    pub(super) fn add(&mut self, c: &Common, column: &'static str, cause: String) {
        let group = self.groups.entry((c.file, column, cause)).or_default();
        group.0 += 1;
        if group.1.len() < EXAMPLES {
            group.1.push(c.line);
        }
    }

    fn issues(self, (one, many): (&str, &str)) -> Vec<Issue> {
        self.groups
            .into_iter()
            .map(|((file, column, cause), (count, lines))| {
                let first = lines.first().copied().unwrap_or_default();
                let shown: Vec<String> = lines.iter().map(u64::to_string).collect();
                let more = count - lines.len() as u64;
                let lines = if more > 0 {
                    format!("lines {} and {more} more", shown.join(", "))
                } else if count == 1 {
                    format!("line {}", shown[0])
                } else {
                    format!("lines {}", shown.join(", "))
                };
                let rows = if count == 1 {
                    format!("1 row {one}")
                } else {
                    format!("{count} rows {many}")
                };
                Issue {
                    file: file.to_owned(),
                    line: first,
                    column: column.to_owned(),
                    value: String::new(),
                    reason: format!("{rows} because {cause}: {lines}"),
                }
            })
            .collect()
    }
}

/// Whether the incoming row replaces what is stored: it is newer (or nothing was stored).
pub(super) fn newer(incoming: NaiveDateTime, stored: Option<NaiveDateTime>) -> bool {
    stored.is_none_or(|s| incoming > s)
}

pub(super) fn tick(progress: &mut Progress<'_>, file: &str, i: usize, total: usize) {
    if i.is_multiple_of(2000) || i + 1 == total {
        progress(file, i as u64 + 1, total as u64);
    }
}

pub(super) fn sql_err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

/// One import being applied: the transaction, the rows and the options, what it has found,
/// and the Scanline ids of the HMIS records applied so far (later files refer to earlier
/// ones).
pub(super) struct Run<'a> {
    pub(super) tx: &'a Connection,
    pub(super) p: &'a Parsed,
    pub(super) opts: &'a ImportOptions,
    pub(super) progress: Progress<'a>,
    pub(super) at: chrono::DateTime<chrono::Utc>,
    /// The zone the HMIS's times are local to.
    pub(super) tz: chrono_tz::Tz,
    pub(super) cx: Ctx,
    pub(super) counts: Vec<(String, Counts)>,
    pub(super) org_ids: HashMap<&'a str, i64>,
    pub(super) program_ids: HashMap<&'a str, (i64, i32)>,
    pub(super) client_ids: HashMap<&'a str, i64>,
    /// HMIS EnrollmentID -> what later files need of the enrollment.
    pub(super) enrollment_ids: HashMap<&'a str, EnrollmentRef>,
    /// HMIS EnrollmentID -> (line of its exit, exit date).
    pub(super) exit_of: HashMap<&'a str, (u64, NaiveDate)>,
    /// Rows refused, that others may refer to.
    pub(super) roots: Roots,
    /// Rows refused because of a root, reported once a root (errors).
    pub(super) dependants: Dependants,
    /// Rows left out because of a record the HMIS deleted (warnings).
    pub(super) orphans: Dependants,
    /// The EnrollmentIDs the export deletes.
    pub(super) deleted_enrollments: std::collections::HashSet<&'a str>,
}

impl Run<'_> {
    /// A time the HMIS wrote, in its zone, as the instant Scanline stores. A local time that
    /// does not exist (the hour clocks skip) is read an hour later; one that happens twice is
    /// the first.
    pub(super) fn utc(&self, local: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone as _;
        let placed = self.tz.from_local_datetime(&local).earliest().or_else(|| {
            self.tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest()
        });
        placed.map_or_else(|| local.and_utc(), |t| t.with_timezone(&chrono::Utc))
    }
}

/// The files whose rows others refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Organization,
    Project,
    Client,
    Enrollment,
}

impl Run<'_> {
    fn roots_of(&mut self, kind: Kind) -> (&mut HashMap<String, Root>, &'static str) {
        match kind {
            Kind::Organization => (&mut self.roots.organizations, "organization"),
            Kind::Project => (&mut self.roots.projects, "project"),
            Kind::Client => (&mut self.roots.clients, "client"),
            Kind::Enrollment => (&mut self.roots.enrollments, "enrollment"),
        }
    }

    /// Refuses a row with an error; rows that refer to it are then reported under it.
    pub(super) fn refuse(
        &mut self,
        kind: Kind,
        id: &str,
        c: &Common,
        (column, value, reason): (&str, &str, &str),
    ) {
        self.cx.error(c, column, value, reason);
        let (roots, name) = self.roots_of(kind);
        roots.entry(id.to_owned()).or_insert_with(|| Root::new(name, id, c.file, c.line));
    }

    /// The root a row of `kind` with this HMIS ID was refused under, if it was.
    pub(super) fn root(&mut self, kind: Kind, id: &str) -> Option<Root> {
        self.roots_of(kind).0.get(id).cloned()
    }

    /// Leaves out a row that refers to a refused one, counted under that row's root cause;
    /// a row of `kind` left out so becomes a root of the same cause for the rows after it.
    pub(super) fn depend(
        &mut self,
        kind: Option<Kind>,
        id: &str,
        c: &Common,
        column: &'static str,
        cause: &Root,
    ) {
        self.dependants.add(c, column, format!("{} was refused", cause.what));
        if let Some(kind) = kind {
            self.roots_of(kind).0.insert(id.to_owned(), cause.clone());
        }
    }
}

/// Applies a read export: what it did, and the errors that make it fail and the warnings it
/// found. Nothing here commits or rolls back.
pub fn apply<'a>(
    tx: &'a Connection,
    p: &'a Parsed,
    opts: &'a ImportOptions,
    progress: Progress<'a>,
) -> Result<Applied, StoreError> {
    let mut run = Run {
        tx,
        p,
        opts,
        progress,
        at: now(),
        tz: super::orgs::parse_time_zone(&opts.time_zone)?,
        cx: Ctx { errors: Vec::new(), warnings: Vec::new() },
        counts: Vec::new(),
        org_ids: HashMap::new(),
        program_ids: HashMap::new(),
        client_ids: HashMap::with_capacity(p.clients.len()),
        enrollment_ids: HashMap::with_capacity(p.enrollments.len()),
        exit_of: HashMap::new(),
        roots: Roots::of(&p.refused),
        dependants: Dependants::default(),
        orphans: Dependants::default(),
        deleted_enrollments: p
            .enrollments
            .iter()
            .filter(|e| e.common.deleted.is_some())
            .map(|e| e.id.as_str())
            .collect(),
    };
    run.organizations()?;
    run.projects()?;
    run.clients()?;
    run.enrollments()?;
    run.exits()?;
    run.services()?;
    run.users()?;
    let mut errors = run.cx.errors;
    errors.extend(run.dependants.issues(("was not imported", "were not imported")));
    let mut warnings = run.cx.warnings;
    warnings.extend(run.orphans.issues(("was left out", "were left out")));
    Ok(Applied { counts: run.counts, errors, warnings })
}

/// A record by its HMIS ID, or by the `<prefix><id>` Scanline exports for a record the HMIS
/// never sent; with its stored DateUpdated.
pub(super) fn find(
    tx: &Connection,
    table: &str,
    column: &str,
    prefix: &str,
    hmis_id: &str,
) -> Result<Option<(i64, Option<NaiveDateTime>)>, StoreError> {
    let found = tx
        .prepare_cached(&format!("SELECT id, hmis_updated_at FROM {table} WHERE {column} = ?"))?
        .query_row([hmis_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if found.is_some() {
        return Ok(found);
    }
    match hmis_id.strip_prefix(prefix).and_then(|n| n.parse::<i64>().ok()) {
        Some(id) => Ok(tx
            .prepare_cached(&format!(
                "SELECT id, hmis_updated_at FROM {table} WHERE id = ? AND {column} IS NULL"
            ))?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?),
        None => Ok(None),
    }
}

#[derive(Debug, Clone)]
pub(super) struct EnrollmentRef {
    pub(super) id: i64,
    pub(super) client: i64,
    pub(super) program: i64,
    /// The program's organization.
    pub(super) organization: i64,
    pub(super) project_type: i32,
    pub(super) entry: NaiveDate,
    pub(super) personal_id: String,
}

pub(super) fn enrollment_ref(
    tx: &Connection,
    imported: &HashMap<&str, EnrollmentRef>,
    hmis_id: &str,
) -> Result<Option<EnrollmentRef>, StoreError> {
    if let Some(e) = imported.get(hmis_id) {
        return Ok(Some(e.clone()));
    }
    let Some((id, _)) = find(tx, "enrollments", "hmis_enrollment_id", "SL-E", hmis_id)? else {
        return Ok(None);
    };
    Ok(tx
        .prepare_cached(
            "SELECT e.id, e.client_id, e.program_id, p.project_type, e.entry_date,
                    COALESCE(c.personal_id, 'SL' || c.client_number), p.organization_id
             FROM enrollments e JOIN programs p ON p.id = e.program_id JOIN clients c ON c.id = e.client_id
             WHERE e.id = ?",
        )?
        .query_row([id], |r| {
            Ok(EnrollmentRef {
                id: r.get(0)?,
                client: r.get(1)?,
                program: r.get(2)?,
                project_type: r.get(3)?,
                entry: r.get(4)?,
                personal_id: r.get(5)?,
                organization: r.get(6)?,
            })
        })
        .optional()?)
}

/// The organization of a program.
pub(super) fn program_org(tx: &Connection, program: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached("SELECT organization_id FROM programs WHERE id = ?")?
        .query_row([program], |r| r.get(0))?)
}

/// The organization of an enrollment's program.
pub(super) fn enrollment_org(tx: &Connection, enrollment: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT p.organization_id FROM enrollments e JOIN programs p ON p.id = e.program_id
             WHERE e.id = ?",
        )?
        .query_row([enrollment], |r| r.get(0))?)
}

/// The organization of a service's program.
pub(super) fn service_org(tx: &Connection, service: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT p.organization_id FROM services s JOIN programs p ON p.id = s.program_id
             WHERE s.id = ?",
        )?
        .query_row([service], |r| r.get(0))?)
}

/// A client's organization, and whether the client is restricted to it.
pub(super) fn client_org(tx: &Connection, client: i64) -> Result<(i64, bool), StoreError> {
    Ok(tx
        .prepare_cached("SELECT organization_id, restricted FROM clients WHERE id = ?")?
        .query_row([client], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// A client by PersonalID; `SL<number>` is how Scanline exports a client the HMIS never sent.
pub(super) fn find_client(
    tx: &Connection,
    personal_id: &str,
) -> Result<Option<(i64, Option<NaiveDateTime>)>, StoreError> {
    let found = tx
        .prepare_cached("SELECT id, hmis_updated_at FROM clients WHERE personal_id = ?")?
        .query_row([personal_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if found.is_some() {
        return Ok(found);
    }
    match personal_id.strip_prefix("SL").and_then(|n| n.parse::<i64>().ok()) {
        Some(number) => Ok(tx
            .prepare_cached("SELECT id, hmis_updated_at FROM clients WHERE client_number = ? AND personal_id IS NULL")?
            .query_row([number], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?),
        None => Ok(None),
    }
}

/// Deletes a client the HMIS deleted, when Scanline holds nothing of its own about them.
pub(super) fn delete_client_if_unused(tx: &Connection, id: i64) -> Result<bool, StoreError> {
    let used: i64 = tx.query_row(
        "SELECT (SELECT COUNT(*) FROM services WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM batch_entries WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM cards WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM bars WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM photos WHERE client_id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    if used > 0 {
        return Ok(false);
    }
    tx.execute("DELETE FROM enrollments WHERE client_id = ?", [id])?;
    tx.execute("DELETE FROM clients WHERE id = ?", [id])?;
    Ok(true)
}

/// The program's service type for a HUD RecordType and TypeProvided, made when missing.
pub(super) fn service_type_for(
    tx: &Connection,
    (program, record_type, type_provided): (i64, i32, i32),
) -> Result<i64, StoreError> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM service_types WHERE program_id = ? AND record_type = ? AND type_provided = ? ORDER BY id LIMIT 1")?
        .query_row(params![program, record_type, type_provided], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let name = if record_type == 200 {
        "Bed Night".to_owned()
    } else {
        let rt = codes::RECORD_TYPE.describe(record_type).unwrap_or("HUD service");
        let tp = codes::type_provided_list(record_type)
            .and_then(|l| l.describe(type_provided))
            .unwrap_or("other");
        format!("{rt}: {tp}")
    };
    // A program may already use the name for a service of its own.
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM service_types WHERE program_id = ? AND name = ?)",
        params![program, name],
        |r| r.get(0),
    )?;
    let name = if taken { format!("{name} ({record_type}/{type_provided})") } else { name };
    tx.execute(
        "INSERT INTO service_types (program_id, name, record_type, type_provided, created_at) VALUES (?, ?, ?, ?, ?)",
        params![program, name, record_type, type_provided, now()],
    )?;
    Ok(tx.last_insert_rowid())
}
