//! Station scan-to-verdict latency (DESIGN §15): the time from a payload reaching the scan
//! worker to its verdict being ready to show, durable commit included (decode, resolve the card
//! against the roster cache, judge, and commit the entry in WAL mode with synchronous=FULL). It builds a station database in a file with a synthetic roster
//! (`SCANLINE_BENCH_CLIENTS` clients, default 100000, each with a replaced and a current
//! Scanline card, 90% with an open meal enrollment, a few hundred bars and served records from
//! earlier days), then calls `Worker::scan` directly, on this thread, for `SCANLINE_BENCH_SCANS`
//! scans (default 5000): mostly distinct current cards, about 5% unknown codes and about 5%
//! repeats of clients scanned earlier in the run (duplicates). Each call is timed with
//! `Instant`.
//!
//! The baseline is a bare SQLite insert-and-commit with the same settings in the same run: one
//! row per `BEGIN IMMEDIATE` transaction into the real `entries` table of a fresh station
//! database (`store::open`, so `store::configure`: WAL, synchronous=FULL), the same number of
//! times. The two are measured in alternating rounds so background load on a shared machine
//! falls on both alike. The target is a scan p99 within 1.5x of the bare p99. A third series,
//! marked "diagnostic", commits exactly the scan's write (`batches::record`, the entry row)
//! without reading the roster, to split the scan's cost into reads and writes. The diagnostic lines after the table split each series' time into
//! CPU and waiting on the disk, count the calls that ran SQLite's automatic WAL checkpoint
//! (seen from the checkpoint counter in the WAL header) and the WAL pages each commit writes.
//! It prints figures only; it asserts no timings.
//!
//! `SCANLINE_BENCH_DIR` puts the database files somewhere other than the system temp
//! directory; on a tmpfs (`/dev/shm`) fsync costs nothing and the figures show the CPU alone.
//!
//! Run: `cargo bench -p scanline-station --bench scan`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use chrono::{Days, NaiveDate, Utc};
use rusqlite::{Connection, TransactionBehavior, named_params};
use scanline_core::ScanlineCode;
use scanline_core::domain::{
    BarScope, BarSpan, EnrollmentPolicy, EnrollmentSpan, LimitPolicy, ProgramRules,
    ServiceTypeRules,
};
use scanline_core::night::local_time;
use scanline_core::verdict::Verdict;
use scanline_core::wire::{
    OrganizationInfo, RosterCard, RosterClient, RosterServed, RosterSnapshot, StationInfo,
};
use scanline_station::config::BatchTemplate;
use scanline_station::state::Shared;
use scanline_station::store::{self, batches, roster};
use scanline_station::worker::{Event, ScanOutcome, Worker};
use tokio::sync::broadcast;
use uuid::Uuid;

const ORGANIZATION: i64 = 1;
const PROGRAM: i64 = 1;
const MEAL: i64 = 1;
const TIME_ZONE: &str = "America/Los_Angeles";
/// Measurements alternate in this many rounds.
const ROUNDS: usize = 5;
/// Calls of each kind made before timing starts (the first scan opens the batch).
const WARMUP: usize = 50;
/// Scans after the timed ones, to count WAL frames per commit (below the auto-checkpoint).
const FRAME_PROBE: usize = 20;
/// Of every 20 scans, one is an unknown code and (after the first tenth) one repeats a client.
const UNKNOWN_AT: usize = 3;
const REPEAT_AT: usize = 11;
/// One client in ten has no open enrollment.
const NOT_ENROLLED_EVERY: usize = 10;
const BARS: usize = 300;
/// One client in five has a meal recorded on one of the last seven days.
const SERVED_EVERY: usize = 5;

const FIRST_NAMES: [&str; 24] = [
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umber", "Val", "Wren", "Yael",
];
const LAST_INITIALS: &[u8; 26] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The bare baseline's row: the same columns `batches::record` writes.
const BARE_INSERT: &str =
    "INSERT INTO entries (uuid, batch_uuid, source, code, client_id, display_name,
     program_id, service_date, scanned_at, verdict, warnings, detail)
 VALUES (:u, :b, :src, :code, :c, :name, :p, :d, :at, :v, :w, :detail)";

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

/// A small deterministic generator (splitmix64), so every run scans the same plan.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn card_code(client_number: usize, seq: u8) -> anyhow::Result<String> {
    Ok(ScanlineCode::new(u32::try_from(client_number)?, seq)?.encode())
}

