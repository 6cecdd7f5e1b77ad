//! Beds at the door, from the roster and this station's own scans (DESIGN §16): the bed facts a
//! verdict needs, and the board the kiosk shows. The rules are `scanline_core::beds`.

use chrono::{Days, NaiveDate, NaiveDateTime};
use rusqlite::{Connection, Transaction, named_params};
use scanline_core::beds::{self, Bed, BedFacts, BedHold, BedId, BedUse, Occupant};
use scanline_core::domain::ProgramRules;
use serde::Serialize;

use super::StoreResult;

/// Replaces the beds and holds held with the server's.
pub fn replace(tx: &Transaction<'_>, beds: &[Bed], holds: &[BedHold]) -> StoreResult<()> {
    tx.execute_batch("DELETE FROM roster_beds; DELETE FROM roster_bed_holds;")?;
    let mut add = tx.prepare_cached(
        "INSERT INTO roster_beds (id, program_id, name, grp, attributes, position)
         VALUES (:id, :p, :n, :g, :a, :pos)",
    )?;
    for b in beds {
        add.execute(named_params! {
            ":id": b.id, ":p": b.program_id, ":n": b.name, ":g": b.group,
            ":a": b.stored_attributes(),
            ":pos": b.position,
        })?;
    }
    let mut add = tx.prepare_cached(
        "INSERT INTO roster_bed_holds (id, bed_id, client_id, first_night, last_night)
         VALUES (:id, :b, :c, :f, :l)",
    )?;
    for h in holds {
        add.execute(named_params! {
            ":id": h.id, ":b": h.bed_id, ":c": h.client_id, ":f": h.first_night,
            ":l": h.last_night,
        })?;
    }
    Ok(())
}

