//! Scanner to screen (DESIGN §15): the time from a scan's bytes written to a serial scanner's
//! pseudo-terminal to its verdict event read by a kiosk client from the station's event stream
//! (`GET /events`), through the real station process (serial read, decode, judge against the
//! roster cache, durable commit, event) with the real server process behind it. The floor is a
//! bare durable insert-and-commit (`scanline_tests::floor`) on the same disk in the same run,
//! measured in rounds alternating with the scans.
//!
//! Three series: the station online and idle between scans; offline, while a backlog builds up;
//! and online again while the station uploads that backlog (`SCANLINE_BENCH_BACKLOG` entries,
//! default 10,000, `SCANLINE_BENCH_CYCLES` times, default 5), so the upload's writes to the
//! station database meet the scans'. One cycle more puts the floor's commits in the scans'
//! place while a backlog is sent, for what the disk gives a durable commit meanwhile (the
//! server's commits share it here). Scans come one at a time, each of a different enrolled
//! client, `PACE` apart (back to back while offline, to build the backlog), and a kiosk page's
//! reads of the status and review list come every `PAGE_REFRESH` meanwhile.
//!
//! Needs the release binaries:
//! `cargo build --release --workspace --bins && cargo bench -p scanline-tests --bench scanner_to_screen`.
//! `SCANLINE_BENCH_CLIENTS` (default 100,000) sets the roster and `SCANLINE_BENCH_SCANS`
//! (default 2,000) the scans of the first series. It prints figures; it asserts no timings,
//! only that every scan got its verdict and every entry reached the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use scanline_tests::floor::{DurableFloor, ms, quantile};
use scanline_tests::peek::ServerDb;
use scanline_tests::{FakeScanner, Kiosk, Line, serve};

