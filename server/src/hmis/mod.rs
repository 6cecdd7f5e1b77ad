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
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub use model::{Counts, Issue, records};

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

/// The files of one export, by lower-case file name. Services.csv, which holds most of an
/// export's rows, is not inflated into memory with the others: it is kept as it came (`Source`)
/// and read row by row while the import applies it.
#[derive(Debug, Default)]
pub struct Files {
    files: HashMap<String, Vec<u8>>,
    streamed: HashMap<String, Source>,
}

/// The files read row by row as they are applied rather than held whole.
pub const STREAMED: [&str; 1] = ["services.csv"];

/// A file of the export kept so that it can be read again from its start, each time the import
/// is worked out: in memory as it is, or as a member of the zip archive it came in, inflated
/// again on each reading.
#[derive(Clone)]
pub enum Source {
    Bytes(Arc<[u8]>),
    Zipped {
        archive: Arc<[u8]>,
        index: usize,
        /// What the member inflates to, counted when the archive was opened.
        size: u64,
        /// Its lines, counted then too: how far the import has got is shown against them.
        lines: u64,
    },
}

/// Sizes only: an archive's bytes are not for a log.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "Source::Bytes({} bytes)", bytes.len()),
            Self::Zipped { archive, index, size, lines } => write!(
                f,
                "Source::Zipped(member {index} of a {} byte archive, {size} bytes, {lines} lines)",
                archive.len()
            ),
        }
    }
}

impl Source {
    /// Reads the file from its start with `f`.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn Read) -> T) -> Result<T, String> {
        match self {
            Self::Bytes(bytes) => Ok(f(&mut &bytes[..])),
            Self::Zipped { archive, index, size, .. } => {
                let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&archive[..]))
                    .map_err(|e| format!("the zip archive cannot be read again: {e}"))?;
                let member = zip
                    .by_index(*index)
                    .map_err(|e| format!("the zip archive cannot be read again: {e}"))?;
                // The member was measured when the archive was opened; no more is read.
                Ok(f(&mut member.take(*size)))
            }
        }
    }

    /// About how many lines the file has, header included.
    pub fn lines(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => count_lines(bytes),
            Self::Zipped { lines, .. } => *lines,
        }
    }
}

fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
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
        let mut files = Self::default();
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
            files.insert(&name, data);
        }
        Ok(files)
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
        let mut out = Self::default();
        let mut shared: Option<Arc<[u8]>> = None;
        let mut total = 0u64;
        for i in 0..archive.len() {
            let f = archive.by_index(i).map_err(|e| format!("the zip archive is damaged: {e}"))?;
            let full = f.name().map_err(|e| format!("the zip archive is damaged: {e}"))?;
            let name = full.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
            if !f.is_file()
                || !FILES_READ.contains(&name.as_str())
                || out.files.contains_key(&name)
                || out.streamed.contains_key(&name)
            {
                continue;
            }
            if total.saturating_add(f.size()) > MAX_TOTAL_BYTES {
                return Err(too_large());
            }
            let budget = MAX_TOTAL_BYTES - total;
            let unreadable =
                |e: std::io::Error| format!("{name} in the zip archive cannot be read: {e}");
            if STREAMED.contains(&name.as_str()) {
                // Inflated once here to measure it and count its lines, and left compressed.
                let (size, lines) = measure(f.take(budget + 1)).map_err(unreadable)?;
                if size > budget {
                    return Err(too_large());
                }
                total += size;
                let archive = Arc::clone(shared.get_or_insert_with(|| Arc::from(bytes)));
                out.streamed.insert(name, Source::Zipped { archive, index: i, size, lines });
                continue;
            }
            let mut data = Vec::new();
            f.take(budget + 1).read_to_end(&mut data).map_err(unreadable)?;
            if data.len() as u64 > budget {
                return Err(too_large());
            }
            total += data.len() as u64;
            out.files.insert(name, data);
        }
        Ok(out)
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
        let name = name.to_ascii_lowercase();
        if STREAMED.contains(&name.as_str()) {
            self.streamed.insert(name, Source::Bytes(Arc::from(data)));
        } else {
            self.files.insert(name, data);
        }
    }

    /// A file held whole; the streamed files are not (`source`).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(&name.to_ascii_lowercase()).map(Vec::as_slice)
    }

    /// A file read row by row (`STREAMED`).
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.streamed.get(&name.to_ascii_lowercase())
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.streamed.is_empty()
    }
}

/// How many bytes a reader gives and how many lines they hold, reading it to its end.
fn measure(mut r: impl Read) -> std::io::Result<(u64, u64)> {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut size, mut lines) = (0u64, 0u64);
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok((size, lines)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        lines += count_lines(&buf[..n]);
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
    // The history the export brings is no roster change (`store::roster::quiet_history`).
    if let Some(today) = parsed.today {
        crate::store::roster::quiet_history(tx, today)?;
    }
    let mut found = crate::store::hmis::apply(tx, parsed, opts, progress)?;
    crate::store::roster::end_quiet(tx)?;
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
