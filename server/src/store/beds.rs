//! Beds of night-by-night programs and the holds staff put on them (DESIGN §16), and the bed
//! facts a verdict needs for one guest on one night: which beds are given, held, returning and
//! usual. The rules themselves are `scanline_core::beds`, the same the station runs.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, named_params};
use scanline_core::beds::{self, Bed, BedFacts, BedHold, BedId, BedUse, Occupant};
use scanline_core::domain::ProgramRules;
use scanline_core::night::local_time;

use super::{ClientId, ProgramId, StoreError, StoreResult, now, required_text};

/// The most nights one reservation may cover.
pub const MAX_HOLD_NIGHTS: i64 = 31;
/// The most beds one program may have.
pub const MAX_BEDS: usize = 500;
const MAX_ATTRIBUTES: usize = 8;
const MAX_ATTRIBUTE_LEN: usize = 30;

fn bed_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Bed> {
    let attributes: String = r.get(4)?;
    Ok(Bed::from_stored((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?), &attributes, r.get(5)?))
}

/// The beds of a program in use, in board order.
pub fn list(conn: &Connection, program: i64) -> StoreResult<Vec<Bed>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, program_id, name, grp, attributes, position FROM beds
             WHERE program_id = :p AND retired_at IS NULL ORDER BY position, id",
        )?
        .query_map(named_params! {":p": program}, bed_from_row)?
        .collect::<Result<_, _>>()?)
}

/// The beds of several programs (a station's), in board order.
pub fn of_programs(conn: &Connection, programs: &[i64]) -> StoreResult<Vec<Bed>> {
    let mut out = Vec::new();
    for &p in programs {
        out.extend(list(conn, p)?);
    }
    Ok(out)
}

/// One bed of a program, in use or not.
pub fn get(conn: &Connection, program: i64, bed: BedId) -> StoreResult<Bed> {
    conn.prepare_cached(
        "SELECT id, program_id, name, grp, attributes, position FROM beds
         WHERE id = :b AND program_id = :p AND retired_at IS NULL",
    )?
    .query_row(named_params! {":b": bed, ":p": program}, bed_from_row)
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("no bed {bed} in program {program}")))
}

/// A bed as staff fill it in.
#[derive(Debug, Clone, Default)]
pub struct NewBed {
    pub name: String,
    pub group: String,
    /// Comma-separated words: "bottom bunk, accessible".
    pub attributes: String,
}

/// A program that records bed nights, the only kind that has beds.
pub fn bed_program(conn: &Connection, program: ProgramId) -> StoreResult<ProgramRules> {
    let rules = super::programs::get_rules(conn, program)?;
    let nightly = super::programs::service_types_of(conn, &[rules.id])?
        .iter()
        .any(scanline_core::domain::ServiceTypeRules::is_bed_night);
    if !nightly {
        return Err(StoreError::Invalid(format!(
            "{} records no bed nights: only a night-by-night program has beds",
            rules.name
        )));
    }
    Ok(rules)
}

