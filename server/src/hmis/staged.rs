//! An import staged off the database writer (DESIGN §12): the export is applied, with every
//! rule of `store::hmis`, to a copy of the database taken while the server keeps serving; an
//! export with errors is reported without the writer ever being asked. What the copy's
//! import changed then lands on the live database in one transaction on the writer, which is
//! held only for that. If the live database moved under the copy (a row the import changes was
//! changed meanwhile, or a bed night was recorded for a night the import adds), that
//! transaction rolls back and the import runs again on a new copy; after the last attempt it
//! runs on the writer itself, as an in-memory database always does, and as it does when no
//! copy can be made (a disk without room for one). Either way it is all or nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::model::Parsed;
use super::{ImportError, Report, import as apply_to};
use crate::db::Db;
use crate::store::hmis::{ImportOptions, night_recorded_meanwhile};
use crate::store::staged::{self, Conflict, Copy, Landed};
use crate::store::{StoreError, roster};

/// The numbers the import gives its new rows by counting up: clients' numbers.
const SERIALS: &[(&str, &str)] = &[("clients", "client_number")];
/// The tables the import only adds rows to and changes rows of, never removing one: services
/// (which are never removed at all, only marked). An import adds a million of them.
const APPENDED: &[&str] = &["services"];

/// How many times an import is worked out on a copy before it runs on the writer itself.
pub const ATTEMPTS: u32 = 3;

/// What a staged import did, and what it cost the writer.
#[derive(Debug)]
pub struct Staged {
    pub report: Report,
    /// Copies the import was worked out on (0: it ran on the writer).
    pub attempts: u32,
    /// Why earlier copies did not land, or why none could be made.
    pub conflicts: Vec<String>,
    /// Taking the copies and importing into them, all off the writer.
    pub off_writer: Duration,
    /// How long the writer was held by the import.
    pub writer_held: Duration,
    /// What landed from the copy, when it did.
    pub landed: Option<Landed>,
}

/// The export, read again for each attempt: an export read is held only while it is applied,
/// never while it lands, and the reading is done off the writer.
#[derive(Clone)]
pub struct Reading {
    /// The import's today, in its time zone.
    pub today: chrono::NaiveDate,
    read: Arc<dyn Fn() -> Parsed + Send + Sync>,
}

impl Reading {
    /// Reads the export once more.
    pub fn read(&self) -> Parsed {
        (self.read)()
    }
}

/// The export in `files` as a `Reading`; `today` (in the import's time zone) places two-digit
/// years and tells the history no station needs from the services it may change
/// (`store::roster::quiet_history`).
pub fn reading(files: super::Files, today: chrono::NaiveDate) -> Reading {
    Reading { today, read: Arc::new(move || super::read::read(&files, today)) }
}

/// An import worked out on a copy.
pub enum Plan {
    /// Refused on the copy: the report, and nothing to land.
    Refused(Report),
    Ready(Copy, Report),
}

/// Imports the export `read` gives into the database behind `db`, staged on copies beside its
/// file.
pub async fn import(db: &Db, read: Reading, opts: ImportOptions) -> Result<Staged, StoreError> {
    let mut staged = Staged {
        report: Report::default(),
        attempts: 0,
        conflicts: Vec::new(),
        off_writer: Duration::ZERO,
        writer_held: Duration::ZERO,
        landed: None,
    };
    if let Some(path) = db.path().map(ToOwned::to_owned) {
        while staged.attempts < ATTEMPTS {
            staged.attempts += 1;
            let started = Instant::now();
            let (source, r, o) = (path.clone(), read.clone(), opts.clone());
            let plan = match aside(move || plan(&source, &r.read(), &o)).await? {
                Ok(plan) => plan,
                // No room for the copy, say: the import runs on the writer instead.
                Err(e) => {
                    tracing::warn!(error = %e, "the import could not be worked out on a copy");
                    staged.conflicts.push(e.to_string());
                    break;
                }
            };
            staged.off_writer += started.elapsed();
            let (copy, report) = match plan {
                Plan::Refused(report) => {
                    staged.report = report;
                    return Ok(staged);
                }
                Plan::Ready(copy, report) => (copy, report),
            };
            let outcome = land(db, copy, read.today).await?;
            match outcome {
                Ok((landed, held)) => {
                    tracing::info!(
                        writer_ms = held.as_millis() as u64,
                        added = landed.added,
                        changed = landed.changed,
                        removed = landed.removed,
                        "the import landed"
                    );
                    staged.writer_held += held;
                    staged.landed = Some(landed);
                    staged.report = report;
                    return Ok(staged);
                }
                Err(Conflict(why)) => {
                    tracing::info!(attempt = staged.attempts, %why, "the import runs again on a new copy");
                    staged.conflicts.push(why);
                }
            }
        }
    }
    let parsed = aside(move || read.read()).await?;
    let started = Instant::now();
    let outcome = db
        .transact_alone(move |tx| {
            let held = Instant::now();
            apply_to(tx, &parsed, &opts, &mut |_, _, _| {}).map(|r| (r, held.elapsed()))
        })
        .await
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let (report, held) = match outcome {
        Ok((report, held)) => (report, held),
        Err(e) => (super::report_of(Err(e))?, started.elapsed()),
    };
    staged.writer_held += held;
    staged.report = report;
    Ok(staged)
}

