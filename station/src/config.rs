//! The station's configuration file (TOML). Parsed once at start-up into checked values, so a
//! bad file fails at once with a clear message; unknown keys are errors. The token is read from
//! its own file and never printed (`Debug` redacts it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scanline_core::fingerprint::{Fingerprint, NotAFingerprint};
use serde::Deserialize;

use crate::scanner::decode::Content;
use crate::scanner::decode::framing::Framing;
use crate::scanner::decode::hidpos::HidPosLayout;
use crate::scanner::decode::keyboard::Layout;
pub use crate::store::batches::BatchTemplate;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub station: StationConfig,
    /// The batches this station makes: the first is the default for a new day.
    #[serde(rename = "batch_template")]
    pub batch_templates: Vec<BatchTemplate>,
    /// Scanners and card readers; none is fine (kiosk entry and stdin still work).
    #[serde(default, rename = "scanner")]
    pub scanners: Vec<ScannerConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Base URL of the Scanline server, e.g. `http://192.0.2.10:8080`.
    pub url: String,
    /// File holding the station's bearer token (written by `scanline-server station add`).
    pub token_file: PathBuf,
    /// Seconds between roster refreshes.
    #[serde(default = "default_roster_refresh")]
    pub roster_refresh_secs: u64,
    /// Seconds to wait for the server before a request counts as failed.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Trust only the certificate authority (or self-signed certificate) in this PEM file.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Trust only the server certificate with this SHA-256 fingerprint (as printed by
    /// `scanline-server tls self-signed`).
    #[serde(default)]
    pub pin_sha256: Option<String>,
    /// What `ca_file` and `pin_sha256` say together, settled when the file is read.
    #[serde(skip)]
    pub trust: Trust,
}

/// How the station trusts the server's certificate (DESIGN §13).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's certificate authorities and the public ones bundled.
    #[default]
    System,
    /// Only the certificate authority (or self-signed certificate) in this PEM file.
    CaFile(PathBuf),
    /// Only the one certificate with this fingerprint.
    Pinned(Fingerprint),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationConfig {
    /// Where the station keeps its database.
    pub data_dir: PathBuf,
    /// Where the kiosk page is served. Loopback unless the kiosk screen is another machine.
    #[serde(default = "default_kiosk_listen")]
    pub kiosk_listen: SocketAddr,
    /// The same card read again within this many milliseconds is a double read, dropped.
    #[serde(default = "default_debounce")]
    pub debounce_ms: u64,
    /// Read payloads typed on standard input (one per line).
    #[serde(default)]
    pub stdin: bool,
}

/// One input device.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawScanner")]
pub struct ScannerConfig {
    /// A name for the kiosk, e.g. "front door".
    pub name: String,
    pub device: DeviceConfig,
    /// What a serial or keyboard device reads: barcodes, stripe tracks or prox numbers.
    pub content: Content,
}

/// How to reach the device, by transport.
#[derive(Debug, Clone)]
pub enum DeviceConfig {
    /// RS-232 or USB virtual COM port (`/dev/ttyACM0`, `/dev/serial/by-id/...`).
    Serial { path: PathBuf, baud: u32, framing: Framing },
    /// A keyboard-wedge scanner's Linux input device, grabbed exclusively.
    Keyboard { path: PathBuf, layout: Layout, framing: Framing },
    /// A HID POS barcode scanner (usage page 0x8C), found by USB IDs, whose reports are laid
    /// out as its maker's are.
    HidPos { vendor_id: u16, product_id: u16, layout: HidPosLayout },
    /// A HID magnetic-stripe reader (MagTek report format), found by USB IDs.
    HidMagstripe { vendor_id: u16, product_id: u16 },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScannerKind {
    Serial,
    Keyboard,
    HidPos,
    HidMagstripe,
}

/// A `[[scanner]]` table as written; checked into a `ScannerConfig`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    name: String,
    /// serial, keyboard, hid_pos or hid_magstripe.
    kind: ScannerKind,
    /// Device path (serial and keyboard).
    path: Option<PathBuf>,
    /// Serial speed; 9600 when omitted.
    baud: Option<u32>,
    /// Prefix, suffix and AIM identifier the device adds (serial and keyboard).
    framing: Option<Framing>,
    /// The keyboard layout the scanner types in (keyboard); us when omitted.
    layout: Option<Layout>,
    /// USB IDs (HID kinds).
    vendor_id: Option<u16>,
    product_id: Option<u16>,
    /// The HID POS report layout (hid_pos): honeywell or newland; the maker's when omitted.
    report_layout: Option<HidPosLayout>,
    /// barcode (default), magstripe or prox: how the text becomes a card key.
    #[serde(default)]
    content: Content,
}

impl TryFrom<RawScanner> for ScannerConfig {
    type Error = String;

