//! The station's SQLite database: the roster cache (`roster`), batches, entries and the outbox
//! (`batches`). Every function is synchronous over `&Connection`; the scan worker and the sync
//! task each own a connection. Only this module contains SQL.

pub mod batches;
pub mod beds;
pub mod roster;

use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_startup::{Embedded, MigrateError};

static MIGRATIONS_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations/station");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("station database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("station database migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("the station database has schema version {found}, newer than this program ({known})")]
    TooNew { found: i64, known: i64 },
    #[error("{0}")]
    Invalid(String),
    #[error("the roster has not been loaded from the server yet")]
    NoRoster,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The station's numbered migrations, from `migrations/station/`.
const MIGRATIONS: Embedded = Embedded { dir: &MIGRATIONS_DIR };

/// Per-connection settings: every acknowledged scan survives a power cut (DESIGN §14).
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_handler(Some(wait_for_lock))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// For the sync task's connection only: its commits are not flushed to disk one by one (WAL
/// with `synchronous=NORMAL`); the next scan's commit or a checkpoint flushes them. A power cut
/// can only undo what the server or the roster already holds (an upload's answers and cursor, a
/// roster delta, an outbox item marked done), and the station then asks or sends again, which
/// the server answers the same way (entries are keyed by UUID, posting twice posts nothing
/// new). Scans keep `synchronous=FULL`: a shown verdict is on disk. The backlog's upload then
/// does not take the disk from the scans (DESIGN §15).
pub fn relax_durability(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "synchronous", "NORMAL")
}

/// For the scan worker's connection only: its commits never checkpoint the write-ahead log.
/// SQLite checkpoints in the commit that takes the log past 1,000 pages, copying those pages
/// into the database and flushing it to disk; in a scan's commit that is milliseconds more
/// before the verdict, and the sync task's writes grow the log quickly while a backlog is
/// sent. The sync task checkpoints instead (`checkpoint`, and its own commits as usual), and
/// the scans' commits only append to the log (DESIGN §15).
pub fn leave_checkpoints(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", 0)
}

/// Copies what the write-ahead log holds into the database as far as readers allow, without
/// waiting for any of them or for the writer; returns the log's frames and those copied.
pub fn checkpoint(conn: &Connection) -> StoreResult<(i64, i64)> {
    Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))?)
}

/// How long a connection waits for another's write to end before it gives up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Waits for the database's write lock in steps of a few microseconds, up to `LOCK_WAIT`.
/// SQLite's own busy timeout sleeps ever longer (up to 100 ms a step), so a scan that met the
/// sync task's short write would wait tens of milliseconds after the lock was free; this one
/// takes it within about 0.1 ms (DESIGN §15).
fn wait_for_lock(retries: i32) -> bool {
    thread_local! {
        static SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let now = Instant::now();
    let since = SINCE.with(|s| {
        if retries == 0 {
            s.set(Some(now));
        }
        s.get().unwrap_or(now)
    });
    if now.duration_since(since) > LOCK_WAIT {
        return false;
    }
    if retries < 16 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(50));
    }
    true
}

fn migrate(conn: &mut Connection, label: &str) -> StoreResult<()> {
    MIGRATIONS.migrate(conn, label).map_err(|e| match e {
        MigrateError::TooNew { found, known, .. } => StoreError::TooNew { found, known },
        MigrateError::Migration(e) => StoreError::Migration(e),
        MigrateError::Sqlite(e) => StoreError::Sqlite(e),
    })
}

/// Opens and migrates the station database, refusing one newer than this program.
pub fn open(path: &Path) -> StoreResult<Connection> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn, &path.display().to_string())?;
    Ok(conn)
}

/// An in-memory database with the real migrations, for tests.
pub fn open_in_memory() -> StoreResult<Connection> {
    let mut conn = Connection::open_in_memory()?;
    configure(&conn)?;
    migrate(&mut conn, ":memory:")?;
    Ok(conn)
}

