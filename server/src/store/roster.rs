//! The roster a station validates from (DESIGN §7): a snapshot, then deltas since a cursor.
//! Only what validation needs plus a display name: never a date of birth, SSN or note.
//!
//! The cursor is the last `roster_changes.seq` the station has seen; triggers append to that
//! table on every change a verdict depends on, so a delta is "what changed since", re-read from
//! the current rows.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_core::domain::{BarScope, BarSpan, ProgramRules, ServiceTypeRules};
use scanline_core::wire::{
    RosterCard, RosterClient, RosterDelta, RosterServed, RosterSnapshot, StationInfo,
};

use super::stations::StationAuth;
use super::{StoreError, StoreResult, display_name, now, today_in};

/// Enrollments exited and bars ended this many days ago are still sent, so a batch dated a few
/// days back validates the same offline as online.
const GRACE_DAYS: u64 = 7;

struct Scope {
    org: i64,
    /// The station asking: what it uploaded itself it holds already.
    station: i64,
    programs: Vec<ProgramRules>,
    service_types: Vec<ServiceTypeRules>,
    today: NaiveDate,
    /// Oldest service date sent.
    served_from: NaiveDate,
    grace_from: NaiveDate,
}

impl Scope {
    fn new(conn: &Connection, station: &StationAuth) -> StoreResult<Self> {
        let tz = super::orgs::time_zone(conn, station.organization_id)?;
        let programs = super::programs::list_rules(conn, &station.programs)?;
        let service_types = super::programs::service_types_of(conn, &station.programs)?;
        let today = today_in(tz);
        let window = service_types
            .iter()
            .filter_map(|st| st.frequency.map(|f| u64::from(f.days)))
            .max()
            .unwrap_or(1)
            .max(1);
        // One more day than the longest window: a night that started yesterday is still on.
        let served_from = today - Days::new(window + 1);
        let grace_from = today - Days::new(GRACE_DAYS);
        Ok(Self {
            org: station.organization_id,
            station: station.id,
            programs,
            service_types,
            today,
            served_from,
            grace_from,
        })
    }

    fn serves_program(&self, id: i64) -> bool {
        self.programs.iter().any(|p| p.id == id)
    }

    fn bar_applies(&self, scope: BarScope) -> bool {
        match scope {
            BarScope::Organization(id) => id == self.org,
            BarScope::Program(id) => self.serves_program(id),
            BarScope::ServiceType(id) => self.service_types.iter().any(|st| st.id == id),
        }
    }
}

fn client_row(org: i64) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<RosterClient> {
    move |r| {
        let restricted: bool = r.get(4)?;
        let owner: i64 = r.get(5)?;
        let first: String = r.get(1)?;
        let preferred: String = r.get(2)?;
        let last: String = r.get(3)?;
        // A restricted client is scanned by number only outside their own organization.
        let number: i64 = r.get(6)?;
        let (display_name, client_number) = if restricted && owner != org {
            (String::new(), String::new())
        } else {
            (display_name(&first, &preferred, &last), number.to_string())
        };
        Ok(RosterClient { id: r.get(0)?, display_name, client_number })
    }
}

fn card_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RosterCard> {
    Ok(RosterCard {
        code: r.get(0)?,
        client_id: r.get(1)?,
        replaced: r.get(2)?,
        expires_on: r.get(3)?,
    })
}

/// Until `end_quiet`, in the caller's transaction: the services added from before what any
/// station's roster holds, counted back from `today`, are no roster change (an HMIS import's
/// history; migration 0017).
pub fn quiet_history(tx: &Connection, today: NaiveDate) -> StoreResult<()> {
    end_quiet(tx)?;
    tx.prepare_cached("INSERT INTO roster_quiet (today) VALUES (:t)")?
        .execute(named_params! {":t": today})?;
    Ok(())
}

/// Every service is a roster change again.
pub fn end_quiet(tx: &Connection) -> StoreResult<()> {
    tx.prepare_cached("DELETE FROM roster_quiet")?.execute([])?;
    Ok(())
}

fn current_cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM roster_changes")?
        .query_row([], |r| r.get(0))?)
}

/// Everything the station needs, with the cursor to ask for deltas from.
pub fn snapshot(conn: &Connection, station: &StationAuth) -> StoreResult<RosterSnapshot> {
    // One read transaction: the cursor and the rows are from the same instant.
    conn.execute_batch("BEGIN")?;
    let result = snapshot_in_tx(conn, station);
    conn.execute_batch("COMMIT")?;
    result
}

