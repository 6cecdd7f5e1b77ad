//! The one async seam to SQLite: `Db::transact` runs a closure in a `BEGIN IMMEDIATE`
//! transaction on the single writer connection (shared, each closure in its own savepoint, with
//! those queued beside it: `writer`), `Db::read` on one of a few read-only reader
//! connections, each on its own OS thread, so handlers never hold a connection, never open a
//! transaction of their own, and the async threads never block on disk. The command line,
//! which owns its database for one command, uses `Local` with the same two calls.
//!
//! Every connection gets the same PRAGMAs (WAL, synchronous=FULL, foreign keys, a busy timeout);
//! migrations run once, on the writer, before anything else. This module knows nothing of the
//! tables: SQL lives in `store`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OpenFlags};
use scanline_startup::{Embedded, MigrateError};
use tokio::sync::oneshot;

use writer::Write;

mod writer;

static MIGRATIONS_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations/server");

/// Reader connections for a file database. Two cover a 2-core machine: a roster snapshot on one
/// does not hold up a health check on the other.
const READERS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error(
        "the database at {path} has schema version {found}, newer than this program knows \
         ({known}); run a newer scanline-server"
    )]
    TooNew { path: String, found: i64, known: i64 },
    #[error("the database worker has stopped")]
    WorkerGone,
    /// The job panicked; its transaction was rolled back and the worker kept running.
    #[error("a database job failed unexpectedly: {0}")]
    Panicked(String),
    /// A database file failed SQLite's integrity check.
    #[error("{path} failed its integrity check: {found}")]
    Damaged { path: String, found: String },
    /// A health round trip did not come back in time.
    #[error("the database {0} did not answer within {1} seconds")]
    Unresponsive(&'static str, u64),
}

/// Whether SQLite failed because the disk is full. Nothing of the failed transaction was kept,
/// and the same request succeeds once there is room again.
pub fn disk_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

impl DbError {
    /// Whether the job failed because the disk is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, DbError::Sqlite(e) if disk_full(e))
    }
}

/// The server's numbered migrations, from `migrations/server/`.
pub const MIGRATIONS: Embedded = Embedded { dir: &MIGRATIONS_DIR };

/// The numbered migrations from `migrations/server/`, in order.
pub fn migrations() -> rusqlite_migration::Migrations<'static> {
    MIGRATIONS.migrations()
}

/// How many migrations this binary knows: the schema version it writes.
pub fn schema_version_known() -> i64 {
    MIGRATIONS.known_version()
}

/// The schema version stored in a database.
pub fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Per-connection settings: durability first (DESIGN §14).
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "busy_timeout", 10_000)?;
    // 64 MiB of page cache: a group commit of many uploads, or a roster snapshot, stays in
    // memory instead of spilling pages mid-transaction.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Statement and savepoint journals in memory: an entry's insert fires a trigger, so each
    // one opens a statement journal of the pages it changes, and each upload in a group commit
    // has its own savepoint. On disk those journals were many times the bytes of the WAL.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Opens (creating if needed) and migrates a database file, refusing one newer than this binary.
pub fn open_and_migrate(path: &Path) -> Result<Connection, DbError> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn, &path.display().to_string())?;
    Ok(conn)
}

/// Applies pending migrations atomically, refusing a database newer than this binary.
pub fn migrate(conn: &mut Connection, label: &str) -> Result<(), DbError> {
    MIGRATIONS.migrate(conn, label).map_err(|e| match e {
        MigrateError::TooNew { label, found, known } => {
            DbError::TooNew { path: label, found, known }
        }
        MigrateError::Migration(e) => DbError::Migration(e),
        MigrateError::Sqlite(e) => DbError::Sqlite(e),
    })
}

/// An in-memory database with the real migrations, for tests.
pub fn open_in_memory() -> Result<Connection, DbError> {
    let mut conn = Connection::open_in_memory()?;
    configure(&conn)?;
    migrate(&mut conn, ":memory:")?;
    Ok(conn)
}

