//! A station's roster held in memory (DESIGN §17): the snapshot and deltas the station API
//! sends, and the facts one scan is judged on, found from them and from the station's own
//! scans. It is what the station's database answers with SQL (`scanline-station`'s roster
//! store), for a station with no database: the phone station, running this crate as
//! WebAssembly. The station's tests judge the same scans both ways and compare.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::beds::{self, Bed, BedFacts, BedHold, BedId, Occupant};
use crate::card_code::ScanCode;
use crate::domain::{
    AlertKind, BarSpan, CardStatus, ClientId, EnrollmentSpan, ProgramId, ProgramRules, Served,
    ServiceTypeId, ServiceTypeRules,
};
use crate::verdict::{BatchContext, ClientFacts, Verdict};
use crate::wire::{
    RosterAlert, RosterCard, RosterClient, RosterDelta, RosterServed, RosterSnapshot,
};

/// One of the station's own scans, as far as the facts of the next scan need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalScan {
    pub uuid: Uuid,
    pub client_id: Option<ClientId>,
    pub program_id: ProgramId,
    /// The service types of the scan's batch.
    pub service_type_ids: Vec<ServiceTypeId>,
    pub service_date: NaiveDate,
    /// The server's verdict once it gave one, else the station's.
    pub verdict: Verdict,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub bed_id: Option<BedId>,
}

impl LocalScan {
    fn counts(&self) -> bool {
        self.verdict == Verdict::Accepted && !self.deleted
    }
}

/// The roster, keyed for the lookups a scan makes.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub cursor: i64,
    pub programs: Vec<ProgramRules>,
    pub service_types: Vec<ServiceTypeRules>,
    pub time_zone: String,
    clients: HashMap<ClientId, RosterClient>,
    cards: HashMap<String, RosterCard>,
    enrollments: HashMap<i64, EnrollmentSpan>,
    bars: HashMap<i64, BarSpan>,
    served: HashMap<String, RosterServed>,
    alerts: HashMap<i64, RosterAlert>,
    beds: Vec<Bed>,
    holds: Vec<BedHold>,
    by_client: HashMap<ClientId, ClientRows>,
}

/// The keys of one client's rows.
#[derive(Debug, Clone, Default)]
struct ClientRows {
    enrollments: Vec<i64>,
    bars: Vec<i64>,
    served: Vec<String>,
    alerts: Vec<i64>,
}

/// Adds a key to a client's list once.
fn add<T: PartialEq>(keys: &mut Vec<T>, key: T) {
    if !keys.contains(&key) {
        keys.push(key);
    }
}

impl Roster {
    pub fn from_snapshot(s: RosterSnapshot) -> Self {
        let mut r = Self {
            cursor: s.cursor,
            programs: s.programs,
            service_types: s.service_types,
            time_zone: s.organization.time_zone,
            beds: s.beds,
            holds: s.holds,
            ..Self::default()
        };
        r.upsert(s.clients, s.cards, s.enrollments, s.bars);
        r.upsert_more(s.served, s.alerts);
        r
    }

    pub fn apply_delta(&mut self, d: RosterDelta) {
        self.cursor = d.cursor;
        if let Some(p) = d.programs {
            self.programs = p;
        }
        if let Some(s) = d.service_types {
            self.service_types = s;
        }
        if let Some(b) = d.beds {
            self.beds = b;
        }
        if let Some(h) = d.holds {
            self.holds = h;
        }
        for k in &d.removed_cards {
            self.cards.remove(k);
        }
        for k in &d.removed_enrollments {
            self.enrollments.remove(k);
        }
        for k in &d.removed_bars {
            self.bars.remove(k);
        }
        for k in &d.removed_served {
            self.served.remove(k);
        }
        for k in &d.removed_alerts {
            self.alerts.remove(k);
        }
        self.upsert(d.clients, d.cards, d.enrollments, d.bars);
        self.upsert_more(d.served, d.alerts);
    }

    fn rows(&mut self, client: ClientId) -> &mut ClientRows {
        self.by_client.entry(client).or_default()
    }