fn snapshot_in_tx(conn: &Connection, station: &StationAuth) -> StoreResult<RosterSnapshot> {
    let scope = Scope::new(conn, station)?;
    let cursor = current_cursor(conn)?;
    let organization = super::orgs::get(conn, station.organization_id)?;

    let clients = conn
        .prepare_cached(
            "SELECT id, first_name, preferred_name, last_name, restricted, organization_id,
                 client_number
             FROM clients
             WHERE id IN (SELECT client_id FROM cards WHERE revoked_at IS NULL)
             ORDER BY id",
        )?
        .query_map([], client_row(scope.org))?
        .collect::<Result<Vec<_>, _>>()?;
    let cards = conn
        .prepare_cached(
            "SELECT code, client_id, replaced_by IS NOT NULL, expires_on FROM cards
             WHERE revoked_at IS NULL ORDER BY id",
        )?
        .query_map([], card_row)?
        .collect::<Result<Vec<_>, _>>()?;

    let mut enrollments = Vec::new();
    let mut served = Vec::new();
    for p in &scope.programs {
        let mut stmt = conn.prepare_cached(
            "SELECT id, client_id, program_id, entry_date, exit_date FROM enrollments
             WHERE program_id = :p AND (exit_date IS NULL OR exit_date >= :from)",
        )?;
        for e in stmt.query_map(
            named_params! {":p": p.id, ":from": scope.grace_from},
            super::enrollments::from_row,
        )? {
            enrollments.push(e?);
        }
        served.extend(served_in_program(conn, p.id, scope.served_from)?);
    }

    let bars = conn
        .prepare_cached(&format!(
            "SELECT {} FROM bars WHERE end_date >= :from ORDER BY id",
            super::bars::COLUMNS
        ))?
        .query_map(named_params! {":from": scope.grace_from}, super::bars::from_row)?
        .collect::<Result<Vec<BarSpan>, _>>()?
        .into_iter()
        .filter(|b| scope.bar_applies(b.scope))
        .collect();

    let program_ids: Vec<i64> = scope.programs.iter().map(|p| p.id).collect();
    let mut alerts = Vec::new();
    for id in super::alerts::ids_for_org(conn, scope.org, scope.grace_from)? {
        alerts.extend(super::alerts::for_station(
            conn,
            id,
            scope.org,
            &program_ids,
            scope.grace_from,
        )?);
    }
    let (beds, holds) = beds_and_holds(conn, &scope)?;
    Ok(RosterSnapshot {
        alerts,
        beds,
        holds,
        cursor,
        server_time: now(),
        station: StationInfo { id: station.id, name: station.name.clone() },
        organization,
        programs: scope.programs,
        service_types: scope.service_types,
        clients,
        cards,
        enrollments,
        bars,
        served,
    })
}

/// The beds of the station's programs and the holds on them from last night on.
fn beds_and_holds(
    conn: &Connection,
    scope: &Scope,
) -> StoreResult<(Vec<scanline_core::beds::Bed>, Vec<scanline_core::beds::BedHold>)> {
    let ids: Vec<i64> = scope.programs.iter().map(|p| p.id).collect();
    let from = scope.today.checked_sub_days(Days::new(1)).unwrap_or(scope.today);
    Ok((super::beds::of_programs(conn, &ids)?, super::beds::holds(conn, &ids, from)?))
}

fn served_in_program(
    conn: &Connection,
    program: i64,
    from: NaiveDate,
) -> StoreResult<Vec<RosterServed>> {
    let mut out = Vec::new();
    let mut services = conn.prepare_cached(
        "SELECT s.id, s.client_id, s.service_type_id, s.date_provided, e.uuid, s.bed_id
         FROM services s LEFT JOIN batch_entries e ON e.id = s.batch_entry_id
         WHERE s.program_id = :p AND s.date_provided >= :from AND s.deleted_at IS NULL",
    )?;
    for row in services.query_map(named_params! {":p": program, ":from": from}, |r| {
        let uuid: Option<String> = r.get(4)?;
        Ok(RosterServed {
            key: format!("svc:{}", r.get::<_, i64>(0)?),
            client_id: r.get(1)?,
            program_id: program,
            service_type_id: r.get(2)?,
            date: r.get(3)?,
            entry_uuid: uuid.and_then(|u| u.parse().ok()),
            bed_id: r.get(5)?,
        })
    })? {
        out.push(row?);
    }
    let mut pending = conn.prepare_cached(
        "SELECT e.uuid, e.client_id, bst.service_type_id, e.service_date, e.bed_id
         FROM batch_entries e JOIN batch_service_types bst ON bst.batch_id = e.batch_id
         WHERE e.program_id = :p AND e.service_date >= :from AND e.verdict = 'accepted'
           AND e.posted_at IS NULL AND e.deleted_at IS NULL",
    )?;
    for row in
        pending.query_map(named_params! {":p": program, ":from": from}, pending_row(program))?
    {
        out.push(row?);
    }
    Ok(out)
}

