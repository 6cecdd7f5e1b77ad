//! Station upload latency under a sign-in flood (DESIGN §13, §15): one station uploads scans
//! twenty at a time while sixteen clients send sign-ins with random usernames as fast as they
//! are answered. The server runs in-process on a file database and real sockets. Three runs,
//! each against a fresh server: no flood (the floor); a flood from one address (what the
//! per-address throttle answers at once); and a flood that the throttle lets through to the
//! password checks (as a flood from many addresses would be), which shows the bounded pool of
//! checks off the database writer. It prints p50 and p99 and the ratio to the floor; it
//! asserts no timings.
//!
//! Run: `cargo bench -p scanline-server --bench signin_flood`.

#[path = "common/guests.rs"]
mod guests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use scanline_server::app::app;
use scanline_server::db::{self, Db, immediate};
use scanline_server::state::AppState;
use scanline_server::store::{StoreError, orgs, programs, stations, users};
use scanline_server::throttle::SignIns;

const CLIENTS: usize = 2_000;
const REQUESTS: usize = 300;
const PER_REQUEST: usize = 20;
const FLOODERS: usize = 16;

struct Fixture {
    token: String,
    program: i64,
    meal: i64,
    codes: Vec<String>,
}

fn populate(path: &std::path::Path) -> anyhow::Result<Fixture> {
    let mut conn = db::open_and_migrate(path)?;
    Ok(immediate(&mut conn, |tx| {
        let org = orgs::insert(tx, "Bench Agency", "America/Los_Angeles")?;
        let program = programs::insert(tx, &programs::NewProgram::meal_line(org, "Meals"))?;
        let meal = programs::insert_service_type(
            tx,
            &programs::NewServiceType::simple(program.0, "Meal"),
        )?;
        let (_, token) = stations::insert(tx, org, "Line", &[program.0])?;
        users::insert(tx, "desk", "Desk", "a long bench password", org, users::Role::Staff)?;
        let mut codes = Vec::with_capacity(CLIENTS);
        for i in 0..CLIENTS {
            let name = format!("Guest{i}");
            codes.push(guests::enrolled_with_card(tx, org, program.0, (&name, "Bench"))?.1);
        }
        Ok::<_, StoreError>(Fixture { token, program: program.0, meal, codes })
    })?)
}

/// A server on a fresh copy of the fixture, with the given sign-in throttle; returns its URL.
async fn serve(
    fixture_db: &std::path::Path,
    dir: &std::path::Path,
    sign_ins: SignIns,
) -> anyhow::Result<String> {
    let path = dir.join(format!("run-{}.db", uuid::Uuid::new_v4()));
    std::fs::copy(fixture_db, &path)?;
    let state = AppState { sign_ins: Arc::new(sign_ins), ..AppState::new(Db::open(&path)?) };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    Ok(url)
}

async fn flood(
    http: reqwest::Client,
    url: String,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    n: usize,
) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let Ok(form) = http.get(format!("{url}/login")).send().await else { continue };
        let cookie = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("scanline_login="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let body = form.text().await.unwrap_or_default();
        let csrf = body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_owned();
        let user = format!("nobody-{n}-{i}");
        let _ = http
            .post(format!("{url}/login"))
            .header("cookie", cookie)
            .form(&[("username", user.as_str()), ("password", "guess"), ("csrf", csrf.as_str())])
            .send()
            .await;
        sent.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
}

/// Uploads `REQUESTS` requests one after another; returns each request's latency.
async fn station(http: &reqwest::Client, url: &str, fx: &Fixture) -> anyhow::Result<Vec<Duration>> {
    let today = chrono::Utc::now().with_timezone(&chrono_tz::America::Los_Angeles).date_naive();
    let batch = uuid::Uuid::now_v7();
    let auth = format!("Bearer {}", fx.token);
    http.post(format!("{url}/api/v1/batches"))
        .header("authorization", &auth)
        .json(&serde_json::json!({"uuid": batch, "program_id": fx.program,
                                   "service_type_ids": [fx.meal], "service_date": today}))
        .send()
        .await?
        .error_for_status()?;
    let mut times = Vec::with_capacity(REQUESTS);
    for r in 0..REQUESTS {
        let entries: Vec<_> = (0..PER_REQUEST)
            .map(|k| {
                serde_json::json!({"uuid": uuid::Uuid::now_v7(),
                    "code": fx.codes[(r * PER_REQUEST + k) % fx.codes.len()],
                    "scanned_at": chrono::Utc::now()})
            })
            .collect();
        let start = Instant::now();
        http.post(format!("{url}/api/v1/batches/{batch}/entries"))
            .header("authorization", &auth)
            .json(&serde_json::json!({ "entries": entries }))
            .send()
            .await?
            .error_for_status()
            .context("a station upload failed")?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let fixture_db = dir.path().join("fixture.db");
    let fx = populate(&fixture_db)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()?;
    println!(
        "sign-in flood: one station uploading {REQUESTS} requests of {PER_REQUEST} scans, {FLOODERS} flooding clients"
    );
    let mut floor = None;
    for (name, throttle, flooding) in [
        ("no flood (floor)", SignIns::default(), false),
        ("flood from one address (throttled)", SignIns::default(), true),
        ("flood past the throttle (password checks)", SignIns::new(1, usize::MAX), true),
    ] {
        let (times, sent, secs) = rt.block_on(async {
            let url = serve(&fixture_db, dir.path(), throttle).await?;
            let stop = Arc::new(AtomicBool::new(false));
            let sent = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            if flooding {
                for n in 0..FLOODERS {
                    tasks.push(tokio::spawn(flood(
                        http.clone(),
                        url.clone(),
                        stop.clone(),
                        sent.clone(),
                        n,
                    )));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let start = Instant::now();
            let times = station(&http, &url, &fx).await?;
            let secs = start.elapsed().as_secs_f64();
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                let _ = t.await;
            }
            Ok::<_, anyhow::Error>((times, sent.load(Ordering::Relaxed), secs))
        })?;
        let (p50, p99) = (pct(&times, 0.5), pct(&times, 0.99));
        let ratio = match floor {
            None => {
                floor = Some((p50, p99));
                String::new()
            }
            Some((f50, f99)) => format!(
                "  ({:.2}x p50, {:.2}x p99 of the floor; target within 2x)",
                p50 / f50,
                p99 / f99
            ),
        };
        println!(
            "  {name:<44} upload p50 {p50:6.2} ms  p99 {p99:6.2} ms{ratio}  [{:.0} sign-ins/s]",
            sent as f64 / secs
        );
    }
    Ok(())
}