    fn upsert(
        &mut self,
        clients: Vec<RosterClient>,
        cards: Vec<RosterCard>,
        enrollments: Vec<EnrollmentSpan>,
        bars: Vec<BarSpan>,
    ) {
        for c in clients {
            self.clients.insert(c.id, c);
        }
        for c in cards {
            self.cards.insert(c.code.clone(), c);
        }
        for e in enrollments {
            add(&mut self.rows(e.client_id).enrollments, e.id);
            self.enrollments.insert(e.id, e);
        }
        for b in bars {
            add(&mut self.rows(b.client_id).bars, b.id);
            self.bars.insert(b.id, b);
        }
    }

    fn upsert_more(&mut self, served: Vec<RosterServed>, alerts: Vec<RosterAlert>) {
        for s in served {
            add(&mut self.rows(s.client_id).served, s.key.clone());
            self.served.insert(s.key.clone(), s);
        }
        for a in alerts {
            add(&mut self.rows(a.client_id).alerts, a.id);
            self.alerts.insert(a.id, a);
        }
    }

    pub fn program(&self, id: ProgramId) -> Option<&ProgramRules> {
        self.programs.iter().find(|p| p.id == id)
    }

    /// The rules of the listed service types, in the order listed.
    pub fn service_types_of(&self, ids: &[ServiceTypeId]) -> Vec<ServiceTypeRules> {
        ids.iter()
            .filter_map(|id| self.service_types.iter().find(|s| s.id == *id))
            .cloned()
            .collect()
    }

    pub fn client(&self, id: ClientId) -> Option<&RosterClient> {
        self.clients.get(&id)
    }

