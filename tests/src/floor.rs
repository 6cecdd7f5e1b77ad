//! The floor benchmarks measure against: a bare durable insert-and-commit, one entry row into a
//! fresh station database (the real migrations and settings: WAL, `synchronous=FULL`) in one
//! `BEGIN IMMEDIATE` ... `COMMIT`, through the station's own store, with no roster read. Nothing
//! can record a scan durably in less time than this on the same disk, so a latency is reported
//! as this floor plus what Scanline adds.

use std::path::Path;
use std::time::{Duration, Instant};

use scanline_core::verdict::Verdict;
use scanline_station::config::BatchTemplate;
use scanline_station::store::{self, batches};

pub struct DurableFloor {
    conn: rusqlite::Connection,
    batch: String,
    n: u64,
}

impl DurableFloor {
    /// A fresh database `floor.db` in `dir`, on the disk being measured, with one open batch.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let mut conn = store::open(&dir.join("floor.db"))?;
        let template = BatchTemplate {
            name: "Floor".into(),
            program_id: 1,
            service_type_ids: vec![1],
            units: None,
            auto_post: false,
        };
        let today = chrono::Utc::now().date_naive();
        let batch = store::immediate(&mut conn, |tx| batches::start(tx, &template, today))?.uuid;
        Ok(Self { conn, batch, n: 0 })
    }

    /// One row inserted and committed durably; its time. The row is made before the clock
    /// starts.
    pub fn commit_one(&mut self) -> anyhow::Result<Duration> {
        self.n += 1;
        let code = format!("{:014}", self.n);
        let entry = batches::NewEntry {
            uuid: uuid::Uuid::now_v7(),
            batch_uuid: &self.batch,
            source: "floor",
            code: &code,
            client_id: None,
            display_name: "",
            program_id: 1,
            service_date: chrono::Utc::now().date_naive(),
            scanned_at: chrono::Utc::now(),
            verdict: Verdict::Accepted,
            warnings: &[],
            detail: "",
            bed_id: None,
        };
        let start = Instant::now();
        store::immediate(&mut self.conn, |tx| batches::record(tx, &entry))?;
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
