//! Scanline's central server: the system of record (SQLite), the station API, and the admin
//! command line. `main.rs` only parses arguments; everything lives here so tests can drive it.

pub mod api;
pub mod app;
pub mod backup;
pub mod card;
pub mod cli;
pub mod clock;
pub mod db;
pub mod demo;
pub mod error;
pub mod hmis;
pub mod ingest;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod photo;
pub mod print_queue;
pub mod printing;
pub mod secret_file;
pub mod serve;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod web;

/// Logs to standard error: human-readable lines, or one JSON object per line when
/// `SCANLINE_LOG_FORMAT=json`; the level from `RUST_LOG` (default `info`). Logs name clients by
/// number at most, never by name.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if std::env::var("SCANLINE_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
