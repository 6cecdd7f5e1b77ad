//! The phone station judges with `scanline_core::roster` in memory where this station asks its
//! database (DESIGN §17): the same scans, made through the worker, get the same verdict, bed
//! and service date both ways, at a meal line and at a shelter door with beds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use scanline_core::beds::{Bed, BedHold};
use scanline_core::domain::{
    AlertKind, BarScope, BarSpan, EnrollmentPolicy, EnrollmentSpan, FrequencyLimit, LimitPolicy,
    ProgramRules, RECORD_TYPE_BED_NIGHT, ServiceTypeRules,
};
use scanline_core::night::local_time;
use scanline_core::roster::{LocalScan, Roster};
use scanline_core::wire::{
    OrganizationInfo, RosterAlert, RosterCard, RosterClient, RosterServed, RosterSnapshot,
    StationInfo,
};
use scanline_core::{BatchContext, ScanlineCode, verdict};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{ScanOutcome, Worker};
use crate::config::BatchTemplate;
use crate::store::{self, roster};

fn program(id: i64, name: &str, shelter: bool) -> ProgramRules {
    ProgramRules {
        id,
        organization_id: 1,
        name: name.into(),
        project_type: if shelter { 1 } else { 6 },
        capacity: shelter.then_some(6),
        capacity_policy: LimitPolicy::Enforce,
        cutover_hour: 12,
        enrollment_policy: if shelter {
            EnrollmentPolicy::AutoEnroll
        } else {
            EnrollmentPolicy::Reject
        },
        auto_exit_after_nights: None,
        safety_alerts_stop: shelter,
        bed_release_minutes: shelter.then_some(21 * 60),
    }
}

fn code(client: i64, seq: u8) -> String {
    ScanlineCode::new(client as u32, seq).unwrap().encode()
}

/// Twelve guests: one with a replaced card, one barred from meals, one never enrolled in
/// meals, one with a safety alert; meals and bed nights already on the server, beds with a
/// staff hold.
fn snapshot(today: NaiveDate) -> RosterSnapshot {
    let day = |back: u64| today - Days::new(back);
    let clients: Vec<i64> = (1..=12).collect();
    let mut cards: Vec<RosterCard> = clients
        .iter()
        .map(|&c| RosterCard { code: code(c, 1), client_id: c, replaced: c == 3, expires_on: None })
        .collect();
    cards.push(RosterCard { code: code(3, 2), client_id: 3, replaced: false, expires_on: None });
    let served =
        |key: &str, client: i64, p: i64, st: i64, date: NaiveDate, bed: Option<i64>| RosterServed {
            key: key.into(),
            client_id: client,
            program_id: p,
            service_type_id: st,
            date,
            entry_uuid: None,
            bed_id: bed,
        };
    RosterSnapshot {
        cursor: 1,
        server_time: Utc::now(),
        station: StationInfo { id: 1, name: "Door".into() },
        organization: OrganizationInfo { id: 1, name: "Org".into(), time_zone: "UTC".into() },
        programs: vec![program(1, "Meals", false), program(2, "Shelter", true)],
        service_types: vec![
            ServiceTypeRules {
                id: 1,
                program_id: 1,
                name: "Meal".into(),
                record_type: None,
                default_units: 1.0,
                unit_value: 0.0,
                max_per_day: 1,
                frequency: Some(FrequencyLimit { max: 3, days: 7, policy: LimitPolicy::Enforce }),
            },
            ServiceTypeRules {
                id: 2,
                program_id: 2,
                name: "Bed night".into(),
                record_type: Some(RECORD_TYPE_BED_NIGHT),
                default_units: 1.0,
                unit_value: 0.0,
                max_per_day: 1,
                frequency: None,
            },
        ],
        clients: clients
            .iter()
            .map(|&c| RosterClient {
                id: c,
                display_name: format!("Guest {c}."),
                client_number: c.to_string(),
            })
            .collect(),
        cards,
        enrollments: clients
            .iter()
            .filter(|&&c| c != 5)
            .map(|&c| EnrollmentSpan {
                id: c,
                client_id: c,
                program_id: 1,
                entry_date: day(30),
                exit_date: None,
            })
            .collect(),
        bars: vec![BarSpan {
            id: 1,
            client_id: 4,
            scope: BarScope::Program(1),
            begin_date: day(2),
            end_date: day(0) + Days::new(5),
        }],
        served: vec![
            served("svc:1", 2, 1, 1, day(1), None),
            served("svc:2", 2, 1, 1, day(2), None),
            served("svc:3", 2, 1, 1, day(3), None),
            served("svc:4", 7, 1, 1, day(1), None),
            served("svc:5", 8, 2, 2, day(1), Some(2)),
            served("svc:6", 9, 2, 2, day(1), Some(4)),
            served("svc:7", 10, 2, 2, day(0), Some(1)),
        ],
        alerts: vec![RosterAlert {
            id: 1,
            client_id: 6,
            kind: AlertKind::Safety,
            text: String::new(),
            begin_date: day(3),
            end_date: day(0) + Days::new(3),
            program_ids: vec![],
        }],
        beds: (1..=5)
            .map(|b| Bed {
                id: b,
                program_id: 2,
                name: format!("A{b}"),
                group: if b <= 3 { "Dorm A".into() } else { "Dorm B".into() },
                attributes: if b == 5 { vec!["accessible".into()] } else { vec![] },
                position: b,
            })
            .collect(),
        holds: vec![BedHold {
            id: 1,
            bed_id: 3,
            client_id: Some(11),
            first_night: day(1),
            last_night: day(0) + Days::new(2),
        }],
    }
}

