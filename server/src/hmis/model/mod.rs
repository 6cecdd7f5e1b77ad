//! The plain data of an HMIS import, shared by the reader (`hmis::read`), the store that
//! applies it (`store::hmis`) and the report: the typed rows of each file, the problems found
//! with their place, the counts of what was done, and HUD's code lists (`codes`). A leaf: it
//! imports nothing of the server.

pub mod codes;
pub mod kept;
pub mod records;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

pub use kept::Kept;

/// One problem with one value of an import, pointing at the exact place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub file: String,
    /// 1-based line of the file (the header is line 1); 0 for the file as a whole.
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.file, self.line)?;
        if !self.column.is_empty() {
            write!(f, ", {}", self.column)?;
        }
        if !self.value.is_empty() {
            write!(f, " {:?}", self.value)?;
        }
        write!(f, ": {}", self.reason)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub read: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub skipped: u64,
}

/// The HUD CSV specification an export follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvVersion {
    Fy2024,
    Fy2026,
}

/// The export's own record.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub export_id: String,
    pub csv_version: String,
    pub hash_status: i32,
}

/// What every record has: where it is, its times (the HMIS's local times, as written) and
/// the record as received.
#[derive(Debug, Clone)]
pub struct Common {
    pub file: &'static str,
    pub line: u64,
    /// DateCreated, or DateUpdated when the file has none.
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub deleted: Option<NaiveDateTime>,
    pub kept: Kept,
}

#[derive(Debug, Clone)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub common: Common,
}

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub project_type: i32,
    pub common: Common,
}

#[derive(Debug, Clone)]
pub struct ClientRow {
    pub id: String,
    pub first: String,
    pub middle: String,
    pub last: String,
    pub suffix: String,
    pub name_dq: i32,
    pub ssn: Option<String>,
    pub ssn_dq: i32,
    pub dob: Option<NaiveDate>,
    pub dob_dq: i32,
    pub common: Common,
}

#[derive(Debug, Clone)]
pub struct EnrollmentRow {
    pub id: String,
    pub personal_id: String,
    pub project_id: String,
    pub entry_date: NaiveDate,
    /// The HouseholdID as sent; empty when the HMIS left it out (the import then makes a
    /// household of one).
    pub household_id: String,
    pub relationship: i32,
    pub common: Common,
}

#[derive(Debug, Clone)]
pub struct ExitRow {
    pub id: String,
    pub enrollment_id: String,
    pub personal_id: String,
    pub exit_date: NaiveDate,
    pub destination: i32,
    pub common: Common,
}

#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub id: String,
    pub enrollment_id: String,
    pub personal_id: String,
    pub date: NaiveDate,
    pub record_type: i32,
    pub type_provided: i32,
    pub common: Common,
}

/// The rows read but refused, by primary key, with their line: a row that refers to one is
/// reported as its dependant, once for them all, instead of as a broken reference.
#[derive(Debug, Default)]
pub struct Refused {
    pub organizations: HashMap<String, u64>,
    pub projects: HashMap<String, u64>,
    pub clients: HashMap<String, u64>,
    pub enrollments: HashMap<String, u64>,
}

impl Refused {
    /// The refused rows of a file, by the file's name.
    pub fn of_file(&mut self, file: &str) -> Option<&mut HashMap<String, u64>> {
        match file {
            "Organization.csv" => Some(&mut self.organizations),
            "Project.csv" => Some(&mut self.projects),
            "Client.csv" => Some(&mut self.clients),
            "Enrollment.csv" => Some(&mut self.enrollments),
            _ => None,
        }
    }
}

/// A row of User.csv, kept so that the users the records name go back with them.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub kept: Kept,
}

/// What reading Services.csv gives, in the file's order: each row read and checked, and each
/// problem found with a row or with the file.
pub enum Read<'a> {
    Row(&'a ServiceRow),
    Error(Issue),
    Warning(Issue),
}

/// Services.csv, read from its start each time the import is worked out (the reader is
/// `hmis::read`). `each` gives everything it reads to `f` until `f` breaks.
pub trait ServiceRows: Send + Sync + std::fmt::Debug {
    /// About how many rows the file has, for progress.
    fn rows_hint(&self) -> u64;
    fn each(&self, f: &mut dyn FnMut(Read<'_>) -> std::ops::ControlFlow<()>);
}

/// An export read and checked file by file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The import's today, in its time zone, when the export was read.
    pub today: Option<chrono::NaiveDate>,
    pub export: Option<ExportRow>,
    /// The specification the export follows, once Export.csv and the headers agree on one.
    pub version: Option<CsvVersion>,
    pub users: Vec<UserRow>,
    pub refused: Refused,
    pub organizations: Vec<OrganizationRow>,
    pub projects: Vec<ProjectRow>,
    pub clients: Vec<ClientRow>,
    pub enrollments: Vec<EnrollmentRow>,
    pub exits: Vec<ExitRow>,
    /// Services.csv, read row by row as the import applies it: an export's services are most
    /// of its rows, too many to hold at once.
    pub services: Option<std::sync::Arc<dyn ServiceRows>>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}
