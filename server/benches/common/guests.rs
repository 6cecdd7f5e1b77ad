//! Synthetic guests of a meal line for the server benches: made-up names, and a guest with an
//! open enrollment and a Scanline card, made through the store as staff would make them.

use chrono::NaiveDate;
use rusqlite::Connection;
use scanline_server::store::{StoreError, cards, clients, enrollments};

pub(crate) const FIRST_NAMES: [&str; 24] = [
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umber", "Val", "Wren", "Yael",
];
pub(crate) const LAST_NAMES: [&str; 20] = [
    "Ashdown",
    "Brightwater",
    "Coldbrook",
    "Dunmore",
    "Eastlake",
    "Fairweather",
    "Glenrock",
    "Hollowell",
    "Ironwood",
    "Juniper",
    "Kettleby",
    "Larkspur",
    "Millbank",
    "Northcott",
    "Oakhurst",
    "Pennywhistle",
    "Quarrington",
    "Redfern",
    "Stillwater",
    "Thornbury",
];

/// The `i`th guest's first and last name.
#[allow(dead_code)]
pub(crate) fn name(i: usize) -> (&'static str, &'static str) {
    (FIRST_NAMES[i % FIRST_NAMES.len()], LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()])
}

/// A guest of `org` enrolled in `program` since 2020 with one Scanline card: the client's id
/// and the card's code.
#[allow(dead_code)]
pub(crate) fn enrolled_with_card(
    conn: &Connection,
    org: i64,
    program: i64,
    (first, last): (&str, &str),
) -> Result<(i64, String), StoreError> {
    let (id, _) = clients::insert(
        conn,
        &clients::NewClient {
            organization_id: org,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            ..clients::NewClient::default()
        },
    )?;
    enrollments::insert(
        conn,
        &enrollments::NewEnrollment {
            client_id: id.0,
            program_id: program,
            entry_date: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
            household_id: None,
            relationship_to_hoh: 1,
        },
    )?;
    Ok((id.0, cards::issue_scanline(conn, id.0, None)?.1))
}