    fn try_from(r: RawScanner) -> Result<Self, String> {
        let name = r.name.clone();
        let needs = |what: &str| format!("scanner {name:?} of kind {:?} needs {what}", r.kind);
        if r.report_layout.is_some() && !matches!(r.kind, ScannerKind::HidPos) {
            return Err(format!("scanner {name:?}: report_layout is for hid_pos scanners only"));
        }
        let device = match r.kind {
            ScannerKind::Serial => DeviceConfig::Serial {
                path: r.path.clone().ok_or_else(|| needs("path"))?,
                baud: r.baud.unwrap_or(9600),
                framing: r.framing.clone().unwrap_or_default(),
            },
            ScannerKind::Keyboard => DeviceConfig::Keyboard {
                path: r.path.clone().ok_or_else(|| needs("path"))?,
                layout: r.layout.unwrap_or(Layout::Us),
                framing: r.framing.clone().unwrap_or_default(),
            },
            ScannerKind::HidPos => {
                let vendor_id = r.vendor_id.ok_or_else(|| needs("vendor_id"))?;
                DeviceConfig::HidPos {
                    vendor_id,
                    product_id: r.product_id.ok_or_else(|| needs("product_id"))?,
                    layout: r.report_layout.unwrap_or(HidPosLayout::for_vendor(vendor_id)),
                }
            }
            ScannerKind::HidMagstripe => DeviceConfig::HidMagstripe {
                vendor_id: r.vendor_id.ok_or_else(|| needs("vendor_id"))?,
                product_id: r.product_id.ok_or_else(|| needs("product_id"))?,
            },
        };
        // A HID swipe reader's tracks become the card key in the device layer.
        let content = match (&device, r.content) {
            (DeviceConfig::HidMagstripe { .. }, Content::Barcode | Content::Magstripe) => {
                Content::Magstripe
            }
            (DeviceConfig::HidMagstripe { .. }, other) => {
                return Err(format!(
                    "scanner {name:?}: a hid_magstripe reader reads magnetic stripes, not {other:?}"
                ));
            }
            (_, content) => content,
        };
        Ok(Self { name, device, content })
    }
}

fn default_roster_refresh() -> u64 {
    30
}
fn default_request_timeout() -> u64 {
    10
}
fn default_kiosk_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8090))
}
fn default_debounce() -> u64 {
    1500
}

/// A loaded configuration with its token.
#[derive(Clone)]
pub struct Loaded {
    pub config: Config,
    pub token: String,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("config", &self.config)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        config.check().map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let url = self.server.url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "server.url {:?} must start with http:// or https://",
                self.server.url
            ));
        }
        if self.server.roster_refresh_secs == 0 || self.server.request_timeout_secs == 0 {
            return Err(
                "server.roster_refresh_secs and request_timeout_secs must be at least 1".into()
            );
        }
        if self.batch_templates.is_empty() {
            return Err("at least one [[batch_template]] is needed".into());
        }
        for t in &self.batch_templates {
            if t.name.trim().is_empty() || t.service_type_ids.is_empty() {
                return Err(format!(
                    "batch template {:?} needs a name and service_type_ids",
                    t.name
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.scanners {
            if !names.insert(s.name.as_str()) {
                return Err(format!("two scanners are named {:?}", s.name));
            }
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.server.request_timeout_secs)
    }

    pub fn debounce(&self) -> Duration {
        Duration::from_millis(self.station.debounce_ms)
    }
}

impl Config {
    /// Makes every path in the configuration absolute, a relative one taken from the
    /// configuration file's folder (never from the working directory, which under systemd is
    /// `/`).
    fn resolve_paths(&mut self, config_file: &Path) {
        let folder = std::fs::canonicalize(config_file)
            .or_else(|_| std::path::absolute(config_file))
            .ok()
            .and_then(|f| f.parent().map(Path::to_owned))
            .unwrap_or_default();
        let from_folder = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = folder.join(&*p);
            }
        };
        from_folder(&mut self.server.token_file);
        if let Some(ca) = &mut self.server.ca_file {
            from_folder(ca);
        }
        from_folder(&mut self.station.data_dir);
        for scanner in &mut self.scanners {
            match &mut scanner.device {
                DeviceConfig::Serial { path, .. } | DeviceConfig::Keyboard { path, .. } => {
                    from_folder(path);
                }
                DeviceConfig::HidPos { .. } | DeviceConfig::HidMagstripe { .. } => {}
            }
        }
    }
}

