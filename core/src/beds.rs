//! Beds at the shelter door (DESIGN §16): which bed a guest is given for a night, which beds
//! are free at a glance, and when a returning guest's bed stops being held. Pure functions over
//! what the caller knows about one program and one night; the station decides from its roster
//! and the server from its database, with this same code.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::domain::{ClientId, ProgramId};

pub type BedId = i64;

/// A bed, mat or room of a night-by-night program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Bed {
    pub id: BedId,
    pub program_id: ProgramId,
    /// What staff and guests call it: "A3".
    pub name: String,
    /// Where it is: "Dorm A", "Family room"; may be empty.
    pub group: String,
    /// What matters at the door: "bottom bunk", "accessible", "women only".
    pub attributes: Vec<String>,
    /// Order on the board and in proposals.
    pub position: i64,
}

impl Bed {
    /// A bed as a database row holds it: the attributes joined by commas (no attribute holds
    /// one: staff type them comma-separated).
    pub fn from_stored(
        (id, program_id): (BedId, ProgramId),
        (name, group): (String, String),
        attributes: &str,
        position: i64,
    ) -> Self {
        let attributes =
            attributes.split(',').filter(|a| !a.is_empty()).map(str::to_owned).collect();
        Self { id, program_id, name, group, attributes, position }
    }

    /// The attributes as a database row holds them.
    pub fn stored_attributes(&self) -> String {
        self.attributes.join(",")
    }
}

/// A bed staff hold for a night or several: for a named guest (a reservation), or for no one
/// yet (a cold-weather surge), until staff release it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BedHold {
    pub id: i64,
    pub bed_id: BedId,
    /// The guest it is held for; `None` for a hold with no one named.
    pub client_id: Option<ClientId>,
    pub first_night: NaiveDate,
    pub last_night: NaiveDate,
}

impl BedHold {
    /// A hold as a database row holds it.
    pub fn from_stored(
        (id, bed_id, client_id): (i64, BedId, Option<ClientId>),
        (first_night, last_night): (NaiveDate, NaiveDate),
    ) -> Self {
        Self { id, bed_id, client_id, first_night, last_night }
    }

    pub fn covers(&self, night: NaiveDate) -> bool {
        self.first_night <= night && night <= self.last_night
    }
}

/// A bed given to a guest for a night.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupant {
    pub bed_id: BedId,
    pub client_id: ClientId,
}

/// What is known about one program's beds on one night.
#[derive(Debug, Clone, Default)]
pub struct BedFacts {
    /// The program's beds in use, in board order.
    pub beds: Vec<Bed>,
    /// Beds already given tonight (the entry being judged left out).
    pub tonight: Vec<Occupant>,
    /// Beds given last night: a returning guest's bed is held for them until the release time.
    pub last_night: Vec<Occupant>,
    /// Staff holds covering tonight.
    pub holds: Vec<BedHold>,
    /// The guest's latest bed before tonight, if any.
    pub usual: Option<BedId>,
    /// The scan is at or after the program's release time: returning guests' beds are free.
    pub released: bool,
    /// The bed asked for: staff chose it at the kiosk, or a station gave it before uploading.
    pub asked: Option<BedId>,
}

impl BedFacts {
    /// The facts from what a station or server found: the guest's usual bed is theirs of last
    /// night, and last night's beds are held for returning guests only before the release time.
    pub fn from_nights(
        beds: Vec<Bed>,
        tonight: Vec<Occupant>,
        last_beds: Vec<Occupant>,
        holds: Vec<BedHold>,
        client: Option<ClientId>,
        released: bool,
        asked: Option<BedId>,
    ) -> Self {
        let usual =
            client.and_then(|c| last_beds.iter().find(|o| o.client_id == c)).map(|o| o.bed_id);
        Self {
            tonight,
            last_night: if released { Vec::new() } else { last_beds },
            holds,
            beds,
            usual,
            released,
            asked,
        }
    }
}

/// Who a bed is for tonight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "client_id", rename_all = "snake_case")]
pub enum BedUse {
    Free,
    /// Given tonight.
    Occupied(ClientId),
    /// Reserved by staff for a named guest.
    Reserved(ClientId),
    /// Held by staff for no one yet.
    Held,
    /// Last night's guest has not come back yet and the release time has not passed.
    Returning(ClientId),
}

/// Where the guest sleeps tonight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Bed(BedId),
    /// The bed asked for is already given to someone else tonight.
    Taken(BedId),
    /// No bed is free for this guest.
    NoBed,
}

