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
mod tests {
    use super::*;
    use crate::domain::{FrequencyLimit, RECORD_TYPE_BED_NIGHT};

    const ORG: i64 = 1;
    const MEALS: i64 = 10;
    const SHELTER: i64 = 20;
    const MEAL: i64 = 100;
    const BED: i64 = 200;
    const CLIENT: i64 = 7;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn meal_program(policy: EnrollmentPolicy) -> ProgramRules {
        ProgramRules {
            id: MEALS,
            organization_id: ORG,
            name: "Meals".into(),
            project_type: 6,
            capacity: None,
            capacity_policy: LimitPolicy::Enforce,
            cutover_hour: 12,
            enrollment_policy: policy,
            auto_exit_after_nights: None,
            safety_alerts_stop: false,
            bed_release_minutes: None,
        }
    }

    fn shelter_program(policy: EnrollmentPolicy, capacity_policy: LimitPolicy) -> ProgramRules {
        ProgramRules {
            id: SHELTER,
            organization_id: ORG,
            name: "Shelter".into(),
            project_type: 1,
            capacity: Some(2),
            capacity_policy,
            cutover_hour: 12,
            enrollment_policy: policy,
            auto_exit_after_nights: Some(3),
            safety_alerts_stop: false,
            bed_release_minutes: None,
        }
    }

    fn meal(frequency: Option<FrequencyLimit>, max_per_day: u32) -> ServiceTypeRules {
        ServiceTypeRules {
            id: MEAL,
            program_id: MEALS,
            name: "Meal".into(),
            record_type: None,
            default_units: 1.0,
            unit_value: 0.0,
            max_per_day,
            frequency,
        }
    }

    fn bed() -> ServiceTypeRules {
        ServiceTypeRules {
            id: BED,
            program_id: SHELTER,
            name: "Bed Night".into(),
            record_type: Some(RECORD_TYPE_BED_NIGHT),
            default_units: 1.0,
            unit_value: 0.0,
            max_per_day: 1,
            frequency: None,
        }
    }

    fn card() -> CardStatus {
        CardStatus { client_id: CLIENT, replaced: false, revoked: false, expires_on: None }
    }

    fn enrolled(program: i64, entry: &str, exit: Option<&str>) -> EnrollmentSpan {
        EnrollmentSpan {
            id: 55,
            client_id: CLIENT,
            program_id: program,
            entry_date: d(entry),
            exit_date: exit.map(d),
        }
    }

    fn bar(scope: BarScope, begin: &str, end: &str) -> BarSpan {
        BarSpan { id: 1, client_id: CLIENT, scope, begin_date: d(begin), end_date: d(end) }
    }

    fn served(st: i64, date: &str) -> Served {
        Served { service_type_id: st, date: d(date) }
    }

    fn meal_facts() -> ClientFacts {
        ClientFacts {
            card: Some(card()),
            enrollments: vec![enrolled(MEALS, "2026-11-01", None)],
            ..ClientFacts::default()
        }
    }

    /// One row of the verdict table: program, service types, date, facts, expected verdict.
    fn check(
        program: &ProgramRules,
        sts: &[ServiceTypeRules],
        date: &str,
        facts: &ClientFacts,
        expected: Verdict,
    ) -> Judgement {
        let ctx = BatchContext { program, service_types: sts };
        let j = judge(&ctx, d(date), facts);
        assert_eq!(j.verdict, expected, "facts {facts:?} on {date}: {}", j.detail);
        j
    }

    #[test]
    fn misread_comes_first() {
        for raw in ["", "   ", "88000000420300", "\u{1b}[A", &"9".repeat(80)] {
            let j = first_look(raw).expect_err(raw);
            assert_eq!(j.verdict, Verdict::Misread, "{raw:?}");
            assert_eq!(j.client_id, None);
        }
        assert!(first_look("12345").is_ok());
    }

