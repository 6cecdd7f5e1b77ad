//! The Prometheus-style `/metrics` endpoint: entries received from each station (a counter, so
//! a scraper computes scans per minute) and received in the last minute, upload lag, each
//! station's outbox depth as it last reported it and when it was last seen, and Post Services
//! failures. Labels carry station ids and names, never a client.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::stations::{self, Figures};

/// A label value with `\`, `"` and newlines escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let rows = state.db.read(|conn| stations::figures(conn, Utc::now())).await??;
    let now = Utc::now();
    let mut out = String::new();
    let station = |s: &Figures| format!("{{station=\"{}\",name=\"{}\"}}", s.id, label(&s.name));
    family(
        &mut out,
        "scanline_entries_received_total",
        "counter",
        "Scan entries received from each station.",
    );
    for s in &rows {
        let _ = writeln!(out, "scanline_entries_received_total{} {}", station(s), s.received);
    }
    family(
        &mut out,
        "scanline_entries_last_minute",
        "gauge",
        "Scan entries received from each station in the last 60 seconds.",
    );
    for s in &rows {
        let _ = writeln!(out, "scanline_entries_last_minute{} {}", station(s), s.last_minute);
    }
    family(
        &mut out,
        "scanline_upload_lag_seconds",
        "gauge",
        "Average time from scan to arrival over the last 5 minutes.",
    );
    for s in &rows {
        if let Some(avg) = s.upload_lag_seconds {
            let _ = writeln!(out, "scanline_upload_lag_seconds{} {avg:.3}", station(s));
        }
    }
    family(
        &mut out,
        "scanline_station_outbox_depth",
        "gauge",
        "Entries and operations a station has not sent yet, as it last reported.",
    );
    for s in &rows {
        if let Some(d) = state.live.station(s.id).and_then(|l| l.outbox_depth) {
            let _ = writeln!(out, "scanline_station_outbox_depth{} {d}", station(s));
        }
    }
    family(
        &mut out,
        "scanline_station_last_seen_seconds",
        "gauge",
        "Seconds since each station's last request.",
    );
    for s in &rows {
        let live = state.live.station(s.id).map(|l| l.last_seen);
        let seen = match (live, s.last_seen) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(seen) = seen {
            let ago = (now - seen).num_milliseconds() as f64 / 1000.0;
            let _ = writeln!(out, "scanline_station_last_seen_seconds{} {ago:.3}", station(s));
        }
    }
    family(
        &mut out,
        "scanline_post_failures_total",
        "counter",
        "Post Services requests that failed since the server started.",
    );
    let _ = writeln!(out, "scanline_post_failures_total {}", state.live.post_failures());
    family(
        &mut out,
        "scanline_station_post_failures_total",
        "counter",
        "Post Services requests from each station that failed since the server started.",
    );
    for s in &rows {
        let n = state.live.station_post_failures(s.id);
        let _ = writeln!(out, "scanline_station_post_failures_total{} {n}", station(s));
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response())
}
