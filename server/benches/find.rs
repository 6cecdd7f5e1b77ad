//! Find client among a million clients (DESIGN §15: p99 under 50 ms). It fills a file database
//! (WAL, synchronous=FULL, the real migrations) with `SCANLINE_BENCH_CLIENTS` synthetic clients
//! (default 1,000,000; made-up names, dates of birth, SSNs and a card each, some restricted),
//! then times `store::clients::search` (the query the find-client page runs, visibility rules
//! included) for each way staff search: first letters of first and last name, last name
//! alone, date of birth, SSN last 4, client number and a scanned card. It then times the same
//! searches through the page, as staff wait for them: `GET /clients?q=...` from a signed-in
//! caseworker over HTTP on loopback to the real server (the whole page: session check, search,
//! the page drawn, compressed; a scanned card opens the client's dashboard, which is then part
//! of the wait). It prints p50, p99 and max per kind and way; it asserts nothing.
//!
//! Run: `cargo bench -p scanline-server --bench find`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use rusqlite::params;
use scanline_core::ScanlineCode;
use scanline_server::db;
use scanline_server::store::clients::{self, ClientQuery};
use scanline_server::store::sessions;
use scanline_server::store::users::{self, Role};

const FIRST: &[&str] = &[
    "Ana", "Ben", "Carla", "Dario", "Elena", "Femi", "Grace", "Hugo", "Ines", "Jamal", "Keiko",
    "Luis", "Mara", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tess", "Umar", "Vera",
    "Wen", "Yusuf",
];
const SYLLABLES: &[&str] = &[
    "al", "bro", "cas", "dun", "el", "fair", "gal", "hol", "ib", "jes", "kes", "lind", "mar",
    "nav", "oak", "pem", "quil", "row", "sor", "thack", "und", "val", "whit", "yard",
];
/// Searches timed per kind.
const QUERIES: usize = 300;

