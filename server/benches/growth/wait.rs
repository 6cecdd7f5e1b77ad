//! What the growth bench times against the running server, the way stations and staff wait
//! for it: roster snapshot and delta, the find-client page, and uploads from many stations.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use chrono::{Days, Utc};
use scanline_core::verdict::Verdict;
use scanline_core::wire::{CreateBatch, EntryUpload, UploadEntries};
use scanline_server::db;
use scanline_server::store::cards;
use uuid::Uuid;

use crate::Fixture;
use crate::measure::{mb, median, ms, percentile};

/// The one field of a roster snapshot a delta needs.
#[derive(serde::Deserialize)]
struct Cursor {
    cursor: i64,
}

/// Searches timed per way of searching.
pub(crate) const SEARCHES: usize = 100;
const SNAPSHOT_RUNS: usize = 3;
const DELTA_RUNS: usize = 10;
const ENTRIES_PER_REQUEST: usize = 200;

/// One roster size's figures.
pub(crate) struct BySize {
    pub clients: usize,
    pub snapshot_ms: f64,
    pub snapshot_mb: f64,
    pub delta_ms: f64,
    /// The worst p99 of the ways staff search.
    pub find_p99_ms: f64,
    pub upload_rate: f64,
    pub upload_p99_ms: f64,
}

/// One station count's upload figures.
pub(crate) struct ByStations {
    pub stations: usize,
    pub upload_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The size sweep's upload: how many entries from how many stations, and the first day no
/// earlier run has scanned on (counting back from today).
pub(crate) struct Plan<'a> {
    pub n_clients: usize,
    pub entries: usize,
    pub stations: usize,
    pub next_day: &'a mut u64,
}

/// Starts the server on `path` and measures one roster size, then (when `counts` is not empty)
/// the same upload from each number of stations.
pub(crate) async fn measure(
    path: &Path,
    fx: &Fixture,
    plan: Plan<'_>,
    counts: &[usize],
) -> anyhow::Result<(BySize, Vec<ByStations>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server_db = db::Db::open(path)?;
    tokio::spawn(async move { scanline_server::serve::serve(server_db, listener).await });
    let http = reqwest::Client::new();
    let token = &fx.tokens[0];

    let roster = format!("{base}/api/v1/roster");
    let mut times = Vec::new();
    let mut wire = 0;
    for _ in 0..SNAPSHOT_RUNS {
        let (t, body) = get(&http, &roster, Some(token), None, true).await?;
        times.push(t);
        wire = body.len();
    }
    let snapshot = median(times);
    let (_, plain) = get(&http, &roster, Some(token), None, false).await?;
    let cursor = serde_json::from_slice::<Cursor>(&plain)?.cursor;
    drop(plain);
    println!("  roster snapshot: median {:.0} ms, {:.2} MB on the wire", ms(snapshot), mb(wire));

    // Ten cards reissued, as a desk does in a morning; a station then asks what changed.
    {
        let conn = db::open_and_migrate(path)?;
        for id in 1..=10_i64.min(plan.n_clients as i64) {
            cards::issue_scanline(&conn, id, None)?;
        }
    }
    let delta_url = format!("{base}/api/v1/roster/delta?since={cursor}");
    let mut times = Vec::new();
    for _ in 0..DELTA_RUNS {
        times.push(get(&http, &delta_url, Some(token), None, true).await?.0);
    }
    let delta = median(times);
    println!("  delta sync: median {:.1} ms", ms(delta));

    let mut find_p99 = Duration::ZERO;
    for (label, queries) in &fx.searches {
        for q in queries.iter().take(10) {
            find(&http, &base, &fx.cookie, q).await?;
        }
        let mut times = Vec::with_capacity(queries.len());
        for q in queries {
            times.push(find(&http, &base, &fx.cookie, q).await?);
        }
        times.sort_unstable();
        let p99 = percentile(&times, 0.99);
        find_p99 = find_p99.max(p99);
        println!(
            "  find page, {label}: p50 {:.2} ms, p99 {:.2} ms",
            ms(percentile(&times, 0.5)),
            ms(p99)
        );
    }

    let (rate, _, p99) =
        upload(path, &base, fx, plan.entries, plan.stations, plan.next_day).await?;
    let size = BySize {
        clients: plan.n_clients,
        snapshot_ms: ms(snapshot),
        snapshot_mb: mb(wire),
        delta_ms: ms(delta),
        find_p99_ms: ms(find_p99),
        upload_rate: rate,
        upload_p99_ms: ms(p99),
    };
    let mut sweep = Vec::new();
    for &stations in counts {
        let (rate, p50, p99) =
            upload(path, &base, fx, plan.entries, stations, plan.next_day).await?;
        sweep.push(ByStations { stations, upload_rate: rate, p50_ms: ms(p50), p99_ms: ms(p99) });
    }
    Ok((size, sweep))
}

