//! The ranges a time or date from outside must fall in before anything uses it (DESIGN §13):
//! a scan's time and a service date within a window around the receiver's clock that a real
//! station can produce, and every other calendar date between 1900 and 2100. Pure: the caller
//! passes its own clock, so the station, the server and tests all check alike.
//!
//! The scan window is 400 days back and 2 days ahead. Back: a station that sat switched off
//! for a season still uploads what it scanned before (a year and a month of slack); older
//! than that is a clock fault, not a scan. Ahead: clock drift and a station in a zone east of
//! the server, never more.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};

/// Days before the receiver's clock that a scan or service date may lie.
pub const PAST_DAYS: u64 = 400;
/// Days after the receiver's clock that a scan or service date may lie.
pub const FUTURE_DAYS: u64 = 2;
/// The first and last year of any date accepted from outside.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2100;
/// The longest period a report, export or bar may span, in days (about 20 years).
pub const MAX_SPAN_DAYS: i64 = 7_400;

/// Why a time or date was refused, in words for the person or station that sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutOfRange {
    #[error(
        "the {what} {value} is outside what a station can produce: it must lie between \
         {earliest} and {latest} (400 days back to 2 days ahead of the server's clock)"
    )]
    Window { what: &'static str, value: String, earliest: NaiveDate, latest: NaiveDate },
    #[error("the {what} {value} is not a date between {FIRST_YEAR} and {LAST_YEAR}")]
    Calendar { what: &'static str, value: String },
    #[error("the {what} {value} is in the future")]
    Future { what: &'static str, value: String },
    #[error("the {what} begins after it ends ({from} to {to})")]
    Reversed { what: &'static str, from: NaiveDate, to: NaiveDate },
    #[error("the {what} from {from} to {to} is longer than {MAX_SPAN_DAYS} days")]
    TooLong { what: &'static str, from: NaiveDate, to: NaiveDate },
}

/// The first and last service date accepted on `today`.
pub fn service_window(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        today.checked_sub_days(Days::new(PAST_DAYS)).unwrap_or(NaiveDate::MIN),
        today.checked_add_days(Days::new(FUTURE_DAYS)).unwrap_or(NaiveDate::MAX),
    )
}

/// A scan's time, against the receiver's clock `now`.
pub fn scanned_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), OutOfRange> {
    let (earliest, latest) = service_window(now.date_naive());
    let date = at.date_naive();
    if date < earliest || date > latest {
        return Err(OutOfRange::Window {
            what: "scan time",
            value: at.to_rfc3339(),
            earliest,
            latest,
        });
    }
    Ok(())
}

/// A service date (a batch's, or one typed at the desk), against the receiver's `today`.
pub fn service_date(
    what: &'static str,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), OutOfRange> {
    let (earliest, latest) = service_window(today);
    if date < earliest || date > latest {
        return Err(OutOfRange::Window { what, value: date.to_string(), earliest, latest });
    }
    Ok(())
}

/// Any other date from outside: entry and exit dates, bars, expiry dates, report periods.
pub fn calendar(what: &'static str, date: NaiveDate) -> Result<(), OutOfRange> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        Ok(())
    } else {
        Err(OutOfRange::Calendar { what, value: date.to_string() })
    }
}

/// A date that cannot lie in the future (a date of birth, an exit date), against `today`.
pub fn not_future(what: &'static str, date: NaiveDate, today: NaiveDate) -> Result<(), OutOfRange> {
    calendar(what, date)?;
    if date > today {
        return Err(OutOfRange::Future { what, value: date.to_string() });
    }
    Ok(())
}

/// A period from `from` to `to` inclusive: both calendar dates, in order, at most
/// `MAX_SPAN_DAYS` long.
pub fn period(what: &'static str, from: NaiveDate, to: NaiveDate) -> Result<(), OutOfRange> {
    calendar(what, from)?;
    calendar(what, to)?;
    if from > to {
        return Err(OutOfRange::Reversed { what, from, to });
    }
    if (to - from).num_days() > MAX_SPAN_DAYS {
        return Err(OutOfRange::TooLong { what, from, to });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn scan_times_table() {
        let now = t("2026-12-01T12:00:00Z");
        let cases = [
            ("2026-12-01T11:59:00Z", true),
            ("2025-10-27T00:00:00Z", true), // 400 days back
            ("2025-10-26T23:59:59Z", false),
            ("2026-12-03T23:59:59Z", true), // 2 days ahead
            ("2026-12-04T00:00:00Z", false),
            ("0000-01-01T00:00:00Z", false),
            ("-262143-01-01T00:00:00Z", false),
            ("+262142-12-31T23:59:59Z", false),
        ];
        for (at, ok) in cases {
            assert_eq!(scanned_at(t(at), now).is_ok(), ok, "{at}");
        }
        let err = scanned_at(t("1999-01-01T00:00:00Z"), now).unwrap_err().to_string();
        assert!(err.contains("between 2025-10-27 and 2026-12-03"), "{err}");
    }

    #[test]
    fn dates_table() {
        let today = d("2026-12-01");
        assert!(service_date("service date", d("2026-12-03"), today).is_ok());
        assert!(service_date("service date", d("2026-12-04"), today).is_err());
        assert!(service_date("service date", d("2025-10-26"), today).is_err());
        assert!(calendar("entry date", d("1900-01-01")).is_ok());
        assert!(calendar("entry date", d("2100-12-31")).is_ok());
        assert!(calendar("entry date", d("1899-12-31")).is_err());
        assert!(calendar("entry date", NaiveDate::MIN).is_err());
        assert!(not_future("date of birth", d("2026-12-01"), today).is_ok());
        assert!(not_future("date of birth", d("2026-12-02"), today).is_err());
        assert!(period("report period", d("2026-01-01"), d("2026-01-31")).is_ok());
        assert!(matches!(
            period("report period", d("2026-02-01"), d("2026-01-31")),
            Err(OutOfRange::Reversed { .. })
        ));
        assert!(matches!(
            period("report period", d("1900-01-01"), d("2100-01-01")),
            Err(OutOfRange::TooLong { .. })
        ));
    }
}
