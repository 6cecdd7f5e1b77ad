//! The verdict's table tests: each step of DESIGN §5 in its order, over hand-made facts.

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
    let j =
        check(&enforce, &[bed()], "2026-11-21", &facts(vec![other(1)], None), Verdict::Accepted);
    assert_eq!(j.bed_id, Some(2));
    let full = facts(vec![other(1), Occupant { bed_id: 2, client_id: CLIENT + 2 }], None);
    check(&enforce, &[bed()], "2026-11-21", &full, Verdict::CapacityFull);
    let warn = shelter_program(EnrollmentPolicy::Reject, LimitPolicy::Warn);
    let j = check(&warn, &[bed()], "2026-11-21", &full, Verdict::Accepted);
    assert_eq!((j.bed_id, j.warnings), (None, vec![Warning::CapacityFull]));
    // A station gave bed 1 offline; another guest has it: flagged, with the bed asked for.
    let j =
        check(&enforce, &[bed()], "2026-11-21", &facts(vec![other(1)], Some(1)), Verdict::BedTaken);
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
