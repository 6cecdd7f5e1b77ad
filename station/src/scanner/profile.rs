//! The per-model scanner and card-reader profiles of `firmware-configs/` (DESIGN §8.3): the
//! schema of one TOML file, and the loader that parses a file or a whole folder and checks what
//! the schema alone cannot (sane serial settings, menu commands the wire protocol can carry,
//! setup steps that fit the transports). A profile says how to recognise a device (USB ids),
//! which transports it offers (Scanline's recommended one first), how its output is framed, the
//! keyboard layout it types in, and how to set it up for Scanline, with how to verify each step.
//!
//! This module only reads and checks profiles. It does not talk to devices (`configure` sends
//! the serial commands, the device layer opens what is plugged in), and it does not map
//! onto the decoders beyond the framing, which is the decoders' own type.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use crate::scanner::decode::hidpos::{HidPosLayout, NEWLAND_VENDOR_ID};
use serde::{Deserialize, Serialize};

/// One device model, as described by one file in `firmware-configs/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The file stem, for example `honeywell-voyager-1250g`: lowercase letters, digits and `-`.
    pub id: String,
    /// The maker as a person would say it, for example `Honeywell`.
    pub vendor: String,
    /// The model as printed on the device, for example `Voyager 1250g`.
    pub model: String,
    /// What the device reads.
    pub kind: DeviceKind,
    /// How the station recognises the device on USB.
    pub usb: UsbIds,
    /// The modes the device supports, the one Scanline recommends first.
    pub transports: Vec<Transport>,
    /// What Scanline wants around each payload once the device is set up.
    #[serde(default)]
    pub framing: FramingSpec,
    /// The keyboard layout the device is set to for keyboard modes: `us`, `uk`, `de`, `fr`, `es`.
    /// Required when a keyboard transport is listed, because key codes only mean characters
    /// through a layout.
    #[serde(default)]
    pub layout: Option<String>,
    /// The steps that set the device up for Scanline, in order.
    #[serde(default)]
    pub setup: Vec<SetupStep>,
    /// Anything an installer should know that fits nowhere else.
    #[serde(default)]
    pub notes: Option<String>,
}

/// What a device reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Barcode,
    Magstripe,
    Prox,
}

/// USB identification. Many scanners change their product id with the interface mode, so a
/// profile lists every product id it knows and says in `notes` which mode each one is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsbIds {
    /// The USB vendor id (`lsusb` shows it as the first half of `ID vvvv:pppp`).
    pub vendor_id: u16,
    /// The product ids this model is known to use. Empty only for a generic profile that matches
    /// on the vendor id alone, and then `notes` must say why.
    pub product_ids: Vec<u16>,
    /// The USB interface number to use when the device is composite, if it matters.
    #[serde(default)]
    pub interface: Option<u8>,
    /// Which interface mode each product id belongs to, and how sure the profile is of it.
    #[serde(default)]
    pub notes: Option<String>,
}

/// One way the device can talk to the station.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transport {
    /// RS-232 or a USB virtual COM port (CDC-ACM, `/dev/ttyACM*`).
    Serial {
        baud: u32,
        data_bits: u8,
        /// `none`, `even` or `odd`.
        parity: String,
        stop_bits: u8,
        /// `none`, `hardware` (RTS/CTS) or `software` (XON/XOFF).
        flow_control: String,
    },
    /// HID keyboard wedge: the device types its payload.
    Keyboard,
    /// HID point-of-sale scanner reports on the given usage page (0x8C for bar code scanners),
    /// laid out as `layout` says (the maker's layout when omitted).
    HidPos {
        usage_page: u16,
        #[serde(default)]
        layout: Option<HidPosLayout>,
    },
    /// HID magnetic-stripe reader reports.
    HidMagstripe,
}

impl Transport {
    /// The `mode` word of this transport in a profile file.
    pub fn mode(&self) -> &'static str {
        match self {
            Transport::Serial { .. } => "serial",
            Transport::Keyboard => "keyboard",
            Transport::HidPos { .. } => "hid_pos",
            Transport::HidMagstripe => "hid_magstripe",
        }
    }
}

/// The framing Scanline wants the device to produce around each payload: the same type the
/// station's decoders read, so a profile's framing can be used as it is.
pub type FramingSpec = crate::scanner::decode::framing::Framing;