    #[test]
    fn a_safety_alert_stops_the_scan_only_where_the_program_asks() {
        let sts = [meal(None, 1)];
        let mut f = meal_facts();
        f.safety_alert = true;
        // Shown only: the scan is served as ever.
        let p = meal_program(EnrollmentPolicy::Reject);
        check(&p, &sts, "2026-11-21", &f, Verdict::Accepted);
        let p = ProgramRules { safety_alerts_stop: true, ..meal_program(EnrollmentPolicy::Reject) };
        let j = check(&p, &sts, "2026-11-21", &f, Verdict::SeeStaff);
        assert_eq!(j.verdict.class(), VerdictClass::Stop);
        assert!(!j.detail.to_lowercase().contains("alert:"), "no alert's words: {}", j.detail);
        // A bar is still the first reason given.
        f.bars.push(bar(BarScope::Program(MEALS), "2026-11-01", "2026-11-30"));
        check(&p, &sts, "2026-11-21", &f, Verdict::Barred);
        f.bars.clear();
        f.safety_alert = false;
        check(&p, &sts, "2026-11-21", &f, Verdict::Accepted);
    }

    #[test]
    fn card_states() {
        let p = meal_program(EnrollmentPolicy::Reject);
        let sts = [meal(None, 1)];
        let mut f = meal_facts();
        check(&p, &sts, "2026-11-21", &f, Verdict::Accepted);
        f.card = None;
        check(&p, &sts, "2026-11-21", &f, Verdict::UnknownCard);
        f.card = Some(CardStatus { revoked: true, ..card() });
        check(&p, &sts, "2026-11-21", &f, Verdict::UnknownCard);
        f.card = Some(CardStatus { replaced: true, ..card() });
        check(&p, &sts, "2026-11-21", &f, Verdict::ReplacedCard);
        // Replaced wins over expired: the holder should get the newer card back in hand.
        f.card = Some(CardStatus { replaced: true, expires_on: Some(d("2026-01-01")), ..card() });
        check(&p, &sts, "2026-11-21", &f, Verdict::ReplacedCard);
        f.card = Some(CardStatus { expires_on: Some(d("2026-11-20")), ..card() });
        check(&p, &sts, "2026-11-21", &f, Verdict::ExpiredCard);
        // The expiry date itself is still valid.
        f.card = Some(CardStatus { expires_on: Some(d("2026-11-21")), ..card() });
        check(&p, &sts, "2026-11-21", &f, Verdict::Accepted);
    }

    #[test]
    fn bars_by_scope_and_date() {
        let p = meal_program(EnrollmentPolicy::Reject);
        let sts = [meal(None, 1)];
        let cases = [
            (BarScope::Organization(ORG), "2026-11-01", "2026-11-30", Verdict::Barred),
            (BarScope::Organization(99), "2026-11-01", "2026-11-30", Verdict::Accepted),
            (BarScope::Program(MEALS), "2026-11-01", "2026-11-30", Verdict::Barred),
            (BarScope::Program(SHELTER), "2026-11-01", "2026-11-30", Verdict::Accepted),
            (BarScope::ServiceType(MEAL), "2026-11-01", "2026-11-30", Verdict::Barred),
            (BarScope::ServiceType(BED), "2026-11-01", "2026-11-30", Verdict::Accepted),
            // The bar's end date is still barred; the day after is not.
            (BarScope::Program(MEALS), "2026-11-01", "2026-11-21", Verdict::Barred),
            (BarScope::Program(MEALS), "2026-11-01", "2026-11-20", Verdict::Accepted),
            (BarScope::Program(MEALS), "2026-11-21", "2026-11-21", Verdict::Barred),
            (BarScope::Program(MEALS), "2026-11-22", "2026-12-01", Verdict::Accepted),
        ];
        for (scope, begin, end, expected) in cases {
            let mut f = meal_facts();
            f.bars = vec![bar(scope, begin, end)];
            check(&p, &sts, "2026-11-21", &f, expected);
        }
        // Barred is decided before the enrollment: a barred, unenrolled client shows Barred.
        let mut f = meal_facts();
        f.enrollments.clear();
        f.bars = vec![bar(BarScope::Program(MEALS), "2026-11-01", "2026-11-30")];
        check(&p, &sts, "2026-11-21", &f, Verdict::Barred);
    }

