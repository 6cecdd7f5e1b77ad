//! What the databases hold, read straight from their files, for the checks no page or API
//! shows: what a station keeps of an alert, what the audit log recorded, the verdict the server
//! stored. Read-only; each question is one named function, so tests ask them by name.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

/// The server's database.
pub struct ServerDb(Connection);

impl ServerDb {
    pub fn open(path: &Path) -> Self {
        Self(Connection::open(path).expect("the server database"))
    }

    /// The client a card belongs to, and their first and last name.
    pub fn holder(&self, code: &str) -> (i64, String) {
        self.0
            .query_row(
                "SELECT c.id, c.first_name || ' ' || c.last_name FROM cards k
                 JOIN clients c ON c.id = k.client_id WHERE k.code = ?1",
                [code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("a card of the demo")
    }

    /// The client a card belongs to.
    pub fn client_of(&self, code: &str) -> i64 {
        self.holder(code).0
    }

    /// Whether the card is not revoked.
    pub fn card_works(&self, code: &str) -> bool {
        self.0
            .query_row("SELECT revoked_at IS NULL FROM cards WHERE code = ?1", [code], |r| r.get(0))
            .expect("a card of the demo")
    }

    /// The largest count of guests without a card a station batch holds, with that batch's
    /// UUID and service date.
    pub fn station_guests(&self) -> (i64, String, String) {
        self.0
            .query_row(
                "SELECT anonymous, uuid, service_date FROM batches WHERE station_id IS NOT NULL
                 ORDER BY anonymous DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .expect("the batches")
            .unwrap_or_default()
    }

    /// How many audit events of `action` name `client`.
    pub fn audited(&self, action: &str, client: i64) -> i64 {
        self.0
            .query_row(
                "SELECT COUNT(*) FROM audit_events WHERE action = ?1 AND client_id = ?2",
                rusqlite::params![action, client],
                |r| r.get(0),
            )
            .expect("the audit log")
    }

    /// The verdict the server stored for an entry of the code (the largest, if several).
    pub fn verdict_of(&self, code: &str) -> String {
        self.0
            .query_row(
                "SELECT COALESCE(MAX(verdict), '') FROM batch_entries WHERE code = ?1",
                [code],
                |r| r.get(0),
            )
            .expect("the entries")
    }
}

/// A station's database.
/// A bed-night entry the server holds: its UUID, client, bed and verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedEntry {
    pub uuid: String,
    pub client_id: i64,
    pub bed_id: Option<i64>,
    pub verdict: String,
}

impl ServerDb {
    /// The entries of a night in a program that are not deleted, in scan order.
    pub fn night_entries(&self, program: i64, night: &str) -> Vec<BedEntry> {
        self.0
            .prepare(
                "SELECT uuid, client_id, bed_id, verdict FROM batch_entries
                 WHERE program_id = ?1 AND service_date = ?2 AND deleted_at IS NULL
                 ORDER BY scanned_at, id",
            )
            .unwrap()
            .query_map(rusqlite::params![program, night], |r| {
                Ok(BedEntry {
                    uuid: r.get(0)?,
                    client_id: r.get(1)?,
                    bed_id: r.get(2)?,
                    verdict: r.get(3)?,
                })
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Current cards of clients with an open enrollment in a program, in card order.
    pub fn enrolled_cards(&self, program: i64) -> Vec<String> {
        self.0
            .prepare(
                "SELECT k.code FROM cards k
                 WHERE k.replaced_by IS NULL AND k.revoked_at IS NULL AND EXISTS (
                     SELECT 1 FROM enrollments e WHERE e.client_id = k.client_id
                       AND e.program_id = ?1 AND e.exit_date IS NULL)
                   AND NOT EXISTS (SELECT 1 FROM bars b WHERE b.client_id = k.client_id)
                 ORDER BY k.code",
            )
            .unwrap()
            .query_map([program], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The bed nights of a night in a program, posted as services: (client, bed).
    pub fn posted_beds(&self, program: i64, night: &str) -> Vec<(i64, Option<i64>)> {
        self.0
            .prepare(
                "SELECT client_id, bed_id FROM services
                 WHERE program_id = ?1 AND date_provided = ?2 AND deleted_at IS NULL
                 ORDER BY client_id",
            )
            .unwrap()
            .query_map(rusqlite::params![program, night], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

pub struct StationDb(Connection);

impl StationDb {
    pub fn open(path: &Path) -> Self {
        Self(Connection::open(path).expect("the station database"))
    }

    /// The alerts its roster holds: (client, kind, text), by kind.
    pub fn alerts(&self) -> Vec<(i64, String, String)> {
        self.0
            .prepare("SELECT client_id, kind, text FROM roster_alerts ORDER BY kind, id")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .expect("the roster's alerts")
    }

    /// The program rules its roster holds, as the server sent them (JSON).
    pub fn program_rules(&self) -> String {
        self.0
            .query_row("SELECT value FROM meta WHERE key = 'programs'", [], |r| r.get(0))
            .optional()
            .expect("the roster's rules")
            .unwrap_or_default()
    }
}

/// An entry of a batch as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldEntry {
    pub uuid: String,
    pub code: String,
    pub verdict: String,
    pub station_verdict: Option<String>,
}

impl ServerDb {
    /// The entries of the batch of a UUID, in scan order.
    pub fn batch_entries(&self, batch: &str) -> Vec<HeldEntry> {
        self.0
            .prepare(
                "SELECT e.uuid, e.code, e.verdict, e.station_verdict FROM batch_entries e
                 JOIN batches b ON b.id = e.batch_id WHERE b.uuid = ?1 ORDER BY e.scanned_at, e.id",
            )
            .expect("the entries")
            .query_map([batch], |r| {
                Ok(HeldEntry {
                    uuid: r.get(0)?,
                    code: r.get(1)?,
                    verdict: r.get(2)?,
                    station_verdict: r.get(3)?,
                })
            })
            .expect("the entries")
            .collect::<Result<_, _>>()
            .expect("the entries")
    }

    /// Services recorded from the batch of a UUID (not deleted).
    pub fn batch_services(&self, batch: &str) -> i64 {
        self.0
            .query_row(
                "SELECT COUNT(*) FROM services s JOIN batch_entries e ON e.id = s.batch_entry_id
                 JOIN batches b ON b.id = e.batch_id WHERE b.uuid = ?1 AND s.deleted_at IS NULL",
                [batch],
                |r| r.get(0),
            )
            .expect("the services")
    }
}
