//! State shared by the station's parts for the kiosk to show: connection to the server, roster
//! age, scanner states, clock trouble. Held in memory; the durable state is in the database.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Notify;

/// The link to the server as the sync task last found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Not tried yet.
    Starting,
    Online,
    Offline,
    /// The server refused the token (revoked or wrong).
    Unauthorized,
    /// The server does not speak this station's protocol version.
    Incompatible,
    /// The server's certificate is not the one this station trusts.
    Untrusted,
}

/// One scanner's state for the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannerState {
    pub name: String,
    pub kind: String,
    pub connected: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkState {
    pub link: Link,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub struct Shared {
    link: Mutex<LinkState>,
    scanners: Mutex<BTreeMap<String, ScannerState>>,
    clock_error: Mutex<Option<String>>,
    scans: AtomicU64,
    sync_wake: Notify,
    /// Fired when something the kiosk shows changed (link, scanners).
    pub status_changed: Notify,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            link: Mutex::new(LinkState {
                link: Link::Starting,
                last_ok_at: None,
                last_error: None,
            }),
            scanners: Mutex::default(),
            clock_error: Mutex::default(),
            scans: AtomicU64::new(0),
            sync_wake: Notify::new(),
            status_changed: Notify::new(),
        }
    }
}

impl Shared {
    pub fn link(&self) -> LinkState {
        self.link.lock().expect("link lock").clone()
    }

    pub fn set_link(&self, link: Link, error: Option<String>) {
        let mut l = self.link.lock().expect("link lock");
        let changed = l.link != link;
        l.link = link;
        if link == Link::Online {
            l.last_ok_at = Some(Utc::now());
            l.last_error = None;
        } else if error.is_some() {
            l.last_error = error;
        }
        drop(l);
        if changed {
            self.status_changed.notify_waiters();
        }
    }

    pub fn scanners(&self) -> Vec<ScannerState> {
        self.scanners.lock().expect("scanner lock").values().cloned().collect()
    }

    pub fn set_scanner(&self, state: ScannerState) {
        let mut s = self.scanners.lock().expect("scanner lock");
        let changed = s.get(&state.name) != Some(&state);
        s.insert(state.name.clone(), state);
        drop(s);
        if changed {
            self.status_changed.notify_waiters();
        }
    }

    pub fn clock_error(&self) -> Option<String> {
        self.clock_error.lock().expect("clock lock").clone()
    }

    pub fn set_clock_error(&self, e: Option<String>) {
        let mut c = self.clock_error.lock().expect("clock lock");
        if *c != e {
            *c = e;
            drop(c);
            self.status_changed.notify_waiters();
        }
    }

    pub fn note_scan(&self) {
        self.scans.fetch_add(1, Ordering::Relaxed);
    }

    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }

    /// Tells the sync task there is work in the outbox.
    pub fn wake_sync(&self) {
        self.sync_wake.notify_one();
    }

    pub async fn sync_woken(&self) {
        self.sync_wake.notified().await;
    }
}