/// The instant a returning guest's bed stops being held on `night`: `minutes` after midnight
/// of the night's evening when that is at or after the cut-over hour, else of the next
/// morning (a release at 01:00 belongs to the night that began the evening before).
pub fn release_at(night: NaiveDate, cutover_hour: u8, minutes: u16) -> NaiveDateTime {
    let minutes = u32::from(minutes.min(24 * 60 - 1));
    let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN);
    let date = if minutes / 60 >= u32::from(cutover_hour) {
        night
    } else {
        night.checked_add_days(Days::new(1)).unwrap_or(night)
    };
    date.and_time(time)
}

/// Tonight's use of every bed, in board order.
pub fn board(f: &BedFacts) -> Vec<(BedId, BedUse)> {
    f.beds.iter().map(|b| (b.id, use_of(f, b.id))).collect()
}

fn use_of(f: &BedFacts, bed: BedId) -> BedUse {
    if let Some(o) = f.tonight.iter().find(|o| o.bed_id == bed) {
        return BedUse::Occupied(o.client_id);
    }
    if let Some(h) = f.holds.iter().find(|h| h.bed_id == bed) {
        return h.client_id.map_or(BedUse::Held, BedUse::Reserved);
    }
    if !f.released
        && let Some(o) = f.last_night.iter().find(|o| o.bed_id == bed)
        && !f.tonight.iter().any(|t| t.client_id == o.client_id)
    {
        return BedUse::Returning(o.client_id);
    }
    BedUse::Free
}

/// Whether `client` may be given a bed in this use without staff choosing it.
fn open_to(u: BedUse, client: ClientId) -> bool {
    match u {
        BedUse::Free => true,
        BedUse::Reserved(c) | BedUse::Returning(c) => c == client,
        BedUse::Occupied(_) | BedUse::Held => false,
    }
}

/// The bed for `client` tonight. A bed asked for is given unless another guest already has it
/// tonight (staff may give a held bed on purpose). Otherwise, in this order: a bed reserved for
/// the guest, their usual bed if it is open to them, the next open bed in the usual bed's
/// group, the next open bed; among those, a bed without attributes first.
pub fn place(f: &BedFacts, client: ClientId) -> Placement {
    if let Some(asked) = f.asked.filter(|id| f.beds.iter().any(|b| b.id == *id)) {
        return match use_of(f, asked) {
            BedUse::Occupied(c) if c != client => Placement::Taken(asked),
            _ => Placement::Bed(asked),
        };
    }
    let board = board(f);
    if let Some(&(id, _)) = board.iter().find(|(_, u)| *u == BedUse::Occupied(client)) {
        return Placement::Bed(id);
    }
    if let Some(&(id, _)) = board.iter().find(|(_, u)| *u == BedUse::Reserved(client)) {
        return Placement::Bed(id);
    }
    let open = |id: BedId| board.iter().any(|&(b, u)| b == id && open_to(u, client));
    if let Some(usual) = f.usual.filter(|&u| open(u)) {
        return Placement::Bed(usual);
    }
    // Beds with attributes (accessible, women only, bottom bunk) go last, so they stay for the
    // guests staff give them to.
    let usual_group = f.usual.and_then(|u| f.beds.iter().find(|b| b.id == u)).map(|b| &b.group);
    let in_group = |b: &&Bed| Some(&b.group) == usual_group;
    let plain = |b: &&Bed| b.attributes.is_empty();
    let open_beds = || f.beds.iter().filter(|b| open(b.id));
    let next = open_beds()
        .find(|b| in_group(b) && plain(b))
        .or_else(|| open_beds().find(in_group))
        .or_else(|| open_beds().find(plain))
        .or_else(|| open_beds().next());
    next.map_or(Placement::NoBed, |b| Placement::Bed(b.id))
}

