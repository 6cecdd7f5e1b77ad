//! An upload reads what it needs once for all of its entries; these tests hold it to the
//! verdicts the same scans get one request at a time, where each entry's facts are read after
//! the entries before it are stored.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use scanline_core::domain::{BarScope, FrequencyLimit, LimitPolicy};
use scanline_core::wire::{CreateBatch, EntryUpload, EntryVerdict};
use uuid::Uuid;

use super::{BatchRow, Creator, create, post, upload};
use crate::store::audit::Actor;
use crate::store::stations::{self, StationAuth};
use crate::store::testing::{Fixture, fixture};
use crate::store::{bars, cards, clients, enrollments, programs};

/// The clock these tests run at.
fn now() -> DateTime<Utc> {
    "2026-11-23T12:00:00Z".parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// One agency, built the same way every time: clients with current, replaced and revoked
/// cards, one not enrolled in meals, one barred from meals for part of the week, and meals
/// already posted on the 19th and 20th.
struct Agency {
    f: Fixture,
    station: StationAuth,
    /// A meal type limited to two in three days.
    limited: i64,
    /// Codes scans pick from: current cards, a replaced card, a revoked card.
    codes: Vec<String>,
}

fn agency() -> Agency {
    let f = fixture();
    let limited = programs::insert_service_type(
        &f.conn,
        &programs::NewServiceType {
            frequency: Some(FrequencyLimit { max: 2, days: 3, policy: LimitPolicy::Enforce }),
            ..programs::NewServiceType::simple(f.meals, "Lunch")
        },
    )
    .unwrap();
    let (_, token) = stations::insert(&f.conn, f.org, "Door", &[f.meals, f.shelter]).unwrap();
    let station = stations::authenticate(&f.conn, &token).unwrap().unwrap();
    let mut codes = Vec::new();
    for i in 0..6 {
        let (client, _) = clients::insert(
            &f.conn,
            &clients::NewClient {
                organization_id: f.org,
                first_name: format!("Guest{i}"),
                last_name: "Test".into(),
                ..clients::NewClient::default()
            },
        )
        .unwrap();
        let programs = if i == 5 { vec![f.shelter] } else { vec![f.meals, f.shelter] };
        for program_id in programs {
            enrollments::insert(
                &f.conn,
                &enrollments::NewEnrollment {
                    client_id: client.0,
                    program_id,
                    entry_date: day("2026-01-01"),
                    household_id: None,
                    relationship_to_hoh: 1,
                },
            )
            .unwrap();
        }
        if i == 0 {
            // A lost card, reprinted: the old code is a replaced card.
            codes.push(cards::issue_scanline(&f.conn, client.0, None).unwrap().1);
        }
        let (card, code) = cards::issue_scanline(&f.conn, client.0, None).unwrap();
        if i == 4 {
            cards::revoke(&f.conn, card, "reported lost").unwrap();
        }
        if i == 3 {
            bars::insert(
                &f.conn,
                client.0,
                BarScope::Program(f.meals),
                day("2026-11-21"),
                day("2026-11-21"),
                "test bar",
                None,
            )
            .unwrap();
        }
        codes.push(code);
    }
    let agency = Agency { f, station, limited, codes };
    // Lunch already posted: on the 19th for the first two guests, on the 20th for the first.
    for (date, holders) in [("2026-11-19", 1..3), ("2026-11-20", 1..2)] {
        let history = agency.batch(agency.f.meals, vec![agency.limited], day(date));
        let at: DateTime<Utc> = format!("{date}T20:00:00Z").parse().unwrap();
        let scans: Vec<_> = holders.map(|c| scan(&agency.codes[c], at)).collect();
        upload(&agency.f.conn, &agency.station, history.uuid, &scans, now()).unwrap();
        post(&agency.f.conn, &history, Actor::System).unwrap();
    }
    agency
}

impl Agency {
    fn batch(&self, program_id: i64, service_type_ids: Vec<i64>, date: NaiveDate) -> BatchRow {
        create(
            &self.f.conn,
            Creator::Station(&self.station),
            &CreateBatch {
                uuid: Uuid::new_v4(),
                program_id,
                service_type_ids,
                service_date: date,
                units: None,
                unit_value: None,
                description: None,
                auto_post: false,
            },
            now(),
        )
        .unwrap()
        .0
    }
}

fn scan(code: &str, at: DateTime<Utc>) -> EntryUpload {
    EntryUpload {
        uuid: Uuid::new_v4(),
        code: code.into(),
        scanned_at: at,
        station_verdict: None,
        bed_id: None,
    }
}

/// What a station is told about an entry, without the UUID (each agency makes its own).
fn told(v: &EntryVerdict) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {} {:?} dup={} changed={}",
        v.verdict,
        v.client_id,
        v.warnings,
        v.detail,
        v.service_date,
        v.bed_id,
        v.duplicate_upload,
        v.changed
    )
}