/// Scans a fixed, mixed sequence of cards through the worker and judges each the phone's way
/// first, over the scans made before it.
fn compare(program_id: i64, service_type: i64) {
    let today = Utc::now().date_naive();
    let snap = snapshot(today);
    let mut conn = store::open_in_memory().unwrap();
    store::immediate(&mut conn, |tx| roster::apply_snapshot(tx, &snap)).unwrap();
    let template = BatchTemplate {
        name: "Door".into(),
        program_id,
        service_type_ids: vec![service_type],
        units: None,
        auto_post: false,
    };
    let (events, _) = broadcast::channel(64);
    let mut w = Worker::new(conn, vec![template], Duration::ZERO, Arc::default(), events);
    let phone = Roster::from_snapshot(snap);
    let rules = phone.program(program_id).unwrap().clone();
    let types = phone.service_types_of(&[service_type]);
    let ctx = BatchContext { program: &rules, service_types: &types };
    let mut scans: Vec<LocalScan> = Vec::new();
    // Every guest, some twice or three times, the replaced card, an unknown card, a misread.
    let mut order: Vec<String> = Vec::new();
    let mut x: u64 = 7;
    for _ in 0..40 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let pick = (x >> 33) % 15;
        order.push(match pick {
            0 => code(3, 2),
            13 => code(99, 1),
            14 => "8800000000501x".into(),
            n => code(n as i64, 1),
        });
    }
    for text in &order {
        let ScanOutcome::Shown(s) = w.scan("front", text).unwrap() else {
            panic!("no double reads")
        };
        let local = local_time(s.scanned_at, &chrono::Utc);
        let service_date = ctx.service_date(today, local);
        let expected = match verdict::first_look(text) {
            Err(j) => j,
            Ok(c) => {
                let facts = phone.facts(&ctx, &c, service_date, local, None, &scans, None);
                verdict::judge(&ctx, service_date, &facts)
            }
        };
        assert_eq!(
            (s.verdict, s.bed_id, s.service_date),
            (expected.verdict, expected.bed_id, service_date),
            "scan {} of {text}: station {} ({}), phone {} ({})",
            scans.len() + 1,
            s.verdict,
            s.detail,
            expected.verdict,
            expected.detail
        );
        assert_eq!(s.client_id, expected.client_id);
        scans.push(LocalScan {
            uuid: Uuid::parse_str(&s.uuid).unwrap(),
            client_id: s.client_id,
            program_id,
            service_type_ids: vec![service_type],
            service_date,
            verdict: s.verdict,
            deleted: false,
            bed_id: s.bed_id,
        });
    }
    let verdicts: std::collections::HashSet<_> = scans.iter().map(|s| s.verdict).collect();
    assert!(verdicts.len() >= 4, "the sequence meets several rules: {verdicts:?}");
}

#[test]
fn a_meal_line_gets_the_same_verdicts_from_memory_as_from_the_database() {
    compare(1, 1);
}

#[test]
fn a_shelter_door_gets_the_same_verdicts_and_beds_from_memory_as_from_the_database() {
    compare(2, 2);
}
