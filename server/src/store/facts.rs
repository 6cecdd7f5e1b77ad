//! Gathers, from the system of record, the facts `scanline_core::verdict::judge` needs for one
//! scan: the card, the holder's bars and enrollments, what they were already served (posted
//! services and accepted entries not yet posted, from every station), and the night's
//! occupancy. The station gathers the same facts from its roster cache.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, named_params};
use scanline_core::ScanCode;
use scanline_core::domain::{BarSpan, CardStatus, EnrollmentSpan, Served};
use scanline_core::verdict::{BatchContext, ClientFacts};

use super::StoreResult;

/// What the entry being judged brings besides its client: the entry itself (left out of what
/// counts), when it was scanned (a returning guest's bed is held until the release time) and
/// the bed asked for (DESIGN §16). The default is a service at the desk, now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Door<'a> {
    pub entry: Option<&'a str>,
    pub at: Option<DateTime<Utc>>,
    pub bed: Option<i64>,
}

/// The facts for one scan.
pub fn gather(
    conn: &Connection,
    ctx: &BatchContext<'_>,
    code: &ScanCode,
    service_date: NaiveDate,
    door: Door<'_>,
) -> StoreResult<(Option<i64>, ClientFacts)> {
    let card = super::cards::status(conn, &code.key)?;
    with_card(card, |client| of_client(conn, ctx, client, service_date, door, None))
}

/// The facts for a scan whose card the card table answered with `card`: the card alone
/// decides when it is unknown, revoked or replaced; otherwise `holder` gives its client's.
pub fn with_card(
    card: Option<(i64, CardStatus)>,
    holder: impl FnOnce(i64) -> StoreResult<ClientFacts>,
) -> StoreResult<(Option<i64>, ClientFacts)> {
    let Some((card_id, card)) = card else {
        return Ok((None, ClientFacts::default()));
    };
    if card.revoked || card.replaced {
        // The verdict is decided by the card alone; skip the other lookups.
        return Ok((Some(card_id), ClientFacts { card: Some(card), ..ClientFacts::default() }));
    }
    let mut facts = holder(card.client_id)?;
    facts.card = Some(card);
    Ok((Some(card_id), facts))
}

/// The facts about one client for a service on `service_date`, whoever picked the client: a
/// scanned card, or staff at the desk. `door` names the entry being (re)judged;
/// `bars_made_by` counts only bars made by then (at posting, a bar made after the scan does
/// not undo a meal already given).
pub fn of_client(
    conn: &Connection,
    ctx: &BatchContext<'_>,
    client: i64,
    service_date: NaiveDate,
    door: Door<'_>,
    bars_made_by: Option<DateTime<Utc>>,
) -> StoreResult<ClientFacts> {
    Known::load(conn, ctx, &[client], service_date..=service_date, bars_made_by)?.facts(
        conn,
        ctx,
        client,
        service_date,
        door,
    )
}

/// A service already recorded, or an accepted entry not yet posted (with its UUID), that
/// counts toward duplicates and limits.
#[derive(Debug, Clone)]
struct Counted {
    served: Served,
    entry: Option<String>,
}

/// What the system of record holds about some clients for services in one batch context on
/// dates in a range: their bars, their enrollments in the program, and what they were
/// already served. Read with one statement per kind for any number of clients, so a station's
/// upload of 200 scans reads each kind once rather than once per scan. Every door judges from
/// it: one client at the desk is a set of one.
#[derive(Debug, Default)]
pub struct Known {
    bars: HashMap<i64, Vec<BarSpan>>,
    enrollments: HashMap<i64, Vec<EnrollmentSpan>>,
    counted: HashMap<i64, Vec<Counted>>,
}

