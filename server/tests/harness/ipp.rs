//! A real IPP Everywhere printer for the printing tests: `ippeveprinter` (Debian package
//! `cups-ipp-utils`) on a free loopback port, with a private D-Bus bus and its own spool
//! directory in a temporary directory, both processes stopped on drop. Nothing is printed: `-k`
//! keeps every document the printer receives so a test can compare it byte for byte.
//!
//! A missing `ippeveprinter` or `dbus-daemon` fails the test with the package to install; it
//! never passes silently.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ::ipp::model::DelimiterTag;
use ::ipp::operation::IppOperation;
use ::ipp::operation::builder::IppOperationBuilder;
use ::ipp::prelude::{AsyncIppClient, Uri};

/// How long a printer may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Fresh ports to try when another process takes the chosen one first.
const PORT_ATTEMPTS: usize = 5;

/// A CR80 card (53.98 x 85.6 mm = 153 x 242.65 points) printer with 300 dpi and two-sided
/// printing. `ippeveprinter` turns the page size into the IPP media keyword
/// `custom_53.98x85.6mm_53.98x85.6mm`.
const CARD_PPD: &str = r#"*PPD-Adobe: "4.3"
*FormatVersion: "4.3"
*FileVersion: "1.0"
*LanguageVersion: English
*LanguageEncoding: ISOLatin1
*PCFileName: "SCANCARD.PPD"
*Manufacturer: "Scanline"
*Product: "(Scanline Card Printer)"
*ModelName: "Scanline Card Printer"
*ShortNickName: "Scanline Card Printer"
*NickName: "Scanline Card Printer"
*PSVersion: "(3010.000) 0"
*LanguageLevel: "3"
*ColorDevice: True
*DefaultColorSpace: RGB
*FileSystem: False
*Throughput: "1"
*LandscapeOrientation: Plus90
*TTRasterizer: Type42
*cupsFilter: "application/vnd.cups-raster 0 -"
*OpenUI *PageSize/Media Size: PickOne
*OrderDependency: 10 AnySetup *PageSize
*DefaultPageSize: CR80
*PageSize CR80/CR80 Card: "<</PageSize[153 242.65]>>setpagedevice"
*CloseUI: *PageSize
*OpenUI *PageRegion/Media Size: PickOne
*OrderDependency: 10 AnySetup *PageRegion
*DefaultPageRegion: CR80
*PageRegion CR80/CR80 Card: "<</PageSize[153 242.65]>>setpagedevice"
*CloseUI: *PageRegion
*DefaultImageableArea: CR80
*ImageableArea CR80/CR80 Card: "0 0 153 242.65"
*DefaultPaperDimension: CR80
*PaperDimension CR80/CR80 Card: "153 242.65"
*OpenUI *Resolution/Resolution: PickOne
*OrderDependency: 10 AnySetup *Resolution
*DefaultResolution: 300dpi
*Resolution 300dpi/300 DPI: "<</HWResolution[300 300]>>setpagedevice"
*CloseUI: *Resolution
*OpenUI *Duplex/2-Sided Printing: PickOne
*OrderDependency: 10 AnySetup *Duplex
*DefaultDuplex: None
*Duplex None/Off: "<</Duplex false>>setpagedevice"
*Duplex DuplexNoTumble/Long Edge: "<</Duplex true/Tumble false>>setpagedevice"
*Duplex DuplexTumble/Short Edge: "<</Duplex true/Tumble true>>setpagedevice"
*CloseUI: *Duplex
"#;

/// The two kinds of printer the tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `ippeveprinter`'s built-in office printer: one-sided, 600 dpi, letter/legal/A4/envelopes.
    Simplex,
    /// A card printer described by `CARD_PPD`.
    Card,
}

/// A running `ippeveprinter`; dropping it stops the printer, then its D-Bus bus, then removes
/// its directory.
pub struct TestPrinter {
    printer: Child,
    name: String,
    port: u16,
    sandbox: Sandbox,
}

/// The temporary directory (spool, PPD, logs, bus socket) and the D-Bus daemon living in it.
struct Sandbox {
    dir: tempfile::TempDir,
    dbus_pid: u32,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // dbus-daemon forked away from us, so it is not a Child to kill.
        let _ = Command::new("kill").arg(self.dbus_pid.to_string()).status();
    }
}

impl TestPrinter {
    /// A plain one-sided office printer taking PDF, JPEG and PNG.
    pub async fn simplex() -> TestPrinter {
        TestPrinter::start(Kind::Simplex).await
    }

    /// A CR80 card printer: two-sided, 300 dpi, PDF; it keeps each document and runs
    /// `/bin/true` on it, so jobs complete at once.
    pub async fn card() -> TestPrinter {
        TestPrinter::start(Kind::Card).await
    }

    async fn start(kind: Kind) -> TestPrinter {
        let ippeveprinter = tool("ippeveprinter", "cups-ipp-utils");
        let dbus_daemon = tool("dbus-daemon", "dbus");
        let dir = tempfile::tempdir().expect("temporary directory");
        fs::create_dir(dir.path().join("spool")).expect("spool directory");
        if kind == Kind::Card {
            fs::write(dir.path().join("card.ppd"), CARD_PPD).expect("write card.ppd");
        }
        let dbus_pid = start_dbus(&dbus_daemon, dir.path());
        let sandbox = Sandbox { dir, dbus_pid };
        let mut failures = String::new();
        for attempt in 0..PORT_ATTEMPTS {
            // Another process may take the port between our probe and ippeveprinter's bind;
            // the printer then exits and the next attempt takes a fresh port.
            let port = free_port();
            let name = format!("Scanline {kind:?} {port}");
            let log = sandbox.dir.path().join(format!("ippeveprinter-{attempt}.log"));
            let mut printer =
                spawn_printer(&ippeveprinter, sandbox.dir.path(), kind, port, &name, &log);
            match wait_until_answering(&mut printer, port, &name, &log).await {
                Ok(()) => return TestPrinter { printer, name, port, sandbox },
                Err(why) => {
                    let _ = printer.kill();
                    let _ = printer.wait();
                    failures.push_str(&format!("port {port}: {why}\n"));
                }
            }
        }
        panic!("ippeveprinter did not start on {PORT_ATTEMPTS} ports:\n{failures}");
    }

