//! Server-side performance of the station API (DESIGN §15), against the real server running
//! in-process on a file database: entry upload from 50 concurrent stations (entries per second,
//! and the ratio to a raw SQLite bulk insert of the same rows with the same PRAGMAs in the same
//! run), the roster snapshot of a 100,000-client roster (time and bytes on the wire, gzip), and
//! a delta sync after a small change. It prints figures only; it asserts no timings.
//!
//! Sizes: `SCANLINE_BENCH_CLIENTS` (default 100000 clients, each with a replaced and a current
//! Scanline card and an open enrollment in a meal program) and `SCANLINE_BENCH_ENTRIES`
//! (default 100000 uploaded entries). Entry UUIDs are time-ordered (v7), as stations make
//! them; `SCANLINE_BENCH_UUID=v4` makes them random instead. `SCANLINE_BENCH_DIR` puts the database files somewhere other than the
//! system temp directory.
//!
//! Lines marked "diagnostic" are not targets: they split the time between CPU and waiting on
//! the disk, between the SQL and HTTP, to show where the time goes.
//!
//! Run: `cargo bench -p scanline-server --bench upload`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use chrono::{Days, NaiveDate, Utc};
use rusqlite::{Connection, params};
use scanline_core::domain::BarScope;
use scanline_core::verdict::Verdict;
use scanline_core::wire::{CreateBatch, EntryUpload, RosterDelta, RosterSnapshot, UploadEntries};
use scanline_server::app::app;
use scanline_server::db::{self, Db, immediate};
use scanline_server::state::AppState;
use scanline_server::store::{
    self, bars, batches, cards, clients, enrollments, orgs, programs, stations,
};
use uuid::Uuid;

#[path = "../common/guests.rs"]
mod guests;
mod measure;
use measure::{cpu_between, cpu_note, mb, median, ms, own_cpu, percentile, thread_cpu};

const STATIONS: usize = 50;
const ENTRIES_PER_REQUEST: usize = 200;
/// Every this many entries, one scans a client already scanned that day (a duplicate).
const REPEAT_EVERY: usize = 100;
const SNAPSHOT_RUNS: usize = 5;
const DELTA_RUNS: usize = 20;

/// Entry UUIDs as stations make them: time-ordered (v7, the default), which keeps the unique
/// index on `batch_entries.uuid` append-only, or random (v4, with `SCANLINE_BENCH_UUID=v4`).
static UUID_V7: OnceLock<bool> = OnceLock::new();

fn entry_uuid() -> Uuid {
    if UUID_V7.get().copied().unwrap_or(false) { Uuid::now_v7() } else { Uuid::new_v4() }
}

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => {
            let n: usize =
                v.trim().replace('_', "").parse().with_context(|| format!("{name}={v}"))?;
            ensure!(n > 0, "{name} must be at least 1");
            Ok(n)
        }
        Err(_) => Ok(default),
    }
}

/// What the populated database holds, as the benchmark needs it.
struct Fixture {
    program: i64,
    meal: i64,
    today: NaiveDate,
    /// Per client index: the database id and the code of the current (second) card.
    client_ids: Vec<i64>,
    codes: Vec<String>,
    tokens: Vec<String>,
}

