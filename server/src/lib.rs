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
pub mod letter;
pub mod live;
pub mod metrics;
pub mod photo;
pub mod print_queue;
pub mod printing;
pub mod secret_file;
pub mod serve;
pub mod stamp;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod web;

/// The allocator of every program built on the server (docs/design.md §15): the export and the
/// upload allocate rows on one thread and free them on another, which glibc's allocator makes
/// a tenth of their time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs to standard error (see `scanline_startup::init_logging`).
pub fn init_logging() {
    scanline_startup::init_logging();
}