/// Opens a database read-write with an IMMEDIATE transaction helper in mind.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The threads a job can be sent to.
#[derive(Clone, Copy)]
enum Queue<'a> {
    Writer(&'a mpsc::Sender<Write>),
    Readers(&'a mpsc::Sender<Job>),
}

/// Handle to the database threads. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    writer: mpsc::Sender<Write>,
    readers: Option<mpsc::Sender<Job>>,
    path: Option<PathBuf>,
    /// Worker threads running now, and how many were started.
    alive: Arc<AtomicUsize>,
    started: usize,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Counts a database thread in while it runs and out however it ends, so `/healthz` sees a
/// lost one.
struct Alive(Arc<AtomicUsize>);

impl Alive {
    fn count_in(alive: Arc<AtomicUsize>) -> Self {
        alive.fetch_add(1, Ordering::SeqCst);
        Self(alive)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Starts a reader thread running `rx`'s jobs on `conn`.
fn spawn_worker(
    name: &str,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    mut conn: Connection,
    alive: Arc<AtomicUsize>,
) {
    let alive = Alive::count_in(alive);
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _alive = alive;
            loop {
                // The lock is held only while waiting for the next job, never while running one.
                let job = {
                    let Ok(guard) = rx.lock() else { return };
                    guard.recv()
                };
                match job {
                    Ok(job) => job(&mut conn),
                    Err(_) => return,
                }
            }
        })
        .expect("spawning a database thread");
}

/// Runs one job, turning a panic into an error: whatever transaction the job left open is
/// rolled back, so one bad request never stops the worker or leaves the write lock held
/// (DESIGN §13).
fn run_guarded<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> T,
) -> Result<T, DbError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn))) {
        Ok(value) => Ok(value),
        Err(payload) => {
            let what = panic_message(payload.as_ref());
            if !conn.is_autocommit() {
                // A `Transaction` dropped while unwinding has already rolled back; this covers
                // a job that began one by hand.
                let _ = conn.execute_batch("ROLLBACK");
            }
            tracing::error!(error = %what, "a database job panicked; it was rolled back");
            Err(DbError::Panicked(what))
        }
    }
}

/// What a panic said.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