fn populate(path: &Path, n_clients: usize) -> anyhow::Result<Fixture> {
    let mut conn = db::open_and_migrate(path)?;
    immediate(&mut conn, |tx| -> anyhow::Result<Fixture> {
        let org = orgs::insert(tx, "Harbor Light Bench", "America/Los_Angeles")?;
        let today = store::today_in(orgs::time_zone(tx, org)?);
        let program =
            programs::insert(tx, &programs::NewProgram::meal_line(org, "Community Meals"))?;
        let meal = programs::insert_service_type(
            tx,
            &programs::NewServiceType::simple(program.0, "Meal"),
        )?;
        let entry_date = NaiveDate::from_ymd_opt(2020, 1, 1).expect("a valid date");
        let mut client_ids = Vec::with_capacity(n_clients);
        let mut codes = Vec::with_capacity(n_clients);
        for i in 0..n_clients {
            let (id, _) = clients::insert(
                tx,
                &clients::NewClient {
                    organization_id: org,
                    client_number: Some(u32::try_from(i + 1)?),
                    first_name: guests::name(i).0.to_owned(),
                    last_name: guests::name(i).1.to_owned(),
                    ..clients::NewClient::default()
                },
            )?;
            // The first card is lost and reprinted: 200,000 cards for 100,000 clients.
            cards::issue_scanline(tx, id.0, None)?;
            let (_, code) = cards::issue_scanline(tx, id.0, None)?;
            enrollments::insert(
                tx,
                &enrollments::NewEnrollment {
                    client_id: id.0,
                    program_id: program.0,
                    entry_date,
                    household_id: None,
                    relationship_to_hoh: 1,
                },
            )?;
            client_ids.push(id.0);
            codes.push(code);
        }
        let mut tokens = Vec::with_capacity(STATIONS);
        for s in 0..STATIONS {
            let (_, token) = stations::insert(tx, org, &format!("Line {s:02}"), &[program.0])?;
            tokens.push(token);
        }
        Ok(Fixture { program: program.0, meal, today, client_ids, codes, tokens })
    })
}

/// The client index the `i`th uploaded entry scans, and the round (one day per pass over the
/// clients). One entry in `REPEAT_EVERY` repeats the previous entry's client.
fn scan_of(i: usize, n_clients: usize) -> (usize, usize) {
    let round = i / n_clients;
    let client =
        if i % REPEAT_EVERY == REPEAT_EVERY - 1 { (i - 1) % n_clients } else { i % n_clients };
    (client, round)
}

fn round_date(today: NaiveDate, round: usize) -> NaiveDate {
    today - Days::new(round as u64)
}

/// One batch of one station: its creation request and its upload bodies (pre-serialized, so
/// the timed part is the server's work, not the load generator's).
struct BatchPlan {
    create: Vec<u8>,
    uuid: Uuid,
    uploads: Vec<Vec<u8>>,
}

fn plan_station(station: usize, n_entries: usize, fx: &Fixture) -> anyhow::Result<Vec<BatchPlan>> {
    let n_clients = fx.codes.len();
    let mut by_round: Vec<(usize, Vec<EntryUpload>)> = Vec::new();
    for i in (station..n_entries).step_by(STATIONS) {
        let (client, round) = scan_of(i, n_clients);
        if by_round.last().is_none_or(|(r, _)| *r != round) {
            by_round.push((round, Vec::new()));
        }
        let entry = EntryUpload {
            uuid: entry_uuid(),
            code: fx.codes[client].clone(),
            scanned_at: Utc::now(),
            station_verdict: Some(Verdict::Accepted),
            bed_id: None,
        };
        by_round.last_mut().expect("pushed above").1.push(entry);
    }
    let mut out = Vec::new();
    for (round, entries) in by_round {
        let uuid = Uuid::new_v4();
        let create = serde_json::to_vec(&CreateBatch {
            uuid,
            program_id: fx.program,
            service_type_ids: vec![fx.meal],
            service_date: round_date(fx.today, round),
            units: None,
            unit_value: None,
            description: Some(format!("bench line {station} day {round}")),
            auto_post: false,
        })?;
        let uploads = entries
            .chunks(ENTRIES_PER_REQUEST)
            .map(|c| serde_json::to_vec(&UploadEntries { entries: c.to_vec() }))
            .collect::<Result<_, _>>()?;
        out.push(BatchPlan { create, uuid, uploads });
    }
    Ok(out)
}

async fn post_json(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        bail!("POST {url}: {status}: {text}");
    }
    Ok(resp)
}