/// One step of setting a device up for Scanline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetupStep {
    /// What the step does, in words for the person doing it.
    pub description: String,
    pub method: SetupMethod,
    /// For `serial_command`: the Honeywell-style menu command body (tag, subtag, data), for
    /// example `232BAD9` or `SUFBK2990D`, without the `SYN M CR` prefix and the terminator.
    #[serde(default)]
    pub command: Option<String>,
    /// For `programming_barcode`: the content to print, or, where the vendor does not publish it,
    /// the name of the barcode in the vendor's manual.
    #[serde(default)]
    pub barcode: Option<String>,
    /// How a person or the station verifies that the step took effect.
    pub verify: String,
}

/// How a setup step reaches the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupMethod {
    /// Sent by the station over the serial transport (see `configure`).
    SerialCommand,
    /// Scanned by the device from a printed sheet.
    ProgrammingBarcode,
    /// Done with the vendor's configuration program.
    VendorTool,
}

/// Why a profile file or folder could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list profile folder {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML does not parse or does not fit the schema; `message` is the `toml` crate's,
    /// which gives the line and column.
    #[error("profile {} does not parse: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(
        "profile {} says id = {id:?}, but its file name says {stem:?}: the id must equal the file \
         name without .toml",
        path.display()
    )]
    IdMismatch { path: PathBuf, id: String, stem: String },
    #[error("profile {} is not valid:\n  - {}", path.display(), problems.join("\n  - "))]
    Invalid { path: PathBuf, problems: Vec<String> },
    #[error("profiles {} and {} both have id {id:?}", first.display(), second.display())]
    DuplicateId { id: String, first: PathBuf, second: PathBuf },
}

/// The layouts the keyboard decoder knows.
pub const LAYOUTS: [&str; 5] = ["us", "uk", "de", "fr", "es"];

/// Baud rates serial scanners and USB-serial adapters actually offer.
pub const STANDARD_BAUDS: [u32; 11] =
    [300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115_200, 230_400];

/// The usage page of HID point-of-sale bar code scanners (HID Usage Tables, "Bar Code Scanner").
const HID_POS_USAGE_PAGE: u16 = 0x8C;

/// Characters a menu command body must not contain. On the wire they end a command (`.` stores
/// it in the active table, `!` only until power-off, `@` in the custom defaults, `&` is the other
/// storage delimiter some firmware accepts), separate several commands in one message (`,`, `;`)
/// or turn it into a query (`?`, `^`, `*`) whose answer is a value, not one status byte. A step
/// is exactly one command so that one answer tells whether it took.
const MENU_COMMAND_DELIMITERS: [char; 9] = ['.', '!', '@', '&', ',', ';', '?', '^', '*'];

/// Reads one profile file, checks that its id is its file stem, and validates it.
pub fn load_file(path: &Path) -> Result<Profile, ProfileError> {
    let text = fs::read_to_string(path)
        .map_err(|source| ProfileError::Read { path: path.to_owned(), source })?;
    let profile = parse(path, &text)?;
    let stem = path.file_stem().and_then(OsStr::to_str).unwrap_or_default();
    if profile.id != stem {
        return Err(ProfileError::IdMismatch {
            path: path.to_owned(),
            id: profile.id,
            stem: stem.to_owned(),
        });
    }
    validate(&profile)
        .map_err(|problems| ProfileError::Invalid { path: path.to_owned(), problems })?;
    Ok(profile)
}

/// Reads every `*.toml` file of a folder (README.md, hidden files and anything else are
/// ignored), sorted by id. Two files with the same id are an error.
pub fn load_dir(dir: &Path) -> Result<Vec<Profile>, ProfileError> {
    let read_dir_error = |source| ProfileError::ReadDir { dir: dir.to_owned(), source };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_dir_error)? {
        let path = entry.map_err(read_dir_error)?.path();
        if is_profile_file(&path) {
            paths.push(path);
        }
    }
    // Loading in path order makes "the first bad file" the same on every machine.
    paths.sort();

    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    let mut profiles = Vec::with_capacity(paths.len());
    for path in paths {
        let profile = load_file(&path)?;
        if let Some(first) = seen.get(&profile.id) {
            return Err(ProfileError::DuplicateId {
                id: profile.id,
                first: first.clone(),
                second: path,
            });
        }
        seen.insert(profile.id.clone(), path);
        profiles.push(profile);
    }
    profiles.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(profiles)
}