impl Db {
    /// Opens a database file, migrates it, and starts the writer and reader threads.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let writer_conn = open_and_migrate(path)?;
        writer_conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoint_conn = Connection::open(path)?;
        configure(&checkpoint_conn)?;
        let alive = Arc::new(AtomicUsize::new(0));
        let (commits_tx, commits) = mpsc::sync_channel::<()>(1);
        writer::spawn_checkpointer(checkpoint_conn, commits, Arc::clone(&alive));
        let (wtx, wrx) = mpsc::channel::<Write>();
        writer::spawn(wrx, writer_conn, Arc::clone(&alive), Some(commits_tx));
        let (rtx, rrx) = mpsc::channel::<Job>();
        let rrx = Arc::new(Mutex::new(rrx));
        for i in 0..READERS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.pragma_update(None, "busy_timeout", 10_000)?;
            conn.set_prepared_statement_cache_capacity(64);
            spawn_worker(&format!("db-reader-{i}"), Arc::clone(&rrx), conn, Arc::clone(&alive));
        }
        Ok(Self {
            writer: wtx,
            readers: Some(rtx),
            path: Some(path.to_owned()),
            alive,
            started: 2 + READERS,
        })
    }

    /// Wraps one connection (tests: an in-memory database); reads share the writer.
    pub fn from_connection(conn: Connection) -> Self {
        let alive = Arc::new(AtomicUsize::new(0));
        let (wtx, wrx) = mpsc::channel::<Write>();
        writer::spawn(wrx, conn, Arc::clone(&alive), None);
        Self { writer: wtx, readers: None, path: None, alive, started: 1 }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    async fn run<T, F>(queue: Queue<'_>, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The receiver may have gone (request cancelled); the work is done either way.
            let _ = done.send(run_guarded(conn, f));
        });
        let sent = match queue {
            Queue::Writer(writer) => writer.send(Write::Alone(job)).is_ok(),
            Queue::Readers(readers) => readers.send(job).is_ok(),
        };
        if !sent {
            return Err(DbError::WorkerGone);
        }
        result.await.map_err(|_| DbError::WorkerGone)?
    }

    /// Where reads run: the readers, or the writer of an in-memory database.
    fn readers(&self) -> Queue<'_> {
        self.readers.as_ref().map_or(Queue::Writer(&self.writer), Queue::Readers)
    }

    /// The one way to write: runs `f` on the writer connection inside a `BEGIN IMMEDIATE`
    /// transaction, committed when `f` returns `Ok` and rolled back when it returns `Err` or
    /// panics. Nothing `f` wrote is acknowledged before the commit is durable. `f` runs in a
    /// savepoint of that transaction, which it may share with other `transact` calls queued at
    /// the same moment, each in a savepoint of its own (group commit): what it changes stands
    /// or falls alone, and it is answered when their one commit is durable.
    pub async fn transact<T, E, F>(&self, f: F) -> Result<Result<T, E>, DbError>
    where
        T: Send + 'static,
        E: From<rusqlite::Error> + Send + 'static,
        F: FnOnce(&mut rusqlite::Savepoint<'_>) -> Result<T, E> + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        self.writer
            .send(Write::Shared(writer::shared(f, done)))
            .map_err(|_| DbError::WorkerGone)?;
        result.await.map_err(|_| DbError::WorkerGone)?
    }

    /// `transact` in a transaction of its own, for a write too large to share one: a savepoint
    /// keeps a copy of every page changed under it in memory (an import run on the writer).
    pub async fn transact_alone<T, E, F>(&self, f: F) -> Result<Result<T, E>, DbError>
    where
        T: Send + 'static,
        E: From<rusqlite::Error> + Send + 'static,
        F: FnOnce(&mut rusqlite::Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        Self::run(Queue::Writer(&self.writer), move |conn| {
            let mut tx =
                conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// `transact` with the database file `other` attached to the writer as `alias` for the
    /// transaction's length: a job's work done on a copy lands in one short write
    /// (`store::staged`). The file is detached again however `f` ends. With `f`'s value comes
    /// how long the writer was held for it, its commit included.
    pub async fn transact_attached<T, E, F>(
        &self,
        other: PathBuf,
        alias: &'static str,
        f: F,
    ) -> Result<Result<(T, std::time::Duration), E>, DbError>
    where
        T: Send + 'static,
        E: From<rusqlite::Error> + Send + 'static,
        F: FnOnce(&mut rusqlite::Transaction<'_>) -> Result<T, E> + Send + 'static,
    {
        Self::run(Queue::Writer(&self.writer), move |conn| {
            let held = std::time::Instant::now();
            let attached: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM pragma_database_list WHERE name = ?1)",
                [alias],
                |r| r.get(0),
            )?;
            // Left attached by a job that panicked: its file is gone.
            if attached {
                conn.execute("DETACH DATABASE ?1", [alias])?;
            }
            conn.execute(
                "ATTACH DATABASE ?1 AS ?2",
                rusqlite::params![other.to_string_lossy(), alias],
            )?;
            let outcome = (|| {
                let mut tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let value = f(&mut tx)?;
                tx.commit()?;
                Ok((value, held.elapsed()))
            })();
            // Statements kept for reuse may name the attached file; it cannot go while they do.
            conn.flush_prepared_statement_cache();
            // What `f` did stands either way; a file left attached is detached by the next call.
            if let Err(e) = conn.execute("DETACH DATABASE ?1", [alias]) {
                tracing::warn!(error = %e, "an attached file could not be detached");
            }
            outcome
        })
        .await
    }

    /// Runs `f` on a reader inside one read transaction, so every statement sees the same
    /// moment of the database (an export that reads many tables).
    pub async fn snapshot<T, E, F>(&self, f: F) -> Result<Result<T, E>, DbError>
    where
        T: Send + 'static,
        E: From<rusqlite::Error> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        Self::run(self.readers(), move |conn| {
            let tx = conn.transaction()?;
            let value = f(&tx)?;
            tx.finish()?;
            Ok(value)
        })
        .await
    }

    /// Runs `f` on a reader connection (the writer for an in-memory database). Readers are
    /// opened read-only: a write there fails.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> T + Send + 'static,
    {
        Self::run(self.readers(), move |conn| f(conn)).await
    }
}

