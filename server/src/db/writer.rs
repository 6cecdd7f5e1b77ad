//! The writer thread and its group commit. Every `Db::transact` queued while the writer is busy
//! runs with the others queued beside it in one `BEGIN IMMEDIATE` transaction, each in a
//! savepoint of its own, and one durable commit answers them all: a job that fails is rolled
//! back to its savepoint alone, and none is answered before the commit. Thirty staff pages and
//! an upload that reach the writer together then wait for one flush of the disk, not thirty-one.
//! A job that must run by itself (a health probe, a landing with a file attached, an import on
//! the writer) is `Write::Alone`. The checkpoint thread copies the writer's commits into the
//! database file beside it.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, mpsc};
use std::thread;

use rusqlite::{Connection, Savepoint, TransactionBehavior};

use super::{Alive, DbError, Job};

/// Most `transact` jobs that share one commit; bounds how long the first waits for the last.
const MAX_GROUP: usize = 64;

/// A job for the writer thread.
pub(super) enum Write {
    /// Runs by itself on the connection.
    Alone(Job),
    /// One `transact`, which may share its transaction and commit with those queued with it.
    Shared(Shared),
}

/// Runs one `transact` closure in the group's transaction, or tells it the transaction could
/// not begin.
pub(super) type Shared = Box<dyn FnOnce(Start<'_, '_>) -> Ran + Send>;

pub(super) enum Start<'a, 'c> {
    Run(&'a mut Savepoint<'c>),
    Failed(rusqlite::Error),
}

/// A shared job after it ran: whether its work stays, and its answer, sent once the group's
/// transaction has ended with the commit's error, if it failed.
pub(super) struct Ran {
    pub(super) keep: bool,
    pub(super) answer: Box<dyn FnOnce(Option<rusqlite::Error>) + Send>,
}

impl Ran {
    /// A job whose answer is already sent, or that has nothing to keep.
    pub(super) fn settled() -> Self {
        Self { keep: false, answer: Box::new(|_| {}) }
    }
}

/// Starts the writer thread on `conn`; after each job or group it tells `wrote`, if any.
pub(super) fn spawn(
    rx: mpsc::Receiver<Write>,
    mut conn: Connection,
    alive: Arc<AtomicUsize>,
    wrote: Option<mpsc::SyncSender<()>>,
) {
    let alive = Alive::count_in(alive);
    thread::Builder::new()
        .name("db-writer".to_owned())
        .spawn(move || {
            let _alive = alive;
            let mut next = None;
            loop {
                let write = match next.take() {
                    Some(write) => write,
                    None => match rx.recv() {
                        Ok(write) => write,
                        Err(_) => return,
                    },
                };
                match write {
                    Write::Alone(job) => job(&mut conn),
                    Write::Shared(first) => {
                        let mut group = vec![first];
                        while group.len() < MAX_GROUP {
                            match rx.try_recv() {
                                Ok(Write::Shared(job)) => group.push(job),
                                // Runs after the group, in the order it came.
                                Ok(alone) => {
                                    next = Some(alone);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        while !group.is_empty() {
                            group = commit(&mut conn, group);
                        }
                    }
                }
                if let Some(wrote) = &wrote {
                    // Full means a checkpoint is already due: this commit joins it.
                    let _ = wrote.try_send(());
                }
            }
        })
        .expect("spawning a database thread");
}

/// Runs `group` in one transaction, each job in a savepoint of its own, commits and answers
/// them. Returns the jobs it did not run: those after one whose error ended the whole
/// transaction (SQLite does that on a full disk or an I/O error), whose work was lost with it
/// and who are told so.
fn commit(conn: &mut Connection, group: Vec<Shared>) -> Vec<Shared> {
    let mut jobs = group.into_iter();
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            for job in jobs {
                job(Start::Failed(again(&e)));
            }
            return Vec::new();
        }
    };
    let mut ran: Vec<Ran> = Vec::new();
    let mut lost = false;
    for job in jobs.by_ref() {
        let mut sp = match tx.savepoint() {
            Ok(sp) => sp,
            Err(e) => {
                job(Start::Failed(e));
                continue;
            }
        };
        let done = job(Start::Run(&mut sp));
        let keep = done.keep;
        ran.push(done);
        if sp.is_autocommit() {
            lost = true;
            break;
        }
        let ended = if keep { sp.commit() } else { sp.rollback().and_then(|()| sp.commit()) };
        if ended.is_err() {
            // The savepoint could not end as it should: nothing of the group is kept.
            lost = true;
            break;
        }
    }
    let failed = if lost {
        drop(tx);
        Some(lost_error())
    } else if ran.iter().any(|r| r.keep) {
        tx.commit().err()
    } else {
        // Nothing to keep; whatever a rollback says changes no answer.
        let _ = tx.rollback();
        None
    };
    for done in ran {
        let end = if done.keep { failed.as_ref().map(again) } else { None };
        (done.answer)(end);
    }
    if lost { jobs.collect() } else { Vec::new() }
}

/// What a job is told when another job's error ended the transaction it shared.
fn lost_error() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some(
            "the commit this write shared was rolled back by another's error; nothing of it \
             was stored, and it may be sent again"
                .into(),
        ),
    )
}

