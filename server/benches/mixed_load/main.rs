//! Mixed load (DESIGN §15): a busy Saturday at a large agency, against the real server running
//! in-process on a file database and real sockets. For `SCANLINE_BENCH_SECONDS` (default 60):
//! - 50 stations (`SCANLINE_BENCH_STATIONS`) scan at a meal line's pace, a card every 2 to 4 s
//!   each, and upload each scan as it is made; every 5 s one of them comes back from an
//!   offline spell and uploads a backlog of 1,000 scans, 200 to a request, as a station does;
//! - 30 staff (`SCANLINE_BENCH_STAFF`), signed in through the form, each a second or two apart:
//!   search for a client by name, open the client's dashboard, open the batch list, scan a
//!   card into a desk batch of their own, and every tenth round post that batch;
//! - an admin uploads an HMIS export (`SCANLINE_BENCH_IMPORT_CLIENTS`, default 10,000 clients
//!   with 20,000 enrollments and 10 bed nights each) to the import page, and downloads the HUD
//!   export of the agency's year, both 10 s in;
//! - in the second run only, 16 clients send sign-ins with made-up usernames as fast as they
//!   are answered, with the per-address limit lifted (a flood from many addresses).
//!
//! The agency has `SCANLINE_BENCH_CLIENTS` clients (default 100,000), each with a card and an
//! open enrollment in the meal line. Both runs start from the same copy of it. For each run it
//! prints station upload and staff page latency (p50, p99, max), the import's and the export's
//! time, the errors, and that nothing was lost: every entry a station was told was stored is in
//! its batch on the server, and every desk scan answered is in its desk batch. It asserts no
//! timings.
//!
//! Run: `cargo bench -p scanline-server --bench mixed_load`.

#[path = "../common/guests.rs"]
mod guests;
#[path = "../common/hmis_export.rs"]
mod hmis_export;
mod load;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;
use chrono::NaiveDate;
use scanline_server::app::app;
use scanline_server::db::{self, Db, immediate};
use scanline_server::hmis::{self, Files};
use scanline_server::state::AppState;
use scanline_server::store::hmis::ImportOptions;
use scanline_server::store::{self, orgs, programs, stations, users};
use scanline_server::throttle::SignIns;

use load::{Latencies, Totals};

pub(crate) const PASSWORD: &str = "a long bench password";

pub(crate) fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// The agency as the load needs it.
pub(crate) struct Fixture {
    pub(crate) program: i64,
    pub(crate) meal: i64,
    pub(crate) today: NaiveDate,
    pub(crate) client_ids: Vec<i64>,
    pub(crate) names: Vec<(String, String)>,
    pub(crate) codes: Vec<String>,
    pub(crate) tokens: Vec<String>,
    pub(crate) staff: Vec<String>,
    /// The HMIS export the admin imports, a zip archive.
    pub(crate) import: Vec<u8>,
}

fn populate(path: &Path, n_clients: usize) -> anyhow::Result<Fixture> {
    let (n_stations, n_staff) =
        (env("SCANLINE_BENCH_STATIONS", 50), env("SCANLINE_BENCH_STAFF", 30));
    let mut conn = db::open_and_migrate(path)?;
    let mut fx = immediate(&mut conn, |tx| -> anyhow::Result<Fixture> {
        // Named as the HMIS export names it, so the import links to it.
        let org = orgs::insert(tx, "Bench Agency", "America/Los_Angeles")?;
        let today = store::today_in(orgs::time_zone(tx, org)?);
        let program =
            programs::insert(tx, &programs::NewProgram::meal_line(org, "Community Meals"))?;
        let meal = programs::insert_service_type(
            tx,
            &programs::NewServiceType::simple(program.0, "Meal"),
        )?;
        let mut fx = Fixture {
            program: program.0,
            meal,
            today,
            client_ids: Vec::with_capacity(n_clients),
            names: Vec::with_capacity(n_clients),
            codes: Vec::with_capacity(n_clients),
            tokens: Vec::new(),
            staff: Vec::new(),
            import: Vec::new(),
        };
        for i in 0..n_clients {
            let (first, last) = guests::name(i);
            let (id, code) = guests::enrolled_with_card(tx, org, program.0, (first, last))?;
            fx.codes.push(code);
            fx.client_ids.push(id);
            fx.names.push((first.to_owned(), last.to_owned()));
        }
        for s in 0..n_stations {
            let (_, token) = stations::insert(tx, org, &format!("Line {s:02}"), &[program.0])?;
            fx.tokens.push(token);
        }
        for s in 0..n_staff {
            let name = format!("staff{s:02}");
            users::insert(tx, &name, &name, PASSWORD, org, users::Role::Staff)?;
            fx.staff.push(name);
        }
        users::insert(tx, "admin", "Admin", PASSWORD, org, users::Role::Admin)?;
        Ok(fx)
    })?;
    // The agency's shelter came from the HMIS: its clients, stays and bed nights are what the
    // HUD export sends back. The export the admin imports in the run brings new clients.
    let (hmis_clients, nights) =
        (env("SCANLINE_BENCH_IMPORT_CLIENTS", 10_000), env("SCANLINE_BENCH_IMPORT_NIGHTS", 10));
    let mut earlier = Files::default();
    for (name, bytes) in hmis_export::csv_files(0..hmis_clients, nights) {
        earlier.insert(name, bytes);
    }
    let parsed = hmis::read::read(&earlier, fx.today);
    let opts = ImportOptions { time_zone: "America/Los_Angeles".into(), scope: None };
    let report = hmis::import_now(&mut conn, &parsed, &opts, &mut |_, _, _| {})?;
    ensure!(report.applied, "the agency's HMIS data: {:?}", report.errors.first());
    let files = hmis_export::csv_files(hmis_clients..2 * hmis_clients, nights);
    fx.import = hmis_export::zip(&files)?;
    Ok(fx)
}

