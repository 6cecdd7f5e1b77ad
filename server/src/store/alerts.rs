//! Alerts staff put on a client (DESIGN §16): a kind, a note that stays on the server, an
//! optional short text for stations, a period and the programs it shows in. An alert shows
//! beside a scan's verdict on staff screens; it never changes the verdict and never reaches the
//! guest screen. Each belongs to the organization whose staff put it: only its staff see it and
//! only its stations get it.

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_core::domain::AlertKind;
use scanline_core::wire::RosterAlert;

use super::{ClientId, StoreError, StoreResult, now, required_text};

/// The longest an alert may run: a year.
pub const MAX_DAYS: i64 = 366;

/// An alert as staff fill it in.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub client_id: ClientId,
    pub organization_id: i64,
    pub kind: AlertKind,
    pub note: String,
    /// The short text stations may show; `None` keeps the words on the server.
    pub station_text: Option<String>,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The programs it shows in (of its organization); empty for all of them.
    pub program_ids: Vec<i64>,
}

/// An alert as the dashboard lists it.
#[derive(Debug, Clone)]
pub struct AlertLine {
    pub id: i64,
    pub kind: AlertKind,
    pub note: String,
    pub station_text: Option<String>,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The programs' names, or "every program".
    pub programs: String,
    pub ended: bool,
    pub organization_id: i64,
}

impl AlertLine {
    /// Whether it shows on `day`.
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        !self.ended && self.begin_date <= day && day <= self.end_date
    }
}

/// Checks and stores an alert; returns its id.
pub fn insert(conn: &Connection, a: &NewAlert, user: Option<i64>) -> StoreResult<i64> {
    let note = required_text("the alert's note", &a.note, 500)?;
    let station_text = match a.station_text.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(required_text("the text for stations", t, 60)?),
    };
    for (what, d) in [("first day", a.begin_date), ("last day", a.end_date)] {
        scanline_core::bounds::calendar("date", d).map_err(|_| {
            StoreError::Invalid(format!("the alert's {what} {d} is not between 1900 and 2100"))
        })?;
    }
    if a.end_date < a.begin_date {
        return Err(StoreError::Invalid(format!(
            "the alert's last day {} is before its first day {}",
            a.end_date, a.begin_date
        )));
    }
    if (a.end_date - a.begin_date).num_days() > MAX_DAYS {
        return Err(StoreError::Invalid(format!("an alert runs for at most {MAX_DAYS} days")));
    }
    for p in &a.program_ids {
        let org = super::programs::get_rules(conn, super::ProgramId(*p))?.organization_id;
        if org != a.organization_id {
            return Err(StoreError::Invalid(format!(
                "program {p} is not one of the alert's organization"
            )));
        }
    }
    conn.prepare_cached(
        "INSERT INTO client_alerts (client_id, organization_id, kind, note, station_text,
             begin_date, end_date, created_by, created_at)
         VALUES (:c, :o, :k, :n, :s, :b, :e, :u, :at)",
    )?
    .execute(named_params! {
        ":c": a.client_id, ":o": a.organization_id, ":k": a.kind.as_str(), ":n": note,
        ":s": station_text, ":b": a.begin_date, ":e": a.end_date, ":u": user, ":at": now(),
    })?;
    let id = conn.last_insert_rowid();
    let mut add = conn.prepare_cached(
        "INSERT OR IGNORE INTO client_alert_programs (alert_id, program_id) VALUES (:a, :p)",
    )?;
    for p in &a.program_ids {
        add.execute(named_params! {":a": id, ":p": p})?;
    }
    Ok(id)
}

/// The organization and client of an alert.
pub fn owner(conn: &Connection, id: i64) -> StoreResult<(i64, i64)> {
    conn.prepare_cached("SELECT organization_id, client_id FROM client_alerts WHERE id = :id")?
        .query_row(named_params! {":id": id}, |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no alert {id}")))
}

/// Ends an alert now: it shows no more, and stations drop it at their next refresh.
pub fn end(conn: &Connection, id: i64, user: i64) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE client_alerts SET ended_at = :at, ended_by = :u
             WHERE id = :id AND ended_at IS NULL",
        )?
        .execute(named_params! {":at": now(), ":u": user, ":id": id})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no alert {id} in force")));
    }
    Ok(())
}

const LINE: &str = "SELECT a.id, a.kind, a.note, a.station_text, a.begin_date, a.end_date,
        a.ended_at IS NOT NULL, a.organization_id,
        COALESCE((SELECT group_concat(p.name, ', ') FROM client_alert_programs ap
                  JOIN programs p ON p.id = ap.program_id WHERE ap.alert_id = a.id), '')
    FROM client_alerts a";