/// Reads the config file and the token file it names. Relative paths in it are taken from
/// its folder.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
    let mut config = Config::parse(&text, path)?;
    let invalid =
        |message: String| ConfigError::Invalid { path: path.display().to_string(), message };
    if config.server.ca_file.is_some() && config.server.pin_sha256.is_some() {
        return Err(invalid("set ca_file or pin_sha256, not both".into()));
    }
    config.resolve_paths(path);
    config.server.trust = match (&config.server.ca_file, &config.server.pin_sha256) {
        (Some(ca), _) => Trust::CaFile(ca.clone()),
        (None, Some(pin)) => Trust::Pinned(
            pin.parse().map_err(|e: NotAFingerprint| invalid(format!("pin_sha256: {e}")))?,
        ),
        (None, None) => Trust::System,
    };
    let token_path = config.server.token_file.clone();
    let token = std::fs::read_to_string(&token_path)
        .map_err(|source| ConfigError::Read { path: token_path.display().to_string(), source })?
        .trim()
        .to_owned();
    if token.is_empty() {
        return Err(ConfigError::Invalid {
            path: token_path.display().to_string(),
            message: "the token file is empty".into(),
        });
    }
    Ok(Loaded { config, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("test.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_checked_in_example_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("station.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let c = Config::parse(&text, &path).unwrap();
        assert_eq!(c.batch_templates.len(), 2);
        assert_eq!(c.scanners.len(), 4);
        assert_eq!(c.scanners[2].content, Content::Prox);
        assert!(matches!(c.scanners[0].device, DeviceConfig::Serial { baud: 115_200, .. }));
        assert!(matches!(c.scanners[1].device, DeviceConfig::Keyboard { layout: Layout::Us, .. }));
        assert!(matches!(
            c.scanners[3].device,
            DeviceConfig::HidMagstripe { vendor_id: 0x0801, product_id: 0x0002 }
        ));
        assert_eq!(c.debounce(), Duration::from_millis(1500));
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let base = "[server]\nurl = \"http://s\"\ntoken_file = \"t\"\n[station]\ndata_dir = \"d\"\n\
                    [[batch_template]]\nname = \"L\"\nprogram_id = 1\nservice_type_ids = [1]\n";
        assert!(parse(base).is_ok());
        let cases = [
            (format!("{base}[[scanner]]\nname = \"a\"\nkind = \"serial\"\n"), "needs path"),
            (
                format!("{base}[[scanner]]\nname = \"a\"\nkind = \"laser\"\npath = \"/x\"\n"),
                "unknown variant",
            ),
            (
                format!(
                    "{base}[[scanner]]\nname = \"a\"\nkind = \"serial\"\npath = \"/x\"\nspeed = 1\n"
                ),
                "unknown field",
            ),
            (
                format!(
                    "{base}[[scanner]]\nname = \"a\"\nkind = \"serial\"\npath = \"/x\"\n[[scanner]]\nname = \"a\"\nkind = \"serial\"\npath = \"/y\"\n"
                ),
                "two scanners",
            ),
            (base.replace("http://s", "ftp://s"), "must start with http"),
            (
                base.replace(
                    "[[batch_template]]\nname = \"L\"\nprogram_id = 1\nservice_type_ids = [1]\n",
                    "",
                ),
                "batch_template",
            ),
            (format!("{base}colour = \"red\"\n"), "unknown field"),
        ];
        for (text, says) in cases {
            let err = parse(&text).unwrap_err();
            assert!(err.contains(says), "expected {says:?} in {err}");
        }
    }

    #[test]
    fn the_token_is_read_from_its_file_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t"), "sls_secret\n").unwrap();
        let cfg = dir.path().join("s.toml");
        std::fs::write(
            &cfg,
            "[server]\nurl = \"http://s\"\ntoken_file = \"t\"\n[station]\ndata_dir = \"d\"\n\
             [[batch_template]]\nname = \"L\"\nprogram_id = 1\nservice_type_ids = [1]\n",
        )
        .unwrap();
        let loaded = load(&cfg).unwrap();
        assert_eq!(loaded.token, "sls_secret");
        assert!(!format!("{loaded:?}").contains("sls_secret"));
        std::fs::write(dir.path().join("t"), "  \n").unwrap();
        assert!(load(&cfg).unwrap_err().to_string().contains("empty"));
    }
}

#[cfg(test)]
mod trust_tests {
    use super::*;

    fn load_with(trust: &str) -> Result<Loaded, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t"), "sls_token").unwrap();
        let path = dir.path().join("station.toml");
        std::fs::write(
            &path,
            format!(
                "[server]\nurl = \"https://s\"\ntoken_file = \"t\"\n{trust}\n[station]\ndata_dir = \"d\"\n\
                 [[batch_template]]\nname = \"L\"\nprogram_id = 1\nservice_type_ids = [1]\n"
            ),
        )
        .unwrap();
        load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn trust_settings_are_checked_when_the_configuration_is_read() {
        let pin = vec!["AB"; 32].join(":");
        assert!(load_with(&format!("pin_sha256 = \"{pin}\"")).is_ok());
        let e = load_with("pin_sha256 = \"AB:CD\"").unwrap_err();
        assert!(e.contains("64 hex digits"), "{e}");
        let e = load_with(&format!("pin_sha256 = \"{pin}\"\nca_file = \"ca.pem\"")).unwrap_err();
        assert!(e.contains("not both"), "{e}");
        let loaded = load_with("ca_file = \"ca.pem\"").unwrap();
        assert!(
            loaded.config.server.ca_file.unwrap().is_absolute(),
            "resolved from the file's folder"
        );
    }
}