    #[test]
    fn enrollment_edges_for_a_service_program() {
        let p = meal_program(EnrollmentPolicy::Reject);
        let sts = [meal(None, 1)];
        let cases = [
            ("2026-11-21", None, Verdict::Accepted),         // entry day
            ("2026-11-22", None, Verdict::NoOpenEnrollment), // before entry
            ("2026-11-01", Some("2026-11-21"), Verdict::Accepted), // exit day counts
            ("2026-11-01", Some("2026-11-20"), Verdict::NoOpenEnrollment), // after exit
        ];
        for (entry, exit, expected) in cases {
            let mut f = meal_facts();
            f.enrollments = vec![enrolled(MEALS, entry, exit)];
            check(&p, &sts, "2026-11-21", &f, expected);
        }
        // An enrollment in another program does not count.
        let mut f = meal_facts();
        f.enrollments = vec![enrolled(SHELTER, "2026-11-01", None)];
        check(&p, &sts, "2026-11-21", &f, Verdict::NoOpenEnrollment);
    }

    #[test]
    fn enrollment_edges_for_a_night_by_night_shelter() {
        let p = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Enforce);
        let sts = [bed()];
        let cases = [
            ("2026-11-21", None, Verdict::Accepted), // entry night
            ("2026-11-01", Some("2026-11-21"), Verdict::NoOpenEnrollment), // exit day: none
            ("2026-11-01", Some("2026-11-22"), Verdict::Accepted),
        ];
        for (entry, exit, expected) in cases {
            let f = ClientFacts {
                card: Some(card()),
                enrollments: vec![enrolled(SHELTER, entry, exit)],
                ..ClientFacts::default()
            };
            check(&p, &sts, "2026-11-21", &f, expected);
        }
    }

    #[test]
    fn enrollment_policies() {
        let sts = [meal(None, 1)];
        let mut f = meal_facts();
        f.enrollments.clear();
        check(
            &meal_program(EnrollmentPolicy::Reject),
            &sts,
            "2026-11-21",
            &f,
            Verdict::NoOpenEnrollment,
        );
        check(
            &meal_program(EnrollmentPolicy::QueueForIntake),
            &sts,
            "2026-11-21",
            &f,
            Verdict::QueuedForIntake,
        );
        let shelter = shelter_program(EnrollmentPolicy::AutoEnroll, LimitPolicy::Enforce);
        let f = ClientFacts { card: Some(card()), ..ClientFacts::default() };
        let j = check(&shelter, &[bed()], "2026-11-21", &f, Verdict::Accepted);
        assert!(j.auto_enroll);
        assert_eq!(j.enrollment_id, None);
        // With an open enrollment the entry is tied to it, and nothing is auto-enrolled.
        let f = ClientFacts {
            card: Some(card()),
            enrollments: vec![enrolled(SHELTER, "2026-11-01", None)],
            ..ClientFacts::default()
        };
        let j = check(&shelter, &[bed()], "2026-11-21", &f, Verdict::Accepted);
        assert!(!j.auto_enroll);
        assert_eq!(j.enrollment_id, Some(55));
        assert_eq!(j.client_id, Some(CLIENT));
    }

    #[test]
    fn duplicates_by_per_day_maximum() {
        let p = meal_program(EnrollmentPolicy::Reject);
        let mut f = meal_facts();
        f.served = vec![served(MEAL, "2026-11-21")];
        check(&p, &[meal(None, 1)], "2026-11-21", &f, Verdict::Duplicate);
        check(&p, &[meal(None, 2)], "2026-11-21", &f, Verdict::Accepted);
        check(&p, &[meal(None, 0)], "2026-11-21", &f, Verdict::Accepted);
        // Yesterday's meal is not a duplicate of today's.
        check(&p, &[meal(None, 1)], "2026-11-22", &f, Verdict::Accepted);
        f.served.push(served(MEAL, "2026-11-21"));
        check(&p, &[meal(None, 2)], "2026-11-21", &f, Verdict::Duplicate);
        // Another service type on the same day is not a duplicate.
        f.served = vec![served(BED, "2026-11-21")];
        check(&p, &[meal(None, 1)], "2026-11-21", &f, Verdict::Accepted);
    }

    #[test]
    fn frequency_limit_enforce_and_warn() {
        let p = meal_program(EnrollmentPolicy::Reject);
        let enforce = FrequencyLimit { max: 2, days: 7, policy: LimitPolicy::Enforce };
        let warn = FrequencyLimit { policy: LimitPolicy::Warn, ..enforce };
        let mut f = meal_facts();
        f.served = vec![served(MEAL, "2026-11-15"), served(MEAL, "2026-11-20")];
        check(&p, &[meal(Some(enforce), 1)], "2026-11-21", &f, Verdict::FrequencyLimit);
        let j = check(&p, &[meal(Some(warn), 1)], "2026-11-21", &f, Verdict::Accepted);
        assert_eq!(j.warnings, vec![Warning::FrequencyLimit]);
        // 2026-11-14 is outside a 7-day window ending 2026-11-21 (15th to 21st).
        f.served = vec![served(MEAL, "2026-11-14"), served(MEAL, "2026-11-20")];
        check(&p, &[meal(Some(enforce), 1)], "2026-11-21", &f, Verdict::Accepted);
        // Duplicate is decided before frequency.
        f.served = vec![served(MEAL, "2026-11-21"), served(MEAL, "2026-11-20")];
        check(&p, &[meal(Some(enforce), 1)], "2026-11-21", &f, Verdict::Duplicate);
    }

    #[test]
    fn capacity_enforce_and_warn() {
        let enrolled_facts = |occupancy| ClientFacts {
            card: Some(card()),
            enrollments: vec![enrolled(SHELTER, "2026-11-01", None)],
            night_occupancy: occupancy,
            ..ClientFacts::default()
        };
        let enforce = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Enforce);
        check(&enforce, &[bed()], "2026-11-21", &enrolled_facts(1), Verdict::Accepted);
        check(&enforce, &[bed()], "2026-11-21", &enrolled_facts(2), Verdict::CapacityFull);
        let warn = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Warn);
        let j = check(&warn, &[bed()], "2026-11-21", &enrolled_facts(5), Verdict::Accepted);
        assert_eq!(j.warnings, vec![Warning::CapacityFull]);
        // Capacity only concerns bed-night batches.
        let p = ProgramRules { capacity: Some(0), ..meal_program(EnrollmentPolicy::Reject) };
        check(&p, &[meal(None, 1)], "2026-11-21", &meal_facts(), Verdict::Accepted);
        // One bed night per night: a second scan the same night is a duplicate, not a new bed.
        let mut f = enrolled_facts(2);
        f.served = vec![served(BED, "2026-11-21")];
        check(&enforce, &[bed()], "2026-11-21", &f, Verdict::Duplicate);
    }

    #[test]
    fn with_beds_capacity_counts_beds_and_a_bed_given_twice_is_flagged() {
        use crate::beds::{Bed, BedFacts, Occupant};
        let beds: Vec<Bed> = (1..=2)
            .map(|id| Bed {
                id,
                program_id: SHELTER,
                name: format!("A{id}"),
                group: String::new(),
                attributes: Vec::new(),
                position: id,
            })
            .collect();
        // The program's capacity of 2 is not what counts once it has beds.
        let facts = |tonight: Vec<Occupant>, asked| ClientFacts {
            card: Some(card()),
            enrollments: vec![enrolled(SHELTER, "2026-11-01", None)],
            night_occupancy: 99,
            beds: Some(BedFacts { beds: beds.clone(), tonight, asked, ..BedFacts::default() }),
            ..ClientFacts::default()
        };
        let enforce = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Enforce);
        let j = check(&enforce, &[bed()], "2026-11-21", &facts(vec![], None), Verdict::Accepted);
        assert_eq!(j.bed_id, Some(1));
        let other = |bed_id| Occupant { bed_id, client_id: CLIENT + 1 };
        let j = check(
            &enforce,
            &[bed()],
            "2026-11-21",
            &facts(vec![other(1)], None),
            Verdict::Accepted,
        );
        assert_eq!(j.bed_id, Some(2));
        let full = facts(vec![other(1), Occupant { bed_id: 2, client_id: CLIENT + 2 }], None);
        check(&enforce, &[bed()], "2026-11-21", &full, Verdict::CapacityFull);
        let warn = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Warn);
        let j = check(&warn, &[bed()], "2026-11-21", &full, Verdict::Accepted);
        assert_eq!((j.bed_id, j.warnings), (None, vec![Warning::CapacityFull]));
        // A station gave bed 1 offline; another guest has it: flagged, with the bed asked for.
        let j = check(
            &enforce,
            &[bed()],
            "2026-11-21",
            &facts(vec![other(1)], Some(1)),
            Verdict::BedTaken,
        );
        assert_eq!(j.bed_id, Some(1));
        // Beds are for bed nights only.
        let p = meal_program(EnrollmentPolicy::Reject);
        let mut f = meal_facts();
        f.beds = full.beds.clone();
        let j = check(&p, &[meal(None, 1)], "2026-11-21", &f, Verdict::Accepted);
        assert_eq!(j.bed_id, None);
    }

    #[test]
    fn bed_night_batches_date_each_scan_by_its_night() {
        let p = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Enforce);
        let sts = [bed()];
        let ctx = BatchContext { program: &p, service_types: &sts };
        let at = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(ctx.service_date(d("2026-11-21"), at("2026-11-22 00:30")), d("2026-11-21"));
        assert_eq!(ctx.service_date(d("2026-11-21"), at("2026-11-21 21:00")), d("2026-11-21"));
        let mp = meal_program(EnrollmentPolicy::Reject);
        let msts = [meal(None, 1)];
        let meal_ctx = BatchContext { program: &mp, service_types: &msts };
        assert_eq!(meal_ctx.service_date(d("2026-11-21"), at("2026-11-22 00:30")), d("2026-11-21"));
    }

    #[test]
    fn a_client_picked_at_the_desk_meets_the_same_rules_as_a_scan() {
        let p = meal_program(EnrollmentPolicy::Reject);
        let sts = [meal(None, 1)];
        let ctx = BatchContext { program: &p, service_types: &sts };
        let verdict = |f: &ClientFacts| judge_client(&ctx, d("2026-11-21"), CLIENT, f).verdict;
        // No card is needed, and a card's state does not matter.
        let mut f = ClientFacts { card: None, ..meal_facts() };
        assert_eq!(verdict(&f), Verdict::Accepted);
        f.card = Some(CardStatus { replaced: true, ..card() });
        assert_eq!(verdict(&f), Verdict::Accepted);
        f.bars = vec![bar(BarScope::Organization(ORG), "2026-11-01", "2026-11-30")];
        assert_eq!(verdict(&f), Verdict::Barred);
        f.bars.clear();
        f.served = vec![served(MEAL, "2026-11-21")];
        assert_eq!(verdict(&f), Verdict::Duplicate);
        f.served.clear();
        f.enrollments.clear();
        assert_eq!(verdict(&f), Verdict::NoOpenEnrollment);
        // And for a scanned card, judge gives what judge_client gives once the card is good.
        for facts in
            [meal_facts(), ClientFacts { served: vec![served(MEAL, "2026-11-21")], ..meal_facts() }]
        {
            assert_eq!(
                judge(&ctx, d("2026-11-21"), &facts),
                judge_client(&ctx, d("2026-11-21"), CLIENT, &facts)
            );
        }
    }

    #[test]
    fn verdict_names_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
        }
        assert_eq!(Verdict::parse("ok"), None);
    }
}
