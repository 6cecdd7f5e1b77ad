//! What the server knows of its stations right now, and the Prometheus-style `/metrics`
//! endpoint: entries received (a counter, so a scraper computes scans per minute) and received
//! in the last minute, upload lag, each station's outbox depth as it last reported it and when
//! it was last seen, and Post Services failures. Labels carry station ids and names, never a
//! client.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::api::AppState;
use crate::api::error::ApiResult;

/// The header a station reports its outbox depth in (entries and operations not yet sent).
pub const OUTBOX_HEADER: &str = "x-scanline-outbox";

/// A station as its latest request showed it.
#[derive(Debug, Clone, Copy)]
pub struct LiveStation {
    pub last_seen: DateTime<Utc>,
    pub outbox_depth: Option<u64>,
}

/// Live station state and counters, shared by the request handlers.
#[derive(Debug, Default)]
pub struct Live {
    stations: Mutex<HashMap<i64, LiveStation>>,
    post_failures: AtomicU64,
    /// The database's generation, sent on every response (see `wire::GENERATION_HEADER`).
    pub generation: std::sync::OnceLock<String>,
}

impl Live {
    /// Notes a request from a station, with the outbox depth it reported, if any.
    pub fn seen(&self, station: i64, outbox_depth: Option<u64>) {
        let mut map = self.stations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry =
            map.entry(station).or_insert(LiveStation { last_seen: Utc::now(), outbox_depth });
        entry.last_seen = Utc::now();
        if outbox_depth.is_some() {
            entry.outbox_depth = outbox_depth;
        }
    }

    pub fn station(&self, station: i64) -> Option<LiveStation> {
        self.stations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&station)
            .copied()
    }

    pub fn post_failed(&self) {
        self.post_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn post_failures(&self) -> u64 {
        self.post_failures.load(Ordering::Relaxed)
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Per station: id, name, entries received, entries received in the last minute, average upload
/// lag over the last five minutes (seconds), last seen in the database.
type StationFigures = (i64, String, i64, i64, Option<f64>, Option<DateTime<Utc>>);

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let rows: Vec<StationFigures> = state
        .db
        .read(|conn| {
            let minute_ago = Utc::now() - chrono::Duration::seconds(60);
            let five_ago = Utc::now() - chrono::Duration::seconds(300);
            let mut stmt = conn.prepare_cached(
                "SELECT s.id, s.name,
                        (SELECT COUNT(*) FROM batch_entries e JOIN batches b ON b.id = e.batch_id WHERE b.station_id = s.id),
                        (SELECT COUNT(*) FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                          WHERE b.station_id = s.id AND e.received_at >= ?1),
                        (SELECT AVG((julianday(e.received_at) - julianday(e.scanned_at)) * 86400.0)
                           FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                          WHERE b.station_id = s.id AND e.received_at >= ?2),
                        s.last_seen_at
                 FROM stations s WHERE s.revoked_at IS NULL ORDER BY s.id",
            )?;
            let rows = stmt
                .query_map(rusqlite::params![minute_ago, five_ago], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, crate::store::StoreError>(rows)
        })
        .await??;
    let now = Utc::now();
    let mut out = String::new();
    let station = |id: &i64, name: &str| format!("{{station=\"{id}\",name=\"{}\"}}", label(name));
    family(
        &mut out,
        "scanline_entries_received_total",
        "counter",
        "Scan entries received from each station.",
    );
    for (id, name, total, ..) in &rows {
        let _ = writeln!(out, "scanline_entries_received_total{} {total}", station(id, name));
    }
    family(
        &mut out,
        "scanline_entries_last_minute",
        "gauge",
        "Scan entries received from each station in the last 60 seconds.",
    );
    for (id, name, _, minute, ..) in &rows {
        let _ = writeln!(out, "scanline_entries_last_minute{} {minute}", station(id, name));
    }
    family(
        &mut out,
        "scanline_upload_lag_seconds",
        "gauge",
        "Average time from scan to arrival over the last 5 minutes.",
    );
    for (id, name, _, _, avg, _) in &rows {
        if let Some(avg) = avg {
            let _ = writeln!(out, "scanline_upload_lag_seconds{} {avg:.3}", station(id, name));
        }
    }
    family(
        &mut out,
        "scanline_station_outbox_depth",
        "gauge",
        "Entries and operations a station has not sent yet, as it last reported.",
    );
    for (id, name, ..) in &rows {
        if let Some(d) = state.live.station(*id).and_then(|l| l.outbox_depth) {
            let _ = writeln!(out, "scanline_station_outbox_depth{} {d}", station(id, name));
        }
    }
    family(
        &mut out,
        "scanline_station_last_seen_seconds",
        "gauge",
        "Seconds since each station's last request.",
    );
    for (id, name, _, _, _, db_seen) in &rows {
        let live = state.live.station(*id).map(|l| l.last_seen);
        let seen = match (live, db_seen) {
            (Some(a), Some(b)) => Some(a.max(*b)),
            (a, b) => a.or(*b),
        };
        if let Some(seen) = seen {
            let ago = (now - seen).num_milliseconds() as f64 / 1000.0;
            let _ =
                writeln!(out, "scanline_station_last_seen_seconds{} {ago:.3}", station(id, name));
        }
    }
    family(
        &mut out,
        "scanline_post_failures_total",
        "counter",
        "Post Services requests that failed since the server started.",
    );
    let _ = writeln!(out, "scanline_post_failures_total {}", state.live.post_failures());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}
