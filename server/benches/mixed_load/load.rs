//! The people of the mixed-load benchmark, each a task over HTTP: stations, staff, an admin
//! importing and exporting, and a sign-in flood; and what they measured.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use scanline_core::verdict::Verdict;
use scanline_core::wire::{BatchInfo, CreateBatch, EntryUpload, UploadEntries, UploadResult};
use scanline_server::db::Db;
use scanline_server::store::batches;
use uuid::Uuid;

use crate::{Fixture, PASSWORD};

/// Scans a station uploads at once after a spell offline, and how many to a request.
const BACKLOG: usize = 1_000;
const PER_REQUEST: usize = 200;
/// How often one station comes back with a backlog.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);
/// When the admin starts the import and the export.
const ADMIN_AT: Duration = Duration::from_secs(10);
const FLOODERS: usize = 16;
/// The p99 targets, above which a request is counted in the second of the run it began.
pub(crate) const UPLOAD_TARGET: Duration = Duration::from_millis(100);
pub(crate) const PAGE_TARGET: Duration = Duration::from_millis(200);

/// Request latencies of one kind.
#[derive(Default, Clone)]
pub(crate) struct Latencies(Vec<Duration>);

impl Latencies {
    fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn extend(&mut self, other: &Latencies) {
        self.0.extend_from_slice(&other.0);
    }

    /// p50, p99 and max in milliseconds (zeros when empty).
    pub(crate) fn summary(&self) -> (f64, f64, f64) {
        let mut v = self.0.clone();
        if v.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        v.sort_unstable();
        let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
        (at(0.5), at(0.99), at(1.0))
    }
}

#[derive(Default)]
pub(crate) struct Uploads {
    pub(crate) paced: Latencies,
    pub(crate) backlog: Latencies,
    /// Either kind, sent while the import was in flight.
    pub(crate) during_import: Latencies,
}

impl Uploads {
    pub(crate) fn all(&self) -> Latencies {
        let mut all = self.paced.clone();
        all.extend(&self.backlog);
        all
    }
}

#[derive(Default)]
pub(crate) struct Staff {
    pub(crate) by_kind: BTreeMap<&'static str, Latencies>,
}

impl Staff {
    pub(crate) fn all(&self) -> Latencies {
        let mut all = Latencies::default();
        for l in self.by_kind.values() {
            all.extend(l);
        }
        all
    }
}

/// What a run measured.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) uploads: Uploads,
    pub(crate) staff: Staff,
    pub(crate) import: Duration,
    /// When the import's upload began and its report came, in seconds of the run.
    pub(crate) import_span: (f64, f64),
    pub(crate) import_applied: bool,
    /// Requests slower than their target by the second of the run they began in: uploads,
    /// staff pages.
    pub(crate) over: BTreeMap<u64, (usize, usize)>,
    pub(crate) export: Duration,
    pub(crate) export_bytes: usize,
    pub(crate) flood_sent: usize,
    /// Entries the stations were told were stored, and what their batches hold at the end.
    pub(crate) sent: u64,
    pub(crate) stored: u64,
    /// Desk scans answered, and what the desk batches hold at the end.
    pub(crate) desk_sent: u64,
    pub(crate) desk_stored: u64,
    pub(crate) errors: Vec<String>,
}

/// What every task shares: the server, the agency, the clock and what is measured.
struct Shared {
    url: String,
    fx: Arc<Fixture>,
    http: reqwest::Client,
    start: Instant,
    until: Duration,
    importing: AtomicBool,
    totals: Mutex<Totals>,
}

impl Shared {
    fn going(&self) -> bool {
        self.start.elapsed() < self.until
    }

    fn error(&self, e: impl std::fmt::Display) {
        if let Ok(mut t) = self.totals.lock() {
            t.errors.push(e.to_string());
        }
    }

    fn totals(&self, f: impl FnOnce(&mut Totals)) {
        if let Ok(mut t) = self.totals.lock() {
            f(&mut t);
        }
    }

    /// Counts a request that began at `start` and took `took` if it missed its target.
    fn over(&self, t: &mut Totals, start: Instant, took: Duration, upload: bool) {
        let target = if upload { UPLOAD_TARGET } else { PAGE_TARGET };
        if took > target {
            let second = t.over.entry(start.duration_since(self.start).as_secs()).or_default();
            if upload {
                second.0 += 1;
            } else {
                second.1 += 1;
            }
        }
    }
}

/// A small deterministic generator, one a task.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }

    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = hi.saturating_sub(lo).as_millis() as u64;
        lo + Duration::from_millis(self.below(span + 1))
    }
}

