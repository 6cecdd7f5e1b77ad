//! Growth (DESIGN §15): how the server's figures grow with the agency and with its stations.
//! For each roster size (`SCANLINE_BENCH_SIZES`, default 10,000, 100,000 and 1,000,000
//! clients, each with a Scanline card and an open enrollment in a meal program) it builds a
//! file database with the real migrations, starts the real server on loopback and measures
//! what a person waits for: a station's roster snapshot (time and bytes on the wire, gzip),
//! a delta sync after ten cards are reissued, the find-client page (`GET /clients?q=`) for
//! three ways staff search, and 50 stations uploading `SCANLINE_BENCH_ENTRIES` entries (default
//! 60,000). On the 100,000-client roster it then uploads the same number of entries from 1, 10
//! and 100 stations (`SCANLINE_BENCH_STATION_COUNTS`).
//!
//! It prints one table per sweep with every figure's growth factor against the smallest size,
//! beside how the size itself grew, and draws both sweeps into a PNG
//! (`SCANLINE_BENCH_PLOT`, default `target/growth.png`) so a reader sees where a curve bends.
//! It checks that every uploaded entry is stored; it asserts no timings.
//!
//! Run: `cargo bench -p scanline-server --bench growth`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use chrono::NaiveDate;
use rusqlite::params;
use scanline_core::ScanlineCode;
use scanline_server::db::{self, immediate};
use scanline_server::store::users::{self, Role};
use scanline_server::store::{self, orgs, programs, sessions, stations};

#[allow(dead_code)]
#[path = "../upload/measure.rs"]
mod measure;
mod plot;
mod wait;

use wait::{BySize, ByStations};

/// The station count of the size sweep's upload, and the size the station sweep runs on.
const STATIONS: usize = 50;
const SWEEP_CLIENTS: usize = 100_000;

const FIRST: &[&str] = &[
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
];
const SYLLABLES: &[&str] = &[
    "ash", "bri", "cold", "dun", "east", "fair", "glen", "holl", "iron", "jun", "kett", "lark",
    "mill", "north", "oak", "penn", "quar", "red", "still", "thorn", "ul", "vale", "wick", "yar",
];

/// The `i`th client's first and last name: 20 first names and 13,824 last names.
fn name(i: usize) -> (&'static str, String) {
    let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20;
    let s = SYLLABLES.len() as u64;
    let mut last: String =
        [h % s, (h / s) % s, (h / s / s) % s].iter().map(|&k| SYLLABLES[k as usize]).collect();
    if let Some(first) = last.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    (FIRST[(h as usize / 7) % FIRST.len()], last)
}