/// A small deterministic generator, so every run builds the same agency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn last_name(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..3 {
        s.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
    }
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn dob(rng: &mut Rng) -> NaiveDate {
    NaiveDate::from_ymd_opt(
        1940 + rng.below(66) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
    .expect("day 1 to 28 exists")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("SCANLINE_BENCH_CLIENTS")
        .ok()
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("find.db");
    let mut conn = db::open_and_migrate(&path)?;
    let start = Instant::now();
    let mut rng = Rng(0x5eed_1234_abcd);
    {
        let tx = conn.transaction()?;
        tx.execute("INSERT INTO organizations (name, time_zone, created_at) VALUES ('A', 'UTC', '2026-01-01T00:00:00Z'), ('B', 'UTC', '2026-01-01T00:00:00Z')", [])?;
        let mut client = tx.prepare(
            "INSERT INTO clients (id, organization_id, client_number, first_name, last_name, dob,
                 dob_data_quality, ssn, ssn_data_quality, restricted, created_at, updated_at)
             VALUES (?1, ?2, ?1, ?3, ?4, ?5, 1, ?6, 1, ?7, '2026-01-01T00:00:00Z',
                 '2026-01-01T00:00:00Z')",
        )?;
        let mut card = tx.prepare(
            "INSERT INTO cards (code, client_id, kind, seq, issued_at) VALUES (?1, ?2, 'scanline', 1, '2026-01-01T00:00:00Z')",
        )?;
        for i in 1..=n {
            let ssn = format!("{:09}", rng.next() % 1_000_000_000);
            client.execute(params![
                i as i64,
                1 + (i % 2) as i64,
                FIRST[rng.below(FIRST.len())],
                last_name(&mut rng),
                dob(&mut rng),
                ssn,
                i % 50 == 0,
            ])?;
            card.execute(params![ScanlineCode::new(i as u32, 1)?.encode(), i as i64])?;
        }
        drop(client);
        drop(card);
        tx.commit()?;
    }
    conn.execute_batch("ANALYZE;")?;
    println!("find-client bench: {n} clients, made in {:.1} s", start.elapsed().as_secs_f64());

    let viewer_orgs = [1_i64];
    let mut kinds: Vec<(&str, Vec<ClientQuery>)> = Vec::new();
    let mut names = Vec::new();
    let mut lasts = Vec::new();
    let mut dobs = Vec::new();
    let mut ssns = Vec::new();
    let mut numbers = Vec::new();
    let mut cards = Vec::new();
    // What staff type into the search box for the same searches, kind by kind.
    let mut typed: Vec<Vec<String>> = vec![Vec::new(); 6];
    for _ in 0..QUERIES {
        let id = 1 + rng.below(n) as i64;
        let (first, last, d, ssn): (String, String, NaiveDate, String) = conn.query_row(
            "SELECT first_name, last_name, dob, ssn FROM clients WHERE id = ?",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        names.push(ClientQuery::Names {
            first: first[..2].to_lowercase(),
            last: last[..3].to_lowercase(),
        });
        lasts.push(ClientQuery::Names { first: String::new(), last: last[..4].to_lowercase() });
        dobs.push(ClientQuery::Dob(d));
        ssns.push(ClientQuery::Ssn4(ssn[5..].to_owned()));
        numbers.push(ClientQuery::Number(id as u32));
        let code = ScanlineCode::new(id as u32, 1)?.encode();
        for (k, t) in [
            format!("{} {}", &first[..2], &last[..3]),
            last[..4].to_owned(),
            d.to_string(),
            ssn[5..].to_owned(),
            format!("#{id}"),
            code.clone(),
        ]
        .into_iter()
        .enumerate()
        {
            typed[k].push(t);
        }
        cards.push(ClientQuery::Card(code));
    }
    kinds.push(("first letters of first and last name", names));
    kinds.push(("last name, 4 letters", lasts));
    kinds.push(("date of birth", dobs));
    kinds.push(("SSN last 4", ssns));
    kinds.push(("client number", numbers));
    kinds.push(("scanned card", cards));

    println!("{:<38} {:>9} {:>9} {:>9} {:>9}", "search", "p50 ms", "p99 ms", "max ms", "results");
    let mut worst = Duration::ZERO;
    for (label, queries) in &kinds {
        let mut times = Vec::with_capacity(queries.len());
        let mut found = 0usize;
        for q in queries {
            let t = Instant::now();
            let rows = clients::search(&conn, &viewer_orgs, q, 51).context("search")?;
            times.push(t.elapsed());
            found += rows.len();
        }
        times.sort();
        let p99 = percentile(&times, 0.99);
        worst = worst.max(p99);
        println!(
            "{label:<38} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            found as f64 / queries.len() as f64
        );
    }
    println!("worst p99 {:.2} ms (target < 50 ms)", worst.as_secs_f64() * 1e3);

    // Through the page, as a caseworker of organization 1 signed in.
    let user = users::insert(
        &conn,
        "bench.staff",
        "Bench Staff",
        "a long bench password",
        1,
        Role::Staff,
    )?;
    let session = sessions::create(&conn, user)?;
    drop(conn);
    let labels: Vec<&str> = kinds.iter().map(|(l, _)| *l).collect();
    let page = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(through_the_page(&path, &session, &labels, &typed))?;
    println!("worst page p99 {:.2} ms (target < 20 ms)", page.as_secs_f64() * 1e3);
    Ok(())
}

/// Times `GET /clients?q=` for every search typed, kind by kind, against the real server on
/// loopback; returns the worst p99.
async fn through_the_page(
    path: &std::path::Path,
    session: &str,
    labels: &[&str],
    typed: &[Vec<String>],
) -> anyhow::Result<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let db = db::Db::open(path)?;
    tokio::spawn(async move { scanline_server::serve::serve(db, listener).await });
    let http = reqwest::Client::builder().build()?;
    let cookie = format!("scanline_session={session}");
    let get = async |q: &str| -> anyhow::Result<Duration> {
        let t = Instant::now();
        let resp = http
            .get(format!("{base}/clients"))
            .query(&[("q", q)])
            .header("cookie", &cookie)
            .header("accept-encoding", "gzip")
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "GET /clients?q={q}: {}", resp.status());
        resp.bytes().await?;
        Ok(t.elapsed())
    };
    // A warm-up, as a desk that has been open for a while.
    for q in typed.iter().flatten().take(20) {
        get(q).await?;
    }
    println!(
        "{:<38} {:>9} {:>9} {:>9}",
        "search page (GET /clients?q=)", "p50 ms", "p99 ms", "max ms"
    );
    let mut worst = Duration::ZERO;
    for (label, queries) in labels.iter().zip(typed) {
        let mut times = Vec::with_capacity(queries.len());
        for q in queries {
            times.push(get(q).await?);
        }
        times.sort();
        let p99 = percentile(&times, 0.99);
        worst = worst.max(p99);
        println!(
            "{label:<38} {:>9.2} {:>9.2} {:>9.2}",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
    Ok(worst)
}
