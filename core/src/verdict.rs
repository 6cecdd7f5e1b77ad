//! What a scan decides (DESIGN §5): one verdict per batch entry, decided in a fixed order by
//! pure functions over plain data. The station (offline, from its roster cache) and the server
//! (authoritative, from its database) call exactly this code with the facts they hold.

use chrono::{Days, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::beds::{self, BedFacts, BedId, Placement};
use crate::card_code::{self, Misread, ScanCode};
use crate::domain::{
    BarScope, BarSpan, CardStatus, ClientId, EnrollmentId, EnrollmentPolicy, EnrollmentSpan,
    LimitPolicy, ProgramRules, Served, ServiceTypeRules,
};
use crate::night::night_of;

/// The outcome of one scan. Only `Accepted` posts; every other verdict is kept for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Misread,
    UnknownCard,
    ReplacedCard,
    ExpiredCard,
    Barred,
    NoOpenEnrollment,
    QueuedForIntake,
    Duplicate,
    FrequencyLimit,
    CapacityFull,
    /// A safety alert is on file for the client in a program that asks staff to see them
    /// first (DESIGN §16). The guest is only asked to see the front desk.
    SeeStaff,
    /// The bed a station gave offline was given to another guest first (DESIGN §16): staff
    /// choose another bed, then revalidate.
    BedTaken,
}

/// How a verdict is presented: words, an icon and a sound class, never colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictClass {
    /// Served.
    Ok,
    /// Kept for staff to look at, but not a refusal by rule (misread: scan again).
    Retry,
    /// Refused or held by a rule: see staff.
    Stop,
}

impl Verdict {
    pub const ALL: [Verdict; 13] = [
        Self::Accepted,
        Self::Misread,
        Self::UnknownCard,
        Self::ReplacedCard,
        Self::ExpiredCard,
        Self::Barred,
        Self::NoOpenEnrollment,
        Self::QueuedForIntake,
        Self::Duplicate,
        Self::FrequencyLimit,
        Self::CapacityFull,
        Self::SeeStaff,
        Self::BedTaken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Misread => "misread",
            Self::UnknownCard => "unknown_card",
            Self::ReplacedCard => "replaced_card",
            Self::ExpiredCard => "expired_card",
            Self::Barred => "barred",
            Self::NoOpenEnrollment => "no_open_enrollment",
            Self::QueuedForIntake => "queued_for_intake",
            Self::Duplicate => "duplicate",
            Self::FrequencyLimit => "frequency_limit",
            Self::CapacityFull => "capacity_full",
            Self::SeeStaff => "see_staff",
            Self::BedTaken => "bed_taken",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_accepted(self) -> bool {
        self == Self::Accepted
    }

    pub fn class(self) -> VerdictClass {
        match self {
            Self::Accepted => VerdictClass::Ok,
            Self::Misread => VerdictClass::Retry,
            _ => VerdictClass::Stop,
        }
    }

    /// The words staff see.
    pub fn staff_label(self) -> &'static str {
        match self {
            Self::Accepted => "OK",
            Self::Misread => "Misread: scan again",
            Self::UnknownCard => "Unknown card",
            Self::ReplacedCard => "Replaced card",
            Self::ExpiredCard => "Expired card",
            Self::Barred => "Barred: see staff",
            Self::NoOpenEnrollment => "No open enrollment",
            Self::QueuedForIntake => "Queued for intake",
            Self::Duplicate => "Already served",
            Self::FrequencyLimit => "Visit limit reached",
            Self::CapacityFull => "Shelter full",
            Self::SeeStaff => "See staff: safety alert",
            Self::BedTaken => "Bed given twice",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A limit set to warn: the entry is accepted, and staff see the warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    FrequencyLimit,
    CapacityFull,
}

/// The batch a scan is judged for: its program and the service types given together.
#[derive(Debug, Clone, Copy)]
pub struct BatchContext<'a> {
    pub program: &'a ProgramRules,
    pub service_types: &'a [ServiceTypeRules],
}

impl BatchContext<'_> {
    /// Whether the batch records bed nights, so each scan is dated by its night.
    pub fn records_bed_nights(&self) -> bool {
        self.service_types.iter().any(ServiceTypeRules::is_bed_night)
    }