fn env_list(name: &str, default: &[usize]) -> anyhow::Result<Vec<usize>> {
    let Ok(v) = std::env::var(name) else { return Ok(default.to_vec()) };
    let list = v
        .split(',')
        .map(|s| s.trim().replace('_', "").parse::<usize>().with_context(|| format!("{name}={v}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ensure!(!list.is_empty() && list.iter().all(|&n| n > 0), "{name}: give sizes of at least 1");
    Ok(list)
}

/// What a populated database holds, as the measurements need it.
pub(crate) struct Fixture {
    pub program: i64,
    pub meal: i64,
    pub today: NaiveDate,
    /// Per client index (id − 1): the code of the client's card.
    pub codes: Vec<String>,
    pub tokens: Vec<String>,
    /// A caseworker's session cookie.
    pub cookie: String,
    /// What the find page is asked, per way staff search.
    pub searches: Vec<(&'static str, Vec<String>)>,
}

fn populate(path: &Path, n: usize, n_stations: usize) -> anyhow::Result<Fixture> {
    let mut conn = db::open_and_migrate(path)?;
    let fx = immediate(&mut conn, |tx| -> anyhow::Result<Fixture> {
        let org = orgs::insert(tx, "Harbor Light Growth", "America/Los_Angeles")?;
        let today = store::today_in(orgs::time_zone(tx, org)?);
        let program = programs::insert(tx, &programs::NewProgram::meal_line(org, "Meals"))?;
        let meal = programs::insert_service_type(
            tx,
            &programs::NewServiceType::simple(program.0, "Meal"),
        )?;
        let at = "2026-01-01T00:00:00Z";
        let mut client = tx.prepare(
            "INSERT INTO clients (id, organization_id, client_number, first_name, last_name,
                 created_at, updated_at) VALUES (?1, ?2, ?1, ?3, ?4, ?5, ?5)",
        )?;
        let mut card = tx.prepare(
            "INSERT INTO cards (code, client_id, kind, seq, issued_at)
             VALUES (?1, ?2, 'scanline', 1, ?3)",
        )?;
        let mut enrollment = tx.prepare(
            "INSERT INTO enrollments (client_id, program_id, household_id, entry_date,
                 created_at, updated_at) VALUES (?1, ?2, ?1, '2020-01-01', ?3, ?3)",
        )?;
        let mut codes = Vec::with_capacity(n);
        for i in 1..=n {
            let id = i64::try_from(i)?;
            let (first, last) = name(i);
            client.execute(params![id, org, first, last, at])?;
            let code = ScanlineCode::new(u32::try_from(i)?, 1)?.encode();
            card.execute(params![code, id, at])?;
            enrollment.execute(params![id, program.0, at])?;
            codes.push(code);
        }
        let tokens = (0..n_stations)
            .map(|s| Ok(stations::insert(tx, org, &format!("Line {s:03}"), &[program.0])?.1))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let user = users::insert(
            tx,
            "growth.staff",
            "Growth Staff",
            "a long bench password",
            org,
            Role::Staff,
        )?;
        let cookie = format!("scanline_session={}", sessions::create(tx, user)?);
        // Searches for clients spread over the roster, the same spread at every size.
        let mut by_name = Vec::new();
        let mut by_number = Vec::new();
        let mut by_card = Vec::new();
        for k in 0..wait::SEARCHES {
            let i = 1 + (k * 7_919 + 13) % n;
            let (first, last) = name(i);
            by_name.push(format!("{} {}", &first[..2], &last[..4]));
            by_number.push(format!("#{i}"));
            by_card.push(codes[i - 1].clone());
        }
        let searches = vec![
            ("first letters of first and last name", by_name),
            ("client number", by_number),
            ("scanned card", by_card),
        ];
        Ok(Fixture { program: program.0, meal, today, codes, tokens, cookie, searches })
    })?;
    conn.execute_batch("ANALYZE;")?;
    Ok(fx)
}

fn plot_path() -> PathBuf {
    std::env::var_os("SCANLINE_BENCH_PLOT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/growth.png"),
        PathBuf::from,
    )
}

fn main() -> anyhow::Result<()> {
    let sizes = env_list("SCANLINE_BENCH_SIZES", &[10_000, 100_000, 1_000_000])?;
    let counts = env_list("SCANLINE_BENCH_STATION_COUNTS", &[1, 10, 100])?;
    let entries = env_list("SCANLINE_BENCH_ENTRIES", &[60_000])?[0];
    let sweep_at = if sizes.contains(&SWEEP_CLIENTS) { SWEEP_CLIENTS } else { sizes[0] };
    let most_stations = counts.iter().copied().max().unwrap_or(1).max(STATIONS);
    let dir = match std::env::var_os("SCANLINE_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "growth bench: rosters of {sizes:?} clients; {entries} entries from {STATIONS} stations, \
         and from {counts:?} stations on {sweep_at} clients; {cores} cores; files in {}",
        dir.path().display()
    );
    // Each upload run scans on days of its own, so no run's scans are another's duplicates.
    let mut next_day = 0_u64;
    let mut by_size = Vec::new();
    let mut by_stations = Vec::new();
    for &n in &sizes {
        let path = dir.path().join(format!("growth-{n}.db"));
        let t = Instant::now();
        let fx = populate(&path, n, most_stations)?;
        println!("\n{n} clients: database made in {:.1} s", t.elapsed().as_secs_f64());
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let (size, sweep) = rt.block_on(wait::measure(
            &path,
            &fx,
            wait::Plan { n_clients: n, entries, stations: STATIONS, next_day: &mut next_day },
            if n == sweep_at { counts.as_slice() } else { &[] },
        ))?;
        drop(rt);
        by_size.push(size);
        by_stations.extend(sweep);
        std::fs::remove_file(&path).ok();
    }
    if by_size.is_empty() {
        bail!("no roster size measured");
    }
    println!();
    print_sizes(&by_size, cores);
    println!();
    print_stations(&by_stations, sweep_at, entries);
    let png = plot::draw(&by_size, &by_stations, sweep_at)?;
    let out = plot_path();
    std::fs::write(&out, png).with_context(|| format!("writing {}", out.display()))?;
    println!("\nplot: {}", out.display());
    Ok(())
}

fn factor(v: f64, first: f64) -> f64 {
    if first > 0.0 { v / first } else { f64::NAN }
}

fn print_sizes(rows: &[BySize], cores: usize) {
    println!("== growth with the roster ({STATIONS} stations uploading, {cores} cores) ==");
    println!(
        "{:>10} {:>7} {:>12} {:>12} {:>10} {:>12} {:>13} {:>12}",
        "clients",
        "x size",
        "snapshot ms",
        "snapshot MB",
        "delta ms",
        "find p99 ms",
        "upload ent/s",
        "upload p99"
    );
    let first = &rows[0];
    for r in rows {
        println!(
            "{:>10} {:>7.0} {:>12.0} {:>12.2} {:>10.1} {:>12.2} {:>13.0} {:>10.0} ms",
            r.clients,
            factor(r.clients as f64, first.clients as f64),
            r.snapshot_ms,
            r.snapshot_mb,
            r.delta_ms,
            r.find_p99_ms,
            r.upload_rate,
            r.upload_p99_ms
        );
    }
    println!("growth against {} clients:", first.clients);
    for r in rows.iter().skip(1) {
        println!(
            "{:>10} {:>7.0} {:>11.1}x {:>11.1}x {:>9.1}x {:>11.1}x {:>12.2}x {:>10.1}x",
            r.clients,
            factor(r.clients as f64, first.clients as f64),
            factor(r.snapshot_ms, first.snapshot_ms),
            factor(r.snapshot_mb, first.snapshot_mb),
            factor(r.delta_ms, first.delta_ms),
            factor(r.find_p99_ms, first.find_p99_ms),
            factor(r.upload_rate, first.upload_rate),
            factor(r.upload_p99_ms, first.upload_p99_ms)
        );
    }
}

fn print_stations(rows: &[ByStations], clients: usize, entries: usize) {
    let Some(first) = rows.first() else { return };
    println!("== growth with the stations ({clients} clients, {entries} entries in all) ==");
    println!(
        "{:>10} {:>7} {:>13} {:>11} {:>11} {:>9}",
        "stations", "x size", "upload ent/s", "p50 ms", "p99 ms", "x rate"
    );
    for r in rows {
        println!(
            "{:>10} {:>7.0} {:>13.0} {:>11.1} {:>11.1} {:>8.2}x",
            r.stations,
            factor(r.stations as f64, first.stations as f64),
            r.upload_rate,
            r.p50_ms,
            r.p99_ms,
            factor(r.upload_rate, first.upload_rate)
        );
    }
}