pub(crate) async fn run(
    url: &str,
    db: &Db,
    fx: Arc<Fixture>,
    until: Duration,
    flood: bool,
) -> anyhow::Result<Totals> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()?;
    // Everyone signs in before the clock starts.
    let mut staff = Vec::new();
    for name in &fx.staff {
        staff.push(sign_in(&http, url, name).await?);
    }
    let admin = sign_in(&http, url, "admin").await?;
    let shared = Arc::new(Shared {
        url: url.to_owned(),
        fx: fx.clone(),
        http,
        start: Instant::now(),
        until,
        importing: AtomicBool::new(false),
        totals: Mutex::new(Totals::default()),
    });
    let mut tasks = Vec::new();
    let mut stations = Vec::new();
    for i in 0..fx.tokens.len() {
        let s = shared.clone();
        stations.push(tokio::spawn(async move { station(&s, i).await }));
    }
    let mut desks = Vec::new();
    for (i, session) in staff.into_iter().enumerate() {
        let s = shared.clone();
        desks.push(tokio::spawn(async move { desk(&s, i, session).await }));
    }
    {
        let s = shared.clone();
        let session = admin.clone();
        tasks.push(tokio::spawn(async move { import(&s, &session).await }));
        let s = shared.clone();
        tasks.push(tokio::spawn(async move { export(&s, &admin).await }));
    }
    let flooded = Arc::new(AtomicUsize::new(0));
    if flood {
        for n in 0..FLOODERS {
            let (s, sent) = (shared.clone(), flooded.clone());
            tasks.push(tokio::spawn(async move { flood_sign_ins(&s, n, &sent).await }));
        }
    }
    let mut station_batches = Vec::new();
    for t in stations {
        match t.await? {
            Ok(batch) => station_batches.push(batch),
            Err(e) => shared.error(format!("a station stopped: {e:#}")),
        }
    }
    let mut desk_batches = Vec::new();
    for t in desks {
        match t.await? {
            Ok(batch) => desk_batches.push(batch),
            Err(e) => shared.error(format!("a desk stopped: {e:#}")),
        }
    }
    for t in tasks {
        if let Err(e) = t.await? {
            shared.error(format!("{e:#}"));
        }
    }
    // What the server holds: each station asks for its batch as a station would.
    let mut stored = 0;
    for (i, batch) in &station_batches {
        let info: BatchInfo = shared
            .http
            .get(format!("{url}/api/v1/batches/{batch}"))
            .bearer_auth(&fx.tokens[*i])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        stored += info.entries;
    }
    let desk_stored = db
        .read(move |conn| -> anyhow::Result<u64> {
            let mut n = 0;
            for uuid in desk_batches {
                let row = batches::load(conn, uuid)?;
                n += batches::info(conn, &row)?.entries;
            }
            Ok(n)
        })
        .await??;
    let shared = Arc::into_inner(shared).context("every task has ended")?;
    let mut totals = shared.totals.into_inner().map_err(|_| anyhow::anyhow!("a task panicked"))?;
    totals.stored = stored;
    totals.desk_stored = desk_stored;
    totals.flood_sent = flooded.load(Ordering::Relaxed);
    Ok(totals)
}

/// A signed-in session: its cookie and CSRF token.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

fn csrf_of(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    body[at..].split('"').next().map(str::to_owned)
}