/// Which batch a case's scans go to.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Meal and lunch on the 21st, in a meal program.
    Meals,
    /// Bed nights in a shelter of three beds that enrols on the first night, over three
    /// nights.
    Beds,
}

/// One scan of a case: which code (an index into the agency's codes, or past them a code
/// no card has or a misread), the hour after the first scan, and whether it repeats an earlier
/// scan's UUID (a station's retry).
type Pick = (usize, u32, Option<usize>);

fn verdicts_both_ways(kind: Kind, picks: &[Pick]) -> (Vec<String>, Vec<String>) {
    let whole = agency();
    let single = agency();
    let start: DateTime<Utc> = "2026-11-21T18:00:00Z".parse().unwrap();
    let batch_of = |a: &Agency| match kind {
        Kind::Meals => a.batch(a.f.meals, vec![a.f.meal, a.limited], day("2026-11-21")),
        Kind::Beds => a.batch(a.f.shelter, vec![a.f.bed], day("2026-11-21")),
    };
    let (bw, bs) = (batch_of(&whole), batch_of(&single));
    let mut scans: Vec<EntryUpload> = Vec::new();
    for &(code, hours, repeat) in picks {
        if let Some(earlier) = repeat.filter(|&i| i < scans.len()) {
            scans.push(scans[earlier].clone());
            continue;
        }
        let code = match code.checked_sub(whole.codes.len()) {
            None => whole.codes[code].clone(),
            Some(0) => "SL-NOSUCHCARD".to_owned(),
            Some(_) => "\u{7}garbled".to_owned(),
        };
        scans.push(scan(&code, start + Duration::hours(i64::from(hours))));
    }
    let at_once = upload(&whole.f.conn, &whole.station, bw.uuid, &scans, now()).unwrap();
    let one_by_one: Vec<EntryVerdict> = scans
        .iter()
        .flat_map(|s| {
            upload(&single.f.conn, &single.station, bs.uuid, std::slice::from_ref(s), now())
                .unwrap()
        })
        .collect();
    (at_once.iter().map(told).collect(), one_by_one.iter().map(told).collect())
}

#[test]
fn a_request_of_many_scans_gets_the_verdicts_of_one_scan_at_a_time() {
    // Every kind of verdict in one request: a first meal, the same guest again, a replaced
    // card, a revoked card, no such card, a misread, a barred guest, a guest not enrolled, the
    // lunch limit reached from the history, and a retried UUID.
    let picks: Vec<Pick> = vec![
        (1, 0, None),
        (3, 1, None),
        (3, 1, None),
        (0, 1, None),
        (5, 1, None),
        (7, 1, None),
        (8, 1, None),
        (4, 1, None),
        (6, 2, None),
        (2, 2, None),
        (0, 0, Some(1)),
    ];
    let (at_once, one_by_one) = verdicts_both_ways(Kind::Meals, &picks);
    assert_eq!(at_once, one_by_one);
    let all = at_once.join("\n");
    for verdict in [
        "Accepted",
        "Duplicate",
        "ReplacedCard",
        "this card was revoked",
        "UnknownCard",
        "Misread",
        "Barred",
        "NoOpenEnrollment",
        "FrequencyLimit",
        "dup=true",
    ] {
        assert!(all.contains(verdict), "no {verdict} in:\n{all}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_request_gets_the_verdicts_of_its_scans_one_at_a_time(
        beds in any::<bool>(),
        picks in prop::collection::vec(
            (0usize..9, 0u32..60, prop::option::weighted(0.15, 0usize..20)),
            1..24,
        ),
    ) {
        let kind = if beds { Kind::Beds } else { Kind::Meals };
        let (at_once, one_by_one) = verdicts_both_ways(kind, &picks);
        prop_assert_eq!(at_once, one_by_one);
    }
}

#[test]
fn dates_and_times_are_bound_as_the_text_they_are_stored_as() {
    assert_eq!(super::intake::bound_text(&day("2026-11-21")).unwrap(), "2026-11-21");
    let at: DateTime<Utc> = "2026-11-21T18:30:05.25Z".parse().unwrap();
    assert_eq!(super::intake::bound_text(&at).unwrap(), "2026-11-21 18:30:05.250+00:00");
    assert!(super::intake::bound_text(&7_i64).is_err());
}