/// Adds a bed at the end of the program's board; returns its id.
pub fn add(conn: &Connection, program: ProgramId, b: &NewBed) -> StoreResult<BedId> {
    let rules = bed_program(conn, program)?;
    let name = required_text("the bed's name", &b.name, 40)?;
    let group = b.group.trim();
    if group.chars().count() > 40 {
        return Err(StoreError::Invalid("a bed's group is at most 40 characters".into()));
    }
    let attributes: Vec<String> = b
        .attributes
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if attributes.len() > MAX_ATTRIBUTES
        || attributes.iter().any(|a| a.chars().count() > MAX_ATTRIBUTE_LEN)
    {
        return Err(StoreError::Invalid(format!(
            "a bed has at most {MAX_ATTRIBUTES} attributes of at most {MAX_ATTRIBUTE_LEN} \
             characters each"
        )));
    }
    if list(conn, rules.id)?.len() >= MAX_BEDS {
        return Err(StoreError::Invalid(format!("a program has at most {MAX_BEDS} beds")));
    }
    if list(conn, rules.id)?.iter().any(|x| x.name == name) {
        return Err(StoreError::Conflict(format!("{} already has a bed named {name}", rules.name)));
    }
    conn.prepare_cached(
        "INSERT INTO beds (program_id, name, grp, attributes, position, created_at)
         VALUES (:p, :n, :g, :a,
             (SELECT COALESCE(MAX(position), 0) + 1 FROM beds WHERE program_id = :p), :at)",
    )?
    .execute(named_params! {
        ":p": rules.id, ":n": name, ":g": group,
        ":a": attributes.join(","), ":at": now(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// Takes a bed out of use; the nights slept in it stay.
pub fn retire(conn: &Connection, program: i64, bed: BedId) -> StoreResult<()> {
    get(conn, program, bed)?;
    conn.prepare_cached("UPDATE beds SET retired_at = :at WHERE id = :b")?
        .execute(named_params! {":at": now(), ":b": bed})?;
    conn.prepare_cached(
        "UPDATE bed_holds SET released_at = :at WHERE bed_id = :b AND released_at IS NULL",
    )?
    .execute(named_params! {":at": now(), ":b": bed})?;
    Ok(())
}

/// Sets when a returning guest's bed stops being held ("21:00"), or holds none (`None`).
pub fn set_release_time(
    conn: &Connection,
    program: ProgramId,
    minutes: Option<u16>,
) -> StoreResult<()> {
    if minutes.is_some_and(|m| m >= 24 * 60) {
        return Err(StoreError::Invalid("the release time must be between 00:00 and 23:59".into()));
    }
    let n = conn
        .prepare_cached("UPDATE programs SET bed_release_minutes = :m WHERE id = :id")?
        .execute(named_params! {":m": minutes, ":id": program.0})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no program {}", program.0)));
    }
    Ok(())
}

/// Reads "21:00" as minutes after midnight.
pub fn parse_release_time(s: &str) -> StoreResult<u16> {
    let t = chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        StoreError::Invalid(format!("{:?} is not a time of day such as 21:00", s.trim()))
    })?;
    Ok(u16::try_from(chrono::Timelike::num_seconds_from_midnight(&t) / 60).unwrap_or(0))
}

/// A night given by staff: between 1900 and 2100, like every date typed in (DESIGN §13).
pub fn night_in_range(night: NaiveDate) -> StoreResult<NaiveDate> {
    scanline_core::bounds::calendar("night", night).map_err(|_| {
        StoreError::Invalid(format!("the night {night} is not between 1900 and 2100"))
    })?;
    Ok(night)
}

/// Minutes after midnight as a wall clock: "21:00".
pub fn clock_text(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn hold_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BedHold> {
    Ok(BedHold::from_stored((r.get(0)?, r.get(1)?, r.get(2)?), (r.get(3)?, r.get(4)?)))
}

/// Holds on the beds of `programs` that are not released and last until `from` or later.
pub fn holds(conn: &Connection, programs: &[i64], from: NaiveDate) -> StoreResult<Vec<BedHold>> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.id, h.bed_id, h.client_id, h.first_night, h.last_night
         FROM bed_holds h JOIN beds b ON b.id = h.bed_id
         WHERE b.program_id = :p AND b.retired_at IS NULL AND h.released_at IS NULL
           AND h.last_night >= :from
         ORDER BY h.id",
    )?;
    let mut out = Vec::new();
    for &p in programs {
        for h in stmt.query_map(named_params! {":p": p, ":from": from}, hold_from_row)? {
            out.push(h?);
        }
    }
    Ok(out)
}

/// Holds a bed for nights `first..=last`: for a named guest, or for no one (`client` `None`).
pub fn hold(
    conn: &Connection,
    program: i64,
    bed: BedId,
    client: Option<ClientId>,
    nights: (NaiveDate, NaiveDate),
    by: Option<i64>,
) -> StoreResult<i64> {
    let (first, last) = nights;
    for d in [first, last] {
        night_in_range(d)?;
    }
    if last < first {
        return Err(StoreError::Invalid(format!(
            "the last night {last} is before the first {first}"
        )));
    }
    if (last - first).num_days() >= MAX_HOLD_NIGHTS {
        return Err(StoreError::Invalid(format!("a hold covers at most {MAX_HOLD_NIGHTS} nights")));
    }
    let b = get(conn, program, bed)?;
    let clash = holds(conn, &[program], first)?
        .into_iter()
        .any(|h| h.bed_id == bed && h.first_night <= last && first <= h.last_night);
    if clash {
        return Err(StoreError::Conflict(format!(
            "bed {} is already held on one of those nights",
            b.name
        )));
    }
    conn.prepare_cached(
        "INSERT INTO bed_holds (bed_id, client_id, first_night, last_night, created_by, created_at)
         VALUES (:b, :c, :f, :l, :by, :at)",
    )?
    .execute(named_params! {
        ":b": bed, ":c": client.map(|c| c.0), ":f": first, ":l": last, ":by": by, ":at": now(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// Holds every bed of the program that nobody has or holds on `night`: a cold-weather surge.
/// Returns how many.
pub fn hold_all_empty(
    conn: &Connection,
    rules: &ProgramRules,
    night: NaiveDate,
    by: Option<i64>,
) -> StoreResult<usize> {
    let f = night_facts(conn, rules, night_in_range(night)?, None, None)?;
    let empty: Vec<BedId> =
        beds::board(&f).into_iter().filter(|(_, u)| *u == BedUse::Free).map(|(id, _)| id).collect();
    for &bed in &empty {
        hold(conn, rules.id, bed, None, (night, night), by)?;
    }
    Ok(empty.len())
}

/// Releases one hold of the program.
pub fn release(conn: &Connection, program: i64, hold: i64, by: Option<i64>) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE bed_holds SET released_at = :at, released_by = :by
             WHERE id = :h AND released_at IS NULL
               AND bed_id IN (SELECT id FROM beds WHERE program_id = :p)",
        )?
        .execute(named_params! {":at": now(), ":by": by, ":h": hold, ":p": program})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no hold {hold} to release")));
    }
    Ok(())
}

/// Releases every hold of the program covering `night`. Returns how many.
pub fn release_all(
    conn: &Connection,
    program: i64,
    night: NaiveDate,
    by: Option<i64>,
) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE bed_holds SET released_at = :at, released_by = :by
             WHERE released_at IS NULL AND first_night <= :n AND last_night >= :n
               AND bed_id IN (SELECT id FROM beds WHERE program_id = :p)",
        )?
        .execute(named_params! {
            ":at": now(), ":by": by, ":n": night_in_range(night)?, ":p": program,
        })?)
}

