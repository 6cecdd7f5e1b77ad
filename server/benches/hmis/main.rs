//! HMIS CSV interchange (DESIGN §15: import of 100,000 clients with 200,000 enrollments under
//! 15 s; export of 1,000,000 services under 3 s). It writes a synthetic FY2026 export in memory
//! (made-up names, dates of birth and SSNs), imports it into a new file database (WAL,
//! synchronous=FULL, the real migrations) through the same read-and-apply path as the CLI and
//! the admin page, then adds bed nights night by night until there are 1,000,000 services and times the HUD
//! export (query, CSV, zip) over the whole range. Last, in a process of its own, it imports that
//! export into a new database while a station uploads (`under_load`): the time, the time the
//! database writer is held, the peak memory and the station's upload latency during it. It
//! prints the figures; it asserts nothing.
//!
//! Run: `cargo bench -p scanline-server --bench hmis`. `SCANLINE_BENCH_CLIENTS` and
//! `SCANLINE_BENCH_SERVICES` make it smaller.

#[path = "../common/guests.rs"]
mod guests;
#[path = "../common/hmis_export.rs"]
mod hmis_export;
mod under_load;

use std::time::Instant;

use scanline_server::db;
use scanline_server::hmis;
use scanline_server::hmis::export::{ExportOptions, export};
use scanline_server::store::hmis::ImportOptions;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Set in the child process that imports the export: the zip to import.
const IMPORT_ZIP: &str = "SCANLINE_BENCH_IMPORT_ZIP";

fn main() {
    if let Some(zip) = std::env::var_os(IMPORT_ZIP) {
        let zip = std::path::PathBuf::from(zip);
        let db = zip.with_extension("db");
        if let Err(e) = under_load::run(&zip, &db) {
            eprintln!("import under load: {e:#}");
            std::process::exit(1);
        }
        return;
    }
    let clients = env("SCANLINE_BENCH_CLIENTS", 100_000);
    let services = env("SCANLINE_BENCH_SERVICES", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open_and_migrate(&dir.path().join("bench.db")).unwrap();

    let files = hmis_export::synthetic(clients, 0);
    let start = Instant::now();
    let parsed = hmis::read::read(&files, chrono::Utc::now().date_naive());
    let read_time = start.elapsed();
    let report = hmis::import_now(
        &mut conn,
        &parsed,
        &ImportOptions { time_zone: "America/Chicago".into(), scope: None },
        &mut |_, _, _| {},
    )
    .unwrap();
    let total = start.elapsed();
    assert!(report.applied, "{:?}", &report.errors[..report.errors.len().min(5)]);
    println!(
        "import of {clients} clients with {} enrollments: {:.2} s (reading {:.2} s) (target < 15 s)",
        clients * 2,
        total.as_secs_f64(),
        read_time.as_secs_f64()
    );

    // Bed nights across the shelter enrollments until there are `services` services, night
    // by night as a shelter records them (each night's check-ins, then the next night's).
    let fill = Instant::now();
    {
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO service_types (program_id, name, record_type, type_provided, created_at)
             SELECT id, 'Bed Night', 200, 200, '2026-01-01' FROM programs WHERE hmis_project_id = 'PN'",
            [],
        )
        .unwrap();
        let nights = services.div_ceil(clients.max(1));
        tx.execute(
            "WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k + 1 < ?1)
             INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided,
                                   units, unit_value, created_at)
             SELECT e.id, e.client_id, e.program_id, st.id, date('2026-01-01', '+' || n.k || ' days'),
                    1, 0, '2026-09-01 10:00:00.000000000+00:00'
             FROM n CROSS JOIN enrollments e JOIN service_types st ON st.program_id = e.program_id
             WHERE st.record_type = 200
             LIMIT ?2",
            rusqlite::params![nights as i64, services as i64],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM services", [], |r| r.get(0)).unwrap();
    println!("(filled {n} services in {:.1} s)", fill.elapsed().as_secs_f64());

    let orgs: Vec<i64> =
        vec![conn.query_row("SELECT id FROM organizations", [], |r| r.get(0)).unwrap()];
    let opts = ExportOptions {
        start: "2026-01-01".parse().unwrap(),
        end: "2026-12-31".parse().unwrap(),
        programs: Vec::new(),
        organizations: orgs,
        hashed: false,
        time_zone: None,
    };
    let mut last_zip = Vec::new();
    for round in 0..2 {
        let start = Instant::now();
        let tx = conn.transaction().unwrap();
        let exported = export(&tx, &opts, chrono::Utc::now()).unwrap();
        drop(tx);
        let csv_time = start.elapsed();
        let zip = exported.zip().unwrap();
        let total = start.elapsed();
        let csv_bytes: usize = exported.files.iter().map(|(_, b)| b.len()).sum();
        println!(
            "export of {} services (round {}): {:.2} s to CSV ({} MB), {:.2} s with the zip ({} MB) (target < 3 s)",
            exported.services,
            round + 1,
            csv_time.as_secs_f64(),
            csv_bytes / 1_000_000,
            total.as_secs_f64(),
            zip.len() / 1_000_000
        );
        last_zip = zip;
    }

    let zip_path = dir.path().join("export.zip");
    std::fs::write(&zip_path, &last_zip).unwrap();
    drop(conn);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env(IMPORT_ZIP, &zip_path)
        .status()
        .unwrap();
    assert!(status.success(), "the import under load failed");
}
