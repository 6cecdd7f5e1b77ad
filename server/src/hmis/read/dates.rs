//! Dates and times as real HMIS exports write them. HUD's own are `yyyy-mm-dd` and
//! `yyyy-mm-dd hh:mm:ss`; exports also carry `m/d/yyyy`, `mm-dd-yyyy`, `dd-Mon-yyyy` (any
//! case), two-digit years, and a time part on dates. A two-digit year is read against today:
//! a date of birth is the latest such date not after today, any other date the one nearest to
//! today, and the reader is told so that staff can check it. A date outside 1900 to 2100 is no
//! date (DESIGN §13): it is reported, never stored.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime};

/// How to place a two-digit year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Century {
    /// Never after today (a date of birth).
    Past,
    /// The nearest to today.
    Nearest,
}

/// A date that was read, and whether its year had only two digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub date: NaiveDate,
    pub two_digit_year: bool,
}

const FOUR_DIGIT: [&str; 5] = ["%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%d-%b-%Y", "%Y/%m/%d"];
const TWO_DIGIT: [&str; 3] = ["%m-%d-%y", "%m/%d/%y", "%d-%b-%y"];

/// Digits at `at..at + n` of `b` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0u32, |v, d| d.is_ascii_digit().then(|| v * 10 + u32::from(d - b'0')))
}

/// HUD's own `yyyy-mm-dd`, read without trying the other forms (most values are in it).
pub(super) fn hud_form(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = i32::try_from(digits(b, 0, 4)?).ok()?;
    NaiveDate::from_ymd_opt(y, digits(b, 5, 2)?, digits(b, 8, 2)?)
}

/// HUD's own `yyyy-mm-dd hh:mm:ss`, read without trying the other forms.
pub(super) fn hud_time_form(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = hud_form(&s[..10])?;
    date.and_hms_opt(digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?)
}

/// A date in any of the forms above.
pub fn date(s: &str, today: NaiveDate, century: Century) -> Option<Read> {
    let s = s.trim();
    if let Some(date) = hud_form(s) {
        return scanline_core::bounds::calendar("date", date)
            .is_ok()
            .then_some(Read { date, two_digit_year: false });
    }
    let part = s.split([' ', 'T']).next().unwrap_or(s);
    let read = four_digit(part).map(|date| Read { date, two_digit_year: false }).or_else(|| {
        two_digit(part, today, century).map(|date| Read { date, two_digit_year: true })
    })?;
    scanline_core::bounds::calendar("date", read.date).is_ok().then_some(read)
}

fn four_digit(part: &str) -> Option<NaiveDate> {
    FOUR_DIGIT.iter().find_map(|f| {
        // A two-digit year read as four digits is year 67, not 1967.
        NaiveDate::parse_from_str(part, f).ok().filter(|d| d.year() >= 1000)
    })
}

fn two_digit(part: &str, today: NaiveDate, century: Century) -> Option<NaiveDate> {
    let parsed = TWO_DIGIT.iter().find_map(|f| {
        NaiveDate::parse_from_str(part, f).ok().filter(|_| {
            part.rsplit(|c: char| !c.is_ascii_digit()).next().is_some_and(|y| y.len() == 2)
        })
    })?;
    let yy = parsed.year().rem_euclid(100);
    let base = today.year() - today.year().rem_euclid(100);
    let candidates = [base - 100 + yy, base + yy, base + 100 + yy]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, parsed.month(), parsed.day()));
    match century {
        Century::Past => candidates.filter(|d| *d <= today).max(),
        Century::Nearest => {
            candidates.min_by_key(|d| ((*d - today).num_days().abs(), (*d > today)))
        }
    }
}

