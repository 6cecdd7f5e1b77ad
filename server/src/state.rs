//! What every request handler shares: the database seam, the upload queue, the staff pages'
//! settings, live station state for `/metrics`, the clock that checks times from outside, and
//! the sign-in throttle. Below `api`, `web` and `metrics`, which all take it as axum state.

use crate::db::Db;
use crate::ingest::Ingest;

/// Largest request body the API reads: an upload of `MAX_ENTRIES_PER_UPLOAD` entries fits with
/// room to spare.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub ingest: Ingest,
    pub web: WebSettings,
    /// Stations as their latest requests showed them, and counters, for `/metrics`.
    pub live: std::sync::Arc<crate::live::Live>,
    /// What "now" is when a time from outside is checked; tests pin it.
    pub clock: crate::clock::Clock,
    /// Failed sign-ins per address, and the bounded pool that checks passwords.
    pub sign_ins: std::sync::Arc<crate::throttle::SignIns>,
}

/// Settings of the staff pages.
#[derive(Debug, Clone, Copy)]
pub struct WebSettings {
    /// A session unused this long is ended (DESIGN §13: idle log-off).
    pub idle_timeout: chrono::Duration,
    /// Mark the session cookie `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self { idle_timeout: chrono::Duration::minutes(30), secure_cookies: false }
    }
}

impl AppState {
    /// The state for a database; starts the upload queue on the current tokio runtime.
    pub fn new(db: Db) -> Self {
        let ingest = Ingest::start(db.clone());
        Self {
            db,
            ingest,
            web: WebSettings::default(),
            live: std::sync::Arc::default(),
            clock: crate::clock::Clock::system(),
            sign_ins: std::sync::Arc::default(),
        }
    }
}