fn is_profile_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(OsStr::to_str) else { return false };
    // Editors leave hidden lock and backup files next to the ones being edited.
    !name.starts_with('.')
        && path.extension().and_then(OsStr::to_str).is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        && path.is_file()
}

fn parse(path: &Path, text: &str) -> Result<Profile, ProfileError> {
    toml::from_str(text).map_err(|e| ProfileError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

/// Checks what the schema cannot: every problem found, each as one sentence that says what is
/// wrong and what is allowed.
pub fn validate(p: &Profile) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    check_names(p, &mut problems);
    check_usb(&p.usb, &mut problems);
    check_transports(p, &mut problems);
    check_framing(&p.framing, &mut problems);
    check_layout(p, &mut problems);
    check_setup(p, &mut problems);
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn check_names(p: &Profile, problems: &mut Vec<String>) {
    if p.id.is_empty()
        || !p.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problems.push(format!(
            "id {:?} must be lowercase letters, digits and '-' (it is also the file name)",
            p.id
        ));
    }
    if p.vendor.trim().is_empty() {
        problems.push("vendor is empty: name the maker, for example \"Honeywell\"".to_owned());
    }
    if p.model.trim().is_empty() {
        problems.push("model is empty: name the model as printed on the device".to_owned());
    }
}

fn check_usb(usb: &UsbIds, problems: &mut Vec<String>) {
    if usb.vendor_id == 0 {
        problems.push(
            "usb.vendor_id is 0: give the vendor id from the device's USB descriptor (lsusb \
             shows it as the first half of ID vvvv:pppp)"
                .to_owned(),
        );
    }
    for (i, &id) in usb.product_ids.iter().enumerate() {
        if id == 0 {
            problems.push(format!("usb.product_ids[{i}] is 0: product ids are never 0"));
        } else if usb.product_ids[..i].contains(&id) {
            problems.push(format!("usb.product_ids lists {id:#06x} twice"));
        }
    }
    let has_notes = usb.notes.as_deref().is_some_and(|n| !n.trim().is_empty());
    if usb.product_ids.is_empty() && !has_notes {
        problems.push(
            "usb.product_ids is empty, which matches any product of the vendor: say why in \
             usb.notes (for example, the product id varies by model and mode)"
                .to_owned(),
        );
    }
}

fn check_transports(p: &Profile, problems: &mut Vec<String>) {
    if p.transports.is_empty() {
        problems
            .push("no transports: list at least one, the one Scanline recommends first".to_owned());
    }
    for (i, t) in p.transports.iter().enumerate() {
        if p.transports[..i].iter().any(|o| o.mode() == t.mode()) {
            problems.push(format!("transport mode {} is listed twice", t.mode()));
        }
        let fits = match t {
            Transport::Serial { .. } | Transport::Keyboard => true,
            Transport::HidPos { .. } => p.kind == DeviceKind::Barcode,
            Transport::HidMagstripe => p.kind == DeviceKind::Magstripe,
        };
        if !fits {
            problems.push(format!(
                "transport {} does not fit a device of kind {:?}",
                t.mode(),
                p.kind
            ));
        }
        match t {
            Transport::Serial { baud, data_bits, parity, stop_bits, flow_control } => {
                check_serial(*baud, *data_bits, parity, *stop_bits, flow_control, problems);
            }
            Transport::HidPos { usage_page, layout } => {
                let maker = HidPosLayout::for_vendor(p.usb.vendor_id);
                if layout.is_some_and(|l| l != maker) && p.usb.vendor_id == NEWLAND_VENDOR_ID {
                    problems
                        .push("hid_pos layout: Newland scanners send Newland's layout".to_owned());
                }
                // Vendor-defined pages (0xFF00 and up) are how some scanners do HID POS.
                if *usage_page != HID_POS_USAGE_PAGE && *usage_page < 0xFF00 {
                    problems.push(format!(
                        "hid_pos usage_page {usage_page:#06x} is neither the bar code scanner \
                         page 0x008c nor a vendor-defined page (0xff00 and up)"
                    ));
                }
            }
            Transport::Keyboard | Transport::HidMagstripe => {}
        }
    }
}

fn check_serial(
    baud: u32,
    data_bits: u8,
    parity: &str,
    stop_bits: u8,
    flow_control: &str,
    problems: &mut Vec<String>,
) {
    if !STANDARD_BAUDS.contains(&baud) {
        problems
            .push(format!("serial baud {baud} is not a standard rate (one of {STANDARD_BAUDS:?})"));
    }
    if !matches!(data_bits, 7 | 8) {
        problems.push(format!("serial data_bits {data_bits} must be 7 or 8"));
    }
    if !matches!(parity, "none" | "even" | "odd") {
        problems.push(format!("serial parity {parity:?} must be \"none\", \"even\" or \"odd\""));
    }
    if !matches!(stop_bits, 1 | 2) {
        problems.push(format!("serial stop_bits {stop_bits} must be 1 or 2"));
    }
    if !matches!(flow_control, "none" | "hardware" | "software") {
        problems.push(format!(
            "serial flow_control {flow_control:?} must be \"none\", \"hardware\" or \"software\""
        ));
    }
}

fn check_framing(f: &FramingSpec, problems: &mut Vec<String>) {
    if f.suffix.is_empty() {
        problems.push(
            "framing.suffix is empty: Scanline needs a terminator (CR is usual) to know where a \
             scan ends"
                .to_owned(),
        );
    }
    for (name, value) in [("prefix", &f.prefix), ("suffix", &f.suffix)] {
        if !value.is_ascii() || value.len() > 8 {
            problems.push(format!("framing.{name} {value:?} must be at most 8 ASCII characters"));
        }
    }
    if f.max_len == 0 || f.max_len > 4096 {
        problems.push(format!("framing.max_len {} must be between 1 and 4096", f.max_len));
    }
}

fn check_layout(p: &Profile, problems: &mut Vec<String>) {
    match p.layout.as_deref() {
        Some(layout) if !LAYOUTS.contains(&layout) => problems.push(format!(
            "layout {layout:?} is not one Scanline decodes (one of {})",
            LAYOUTS.join(", ")
        )),
        None if p.transports.contains(&Transport::Keyboard) => problems.push(
            "a keyboard transport is listed but no layout: say which layout the device types in \
             (us, uk, de, fr, es)"
                .to_owned(),
        ),
        _ => {}
    }
}

fn check_setup(p: &Profile, problems: &mut Vec<String>) {
    let has_serial = p.transports.iter().any(|t| matches!(t, Transport::Serial { .. }));
    for (i, step) in p.setup.iter().enumerate() {
        let n = i + 1;
        let at = format!("setup step {n} ({:?})", step.description);
        if step.description.trim().is_empty() {
            problems.push(format!("setup step {n} has no description"));
        }
        if step.verify.trim().is_empty() {
            problems.push(format!("{at} does not say how to verify it (verify is empty)"));
        }
        match step.method {
            SetupMethod::SerialCommand => {
                if !has_serial {
                    problems.push(format!(
                        "{at} is a serial_command, but the profile has no serial transport to \
                         send it on"
                    ));
                }
                let checked = match step.command.as_deref() {
                    None => Err(format!("{at} is a serial_command and needs `command`")),
                    Some(command) => {
                        check_menu_command(command).map_err(|why| format!("{at}: {why}"))
                    }
                };
                problems.extend(checked.err());
            }
            SetupMethod::ProgrammingBarcode => {
                if step.barcode.as_deref().is_none_or(|b| b.trim().is_empty()) {
                    problems.push(format!(
                        "{at} is a programming_barcode step and needs `barcode` (its content, or \
                         the name of the barcode in the vendor's manual)"
                    ));
                }
            }
            SetupMethod::VendorTool => {}
        }
    }
}

/// Checks that a menu command body can be sent as one Honeywell-style menu command: a tag of
/// three uppercase letters or digits, a subtag of three, then optional data, all printable ASCII
/// and free of the protocol's delimiters.
pub fn check_menu_command(command: &str) -> Result<(), String> {
    if let Some(c) = command.chars().find(|c| !c.is_ascii() || c.is_ascii_control()) {
        return Err(format!(
            "command {command:?} contains {c:?}: only printable ASCII may be sent, control \
             characters frame the protocol"
        ));
    }
    if let Some(c) = command.chars().find(|c| MENU_COMMAND_DELIMITERS.contains(c)) {
        return Err(format!(
            "command {command:?} contains '{c}', which the menu protocol reads as a terminator, \
             separator or query; give one command body without it (the station adds the '.')"
        ));
    }
    let head: Vec<char> = command.chars().take(6).collect();
    let shaped = head.len() == 6
        && head.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !command.contains(' ');
    if !shaped {
        return Err(format!(
            "command {command:?} is not a menu command: it must start with a 3-character tag and \
             a 3-character subtag of uppercase letters or digits (like 232BAD9 or SUFBK2990D), \
             with no spaces"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid serial profile; each bad case below changes one thing in it.
    const BASE: &str = r#"
id = "test-scanner"
vendor = "Honeywell"
model = "Test 1"
kind = "barcode"
layout = "us"

[usb]
vendor_id = 0x0c2e
product_ids = [0x090a]

[[transports]]
mode = "serial"
baud = 115200
data_bits = 8
parity = "none"
stop_bits = 1
flow_control = "none"

[[transports]]
mode = "keyboard"

[[setup]]
description = "Add CR after every symbology"
method = "serial_command"
command = "SUFBK2990D"
verify = "The scanner answers with ACK"

[[setup]]
description = "USB serial mode"
method = "programming_barcode"
barcode = "TRMUSB130"
verify = "A /dev/ttyACM port appears"
"#;

    fn problems(text: &str) -> Vec<String> {
        match parse(Path::new("test-scanner.toml"), text) {
            Err(e) => vec![e.to_string()],
            Ok(p) => validate(&p).err().unwrap_or_default(),
        }
    }

    /// Applies one edit to `BASE`, insisting that the text to replace is there so a change to
    /// `BASE` cannot silently turn a case into a no-op.
    fn edited(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "BASE has no {from:?}");
        BASE.replacen(from, to, 1)
    }

    fn check(text: &str, expected: &str) {
        let found = problems(text);
        assert!(
            found.iter().any(|m| m.contains(expected)),
            "expected a problem containing {expected:?}, got {found:#?}"
        );
    }

    #[test]
    fn the_base_profile_is_valid() {
        assert_eq!(problems(BASE), Vec::<String>::new());
        let p = parse(Path::new("x.toml"), BASE).unwrap();
        assert_eq!(p.framing, FramingSpec::default());
        assert_eq!(p.framing.suffix, "\r");
        assert_eq!(p.usb.vendor_id, 0x0c2e);
    }

    #[test]
    fn bad_profiles_are_named_with_the_reason() {
        let cases: Vec<(String, &str)> = vec![
            (edited("model = ", "colour = \"grey\"\nmodel = "), "unknown field `colour`"),
            (edited("vendor_id = 0x0c2e", "vendor_id = 0"), "usb.vendor_id is 0"),
            (edited("[0x090a]", "[0x090a, 0]"), "usb.product_ids[1] is 0"),
            (edited("command = \"SUFBK2990D\"", "command = \"232BAD9.\""), "contains '.'"),
            (edited("command = \"SUFBK2990D\"", "command = \"232BAD9!\""), "contains '!'"),
            (edited("command = \"SUFBK2990D\"", "command = \"232BAD&9\""), "contains '&'"),
            (edited("command = \"SUFBK2990D\"", "command = \"SUF\\u0007BK2\""), "control"),
            (edited("command = \"SUFBK2990D\"", "command = \"suf\""), "not a menu command"),
            (edited("command = \"SUFBK2990D\"\n", ""), "needs `command`"),
            (edited("barcode = \"TRMUSB130\"\n", ""), "needs `barcode`"),
            (edited("layout = \"us\"", "layout = \"dvorak\""), "layout \"dvorak\""),
            (edited("layout = \"us\"\n", ""), "no layout"),
            (edited("baud = 115200", "baud = 115201"), "not a standard rate"),
            (edited("data_bits = 8", "data_bits = 9"), "data_bits 9"),
            (edited("parity = \"none\"", "parity = \"mark\""), "parity \"mark\""),
            (edited("stop_bits = 1", "stop_bits = 3"), "stop_bits 3"),
            (edited("flow_control = \"none\"", "flow_control = \"rts\""), "flow_control \"rts\""),
            (edited("vendor = \"Honeywell\"", "vendor = \" \""), "vendor is empty"),
            (edited("model = \"Test 1\"", "model = \"\""), "model is empty"),
            (edited("mode = \"keyboard\"", "mode = \"hid_magstripe\""), "does not fit"),
            (edited("mode = \"keyboard\"", "mode = \"hid_prox\""), "unknown variant `hid_prox`"),
            (edited("mode = \"keyboard\"", "mode = \"wifi\""), "unknown variant `wifi`"),
            (edited("verify = \"A /dev/ttyACM port appears\"", "verify = \"\""), "verify is empty"),
            // Without its serial transport the serial command has nowhere to go.
            (
                edited(
                    "mode = \"serial\"\nbaud = 115200\ndata_bits = 8\nparity = \"none\"\n\
                     stop_bits = 1\nflow_control = \"none\"",
                    "mode = \"hid_pos\"\nusage_page = 0x8c",
                ),
                "no serial transport",
            ),
            // Parse errors carry the toml crate's position.
            (edited("kind = \"barcode\"", "kind = barcode"), "line 5"),
        ];
        for (text, expected) in &cases {
            check(text, expected);
        }
    }

    #[test]
    fn every_checked_in_profile_loads_and_validates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware-configs");
        let profiles = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        for p in &profiles {
            assert_eq!(validate(p), Ok(()), "{}", p.id);
        }
        assert!(profiles.len() >= 6, "only {} profiles", profiles.len());
        let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
        for expected in [
            "datalogic-quickscan-qd2430",
            "generic-newland",
            "honeywell-voyager-1250g",
            "honeywell-xenon-1900",
            "magtek-usb-swipe",
            "rfideas-pcprox",
            "zebra-ds2208",
        ] {
            assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
        }
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
        // Honeywell scanners are the ones the station configures itself, over USB serial.
        for id in ["honeywell-voyager-1250g", "honeywell-xenon-1900"] {
            let p = profiles.iter().find(|p| p.id == id).unwrap();
            assert!(matches!(p.transports[0], Transport::Serial { .. }), "{id}");
            assert!(p.setup.iter().any(|s| s.method == SetupMethod::SerialCommand), "{id}");
        }
    }

    #[test]
    fn load_file_wants_the_id_to_be_the_file_stem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other-name.toml");
        fs::write(&path, BASE).unwrap();
        let err = load_file(&path).unwrap_err();
        assert!(matches!(err, ProfileError::IdMismatch { .. }), "{err}");
        assert!(err.to_string().contains("other-name.toml"), "{err}");
    }

    #[test]
    fn load_file_names_the_file_and_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test-scanner.toml");
        let text = edited("vendor_id = 0x0c2e", "vendor_id = 0").replace("layout = \"us\"", "");
        fs::write(&path, text).unwrap();
        let err = load_file(&path).unwrap_err().to_string();
        assert!(err.contains("test-scanner.toml"), "{err}");
        assert!(err.contains("usb.vendor_id is 0"), "{err}");
        assert!(err.contains("no layout"), "{err}");
    }

    #[test]
    fn load_dir_ignores_other_files_and_sorts_by_id() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["zz-last", "aa-first"] {
            let text = BASE.replace("test-scanner", id);
            fs::write(dir.path().join(format!("{id}.toml")), text).unwrap();
        }
        fs::write(dir.path().join("README.md"), "# not a profile").unwrap();
        fs::write(dir.path().join(".#aa-first.toml"), "editor lock file").unwrap();
        fs::create_dir(dir.path().join("sub.toml")).unwrap();
        let ids: Vec<String> = load_dir(dir.path()).unwrap().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, ["aa-first", "zz-last"]);
    }

    #[test]
    fn load_dir_refuses_two_files_with_one_id() {
        // The id must equal the stem, so only the extension's case can make two files collide.
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("test-scanner.toml"), BASE).unwrap();
        fs::write(dir.path().join("test-scanner.TOML"), BASE).unwrap();
        let err = load_dir(dir.path()).unwrap_err();
        assert!(matches!(err, ProfileError::DuplicateId { .. }), "{err}");
    }

    #[test]
    fn menu_commands_from_the_manuals_pass_the_shape_check() {
        for ok in ["232BAD9", "SUFBK2990D", "PRECA2", "128ENA1", "QRCENA1", "BEPBEP1", "DEFALT"] {
            assert_eq!(check_menu_command(ok), Ok(()), "{ok}");
        }
        for bad in ["", "SUF", "suf BK2", "SUFBK2 99", "SUFBK2990D;128ENA1", "BEPBEP?"] {
            assert!(check_menu_command(bad).is_err(), "{bad}");
        }
    }
}