/// One station's whole run; returns the latency of each upload request.
async fn run_station(
    base: String,
    token: String,
    plan: Vec<BatchPlan>,
) -> anyhow::Result<Vec<Duration>> {
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    for batch in plan {
        post_json(&http, &format!("{base}/api/v1/batches"), &token, batch.create).await?;
        let url = format!("{base}/api/v1/batches/{}/entries", batch.uuid);
        for body in batch.uploads {
            let t = Instant::now();
            let resp = post_json(&http, &url, &token, body).await?;
            resp.bytes().await?;
            latencies.push(t.elapsed());
        }
    }
    Ok(latencies)
}

/// Inserts the same entry rows the server writes straight into a fresh database with the same
/// migrations and PRAGMAs: prepared statement, `BEGIN IMMEDIATE`, 200 rows per commit. It
/// writes no roster change row beside each entry, as the server does, so it is the stricter
/// floor.
fn raw_baseline(
    path: &Path,
    fx: &Fixture,
    n_entries: usize,
    synchronous: &str,
) -> anyhow::Result<(Duration, String)> {
    let mut conn = db::open_and_migrate(path)?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    let n_clients = fx.codes.len();
    let at = Utc::now();
    let entry_date = NaiveDate::from_ymd_opt(2020, 1, 1).expect("a valid date");
    // Prerequisite rows, as plain SQL: one organization, program, service type and batch per
    // day, and every client with a current card and an enrollment, so the rows carry the same
    // foreign keys as the server's.
    let rounds = n_entries.div_ceil(n_clients);
    immediate(&mut conn, |tx| -> anyhow::Result<()> {
        tx.execute(
            "INSERT INTO organizations (id, name, time_zone, created_at)
             VALUES (1, 'Raw', 'America/Los_Angeles', ?1)",
            params![at],
        )?;
        tx.execute(
            "INSERT INTO programs (id, organization_id, name, project_type, created_at)
             VALUES (1, 1, 'Community Meals', 6, ?1)",
            params![at],
        )?;
        tx.execute(
            "INSERT INTO service_types (id, program_id, name, created_at)
             VALUES (1, 1, 'Meal', ?1)",
            params![at],
        )?;
        for round in 0..rounds {
            tx.execute(
                "INSERT INTO batches (id, uuid, program_id, service_date, units, unit_value,
                     created_at) VALUES (?1, ?2, 1, ?3, 1, 0, ?4)",
                params![
                    round as i64 + 1,
                    Uuid::new_v4().to_string(),
                    round_date(fx.today, round),
                    at
                ],
            )?;
            tx.execute(
                "INSERT INTO batch_service_types (batch_id, service_type_id) VALUES (?1, 1)",
                params![round as i64 + 1],
            )?;
        }
        let mut client = tx.prepare(
            "INSERT INTO clients (id, organization_id, client_number, first_name, last_name,
                 created_at, updated_at) VALUES (?1, 1, ?1, 'Raw', 'Client', ?2, ?2)",
        )?;
        let mut card = tx.prepare(
            "INSERT INTO cards (id, code, client_id, kind, seq, issued_at)
             VALUES (?1, ?2, ?1, 'scanline', 2, ?3)",
        )?;
        let mut enrollment = tx.prepare(
            "INSERT INTO enrollments (id, client_id, program_id, household_id, entry_date,
                 created_at, updated_at) VALUES (?1, ?1, 1, ?1, ?2, ?3, ?3)",
        )?;
        for (i, code) in fx.codes.iter().enumerate() {
            let id = i as i64 + 1;
            client.execute(params![id, at])?;
            card.execute(params![id, code, at])?;
            enrollment.execute(params![id, entry_date, at])?;
        }
        Ok(())
    })?;

    // The rows, made before the clock starts, as the server's are parsed before it writes.
    let rows: Vec<(String, usize, usize)> = (0..n_entries)
        .map(|i| {
            let (client, round) = scan_of(i, n_clients);
            (entry_uuid().to_string(), client, round)
        })
        .collect();
    let scanned_at = Utc::now();
    let cpu = own_cpu();
    let start = Instant::now();
    for chunk in rows.chunks(ENTRIES_PER_REQUEST) {
        immediate(&mut conn, |tx| -> rusqlite::Result<()> {
            let received_at = Utc::now();
            let mut insert = tx.prepare_cached(
                "INSERT INTO batch_entries (uuid, batch_id, code, card_id, client_id,
                     enrollment_id, program_id, service_date, scanned_at, received_at,
                     station_verdict, verdict, warnings, detail, auto_enroll)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?4, 1, ?5, ?6, ?7, 'accepted', 'accepted', '', '', 0)",
            )?;
            for (uuid, client, round) in chunk {
                insert.execute(params![
                    uuid,
                    *round as i64 + 1,
                    fx.codes[*client],
                    *client as i64 + 1,
                    round_date(fx.today, *round),
                    scanned_at,
                    received_at,
                ])?;
            }
            Ok(())
        })?;
    }
    let wall = start.elapsed();
    Ok((wall, cpu_note(cpu, wall)))
}