/// A server on a fresh copy of the fixture; returns its URL and its database.
async fn serve(fixture_db: &Path, dir: &Path, run: &str) -> anyhow::Result<(String, Db)> {
    let path = dir.join(format!("{run}.db"));
    std::fs::copy(fixture_db, &path)?;
    let db = Db::open(&path)?;
    // The same number of password checks at a time as the default, with no per-address limit:
    // the staff all sign in from this one address, and the flood stands for many.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let state = AppState {
        sign_ins: Arc::new(SignIns::new((cores / 2).max(1), usize::MAX)),
        ..AppState::new(db.clone())
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Ok((url, db))
}

fn row(name: &str, l: &Latencies) -> String {
    let (p50, p99, max) = l.summary();
    format!(
        "  {name:<32} {:>7} requests  p50 {p50:7.1} ms  p99 {p99:7.1} ms  max {max:8.1} ms",
        l.len()
    )
}

fn report(name: &str, t: &Totals, secs: u64) {
    println!("{name}:");
    println!("{}  (target p99 < 100 ms)", row("station uploads, all", &t.uploads.all()));
    println!("{}", row("  at the line's pace", &t.uploads.paced));
    println!("{}", row("  backlogs after a spell offline", &t.uploads.backlog));
    println!("{}", row("  while the import was applied", &t.uploads.during_import));
    println!("{}  (target p99 < 200 ms)", row("staff pages, all", &t.staff.all()));
    for (what, l) in &t.staff.by_kind {
        println!("{}", row(&format!("  {what}"), l));
    }
    println!(
        "  HMIS import (upload to report)  {:.1} s, applied: {}",
        t.import.as_secs_f64(),
        t.import_applied
    );
    let seconds: Vec<String> = t
        .over
        .iter()
        .map(|(second, (uploads, pages))| format!("{second} s: {uploads}+{pages}"))
        .collect();
    println!(
        "  over target (uploads+pages by the second they began; the import ran {:.1} to {:.1} s): {}",
        t.import_span.0,
        t.import_span.1,
        if seconds.is_empty() { "none".to_owned() } else { seconds.join(", ") }
    );
    println!(
        "  HUD export (request to last byte) {:.1} s, {} KB",
        t.export.as_secs_f64(),
        t.export_bytes / 1000
    );
    if t.flood_sent > 0 {
        println!(
            "  sign-in flood                  {:.0} sign-ins/s answered",
            t.flood_sent as f64 / secs as f64
        );
    }
    println!(
        "  entries stored {} of {} uploaded; desk scans stored {} of {} answered; errors {}",
        t.stored,
        t.sent,
        t.desk_stored,
        t.desk_sent,
        t.errors.len()
    );
    for e in t.errors.iter().take(5) {
        println!("    {e}");
    }
}

fn main() -> anyhow::Result<()> {
    // What the server logs of the imports it runs: how long each step took.
    tracing_subscriber::fmt()
        .with_env_filter("scanline_server::hmis::staged=info")
        .with_writer(std::io::stderr)
        .init();
    let n_clients = env("SCANLINE_BENCH_CLIENTS", 100_000);
    let secs = env("SCANLINE_BENCH_SECONDS", 60) as u64;
    let dir = tempfile::tempdir()?;
    let fixture_db = dir.path().join("fixture.db");
    let started = std::time::Instant::now();
    let fx = Arc::new(populate(&fixture_db, n_clients)?);
    println!(
        "mixed load: {n_clients} clients, {} stations, {} staff, {secs} s a run; an HMIS export of {} KB (made in {:.0} s)",
        fx.tokens.len(),
        fx.staff.len(),
        fx.import.len() / 1000,
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut runs = Vec::new();
    for (run, flood) in [("without the flood", false), ("with a sign-in flood of 16", true)] {
        let totals = rt.block_on(async {
            let (url, db) =
                serve(&fixture_db, dir.path(), if flood { "flood" } else { "calm" }).await?;
            load::run(&url, &db, fx.clone(), Duration::from_secs(secs), flood).await
        })?;
        report(run, &totals, secs);
        runs.push((run, totals));
    }
    println!("side by side (p99, ms):   station upload   staff page");
    for (run, t) in &runs {
        println!(
            "  {run:<28} {:>10.1} {:>12.1}",
            t.uploads.all().summary().1,
            t.staff.all().summary().1
        );
    }
    for (run, t) in &runs {
        ensure!(t.stored == t.sent && t.desk_stored == t.desk_sent, "{run}: entries were lost");
    }
    Ok(())
}