/// Client index `i` is client id and client number `i + 1`.
fn enrolled(i: usize) -> bool {
    i % NOT_ENROLLED_EVERY != NOT_ENROLLED_EVERY - 1
}

/// The synthetic roster, as the server would send it.
fn snapshot(n_clients: usize, today: NaiveDate) -> anyhow::Result<RosterSnapshot> {
    let program = ProgramRules {
        id: PROGRAM,
        organization_id: ORGANIZATION,
        name: "Community Meals".into(),
        project_type: 6,
        capacity: None,
        capacity_policy: LimitPolicy::Enforce,
        cutover_hour: 12,
        enrollment_policy: EnrollmentPolicy::Reject,
        auto_exit_after_nights: None,
        safety_alerts_stop: false,
        bed_release_minutes: None,
    };
    let meal = ServiceTypeRules {
        id: MEAL,
        program_id: PROGRAM,
        name: "Meal".into(),
        record_type: None,
        default_units: 1.0,
        unit_value: 0.0,
        max_per_day: 1,
        frequency: None,
    };
    let entry_date = NaiveDate::from_ymd_opt(2020, 1, 1).expect("a valid date");
    let mut clients = Vec::with_capacity(n_clients);
    let mut cards = Vec::with_capacity(2 * n_clients);
    let mut enrollments = Vec::with_capacity(n_clients);
    let mut served = Vec::new();
    for i in 0..n_clients {
        let id = i as i64 + 1;
        let initial = char::from(LAST_INITIALS[(i / FIRST_NAMES.len()) % LAST_INITIALS.len()]);
        clients.push(RosterClient {
            id,
            display_name: format!("{} {initial}.", FIRST_NAMES[i % FIRST_NAMES.len()]),
            client_number: id.to_string(),
        });
        // The first card was lost and reprinted: two cards per client, one current.
        cards.push(RosterCard {
            code: card_code(i + 1, 1)?,
            client_id: id,
            replaced: true,
            expires_on: None,
        });
        cards.push(RosterCard {
            code: card_code(i + 1, 2)?,
            client_id: id,
            replaced: false,
            expires_on: None,
        });
        if enrolled(i) {
            enrollments.push(EnrollmentSpan {
                id,
                client_id: id,
                program_id: PROGRAM,
                entry_date,
                exit_date: None,
            });
        }
        if i.is_multiple_of(SERVED_EVERY) {
            let k = i / SERVED_EVERY;
            served.push(RosterServed {
                key: format!("svc:{id}"),
                client_id: id,
                program_id: PROGRAM,
                service_type_id: MEAL,
                date: today - Days::new(1 + (k % 7) as u64),
                // Some are accepted entries of other stations, not yet posted.
                entry_uuid: k.is_multiple_of(10).then(Uuid::now_v7),
                bed_id: None,
            });
        }
    }
    let n_bars = BARS.min(n_clients);
    let step = n_clients / n_bars;
    let bars = (0..n_bars)
        .map(|j| {
            let active = j.is_multiple_of(2);
            let scope = match j % 3 {
                0 => BarScope::Program(PROGRAM),
                1 => BarScope::Organization(ORGANIZATION),
                _ => BarScope::ServiceType(MEAL),
            };
            BarSpan {
                id: j as i64 + 1,
                client_id: (j * step + step / 2) as i64 + 1,
                scope,
                begin_date: today - Days::new(if active { 10 } else { 60 }),
                end_date: if active { today + Days::new(20) } else { today - Days::new(30) },
            }
        })
        .collect();
    Ok(RosterSnapshot {
        cursor: 1,
        server_time: Utc::now(),
        station: StationInfo { id: 1, name: "Lunch line".into() },
        organization: OrganizationInfo {
            id: ORGANIZATION,
            name: "Harbor Light Bench".into(),
            time_zone: TIME_ZONE.into(),
        },
        programs: vec![program],
        service_types: vec![meal],
        clients,
        cards,
        enrollments,
        bars,
        served,
        alerts: Vec::new(),
        beds: Vec::new(),
        holds: Vec::new(),
    })
}

