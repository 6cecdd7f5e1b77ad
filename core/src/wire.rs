//! Station-server wire types (DESIGN §7), version 1. Every request type rejects unknown fields,
//! so a misspelt field is an error and never silently ignored.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::beds::{Bed, BedHold, BedId};
use crate::domain::{
    AlertKind, BarSpan, ClientId, EnrollmentSpan, OrganizationId, ProgramId, ProgramRules,
    ServiceTypeId, ServiceTypeRules, StationId,
};
use crate::verdict::{Verdict, Warning};

/// Most entries one upload request may carry.
pub const MAX_ENTRIES_PER_UPLOAD: usize = 1000;

/// The header a station names its station API protocol version in, on every request.
pub const PROTOCOL_HEADER: &str = "x-scanline-protocol";
/// The station API protocol this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The error code a server answers a station whose protocol version it does not speak.
pub const PROTOCOL_UNSUPPORTED: &str = "protocol_unsupported";

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `forbidden`, `not_found`, `malformed_json`,
    /// `invalid_body`, `body_too_large`, `unsupported_media_type`, `conflict`, `invalid_cursor`,
    /// `internal`.
    pub code: String,
    /// For people; never contains personal data.
    pub message: String,
}

/// The organization a station serves, and the time zone its dates are computed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationInfo {
    pub id: OrganizationId,
    pub name: String,
    /// IANA time zone, e.g. `America/Los_Angeles`.
    pub time_zone: String,
}

/// The station's own identity, as the server knows it from the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationInfo {
    pub id: StationId,
    pub name: String,
}

/// A client as the station sees it: a display name (first name and last initial) only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterClient {
    pub id: ClientId,
    pub display_name: String,
    /// The agency's client number, printed on the card: what tells two "Ben J." apart at the
    /// no-card lookup. Empty where the display name is (a restricted client of another
    /// organization), and from a server that does not send it.
    #[serde(default)]
    pub client_number: String,
}

/// A card that resolves (active, replaced or expired); revoked cards are left out and scan as
/// unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterCard {
    /// The normalised code, as `card_code::classify` makes it.
    pub code: String,
    pub client_id: ClientId,
    pub replaced: bool,
    pub expires_on: Option<NaiveDate>,
}

/// A service already recorded on the server, or accepted there and not yet posted, that counts
/// toward duplicate, frequency and capacity checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterServed {
    /// `svc:<id>` for a posted service, `ent:<uuid>` for an accepted entry not yet posted.
    pub key: String,
    pub client_id: ClientId,
    pub program_id: ProgramId,
    pub service_type_id: ServiceTypeId,
    pub date: NaiveDate,
    /// The batch entry it came from, so a station does not count its own scan twice.
    pub entry_uuid: Option<Uuid>,
    /// The bed of a bed night, in a program with beds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed_id: Option<BedId>,
}

/// An alert on a client as a station may show it beside a scan's verdict on the staff kiosk
/// (never on the guest screen): the kind, and only the short text staff marked for stations;
/// the note behind it stays on the server. It does not change the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RosterAlert {
    pub id: i64,
    pub client_id: ClientId,
    pub kind: AlertKind,
    /// Empty when staff kept the words on the server.
    pub text: String,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The programs it is shown in; empty for every program.
    pub program_ids: Vec<i64>,
}

impl RosterAlert {
    /// Whether a scan in `program` on `day` shows it.
    pub fn shows(&self, program: i64, day: NaiveDate) -> bool {
        self.begin_date <= day
            && day <= self.end_date
            && (self.program_ids.is_empty() || self.program_ids.contains(&program))
    }
}

/// Everything a station needs to validate offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterSnapshot {
    /// Pass this to the delta endpoint next time.
    pub cursor: i64,
    pub server_time: DateTime<Utc>,
    pub station: StationInfo,
    pub organization: OrganizationInfo,
    pub programs: Vec<ProgramRules>,
    pub service_types: Vec<ServiceTypeRules>,
    pub clients: Vec<RosterClient>,
    pub cards: Vec<RosterCard>,
    pub enrollments: Vec<EnrollmentSpan>,
    pub bars: Vec<BarSpan>,
    pub served: Vec<RosterServed>,
    /// Alerts on clients, to show beside a verdict (a server that has none sends none).
    #[serde(default)]
    pub alerts: Vec<RosterAlert>,
    /// The beds of the station's programs, in board order.
    #[serde(default)]
    pub beds: Vec<Bed>,
    /// Staff holds on those beds that are not released and not over.
    #[serde(default)]
    pub holds: Vec<BedHold>,
}