fn pending_row(program: i64) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<RosterServed> {
    move |r| {
        let uuid: String = r.get(0)?;
        let st: i64 = r.get(2)?;
        Ok(RosterServed {
            key: format!("ent:{uuid}:{st}"),
            client_id: r.get(1)?,
            program_id: program,
            service_type_id: st,
            date: r.get(3)?,
            entry_uuid: uuid.parse().ok(),
            bed_id: r.get(4)?,
        })
    }
}

/// What changed since `since`.
pub fn delta(conn: &Connection, station: &StationAuth, since: i64) -> StoreResult<RosterDelta> {
    conn.execute_batch("BEGIN")?;
    let result = delta_in_tx(conn, station, since);
    conn.execute_batch("COMMIT")?;
    result
}

/// One row of `roster_changes`: what changed, as the triggers name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Card(String),
    Client(i64),
    Enrollment(i64),
    Bar(i64),
    Service(i64),
    Entry(String),
    /// A program's or a service type's rules.
    Rules,
    Alert(i64),
    /// A program's beds or the holds on them.
    Beds,
}

impl Change {
    /// The change a trigger wrote; `None` for a kind this server does not know (a newer
    /// trigger) or a key that is not a number where it must be.
    fn parse(entity: &str, key: String) -> Option<Self> {
        let id = || key.parse::<i64>().ok();
        Some(match entity {
            "card" => Self::Card(key),
            "client" => Self::Client(id()?),
            "enrollment" => Self::Enrollment(id()?),
            "bar" => Self::Bar(id()?),
            "service" => Self::Service(id()?),
            "entry" => Self::Entry(key),
            "rules" => Self::Rules,
            "alert" => Self::Alert(id()?),
            "beds" => Self::Beds,
            _ => return None,
        })
    }
}

/// A delta being built: what goes to the station, and the clients whose names go with it.
struct Building<'a> {
    conn: &'a Connection,
    scope: &'a Scope,
    d: RosterDelta,
    clients: BTreeSet<i64>,
}

fn delta_in_tx(conn: &Connection, station: &StationAuth, since: i64) -> StoreResult<RosterDelta> {
    let cursor = current_cursor(conn)?;
    if since < 0 || since > cursor {
        return Err(StoreError::Invalid(format!(
            "cursor {since} is not one this server gave out; take a new snapshot"
        )));
    }
    let scope = Scope::new(conn, station)?;
    let changes: BTreeSet<Change> = conn
        .prepare_cached(
            "SELECT DISTINCT entity, entity_key FROM roster_changes WHERE seq > :since AND seq <= :to",
        )?
        .query_map(named_params! {":since": since, ":to": cursor}, |r| {
            Ok(Change::parse(&r.get::<_, String>(0)?, r.get(1)?))
        })?
        .filter_map(Result::transpose)
        .collect::<Result<_, _>>()?;
    let mut b = Building {
        conn,
        scope: &scope,
        d: RosterDelta { cursor, server_time: now(), ..RosterDelta::default() },
        clients: BTreeSet::new(),
    };
    for change in changes {
        match change {
            Change::Card(code) => b.card(&code)?,
            Change::Client(id) => {
                b.clients.insert(id);
            }
            Change::Enrollment(id) => b.enrollment(id)?,
            Change::Bar(id) => b.bar(id)?,
            Change::Alert(id) => b.alert(id)?,
            Change::Service(id) => b.service(id)?,
            Change::Entry(uuid) => b.entry(&uuid)?,
            Change::Rules => {
                b.d.programs = Some(scope.programs.clone());
                b.d.service_types = Some(scope.service_types.clone());
            }
            Change::Beds => {
                let (beds, holds) = beds_and_holds(conn, &scope)?;
                b.d.beds = Some(beds);
                b.d.holds = Some(holds);
            }
        }
    }
    b.finish()
}