/// The payloads to scan, in order: distinct current cards in a shuffled order, one in 20 an
/// unknown (well-formed) code, and from the first tenth on one in 20 a repeat of a client
/// scanned earlier. Never the same payload twice in a row.
fn plan(n_clients: usize, len: usize) -> anyhow::Result<Vec<String>> {
    let mut rng = Rng(0x5CA1_AB1E);
    let mut order: Vec<usize> = (0..n_clients).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut next_client = 0;
    let mut scanned: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::with_capacity(len);
    for i in 0..len {
        let previous = out.last().map(String::as_str);
        let text = if i % 20 == UNKNOWN_AT {
            card_code(n_clients + 1 + i, 2)?
        } else if i % 20 == REPEAT_AT && i >= len / 10 && scanned.len() >= 2 {
            loop {
                let pick = &scanned[rng.below(scanned.len())];
                if Some(pick.as_str()) != previous {
                    break pick.clone();
                }
            }
        } else {
            // Past the end of the roster the order wraps around: those scans repeat clients.
            let client = order[next_client % n_clients];
            next_client += 1;
            let code = card_code(client + 1, 2)?;
            scanned.push(code.clone());
            code
        };
        ensure!(Some(text.as_str()) != previous, "the plan scans {text} twice in a row");
        out.push(text);
    }
    Ok(out)
}

/// This thread's on-CPU time (Linux), to split a call into CPU and waiting.
fn own_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

fn wal_path(db: &Path) -> PathBuf {
    let mut s = OsString::from(db.as_os_str());
    s.push("-wal");
    PathBuf::from(s)
}

/// The checkpoint sequence number in the WAL header. It changes when a writer restarts the log
/// after a checkpoint, which is the call after the one that ran the (automatic) checkpoint.
fn wal_checkpoint_seq(wal: &Path) -> Option<u32> {
    let mut f = std::fs::File::open(wal).ok()?;
    let mut header = [0u8; 16];
    f.read_exact(&mut header).ok()?;
    Some(u32::from_be_bytes([header[12], header[13], header[14], header[15]]))
}

/// The timings of one kind of call.
struct Series {
    name: &'static str,
    wal: PathBuf,
    wall: Vec<Duration>,
    /// This thread's on-CPU time (user and kernel) over the timed calls, read around each
    /// round's slice: the kernel updates it at context switches and ticks, too coarse for one
    /// call but exact enough over a thousand.
    cpu: Option<Duration>,
    /// Indices into `wall` of calls that ran an automatic WAL checkpoint.
    checkpoints: Vec<usize>,
    last_seq: Option<u32>,
}

impl Series {
    fn new(name: &'static str, db: &Path) -> Self {
        Self {
            name,
            wal: wal_path(db),
            wall: Vec::new(),
            cpu: Some(Duration::ZERO),
            checkpoints: Vec::new(),
            last_seq: None,
        }
    }

    /// Runs one call (which times itself, tightly) and files its time.
    fn call(&mut self, op: impl FnOnce() -> anyhow::Result<Duration>) -> anyhow::Result<()> {
        let wall = op()?;
        self.wall.push(wall);
        let seq = wal_checkpoint_seq(&self.wal);
        if self.last_seq.is_some() && seq != self.last_seq && self.wall.len() >= 2 {
            self.checkpoints.push(self.wall.len() - 2);
        }
        self.last_seq = seq;
        Ok(())
    }

    /// Forgets the warm-up calls (keeping the WAL position).
    fn reset(&mut self) {
        self.wall.clear();
        self.cpu = Some(Duration::ZERO);
        self.checkpoints.clear();
    }

    fn stats(&self) -> Stats {
        Stats::of(self.wall.clone())
    }

    fn without_checkpoints(&self) -> Stats {
        let skip: std::collections::HashSet<usize> = self.checkpoints.iter().copied().collect();
        Stats::of(
            self.wall
                .iter()
                .enumerate()
                .filter(|(i, _)| !skip.contains(i))
                .map(|(_, d)| *d)
                .collect(),
        )
    }

    fn checkpoint_mean(&self) -> Option<Duration> {
        let n = self.checkpoints.len();
        (n > 0).then(|| self.checkpoints.iter().map(|&i| self.wall[i]).sum::<Duration>() / n as u32)
    }

    /// Runs a slice of calls, adding the thread's CPU time over it.
    fn slice(&mut self, f: impl FnOnce(&mut Self) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let before = own_cpu();
        f(self)?;
        let after = own_cpu();
        self.cpu = match (self.cpu, before, after) {
            (Some(total), Some(a), Some(b)) => Some(total + b.saturating_sub(a)),
            _ => None,
        };
        Ok(())
    }