struct Fetched {
    elapsed: Duration,
    wire_bytes: usize,
    gzip: bool,
    body: Vec<u8>,
}

async fn get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    gzip: bool,
) -> anyhow::Result<Fetched> {
    let start = Instant::now();
    let mut req = http.get(url).bearer_auth(token);
    if gzip {
        req = req.header(reqwest::header::ACCEPT_ENCODING, "gzip");
    }
    let resp = req.send().await?;
    let status = resp.status();
    let encoded = resp
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let body = resp.bytes().await?;
    let elapsed = start.elapsed();
    if !status.is_success() {
        bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(Fetched { elapsed, wire_bytes: body.len(), gzip: encoded, body: body.to_vec() })
}

async fn time_snapshots(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    runs: usize,
) -> anyhow::Result<(Duration, usize, bool)> {
    let url = format!("{base}/api/v1/roster");
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let f = get(http, &url, token, true).await?;
        times.push(f.elapsed);
        last = Some(f);
    }
    let last = last.expect("at least one run");
    Ok((median(times), last.wire_bytes, last.gzip))
}

fn count_rows(path: &Path) -> anyhow::Result<(i64, Vec<(String, i64)>)> {
    let conn = Connection::open(path)?;
    let total: i64 = conn.query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT verdict, COUNT(*) FROM batch_entries GROUP BY verdict ORDER BY COUNT(*) DESC",
    )?;
    let by_verdict =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok((total, by_verdict))
}

/// The same upload work with no HTTP and no JSON: `store::batches::upload` on one connection,
/// one transaction per 200 entries, for a day no entry has touched yet (so verdicts match).
fn store_only_upload(
    path: &Path,
    fx: &Fixture,
    n_entries: usize,
    day: NaiveDate,
) -> anyhow::Result<(Duration, String)> {
    let mut conn = db::open_and_migrate(path)?;
    let auth = stations::authenticate(&conn, &fx.tokens[0])?.context("station 0 authenticates")?;
    let batch = Uuid::new_v4();
    immediate(&mut conn, |tx| {
        batches::create(
            tx,
            batches::Creator::Station(&auth),
            &CreateBatch {
                uuid: batch,
                program_id: fx.program,
                service_type_ids: vec![fx.meal],
                service_date: day,
                units: None,
                unit_value: None,
                description: None,
                auto_post: false,
            },
            Utc::now(),
        )
    })?;
    let n_clients = fx.codes.len();
    let entries: Vec<EntryUpload> = (0..n_entries)
        .map(|i| EntryUpload {
            uuid: entry_uuid(),
            code: fx.codes[i % n_clients].clone(),
            scanned_at: Utc::now(),
            station_verdict: Some(Verdict::Accepted),
            bed_id: None,
        })
        .collect();
    let cpu = own_cpu();
    let start = Instant::now();
    for chunk in entries.chunks(ENTRIES_PER_REQUEST) {
        immediate(&mut conn, |tx| batches::upload(tx, &auth, batch, chunk, Utc::now()))?;
    }
    let wall = start.elapsed();
    Ok((wall, cpu_note(cpu, wall)))
}