    /// A bed's name, for the verdict.
    pub fn bed_name(&self, id: BedId) -> Option<String> {
        self.beds.iter().find(|b| b.id == id).map(|b| b.name.clone())
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// The card a normalised code names, as the verdict reads it (revoked cards are not sent).
    pub fn card(&self, key: &str) -> Option<CardStatus> {
        self.cards.get(key).map(|c| CardStatus {
            client_id: c.client_id,
            replaced: c.replaced,
            revoked: false,
            expires_on: c.expires_on,
        })
    }

    /// Keys of one client's rows of one kind (a removed row leaves its key: look it up).
    fn of<'a, T: 'a>(
        &'a self,
        client: ClientId,
        keys: impl Fn(&'a ClientRows) -> &'a [T],
    ) -> impl Iterator<Item = &'a T> + 'a {
        self.by_client.get(&client).map(keys).unwrap_or_default().iter()
    }

    /// The server's services of a client that the station's own scans do not stand for.
    fn remote_served<'a>(
        &'a self,
        client: ClientId,
        local: &'a HashSet<Uuid>,
    ) -> impl Iterator<Item = &'a RosterServed> + 'a {
        self.of(client, |r| &r.served).filter_map(|k| self.served.get(k)).filter(move |s| {
            s.client_id == client && s.entry_uuid.is_none_or(|u| !local.contains(&u))
        })
    }

    /// The facts for one scan, from the roster and the station's own scans; `exclude` leaves
    /// out the scan being judged again. `at` is the scan's local time and `asked` the bed staff
    /// chose, for programs with beds.
    #[allow(clippy::too_many_arguments)]
    pub fn facts(
        &self,
        ctx: &BatchContext<'_>,
        code: &ScanCode,
        service_date: NaiveDate,
        at: NaiveDateTime,
        asked: Option<BedId>,
        scans: &[LocalScan],
        exclude: Option<Uuid>,
    ) -> ClientFacts {
        let Some(card) = self.card(&code.key) else { return ClientFacts::default() };
        let client = card.client_id;
        let mut f = ClientFacts { card: Some(card), ..ClientFacts::default() };
        if card.replaced {
            return f;
        }
        let program = ctx.program;
        f.bars = self
            .of(client, |r| &r.bars)
            .filter_map(|id| self.bars.get(id))
            .filter(|b| b.client_id == client && b.end_date >= service_date)
            .copied()
            .collect();
        f.bars.sort_by_key(|b| b.id);
        f.enrollments = self
            .of(client, |r| &r.enrollments)
            .filter_map(|id| self.enrollments.get(id))
            .filter(|e| e.client_id == client && e.program_id == program.id)
            .copied()
            .collect();
        f.enrollments.sort_by_key(|e| e.id);
        let local: HashSet<Uuid> = scans.iter().map(|s| s.uuid).collect();
        let from = ctx.counts_from(service_date);
        let within = |d: NaiveDate| from <= d && d <= service_date;
        for st in ctx.service_types {
            for s in self.remote_served(client, &local) {
                if s.service_type_id == st.id && within(s.date) {
                    f.served.push(Served { service_type_id: st.id, date: s.date });
                }
            }
            for s in scans {
                let mine = s.client_id == Some(client) && s.program_id == program.id;
                if mine
                    && s.counts()
                    && Some(s.uuid) != exclude
                    && within(s.service_date)
                    && s.service_type_ids.contains(&st.id)
                {
                    f.served.push(Served { service_type_id: st.id, date: s.service_date });
                }
            }
        }
        if ctx.records_bed_nights() && program.capacity.is_some() {
            let bed_types: Vec<_> =
                ctx.service_types.iter().filter(|s| s.is_bed_night()).map(|s| s.id).collect();
            f.night_occupancy =
                self.occupancy(program.id, &bed_types, service_date, scans, Some(client));
        }
        if program.safety_alerts_stop {
            f.safety_alert =
                self.of(client, |r| &r.alerts).filter_map(|id| self.alerts.get(id)).any(|a| {
                    a.client_id == client
                        && a.kind == AlertKind::Safety
                        && a.shows(program.id, service_date)
                });
        }
        if ctx.records_bed_nights() {
            f.beds = self.bed_facts(program, service_date, at, Some(client), asked, scans, exclude);
        }
        f
    }

    /// Guests with a bed night in the program on a night, from the roster and local scans.
    pub fn occupancy(
        &self,
        program: ProgramId,
        bed_types: &[ServiceTypeId],
        night: NaiveDate,
        scans: &[LocalScan],
        except: Option<ClientId>,
    ) -> u32 {
        let local: HashSet<Uuid> = scans.iter().map(|s| s.uuid).collect();
        let mut guests: HashSet<ClientId> = self
            .served
            .values()
            .filter(|s| s.program_id == program && s.date == night)
            .filter(|s| bed_types.contains(&s.service_type_id))
            .filter(|s| s.entry_uuid.is_none_or(|u| !local.contains(&u)))
            .map(|s| s.client_id)
            .collect();
        guests.extend(
            scans
                .iter()
                .filter(|s| s.program_id == program && s.service_date == night && s.counts())
                .filter_map(|s| s.client_id),
        );
        if let Some(c) = except {
            guests.remove(&c);
        }
        guests.len() as u32
    }

    /// Who has which bed on a night: the server's bed nights (those of the station's own scans
    /// left to the scans) and the station's accepted scans in scan order, one left out.
    fn occupants(
        &self,
        program: ProgramId,
        night: NaiveDate,
        scans: &[LocalScan],
        exclude: Option<Uuid>,
    ) -> Vec<Occupant> {
        let local: HashSet<Uuid> = scans.iter().map(|s| s.uuid).collect();
        let mut remote: Vec<Occupant> = self
            .served
            .values()
            .filter(|s| s.program_id == program && s.date == night)
            .filter(|s| s.entry_uuid.is_none_or(|u| !local.contains(&u)))
            .filter_map(|s| s.bed_id.map(|bed_id| Occupant { bed_id, client_id: s.client_id }))
            .collect();
        remote.sort_by_key(|o| (o.bed_id, o.client_id));
        remote.dedup();
        remote.extend(
            scans
                .iter()
                .filter(|s| s.program_id == program && s.service_date == night && s.counts())
                .filter(|s| Some(s.uuid) != exclude)
                .filter_map(|s| Some(Occupant { bed_id: s.bed_id?, client_id: s.client_id? })),
        );
        remote
    }

    /// The program's beds on `night` as the station knows them, judged at local time `at`, for
    /// `client` asking for `asked`; `None` when the program has no beds.
    #[allow(clippy::too_many_arguments)]
    pub fn bed_facts(
        &self,
        program: &ProgramRules,
        night: NaiveDate,
        at: NaiveDateTime,
        client: Option<ClientId>,
        asked: Option<BedId>,
        scans: &[LocalScan],
        exclude: Option<Uuid>,
    ) -> Option<BedFacts> {
        let mut beds: Vec<Bed> =
            self.beds.iter().filter(|b| b.program_id == program.id).cloned().collect();
        if beds.is_empty() {
            return None;
        }
        beds.sort_by_key(|b| (b.position, b.id));
        let released = program
            .bed_release_minutes
            .is_none_or(|m| at >= beds::release_at(night, program.cutover_hour, m));
        let last = night.checked_sub_days(Days::new(1)).unwrap_or(night);
        let mut holds: Vec<BedHold> = self
            .holds
            .iter()
            .filter(|h| h.first_night <= night && night <= h.last_night)
            .filter(|h| beds.iter().any(|b| b.id == h.bed_id))
            .cloned()
            .collect();
        holds.sort_by_key(|h| h.id);
        let last_beds = if client.is_some() || !released {
            self.occupants(program.id, last, scans, exclude)
        } else {
            Vec::new()
        };
        let tonight = self.occupants(program.id, night, scans, exclude);
        Some(BedFacts::from_nights(beds, tonight, last_beds, holds, client, released, asked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{OrganizationInfo, StationInfo};

    fn empty() -> RosterSnapshot {
        RosterSnapshot {
            cursor: 1,
            server_time: chrono::DateTime::UNIX_EPOCH,
            station: StationInfo { id: 1, name: "Phone".into() },
            organization: OrganizationInfo { id: 1, name: "Org".into(), time_zone: "UTC".into() },
            programs: vec![],
            service_types: vec![],
            clients: vec![RosterClient {
                id: 4,
                display_name: "Ana E.".into(),
                client_number: "4".into(),
            }],
            cards: vec![RosterCard {
                code: "K1".into(),
                client_id: 4,
                replaced: false,
                expires_on: None,
            }],
            enrollments: vec![],
            bars: vec![],
            served: vec![],
            alerts: vec![],
            beds: vec![],
            holds: vec![],
        }
    }

    #[test]
    fn a_delta_adds_and_removes_rows_and_moves_the_cursor() {
        let mut r = Roster::from_snapshot(empty());
        assert_eq!(r.card("K1").map(|c| c.client_id), Some(4));
        let day: NaiveDate = "2026-03-02".parse().unwrap();
        let served = RosterServed {
            key: "svc:1".into(),
            client_id: 4,
            program_id: 1,
            service_type_id: 1,
            date: day,
            entry_uuid: None,
            bed_id: None,
        };
        r.apply_delta(RosterDelta {
            cursor: 9,
            removed_cards: vec!["K1".into()],
            cards: vec![RosterCard {
                code: "K2".into(),
                client_id: 4,
                replaced: false,
                expires_on: None,
            }],
            served: vec![served.clone(), served],
            ..RosterDelta::default()
        });
        assert_eq!(r.cursor, 9);
        assert!(r.card("K1").is_none(), "a removed card scans as unknown");
        assert_eq!(r.card("K2").map(|c| c.client_id), Some(4));
        assert_eq!(r.occupancy(1, &[1], day, &[], None), 1, "a row sent twice is held once");
        assert_eq!(r.by_client[&4].served.len(), 1);
        r.apply_delta(RosterDelta {
            cursor: 10,
            removed_served: vec!["svc:1".into()],
            ..RosterDelta::default()
        });
        assert_eq!(r.occupancy(1, &[1], day, &[], None), 0);
    }
}