/// The same error again, for each job it answers.
fn again(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// How long the checkpointer lets the writer's commits gather before it copies them into the
/// database file in one checkpoint.
const CHECKPOINT_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Copies the writer's commits from the write-ahead log into the database file, on a connection
/// of its own, a quarter second after a write and once more when the writer stops. The writer's
/// own automatic checkpoint is off (`wal_autocheckpoint` 0): with it, the commit that crossed
/// the log's threshold (after a large HMIS import, every page the import wrote) copied and
/// flushed the log before its transaction was answered, and every upload queued behind it. A
/// passive checkpoint takes no lock a writer or reader waits for.
pub(super) fn spawn_checkpointer(
    conn: Connection,
    commits: mpsc::Receiver<()>,
    alive: Arc<AtomicUsize>,
) {
    let alive = Alive::count_in(alive);
    thread::Builder::new()
        .name("db-checkpoint".to_owned())
        .spawn(move || {
            let _alive = alive;
            loop {
                let stopped = commits.recv().is_err();
                if !stopped {
                    thread::sleep(CHECKPOINT_AFTER);
                    while commits.try_recv().is_ok() {}
                }
                let passive =
                    conn.pragma_update_and_check(None, "wal_checkpoint", "PASSIVE", |_| Ok(()));
                if let Err(e) = passive {
                    tracing::warn!(error = %e, "the write-ahead log could not be checkpointed");
                }
                if stopped {
                    return;
                }
            }
        })
        .expect("spawning a database thread");
}

/// A `transact` job: `f` in the group's transaction, its panic turned into an error.
pub(super) fn shared<T, E, F>(
    f: F,
    done: tokio::sync::oneshot::Sender<Result<Result<T, E>, DbError>>,
) -> Shared
where
    T: Send + 'static,
    E: From<rusqlite::Error> + Send + 'static,
    F: FnOnce(&mut Savepoint<'_>) -> Result<T, E> + Send + 'static,
{
    Box::new(move |start| {
        let tx = match start {
            Start::Run(tx) => tx,
            Start::Failed(e) => {
                let _ = done.send(Ok(Err(E::from(e))));
                return Ran::settled();
            }
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(tx))) {
            Ok(Ok(value)) => Ran {
                keep: true,
                answer: Box::new(move |failed| {
                    let _ = done.send(Ok(match failed {
                        None => Ok(value),
                        Some(e) => Err(E::from(e)),
                    }));
                }),
            },
            Ok(Err(e)) => {
                let _ = done.send(Ok(Err(e)));
                Ran::settled()
            }
            Err(payload) => {
                let what = super::panic_message(payload.as_ref());
                tracing::error!(error = %what, "a database job panicked; it was rolled back");
                let _ = done.send(Err(DbError::Panicked(what)));
                Ran::settled()
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::super::{Db, Queue, configure};

    /// A database file whose log is never checkpointed, so its frames count what was committed,
    /// behind a writer that is held until `release` is sent.
    async fn held_writer(path: &Path) -> (Db, std::sync::mpsc::Sender<()>) {
        let conn = rusqlite::Connection::open(path).unwrap();
        configure(&conn).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER UNIQUE)").unwrap();
        let db = Db::from_connection(conn);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let held = db.clone();
        tokio::spawn(async move {
            Db::run(Queue::Writer(&held.writer), move |_| {
                let _ = started.send(());
                wait.recv().ok()
            })
            .await
        });
        running.await.unwrap();
        (db, release)
    }

    fn frames(path: &Path) -> u64 {
        let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
        wal.saturating_sub(32) / (4096 + 24)
    }

    fn insert(db: &Db, v: i64) -> tokio::task::JoinHandle<Result<(), String>> {
        let db = db.clone();
        tokio::spawn(async move {
            db.transact(move |tx| tx.execute("INSERT INTO t VALUES (?1)", [v]).map(|_| ()))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
        })
    }

    async fn values(db: &Db) -> Vec<i64> {
        db.transact(|tx| {
            tx.prepare("SELECT v FROM t ORDER BY v")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .await
        .unwrap()
        .unwrap()
    }

    #[tokio::test]
    async fn writes_queued_together_share_one_commit_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let (db, release) = held_writer(&path).await;
        let before = frames(&path);
        let mut good = Vec::new();
        for v in 1..=18 {
            good.push(insert(&db, v));
        }
        // One that breaks a constraint, one that fails after writing, one that panics.
        let twice = insert(&db, 5);
        let failing = db.clone();
        let failed = tokio::spawn(async move {
            failing
                .transact(|tx| {
                    tx.execute("INSERT INTO t VALUES (100)", [])?;
                    Err::<(), _>(rusqlite::Error::InvalidQuery)
                })
                .await
        });
        let panicking = db.clone();
        let panicked = tokio::spawn(async move {
            panicking
                .transact(|tx| {
                    tx.execute("INSERT INTO t VALUES (200)", [])?;
                    let broken = std::hint::black_box(None::<i64>);
                    Ok::<_, rusqlite::Error>(broken.expect("a job that breaks an invariant"))
                })
                .await
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        release.send(()).unwrap();
        for job in good {
            job.await.unwrap().unwrap();
        }
        assert!(twice.await.unwrap().unwrap_err().contains("UNIQUE"));
        assert!(matches!(failed.await.unwrap(), Ok(Err(rusqlite::Error::InvalidQuery))));
        assert!(matches!(panicked.await.unwrap(), Err(super::DbError::Panicked(_))));
        assert_eq!(values(&db).await, (1..=18).collect::<Vec<_>>());
        // Twenty-one transactions, one each, wrote at least a frame each; together, one page.
        let written = frames(&path) - before;
        assert!(written <= 2, "{written} frames written for one table page");
    }

    #[tokio::test]
    async fn a_write_that_ends_the_shared_transaction_fails_those_before_it_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let (db, release) = held_writer(&path).await;
        let first = insert(&db, 1);
        // What SQLite does by itself on some full-disk and I/O errors: the whole transaction
        // is rolled back under the group.
        let ending = db.clone();
        let ended = tokio::spawn(async move {
            ending
                .transact(|tx| {
                    tx.execute_batch("ROLLBACK")?;
                    Err::<(), _>(rusqlite::Error::InvalidQuery)
                })
                .await
        });
        let after = insert(&db, 2);
        tokio::time::sleep(Duration::from_millis(300)).await;
        release.send(()).unwrap();
        let lost = first.await.unwrap().unwrap_err();
        assert!(lost.contains("nothing of it was stored"), "{lost}");
        assert!(matches!(ended.await.unwrap(), Ok(Err(rusqlite::Error::InvalidQuery))));
        after.await.unwrap().unwrap();
        assert_eq!(values(&db).await, vec![2]);
        db.transact(|tx| tx.execute("INSERT INTO t VALUES (3)", [])).await.unwrap().unwrap();
        assert_eq!(values(&db).await, vec![2, 3]);
    }
}