const ROUNDS: usize = 5;
/// Between one verdict and the next scan: a fast line, still leaving the station's background
/// work (the upload each scan wakes) room to meet the next scan.
const PACE: Duration = Duration::from_millis(10);
/// The station's upload is done when the kiosk's status shows no more than this left (scans
/// keep coming meanwhile).
const DRAINED: i64 = 5;
/// How often the kiosk page reads the status and the review list while scans come.
const PAGE_REFRESH: Duration = Duration::from_millis(150);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// Reads the kiosk's event stream in a thread; sends each scan event's data with the instant
/// its last byte arrived.
fn subscribe(kiosk: &str) -> anyhow::Result<mpsc::Receiver<(Instant, String)>> {
    let addr = kiosk.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).context("connecting to the kiosk")?;
    stream.set_nodelay(true)?;
    write!(stream, "GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n")?;
    let mut reader = BufReader::new(stream);
    let mut chunked = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let h = header.trim().to_ascii_lowercase();
        if h.is_empty() {
            break;
        }
        chunked |= h == "transfer-encoding: chunked";
    }
    ensure!(chunked, "the event stream is not chunked");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pending = String::new();
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).unwrap_or(0) == 0 {
                return;
            }
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return };
            let mut chunk = vec![0; n + 2];
            if reader.read_exact(&mut chunk).is_err() || n == 0 {
                return;
            }
            let at = Instant::now();
            pending.push_str(&String::from_utf8_lossy(&chunk[..n]));
            while let Some(end) = pending.find("\n\n") {
                let event: String = pending.drain(..end + 2).collect();
                for data in event.lines().filter_map(|l| l.strip_prefix("data:")) {
                    let data = data.trim_start();
                    if data.contains(r#""type":"scan""#) && tx.send((at, data.to_owned())).is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    Ok(rx)
}

/// One scan, timed from its first byte written to its verdict event read.
fn scan(
    scanner: &mut FakeScanner,
    events: &mpsc::Receiver<(Instant, String)>,
    code: &str,
) -> anyhow::Result<Duration> {
    while events.try_recv().is_ok() {}
    let start = Instant::now();
    scanner.scan(code);
    let (at, data) =
        events.recv_timeout(Duration::from_secs(10)).context("no verdict within 10 s")?;
    if !data.contains(r#""verdict":"accepted""#) {
        bail!("card {code} was not accepted: {data}");
    }
    Ok(at.saturating_duration_since(start))
}

struct Stats {
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    Stats {
        n: v.len(),
        p50: quantile(&v, 0.50),
        p99: quantile(&v, 0.99),
        max: v.last().copied().unwrap_or_default(),
    }
}

fn print_series(name: &str, s: &Stats) {
    println!(
        "  {name:<44} p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms   ({} samples)",
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        s.n
    );
}

/// What the kiosk page emulation saw: the time of each of its reads (for the diagnostic line)
/// and the last outbox depth the status showed, with when.
#[derive(Default)]
struct Page {
    reads: Vec<Duration>,
    pending: Option<(Instant, i64)>,
}

/// Reads the kiosk's status and review list every `PAGE_REFRESH`, as the kiosk page does while
/// scans come (it refreshes both shortly after each event).
fn kiosk_page(rt: &tokio::runtime::Runtime, kiosk: &Kiosk) -> Arc<Mutex<Page>> {
    let (page, kiosk) = (Arc::new(Mutex::new(Page::default())), kiosk.clone());
    let out = Arc::clone(&page);
    rt.spawn(async move {
        loop {
            tokio::time::sleep(PAGE_REFRESH).await;
            let start = Instant::now();
            let status = kiosk.get("/api/status").await;
            kiosk.get("/api/entries").await;
            let mut page = out.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            page.reads.push(start.elapsed());
            page.pending = status["outbox_pending"].as_i64().map(|p| (start, p));
        }
    });
    page
}

/// When the page saw the station's backlog sent (all but `DRAINED`), if it has since `since`.
fn drained_at(page: &Mutex<Page>, since: Instant) -> Option<Instant> {
    let page = page.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    page.pending.and_then(|(at, pending)| (at > since && pending <= DRAINED).then_some(at))
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let clients = env("SCANLINE_BENCH_CLIENTS", 100_000);
    let n_scans = env("SCANLINE_BENCH_SCANS", 2_000);
    let backlog = env("SCANLINE_BENCH_BACKLOG", 10_000);
    let cycles = env("SCANLINE_BENCH_CYCLES", 5);
    let mut line = rt.block_on(Line::start(u32::try_from(clients)?, true, 0));
    let mut cards = line.cards().good.into_iter();
    let events = subscribe(&line.station.kiosk)?;
    let mut floor = DurableFloor::open(line.agency.dir.path())?;
    let Some(mut scanner) = line.scanner.take() else { bail!("the line has no scanner") };
    let page = kiosk_page(&rt, &line.kiosk);
    let mut next = || cards.next().context("more scans than enrolled clients");

    // 1. Online and idle between scans, alternating with the floor.
    for _ in 0..20 {
        scan(&mut scanner, &events, &next()?)?;
        floor.commit_one()?;
    }
    let (mut online, mut floors) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for _ in 0..n_scans / ROUNDS {
            std::thread::sleep(PACE);
            online.push(scan(&mut scanner, &events, &next()?)?);
        }
        for _ in 0..n_scans / ROUNDS {
            std::thread::sleep(PACE);
            floors.push(floor.commit_one()?);
        }
    }

    // 2. and 3., a few times over: the server goes away and the station's backlog grows; the
    // server comes back and the station uploads the backlog while scans go on.
    let kiosk = line.kiosk.clone();
    let (mut offline, mut uploading, mut took, mut sent) =
        (Vec::new(), Vec::new(), Duration::ZERO, 0);
    // One cycle more, in which the floor's commits take the scans' place while the backlog is
    // sent: what the disk gives a durable commit while the upload writes to it.
    let mut floor_uploading = Vec::new();
    for cycle in 0..=cycles {
        let measure_floor = cycle == cycles;
        drop(line.server.take());
        for _ in 0..backlog {
            offline.push(scan(&mut scanner, &events, &next()?)?);
        }
        let before = rt.block_on(kiosk.get("/api/status"))["outbox_pending"].as_i64().unwrap_or(0);
        ensure!(before >= backlog as i64, "only {before} entries waited to be sent");
        line.server = Some(serve(&line.agency.db, line.port));
        let restarted = Instant::now();
        let at = loop {
            if let Some(at) = drained_at(&page, restarted) {
                break at;
            }
            ensure!(restarted.elapsed() < Duration::from_secs(300), "the backlog was not sent");
            std::thread::sleep(PACE);
            if measure_floor {
                floor_uploading.push(floor.commit_one()?);
            } else {
                uploading.push(scan(&mut scanner, &events, &next()?)?);
            }
        };
        if !measure_floor {
            took += at - restarted;
            sent += before;
        }
    }
    let total = 20 + online.len() + offline.len() + uploading.len();
    let held = wait_all_sent(&rt, &kiosk, &line, total)?;

    let (floor_s, online_s) = (stats(floors), stats(online));
    let (offline_s, uploading_s) = (stats(offline), stats(uploading));
    let floor_uploading_s = stats(floor_uploading);
    println!(
        "scanner to screen: {clients} clients; pty scanner -> station -> kiosk /events; \
         {} ms between scans",
        PACE.as_millis()
    );
    print_series("bare durable insert+commit (floor)", &floor_s);
    print_series("station online, idle between scans", &online_s);
    print_series("offline, a backlog building", &offline_s);
    print_series(&format!("while uploading a backlog of {backlog} entries"), &uploading_s);
    print_series("the floor while a backlog is uploaded", &floor_uploading_s);
    println!(
        "  each backlog was sent in {:.2} s on average after the server came back ({:.0} \
         entries/s, scans still coming), {cycles} times; the server holds all {held} entries",
        took.as_secs_f64() / cycles as f64,
        sent as f64 / took.as_secs_f64().max(1e-9)
    );
    let page_s =
        stats(page.lock().unwrap_or_else(std::sync::PoisonError::into_inner).reads.clone());
    println!(
        "  diagnostic: the kiosk page's reads (status and review list) took p50 {:.2} ms, p99 \
         {:.2} ms ({} reads)",
        ms(page_s.p50),
        ms(page_s.p99),
        page_s.n
    );
    for (name, s) in [("idle", &online_s), ("during the upload", &uploading_s)] {
        println!(
            "  {name:<18} p99 - floor p99 = {:>+6.2} ms (target <= 1 ms), p99 {:.2} ms (target \
             < 3 ms)",
            ms(s.p99) - ms(floor_s.p99),
            ms(s.p99)
        );
    }
    println!(
        "  during the upload  p99 - the floor's p99 during an upload = {:>+6.2} ms",
        ms(uploading_s.p99) - ms(floor_uploading_s.p99)
    );
    // The kiosk page's reads stop before the station does.
    rt.shutdown_background();
    Ok(())
}

/// Waits until the server holds every entry scanned into the station's batch: nothing shown
/// was lost.
fn wait_all_sent(
    rt: &tokio::runtime::Runtime,
    kiosk: &Kiosk,
    line: &Line,
    total: usize,
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = rt.block_on(kiosk.get("/api/status"));
        if s["outbox_pending"].as_i64() == Some(0) {
            break;
        }
        ensure!(Instant::now() < deadline, "entries still unsent: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = rt.block_on(kiosk.get("/api/status"));
    let batch = status["batch"]["uuid"].as_str().context("the station has no batch")?;
    let held = ServerDb::open(&line.agency.db).batch_entries(batch).len();
    ensure!(held == total, "the server holds {held} entries of {total} scanned");
    Ok(held)
}