fn line(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertLine> {
    let kind: String = r.get(1)?;
    let programs: String = r.get(8)?;
    Ok(AlertLine {
        id: r.get(0)?,
        kind: AlertKind::parse(&kind).unwrap_or(AlertKind::CaseManager),
        note: r.get(2)?,
        station_text: r.get(3)?,
        begin_date: r.get(4)?,
        end_date: r.get(5)?,
        ended: r.get(6)?,
        organization_id: r.get(7)?,
        programs: if programs.is_empty() { "every program".to_owned() } else { programs },
    })
}

/// A client's alerts put by the organizations in `orgs`, newest last day first.
pub fn for_client(
    conn: &Connection,
    client: ClientId,
    orgs: &[i64],
) -> StoreResult<Vec<AlertLine>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LINE} WHERE a.client_id = :c AND a.organization_id IN (SELECT value FROM json_each(:o))
         ORDER BY a.ended_at IS NOT NULL, a.end_date DESC, a.id DESC LIMIT 50"
    ))?;
    let rows = stmt.query_map(
        named_params! {":c": client, ":o": serde_json::to_string(orgs).expect("ids serialise")},
        line,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The alerts a scan of `client` in `program` on `day` shows on a staff screen: in force, of
/// the program's organization, in every program or this one.
pub fn shown_at_scan(
    conn: &Connection,
    client: ClientId,
    program: i64,
    day: NaiveDate,
) -> StoreResult<Vec<AlertLine>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LINE} WHERE a.client_id = :c AND a.ended_at IS NULL
           AND a.begin_date <= :d AND a.end_date >= :d
           AND a.organization_id = (SELECT organization_id FROM programs WHERE id = :p)
           AND (NOT EXISTS (SELECT 1 FROM client_alert_programs WHERE alert_id = a.id)
                OR EXISTS (SELECT 1 FROM client_alert_programs
                           WHERE alert_id = a.id AND program_id = :p))
         ORDER BY a.kind, a.id"
    ))?;
    let rows = stmt.query_map(named_params! {":c": client, ":p": program, ":d": day}, line)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a safety alert on `client` is in force in `program` on `day`: one indexed look, for
/// the verdict of a program that stops such scans.
pub fn safety_alert(
    conn: &Connection,
    client: ClientId,
    program: i64,
    day: NaiveDate,
) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM client_alerts a
             WHERE a.client_id = :c AND a.kind = 'safety' AND a.ended_at IS NULL
               AND a.begin_date <= :d AND a.end_date >= :d
               AND a.organization_id = (SELECT organization_id FROM programs WHERE id = :p)
               AND (NOT EXISTS (SELECT 1 FROM client_alert_programs WHERE alert_id = a.id)
                    OR EXISTS (SELECT 1 FROM client_alert_programs
                               WHERE alert_id = a.id AND program_id = :p)))",
        )?
        .query_row(named_params! {":c": client, ":p": program, ":d": day}, |r| r.get(0))?)
}

/// An alert as a station of `org` serving `programs` gets it: in force, not past `from`, and
/// shown in one of its programs; `None` otherwise (the station drops it).
pub fn for_station(
    conn: &Connection,
    id: i64,
    org: i64,
    programs: &[i64],
    from: NaiveDate,
) -> StoreResult<Option<RosterAlert>> {
    let row = conn
        .prepare_cached(
            "SELECT a.id, a.client_id, a.kind, COALESCE(a.station_text, ''), a.begin_date,
                 a.end_date, a.organization_id, a.ended_at IS NOT NULL,
                 COALESCE((SELECT json_group_array(program_id) FROM client_alert_programs
                           WHERE alert_id = a.id), '[]')
             FROM client_alerts a WHERE a.id = :id",
        )?
        .query_row(named_params! {":id": id}, |r| {
            let kind: String = r.get(2)?;
            let ids: String = r.get(8)?;
            Ok((
                RosterAlert {
                    id: r.get(0)?,
                    client_id: r.get(1)?,
                    kind: AlertKind::parse(&kind).unwrap_or(AlertKind::CaseManager),
                    text: r.get(3)?,
                    begin_date: r.get(4)?,
                    end_date: r.get(5)?,
                    program_ids: serde_json::from_str(&ids).unwrap_or_default(),
                },
                r.get::<_, i64>(6)?,
                r.get::<_, bool>(7)?,
            ))
        })
        .optional()?;
    Ok(row.and_then(|(a, owner, ended)| {
        let serves = a.program_ids.is_empty() || a.program_ids.iter().any(|p| programs.contains(p));
        (owner == org && !ended && a.end_date >= from && serves).then_some(a)
    }))
}

/// The ids of the alerts a station of `org` may get, for its snapshot.
pub fn ids_for_org(conn: &Connection, org: i64, from: NaiveDate) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM client_alerts
         WHERE organization_id = :o AND ended_at IS NULL AND end_date >= :f ORDER BY id",
    )?;
    let rows = stmt.query_map(named_params! {":o": org, ":f": from}, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