impl Db {
    /// Proves the database answers: a trivial round trip through the writer and through the
    /// readers, each within `timeout`, and every worker thread still running. Returns the
    /// schema version.
    pub async fn check(&self, timeout: std::time::Duration) -> Result<i64, DbError> {
        let secs = timeout.as_secs();
        let round_trip = async |kind: &'static str, queue: Queue<'_>| {
            let probe = Self::run(queue, |conn| {
                conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
                schema_version(conn)
            });
            match tokio::time::timeout(timeout, probe).await {
                Ok(Ok(Ok(version))) => Ok(version),
                Ok(Ok(Err(e))) => Err(DbError::Sqlite(e)),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(DbError::Unresponsive(kind, secs)),
            }
        };
        let version = round_trip("writer", Queue::Writer(&self.writer)).await?;
        if let Some(readers) = &self.readers {
            round_trip("readers", Queue::Readers(readers)).await?;
        }
        if self.alive.load(Ordering::SeqCst) < self.started {
            return Err(DbError::WorkerGone);
        }
        Ok(version)
    }
}

/// Copies the database file `source` (opened read-only, so a live server may keep writing)
/// into `dest` with SQLite's online backup, then runs the integrity check on the copy.
pub fn copy_database(source: &Path, dest: &Path) -> Result<(), DbError> {
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    copy_into(&src, dest)
}