impl Building<'_> {
    /// A card: sent while it resolves, removed once revoked or gone.
    fn card(&mut self, code: &str) -> StoreResult<()> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT code, client_id, replaced_by IS NOT NULL, expires_on,
                     revoked_at IS NOT NULL FROM cards WHERE code = :k",
            )?
            .query_row(named_params! {":k": code}, |r| Ok((card_row(r)?, r.get::<_, bool>(4)?)))
            .optional()?;
        match row {
            Some((card, false)) => {
                self.clients.insert(card.client_id);
                self.d.cards.push(card);
            }
            _ => self.d.removed_cards.push(code.to_owned()),
        }
        Ok(())
    }

    /// An enrollment in one of the station's programs; a deleted one (an HMIS import honours
    /// DateDeleted) the station forgets.
    fn enrollment(&mut self, id: i64) -> StoreResult<()> {
        match super::enrollments::get(self.conn, id) {
            Ok(e) if self.scope.serves_program(e.program_id) => self.d.enrollments.push(e),
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => self.d.removed_enrollments.push(id),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// An alert the station may show, or its removal.
    fn alert(&mut self, id: i64) -> StoreResult<()> {
        let programs: Vec<i64> = self.scope.programs.iter().map(|p| p.id).collect();
        match super::alerts::for_station(
            self.conn,
            id,
            self.scope.org,
            &programs,
            self.scope.grace_from,
        )? {
            Some(a) => self.d.alerts.push(a),
            None => self.d.removed_alerts.push(id),
        }
        Ok(())
    }

    /// A bar that applies to the station, or its removal.
    fn bar(&mut self, id: i64) -> StoreResult<()> {
        let bar = self
            .conn
            .prepare_cached(&format!("SELECT {} FROM bars WHERE id = :id", super::bars::COLUMNS))?
            .query_row(named_params! {":id": id}, super::bars::from_row)
            .optional()?;
        match bar {
            Some(b) if self.scope.bar_applies(b.scope) => self.d.bars.push(b),
            _ => self.d.removed_bars.push(id),
        }
        Ok(())
    }

    /// A service recorded in one of the station's programs, or deleted from one; not one posted
    /// from an entry the station uploaded itself, which it counts from its own entries (it
    /// skips a served record of one of them), so a backlog it sent does not come back to it.
    fn service(&mut self, id: i64) -> StoreResult<()> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT s.client_id, s.program_id, s.service_type_id, s.date_provided,
                     s.deleted_at IS NOT NULL, e.uuid, s.bed_id
                 FROM services s LEFT JOIN batch_entries e ON e.id = s.batch_entry_id
                 WHERE s.id = :id AND NOT EXISTS (
                     SELECT 1 FROM batches b WHERE b.id = e.batch_id
                         AND b.station_id = :station AND e.station_verdict IS NOT NULL)",
            )?
            .query_row(named_params! {":id": id, ":station": self.scope.station}, |r| {
                let uuid: Option<String> = r.get(5)?;
                Ok((
                    RosterServed {
                        key: format!("svc:{id}"),
                        client_id: r.get(0)?,
                        program_id: r.get(1)?,
                        service_type_id: r.get(2)?,
                        date: r.get(3)?,
                        entry_uuid: uuid.and_then(|u| u.parse().ok()),
                        bed_id: r.get(6)?,
                    },
                    r.get::<_, bool>(4)?,
                ))
            })
            .optional()?;
        match row {
            Some((s, false)) if self.scope.serves_program(s.program_id) => self.d.served.push(s),
            Some((s, true)) if self.scope.serves_program(s.program_id) => {
                self.d.removed_served.push(s.key);
            }
            _ => {}
        }
        Ok(())
    }

    /// An entry accepted and not yet posted counts as served; once posted, deleted or flagged
    /// it no longer does. An entry the station uploaded itself is not sent back to it.
    fn entry(&mut self, uuid: &str) -> StoreResult<()> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT e.program_id, e.verdict = 'accepted' AND e.posted_at IS NULL
                     AND e.deleted_at IS NULL
                 FROM batch_entries e JOIN batches b ON b.id = e.batch_id
                 WHERE e.uuid = :u
                   AND NOT (b.station_id IS :station AND e.station_verdict IS NOT NULL)",
            )?
            .query_row(named_params! {":u": uuid, ":station": self.scope.station}, |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()?;
        let Some((program, pending)) = row else { return Ok(()) };
        if !self.scope.serves_program(program) {
            return Ok(());
        }
        let rows: Vec<RosterServed> = self
            .conn
            .prepare_cached(
                "SELECT e.uuid, e.client_id, bst.service_type_id, e.service_date, e.bed_id
                 FROM batch_entries e
                 JOIN batch_service_types bst ON bst.batch_id = e.batch_id
                 WHERE e.uuid = :u AND e.client_id IS NOT NULL",
            )?
            .query_map(named_params! {":u": uuid}, pending_row(program))?
            .collect::<Result<_, _>>()?;
        for s in rows {
            if pending {
                self.d.served.push(s);
            } else {
                self.d.removed_served.push(s.key);
            }
        }
        Ok(())
    }

    /// The delta with the display names of the clients it names.
    fn finish(self) -> StoreResult<RosterDelta> {
        let (conn, scope, clients, mut d) = (self.conn, self.scope, self.clients, self.d);
        let mut client_stmt = conn.prepare_cached(
            "SELECT id, first_name, preferred_name, last_name, restricted, organization_id,
                 client_number
             FROM clients WHERE id = :id",
        )?;
        for id in clients {
            if let Some(c) = client_stmt
                .query_row(named_params! {":id": id}, client_row(scope.org))
                .optional()?
            {
                d.clients.push(c);
            }
        }
        Ok(d)
    }
}