/// Beds nobody has or holds tonight.
pub fn free_count(f: &BedFacts) -> usize {
    board(f).iter().filter(|(_, u)| *u == BedUse::Free).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn beds(n: i64) -> Vec<Bed> {
        (1..=n)
            .map(|i| Bed {
                id: i,
                program_id: 20,
                name: format!("{}{}", if i <= n / 2 { "A" } else { "B" }, i),
                group: if i <= n / 2 { "Dorm A" } else { "Dorm B" }.into(),
                attributes: Vec::new(),
                position: i,
            })
            .collect()
    }

    fn occ(bed_id: BedId, client_id: ClientId) -> Occupant {
        Occupant { bed_id, client_id }
    }

    #[test]
    fn beds_with_attributes_are_proposed_last() {
        let mut b = beds(4);
        b[0].attributes = vec!["accessible".into()];
        b[2].attributes = vec!["women only".into()];
        let mut f = BedFacts { beds: b, ..BedFacts::default() };
        assert_eq!(place(&f, 7), Placement::Bed(2));
        f.usual = Some(3);
        f.tonight.push(occ(3, 8));
        assert_eq!(place(&f, 7), Placement::Bed(4), "the usual dorm's plain bed");
        f.tonight.extend([occ(2, 9), occ(4, 10)]);
        assert_eq!(place(&f, 7), Placement::Bed(1), "when nothing else is open");
        f.usual = Some(1);
        f.tonight.clear();
        assert_eq!(place(&f, 7), Placement::Bed(1), "the guest's usual bed, attributes or not");
    }

    #[test]
    fn release_time_belongs_to_the_night() {
        let n = d("2026-12-01");
        assert_eq!(release_at(n, 12, 21 * 60).to_string(), "2026-12-01 21:00:00");
        assert_eq!(release_at(n, 12, 60).to_string(), "2026-12-02 01:00:00");
        assert_eq!(release_at(n, 0, 60).to_string(), "2026-12-01 01:00:00");
        assert_eq!(release_at(n, 12, u16::MAX).to_string(), "2026-12-01 23:59:00");
    }

    #[test]
    fn the_usual_bed_then_its_group_then_any() {
        let mut f = BedFacts { beds: beds(4), usual: Some(4), ..BedFacts::default() };
        assert_eq!(place(&f, 7), Placement::Bed(4));
        f.tonight.push(occ(4, 8));
        assert_eq!(place(&f, 7), Placement::Bed(3), "same dorm as the usual bed");
        f.tonight.push(occ(3, 9));
        assert_eq!(place(&f, 7), Placement::Bed(1));
        f.tonight.extend([occ(1, 10), occ(2, 11)]);
        assert_eq!(place(&f, 7), Placement::NoBed);
        assert_eq!(free_count(&f), 0);
    }

    #[test]
    fn a_returning_guests_bed_is_held_until_the_release_time() {
        let mut f = BedFacts { beds: beds(2), last_night: vec![occ(1, 8)], ..BedFacts::default() };
        assert_eq!(board(&f)[0], (1, BedUse::Returning(8)));
        assert_eq!(place(&f, 7), Placement::Bed(2), "a newcomer skips the held bed");
        assert_eq!(place(&f, 8), Placement::Bed(1), "the returning guest gets it back");
        f.tonight.push(occ(2, 9));
        assert_eq!(place(&f, 7), Placement::NoBed, "held beds are not free");
        f.released = true;
        assert_eq!(place(&f, 7), Placement::Bed(1), "after the release time it is free");
        // A returning guest who took another bed tonight frees last night's.
        f.released = false;
        f.tonight = vec![occ(2, 8)];
        assert_eq!(place(&f, 7), Placement::Bed(1));
    }

    #[test]
    fn holds_and_reservations() {
        let f = BedFacts {
            beds: beds(3),
            holds: vec![
                BedHold {
                    id: 1,
                    bed_id: 1,
                    client_id: None,
                    first_night: d("2026-12-01"),
                    last_night: d("2026-12-03"),
                },
                BedHold {
                    id: 2,
                    bed_id: 3,
                    client_id: Some(7),
                    first_night: d("2026-12-01"),
                    last_night: d("2026-12-01"),
                },
            ],
            usual: Some(2),
            ..BedFacts::default()
        };
        assert_eq!(place(&f, 7), Placement::Bed(3), "a reservation comes before the usual bed");
        assert_eq!(place(&f, 8), Placement::Bed(2));
        assert_eq!(board(&f)[0].1, BedUse::Held);
        assert_eq!(free_count(&f), 1);
        assert!(f.holds[0].covers(d("2026-12-02")) && !f.holds[1].covers(d("2026-12-02")));
    }

    #[test]
    fn a_bed_asked_for_is_given_unless_someone_has_it() {
        let mut f = BedFacts { beds: beds(3), asked: Some(2), ..BedFacts::default() };
        f.holds.push(BedHold {
            id: 1,
            bed_id: 2,
            client_id: None,
            first_night: d("2026-12-01"),
            last_night: d("2026-12-01"),
        });
        assert_eq!(place(&f, 7), Placement::Bed(2), "staff may give a held bed");
        f.tonight.push(occ(2, 8));
        assert_eq!(place(&f, 7), Placement::Taken(2));
        f.tonight = vec![occ(2, 7)];
        assert_eq!(place(&f, 7), Placement::Bed(2), "the guest's own bed");
        f.asked = Some(99);
        assert_eq!(place(&f, 7), Placement::Bed(2), "an unknown bed is not asked for");
    }
}
