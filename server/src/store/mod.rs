//! All SQL of the server, as plain synchronous functions over `&Connection`, grouped by table
//! or aggregate. Callers run them through `db::Db`; writes go through `db::immediate`.
//!
//! Every function validates its input and fails with a `StoreError` before writing anything,
//! and every multi-row change runs in one transaction, so nothing is ever half-written.

pub mod alerts;
pub mod audit;
pub mod bars;
pub mod batches;
pub mod bednights;
pub mod beds;
pub mod cards;
pub mod clients;
pub mod duplicates;
pub mod enrollments;
pub mod facts;
pub mod hmis;
pub mod ids;
pub mod meta;
pub mod orgs;
pub mod photos;
pub mod printers;
pub mod programs;
pub mod reports;
pub mod roster;
pub mod services;
pub mod sessions;
pub mod staged;
pub mod stations;
pub mod users;

pub use ids::{ClientId, ProgramId};

use chrono::{DateTime, NaiveDate, Utc};

/// What went wrong in a store function, by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A named thing does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// The input breaks a rule; nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The input clashes with what is stored (a name taken, a UUID reused differently).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not touch this.
    #[error("{0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The one clock of the server. Timestamps are stored as UTC.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Today's date in a time zone.
pub fn today_in(tz: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

/// A range check from `scanline_core::bounds`, as the store's refusal of bad input.
pub(crate) fn in_range(check: Result<(), scanline_core::bounds::OutOfRange>) -> StoreResult<()> {
    check.map_err(|e| StoreError::Invalid(capitalised(&e.to_string())))
}

/// A sentence from a message that starts in lower case.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// Maps "no rows" to a `NotFound` naming what was looked for.
pub(crate) trait OptionalExt<T> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> StoreResult<T>;
}

impl<T> OptionalExt<T> for rusqlite::Result<T> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> StoreResult<T> {
        match self {
            Ok(v) => Ok(v),
            Err(rusqlite::Error::QueryReturnedNoRows) => Err(StoreError::NotFound(what())),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether an error is a UNIQUE constraint violation, for turning it into a `Conflict`.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// `bytes` random bytes from the operating system's generator, as lowercase hex: tokens,
/// session ids and CSRF values.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex(&b)
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// A display name for stations and kiosks: first (or preferred) name and last initial.
pub fn display_name(first: &str, preferred: &str, last: &str) -> String {
    let given = if preferred.trim().is_empty() { first.trim() } else { preferred.trim() };
    match last.trim().chars().next() {
        Some(initial) => format!("{given} {initial}."),
        None => given.to_owned(),
    }
}

/// A required, trimmed, bounded text field.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> StoreResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be empty")));
    }
    if v.chars().count() > max {
        return Err(StoreError::Invalid(format!("{field} is longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("{field} contains a control character")));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A small organization with a meal program and a shelter, on the real migrations.
    use super::*;
    use rusqlite::Connection;
    use scanline_core::domain::{EnrollmentPolicy, LimitPolicy};

    pub(crate) struct Fixture {
        pub conn: Connection,
        pub org: i64,
        pub meals: i64,
        pub meal: i64,
        pub shelter: i64,
        pub bed: i64,
    }

    pub(crate) fn fixture() -> Fixture {
        let conn = crate::db::open_in_memory().unwrap();
        let org = orgs::insert(&conn, "Harbor Light", "America/Los_Angeles").unwrap();
        let meals =
            programs::insert(&conn, &programs::NewProgram::meal_line(org, "Community Meals"))
                .unwrap();
        let meal = programs::insert_service_type(
            &conn,
            &programs::NewServiceType::simple(meals.0, "Meal"),
        )
        .unwrap();
        let shelter = programs::insert(
            &conn,
            &programs::NewProgram {
                organization_id: org,
                name: "Night Shelter".into(),
                project_type: 1,
                capacity: Some(3),
                capacity_policy: LimitPolicy::Enforce,
                cutover_hour: 12,
                enrollment_policy: EnrollmentPolicy::AutoEnroll,
                auto_exit_after_nights: Some(3),
            },
        )
        .unwrap();
        let bed = programs::insert_service_type(
            &conn,
            &programs::NewServiceType {
                record_type: Some(200),
                type_provided: Some(200),
                ..programs::NewServiceType::simple(shelter.0, "Bed Night")
            },
        )
        .unwrap();
        Fixture { conn, org, meals: meals.0, meal, shelter: shelter.0, bed }
    }
}