/// A copy of the database `source` at `dest` for a job that works on it and throws it away
/// (`store::staged`): copied in one backup step, so it is one moment of the database even while
/// the server writes (the step holds a read transaction, never the write lock); written fast,
/// with no durability, since a failure anywhere discards it; foreign keys on.
pub fn working_copy(source: &Path, dest: &Path) -> Result<Connection, DbError> {
    let src = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut conn = Connection::open(dest)?;
    {
        let step = rusqlite::backup::Backup::new(&src, &mut conn)?;
        while step.step(-1)? != rusqlite::backup::StepResult::Done {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    conn.pragma_update(None, "journal_mode", "MEMORY")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn copy_into(src: &Connection, dest: &Path) -> Result<(), DbError> {
    let mut out = Connection::open(dest)?;
    {
        let backup = rusqlite::backup::Backup::new(src, &mut out)?;
        backup.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
    }
    integrity(&out, dest)
}

fn integrity(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let found: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if found == "ok" {
        Ok(())
    } else {
        Err(DbError::Damaged { path: path.display().to_string(), found })
    }
}

/// A running server's hold on its database: an exclusive lock on `<database>.lock`, taken
/// before it serves and kept until it exits (the kernel lets go when the process dies, however
/// it dies). A restore takes the same lock, so it refuses while a server holds the database.
#[derive(Debug)]
pub struct Hold {
    _file: std::fs::File,
}

impl Hold {
    /// Takes the hold on the database at `db`, or says that someone else has it.
    pub fn take(db: &Path, doing: &str) -> anyhow::Result<Self> {
        let path = PathBuf::from(format!("{}.lock", db.display()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "a Scanline server is running on {}: stop it before {doing}",
                db.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                anyhow::bail!("cannot lock {}: {e}", path.display())
            }
        }
    }
}

/// Checks a database file without changing it: its integrity, and the schema version it has.
pub fn check_file(path: &Path) -> Result<i64, DbError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    integrity(&conn, path)?;
    Ok(schema_version(&conn)?)
}

/// Copies the database file `from` over the database at `to` (stopped), then checks it.
pub fn copy_over(from: &Path, to: &Path) -> Result<(), DbError> {
    let src = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    copy_into(&src, to)
}

/// Folds the write-ahead log back into the database file, so the file alone holds everything.
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
}

/// A database opened by one command of the command line: the same `transact` and `read` as
/// `Db`, run on the calling thread.
#[derive(Debug)]
pub struct Local {
    conn: Connection,
}

impl Local {
    /// Opens (creating if needed) and migrates a database file.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        Ok(Self { conn: open_and_migrate(path)? })
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed when it returns `Ok`.
    pub fn transact<T, E: From<rusqlite::Error>>(
        &mut self,
        f: impl FnOnce(&mut rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut tx =
            self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&mut tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.conn)
    }

    /// Runs `f` inside one read transaction, so every statement sees the same moment.
    pub fn snapshot<T, E: From<rusqlite::Error>>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.conn.transaction()?;
        let value = f(&tx)?;
        tx.finish()?;
        Ok(value)
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> rusqlite::Result<i64> {
        schema_version(&self.conn)
    }
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
/// writers never deadlock on an upgrade, and `f`'s error rolls everything back.
pub fn immediate<T, E>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<rusqlite::Error>,
{
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_numbered() {
        migrations().validate().unwrap();
        let names = MIGRATIONS.names();
        for (i, name) in names.iter().enumerate() {
            assert!(name.starts_with(&format!("{:04}_", i + 1)), "{name} is out of sequence");
        }
    }

    #[test]
    fn refuses_a_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let conn = open_and_migrate(&path).unwrap();
        conn.pragma_update(None, "user_version", schema_version_known() + 1).unwrap();
        drop(conn);
        let err = open_and_migrate(&path).unwrap_err();
        assert!(matches!(err, DbError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("newer"));
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("x.db")).unwrap();
        db.transact(|tx| tx.execute_batch("CREATE TABLE t (v INTEGER)")).await.unwrap().unwrap();
        // A job that panics half-way through its transaction.
        let failed = db
            .transact(|tx| {
                tx.execute("INSERT INTO t VALUES (1)", [])?;
                // What a night computation did on a time chrono could not place.
                let year = std::hint::black_box(i32::MAX);
                Ok::<_, rusqlite::Error>(
                    year.checked_add(1).expect("a job that breaks an invariant"),
                )
            })
            .await;
        assert!(matches!(failed, Err(DbError::Panicked(ref m)) if m.contains("invariant")));
        // One that began a transaction by hand and panicked with it open.
        let failed = Db::run(Queue::Writer(&db.writer), |conn| {
            conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2);").unwrap();
            panic!("by hand");
        })
        .await;
        assert!(matches!(failed, Err(DbError::Panicked(_))));
        // The writer still writes, nothing of the failed jobs stayed, and health is good.
        db.transact(|tx| tx.execute("INSERT INTO t VALUES (3)", [])).await.unwrap().unwrap();
        let rows: Vec<i64> = db
            .read(|conn| {
                conn.prepare("SELECT v FROM t")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows, vec![3]);
        db.check(std::time::Duration::from_secs(5)).await.unwrap();
    }

    #[tokio::test]
    async fn the_health_check_notices_a_writer_that_does_not_answer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("x.db")).unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel::<()>();
        let stuck = db.clone();
        let busy = tokio::spawn(async move {
            stuck
                .transact(move |_| {
                    let _ = started.send(());
                    Ok::<_, rusqlite::Error>(wait.recv().ok())
                })
                .await
                .unwrap()
                .unwrap();
        });
        running.await.unwrap();
        let err = db.check(std::time::Duration::from_millis(200)).await.unwrap_err();
        assert!(matches!(err, DbError::Unresponsive("writer", _)), "{err}");
        release.send(()).unwrap();
        busy.await.unwrap();
        db.check(std::time::Duration::from_secs(5)).await.unwrap();
    }

    #[tokio::test]
    async fn commits_leave_the_checkpoint_to_the_checkpointer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let db = Db::open(&path).unwrap();
        db.transact(|tx| tx.execute_batch("CREATE TABLE t (v BLOB)")).await.unwrap().unwrap();
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let wal = dir.path().join("x.db-wal");
        // 8 MiB in one commit, past the 1,000 pages at which SQLite checkpoints by itself; the
        // database file's size is read on the writer's thread straight after that commit.
        let (before, after) = Db::run(Queue::Writer(&db.writer), move |conn| {
            let before = size(&path);
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for _ in 0..512 {
                tx.execute("INSERT INTO t VALUES (zeroblob(16384))", [])?;
            }
            tx.commit()?;
            Ok::<_, rusqlite::Error>((before, size(&path)))
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(before, after, "the commit copied its pages into the database file");
        assert!(size(&wal) > 8 << 20, "the commit is in the log");
        // The checkpointer copies them in soon after; the next commits reuse the log from its
        // start instead of growing it.
        let file = dir.path().join("x.db");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while size(&file) < 8 << 20 {
            assert!(std::time::Instant::now() < deadline, "the log was never checkpointed");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The file reaches its size before the checkpoint has finished: writes made meanwhile
        // still go on the end of the log, and the first one after it starts the log over.
        loop {
            let logged = size(&wal);
            for _ in 0..4 {
                db.transact(|tx| tx.execute("INSERT INTO t VALUES (zeroblob(16384))", []))
                    .await
                    .unwrap()
                    .unwrap();
            }
            if size(&wal) == logged {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the log kept growing");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        db.check(std::time::Duration::from_secs(5)).await.unwrap();
    }

    #[test]
    fn pragmas_are_durable() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_and_migrate(&dir.path().join("x.db")).unwrap();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
    }
}
