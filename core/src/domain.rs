//! Domain types of DESIGN §3 that validation needs, as plain data: programs and their policies,
//! service types and their limits, enrollments, bars and cards as the rules see them.
//!
//! Rows with names, dates of birth and other personal data live in the server's store; these
//! types carry only what a verdict depends on, so the station can hold them offline.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub type OrganizationId = i64;
pub type ProgramId = i64;
pub type ServiceTypeId = i64;
pub type ClientId = i64;
pub type EnrollmentId = i64;
pub type BarId = i64;
pub type CardId = i64;
pub type StationId = i64;
pub type UserId = i64;

/// HUD ProjectType 1: Emergency Shelter, night-by-night.
pub const PROJECT_TYPE_ES_NBN: u8 = 1;
/// HUD RecordType for bed nights in Services.csv.
pub const RECORD_TYPE_BED_NIGHT: u8 = 200;
/// HUD Destination 30: "No exit interview completed".
pub const DESTINATION_NO_EXIT_INTERVIEW: u16 = 30;
/// The night cut-over hour when a program sets none.
pub const DEFAULT_CUTOVER_HOUR: u8 = 12;

/// Whether a HUD ProjectType houses people overnight. For these the exit day is not a day of
/// the enrollment (open on D means entry <= D < exit); for service projects it is.
pub fn project_type_is_residential(project_type: u8) -> bool {
    // 0 ES entry/exit, 1 ES night-by-night, 2 TH, 3 PSH, 8 Safe Haven, 9 PH housing only,
    // 10 PH housing with services, 13 RRH.
    matches!(project_type, 0 | 1 | 2 | 3 | 8 | 9 | 10 | 13)
}

/// What a scan of a client without an open enrollment does (DESIGN §5 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentPolicy {
    /// Flag the entry `no_open_enrollment`.
    #[default]
    Reject,
    /// Keep the entry, flagged `queued_for_intake`, for staff to enroll the client.
    QueueForIntake,
    /// Accept and enroll the client with entry date = the service date (night-by-night shelters).
    AutoEnroll,
}

impl EnrollmentPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::QueueForIntake => "queue_for_intake",
            Self::AutoEnroll => "auto_enroll",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reject" => Some(Self::Reject),
            "queue_for_intake" => Some(Self::QueueForIntake),
            "auto_enroll" => Some(Self::AutoEnroll),
            _ => None,
        }
    }
}

/// Whether a limit only warns (the entry is accepted with a warning) or enforces (flagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LimitPolicy {
    Warn,
    #[default]
    Enforce,
}

impl LimitPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Enforce => "enforce",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "warn" => Some(Self::Warn),
            "enforce" => Some(Self::Enforce),
            _ => None,
        }
    }
}

/// A program's rules as validation sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgramRules {
    pub id: ProgramId,
    pub organization_id: OrganizationId,
    pub name: String,
    /// HUD ProjectType (1 = ES night-by-night, 6 = Services Only, 11 = Day Shelter, ...).
    pub project_type: u8,
    /// Beds per night, for `capacity_full`.
    pub capacity: Option<u32>,
    pub capacity_policy: LimitPolicy,
    /// Scans before this local hour belong to the previous night.
    pub cutover_hour: u8,
    pub enrollment_policy: EnrollmentPolicy,
    /// Night-by-night auto-exit after this many nights without a bed night.
    pub auto_exit_after_nights: Option<u32>,
    /// A safety alert on a client makes the verdict "See staff" (DESIGN §16).
    #[serde(default)]
    pub safety_alerts_stop: bool,
    /// In a program with beds, a returning guest's bed is held until this many minutes after
    /// midnight of the night (DESIGN §16); `None` holds no bed.
    #[serde(default)]
    pub bed_release_minutes: Option<u16>,
}

impl ProgramRules {
    pub fn is_residential(&self) -> bool {
        project_type_is_residential(self.project_type)
    }
}

/// A visit-frequency limit such as "4 per 30 days".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FrequencyLimit {
    pub max: u32,
    pub days: u32,
    pub policy: LimitPolicy,
}