/// A local date and time: HUD's form, minutes only, fractions, a `T`, 12-hour clocks, and the
/// date forms of `date` (a date alone is midnight).
pub fn datetime(s: &str, today: NaiveDate) -> Option<(NaiveDateTime, bool)> {
    if let Some(t) = hud_time_form(s.trim()) {
        return scanline_core::bounds::calendar("date", t.date()).is_ok().then_some((t, false));
    }
    let s = s.trim().replace('T', " ");
    let s = s.trim_end_matches('Z');
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%m-%d-%Y %H:%M:%S",
        "%m-%d-%Y %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f)
            && t.year() >= 1000
        {
            return scanline_core::bounds::calendar("date", t.date()).is_ok().then_some((t, false));
        }
    }
    let read = date(s, today, Century::Nearest)?;
    let time = s
        .split_once(' ')
        .and_then(|(_, t)| {
            chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M:%S")
                .or_else(|_| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M"))
                .ok()
        })
        .unwrap_or_default();
    Some((read.date.and_time(time), read.two_digit_year))
}

/// HUD's form of a date.
pub fn hud_date(d: NaiveDate) -> String {
    crate::stamp::date(d)
}

/// HUD's form of a date and time.
pub fn hud_datetime(t: NaiveDateTime) -> String {
    crate::stamp::datetime(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 12, 1);

    fn today() -> NaiveDate {
        ymd(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn date_variants_from_real_exports_are_read() {
        let d = ymd(2023, 2, 7);
        for s in [
            "2023-02-07",
            "2/7/2023",
            "02-07-2023",
            "07-Feb-2023",
            "07-FEB-2023",
            "2023-02-07 12:00:00",
        ] {
            let r = date(s, today(), Century::Nearest).unwrap();
            assert_eq!((r.date, r.two_digit_year), (d, false), "{s}");
        }
        for s in ["2023-13-01", "0000-01-01", "1899-12-31", "soon", ""] {
            assert_eq!(date(s, today(), Century::Nearest), None, "{s}");
        }
    }

    #[test]
    fn a_two_digit_year_of_birth_is_never_in_the_future() {
        for s in ["05-08-67", "5/8/67", "08-MAY-67", "08-May-67"] {
            let r = date(s, today(), Century::Past).unwrap();
            assert_eq!((r.date, r.two_digit_year), (ymd(1967, 5, 8), true), "{s}");
        }
        // Born this year, and born in 1926 when the day is still to come this year.
        assert_eq!(date("01-15-26", today(), Century::Past).unwrap().date, ymd(2026, 1, 15));
        assert_eq!(date("12-15-26", today(), Century::Past).unwrap().date, ymd(1926, 12, 15));
        assert_eq!(date("08-MAY-1967", today(), Century::Past).unwrap().date, ymd(1967, 5, 8));
    }

    #[test]
    fn other_two_digit_years_are_the_nearest_to_today() {
        assert_eq!(date("02-07-23", today(), Century::Nearest).unwrap().date, ymd(2023, 2, 7));
        assert_eq!(date("01-05-27", today(), Century::Nearest).unwrap().date, ymd(2027, 1, 5));
        assert_eq!(date("01-05-80", today(), Century::Nearest).unwrap().date, ymd(1980, 1, 5));
    }

    #[test]
    fn times_are_read_in_every_form_and_dates_alone_are_midnight() {
        let read = |s: &str| datetime(s, today()).map(|(t, _)| hud_datetime(t));
        assert_eq!(read("02-07-2023 12:00:00").as_deref(), Some("2023-02-07 12:00:00"));
        assert_eq!(read("2023-02-07T08:30:00Z").as_deref(), Some("2023-02-07 08:30:00"));
        assert_eq!(read("2023-02-07 08:30").as_deref(), Some("2023-02-07 08:30:00"));
        assert_eq!(read("2023-02-07").as_deref(), Some("2023-02-07 00:00:00"));
        assert_eq!(read("3/11/2021 4:05 PM").as_deref(), Some("2021-03-11 16:05:00"));
        assert_eq!(
            datetime("03-11-21", today()).map(|(t, two)| (hud_datetime(t), two)),
            Some(("2021-03-11 00:00:00".into(), true))
        );
        assert_eq!(read("9999-01-01 00:00:00"), None);
    }
}
