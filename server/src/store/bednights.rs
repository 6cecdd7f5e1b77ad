//! Bed nights (DESIGN §6): the auto-exit job for night-by-night programs, and occupancy.
//! Recording a bed night is a batch entry like any other service; this module handles what
//! happens between nights.

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, named_params};
use scanline_core::domain::DESTINATION_NO_EXIT_INTERVIEW;
use scanline_core::night::{auto_exit_date, local_time, night_of};

use super::StoreResult;
use super::audit::{self, Actor};

/// One enrollment exited by the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoExit {
    pub enrollment_id: i64,
    pub client_id: i64,
    pub program_id: i64,
    pub exit_date: NaiveDate,
}

/// Exits every open night-by-night enrollment whose client has had no bed night for the
/// program's number of nights. `now_night` overrides the current night (for tests and the CLI).
pub fn auto_exit(conn: &Connection, now_night: Option<NaiveDate>) -> StoreResult<Vec<AutoExit>> {
    let mut exits = Vec::new();
    for program in super::programs::auto_exiting(conn)? {
        let Some(after) = program.auto_exit_after_nights else { continue };
        let tz = super::orgs::time_zone(conn, program.organization_id)?;
        let current = now_night
            .unwrap_or_else(|| night_of(local_time(Utc::now(), &tz), program.cutover_hour));
        let rows: Vec<(i64, i64, NaiveDate, Option<NaiveDate>)> = conn
            .prepare_cached(
                "SELECT en.id, en.client_id, en.entry_date,
                     (SELECT MAX(d) FROM (
                         SELECT s.date_provided AS d FROM services s
                           JOIN service_types st ON st.id = s.service_type_id
                         WHERE s.enrollment_id = en.id AND s.deleted_at IS NULL
                           AND st.record_type = 200
                         UNION ALL
                         SELECT e.service_date FROM batch_entries e
                         WHERE e.client_id = en.client_id AND e.program_id = en.program_id
                           AND e.verdict = 'accepted' AND e.posted_at IS NULL
                           AND e.deleted_at IS NULL AND e.service_date >= en.entry_date))
                 FROM enrollments en
                 WHERE en.program_id = :p AND en.exit_date IS NULL",
            )?
            .query_map(named_params! {":p": program.id}, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        for (enrollment_id, client_id, entry, last) in rows {
            if let Some(exit_date) = auto_exit_date(entry, last, current, after) {
                // A pending bed night in the future of the exit must not be orphaned.
                if last.is_some_and(|l| l >= exit_date) {
                    continue;
                }
                super::enrollments::exit(
                    conn,
                    enrollment_id,
                    exit_date,
                    DESTINATION_NO_EXIT_INTERVIEW,
                )?;
                audit::record(
                    conn,
                    Actor::System,
                    "auto_exit",
                    Some(client_id),
                    &format!("enrollment {enrollment_id}"),
                    &format!("exit {exit_date}, destination 30"),
                )?;
                exits.push(AutoExit {
                    enrollment_id,
                    client_id,
                    program_id: program.id,
                    exit_date,
                });
            }
        }
    }
    Ok(exits)
}

/// Bed nights per night for a program between two nights, against its capacity.
pub fn occupancy(
    conn: &Connection,
    program: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<(NaiveDate, u32)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.date_provided, COUNT(DISTINCT s.client_id) FROM services s
           JOIN service_types st ON st.id = s.service_type_id
         WHERE s.program_id = :p AND s.date_provided BETWEEN :from AND :to
           AND s.deleted_at IS NULL AND st.record_type = 200
         GROUP BY s.date_provided ORDER BY s.date_provided",
    )?;
    let rows = stmt.query_map(named_params! {":p": program, ":from": from, ":to": to}, |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
