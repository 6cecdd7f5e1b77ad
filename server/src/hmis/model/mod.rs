//! The plain data of an HMIS import, shared by the reader (`hmis::read`), the store that
//! applies it (`store::hmis`) and the report: the typed rows of each file, the problems found
//! with their place, the counts of what was done, and HUD's code lists (`codes`). A leaf: it
//! imports nothing of the server.

pub mod codes;

use chrono::{NaiveDate, NaiveDateTime};

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

/// The export's own record.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub export_id: String,
    pub csv_version: String,
    pub hash_status: i32,
}

#[derive(Debug, Clone)]
pub struct Common {
    pub file: &'static str,
    pub line: u64,
    /// DateCreated, or DateUpdated when the file has none.
    pub created: NaiveDateTime,
    pub updated: NaiveDateTime,
    pub deleted: Option<NaiveDateTime>,
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

/// An export read and checked file by file.
#[derive(Debug, Default)]
pub struct Parsed {
    pub export: Option<ExportRow>,
    pub organizations: Vec<OrganizationRow>,
    pub projects: Vec<ProjectRow>,
    pub clients: Vec<ClientRow>,
    pub enrollments: Vec<EnrollmentRow>,
    pub exits: Vec<ExitRow>,
    pub services: Vec<ServiceRow>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}
