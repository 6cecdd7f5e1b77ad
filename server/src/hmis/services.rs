//! Services with no HUD code (meals, showers, day-shelter visits) for the agency's HMIS: in
//! ClientTrack's batch upload layout (a service code per service type, the HMIS client and
//! enrollment numbers, M/D/YYYY dates, units of measure), or as plain CSV for other HMIS
//! products. A service that cannot go into the ClientTrack file (no service code for its type,
//! a client or enrollment the HMIS never sent) is listed with the reason instead of dropped
//! silently.

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::store::StoreError;
use crate::store::hmis::outgoing::{self, NonHudService};

/// ClientTrack's batch upload columns, in order.
pub const CLIENTTRACK_COLUMNS: [&str; 16] = [
    "Service_ServiceCodeID",
    "Service_ClientID",
    "Service_EnrollID",
    "Service_RegionID",
    "Service_BeginDate",
    "Service_EndDate",
    "Service_UnitsOfMeasure",
    "Service_Units",
    "Service_UnitValue",
    "Service_UserID",
    "Service_CreatedDate",
    "Service_CreatedBy",
    "Service_UpdatedDate",
    "Service_UpdatedBy",
    "Service_OrgID",
    "Service_RestrictOrg",
];

/// The plain layout's columns. A row of guests served without a record (counted at a station
/// with "+ Guest without card") has no PersonalID or ClientNumber and says how many they were
/// in GuestsWithoutRecord, which is empty on a client's row.
pub const PLAIN_COLUMNS: [&str; 8] = [
    "PersonalID",
    "ClientNumber",
    "Program",
    "Service",
    "Date",
    "Units",
    "UnitValue",
    "GuestsWithoutRecord",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    ClientTrack,
    Plain,
}

impl Layout {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "clienttrack" => Some(Self::ClientTrack),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// A services file and the services left out of it.
#[derive(Debug, Default)]
pub struct ServicesFile {
    pub csv: Vec<u8>,
    pub rows: u64,
    /// (service id, client number, date, reason)
    pub skipped: Vec<(i64, u32, NaiveDate, String)>,
}

/// `M/D/YYYY` without leading zeros.
fn mdy(d: NaiveDate) -> String {
    d.format("%-m/%-d/%Y").to_string()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}

/// Non-HUD services of `programs` (which must belong to `organizations`; all of theirs when
/// empty) from `start` to `end`, not deleted.
pub fn export(
    conn: &Connection,
    layout: Layout,
    organizations: &[i64],
    programs: &[i64],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<ServicesFile, StoreError> {
    let services = outgoing::non_hud_services(conn, organizations, programs, start, end)?;
    let mut out = ServicesFile::default();
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let header: &[&str] = match layout {
        Layout::ClientTrack => &CLIENTTRACK_COLUMNS,
        Layout::Plain => &PLAIN_COLUMNS,
    };
    w.write_record(header).map_err(|e| StoreError::Invalid(e.to_string()))?;
    for s in services {
        let record = match layout {
            Layout::Plain => plain_record(s),
            Layout::ClientTrack => match clienttrack_record(s) {
                Ok(record) => record,
                Err(skipped) => {
                    out.skipped.push(skipped);
                    continue;
                }
            },
        };
        w.write_record(&record).map_err(|e| StoreError::Invalid(e.to_string()))?;
        out.rows += 1;
    }
    // ClientTrack's upload needs a client for every row, so only the plain file has them.
    if layout == Layout::Plain {
        let lines =
            crate::store::batches::anonymous_by_day(conn, organizations, programs, start, end)?;
        for a in lines.into_iter().filter(|a| !a.hud) {
            let record = [
                String::new(),
                String::new(),
                a.program,
                a.service,
                a.date.to_string(),
                number(a.units),
                number(a.unit_value),
                a.guests.to_string(),
            ];
            w.write_record(&record).map_err(|e| StoreError::Invalid(e.to_string()))?;
            out.rows += 1;
        }
    }
    out.csv = w.into_inner().map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok(out)
}

fn plain_record(s: NonHudService) -> Vec<String> {
    vec![
        s.personal_id.unwrap_or_else(|| format!("SL{}", s.client_number)),
        s.client_number.to_string(),
        s.program,
        s.service,
        s.date.to_string(),
        number(s.units),
        number(s.unit_value),
        String::new(),
    ]
}

/// The ClientTrack row of a service, or why it cannot go in the file.
fn clienttrack_record(s: NonHudService) -> Result<Vec<String>, (i64, u32, NaiveDate, String)> {
    let reason = match (&s.hmis_service_code, &s.personal_id, &s.hmis_enrollment_id) {
        (None, _, _) => Some(format!("\"{}\" has no HMIS service code", s.service)),
        (_, None, _) => Some("the client has no HMIS client ID".to_owned()),
        (_, _, None) => Some("the enrollment has no HMIS enrollment ID".to_owned()),
        _ => None,
    };
    if let Some(reason) = reason {
        return Err((s.id, s.client_number, s.date, reason));
    }
    let created = s
        .time_zone
        .parse::<chrono_tz::Tz>()
        .map_or(s.created_at.date_naive(), |tz| s.created_at.with_timezone(&tz).date_naive());
    let user = s.hmis_user_id;
    Ok(vec![
        s.hmis_service_code.unwrap_or_default(),
        s.personal_id.unwrap_or_default(),
        s.hmis_enrollment_id.unwrap_or_default(),
        String::new(),
        mdy(s.date),
        mdy(s.date),
        s.unit_of_measure,
        number(s.units),
        number(s.unit_value),
        user.clone(),
        mdy(created),
        user.clone(),
        mdy(created),
        user,
        s.hmis_organization_id.unwrap_or_default(),
        s.hmis_restrict_org,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_no_leading_zeros_and_units_no_needless_decimals() {
        assert_eq!(mdy(NaiveDate::from_ymd_opt(2022, 5, 4).unwrap()), "5/4/2022");
        assert_eq!(mdy(NaiveDate::from_ymd_opt(2022, 11, 24).unwrap()), "11/24/2022");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(12.5), "12.5");
    }
}