    /// The first date whose services count toward this batch's limits on `service_date`: the
    /// day itself for per-day limits, the start of the longest visit-frequency window.
    pub fn counts_from(&self, service_date: NaiveDate) -> NaiveDate {
        let days = self
            .service_types
            .iter()
            .filter_map(|st| st.frequency.map(|f| f.days))
            .max()
            .unwrap_or(1)
            .max(1);
        service_date.checked_sub_days(Days::new(u64::from(days - 1))).unwrap_or(service_date)
    }

    /// The service date of a scan made at local time `scanned_local`: the night of the scan for
    /// bed-night batches (DESIGN §6), otherwise the batch's service date.
    pub fn service_date(&self, batch_date: NaiveDate, scanned_local: NaiveDateTime) -> NaiveDate {
        if self.records_bed_nights() {
            night_of(scanned_local, self.program.cutover_hour)
        } else {
            batch_date
        }
    }
}

/// What the caller found about the scanned card and its holder.
#[derive(Debug, Clone, Default)]
pub struct ClientFacts {
    /// The card table's row for the code; `None` when no card has it.
    pub card: Option<CardStatus>,
    /// The holder's bars (any scope; inactive ones are ignored).
    pub bars: Vec<BarSpan>,
    /// The holder's enrollments (other programs are ignored).
    pub enrollments: Vec<EnrollmentSpan>,
    /// The holder's services already recorded or accepted, this entry excluded, for the
    /// batch's service types around the service date.
    pub served: Vec<Served>,
    /// Other clients with a bed night in the program on the service date.
    pub night_occupancy: u32,
    /// A safety alert on the holder shows in the batch's program on the service date.
    pub safety_alert: bool,
    /// The program's beds that night, when it has beds: then capacity counts beds.
    pub beds: Option<BedFacts>,
}

/// A verdict with what posting needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub client_id: Option<ClientId>,
    /// The open enrollment the services will be tied to.
    pub enrollment_id: Option<EnrollmentId>,
    /// No open enrollment, and the program enrolls on first scan: posting enrolls the client.
    pub auto_enroll: bool,
    pub warnings: Vec<Warning>,
    /// One sentence for staff on why, without personal data.
    pub detail: String,
    /// The bed given tonight, in a program with beds (or the bed asked for, when `bed_taken`).
    pub bed_id: Option<BedId>,
}

impl Judgement {
    fn flag(verdict: Verdict, client_id: Option<ClientId>, detail: impl Into<String>) -> Self {
        Self {
            verdict,
            client_id,
            enrollment_id: None,
            auto_enroll: false,
            warnings: Vec::new(),
            detail: detail.into(),
            bed_id: None,
        }
    }

    pub fn misread(why: &Misread) -> Self {
        Self::flag(Verdict::Misread, None, why.to_string())
    }
}

/// Step 1: the payload alone. Returns the lookup key, or the misread judgement.
pub fn first_look(raw: &str) -> Result<ScanCode, Judgement> {
    card_code::classify(raw).map_err(|e| Judgement::misread(&e))
}

/// Steps 2 to 7 for a payload that passed `first_look`, on the facts the caller found.
pub fn judge(ctx: &BatchContext<'_>, service_date: NaiveDate, facts: &ClientFacts) -> Judgement {
    // 2. The card.
    let Some(card) = facts.card else {
        return Judgement::flag(Verdict::UnknownCard, None, "no card has this code");
    };
    let client = Some(card.client_id);
    if card.revoked {
        return Judgement::flag(Verdict::UnknownCard, client, "this card was revoked");
    }
    if card.replaced {
        return Judgement::flag(Verdict::ReplacedCard, client, "a newer card replaced this one");
    }
    if card.expires_on.is_some_and(|end| service_date > end) {
        return Judgement::flag(Verdict::ExpiredCard, client, "this card has expired");
    }
    judge_client(ctx, service_date, card.client_id, facts)
}

