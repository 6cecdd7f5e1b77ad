//! Helpers for Scanline's end-to-end tests: the real `scanline-server` binary started as a
//! child process on an ephemeral loopback port, killed on drop, and a small HTTP client.
//!
//! The binaries must be built first (`cargo build --workspace --bins`, which the test script
//! does); a missing binary fails the test with that instruction rather than skipping it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub mod floor;
pub mod pages;
pub mod peek;
pub mod vdev;

/// Path of a workspace binary next to the running test executable.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> (a test) or target/<profile>/<bin> -> target/<profile>/<name>
    let mut dir = exe.parent().expect("target directory");
    if dir.file_name().is_some_and(|d| d == "deps") {
        dir = dir.parent().expect("target directory");
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// Runs `scanline-server` with arguments to completion; returns (success, stdout, stderr).
pub fn server_cli(db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary("scanline-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SCANLINE_DB")
        .output()
        .expect("running scanline-server");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends a process's log to a file at debug level, or to the test's standard error.
fn log_to(cmd: &mut Command, log: Option<&Path>) {
    match log {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("opening the log file");
            cmd.stderr(Stdio::from(file)).env("RUST_LOG", "debug");
        }
        None => {
            cmd.stderr(Stdio::inherit());
        }
    }
}

/// A running server process. Dropping it kills the process.
pub struct ServerProcess {
    child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `scanline-server` with `args` (which must make it listen on 127.0.0.1:0) and
    /// waits for its "listening on" line.
    pub fn start(db: &Path, args: &[&str]) -> Self {
        Self::start_with_log(db, args, None, false)
    }

    /// Like `start`, with every log line at debug level written to `log` (as JSON lines when
    /// `json`).
    pub fn start_with_log(db: &Path, args: &[&str], log: Option<&Path>, json: bool) -> Self {
        let mut cmd = Command::new(binary("scanline-server"));
        cmd.arg("--db").arg(db).args(args).env_remove("SCANLINE_DB").stdout(Stdio::piped());
        log_to(&mut cmd, log);
        if json {
            cmd.env("SCANLINE_LOG_FORMAT", "json");
        }
        let mut child = cmd.spawn().expect("starting scanline-server");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("scanline-server did not start listening");
        };
        Self { child, base }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the URL")
    }

    /// SIGKILL: no shutdown code runs, like a power cut for the process.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `scanline-station` process. Dropping it kills the process.
pub struct StationProcess {
    child: Child,
    /// The kiosk's base URL, e.g. `http://127.0.0.1:40123`.
    pub kiosk: String,
}

impl StationProcess {
    /// Starts `scanline-station run --config FILE` and waits for its "kiosk on" line.
    pub fn start(config: &Path) -> Self {
        Self::start_with_log(config, None)
    }

    /// Like `start`, with every log line at debug level written to `log`.
    pub fn start_with_log(config: &Path, log: Option<&Path>) -> Self {
        let mut cmd = Self::command(config);
        log_to(&mut cmd, log);
        Self::spawn(cmd)
    }

    /// Like `start`, with environment variables set for the station (its clock file, say).
    pub fn start_with_env(config: &Path, env: &[(&str, &Path)]) -> Self {
        let mut cmd = Self::command(config);
        for (k, v) in env {
            cmd.env(k, v);
        }
        log_to(&mut cmd, None);
        Self::spawn(cmd)
    }

    fn command(config: &Path) -> Command {
        let mut cmd = Command::new(binary("scanline-station"));
        cmd.arg("run").arg("--config").arg(config).stdout(Stdio::piped());
        cmd
    }

    /// Like `start`, as the system user `user` with its groups (run as root), as a service
    /// manager starts it: `setpriv` changes the user and runs the station in the same process.
    pub fn start_as(config: &Path, user: &str) -> Self {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid", user, "--regid", user, "--init-groups", "--"])
            .arg(binary("scanline-station"))
            .arg("run")
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped());
        log_to(&mut cmd, None);
        Self::spawn(cmd)
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.spawn().expect("starting scanline-station");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("kiosk on ") {
                    let _ = tx.send(url.trim().trim_end_matches('/').to_owned());
                }
            }
        });
        let Ok(kiosk) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("scanline-station did not start its kiosk");
        };
        Self { child, kiosk }
    }

    /// SIGKILL, like pulling the power.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for StationProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a station configuration for tests: one serial scanner at `scanner_link`, the kiosk on