/// The snapshot's parts without HTTP: the SQL (`store::roster::snapshot` on a fresh read
/// connection) and serialising it to JSON.
fn snapshot_parts(path: &Path, token: &str) -> anyhow::Result<(Duration, Duration, usize)> {
    let conn = db::open_and_migrate(path)?;
    let auth = stations::authenticate(&conn, token)?.context("station authenticates")?;
    let t = Instant::now();
    let snap = store::roster::snapshot(&conn, &auth)?;
    let sql = t.elapsed();
    let t = Instant::now();
    let json = serde_json::to_vec(&snap)?;
    Ok((sql, t.elapsed(), json.len()))
}

fn main() -> anyhow::Result<()> {
    let n_clients = env_usize("SCANLINE_BENCH_CLIENTS", 100_000)?;
    let n_entries = env_usize("SCANLINE_BENCH_ENTRIES", 100_000)?;
    let v7 = match std::env::var("SCANLINE_BENCH_UUID").as_deref() {
        Ok("v7") | Err(_) => true,
        Ok("v4") => false,
        Ok(other) => bail!("SCANLINE_BENCH_UUID={other}: give v4 or v7"),
    };
    UUID_V7.set(v7).expect("set once");
    let dir = match std::env::var_os("SCANLINE_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let path = dir.path().join("server.db");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "scanline server bench: {n_clients} clients, {} cards, {n_entries} entries, \
         {STATIONS} stations, entry UUIDs {}, {cores} cores, files in {}",
        2 * n_clients,
        if v7 { "v7" } else { "v4" },
        dir.path().display()
    );

    let t = Instant::now();
    let fx = populate(&path, n_clients)?;
    let setup = t.elapsed();
    println!("setup: populated in {:.1} s", setup.as_secs_f64());

    let plans = (0..STATIONS)
        .map(|s| plan_station(s, n_entries, &fx))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let db = Db::open(&path)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app(AppState::new(db))).await {
                eprintln!("server stopped: {e}");
            }
        });
        let http = reqwest::Client::new();
        let token0 = fx.tokens[0].clone();

        // Roster snapshot before any upload: the roster proper.
        let (snap0_time, snap0_bytes, snap0_gzip) =
            time_snapshots(&http, &base, &token0, SNAPSHOT_RUNS).await?;
        println!(
            "roster snapshot (before uploads): median {:.0} ms, {:.2} MB on the wire{}",
            ms(snap0_time),
            mb(snap0_bytes),
            if snap0_gzip { " (gzip)" } else { " (NOT gzip)" }
        );
        let plain0 = get(&http, &format!("{base}/api/v1/roster"), &token0, false).await?;
        let (sql0, json0, _) = snapshot_parts(&path, &token0)?;
        println!(
            "  uncompressed {:.2} MB in {:.0} ms; without HTTP: SQL {:.0} ms, JSON {:.0} ms",
            mb(plain0.wire_bytes),
            ms(plain0.elapsed),
            ms(sql0),
            ms(json0)
        );

        // 3. Upload from 50 concurrent stations.
        let cpu_before = thread_cpu();
        let start = Instant::now();
        let tasks: Vec<_> = plans
            .into_iter()
            .zip(&fx.tokens)
            .map(|(plan, token)| tokio::spawn(run_station(base.clone(), token.clone(), plan)))
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let upload_time = start.elapsed();
        let (upload_cpu, upload_cpu_line) = cpu_between(&cpu_before, &thread_cpu());
        latencies.sort_unstable();
        let upload_rate = n_entries as f64 / upload_time.as_secs_f64();
        println!(
            "upload: {n_entries} entries in {} requests in {:.2} s: {upload_rate:.0} entries/s \
             (request latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms)",
            latencies.len(),
            upload_time.as_secs_f64(),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            ms(percentile(&latencies, 1.0)),
        );
        println!(
            "  cpu during upload: {:.2} s of {:.2} s ({cores} cores x wall):{upload_cpu_line}",
            upload_cpu.as_secs_f64(),
            upload_time.as_secs_f64() * cores as f64,
        );
        let (stored, by_verdict) = count_rows(&path)?;
        let mut verdicts = String::new();
        for (v, n) in &by_verdict {
            let _ = write!(verdicts, " {v}={n}");
        }
        println!("upload: batch_entries holds {stored} rows;{verdicts}");
        ensure!(stored == n_entries as i64, "expected {n_entries} rows, found {stored}");

        // 4. Raw baseline in a fresh file.
        let (raw_time, raw_note) =
            raw_baseline(&dir.path().join("raw.db"), &fx, n_entries, "FULL")?;
        let raw_rate = n_entries as f64 / raw_time.as_secs_f64();
        let ratio = upload_time.as_secs_f64() / raw_time.as_secs_f64();
        println!(
            "raw insert: {n_entries} rows in {:.2} s: {raw_rate:.0} rows/s{raw_note}; server \
             upload is {ratio:.1}x the raw insert time",
            raw_time.as_secs_f64()
        );
        // Diagnostic: the same raw insert without an fsync per commit.
        let (raw_normal, raw_normal_note) =
            raw_baseline(&dir.path().join("raw-normal.db"), &fx, n_entries, "NORMAL")?;
        let raw_normal_rate = n_entries as f64 / raw_normal.as_secs_f64();
        println!(
            "  (diagnostic) raw insert with synchronous=NORMAL: {:.2} s: {raw_normal_rate:.0} \
             rows/s{raw_normal_note}",
            raw_normal.as_secs_f64()
        );

        // 5. Roster snapshot after the uploads (their accepted entries are in `served`).
        let (snap_time, snap_bytes, snap_gzip) =
            time_snapshots(&http, &base, &token0, SNAPSHOT_RUNS).await?;
        let plain = get(&http, &format!("{base}/api/v1/roster"), &token0, false).await?;
        let snapshot: RosterSnapshot = serde_json::from_slice(&plain.body)?;
        let snap_plain_bytes = plain.wire_bytes;
        println!(
            "roster snapshot: median {:.0} ms, {:.2} MB on the wire{}; {:.2} MB uncompressed \
             ({:.0} ms); {} clients, {} cards, {} enrollments, {} served",
            ms(snap_time),
            mb(snap_bytes),
            if snap_gzip { " (gzip)" } else { " (NOT gzip)" },
            mb(plain.wire_bytes),
            ms(plain.elapsed),
            snapshot.clients.len(),
            snapshot.cards.len(),
            snapshot.enrollments.len(),
            snapshot.served.len(),
        );
        let (sql1, json1, _) = snapshot_parts(&path, &token0)?;
        println!("  without HTTP: SQL {:.0} ms, JSON {:.0} ms", ms(sql1), ms(json1));

        // 6. Delta sync after a small change.
        let cursor = snapshot.cursor;
        let rounds = n_entries.div_ceil(n_clients);
        let quiet_day = round_date(fx.today, rounds);
        {
            let mut conn = db::open_and_migrate(&path)?;
            let (today, program, ids) = (fx.today, fx.program, &fx.client_ids);
            immediate(&mut conn, |tx| -> anyhow::Result<()> {
                for &id in ids.iter().take(10) {
                    cards::issue_scanline(tx, id, None)?;
                }
                let barred = ids[10 % ids.len()];
                bars::insert(
                    tx,
                    barred,
                    BarScope::Program(program),
                    today,
                    today + Days::new(30),
                    "benchmark bar",
                    None,
                )?;
                Ok(())
            })?;
        }
        let batch = Uuid::new_v4();
        let create = serde_json::to_vec(&CreateBatch {
            uuid: batch,
            program_id: fx.program,
            service_type_ids: vec![fx.meal],
            service_date: quiet_day,
            units: None,
            unit_value: None,
            description: Some("delta".into()),
            auto_post: false,
        })?;
        post_json(&http, &format!("{base}/api/v1/batches"), &token0, create).await?;
        let few = UploadEntries {
            entries: (20..25)
                .map(|i| EntryUpload {
                    uuid: entry_uuid(),
                    code: fx.codes[i % fx.codes.len()].clone(),
                    scanned_at: Utc::now(),
                    station_verdict: None,
                    bed_id: None,
                })
                .collect(),
        };
        post_json(
            &http,
            &format!("{base}/api/v1/batches/{batch}/entries"),
            &token0,
            serde_json::to_vec(&few)?,
        )
        .await?
        .bytes()
        .await?;
        let delta_url = format!("{base}/api/v1/roster/delta?since={cursor}");
        let mut delta_times = Vec::with_capacity(DELTA_RUNS);
        let mut delta_bytes = 0;
        for _ in 0..DELTA_RUNS {
            let f = get(&http, &delta_url, &token0, true).await?;
            delta_times.push(f.elapsed);
            delta_bytes = f.wire_bytes;
        }
        let delta_time = median(delta_times);
        let plain = get(&http, &delta_url, &token0, false).await?;
        let delta: RosterDelta = serde_json::from_slice(&plain.body)?;
        println!(
            "delta sync: median {:.1} ms, {delta_bytes} bytes on the wire; {} cards, {} \
             clients, {} bars, {} served",
            ms(delta_time),
            delta.cards.len(),
            delta.clients.len(),
            delta.bars.len(),
            delta.served.len(),
        );

        // Diagnostic: the same upload work without HTTP or JSON.
        let store_day = round_date(fx.today, rounds + 1);
        let (store_time, store_note) = store_only_upload(&path, &fx, n_entries, store_day)?;
        let store_rate = n_entries as f64 / store_time.as_secs_f64();
        println!(
            "(diagnostic) store only (batches::upload on one connection, no HTTP): {:.2} s, \
             {store_rate:.0} entries/s{store_note}",
            store_time.as_secs_f64()
        );

        println!();
        println!("== summary ({n_clients} clients, {} cards, {cores} cores) ==", 2 * n_clients);
        println!("setup                    {:>10.1} s", setup.as_secs_f64());
        println!(
            "upload ({STATIONS} stations)     {upload_rate:>10.0} entries/s  ({:.2} s for \
             {n_entries}; target >= 50000)",
            upload_time.as_secs_f64()
        );
        println!("  rows stored            {stored:>10}");
        println!("raw insert (200/commit)  {raw_rate:>10.0} rows/s     ({:.2} s)", raw_time.as_secs_f64());
        println!("upload / raw time        {ratio:>10.1} x          (target <= 2.0)");
        println!("raw, synchronous=NORMAL  {raw_normal_rate:>10.0} rows/s     (diagnostic)");
        println!("store-only upload        {store_rate:>10.0} entries/s  (diagnostic: no HTTP)");
        println!(
            "roster snapshot          {:>10.0} ms         (median of {SNAPSHOT_RUNS}; target < 1000)",
            ms(snap_time)
        );
        println!(
            "  on the wire (gzip)     {:>10.2} MB         (target < 10; uncompressed {:.2} MB)",
            mb(snap_bytes),
            mb(snap_plain_bytes)
        );
        println!(
            "  served entries         {:>10}            (accepted, not yet posted)",
            snapshot.served.len()
        );
        println!(
            "  before uploads         {:>10.0} ms, {:.2} MB on the wire ({:.2} MB uncompressed)",
            ms(snap0_time),
            mb(snap0_bytes),
            mb(plain0.wire_bytes)
        );
        println!(
            "delta sync               {:>10.1} ms         (median of {DELTA_RUNS}; target < 50)",
            ms(delta_time)
        );
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}
