//! The station's clock for scans: the operating system's, or an instant read from the file
//! named by `SCANLINE_CLOCK_FILE` (RFC 3339, read again at every call), so a test can walk a
//! real station through a night and past a bed's release time (DESIGN §16). Unset, as in
//! every deployment, it is the system clock.

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Now, by the station's clock.
pub fn now() -> DateTime<Utc> {
    let file = FILE.get_or_init(|| std::env::var_os("SCANLINE_CLOCK_FILE").map(PathBuf::from));
    match file {
        None => Utc::now(),
        Some(p) => std::fs::read_to_string(p)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(Utc::now),
    }
}