fn cookie_of(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The login form's cookie and CSRF token.
async fn login_form(http: &reqwest::Client, url: &str) -> anyhow::Result<(String, String)> {
    let form = http.get(format!("{url}/login")).send().await?;
    let cookie = cookie_of(&form, "scanline_login").context("the login cookie")?;
    let csrf = csrf_of(&form.text().await?).context("the login form's CSRF token")?;
    Ok((cookie, csrf))
}

async fn sign_in(http: &reqwest::Client, url: &str, user: &str) -> anyhow::Result<Session> {
    let (login, csrf) = login_form(http, url).await?;
    let resp = http
        .post(format!("{url}/login"))
        .header(reqwest::header::COOKIE, login)
        .form(&[("username", user), ("password", PASSWORD), ("csrf", csrf.as_str())])
        .send()
        .await?;
    let cookie = cookie_of(&resp, "scanline_session").context("signed in")?;
    let page =
        http.get(format!("{url}/clients")).header(reqwest::header::COOKIE, &cookie).send().await?;
    let csrf = csrf_of(&page.text().await?).context("the session's CSRF token")?;
    Ok(Session { cookie, csrf })
}

/// One station: its batch for today, a scan uploaded every 2 to 4 s, and one backlog at its
/// turn. Returns its index and its batch.
async fn station(s: &Shared, i: usize) -> anyhow::Result<(usize, Uuid)> {
    let (fx, token) = (&s.fx, &s.fx.tokens[i]);
    let batch = Uuid::now_v7();
    let create = CreateBatch {
        uuid: batch,
        program_id: fx.program,
        service_type_ids: vec![fx.meal],
        service_date: fx.today,
        units: None,
        unit_value: None,
        description: Some(format!("line {i}")),
        auto_post: false,
    };
    s.http
        .post(format!("{}/api/v1/batches", s.url))
        .bearer_auth(token)
        .json(&create)
        .send()
        .await?
        .error_for_status()?;
    let stations = fx.tokens.len();
    let mut rng = Rng(i as u64 + 1);
    // This station's clients: every `stations`th, from its own offset.
    let mut next = (0..).map(|k| (i + k * stations) % fx.codes.len());
    let backlog_at = BACKLOG_EVERY * (i as u32 + 1);
    let mut backlog_done = backlog_at >= s.until;
    tokio::time::sleep(rng.between(Duration::ZERO, Duration::from_secs(3))).await;
    while s.going() {
        if !backlog_done && s.start.elapsed() >= backlog_at {
            backlog_done = true;
            let scans: Vec<usize> = next.by_ref().take(BACKLOG).collect();
            for chunk in scans.chunks(PER_REQUEST) {
                let d = upload(s, token, batch, chunk).await?;
                s.totals(|t| t.uploads.backlog.push(d));
            }
            continue;
        }
        let one: Vec<usize> = next.by_ref().take(1).collect();
        let d = upload(s, token, batch, &one).await?;
        s.totals(|t| t.uploads.paced.push(d));
        tokio::time::sleep(rng.between(Duration::from_secs(2), Duration::from_secs(4))).await;
    }
    Ok((i, batch))
}

/// Uploads scans of these clients, timed; counts them once the server answered for each.
async fn upload(
    s: &Shared,
    token: &str,
    batch: Uuid,
    clients: &[usize],
) -> anyhow::Result<Duration> {
    let entries = clients
        .iter()
        .map(|c| EntryUpload {
            uuid: Uuid::now_v7(),
            code: s.fx.codes[*c].clone(),
            scanned_at: Utc::now(),
            station_verdict: Some(Verdict::Accepted),
            bed_id: None,
        })
        .collect();
    let body = serde_json::to_vec(&UploadEntries { entries })?;
    let importing = s.importing.load(Ordering::Relaxed);
    let start = Instant::now();
    let resp = s
        .http
        .post(format!("{}/api/v1/batches/{batch}/entries", s.url))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    let bytes = resp.bytes().await?;
    let took = start.elapsed();
    if !status.is_success() {
        bail!("an upload was answered {status}: {}", String::from_utf8_lossy(&bytes));
    }
    let answered: UploadResult = serde_json::from_slice(&bytes)?;
    if answered.entries.len() != clients.len() {
        bail!("an upload of {} was answered for {}", clients.len(), answered.entries.len());
    }
    s.totals(|t| {
        s.over(t, start, took, true);
        t.sent += clients.len() as u64;
        if importing || s.importing.load(Ordering::Relaxed) {
            t.uploads.during_import.push(took);
        }
    });
    Ok(took)
}

/// A staff page request, timed under `kind`; its body when it was answered as expected.
async fn page(
    s: &Shared,
    kind: &'static str,
    req: reqwest::RequestBuilder,
    expect: reqwest::StatusCode,
) -> Option<String> {
    let start = Instant::now();
    let result = async {
        let resp = req.send().await?;
        let status = resp.status();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let body = resp.text().await?;
        Ok::<_, reqwest::Error>((status, location, body))
    }
    .await;
    let took = start.elapsed();
    match result {
        Ok((status, location, body)) if status == expect => {
            s.totals(|t| {
                s.over(t, start, took, false);
                t.staff.by_kind.entry(kind).or_default().push(took);
            });
            Some(location.unwrap_or(body))
        }
        Ok((status, _, body)) => {
            s.error(format!("{kind}: {status}: {}", body.chars().take(200).collect::<String>()));
            None
        }
        Err(e) => {
            s.error(format!("{kind}: {e}"));
            None
        }
    }
}

/// One member of staff at a desk: searching, opening dashboards and the batch list, scanning
/// cards into a desk batch and posting it now and then. Returns the desk batch.
async fn desk(s: &Shared, i: usize, session: Session) -> anyhow::Result<Uuid> {
    use reqwest::StatusCode;
    let (fx, url) = (&s.fx, &s.url);
    let cookie = |r: reqwest::RequestBuilder| r.header(reqwest::header::COOKIE, &session.cookie);
    let created = page(
        s,
        "create batch",
        cookie(s.http.post(format!("{url}/batches"))).form(&[
            ("csrf", session.csrf.as_str()),
            ("service", &format!("{}:{}", fx.program, fx.meal)),
            ("service_date", &fx.today.to_string()),
        ]),
        StatusCode::SEE_OTHER,
    )
    .await
    .context("a desk batch")?;
    let batch: Uuid = created.trim_start_matches("/batches/").parse()?;
    let mut rng = Rng(1_000 + i as u64);
    let clients = fx.codes.len();
    let mut round = 0usize;
    tokio::time::sleep(rng.between(Duration::ZERO, Duration::from_secs(2))).await;
    while s.going() {
        let pick = rng.below(clients as u64) as usize;
        let (first, last) = &fx.names[pick];
        let q = format!("{first} {last}");
        page(
            s,
            "search by name",
            cookie(s.http.get(format!("{url}/clients")).query(&[("q", &q)])),
            StatusCode::OK,
        )
        .await;
        page(
            s,
            "client dashboard",
            cookie(s.http.get(format!("{url}/clients/{}", fx.client_ids[pick]))),
            StatusCode::OK,
        )
        .await;
        page(s, "batch list", cookie(s.http.get(format!("{url}/batches"))), StatusCode::OK).await;
        // Desk scans come from the far end of the clients, away from the stations'.
        let code = &fx.codes[clients - 1 - (i + round * fx.staff.len()) % clients];
        let scanned = page(
            s,
            "desk scan",
            cookie(s.http.post(format!("{url}/batches/{batch}/scan")))
                .header(reqwest::header::ACCEPT, "application/json")
                .form(&[("csrf", session.csrf.as_str()), ("code", code)]),
            StatusCode::OK,
        )
        .await;
        if scanned.is_some() {
            s.totals(|t| t.desk_sent += 1);
        }
        if round % 10 == 9 {
            page(
                s,
                "post batch",
                cookie(s.http.post(format!("{url}/batches/{batch}/post")))
                    .form(&[("csrf", session.csrf.as_str())]),
                StatusCode::OK,
            )
            .await;
        }
        round += 1;
        tokio::time::sleep(rng.between(Duration::from_secs(1), Duration::from_secs(2))).await;
    }
    Ok(batch)
}

/// The admin uploads the HMIS export to the import page, as a browser posts the form.
async fn import(s: &Shared, session: &Session) -> anyhow::Result<()> {
    tokio::time::sleep(ADMIN_AT).await;
    let boundary = "scanlinebenchboundary";
    let mut body = Vec::new();
    for (name, value) in [("csrf", session.csrf.as_str()), ("time_zone", "America/Los_Angeles")] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"export.zip\"\r\n\
             Content-Type: application/zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&s.fx.import);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    s.importing.store(true, Ordering::Relaxed);
    let start = Instant::now();
    let resp = s
        .http
        .post(format!("{}/admin/hmis/import", s.url))
        .header(reqwest::header::COOKIE, &session.cookie)
        .header(reqwest::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await;
    let result = match resp {
        Ok(r) => {
            let status = r.status();
            r.text().await.map(|page| (status, page))
        }
        Err(e) => Err(e),
    };
    s.importing.store(false, Ordering::Relaxed);
    let took = start.elapsed();
    let (status, page) = result?;
    if !status.is_success() {
        bail!("the import was answered {status}");
    }
    let applied = page.contains(">Imported</h2>");
    if !applied {
        let at = page.find("id=\"h-report\"").unwrap_or(0);
        bail!("the import was refused: {}", page[at..].chars().take(400).collect::<String>());
    }
    s.totals(|t| {
        t.import_span = ((start - s.start).as_secs_f64(), (start - s.start + took).as_secs_f64());
        t.import = took;
        t.import_applied = applied;
    });
    Ok(())
}

/// The admin downloads the HUD export of the agency's year.
async fn export(s: &Shared, session: &Session) -> anyhow::Result<()> {
    tokio::time::sleep(ADMIN_AT).await;
    let year = s.fx.today.format("%Y");
    let start = Instant::now();
    let bytes = s
        .http
        .get(format!("{}/admin/hmis/export.zip?from={year}-01-01&to={year}-12-31", s.url))
        .header(reqwest::header::COOKIE, &session.cookie)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let took = start.elapsed();
    s.totals(|t| {
        t.export = took;
        t.export_bytes = bytes.len();
    });
    Ok(())
}

/// Sign-ins with made-up usernames, one after another as each is answered.
async fn flood_sign_ins(s: &Shared, n: usize, sent: &AtomicUsize) -> anyhow::Result<()> {
    let mut i = 0;
    while s.going() {
        let Ok((cookie, csrf)) = login_form(&s.http, &s.url).await else { continue };
        let user = format!("nobody-{n}-{i}");
        let _ = s
            .http
            .post(format!("{}/login", s.url))
            .header(reqwest::header::COOKIE, cookie)
            .form(&[("username", user.as_str()), ("password", "guess"), ("csrf", csrf.as_str())])
            .send()
            .await;
        sent.fetch_add(1, Ordering::Relaxed);
        i += 1;
    }
    Ok(())
}