/// Who had which bed in the program on a night (posted bed nights and accepted entries not yet
/// posted), leaving one entry out.
fn occupants(
    conn: &Connection,
    program: i64,
    night: NaiveDate,
    exclude_entry: Option<&str>,
) -> StoreResult<Vec<Occupant>> {
    let row = |r: &rusqlite::Row<'_>| Ok(Occupant { bed_id: r.get(0)?, client_id: r.get(1)? });
    let mut out: Vec<Occupant> = conn
        .prepare_cached(
            "SELECT DISTINCT s.bed_id, s.client_id FROM services s
             WHERE s.program_id = :p AND s.date_provided = :n AND s.bed_id IS NOT NULL
               AND s.deleted_at IS NULL",
        )?
        .query_map(named_params! {":p": program, ":n": night}, row)?
        .collect::<Result<_, _>>()?;
    let pending = conn
        .prepare_cached(
            "SELECT bed_id, client_id FROM batch_entries
             WHERE program_id = :p AND service_date = :n AND verdict = 'accepted'
               AND posted_at IS NULL AND deleted_at IS NULL AND bed_id IS NOT NULL
               AND client_id IS NOT NULL AND uuid != :ex
             ORDER BY scanned_at, id",
        )?
        .query_map(
            named_params! {":p": program, ":n": night, ":ex": exclude_entry.unwrap_or("")},
            row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    out.extend(pending);
    Ok(out)
}

/// The guest's latest bed in the program before `night`, within the last 60 nights.
fn usual_bed(
    conn: &Connection,
    program: i64,
    client: i64,
    night: NaiveDate,
) -> StoreResult<Option<BedId>> {
    let from = night.checked_sub_days(Days::new(60)).unwrap_or(night);
    Ok(conn
        .prepare_cached(
            "SELECT bed_id FROM (
                 SELECT s.bed_id, s.date_provided AS d FROM services s
                 WHERE s.client_id = :c AND s.program_id = :p AND s.bed_id IS NOT NULL
                   AND s.deleted_at IS NULL AND s.date_provided >= :from AND s.date_provided < :n
                 UNION ALL
                 SELECT e.bed_id, e.service_date FROM batch_entries e
                 WHERE e.client_id = :c AND e.program_id = :p AND e.bed_id IS NOT NULL
                   AND e.verdict = 'accepted' AND e.posted_at IS NULL AND e.deleted_at IS NULL
                   AND e.service_date >= :from AND e.service_date < :n)
             WHERE bed_id IN (SELECT id FROM beds WHERE program_id = :p AND retired_at IS NULL)
             ORDER BY d DESC LIMIT 1",
        )?
        .query_row(named_params! {":c": client, ":p": program, ":from": from, ":n": night}, |r| {
            r.get(0)
        })
        .optional()?)
}

/// What is known of the program's beds on `night`, with nobody's usual bed or request; `at`
/// (by default now) decides whether returning guests' beds are still held.
pub fn night_facts(
    conn: &Connection,
    rules: &ProgramRules,
    night: NaiveDate,
    at: Option<DateTime<Utc>>,
    exclude_entry: Option<&str>,
) -> StoreResult<BedFacts> {
    let beds = list(conn, rules.id)?;
    let released = match rules.bed_release_minutes {
        None => true,
        Some(m) => {
            let tz = super::orgs::time_zone(conn, rules.organization_id)?;
            let local = local_time(at.unwrap_or_else(now), &tz);
            local >= beds::release_at(night, rules.cutover_hour, m)
        }
    };
    let last = night.checked_sub_days(Days::new(1)).unwrap_or(night);
    Ok(BedFacts {
        tonight: occupants(conn, rules.id, night, exclude_entry)?,
        last_night: if released { Vec::new() } else { occupants(conn, rules.id, last, None)? },
        holds: holds(conn, &[rules.id], night)?.into_iter().filter(|h| h.covers(night)).collect(),
        beds,
        usual: None,
        released,
        asked: None,
    })
}

/// The bed facts for one guest: `None` when the program has no beds.
pub fn facts_for(
    conn: &Connection,
    rules: &ProgramRules,
    client: i64,
    night: NaiveDate,
    door: super::facts::Door<'_>,
) -> StoreResult<Option<BedFacts>> {
    let mut f = night_facts(conn, rules, night, door.at, door.entry)?;
    if f.beds.is_empty() {
        return Ok(None);
    }
    f.usual = usual_bed(conn, rules.id, client, night)?;
    f.asked = door.bed;
    Ok(Some(f))
}
