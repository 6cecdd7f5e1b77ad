//! Bed-night dates (DESIGN §6): which night a scan belongs to, and when a night-by-night
//! enrollment is auto-exited. Pure date arithmetic; the caller converts to local time.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};

/// The night of a scan at local time `local`: its calendar date, except that scans before
/// `cutover_hour` belong to the previous date (a guest arriving at 01:30 is on last night).
pub fn night_of(local: NaiveDateTime, cutover_hour: u8) -> NaiveDate {
    let date = local.date();
    if local.hour() < u32::from(cutover_hour) {
        date.checked_sub_days(Days::new(1)).unwrap_or(date)
    } else {
        date
    }
}

/// The local wall-clock time of a UTC instant in the organization's time zone.
///
/// Total: an instant at the edge of chrono's range, where adding the zone's offset would
/// overflow, keeps its UTC wall-clock time instead of panicking. Such instants never reach a
/// verdict (`bounds` refuses them first); this only keeps one bad input from stopping a
/// thread.
pub fn local_time<Tz: TimeZone>(at: DateTime<Utc>, tz: &Tz) -> NaiveDateTime {
    let utc = at.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).unwrap_or(utc)
}

/// The exit date an auto-exit job should record, or `None` while the enrollment stays open.
///
/// `last_bed_night` is the latest night served (recorded or accepted); `current_night` is the
/// night in progress now. The enrollment is exited once `after_nights` whole nights have passed
/// with no bed night. The exit date is the day after the last bed night, or the entry date when
/// the client never had one.
pub fn auto_exit_date(
    entry_date: NaiveDate,
    last_bed_night: Option<NaiveDate>,
    current_night: NaiveDate,
    after_nights: u32,
) -> Option<NaiveDate> {
    let reference = match last_bed_night {
        Some(night) if night >= entry_date => night,
        _ => entry_date.checked_sub_days(Days::new(1))?,
    };
    let deadline = reference.checked_add_days(Days::new(u64::from(after_nights)))?;
    if current_night > deadline { reference.checked_add_days(Days::new(1)) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn night_table() {
        let cases = [
            ("2026-11-21 19:00", 12, "2026-11-21"),
            ("2026-11-21 23:59", 12, "2026-11-21"),
            ("2026-11-22 00:00", 12, "2026-11-21"), // midnight belongs to the night before
            ("2026-11-22 01:30", 12, "2026-11-21"),
            ("2026-11-22 11:59", 12, "2026-11-21"),
            ("2026-11-22 12:00", 12, "2026-11-22"), // the cut-over hour starts the new night
            ("2026-11-22 05:59", 6, "2026-11-21"),
            ("2026-11-22 06:00", 6, "2026-11-22"),
            ("2026-11-22 00:00", 0, "2026-11-22"),
            ("2027-01-01 03:00", 12, "2026-12-31"), // across a year
        ];
        for (at, cutover, night) in cases {
            assert_eq!(night_of(t(at), cutover), d(night), "{at} cut-over {cutover}");
        }
    }

    #[test]
    fn local_time_uses_the_zone() {
        let utc: DateTime<Utc> = "2026-11-22T06:30:00Z".parse().unwrap();
        let la = chrono::FixedOffset::west_opt(8 * 3600).unwrap();
        assert_eq!(local_time(utc, &la), t("2026-11-21 22:30"));
    }

    #[test]
    fn local_time_never_panics_at_the_edges_of_time() {
        let west = chrono::FixedOffset::west_opt(8 * 3600).unwrap();
        let east = chrono::FixedOffset::east_opt(14 * 3600).unwrap();
        for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = local_time(at, &west);
            let _ = local_time(at, &east);
            let _ = night_of(local_time(at, &west), 12);
        }
    }

    #[test]
    fn auto_exit_table() {
        // (entry, last bed night, current night, after N nights, expected exit)
        let cases = [
            ("2026-11-01", Some("2026-11-10"), "2026-11-12", 2, None),
            ("2026-11-01", Some("2026-11-10"), "2026-11-13", 2, Some("2026-11-11")),
            ("2026-11-01", Some("2026-11-10"), "2026-11-30", 2, Some("2026-11-11")),
            // Never came: the entry night itself is the first night missed.
            ("2026-11-01", None, "2026-11-01", 1, None),
            ("2026-11-01", None, "2026-11-02", 1, Some("2026-11-01")),
            ("2026-11-01", None, "2026-11-02", 2, None),
            ("2026-11-01", None, "2026-11-03", 2, Some("2026-11-01")),
            ("2026-11-01", Some("2026-11-10"), "2026-11-11", 0, Some("2026-11-11")),
            ("2026-11-01", Some("2026-11-10"), "2026-11-10", 0, None),
        ];
        for (entry, last, now, n, want) in cases {
            assert_eq!(
                auto_exit_date(d(entry), last.map(d), d(now), n),
                want.map(d),
                "entry {entry} last {last:?} now {now} after {n}"
            );
        }
    }
}
