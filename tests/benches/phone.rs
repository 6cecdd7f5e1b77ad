//! The phone station in headless Chromium at a phone's size (DESIGN §17.3): what a phone
//! downloads to become a station, and the time from a card number entered to its verdict on the
//! screen (judged by the WebAssembly rules and kept in IndexedDB first), p50 and p99.
//!
//! Needs the release binaries and chromedriver:
//! `cargo build --release --workspace --bins && cargo bench -p scanline-tests --bench phone`.
//! `SCANLINE_BENCH_CLIENTS` (default 5,000) sets the roster, `SCANLINE_BENCH_SCANS` (default
//! 500) the scans, each of a different card.

use std::io::Read;

use fantoccini::Locator;
use scanline_tests::pages::resize;
use scanline_tests::{Browser, Line, StationClient};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let clients = env("SCANLINE_BENCH_CLIENTS", 5000);
    let line = Line::start(clients as u32, false, 1).await;
    let base = format!("http://127.0.0.1:{}", line.port);
    let cards = line.cards();
    let scans = env("SCANLINE_BENCH_SCANS", 500).min(cards.good.len());

    // The download: the page and what the service worker keeps, then the roster, compressed as
    // the server sends it.
    let http = reqwest::Client::new();
    let (mut shell, mut shell_gz) = (0, 0);
    let files = ["/station/", "/station/phone.js", "/station/sw.js", "/static/phone.wasm"];
    let more = ["/static/camera.js", "/static/reader.wasm", "/static/staff.css"];
    for path in files.into_iter().chain(more) {
        let get = |gzip: bool| {
            let req = http.get(format!("{base}{path}"));
            let req = if gzip { req.header("accept-encoding", "gzip") } else { req };
            async move { req.send().await.unwrap().bytes().await.unwrap().len() }
        };
        let (plain, gz) = (get(false).await, get(true).await);
        println!("  {path:<22} {plain:>9} bytes, {gz:>9} as sent compressed");
        shell += plain;
        shell_gz += gz;
    }
    let token = std::fs::read_to_string(&line.agency.token).unwrap();
    let api = StationClient::new(&base, &token);
    let roster = api
        .http
        .get(format!("{base}/api/v1/roster"))
        .bearer_auth(token.trim())
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut plain = Vec::new();
    gunzip(&roster, &mut plain);

    let b = Browser::start().await;
    resize(&b, 390, 844).await;
    b.sign_in_admin(&base, line.agency.dir.path()).await;
    b.client.goto(&format!("{base}/station/")).await.unwrap();
    b.wait_for("#start", "the start form", |t| t.contains("Start station")).await;
    b.client.find(Locator::Css("#start button")).await.unwrap().click().await.unwrap();
    b.wait_text("#link", "● Online").await;

    // Each code entered as the form would be, and timed until the scan count moves: the scan
    // is judged, stored, shown.
    let codes = serde_json::json!(cards.good[..scans]);
    let times = b
        .client
        .execute_async(
            "const [codes, done] = arguments; const field = document.getElementById('code');
             const form = document.getElementById('manual'); const counts = document.getElementById('counts');
             const out = [];
             (async () => {
               for (const code of codes) {
                 const before = counts.textContent;
                 const shown = new Promise((ok) => { const o = new MutationObserver(() => { if (counts.textContent !== before) { o.disconnect(); ok(); } }); o.observe(counts, { childList: true, characterData: true, subtree: true }); });
                 const t0 = performance.now(); field.value = code; form.requestSubmit(); await shown;
                 out.push(performance.now() - t0);
               }
               done(out);
             })();",
            vec![codes],
        )
        .await
        .unwrap();
    let mut ms: Vec<f64> = times.as_array().unwrap().iter().map(|t| t.as_f64().unwrap()).collect();
    ms.sort_by(f64::total_cmp);
    b.close().await;

    println!("phone station ({clients} clients, {scans} scans, headless Chromium at 390×844)");
    println!("  download to become a station: {shell} bytes of page, scripts and WebAssembly");
    println!("    ({shell_gz} bytes as sent compressed),");
    println!(
        "    then the roster: {} bytes compressed ({} bytes of JSON)",
        roster.len(),
        plain.len()
    );
    println!(
        "  entered card to verdict shown: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&ms, 0.50),
        percentile(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

/// The roster unpacked, by a `gzip -dc` process: no gzip decoder is a dependency here.
fn gunzip(gz: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .args(["-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(gz).unwrap();
    child.stdout.take().unwrap().read_to_end(out).unwrap();
    child.wait().unwrap();
}