impl Known {
    /// Reads what is known about `clients` for services on dates in `dates`.
    pub fn load(
        conn: &Connection,
        ctx: &BatchContext<'_>,
        clients: &[i64],
        dates: RangeInclusive<NaiveDate>,
        bars_made_by: Option<DateTime<Utc>>,
    ) -> StoreResult<Self> {
        let mut known = Self::default();
        if clients.is_empty() {
            return Ok(known);
        }
        let ids = json_ids(clients.iter().copied());
        let (first, last) = (*dates.start(), *dates.end());
        for bar in super::bars::of_clients(conn, &ids, first, bars_made_by)? {
            known.bars.entry(bar.client_id).or_default().push(bar);
        }
        let program = super::ProgramId(ctx.program.id);
        for e in super::enrollments::of_clients(conn, &ids, program)? {
            known.enrollments.entry(e.client_id).or_default().push(e);
        }
        let types = json_ids(ctx.service_types.iter().map(|st| st.id));
        let from = ctx.counts_from(first);
        let mut services = conn.prepare_cached(
            "SELECT client_id, service_type_id, date_provided FROM services
             WHERE client_id IN (SELECT value FROM json_each(:c))
               AND service_type_id IN (SELECT value FROM json_each(:st))
               AND deleted_at IS NULL AND date_provided BETWEEN :from AND :to",
        )?;
        let rows = services.query_map(
            named_params! {":c": ids, ":st": types, ":from": from, ":to": last},
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, None)),
        )?;
        known.count(rows)?;
        let mut pending = conn.prepare_cached(
            "SELECT e.client_id, bst.service_type_id, e.service_date, e.uuid FROM batch_entries e
               JOIN batch_service_types bst ON bst.batch_id = e.batch_id
             WHERE e.client_id IN (SELECT value FROM json_each(:c)) AND e.program_id = :p
               AND e.service_date BETWEEN :from AND :to
               AND e.verdict = 'accepted' AND e.posted_at IS NULL AND e.deleted_at IS NULL
               AND bst.service_type_id IN (SELECT value FROM json_each(:st))",
        )?;
        let rows = pending.query_map(
            named_params! {
                ":c": ids, ":p": ctx.program.id, ":from": from, ":to": last, ":st": types,
            },
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, Some(r.get(3)?))),
        )?;
        known.count(rows)?;
        Ok(known)
    }

    fn count(
        &mut self,
        rows: impl Iterator<Item = rusqlite::Result<(i64, i64, NaiveDate, Option<String>)>>,
    ) -> StoreResult<()> {
        for row in rows {
            let (client, service_type_id, date, entry) = row?;
            self.counted
                .entry(client)
                .or_default()
                .push(Counted { served: Served { service_type_id, date }, entry });
        }
        Ok(())
    }

    /// Counts an entry accepted in this transaction after the load, for the batch's service
    /// types, as a fresh read would find it.
    pub fn count_accepted(
        &mut self,
        ctx: &BatchContext<'_>,
        client: i64,
        date: NaiveDate,
        entry: &str,
    ) {
        let counted = self.counted.entry(client).or_default();
        for st in ctx.service_types {
            counted.push(Counted {
                served: Served { service_type_id: st.id, date },
                entry: Some(entry.to_owned()),
            });
        }
    }

    /// The facts about one loaded client for a service on `service_date` (within the loaded
    /// dates). The rarer facts (beds, the night's occupancy, a safety alert) are read here,
    /// and only where they can change the verdict.
    pub fn facts(
        &self,
        conn: &Connection,
        ctx: &BatchContext<'_>,
        client: i64,
        service_date: NaiveDate,
        door: Door<'_>,
    ) -> StoreResult<ClientFacts> {
        let from = ctx.counts_from(service_date);
        let exclude = door.entry.unwrap_or("");
        let mut facts = ClientFacts {
            bars: (self.bars.get(&client).into_iter().flatten())
                .filter(|b| b.end_date >= service_date)
                .copied()
                .collect(),
            enrollments: self.enrollments.get(&client).cloned().unwrap_or_default(),
            served: (self.counted.get(&client).into_iter().flatten())
                .filter(|c| c.served.date >= from && c.served.date <= service_date)
                .filter(|c| c.entry.as_deref() != Some(exclude))
                .map(|c| c.served)
                .collect(),
            ..ClientFacts::default()
        };
        if ctx.records_bed_nights() {
            facts.beds = super::beds::facts_for(conn, ctx.program, client, service_date, door)?;
            if facts.beds.is_none() && ctx.program.capacity.is_some() {
                facts.night_occupancy =
                    night_occupancy(conn, ctx.program.id, service_date, Some(client))?;
            }
        }
        // Only asked for where it can change the verdict: the scan path costs nothing more
        // elsewhere.
        if ctx.program.safety_alerts_stop {
            facts.safety_alert = super::alerts::safety_alert(
                conn,
                super::ClientId(client),
                ctx.program.id,
                service_date,
            )?;
        }
        Ok(facts)
    }
}

/// Ids as a JSON array, the form `json_each` reads a set of ids in.
fn json_ids(ids: impl Iterator<Item = i64>) -> String {
    let mut out = String::from("[");
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out.push(']');
    out
}

