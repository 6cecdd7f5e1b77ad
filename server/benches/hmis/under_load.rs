//! An HMIS import as the admin page runs it, while a station keeps uploading (DESIGN §15,
//! imports without stalls). Run in a process of its own, so that its peak memory is the
//! import's: it opens a fresh server database, gives it a meal line of a thousand clients with
//! cards and a station uploading ten scans every 20 ms through the server's upload queue, and
//! then imports an HMIS export (a zip archive) the way the admin page does: the archive opened,
//! then its files read, checked and imported into a copy of the database, all off the writer,
//! and landed in one transaction on it. It prints the time of each step, the time the writer was held, the peak
//! memory, and the station's upload latency before and during each step.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use scanline_core::wire::{CreateBatch, EntryUpload};
use scanline_server::db::Db;
use scanline_server::hmis::{self, Files};
use scanline_server::ingest::Ingest;
use scanline_server::store::hmis::ImportOptions;
use scanline_server::store::{self, batches, orgs, programs, stations};
use uuid::Uuid;

const CLIENTS: usize = 1000;
const SCANS_PER_UPLOAD: usize = 10;
const PACE: Duration = Duration::from_millis(20);

/// The line the station scans at: its cards, its credentials and a batch open today.
struct Line {
    codes: Vec<String>,
    station: stations::StationAuth,
    batch: Uuid,
}

fn line(conn: &rusqlite::Connection) -> anyhow::Result<Line> {
    let org = orgs::insert(conn, "Harbor Light Meals", "America/Los_Angeles")?;
    let program = programs::insert(conn, &programs::NewProgram::meal_line(org, "Community Meals"))?;
    let meal =
        programs::insert_service_type(conn, &programs::NewServiceType::simple(program.0, "Meal"))?;
    let mut codes = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let name = format!("Guest{i}");
        codes.push(crate::guests::enrolled_with_card(conn, org, program.0, (&name, "Meal"))?.1);
    }
    let (_, token) = stations::insert(conn, org, "Meal line", &[program.0])?;
    let station = stations::authenticate(conn, &token)?.context("the station signs in")?;
    let batch = Uuid::new_v4();
    batches::create(
        conn,
        batches::Creator::Station(&station),
        &CreateBatch {
            uuid: batch,
            program_id: program.0,
            service_type_ids: vec![meal],
            service_date: store::today_in(orgs::time_zone(conn, org)?),
            units: None,
            unit_value: None,
            description: None,
            auto_post: false,
        },
        Utc::now(),
    )?;
    Ok(Line { codes, station, batch })
}

/// Each upload's start and latency, until `stop`.
async fn station(
    ingest: Ingest,
    line: Arc<Line>,
    stop: Arc<AtomicBool>,
) -> Vec<(Instant, Duration)> {
    let mut out = Vec::new();
    let mut next = 0;
    let mut tick = tokio::time::interval(PACE);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let entries: Vec<EntryUpload> = (0..SCANS_PER_UPLOAD)
            .map(|k| EntryUpload {
                uuid: Uuid::now_v7(),
                code: line.codes[(next + k) % line.codes.len()].clone(),
                scanned_at: Utc::now(),
                station_verdict: None,
                bed_id: None,
            })
            .collect();
        next += SCANS_PER_UPLOAD;
        let t = Instant::now();
        if let Err(e) = ingest.upload(line.station.clone(), line.batch, entries, Utc::now()).await {
            eprintln!("upload failed: {e}");
            break;
        }
        out.push((t, t.elapsed()));
    }
    out
}

fn quantiles(mut v: Vec<Duration>) -> String {
    if v.is_empty() {
        return "no uploads".into();
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} uploads)",
        at(0.5),
        at(0.99),
        at(1.0),
        v.len()
    )
}

/// The peak resident memory of this process, in MB.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub(crate) fn run(zip: &Path, db_path: &Path) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let db = Db::open(db_path)?;
        let line = Arc::new(db.transact(|tx| line(tx)).await??);
        let ingest = Ingest::start(db.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let uploads = tokio::spawn(station(ingest, Arc::clone(&line), Arc::clone(&stop)));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before_mb = peak_mb();

        let started = Instant::now();
        let zip = zip.to_owned();
        let files = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            Files::from_zip(&std::fs::read(&zip)?).map_err(anyhow::Error::msg)
        })
        .await??;
        let read = started.elapsed();
        let read_mb = peak_mb();
        let opts = ImportOptions { time_zone: "America/Chicago".into(), scope: None };
        let reading = hmis::staged::reading(files, Utc::now().date_naive());
        let done = hmis::staged::import(&db, reading, opts).await?;
        let finished = Instant::now();
        let total = finished - started;
        if !done.report.applied {
            let errors = &done.report.errors;
            anyhow::bail!("import refused: {:?}", &errors[..errors.len().min(5)]);
        }
        let report = done.report;
        // The landing is the import's last step.
        let apply_start = finished.checked_sub(done.writer_held).unwrap_or(started);
        let apply_end = finished;
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.store(true, Ordering::Relaxed);
        let latencies = uploads.await?;
        // Which part of the import each upload overlapped: none, the reading, the work on the
        // copy, or the landing.
        let overlaps = |(t, d): &(Instant, Duration), from: Instant, to: Instant| {
            *t + *d >= from && *t <= to
        };
        let part = |from, to| -> Vec<Duration> {
            latencies.iter().filter(|u| overlaps(u, from, to)).map(|(_, d)| *d).collect()
        };
        let outside: Vec<Duration> = (latencies.iter())
            .filter(|u| !overlaps(u, started, finished))
            .map(|(_, d)| *d)
            .collect();
        let reading = part(started, started + read);
        let copying = part(started + read, apply_start);
        let applying = part(apply_start, apply_end);
        let services = report.counts.iter().find(|(f, _)| f.starts_with("Services")).map_or(0, |(_, c)| c.read);
        println!(
            "import of an export with {services} services: {:.1} s (opening the archive {:.1} s, reading the files and importing them into a copy {:.1} s, both off the writer; writer held {:.2} s to land it; {} attempt(s)); peak memory {:.0} MB ({:.0} MB with the archive open, {:.0} MB before)",
            total.as_secs_f64(),
            read.as_secs_f64(),
            done.off_writer.as_secs_f64(),
            done.writer_held.as_secs_f64(),
            done.attempts,
            peak_mb().unwrap_or(0.0),
            read_mb.unwrap_or(0.0),
            before_mb.unwrap_or(0.0),
        );
        println!("  station upload without an import:        {}", quantiles(outside));
        println!("  station upload while the archive opens:   {}", quantiles(reading));
        println!("  station upload while the copy imports:    {}", quantiles(copying));
        println!("  station upload while the import lands:    {}", quantiles(applying));
        anyhow::Ok(())
    })
}
