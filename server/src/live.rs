//! What the server knows of its stations right now, in memory: when each was last seen and the
//! outbox depth it last reported, the Post Services failures since start, and the database's
//! generation sent on every response. Filled by the station API's extractor; read by
//! `/metrics` and the admins' Stations page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

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
    /// Post Services failures since the server started, by station.
    station_post_failures: Mutex<HashMap<i64, u64>>,
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

    /// Counts a failed Post Services, by the station that asked (none for the web).
    pub fn post_failed(&self, station: Option<i64>) {
        self.post_failures.fetch_add(1, Ordering::Relaxed);
        if let Some(id) = station {
            let mut map = self
                .station_post_failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *map.entry(id).or_default() += 1;
        }
    }

    /// A station's failed Post Services since the server started.
    pub fn station_post_failures(&self, station: i64) -> u64 {
        self.station_post_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&station)
            .copied()
            .unwrap_or(0)
    }

    pub fn post_failures(&self) -> u64 {
        self.post_failures.load(Ordering::Relaxed)
    }
}