pub fn get_meta(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = :k")?
        .query_row(named_params! {":k": key}, |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (:k, :v)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(named_params! {":k": key, ":v": value})?;
    Ok(())
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction.
pub fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let v = f(&tx)?;
    tx.commit()?;
    Ok(v)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A batch template of one program and one service type, for tests.
    pub(crate) fn template(
        name: &str,
        program_id: i64,
        service_type: i64,
    ) -> batches::BatchTemplate {
        batches::BatchTemplate {
            name: name.into(),
            program_id,
            service_type_ids: vec![service_type],
            units: None,
            auto_post: false,
        }
    }

    /// Records the `i`th accepted scan of a day batch, of client `i + 1`, as the worker would;
    /// its UUID.
    fn record_accepted(
        conn: &mut Connection,
        batch: &str,
        i: u64,
        day: chrono::NaiveDate,
    ) -> String {
        let uuid = uuid::Uuid::now_v7();
        let code = format!("{:014}", 88_000_000_000_000_u64 + i);
        let entry = batches::NewEntry {
            uuid,
            batch_uuid: batch,
            source: "front",
            code: &code,
            client_id: Some(i as i64 + 1),
            display_name: "Avery B.",
            program_id: 1,
            service_date: day,
            scanned_at: chrono::Utc::now(),
            verdict: scanline_core::Verdict::Accepted,
            warnings: &[],
            detail: "",
            bed_id: None,
        };
        immediate(conn, |tx| batches::record(tx, &entry)).unwrap();
        uuid.to_string()
    }

    #[test]
    fn a_writer_waits_for_another_writer_and_then_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut first = open(&path).unwrap();
        let mut second = open(&path).unwrap();
        let (held, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let holder = std::thread::spawn(move || {
            immediate(&mut first, |tx| {
                tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')", [])?;
                held.0.send(()).unwrap();
                release.1.recv().unwrap();
                Ok(())
            })
            .unwrap();
        });
        held.1.recv().unwrap();
        let waiter = std::thread::spawn(move || {
            immediate(&mut second, |tx| {
                tx.execute("INSERT INTO meta (key, value) VALUES ('b', '2')", [])?;
                Ok(())
            })
            .map(|()| second)
        });
        std::thread::sleep(Duration::from_millis(30));
        release.0.send(()).unwrap();
        holder.join().unwrap();
        let second = waiter.join().unwrap().expect("the second writer waited, then wrote");
        let n: i64 = second
            .query_row("SELECT COUNT(*) FROM meta WHERE key IN ('a', 'b')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn scans_leave_the_checkpoint_to_the_sync_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut scans = open(&path).unwrap();
        leave_checkpoints(&scans).unwrap();
        let sync = open(&path).unwrap();
        let template = tests::template("Lunch line", 1, 1);
        let day = "2026-12-01".parse().unwrap();
        let batch = immediate(&mut scans, |tx| batches::start(tx, &template, day)).unwrap().uuid;
        for i in 0..600 {
            record_accepted(&mut scans, &batch, i, day);
        }
        // Past SQLite's 1,000-page mark no scan's commit checkpointed: the log holds every
        // frame since the start, and the sync connection's checkpoint copies them all.
        let (frames, copied) = checkpoint(&sync).unwrap();
        assert!(frames > 1000, "the log was checkpointed by a scan: {frames} frames");
        assert_eq!(copied, frames);
        assert_eq!(batches::counts(&sync, &batch).unwrap(), vec![("accepted".to_owned(), 600)]);
    }

    #[test]
    fn migrations_are_valid_and_refuse_newer() {
        MIGRATIONS.migrations().validate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let conn = open(&path).unwrap();
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
        assert_eq!(sync, 2);
        conn.pragma_update(None, "user_version", MIGRATIONS.known_version() + 1).unwrap();
        drop(conn);
        assert!(matches!(open(&path), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn a_roster_from_before_the_client_number_is_replaced_by_a_snapshot() {
        use scanline_core::wire::{RosterClient, RosterSnapshot};
        // A station database as version 1 left it: a roster held, with its cursor.
        let mut conn = Connection::open_in_memory().unwrap();
        configure(&conn).unwrap();
        MIGRATIONS.migrations().to_version(&mut conn, 1).unwrap();
        set_meta(&conn, "cursor", "41").unwrap();
        conn.execute("INSERT INTO roster_clients (id, display_name) VALUES (7, 'Ben J.')", [])
            .unwrap();
        migrate(&mut conn, "upgrade").unwrap();
        // The roster held still answers, and the next refresh asks for a whole snapshot.
        assert_eq!(super::roster::display_name(&conn, 7).unwrap(), "Ben J.");
        assert_eq!(super::roster::cursor(&conn).unwrap(), Some(41));
        assert_eq!(super::roster::delta_cursor(&conn).unwrap(), None);
        let mut snapshot: RosterSnapshot = serde_json::from_value(serde_json::json!({
            "cursor": 42, "server_time": "2026-12-01T12:00:00Z",
            "station": {"id": 1, "name": "Meal line"},
            "organization": {"id": 1, "name": "Harbor Light", "time_zone": "America/Los_Angeles"},
            "programs": [], "service_types": [], "clients": [], "cards": [],
            "enrollments": [], "bars": [], "served": []
        }))
        .unwrap_or_else(|e| panic!("a snapshot: {e}"));
        snapshot.clients = vec![RosterClient {
            id: 7,
            display_name: "Ben J.".into(),
            client_number: "9001".into(),
        }];
        snapshot.cards = vec![scanline_core::wire::RosterCard {
            code: "88000000090011".into(),
            client_id: 7,
            replaced: false,
            expires_on: None,
        }];
        immediate(&mut conn, |tx| super::roster::apply_snapshot(tx, &snapshot)).unwrap();
        assert_eq!(super::roster::delta_cursor(&conn).unwrap(), Some(42));
        let found = super::roster::lookup(&conn, "ben j", 5).unwrap();
        assert_eq!(found, vec![(7, "Ben J.".to_owned(), "9001".to_owned())]);
    }

    #[test]
    fn work_queued_before_beds_is_kept_and_the_roster_is_taken_again() {
        use super::batches;
        let mut conn = Connection::open_in_memory().unwrap();
        configure(&conn).unwrap();
        MIGRATIONS.migrations().to_version(&mut conn, 4).unwrap();
        set_meta(&conn, "cursor", "41").unwrap();
        let template = template("Night check-in", 2, 2);
        let day = "2026-12-01".parse().unwrap();
        let batch = immediate(&mut conn, |tx| batches::start(tx, &template, day)).unwrap().uuid;
        let uuid = uuid::Uuid::now_v7();
        conn.execute(
            "INSERT INTO entries (uuid, batch_uuid, source, code, program_id, service_date,
                 scanned_at, verdict)
             VALUES (?1, ?2, 'front', '88000000090011', 2, '2026-12-01',
                 '2026-12-01T20:00:00Z', 'accepted')",
            [uuid.to_string(), batch.clone()],
        )
        .unwrap();
        migrate(&mut conn, "upgrade").unwrap();
        // The batch still waits to be made on the server, the scan is still there to send, and
        // the next refresh takes a whole roster, beds included.
        let op = batches::next_op(&conn).unwrap().unwrap();
        assert_eq!((op.kind.as_str(), op.batch_uuid.as_str()), ("create_batch", batch.as_str()));
        let e = batches::entry(&conn, &uuid.to_string()).unwrap().unwrap();
        assert_eq!((e.bed_id, e.verdict), (None, scanline_core::Verdict::Accepted));
        assert_eq!(super::roster::delta_cursor(&conn).unwrap(), None);
        // A bed staff give it now is queued for the server behind the scan.
        immediate(&mut conn, |tx| batches::set_bed(tx, &uuid.to_string(), 3)).unwrap();
        assert_eq!(batches::bed_of(&conn, &uuid.to_string()).unwrap(), Some(3));
        let kinds: Vec<String> = conn
            .prepare("SELECT kind FROM outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds, ["create_batch", "bed"]);
    }

    #[test]
    fn guests_counted_before_the_outbox_carried_them_are_sent_once() {
        use super::batches;
        let mut conn = Connection::open_in_memory().unwrap();
        configure(&conn).unwrap();
        MIGRATIONS.migrations().to_version(&mut conn, 2).unwrap();
        let template = template("Lunch line", 1, 1);
        let day = "2026-12-01".parse().unwrap();
        let uuid = immediate(&mut conn, |tx| batches::start(tx, &template, day)).unwrap().uuid;
        // A version-2 station counted two guests, which only it knew of.
        conn.execute("UPDATE batches SET anonymous = 2 WHERE uuid = ?1", [&uuid]).unwrap();
        migrate(&mut conn, "upgrade").unwrap();
        let kinds: Vec<(i64, String)> = conn
            .prepare("SELECT seq, kind FROM outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds, vec![(1, "create_batch".to_owned()), (2, "anonymous".to_owned())]);
        // Each guest from now on queues the count again.
        assert_eq!(immediate(&mut conn, |tx| batches::add_anonymous(tx, &uuid)).unwrap(), 3);
        let op = batches::next_op(&conn).unwrap().unwrap();
        assert_eq!((op.seq, op.kind.as_str()), (1, "create_batch"));
        let queued: i64 = conn
            .query_row("SELECT COUNT(*) FROM outbox WHERE kind = 'anonymous'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(queued, 2);
    }

    #[test]
    fn the_review_list_is_the_batch_s_newest_entries_first() {
        let mut conn = open_in_memory().unwrap();
        let template = template("Lunch line", 1, 1);
        let day = "2026-12-01".parse().unwrap();
        let batch = immediate(&mut conn, |tx| batches::start(tx, &template, day)).unwrap().uuid;
        let mut uuids = Vec::new();
        for i in 0..250 {
            uuids.push(record_accepted(&mut conn, &batch, i, day));
        }
        let list = batches::recent_entries(&conn, &batch, 200).unwrap();
        let shown: Vec<&str> = list.iter().map(|e| e.uuid.as_str()).collect();
        let newest: Vec<&str> = uuids.iter().rev().take(200).map(String::as_str).collect();
        assert_eq!(shown, newest);
        // The counts still cover the whole batch.
        assert_eq!(batches::counts(&conn, &batch).unwrap(), vec![("accepted".to_owned(), 250)]);
    }
}