/// an ephemeral loopback port, a fast roster refresh, and a meal batch template.
pub fn station_config(
    dir: &Path,
    server: &str,
    token_file: &Path,
    scanner_link: Option<&Path>,
    debounce_ms: u64,
    template: (&str, i64, i64),
) -> PathBuf {
    let mut text = format!(
        "[server]\nurl = \"{server}\"\ntoken_file = \"{}\"\nroster_refresh_secs = 1\nrequest_timeout_secs = 3\n\n\
         [station]\ndata_dir = \"{}\"\nkiosk_listen = \"127.0.0.1:0\"\ndebounce_ms = {debounce_ms}\n\n\
         [[batch_template]]\nname = \"{}\"\nprogram_id = {}\nservice_type_ids = [{}]\n",
        token_file.display(),
        dir.join("data").display(),
        template.0,
        template.1,
        template.2,
    );
    if let Some(link) = scanner_link {
        text.push_str(&format!(
            "\n[[scanner]]\nname = \"front\"\nkind = \"serial\"\npath = \"{}\"\nbaud = 9600\n",
            link.display()
        ));
    }
    let path = dir.join("station.toml");
    std::fs::write(&path, text).expect("writing the station config");
    path
}

/// `station_config` without a serial scanner and with `scanners` (`[[scanner]]` tables as
/// TOML) added: the station set-up of the guest tests, whose scanners are kernel devices.
pub fn station_config_with(dir: &Path, server: &str, token_file: &Path, scanners: &str) -> PathBuf {
    let path = station_config(dir, server, token_file, None, 0, ("Lunch line", 1, 1));
    let mut text = std::fs::read_to_string(&path).expect("the station config just written");
    text.push('\n');
    text.push_str(scanners);
    std::fs::write(&path, text).expect("writing the station config");
    path
}

/// A serial scanner simulated on a pseudo-terminal. The station opens `link`, a symlink to the
/// pty's slave side; the test writes scans to the master side. Dropping it is an unplug.
pub struct FakeScanner {
    master: std::fs::File,
}

impl FakeScanner {
    /// Plugs a scanner in at `link` (replacing whatever the link pointed at).
    pub fn plug(link: &Path) -> Self {
        use nix::fcntl::{FcntlArg, FdFlag, fcntl};
        use nix::sys::termios::{self, SetArg};
        let pty = nix::pty::openpty(None, None).expect("openpty");
        for fd in [&pty.master, &pty.slave] {
            // Child processes started later must not inherit the master: if they held a copy,
            // dropping ours would not unplug anything.
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("FD_CLOEXEC");
            // A fresh pty cooks its input (CR becomes LF, echo): a scanner line is raw.
            let mut t = termios::tcgetattr(fd).expect("tcgetattr");
            termios::cfmakeraw(&mut t);
            termios::tcsetattr(fd, SetArg::TCSANOW, &t).expect("tcsetattr");
        }
        let slave_path = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&pty.slave)
        ))
        .expect("slave path");
        let tmp = link.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&slave_path, &tmp).expect("symlink");
        std::fs::rename(&tmp, link).expect("rename symlink");
        // The slave stays open only as long as the station holds it; the master is ours.
        drop(pty.slave);
        Self { master: std::fs::File::from(pty.master) }
    }

    /// Sends one scan: the payload and the scanner's CR suffix.
    pub fn scan(&mut self, payload: &str) {
        use std::io::Write;
        let mut bytes = payload.as_bytes().to_vec();
        bytes.push(b'\r');
        self.master.write_all(&bytes).expect("writing to the pty");
        self.master.flush().expect("flushing the pty");
    }

    /// Pulls the cable: the station's reads fail.
    pub fn unplug(self) {
        drop(self.master);
    }

    /// The device's side of the line, for a test that plays a scanner answering commands.
    pub fn into_master(self) -> std::fs::File {
        self.master
    }
}

/// A kiosk client (the station's local page API).
#[derive(Clone)]
pub struct Kiosk {
    pub http: reqwest::Client,
    pub base: String,
}

impl Kiosk {
    pub fn new(base: &str) -> Self {
        Self { http: reqwest::Client::new(), base: base.to_owned() }
    }

    pub async fn get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("kiosk GET")
            .json()
            .await
            .expect("kiosk JSON")
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-scanline-kiosk", "1")
            .json(body)
            .send()
            .await
            .expect("kiosk POST");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Waits until `f` holds for the kiosk's status, up to `secs`.
    pub async fn wait_status(
        &self,
        secs: u64,
        what: &str,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.get("/api/status").await;
            if f(&s) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; last status {s}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A station's HTTP client: bearer token and JSON.
#[derive(Clone)]
pub struct StationClient {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl StationClient {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            base: base.to_owned(),
            token: token.trim().to_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Result<(u16, serde_json::Value)> {
        let resp =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(serde_json::Value::Null)))
    }

    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Result<(u16, serde_json::Value)> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(serde_json::Value::Null)))
    }
}

/// A demo agency made by `scanline-server demo` in a temporary directory.
pub struct Agency {
    pub dir: tempfile::TempDir,
    /// The server database.
    pub db: PathBuf,
    /// The demo station's token file.
    pub token: PathBuf,
}