/// Clients with a bed night (posted or accepted) in a program on a night, optionally leaving
/// one client out.
pub fn night_occupancy(
    conn: &Connection,
    program: i64,
    night: NaiveDate,
    except_client: Option<i64>,
) -> StoreResult<u32> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(DISTINCT client_id) FROM (
                 SELECT s.client_id FROM services s JOIN service_types st ON st.id = s.service_type_id
                 WHERE s.program_id = :p AND s.date_provided = :night AND s.deleted_at IS NULL
                   AND st.record_type = 200
                 UNION ALL
                 SELECT e.client_id FROM batch_entries e
                 WHERE e.program_id = :p AND e.service_date = :night AND e.verdict = 'accepted'
                   AND e.posted_at IS NULL AND e.deleted_at IS NULL
                   AND EXISTS (SELECT 1 FROM batch_service_types bst
                               JOIN service_types st ON st.id = bst.service_type_id
                               WHERE bst.batch_id = e.batch_id AND st.record_type = 200)
             ) WHERE client_id IS NOT :except",
        )?
        .query_row(named_params! {":p": program, ":night": night, ":except": except_client}, |r| {
            r.get(0)
        })?)
}

#[cfg(test)]
mod tests {
    use super::super::testing::fixture;
    use super::super::{batches, cards, clients, enrollments, stations};
    use super::*;
    use chrono::Utc;
    use scanline_core::Verdict;
    use scanline_core::wire::{CreateBatch, EntryUpload};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The clock these tests run at.
    fn now() -> chrono::DateTime<Utc> {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn pending_entries_count_like_services_and_occupancy_counts_guests() {
        let f = fixture();
        let (station_id, token) =
            stations::insert(&f.conn, f.org, "S", &[f.meals, f.shelter]).unwrap();
        let station = stations::authenticate(&f.conn, &token).unwrap().unwrap();
        assert_eq!(station.id, station_id);
        let mut codes = Vec::new();
        for first in ["A", "B"] {
            let (id, _) = clients::insert(
                &f.conn,
                &clients::NewClient {
                    organization_id: f.org,
                    first_name: first.into(),
                    last_name: "Z".into(),
                    ..clients::NewClient::default()
                },
            )
            .unwrap();
            enrollments::insert(
                &f.conn,
                &enrollments::NewEnrollment {
                    client_id: id.0,
                    program_id: f.meals,
                    entry_date: d("2026-01-01"),
                    household_id: None,
                    relationship_to_hoh: 1,
                },
            )
            .unwrap();
            codes.push(cards::issue_scanline(&f.conn, id.0, None).unwrap().1);
        }
        let create = |program, st| CreateBatch {
            uuid: uuid::Uuid::now_v7(),
            program_id: program,
            service_type_ids: vec![st],
            service_date: d("2026-11-21"),
            units: None,
            unit_value: None,
            description: None,
            auto_post: false,
        };
        let scan = |code: &str, at: &str| EntryUpload {
            uuid: uuid::Uuid::now_v7(),
            code: code.into(),
            scanned_at: at.parse::<chrono::DateTime<Utc>>().unwrap(),
            station_verdict: None,
            bed_id: None,
        };
        let (meal_batch, _) = batches::create(
            &f.conn,
            batches::Creator::Station(&station),
            &create(f.meals, f.meal),
            now(),
        )
        .unwrap();
        let got = batches::upload(
            &f.conn,
            &station,
            meal_batch.uuid,
            &[scan(&codes[0], "2026-11-21T20:00:00Z")],
            now(),
        )
        .unwrap();
        assert_eq!(got[0].verdict, Verdict::Accepted);

        // The accepted entry is not posted yet, but a second scan is already a duplicate.
        let rules = batches::Rules::load(&f.conn, &meal_batch).unwrap();
        let scan_code = scanline_core::card_code::classify(&codes[0]).unwrap();
        let (_, facts) =
            gather(&f.conn, &rules.ctx(), &scan_code, d("2026-11-21"), Door::default()).unwrap();
        assert_eq!(facts.served.len(), 1);

        // Bed nights: two guests on the night of the 21st, one scanned after midnight.
        let (bed_batch, _) = batches::create(
            &f.conn,
            batches::Creator::Station(&station),
            &create(f.shelter, f.bed),
            now(),
        )
        .unwrap();
        batches::upload(
            &f.conn,
            &station,
            bed_batch.uuid,
            &[scan(&codes[0], "2026-11-22T04:00:00Z"), scan(&codes[1], "2026-11-22T09:30:00Z")],
            now(),
        )
        .unwrap();
        assert_eq!(night_occupancy(&f.conn, f.shelter, d("2026-11-21"), None).unwrap(), 2);
        let client_a = f
            .conn
            .query_row("SELECT client_id FROM cards WHERE code = ?", [&codes[0]], |r| r.get(0))
            .unwrap();
        assert_eq!(
            night_occupancy(&f.conn, f.shelter, d("2026-11-21"), Some(client_a)).unwrap(),
            1
        );
        assert_eq!(night_occupancy(&f.conn, f.shelter, d("2026-11-22"), None).unwrap(), 0);
    }
}