/// Steps 3 to 7 for a client picked by hand at the desk (Add service, Quick Services), where
/// no card was scanned: exactly the rules a scan meets once its card resolved, so every way a
/// service is created gets the same verdict over the same facts (DESIGN §13). `facts.card`
/// is not looked at.
pub fn judge_client(
    ctx: &BatchContext<'_>,
    service_date: NaiveDate,
    client_id: ClientId,
    facts: &ClientFacts,
) -> Judgement {
    let program = ctx.program;
    let client = Some(client_id);

    // 3. Bars covering the service date and the batch's organization, program or service type.
    let covers = |scope: BarScope| match scope {
        BarScope::Organization(id) => id == program.organization_id,
        BarScope::Program(id) => id == program.id,
        BarScope::ServiceType(id) => ctx.service_types.iter().any(|st| st.id == id),
    };
    if let Some(bar) = facts.bars.iter().find(|b| b.is_active_on(service_date) && covers(b.scope)) {
        return Judgement::flag(
            Verdict::Barred,
            client,
            format!("barred from {} to {}", bar.begin_date, bar.end_date),
        );
    }

    // 3b. A safety alert, where the program asks staff to see the client first.
    if program.safety_alerts_stop && facts.safety_alert {
        return Judgement::flag(Verdict::SeeStaff, client, "a safety alert is on file: see staff");
    }

    // 4. An open enrollment in the batch's program on the service date.
    let residential = program.is_residential();
    let open = facts
        .enrollments
        .iter()
        .filter(|e| e.program_id == program.id && e.is_open_on(service_date, residential))
        .max_by_key(|e| (e.entry_date, e.id));
    let mut auto_enroll = false;
    if open.is_none() {
        match program.enrollment_policy {
            EnrollmentPolicy::Reject => {
                return Judgement::flag(
                    Verdict::NoOpenEnrollment,
                    client,
                    format!("no enrollment in {} open on {service_date}", program.name),
                );
            }
            EnrollmentPolicy::QueueForIntake => {
                return Judgement::flag(
                    Verdict::QueuedForIntake,
                    client,
                    format!("not enrolled in {}: kept for intake", program.name),
                );
            }
            EnrollmentPolicy::AutoEnroll => auto_enroll = true,
        }
    }

    // 5. Duplicates beyond the per-day maximum (0 means no daily maximum).
    for st in ctx.service_types {
        if st.max_per_day == 0 {
            continue;
        }
        let same_day = facts
            .served
            .iter()
            .filter(|s| s.service_type_id == st.id && s.date == service_date)
            .count();
        if same_day >= st.max_per_day as usize {
            return Judgement::flag(
                Verdict::Duplicate,
                client,
                format!("already has {} on {service_date}", st.name),
            );
        }
    }

    // 6. Frequency limit, then capacity.
    let mut warnings = Vec::new();
    for st in ctx.service_types {
        let Some(limit) = st.frequency else { continue };
        let window_start = service_date
            .checked_sub_days(Days::new(u64::from(limit.days.saturating_sub(1))))
            .unwrap_or(NaiveDate::MIN);
        let in_window = facts
            .served
            .iter()
            .filter(|s| {
                s.service_type_id == st.id && s.date >= window_start && s.date <= service_date
            })
            .count();
        if in_window >= limit.max as usize {
            match limit.policy {
                LimitPolicy::Enforce => {
                    return Judgement::flag(
                        Verdict::FrequencyLimit,
                        client,
                        format!("{} limit is {} per {} days", st.name, limit.max, limit.days),
                    );
                }
                LimitPolicy::Warn => warnings.push(Warning::FrequencyLimit),
            }
        }
    }
    let mut bed_id = None;
    let beds = facts.beds.as_ref().filter(|b| ctx.records_bed_nights() && !b.beds.is_empty());
    let full = match beds.map(|b| beds::place(b, client_id)) {
        Some(Placement::Bed(id)) => {
            bed_id = Some(id);
            None
        }
        Some(Placement::Taken(id)) => {
            let mut j = Judgement::flag(
                Verdict::BedTaken,
                client,
                "this bed was given to another guest first tonight: choose another bed",
            );
            j.bed_id = Some(id);
            return j;
        }
        Some(Placement::NoBed) => beds.map(|b| b.beds.len() as u32),
        None => {
            program.capacity.filter(|&c| ctx.records_bed_nights() && facts.night_occupancy >= c)
        }
    };
    if let Some(capacity) = full {
        match program.capacity_policy {
            LimitPolicy::Enforce => {
                return Judgement::flag(
                    Verdict::CapacityFull,
                    client,
                    format!("all {capacity} beds are taken for {service_date}"),
                );
            }
            LimitPolicy::Warn => warnings.push(Warning::CapacityFull),
        }
    }

    // 7. Accepted.
    Judgement {
        verdict: Verdict::Accepted,
        client_id: client,
        enrollment_id: open.map(|e| e.id),
        auto_enroll,
        warnings,
        bed_id,
        detail: if auto_enroll {
            format!("enrolled in {} on {service_date} when posted", program.name)
        } else {
            String::new()
        },
    }
}

#[cfg(test)]
mod tests;