/// What changed since a cursor: rows to upsert and keys to remove.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterDelta {
    pub cursor: i64,
    pub server_time: DateTime<Utc>,
    /// Program and service-type rules are small: sent whole when any of them changed.
    pub programs: Option<Vec<ProgramRules>>,
    pub service_types: Option<Vec<ServiceTypeRules>>,
    pub clients: Vec<RosterClient>,
    pub cards: Vec<RosterCard>,
    pub removed_cards: Vec<String>,
    pub enrollments: Vec<EnrollmentSpan>,
    pub removed_enrollments: Vec<i64>,
    pub bars: Vec<BarSpan>,
    pub removed_bars: Vec<i64>,
    pub served: Vec<RosterServed>,
    pub removed_served: Vec<String>,
    #[serde(default)]
    pub alerts: Vec<RosterAlert>,
    #[serde(default)]
    pub removed_alerts: Vec<i64>,
    /// Beds and holds are few: sent whole when any of them changed.
    #[serde(default)]
    pub beds: Option<Vec<Bed>>,
    #[serde(default)]
    pub holds: Option<Vec<BedHold>>,
}

/// Create a batch. The station makes the UUID, so a retried request creates nothing new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateBatch {
    pub uuid: Uuid,
    pub program_id: ProgramId,
    /// One or more service types of the program given together with each scan.
    pub service_type_ids: Vec<ServiceTypeId>,
    pub service_date: NaiveDate,
    /// Defaults to the first service type's default units.
    #[serde(default)]
    pub units: Option<f64>,
    #[serde(default)]
    pub unit_value: Option<f64>,
    #[serde(default)]
    pub description: Option<String>,
    /// Post the accepted entries when the batch is closed.
    #[serde(default)]
    pub auto_post: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchInfo {
    pub uuid: Uuid,
    pub program_id: ProgramId,
    pub service_type_ids: Vec<ServiceTypeId>,
    pub service_date: NaiveDate,
    pub units: f64,
    pub unit_value: f64,
    pub description: String,
    pub auto_post: bool,
    pub state: BatchState,
    pub entries: u64,
    pub posted_entries: u64,
    /// Guests served without a card and without a record, as the station counted them.
    #[serde(default)]
    pub anonymous: u32,
}

/// How many guests a batch served without a card and without a record, as the station counts
/// them: sent again after each one; the server keeps the largest count it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnonymousCount {
    pub count: u32,
}

/// The most guests without a record one batch may count.
pub const MAX_ANONYMOUS: u32 = 100_000;

/// One scan, as the station recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EntryUpload {
    /// Made by the station at scan time; the idempotency key.
    pub uuid: Uuid,
    /// The decoded payload as the scanner gave it.
    pub code: String,
    pub scanned_at: DateTime<Utc>,
    /// The verdict the station showed, so the server can report changes.
    #[serde(default)]
    pub station_verdict: Option<Verdict>,
    /// The bed the station gave, in a program with beds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed_id: Option<BedId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UploadEntries {
    pub entries: Vec<EntryUpload>,
}

/// The bed staff chose for an entry already sent (`PUT /api/v1/entries/{uuid}/bed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetBed {
    pub bed_id: BedId,
}

/// Entry UUIDs a station asks the server about (after the server was restored from a backup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeldQuery {
    pub uuids: Vec<Uuid>,
}

/// Which of the asked entries the server does not hold for the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldAnswer {
    pub missing: Vec<Uuid>,
}

/// The response header naming the server database's generation; a restore makes a new one.
pub const GENERATION_HEADER: &str = "x-scanline-generation";

/// The server's authoritative verdict on one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryVerdict {
    pub uuid: Uuid,
    pub verdict: Verdict,
    pub warnings: Vec<Warning>,
    pub detail: String,
    pub client_id: Option<ClientId>,
    pub service_date: NaiveDate,
    /// The server decided differently from the station.
    pub changed: bool,
    /// The entry was already on the server (a retried upload): nothing was written.
    pub duplicate_upload: bool,
    pub posted: bool,
    pub deleted: bool,
    /// The bed given (or, for `bed_taken`, asked for), in a program with beds.
    #[serde(default)]
    pub bed_id: Option<BedId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadResult {
    pub entries: Vec<EntryVerdict>,
}

/// An entry that did not post, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotPosted {
    pub uuid: Uuid,
    pub verdict: Verdict,
    pub detail: String,
}

/// What Post Services did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostSummary {
    pub batch: Uuid,
    /// Entries posted by this request.
    pub posted: u64,
    /// Services created by this request (one per service type of each posted entry).
    pub services_created: u64,
    /// Enrollments created for auto-enrolled clients.
    pub enrollments_created: u64,
    /// Entries posted by an earlier request.
    pub already_posted: u64,
    /// Entries kept for review.
    pub flagged: Vec<NotPosted>,
    /// Entries deleted from the batch.
    pub deleted: u64,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
    pub schema_version: i64,
}