    /// Mean CPU and mean waiting (wall less CPU) per call.
    fn cpu_split(&self) -> Option<(Duration, Duration)> {
        let n = u32::try_from(self.wall.len()).ok().filter(|n| *n > 0)?;
        let cpu = self.cpu? / n;
        let wall = self.wall.iter().sum::<Duration>() / n;
        Some((cpu, wall.saturating_sub(cpu)))
    }
}

#[derive(Clone, Copy)]
struct Stats {
    n: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    mean: Duration,
}

impl Stats {
    fn of(mut v: Vec<Duration>) -> Self {
        v.sort_unstable();
        let n = v.len();
        let mean = if n == 0 { Duration::ZERO } else { v.iter().sum::<Duration>() / n as u32 };
        Self {
            n,
            p50: percentile(&v, 0.50),
            p90: percentile(&v, 0.90),
            p99: percentile(&v, 0.99),
            max: percentile(&v, 1.0),
            mean,
        }
    }

    fn line(&self) -> String {
        format!(
            "p50 {:>7.0}  p90 {:>7.0}  p99 {:>7.0}  max {:>7.0}  mean {:>7.0} us  (n = {})",
            us(self.p50),
            us(self.p90),
            us(self.p99),
            us(self.max),
            us(self.mean),
            self.n
        )
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn template() -> BatchTemplate {
    BatchTemplate {
        name: "Lunch line".into(),
        program_id: PROGRAM,
        service_type_ids: vec![MEAL],
        units: None,
        auto_post: false,
    }
}

/// A fresh station database (real migrations and settings) with one open batch.
fn fresh_station_db(path: &Path, today: NaiveDate) -> anyhow::Result<(Connection, String)> {
    let mut conn = store::open(path)?;
    let batch = store::immediate(&mut conn, |tx| batches::start(tx, &template(), today))?;
    Ok((conn, batch.uuid))
}

/// The baseline: one row into `entries`, one `BEGIN IMMEDIATE` ... `COMMIT`. The row's values
/// are made before the clock starts.
fn bare_insert(
    conn: &mut Connection,
    batch: &str,
    code: &str,
    client: i64,
    date: NaiveDate,
) -> anyhow::Result<Duration> {
    let uuid = Uuid::now_v7().to_string();
    let at = Utc::now();
    let start = Instant::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(BARE_INSERT)?.execute(named_params! {
        ":u": uuid, ":b": batch, ":src": "bench", ":code": code, ":c": client,
        ":name": "Avery B.", ":p": PROGRAM, ":d": date, ":at": at, ":v": "accepted",
        ":w": "", ":detail": "",
    })?;
    tx.commit()?;
    Ok(start.elapsed())
}

/// Diagnostic: the scan's own write transaction (`batches::record`), with no roster reads.
fn record_only(
    conn: &mut Connection,
    batch: &str,
    code: &str,
    client: i64,
    date: NaiveDate,
) -> anyhow::Result<Duration> {
    let entry = batches::NewEntry {
        uuid: Uuid::now_v7(),
        batch_uuid: batch,
        source: "bench",
        code,
        client_id: Some(client),
        display_name: "Avery B.",
        program_id: PROGRAM,
        service_date: date,
        scanned_at: Utc::now(),
        verdict: Verdict::Accepted,
        warnings: &[],
        detail: "",
    };
    let start = Instant::now();
    store::immediate(conn, |tx| batches::record(tx, &entry))?;
    Ok(start.elapsed())
}

/// The WAL's length in frames (pages written since it was emptied); the probe's few commits
/// stay below the auto-checkpoint (1000 frames), so dividing by them gives pages per commit.
fn wal_frames(conn: &Connection) -> anyhow::Result<i64> {
    let (busy, log, _done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    ensure!(busy == 0, "the checkpoint was blocked");
    Ok(log)
}

fn truncate_wal(conn: &Connection) -> anyhow::Result<()> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    ensure!(busy == 0, "the checkpoint was blocked");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let n_clients = env_usize("SCANLINE_BENCH_CLIENTS", 100_000)?;
    let n_scans = env_usize("SCANLINE_BENCH_SCANS", 5_000)?;
    let dir = match std::env::var_os("SCANLINE_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let scan_db = dir.path().join("station.db");
    let bare_db = dir.path().join("bare.db");
    let record_db = dir.path().join("record.db");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "scanline station scan bench: {n_clients} clients, {} cards, {n_scans} timed scans \
         ({WARMUP} warm-up), {cores} cores, files in {}",
        2 * n_clients,
        dir.path().display()
    );

    // 1. The station database and its roster.
    let tz: chrono_tz::Tz = TIME_ZONE.parse().map_err(|e| anyhow::anyhow!("{TIME_ZONE}: {e}"))?;
    let today = local_time(Utc::now(), &tz).date();
    let snap = snapshot(n_clients, today)?;
    let t = Instant::now();
    {
        let mut conn = store::open(&scan_db)?;
        store::immediate(&mut conn, |tx| roster::apply_snapshot(tx, &snap))?;
    }
    let setup = t.elapsed();
    let (n_cards, n_enrollments, n_bars, n_served) =
        (snap.cards.len(), snap.enrollments.len(), snap.bars.len(), snap.served.len());
    drop(snap);
    println!(
        "setup: roster applied in {:.1} s ({n_clients} clients, {n_cards} cards, \
         {n_enrollments} open enrollments, {n_bars} bars, {n_served} served records)",
        setup.as_secs_f64()
    );

    // 2. The worker, on its own connection as in the daemon.
    let shared = Arc::new(Shared::default());
    let (events, _kiosk) = broadcast::channel::<Event>(1024);
    let mut worker = Worker::new(
        store::open(&scan_db)?,
        vec![template()],
        Duration::ZERO,
        Arc::clone(&shared),
        events,
    );
    let texts = plan(n_clients, WARMUP + n_scans + FRAME_PROBE)?;
    let (warmup, rest) = texts.split_at(WARMUP);
    let (timed, probe) = rest.split_at(n_scans);

    // 3. The baseline databases.
    let (mut bare, bare_batch) = fresh_station_db(&bare_db, today)?;
    let (mut record, record_batch) = fresh_station_db(&record_db, today)?;

    let mut scans = Series::new("scan (Worker::scan)", &scan_db);
    let mut bares = Series::new("bare insert+commit", &bare_db);
    let mut records = Series::new("(diagnostic) scan's writes only", &record_db);
    let mut verdicts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut scan_one = |series: &mut Series, text: &str, count: bool| -> anyhow::Result<()> {
        series.call(|| {
            let start = Instant::now();
            let outcome = worker.scan("bench", text)?;
            let elapsed = start.elapsed();
            if count {
                let v = match outcome {
                    ScanOutcome::Shown(s) => s.verdict.as_str(),
                    ScanOutcome::DoubleRead => "double_read",
                };
                *verdicts.entry(v).or_default() += 1;
            }
            Ok(elapsed)
        })
    };

    for (i, text) in warmup.iter().enumerate() {
        scan_one(&mut scans, text, false)?;
        bares.call(|| bare_insert(&mut bare, &bare_batch, text, i as i64 + 1, today))?;
        records.call(|| record_only(&mut record, &record_batch, text, i as i64 + 1, today))?;
    }
    scans.reset();
    bares.reset();
    records.reset();

    // 4. Alternating rounds: each round times a slice of the scans, the same number of bare
    // inserts and of write-only transactions, in an order that rotates from round to round.
    let t = Instant::now();
    let per_round = n_scans.div_ceil(ROUNDS);
    for (round, chunk) in timed.chunks(per_round).enumerate() {
        let base = WARMUP + round * per_round;
        for kind in 0..3 {
            match (kind + round) % 3 {
                0 => scans.slice(|s| {
                    for text in chunk {
                        scan_one(s, text, true)?;
                    }
                    Ok(())
                })?,
                1 => bares.slice(|s| {
                    for (i, text) in chunk.iter().enumerate() {
                        let client = (base + i) as i64 + 1;
                        s.call(|| bare_insert(&mut bare, &bare_batch, text, client, today))?;
                    }
                    Ok(())
                })?,
                _ => records.slice(|s| {
                    for (i, text) in chunk.iter().enumerate() {
                        let client = (base + i) as i64 + 1;
                        s.call(|| record_only(&mut record, &record_batch, text, client, today))?;
                    }
                    Ok(())
                })?,
            }
        }
    }
    let measured = t.elapsed();

    // 5. Pages each kind of commit writes: empty each log, make a few commits, read its size.
    let probe_conn = store::open(&scan_db)?;
    truncate_wal(&probe_conn)?;
    let mut probe_scans = Series::new("probe", &scan_db);
    for text in probe {
        scan_one(&mut probe_scans, text, false)?;
    }
    let scan_frames = wal_frames(&probe_conn)?;
    drop(probe_conn);
    truncate_wal(&bare)?;
    truncate_wal(&record)?;
    for (i, text) in probe.iter().enumerate() {
        bare_insert(&mut bare, &bare_batch, text, i as i64 + 1, today)?;
        record_only(&mut record, &record_batch, text, i as i64 + 1, today)?;
    }
    let bare_frames = wal_frames(&bare)?;
    let record_frames = wal_frames(&record)?;
    let page_size: i64 = bare.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let autocheckpoint: i64 = bare.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;

    let scan_stats = scans.stats();
    let bare_stats = bares.stats();
    let record_stats = records.stats();
    let mut verdict_line = String::new();
    for (v, n) in &verdicts {
        verdict_line.push_str(&format!(" {v}={n}"));
    }
    println!(
        "measured in {ROUNDS} alternating rounds of about {per_round} calls of each kind \
         (scan, bare insert, scan's writes only), rotating which goes first, so background load \
         on this shared machine falls on all alike; {:.1} s in all",
        measured.as_secs_f64()
    );
    println!("scan verdicts:{verdict_line}");
    println!();
    println!("== latency per call, microseconds ==");
    for s in [&scans, &bares, &records] {
        println!("{:<34} {}", s.name, s.stats().line());
    }
    println!();
    println!("== where the time goes (diagnostic) ==");
    for s in [&scans, &bares, &records] {
        let split = match s.cpu_split() {
            Some((cpu, wait)) => {
                format!("mean cpu {:>4.0} us + waiting {:>5.0} us", us(cpu), us(wait))
            }
            None => "cpu split unavailable".to_owned(),
        };
        let ckpt = match s.checkpoint_mean() {
            Some(m) => format!(
                "; {} calls ({:.2}%) ran a WAL auto-checkpoint (mean {:.0} us); without them p99 \
                 {:.0} us",
                s.checkpoints.len(),
                100.0 * s.checkpoints.len() as f64 / s.wall.len().max(1) as f64,
                us(m),
                us(s.without_checkpoints().p99)
            ),
            None => "; no WAL auto-checkpoint seen".to_owned(),
        };
        println!("{:<34} {split}{ckpt}", s.name);
    }
    println!(
        "WAL frames per commit ({page_size}-byte pages, auto-checkpoint every {autocheckpoint} \
         frames): scan {:.1}, bare insert {:.1}, scan's writes only {:.1}",
        scan_frames as f64 / FRAME_PROBE as f64,
        bare_frames as f64 / FRAME_PROBE as f64,
        record_frames as f64 / FRAME_PROBE as f64,
    );

    let p50_ratio = ratio(scan_stats.p50, bare_stats.p50);
    let p99_ratio = ratio(scan_stats.p99, bare_stats.p99);
    println!();
    println!(
        "== summary ({n_clients} clients, {n_cards} cards, {n_scans} scans, {cores} cores) =="
    );
    println!(
        "scan-to-verdict            p50 {:>6.0} us   p99 {:>6.0} us",
        us(scan_stats.p50),
        us(scan_stats.p99)
    );
    println!(
        "bare insert+commit         p50 {:>6.0} us   p99 {:>6.0} us",
        us(bare_stats.p50),
        us(bare_stats.p99)
    );
    println!(
        "scan / bare                p50 {p50_ratio:>6.2} x    p99 {p99_ratio:>6.2} x   (target: p99 <= 1.5 x)"
    );
    println!(
        "scan - bare, mean          {:>10.0} us per call (the disk's flush time sets the bare \
         figure, so this difference, not the ratio, is what carries to another disk)",
        us(scan_stats.mean.saturating_sub(bare_stats.mean))
    );
    println!(
        "scan's writes / bare       p50 {:>6.2} x    p99 {:>6.2} x   (diagnostic: the extra writes)",
        ratio(record_stats.p50, bare_stats.p50),
        ratio(record_stats.p99, bare_stats.p99)
    );
    println!(
        "scan / scan's writes       p50 {:>6.2} x    p99 {:>6.2} x   (diagnostic: the reads and \
         judging)",
        ratio(scan_stats.p50, record_stats.p50),
        ratio(scan_stats.p99, record_stats.p99)
    );
    Ok(())
}
