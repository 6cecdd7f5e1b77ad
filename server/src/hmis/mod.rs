//! HMIS interchange (DESIGN §12): HUD HMIS CSV import (FY2024 and FY2026) to seed and refresh
//! organizations, programs, clients, enrollments, exits and services from the agency's HMIS;
//! FY2026 export of services with the records they reference; and services exports in
//! ClientTrack's batch upload layout and as plain CSV. Reading and writing files is here; SQL
//! is in `store::hmis`.

pub mod cli;
pub mod export;
pub mod model;
pub mod read;
pub mod services;
pub mod staged;

use std::collections::HashMap;

pub use model::{Counts, Issue, records};
use std::io::Read as _;
use std::path::Path;

/// What an import found and did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Problems that stopped the import: nothing was changed.
    pub errors: Vec<Issue>,
    /// Data-quality findings that were imported as they are.
    pub warnings: Vec<Issue>,
    /// Per file: rows read, added, updated, unchanged (same or older DateUpdated), deleted
    /// (DateDeleted honoured) and skipped.
    pub counts: Vec<(String, Counts)>,
    /// Whether the import was written.
    pub applied: bool,
}

impl Report {
    /// The report as CSV: kind, file, line, column, value, reason.
    pub fn issues_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["kind", "file", "line", "column", "value", "reason"]);
        for (kind, list) in [("error", &self.errors), ("warning", &self.warnings)] {
            for i in list {
                let _ = w.write_record([
                    kind,
                    &i.file,
                    &i.line.to_string(),
                    &i.column,
                    &i.value,
                    &i.reason,
                ]);
            }
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// The files of one export, by lower-case file name.
#[derive(Debug, Default)]
pub struct Files {
    files: HashMap<String, Vec<u8>>,
}

/// The files of an export the importer reads; every other member of a folder or archive is
/// left unread.
pub const FILES_READ: [&str; 8] = [
    "export.csv",
    "user.csv",
    "organization.csv",
    "project.csv",
    "client.csv",
    "enrollment.csv",
    "exit.csv",
    "services.csv",
];
/// Most bytes all the files read may hold together, uncompressed, so a zip bomb cannot fill
/// memory: a million services with their clients and enrollments take about 250 MB.
pub const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// Most members an archive may have; a HUD export has a few dozen files.
pub const MAX_MEMBERS: usize = 200;

fn too_large() -> String {
    format!(
        "the export holds more than {} MB of CSV files, more than Scanline imports at once; \
         export fewer years or programs from the HMIS",
        MAX_TOTAL_BYTES / (1024 * 1024)
    )
}

impl Files {
    /// The CSV files of a folder that the importer reads.
    pub fn from_dir(dir: &Path) -> Result<Self, String> {
        let mut files = HashMap::new();
        let mut total = 0u64;
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            let name = name.to_ascii_lowercase();
            if !path.is_file() || !FILES_READ.contains(&name.as_str()) {
                continue;
            }
            let data =
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            total += data.len() as u64;
            if total > MAX_TOTAL_BYTES {
                return Err(too_large());
            }
            files.insert(name, data);
        }
        Ok(Self { files })
    }

    /// The CSV files of a zip archive (in any folder inside it) that the importer reads, within
    /// `MAX_TOTAL_BYTES` uncompressed: what each member says of its size is checked first, and
    /// what it really inflates to is counted as it is read.
    pub fn from_zip(bytes: &[u8]) -> Result<Self, String> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| format!("the file is not a readable zip archive: {e}"))?;
        if archive.len() > MAX_MEMBERS {
            return Err(format!(
                "the zip archive holds {} files; an HMIS export holds at most {MAX_MEMBERS}",
                archive.len()
            ));
        }
        let mut files = HashMap::new();
        let mut total = 0u64;
        for i in 0..archive.len() {
            let f = archive.by_index(i).map_err(|e| format!("the zip archive is damaged: {e}"))?;
            let full = f.name().map_err(|e| format!("the zip archive is damaged: {e}"))?;
            let name = full.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
            if !f.is_file() || !FILES_READ.contains(&name.as_str()) || files.contains_key(&name) {
                continue;
            }
            if total.saturating_add(f.size()) > MAX_TOTAL_BYTES {
                return Err(too_large());
            }
            let budget = MAX_TOTAL_BYTES - total;
            let mut data = Vec::new();
            f.take(budget + 1)
                .read_to_end(&mut data)
                .map_err(|e| format!("{name} in the zip archive cannot be read: {e}"))?;
            if data.len() as u64 > budget {
                return Err(too_large());
            }
            total += data.len() as u64;
            files.insert(name, data);
        }
        Ok(Self { files })
    }

    /// A folder, or a zip archive by its content.
    pub fn open(path: &Path) -> Result<Self, String> {
        if path.is_dir() {
            return Self::from_dir(path);
        }
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_zip(&bytes)
    }

    pub fn insert(&mut self, name: &str, data: Vec<u8>) {
        self.files.insert(name.to_ascii_lowercase(), data);
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(&name.to_ascii_lowercase()).map(Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Why an import was not applied.
#[derive(Debug)]
pub enum ImportError {
    /// The export has errors, all listed in the report; the caller's transaction must roll
    /// back (returning this from `Db::transact` does).
    Refused(Box<Report>),
    Store(crate::store::StoreError),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<crate::store::StoreError> for ImportError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Store(e)
    }
}

/// Applies an export that was read, in the caller's transaction. The rows that were read are
/// applied even when others were refused, so the report names every problem at once (broken
/// references included); any error then comes back as `Refused`, for the caller to roll back.
pub fn import(
    tx: &rusqlite::Connection,
    parsed: &model::Parsed,
    opts: &crate::store::hmis::ImportOptions,
    progress: crate::store::hmis::Progress<'_>,
) -> Result<Report, ImportError> {
    let mut report = Report {
        errors: parsed.errors.clone(),
        warnings: parsed.warnings.clone(),
        ..Report::default()
    };
    let mut found = crate::store::hmis::apply(tx, parsed, opts, progress)?;
    report.warnings.append(&mut found.warnings);
    report.errors.append(&mut found.errors);
    if report.errors.is_empty() {
        report.counts = found.counts;
        report.applied = true;
        Ok(report)
    } else {
        Err(ImportError::Refused(Box::new(report)))
    }
}

/// The report of an import either way: applied, or refused with its errors (and rolled back).
pub fn report_of(outcome: Result<Report, ImportError>) -> Result<Report, crate::store::StoreError> {
    match outcome {
        Ok(report) => Ok(report),
        Err(ImportError::Refused(report)) => Ok(*report),
        Err(ImportError::Store(e)) => Err(e),
    }
}

/// Imports in one transaction of its own on `conn`: for tests and benchmarks, which hold a
/// connection; the server and the command line go through their database seams.
pub fn import_now(
    conn: &mut rusqlite::Connection,
    parsed: &model::Parsed,
    opts: &crate::store::hmis::ImportOptions,
    progress: crate::store::hmis::Progress<'_>,
) -> Result<Report, crate::store::StoreError> {
    report_of(crate::db::immediate(conn, |tx| import(tx, parsed, opts, progress)))
}
