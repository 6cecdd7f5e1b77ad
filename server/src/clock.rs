//! The server's clock. Handlers ask it for "now" and "today in the organization's zone" when
//! they check a time from outside against the window a real station can produce (DESIGN §13),
//! so tests can pin it to one instant instead of racing the calendar. Stored timestamps
//! (`created_at`, `received_at`) keep using `store::now`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};

/// The system clock, or an instant set by a test. Cheap to clone; clones share a set instant.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }

    /// A clock that stands at `at` until `set` moves it.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self { fixed: Some(Arc::new(Mutex::new(at))) }
    }

    /// Moves a fixed clock; a system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(f) = &self.fixed
            && let Ok(mut t) = f.lock()
        {
            *t = at;
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(f) => f.lock().map_or_else(|_| Utc::now(), |t| *t),
            None => Utc::now(),
        }
    }

    /// Today's date in a time zone.
    pub fn today_in(&self, tz: chrono_tz::Tz) -> NaiveDate {
        self.now().with_timezone(&tz).date_naive()
    }
}