/// A demo agency in a temporary directory (not served yet).
pub fn agency(clients: u32) -> Agency {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let (ok, _, err) = server_cli(
        &dir.path().join("x.db"),
        &["demo", "--dir", demo.to_str().unwrap(), "--no-serve", "--clients", &clients.to_string()],
    );
    assert!(ok, "{err}");
    Agency { db: demo.join("scanline-demo.db"), token: demo.join("station.token"), dir }
}

/// A free loopback port, for chromedriver, which cannot say which port it chose.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Serves a database on a loopback port the server chooses; `ServerProcess::port` tells it.
pub fn serve_new(db: &Path) -> ServerProcess {
    ServerProcess::start(db, &["serve", "--listen", "127.0.0.1:0"])
}

/// Serves a database again on a port it served on before (a restart).
pub fn serve(db: &Path, port: u16) -> ServerProcess {
    ServerProcess::start(db, &["serve", "--listen", &format!("127.0.0.1:{port}")])
}

/// Cards of the demo agency by what they should scan as at the meal line today.
pub struct Cards {
    pub good: Vec<String>,
    pub unenrolled: Vec<String>,
    pub barred: Vec<String>,
    pub replaced: Vec<String>,
}

pub fn cards(db: &Path) -> Cards {
    let conn = Connection::open(db).unwrap();
    let list = |sql: &str| -> Vec<String> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let barred = "EXISTS (SELECT 1 FROM bars b WHERE b.client_id = k.client_id AND b.begin_date <= date('now', '-1 day') AND b.end_date >= date('now', '+1 day'))";
    let enrolled = "EXISTS (SELECT 1 FROM enrollments e WHERE e.client_id = k.client_id AND e.program_id = 1 AND e.exit_date IS NULL AND e.entry_date <= date('now', '-1 day'))";
    Cards {
        good: list(&format!(
            "SELECT code FROM cards k WHERE replaced_by IS NULL AND {enrolled} AND NOT {barred} ORDER BY code"
        )),
        unenrolled: list(&format!(
            "SELECT code FROM cards k WHERE replaced_by IS NULL AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.client_id = k.client_id AND e.program_id = 1) AND NOT {barred} ORDER BY code"
        )),
        barred: list(&format!(
            "SELECT code FROM cards k WHERE replaced_by IS NULL AND {barred} ORDER BY code"
        )),
        replaced: list("SELECT code FROM cards k WHERE replaced_by IS NOT NULL ORDER BY code"),
    }
}

/// A valid Scanline code with one digit changed: the check digit catches it.
pub fn misread(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    b[6] = if b[6] == b'9' { b'0' } else { b[6] + 1 };
    String::from_utf8(b).unwrap()
}

/// Waits until the station has its roster, is online and (optionally) has its scanner.
pub async fn ready(kiosk: &Kiosk, scanner: bool) {
    kiosk
        .wait_status(60, "the roster and the scanner", |s| {
            s["roster"]["loaded"] == true
                && s["link"]["link"] == "online"
                && (!scanner
                    || s["scanners"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["connected"] == true)))
        })
        .await;
}

/// A served demo agency with one station running against it (and its pseudo-terminal scanner
/// when asked for), ready to scan: the set-up most station tests share.
pub struct Line {
    pub agency: Agency,
    pub port: u16,
    /// The server; `None` once a test took it to kill it.
    pub server: Option<ServerProcess>,
    pub scanner: Option<FakeScanner>,
    pub station: StationProcess,
    pub kiosk: Kiosk,
    pub config: PathBuf,
}

impl Line {
    /// `clients` synthetic clients, a meal-line station with the given double-read window, and
    /// a serial scanner on a pseudo-terminal if `with_scanner`.
    pub async fn start(clients: u32, with_scanner: bool, debounce_ms: u64) -> Self {
        let agency = agency(clients);
        let server = serve_new(&agency.db);
        let port = server.port();
        let link = agency.dir.path().join("scanner");
        let scanner = with_scanner.then(|| FakeScanner::plug(&link));
        let config = station_config(
            agency.dir.path(),
            &format!("http://127.0.0.1:{port}"),
            &agency.token,
            with_scanner.then_some(link.as_path()),
            debounce_ms,
            ("Lunch line", 1, 1),
        );
        let station = StationProcess::start(&config);
        let kiosk = Kiosk::new(&station.kiosk);
        ready(&kiosk, with_scanner).await;
        Self { agency, port, server: Some(server), scanner, station, kiosk, config }
    }

    /// The agency's cards by what they scan as.
    pub fn cards(&self) -> Cards {
        cards(&self.agency.db)
    }
}

