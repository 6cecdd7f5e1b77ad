//! The floor benchmarks measure against: a bare durable insert-and-commit into a SQLite file
//! with the settings Scanline's databases use (WAL, `synchronous=FULL`), one small row per
//! `BEGIN IMMEDIATE` ... `COMMIT`. Nothing can record a scan durably in less time than this on
//! the same disk, so a latency is reported as this floor plus what Scanline adds.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior, params};

pub struct DurableFloor {
    conn: Connection,
    n: i64,
}

impl DurableFloor {
    /// A fresh database `floor.db` in `dir`, on the disk being measured.
    pub fn open(dir: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(dir.join("floor.db"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS rows (
                 id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, code TEXT NOT NULL,
                 at TEXT NOT NULL)",
        )?;
        Ok(Self { conn, n: 0 })
    }

    /// One row inserted and committed durably; its time.
    pub fn commit_one(&mut self) -> rusqlite::Result<Duration> {
        self.n += 1;
        let uuid = uuid::Uuid::now_v7().to_string();
        let code = format!("{:014}", self.n);
        let at = chrono::Utc::now().to_rfc3339();
        let start = Instant::now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("INSERT INTO rows (uuid, code, at) VALUES (?1, ?2, ?3)")?
            .execute(params![uuid, code, at])?;
        tx.commit()?;
        Ok(start.elapsed())
    }
}

/// The `p`th quantile (0..=1) of sorted durations, nearest rank.
pub fn quantile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
