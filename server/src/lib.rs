//! Scanline's central server: the system of record (SQLite), the station API, and the admin
//! command line. `main.rs` only parses arguments; everything lives here so tests can drive it.

pub mod api;
pub mod card;
pub mod cli;
pub mod db;
pub mod demo;
pub mod hmis;
pub mod ingest;
pub mod jobs;
pub mod photo;
pub mod print_queue;
pub mod printing;
pub mod store;
pub mod web;