/// A service type's rules as validation sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceTypeRules {
    pub id: ServiceTypeId,
    pub program_id: ProgramId,
    pub name: String,
    /// HUD RecordType when one applies (200 = bed night).
    pub record_type: Option<u8>,
    pub default_units: f64,
    pub unit_value: f64,
    /// Most of this service per client per day (per night for bed nights).
    pub max_per_day: u32,
    pub frequency: Option<FrequencyLimit>,
}

impl ServiceTypeRules {
    pub fn is_bed_night(&self) -> bool {
        self.record_type == Some(RECORD_TYPE_BED_NIGHT)
    }
}

/// An enrollment's span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollmentSpan {
    pub id: EnrollmentId,
    pub client_id: ClientId,
    pub program_id: ProgramId,
    pub entry_date: NaiveDate,
    pub exit_date: Option<NaiveDate>,
}

impl EnrollmentSpan {
    /// An enrollment as both databases store it.
    pub fn from_stored(
        (id, client_id, program_id): (EnrollmentId, ClientId, ProgramId),
        (entry_date, exit_date): (NaiveDate, Option<NaiveDate>),
    ) -> Self {
        Self { id, client_id, program_id, entry_date, exit_date }
    }
}

impl EnrollmentSpan {
    /// Open on `date` (DESIGN §3): residential programs exclude the exit day, service programs
    /// include it.
    pub fn is_open_on(&self, date: NaiveDate, residential: bool) -> bool {
        if date < self.entry_date {
            return false;
        }
        match self.exit_date {
            None => true,
            Some(exit) if residential => date < exit,
            Some(exit) => date <= exit,
        }
    }
}

/// What a bar covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum BarScope {
    Organization(OrganizationId),
    Program(ProgramId),
    ServiceType(ServiceTypeId),
}

impl BarScope {
    pub fn kind_str(self) -> &'static str {
        match self {
            Self::Organization(_) => "organization",
            Self::Program(_) => "program",
            Self::ServiceType(_) => "service_type",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Self::Organization(id) | Self::Program(id) | Self::ServiceType(id) => id,
        }
    }

    pub fn from_parts(kind: &str, id: i64) -> Option<Self> {
        match kind {
            "organization" => Some(Self::Organization(id)),
            "program" => Some(Self::Program(id)),
            "service_type" => Some(Self::ServiceType(id)),
            _ => None,
        }
    }
}

/// A bar's span. The end date is required and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BarSpan {
    pub id: BarId,
    pub client_id: ClientId,
    pub scope: BarScope,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// What an alert staff put on a client is about (DESIGN §16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Mail is waiting for the client.
    Mail,
    /// The client's case manager wants to see them.
    CaseManager,
    Medical,
    Safety,
}

impl AlertKind {
    pub const ALL: [Self; 4] = [Self::Mail, Self::CaseManager, Self::Medical, Self::Safety];

    /// The word both databases store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::CaseManager => "case_manager",
            Self::Medical => "medical",
            Self::Safety => "safety",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The words staff screens show.
    pub fn label(self) -> &'static str {
        match self {
            Self::Mail => "Mail waiting",
            Self::CaseManager => "See case manager",
            Self::Medical => "Medical",
            Self::Safety => "Safety",
        }
    }
}

impl BarSpan {
    /// A bar as both databases store it: the scope as a kind word and an id. A kind word no
    /// schema admits (their CHECKs allow only the three) reads as the organization's.
    pub fn from_stored(
        (id, client_id, kind, scope_id): (BarId, ClientId, &str, i64),
        (begin_date, end_date): (NaiveDate, NaiveDate),
    ) -> Self {
        let scope =
            BarScope::from_parts(kind, scope_id).unwrap_or(BarScope::Organization(scope_id));
        Self { id, client_id, scope, begin_date, end_date }
    }

    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.begin_date <= date && date <= self.end_date
    }
}

/// What the card table says of a scanned code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CardStatus {
    pub client_id: ClientId,
    /// A newer card was issued to the client in place of this one.
    pub replaced: bool,
    /// Reported lost or otherwise revoked: it no longer resolves.
    pub revoked: bool,
    pub expires_on: Option<NaiveDate>,
}

/// One service the client already has (recorded, or accepted and not yet posted), as far as
/// duplicate, frequency and capacity checks need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    pub service_type_id: ServiceTypeId,
    pub date: NaiveDate,
}