/// Runs `f` on a thread of its own that the kernel schedules behind every other thread of the
/// server (nice 10): on a small machine the import's hard work on the copy then takes the time
/// the stations' uploads and the staff's pages leave.
async fn aside<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("hmis-import".into())
        .spawn(move || {
            let me = rustix::thread::gettid();
            if let Err(e) = rustix::process::setpriority_process(Some(me), 10) {
                tracing::warn!(error = %e, "the import runs at the server's own priority");
            }
            let _ = done.send(f());
        })
        .map_err(|e| StoreError::Invalid(format!("the import could not start: {e}")))?;
    result.await.map_err(|_| StoreError::Invalid("the import stopped unexpectedly".into()))
}

/// Lands what the import changed on `copy` in one transaction on the writer: what landed and
/// how long the writer was held, or the conflict that rolled it back. `today` is the import's:
/// the services it lands from before what any station's roster holds are no roster change.
pub async fn land(
    db: &Db,
    mut copy: Copy,
    today: chrono::NaiveDate,
) -> Result<Result<(Landed, Duration), Conflict>, StoreError> {
    copy.close();
    let file = copy.path().to_owned();
    let outcome = db
        .transact_attached(file, staged::ALIAS, move |tx| {
            roster::quiet_history(tx, today)?;
            let landed = staged::apply(tx, &night_recorded_meanwhile)?;
            roster::end_quiet(tx)?;
            landed.map_err(Landing::Conflict)
        })
        .await
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    drop(copy);
    match outcome {
        Ok(done) => Ok(Ok(done)),
        Err(Landing::Conflict(c)) => Ok(Err(c)),
        Err(Landing::Store(e)) => Err(e),
    }
}

/// Takes a copy beside `source` and imports into it, committed on the copy alone.
pub fn plan(
    source: &std::path::Path,
    parsed: &Parsed,
    opts: &ImportOptions,
) -> Result<Plan, StoreError> {
    let started = Instant::now();
    let path = staged::copy_path(source, "import");
    let conn = crate::db::working_copy(source, &path).map_err(|e| {
        staged::remove(&path);
        StoreError::Invalid(format!("the database could not be copied for the import: {e}"))
    })?;
    let copied = started.elapsed();
    let mut copy = Copy::take(conn, &path, SERIALS, APPENDED)?;
    let conn = copy.conn()?;
    let tx = conn.transaction()?;
    match apply_to(&tx, parsed, opts, &mut |_, _, _| {}) {
        Ok(report) => {
            tx.commit()?;
            tracing::info!(
                copy_ms = copied.as_millis() as u64,
                import_ms = started.elapsed().saturating_sub(copied).as_millis() as u64,
                "the import was worked out on a copy"
            );
            Ok(Plan::Ready(copy, report))
        }
        Err(ImportError::Refused(report)) => Ok(Plan::Refused(*report)),
        Err(ImportError::Store(e)) => Err(e),
    }
}

/// Why a landing did not commit.
enum Landing {
    Conflict(Conflict),
    Store(StoreError),
}

impl From<rusqlite::Error> for Landing {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<StoreError> for Landing {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}