/// The beds of a program, in board order.
pub fn list(conn: &Connection, program: i64) -> StoreResult<Vec<Bed>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, program_id, name, grp, attributes, position FROM roster_beds
         WHERE program_id = :p ORDER BY position, id",
    )?;
    let rows = stmt.query_map(named_params! {":p": program}, |r| {
        let attributes: String = r.get(4)?;
        Ok(Bed::from_stored((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?), &attributes, r.get(5)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Who has which bed on a night: the server's bed nights (those from this station's own scans
/// left to `entries`) and this station's accepted scans, one entry left out.
fn occupants(
    conn: &Connection,
    program: i64,
    night: NaiveDate,
    exclude: &str,
) -> StoreResult<Vec<Occupant>> {
    let row = |r: &rusqlite::Row<'_>| Ok(Occupant { bed_id: r.get(0)?, client_id: r.get(1)? });
    let mut out: Vec<Occupant> = conn
        .prepare_cached(
            "SELECT DISTINCT bed_id, client_id FROM roster_served s
             WHERE program_id = :p AND date = :d AND bed_id IS NOT NULL
               AND (entry_uuid IS NULL OR NOT EXISTS (SELECT 1 FROM entries e WHERE e.uuid = s.entry_uuid))",
        )?
        .query_map(named_params! {":p": program, ":d": night}, row)?
        .collect::<Result<_, _>>()?;
    let local = conn
        .prepare_cached(
            "SELECT bed_id, client_id FROM entries
             WHERE program_id = :p AND service_date = :d AND bed_id IS NOT NULL
               AND client_id IS NOT NULL AND deleted_at IS NULL AND uuid != :ex
               AND COALESCE(server_verdict, verdict) = 'accepted'
             ORDER BY seq",
        )?
        .query_map(named_params! {":p": program, ":d": night, ":ex": exclude}, row)?
        .collect::<Result<Vec<_>, _>>()?;
    out.extend(local);
    Ok(out)
}

/// The program's beds on `night` as the station knows them, judged at local time `at`, for
/// `client` (their usual bed) asking for `asked`; `None` when the program has no beds.
pub fn facts(
    conn: &Connection,
    program: &ProgramRules,
    night: NaiveDate,
    at: NaiveDateTime,
    client: Option<i64>,
    asked: Option<BedId>,
    exclude: Option<&str>,
) -> StoreResult<Option<BedFacts>> {
    let beds = list(conn, program.id)?;
    if beds.is_empty() {
        return Ok(None);
    }
    let released = program
        .bed_release_minutes
        .is_none_or(|m| at >= beds::release_at(night, program.cutover_hour, m));
    let last = night.checked_sub_days(Days::new(1)).unwrap_or(night);
    let exclude = exclude.unwrap_or("");
    let holds = conn
        .prepare_cached(
            "SELECT id, bed_id, client_id, first_night, last_night FROM roster_bed_holds
             WHERE first_night <= :n AND last_night >= :n ORDER BY id",
        )?
        .query_map(named_params! {":n": night}, |r| {
            Ok(BedHold::from_stored((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get(4)?)))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|h| beds.iter().any(|b| b.id == h.bed_id))
        .collect();
    // Last night's beds are read once: for the guest's usual bed, and (before the release
    // time) for the beds held for returning guests.
    let last_beds = if client.is_some() || !released {
        occupants(conn, program.id, last, exclude)?
    } else {
        Vec::new()
    };
    let tonight = occupants(conn, program.id, night, exclude)?;
    Ok(Some(BedFacts::from_nights(beds, tonight, last_beds, holds, client, released, asked)))
}

/// One bed on the kiosk's board.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BoardBed {
    pub id: BedId,
    pub name: String,
    pub group: String,
    pub attributes: Vec<String>,
    /// `free`, `occupied`, `reserved`, `held` or `returning`.
    pub state: &'static str,
    /// The guest's display name, for staff.
    pub guest: String,
}

/// Tonight's board for staff: every bed with who has or holds it.
pub fn board(conn: &Connection, f: &BedFacts) -> StoreResult<Vec<BoardBed>> {
    let mut out = Vec::with_capacity(f.beds.len());
    for (bed, (_, use_)) in f.beds.iter().zip(beds::board(f)) {
        let (state, client) = match use_ {
            BedUse::Free => ("free", None),
            BedUse::Occupied(c) => ("occupied", Some(c)),
            BedUse::Reserved(c) => ("reserved", Some(c)),
            BedUse::Held => ("held", None),
            BedUse::Returning(c) => ("returning", Some(c)),
        };
        let guest = match client {
            Some(c) => super::roster::display_name(conn, c)?,
            None => String::new(),
        };
        out.push(BoardBed {
            id: bed.id,
            name: bed.name.clone(),
            group: bed.group.clone(),
            attributes: bed.attributes.clone(),
            state,
            guest,
        });
    }
    Ok(out)
}

/// A bed's name and group, for the verdict on the kiosk.
pub fn name_of(conn: &Connection, bed: BedId) -> StoreResult<Option<(String, String)>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT name, grp FROM roster_beds WHERE id = :id")?
        .query_row(named_params! {":id": bed}, |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Tonight's beds for the kiosk: the open batch's program, when it records bed nights and has
/// beds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tonight {
    pub program: String,
    pub night: NaiveDate,
    pub free: usize,
    pub total: usize,
    pub beds: Vec<BoardBed>,
}

/// The board at `now` of the open batch's program, or before any batch of `first` (the
/// program and service types the first scan's batch will have); `None` when it has no beds.
pub fn tonight(
    conn: &Connection,
    now: chrono::DateTime<chrono::Utc>,
    first: Option<(i64, Vec<i64>)>,
) -> StoreResult<Option<Tonight>> {
    let batch = super::batches::latest(conn)?.map(|b| (b.program_id, b.service_type_ids));
    let Some((program_id, service_type_ids)) = batch.or(first) else { return Ok(None) };
    let rules = match super::roster::rules(conn) {
        Ok(r) => r,
        Err(super::StoreError::NoRoster) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(program) = rules.program(program_id) else { return Ok(None) };
    let nights = rules
        .service_types_of(&service_type_ids)
        .iter()
        .any(scanline_core::domain::ServiceTypeRules::is_bed_night);
    if !nights {
        return Ok(None);
    }
    let local = scanline_core::night::local_time(now, &rules.time_zone);
    let night = scanline_core::night::night_of(local, program.cutover_hour);
    let Some(f) = facts(conn, program, night, local, None, None, None)? else { return Ok(None) };
    let beds = board(conn, &f)?;
    Ok(Some(Tonight {
        program: program.name.clone(),
        night,
        free: beds::free_count(&f),
        total: beds.len(),
        beds,
    }))
}