    /// The printer's address, `ipp://127.0.0.1:PORT/ipp/print`.
    pub fn uri(&self) -> String {
        uri(self.port)
    }

    /// The name the printer was started with (its `printer-name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The documents the printer received and kept, oldest job first.
    pub fn spool_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(self.sandbox.dir.path().join("spool"))
            .expect("read the spool directory")
            .map(|e| e.expect("spool entry").path())
            // With `-c`, ippeveprinter also keeps the command's output as "<job>.prn"; that
            // is not a document anyone sent.
            .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "prn"))
            .collect();
        // ippeveprinter names them "<job id>-<job name>.<ext>": order by job id, not as text.
        files.sort_by_key(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let id = name.split('-').next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
            (id, name)
        });
        files
    }

    /// Waits until the spool holds at least `n` documents and returns them all; fails the test
    /// when that takes longer than `timeout`.
    pub async fn wait_for_spool(&self, n: usize, timeout: Duration) -> Vec<PathBuf> {
        let deadline = Instant::now() + timeout;
        loop {
            let files = self.spool_files();
            if files.len() >= n {
                return files;
            }
            assert!(
                Instant::now() < deadline,
                "the printer kept {} documents within {timeout:?}, expected {n}: {files:?}",
                files.len(),
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestPrinter {
    fn drop(&mut self) {
        let _ = self.printer.kill();
        let _ = self.printer.wait();
    }
}

fn uri(port: u16) -> String {
    format!("ipp://127.0.0.1:{port}/ipp/print")
}

/// The path of `name`, looked up on PATH and then in the sbin directories, which are often not
/// on an ordinary user's PATH; fails the test naming the Debian package when it is missing.
fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: the printing tests need a real IPP printer. Install \
                 the Debian package {package} (apt-get install {package}), or run tests/run, \
                 which installs it."
            )
        })
}

/// Starts a private D-Bus bus in `dir` (ippeveprinter needs a system bus even with DNS-SD off)
/// and returns the daemon's pid.
fn start_dbus(dbus_daemon: &Path, dir: &Path) -> u32 {
    // The pid goes to a file: the forked daemon could otherwise hold a stdout pipe open.
    let pid_file = dir.join("dbus.pid");
    let status = Command::new(dbus_daemon)
        .arg("--session")
        .arg(format!("--address=unix:path={}", dir.join("dbus.sock").display()))
        .args(["--fork", "--print-pid"])
        .stdin(Stdio::null())
        .stdout(fs::File::create(&pid_file).expect("create dbus.pid"))
        .status()
        .expect("run dbus-daemon");
    assert!(status.success(), "dbus-daemon failed: {status}");
    let text = fs::read_to_string(&pid_file).expect("read dbus.pid");
    text.trim().parse().unwrap_or_else(|_| panic!("dbus-daemon printed no pid: {text:?}"))
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

fn spawn_printer(
    ippeveprinter: &Path,
    dir: &Path,
    kind: Kind,
    port: u16,
    name: &str,
    log: &Path,
) -> Child {
    let mut command = Command::new(ippeveprinter);
    command
        .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", dir.join("dbus.sock").display()))
        .arg("-k")
        .arg("-d")
        .arg(dir.join("spool"))
        .args(["-p", &port.to_string(), "-n", "localhost", "-r", "off"]);
    match kind {
        Kind::Simplex => command.args(["-f", "application/pdf,image/jpeg,image/png"]),
        // With -P, ippeveprinter takes its formats from the PPD and refuses -f.
        Kind::Card => command.arg("-P").arg(dir.join("card.ppd")).args(["-c", "/bin/true"]),
    };
    let log = fs::File::create(log).expect("create the printer log");
    command
        .arg(name)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("start ippeveprinter")
}

/// Polls Get-Printer-Attributes until the printer named `name` answers on `port`; checking the
/// name makes sure it is ours and not another process that owns the port. `Err` says why not,
/// with the printer's log.
async fn wait_until_answering(
    printer: &mut Child,
    port: u16,
    name: &str,
    log: &Path,
) -> Result<(), String> {
    let uri: Uri = uri(port).parse().expect("printer URI");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let log = || fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = printer.try_wait().expect("ippeveprinter status") {
            return Err(format!("ippeveprinter exited with {status}:\n{}", log()));
        }
        if Instant::now() > deadline {
            return Err(format!("no answer within {START_TIMEOUT:?}:\n{}", log()));
        }
        if printer_name(&uri).await.as_deref() == Some(name) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The printer-name of whatever answers at `uri`, if anything does.
async fn printer_name(uri: &Uri) -> Option<String> {
    let request = IppOperationBuilder::get_printer_attributes(uri.clone())
        .attribute("printer-name")
        .build()
        .ok()?
        .into_ipp_request();
    let client =
        AsyncIppClient::builder(uri.clone()).request_timeout(Duration::from_secs(2)).build();
    let response = client.send(request).await.ok()?;
    let group = response.attributes().first_of(DelimiterTag::PrinterAttributes)?;
    Some(group.get("printer-name")?.value().to_string())
}