/// A chromedriver process and a session on a fresh, throwaway Chromium profile.
pub struct Browser {
    driver: Child,
    /// chromedriver's port, for its own commands (network conditions).
    port: u16,
    pub client: fantoccini::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        Self::launch(&[]).await
    }

    /// A browser whose webcam is Chromium's fake camera, allowed without asking.
    pub async fn start_with_camera() -> Self {
        Self::launch(&["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
            .await
    }

    /// A browser whose webcam shows a video file (Y4M, see `y4m`), allowed without asking.
    pub async fn start_with_video(video: &Path) -> Self {
        let file = format!("--use-file-for-fake-video-capture={}", video.display());
        Self::launch(&[
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            &file,
        ])
        .await
    }

    async fn launch(extra: &[&str]) -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver (Debian package chromium-driver) is needed: tests/run installs it",
            );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let mut caps = caps;
        for flag in extra {
            caps["goog:chromeOptions"]["args"]
                .as_array_mut()
                .expect("args")
                .push(serde_json::json!(flag));
        }
        let caps = caps.as_object().unwrap().clone();
        // WebDriver runs on loopback: plain HTTP, no TLS stack needed.
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
        Self { driver, port, client, _profile: profile }
    }

    /// The element's text; empty while it is missing or the page is being replaced (a
    /// navigation can make an element stale between finding and reading it).
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(fantoccini::Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the element's text satisfies `ok`.
    pub async fn wait_for(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.text(css).await;
            if ok(&got) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{css} shows {got:?}, not {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element's text equals `want`.
    pub async fn wait_text(&self, css: &str, want: &str) {
        self.wait_for(css, want, |got| got == want).await;
    }

    /// Signs in as the demo agency's admin, whose password the demo wrote into `demo/` under
    /// `agency_dir`, and waits for Find client.
    pub async fn sign_in_admin(&self, base: &str, agency_dir: &Path) {
        let password = std::fs::read_to_string(agency_dir.join("demo/admin.password"))
            .expect("the demo's admin password");
        let c = &self.client;
        c.goto(&format!("{base}/login")).await.unwrap();
        c.find(fantoccini::Locator::Css("#username"))
            .await
            .unwrap()
            .send_keys("admin")
            .await
            .unwrap();
        c.find(fantoccini::Locator::Css("#password"))
            .await
            .unwrap()
            .send_keys(&format!("{}\u{E007}", password.trim()))
            .await
            .unwrap();
        self.wait_for("h1", "the find client page", |t| t == "Find client").await;
    }

    /// Takes the page's network away (`true`) or gives it back, as DevTools' "Offline" does.
    pub async fn offline(&self, off: bool) {
        let id = self.client.session_id().await.unwrap().expect("a session");
        let url =
            format!("http://127.0.0.1:{}/session/{id}/chromium/network_conditions", self.port);
        let http = reqwest::Client::new();
        let resp = if off {
            let conditions = serde_json::json!({ "network_conditions": {
                "offline": true, "latency": 0, "download_throughput": 0, "upload_throughput": 0 } });
            http.post(url).json(&conditions).send().await
        } else {
            http.delete(url).send().await
        };
        let resp = resp.expect("chromedriver answers");
        assert!(
            resp.status().is_success(),
            "network conditions: {}",
            resp.text().await.unwrap_or_default()
        );
    }

    pub async fn body(&self) -> String {
        self.text("body").await
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A picture as an uncompressed video Chromium's fake camera plays (YUV4MPEG2, 4:2:0), the
/// picture centred on a grey table in every frame. `width` and `height` are even.
pub fn y4m(picture: &image::RgbImage, width: u32, height: u32, frames: u32) -> Vec<u8> {
    y4m_clips(&[(picture, frames)], width, height, 10)
}

/// Pictures one after another, each for its number of frames, at `fps` frames a second.
pub fn y4m_clips(clips: &[(&image::RgbImage, u32)], width: u32, height: u32, fps: u32) -> Vec<u8> {
    let mut out = format!("YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n").into_bytes();
    let chroma = vec![128u8; (width / 2 * (height / 2)) as usize];
    for (picture, frames) in clips {
        let mut luma = vec![110u8; (width * height) as usize];
        let dx = width.saturating_sub(picture.width()) / 2;
        let dy = height.saturating_sub(picture.height()) / 2;
        for (x, y, p) in picture.enumerate_pixels() {
            let (fx, fy) = (x + dx, y + dy);
            if fx < width && fy < height {
                let [r, g, b] = p.0.map(u32::from);
                luma[(fy * width + fx) as usize] = ((77 * r + 150 * g + 29 * b) >> 8) as u8;
            }
        }
        for _ in 0..*frames {
            out.extend_from_slice(b"FRAME\n");
            out.extend_from_slice(&luma);
            out.extend_from_slice(&chroma);
            out.extend_from_slice(&chroma);
        }
    }
    out
}