async fn get(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    cookie: Option<&str>,
    gzip: bool,
) -> anyhow::Result<(Duration, Vec<u8>)> {
    let t = Instant::now();
    let mut req = http.get(url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(cookie) = cookie {
        req = req.header(reqwest::header::COOKIE, cookie);
    }
    if gzip {
        req = req.header(reqwest::header::ACCEPT_ENCODING, "gzip");
    }
    let resp = req.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let elapsed = t.elapsed();
    if !status.is_success() {
        bail!("GET {url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok((elapsed, body.to_vec()))
}

async fn find(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    q: &str,
) -> anyhow::Result<Duration> {
    let mut url = reqwest::Url::parse(&format!("{base}/clients"))?;
    url.query_pairs_mut().append_pair("q", q);
    Ok(get(http, url.as_str(), None, Some(cookie), true).await?.0)
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: Vec<u8>) -> anyhow::Result<()> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    let text = resp.bytes().await?;
    if !status.is_success() {
        bail!("POST {url}: {status}: {}", String::from_utf8_lossy(&text));
    }
    Ok(())
}

/// One station's batches, serialized before the clock starts: (creation, uploads) per batch.
type Batches = Vec<(Vec<u8>, String, Vec<Vec<u8>>)>;

/// The `entries` entries split over `stations` stations: entry `i` scans client `i mod n` on
/// the day `first_day + i / n` days back, from station `i mod stations`, one batch per station
/// and day.
fn plan(
    fx: &Fixture,
    entries: usize,
    stations: usize,
    first_day: u64,
) -> anyhow::Result<Vec<Batches>> {
    let n = fx.codes.len();
    let mut out = Vec::with_capacity(stations);
    for s in 0..stations {
        let mut days: Vec<(u64, Vec<EntryUpload>)> = Vec::new();
        for i in (s..entries).step_by(stations) {
            let day = first_day + (i / n) as u64;
            if days.last().is_none_or(|(d, _)| *d != day) {
                days.push((day, Vec::new()));
            }
            if let Some((_, list)) = days.last_mut() {
                list.push(EntryUpload {
                    uuid: Uuid::now_v7(),
                    code: fx.codes[i % n].clone(),
                    scanned_at: Utc::now(),
                    station_verdict: Some(Verdict::Accepted),
                    bed_id: None,
                });
            }
        }
        let mut batches = Vec::new();
        for (day, list) in days {
            let uuid = Uuid::new_v4();
            let create = serde_json::to_vec(&CreateBatch {
                uuid,
                program_id: fx.program,
                service_type_ids: vec![fx.meal],
                service_date: fx.today - Days::new(day),
                units: None,
                unit_value: None,
                description: Some(format!("growth line {s} day {day}")),
                auto_post: false,
            })?;
            let uploads = list
                .chunks(ENTRIES_PER_REQUEST)
                .map(|c| serde_json::to_vec(&UploadEntries { entries: c.to_vec() }))
                .collect::<Result<_, _>>()?;
            batches.push((create, uuid.to_string(), uploads));
        }
        out.push(batches);
    }
    Ok(out)
}

fn stored(path: &Path) -> anyhow::Result<i64> {
    let conn = rusqlite::Connection::open(path)?;
    Ok(conn.query_row("SELECT COUNT(*) FROM batch_entries", [], |r| r.get(0))?)
}

/// Uploads `entries` entries from `stations` concurrent stations; returns entries per second
/// and the p50 and p99 of an upload request, after checking every entry is stored.
async fn upload(
    path: &Path,
    base: &str,
    fx: &Fixture,
    entries: usize,
    stations: usize,
    next_day: &mut u64,
) -> anyhow::Result<(f64, Duration, Duration)> {
    ensure!(stations <= fx.tokens.len(), "{stations} stations, {} made", fx.tokens.len());
    let plans = plan(fx, entries, stations, *next_day)?;
    *next_day += entries.div_ceil(fx.codes.len()) as u64;
    let before = stored(path)?;
    let start = Instant::now();
    let tasks: Vec<_> = plans
        .into_iter()
        .zip(&fx.tokens)
        .map(|(batches, token)| {
            let (base, token) = (base.to_owned(), token.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut latencies = Vec::new();
                for (create, uuid, uploads) in batches {
                    post(&http, &format!("{base}/api/v1/batches"), &token, create).await?;
                    let url = format!("{base}/api/v1/batches/{uuid}/entries");
                    for body in uploads {
                        let t = Instant::now();
                        post(&http, &url, &token, body).await?;
                        latencies.push(t.elapsed());
                    }
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let wall = start.elapsed();
    latencies.sort_unstable();
    let added = stored(path)? - before;
    ensure!(added == entries as i64, "{entries} entries uploaded, {added} stored");
    let rate = entries as f64 / wall.as_secs_f64();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!(
        "  upload from {stations} stations: {rate:.0} entries/s, request p50 {:.1} ms, p99 {:.1} ms",
        ms(p50),
        ms(p99)
    );
    Ok((rate, p50, p99))
}
