//! Dates and times as text, in the fixed forms the server writes for every row: the form
//! SQLite stores a bound time in (`YYYY-MM-DD HH:MM:SS[.fff]+00:00`, as rusqlite binds a
//! `DateTime<Utc>`), and HUD's `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS`. Byte for byte what
//! chrono writes for the same format string, without parsing that string again for every
//! value; the rare value outside the plain form (a leap second, a year outside 0 to 9999)
//! goes to chrono itself.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// Appends `n` as `width` decimal digits, zero-padded (`n` must fit in them).
fn digits(out: &mut String, n: u32, width: u32) {
    let mut scale = 10_u32.pow(width - 1);
    while scale > 0 {
        out.push(char::from(b'0' + ((n / scale) % 10) as u8));
        scale /= 10;
    }
}

fn plain_year(year: i32) -> bool {
    (0..=9999).contains(&year)
}

/// Appends `d` as `YYYY-MM-DD` (chrono's `%Y-%m-%d`, rusqlite's bound `NaiveDate`).
pub fn push_date(out: &mut String, d: NaiveDate) {
    if !plain_year(d.year()) {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        return;
    }
    digits(out, d.year().unsigned_abs(), 4);
    out.push('-');
    digits(out, d.month(), 2);
    out.push('-');
    digits(out, d.day(), 2);
}

/// `d` as `YYYY-MM-DD`.
pub fn date(d: NaiveDate) -> String {
    let mut out = String::with_capacity(10);
    push_date(&mut out, d);
    out
}

/// Appends `t` as `YYYY-MM-DD HH:MM:SS` (chrono's `%Y-%m-%d %H:%M:%S`).
pub fn push_datetime(out: &mut String, t: NaiveDateTime) {
    if !plain_year(t.year()) || t.nanosecond() >= 1_000_000_000 {
        let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S"));
        return;
    }
    push_date(out, t.date());
    out.push(' ');
    digits(out, t.hour(), 2);
    out.push(':');
    digits(out, t.minute(), 2);
    out.push(':');
    digits(out, t.second(), 2);
}

/// `t` as `YYYY-MM-DD HH:MM:SS`.
pub fn datetime(t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(19);
    push_datetime(&mut out, t);
    out
}

/// `t` as SQLite holds a bound `DateTime<Utc>`: chrono's `%F %T%.f%:z`, the fraction in 0, 3,
/// 6 or 9 digits as it needs.
pub fn stored(t: &DateTime<Utc>) -> String {
    let naive = t.naive_utc();
    if !plain_year(naive.year()) || naive.nanosecond() >= 1_000_000_000 {
        return t.format("%F %T%.f%:z").to_string();
    }
    let mut out = String::with_capacity(35);
    push_datetime(&mut out, naive);
    let nanos = naive.nanosecond();
    if nanos != 0 {
        out.push('.');
        if nanos.is_multiple_of(1_000_000) {
            digits(&mut out, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            digits(&mut out, nanos / 1_000, 6);
        } else {
            digits(&mut out, nanos, 9);
        }
    }
    out.push_str("+00:00");
    out
}

/// `t` as SQLite holds a bound `NaiveDateTime`: chrono's `%F %T%.f`.
pub fn naive(t: NaiveDateTime) -> String {
    let mut out = stored(&t.and_utc());
    out.truncate(out.len() - "+00:00".len());
    out
}

/// The stored text of a date or a time, held inline when it is as short as they are: an
/// export reads a million of them, and each would otherwise be an allocation made on the
/// thread that reads and freed on the one that writes. Longer text is held as a `String`.
#[derive(Clone)]
pub enum Short {
    Inline { len: u8, bytes: [u8; SHORT] },
    Long(String),
}

/// The longest text `Short` holds inline: a stored time with nanoseconds and its offset.
pub const SHORT: usize = 38;

impl Short {
    pub fn new(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= SHORT => {
                let mut bytes = [0; SHORT];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Self::Inline { len, bytes }
            }
            _ => Self::Long(text.to_owned()),
        }
    }
}

impl From<&str> for Short {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl std::ops::Deref for Short {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // Always whole characters: it was copied from a `&str`.
            Self::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Self::Long(text) => text,
        }
    }
}

impl std::fmt::Debug for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl rusqlite::types::FromSql for Short {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value.as_str().map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use proptest::prelude::*;

    fn bound(value: &dyn rusqlite::ToSql) -> String {
        match value.to_sql().unwrap() {
            rusqlite::types::ToSqlOutput::Owned(rusqlite::types::Value::Text(t)) => t,
            other => panic!("not text: {other:?}"),
        }
    }

    proptest! {
        #[test]
        fn every_form_is_what_chrono_and_rusqlite_write(
            secs in -70_000_000_000_i64..260_000_000_000,
            nanos in prop_oneof![
                Just(0_u32),
                (0_u32..1000).prop_map(|m| m * 1_000_000),
                (0_u32..1_000_000).prop_map(|u| u * 1_000),
                0_u32..1_000_000_000,
            ],
        ) {
            let t = Utc.timestamp_opt(secs, nanos).single().unwrap();
            prop_assert_eq!(stored(&t), bound(&t));
            prop_assert_eq!(date(t.date_naive()), bound(&t.date_naive()));
            prop_assert_eq!(naive(t.naive_utc()), bound(&t.naive_utc()));
            prop_assert_eq!(
                datetime(t.naive_utc()),
                t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string()
            );
        }
    }

    #[test]
    fn a_leap_second_and_far_years_are_written_as_chrono_writes_them() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        let t = Utc.from_utc_datetime(&leap);
        assert_eq!(stored(&t), bound(&t));
        assert_eq!(naive(leap), bound(&leap));
        assert_eq!(datetime(leap), leap.format("%Y-%m-%d %H:%M:%S").to_string());
        for year in [-1, 10_000, 262_000] {
            let d = NaiveDate::from_ymd_opt(year, 3, 4).unwrap();
            assert_eq!(date(d), bound(&d));
        }
        assert_eq!(
            stored(&"2026-12-02T23:05:07.25Z".parse().unwrap()),
            "2026-12-02 23:05:07.250+00:00"
        );
    }
}
