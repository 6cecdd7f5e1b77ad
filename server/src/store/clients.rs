//! Clients: the people served. Personal fields stay here; stations get a display name only.

use chrono::NaiveDate;
use rusqlite::{Connection, named_params};

use super::ids::ClientId;
use super::{OptionalExt, StoreError, StoreResult, is_unique_violation, now, required_text};

#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub organization_id: i64,
    /// Assigned as the next free number when `None`.
    pub client_number: Option<u32>,
    pub personal_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: String,
    pub dob: Option<NaiveDate>,
    /// Nine digits, no dashes.
    pub ssn: Option<String>,
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub id: ClientId,
    pub organization_id: i64,
    pub client_number: u32,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: String,
    pub dob: Option<NaiveDate>,
    pub restricted: bool,
    pub has_photo: bool,
    /// The client's ID in the HMIS (HUD's PersonalID, ClientTrack's client ID), when known.
    pub hmis_id: Option<String>,
}

pub fn insert(conn: &Connection, c: &NewClient) -> StoreResult<(ClientId, u32)> {
    let first = required_text("first name", &c.first_name, 100)?;
    let last = required_text("last name", &c.last_name, 100)?;
    if let Some(ssn) = &c.ssn
        && !(ssn.len() == 9 && ssn.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(StoreError::Invalid("SSN must be nine digits".into()));
    }
    if let Some(dob) = c.dob {
        // A day's grace: "today" somewhere east of UTC is tomorrow here.
        let tomorrow = super::now().date_naive() + chrono::Days::new(1);
        super::in_range(scanline_core::bounds::not_future("date of birth", dob, tomorrow))?;
    }
    super::orgs::get(conn, c.organization_id)?;
    let number = match c.client_number {
        Some(n) if (1..=999_999_999).contains(&n) => n,
        Some(n) => {
            return Err(StoreError::Invalid(format!(
                "client number {n} is out of range (1 to 999999999)"
            )));
        }
        None => conn
            .prepare_cached("SELECT COALESCE(MAX(client_number), 0) + 1 FROM clients")?
            .query_row([], |r| r.get(0))?,
    };
    let at = now();
    conn.prepare_cached(
        "INSERT INTO clients (organization_id, client_number, personal_id, first_name, last_name,
             preferred_name, dob, dob_data_quality, ssn, ssn_data_quality, restricted,
             created_at, updated_at)
         VALUES (:org, :number, :pid, :first, :last, :preferred, :dob, :dobdq, :ssn, :ssndq,
             :restricted, :at, :at)",
    )?
    .execute(named_params! {
        ":org": c.organization_id, ":number": number, ":pid": c.personal_id,
        ":first": first, ":last": last, ":preferred": c.preferred_name.trim(),
        ":dob": c.dob, ":dobdq": if c.dob.is_some() { 1 } else { 99 },
        ":ssn": c.ssn, ":ssndq": if c.ssn.is_some() { 1 } else { 99 },
        ":restricted": c.restricted, ":at": at,
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("client number {number} or HMIS PersonalID is taken"))
        } else {
            e.into()
        }
    })?;
    Ok((super::ClientId(conn.last_insert_rowid()), number))
}

pub fn get(conn: &Connection, id: ClientId) -> StoreResult<ClientRow> {
    conn.prepare_cached(
        "SELECT id, organization_id, client_number, first_name, last_name, preferred_name, dob,
             restricted, photo_id IS NOT NULL, personal_id FROM clients WHERE id = :id",
    )?
    .query_row(named_params! {":id": id}, |r| {
        Ok(ClientRow {
            id: r.get(0)?,
            organization_id: r.get(1)?,
            client_number: r.get(2)?,
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            preferred_name: r.get(5)?,
            dob: r.get(6)?,
            restricted: r.get(7)?,
            has_photo: r.get(8)?,
            hmis_id: r.get(9)?,
        })
    })
    .or_not_found(|| format!("no client {id}"))
}

/// An ID in the HMIS as staff type it: trimmed, at most HUD's 32 characters of letters,
/// digits, `-`, `_` and `.`; empty clears it. IDs that begin with `SL` followed by a digit or
/// `-` are Scanline's own export IDs and are refused, for a re-import would confuse the two.
pub fn hmis_id(what: &str, value: &str) -> StoreResult<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > 32
        || !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(StoreError::Invalid(format!(
            "{what} is at most 32 letters, digits, dashes, underscores or dots"
        )));
    }
    let scanline_like = v
        .strip_prefix("SL")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit() || c == '-');
    if scanline_like {
        return Err(StoreError::Invalid(format!(
            "{what} {v} has the form of Scanline's own IDs (SL followed by a number): use the ID the HMIS shows"
        )));
    }
    Ok(Some(v.to_owned()))
}

/// Sets (or, with `None`, clears) the client's HMIS client ID.
pub fn set_hmis_id(conn: &Connection, id: ClientId, hmis_id: Option<&str>) -> StoreResult<()> {
    let n = conn
        .prepare_cached("UPDATE clients SET personal_id = :p, updated_at = :at WHERE id = :id")?
        .execute(named_params! {":p": hmis_id, ":at": now(), ":id": id})
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!(
                    "another client already has HMIS client ID {}",
                    hmis_id.unwrap_or_default()
                ))
            } else {
                e.into()
            }
        })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no client {id}")));
    }
    Ok(())
}

/// Finds a client by internal id or client number (`#123` or `number:123`).
pub fn resolve(conn: &Connection, reference: &str) -> StoreResult<ClientId> {
    let by_number = reference.strip_prefix('#').or_else(|| reference.strip_prefix("number:"));
    if let Some(n) = by_number {
        let n: u32 = n
            .parse()
            .map_err(|_| StoreError::Invalid(format!("{reference:?} is not a client number")))?;
        return conn
            .prepare_cached("SELECT id FROM clients WHERE client_number = :n")?
            .query_row(named_params! {":n": n}, |r| r.get(0))
            .or_not_found(|| format!("no client number {n}"));
    }
    let id: i64 = reference.parse().map_err(|_| {
        StoreError::Invalid(format!("{reference:?} is not a client id (or #number)"))
    })?;
    get(conn, super::ClientId(id)).map(|c| c.id)
}

/// What staff typed into "find client" (DESIGN §10, the seeds' habits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientQuery {
    /// First letters of the first name and of the last name ("mar gar"), in either order
    /// ("gar mar" finds the same people, when the word that may be the last name has at least
    /// 3 letters); one word is the start of the last name.
    Names {
        first: String,
        last: String,
    },
    Dob(NaiveDate),
    /// The last four digits of the SSN.
    Ssn4(String),
    /// A client number (`#123` or plain digits other than four).
    Number(u32),
    /// A card scanned into the search box: its card-table key.
    Card(String),
}

impl ClientQuery {
    /// Reads a search box. `None` for nothing searchable (empty, or only punctuation).
    pub fn parse(input: &str) -> Option<Self> {
        let q = input.trim();
        if q.is_empty() || q.chars().count() > 64 {
            return None;
        }
        if let Ok(code) = scanline_core::card_code::classify(q)
            && code.scanline.is_some()
        {
            return Some(Self::Card(code.key));
        }
        if let Some(n) = q.strip_prefix('#') {
            return n.trim().parse().ok().map(Self::Number);
        }
        if let Ok(d) = NaiveDate::parse_from_str(q, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(q, "%m/%d/%Y"))
        {
            return Some(Self::Dob(d));
        }
        if q.bytes().all(|b| b.is_ascii_digit()) {
            if q.len() == 4 {
                return Some(Self::Ssn4(q.to_owned()));
            }
            return q.parse().ok().map(Self::Number);
        }
        let words: Vec<&str> = q.split_whitespace().collect();
        let clean = |w: &str| {
            w.chars().filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-').collect::<String>()
        };
        match words.as_slice() {
            [last] => Some(Self::Names { first: String::new(), last: clean(last) }),
            [first, last, ..] => Some(Self::Names { first: clean(first), last: clean(last) }),
            [] => None,
        }
        .filter(
            |q| !matches!(q, Self::Names { first, last } if first.is_empty() && last.is_empty()),
        )
    }
}

/// One line of a search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    pub id: i64,
    pub client_number: u32,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: String,
    pub dob: Option<NaiveDate>,
    pub restricted: bool,
}

pub(super) fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClientSummary> {
    Ok(ClientSummary {
        id: r.get(0)?,
        client_number: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        preferred_name: r.get(4)?,
        dob: r.get(5)?,
        restricted: r.get(6)?,
    })
}

/// The exclusive upper bound of a case-insensitive prefix range, so the name index is used.
fn prefix_end(prefix: &str) -> String {
    let mut s = prefix.to_lowercase();
    s.push('\u{10FFFF}');
    s
}

/// The fewest letters of a last name the swapped order of a name search walks by.
const MIN_SWAPPED_LAST: usize = 3;

/// Clients matching a query that the viewer may see: restricted clients only inside their own
/// organizations. At most `limit`.
pub fn search(
    conn: &Connection,
    viewer_orgs: &[i64],
    q: &ClientQuery,
    limit: usize,
) -> StoreResult<Vec<ClientSummary>> {
    const COLS: &str = "id, client_number, first_name, last_name, preferred_name, dob, restricted";
    const VISIBLE: &str =
        "(restricted = 0 OR organization_id IN (SELECT value FROM json_each(:orgs)))";
    let orgs = serde_json::to_string(viewer_orgs).expect("ids serialise");
    let from_row = summary_from_row;
    let lim = limit as i64;
    let rows: Vec<ClientSummary> = match q {
        ClientQuery::Names { first, last } => {
            let sql = format!(
                "SELECT {COLS} FROM clients
                 WHERE last_name COLLATE NOCASE >= :lo AND last_name COLLATE NOCASE < :hi
                   AND (:first = '' OR first_name LIKE :first_like OR preferred_name LIKE :first_like)
                   AND {VISIBLE}
                 ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id LIMIT :lim"
            );
            let like = |s: &str| format!("{}%", s.replace(['%', '_'], ""));
            let by = |first: &str, last: &str| -> StoreResult<Vec<ClientSummary>> {
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_map(
                        named_params! {
                            ":lo": last.to_lowercase(), ":hi": prefix_end(last), ":first": first,
                            ":first_like": like(first), ":orgs": orgs, ":lim": lim,
                        },
                        from_row,
                    )?
                    .collect::<Result<_, _>>()?)
            };
            let mut found = by(first, last)?;
            // Two words may come in either order ("jessup ben" for Ben Jessup): each order is
            // its own walk along the name index, and the two lists are merged. The other order
            // is tried when its last-name letters are at least 3: a walk over every last name
            // starting with 2 letters reads tens of thousands of rows in a large agency.
            if first.chars().count() >= MIN_SWAPPED_LAST {
                found.extend(by(last, first)?);
                found.sort_by(|a, b| {
                    let key = |c: &ClientSummary| {
                        (c.last_name.to_ascii_lowercase(), c.first_name.to_ascii_lowercase(), c.id)
                    };
                    key(a).cmp(&key(b))
                });
                found.dedup_by_key(|c| c.id);
                found.truncate(limit);
            }
            found
        }
        ClientQuery::Dob(d) => conn
            .prepare_cached(&format!("SELECT {COLS} FROM clients WHERE dob = :d AND {VISIBLE} ORDER BY last_name, id LIMIT :lim"))?
            .query_map(named_params! {":d": d, ":orgs": orgs, ":lim": lim}, from_row)?
            .collect::<Result<_, _>>()?,
        ClientQuery::Ssn4(s) => conn
            .prepare_cached(&format!(
                "SELECT {COLS} FROM clients WHERE substr(ssn, 6, 4) = :s AND ssn IS NOT NULL AND {VISIBLE}
                 ORDER BY last_name, id LIMIT :lim"
            ))?
            .query_map(named_params! {":s": s, ":orgs": orgs, ":lim": lim}, from_row)?
            .collect::<Result<_, _>>()?,
        ClientQuery::Number(n) => conn
            .prepare_cached(&format!("SELECT {COLS} FROM clients WHERE client_number = :n AND {VISIBLE}"))?
            .query_map(named_params! {":n": n, ":orgs": orgs}, from_row)?
            .collect::<Result<_, _>>()?,
        ClientQuery::Card(key) => conn
            .prepare_cached(&format!(
                "SELECT {COLS} FROM clients WHERE id = (SELECT client_id FROM cards WHERE code = :k) AND {VISIBLE}"
            ))?
            .query_map(named_params! {":k": key, ":orgs": orgs}, from_row)?
            .collect::<Result<_, _>>()?,
    };
    Ok(rows)
}

/// A client the viewer may see; a restricted client of another organization is "not found",
/// exactly like a client that does not exist.
pub fn get_visible(conn: &Connection, viewer_orgs: &[i64], id: ClientId) -> StoreResult<ClientRow> {
    match get(conn, id) {
        Ok(c) if !c.restricted || viewer_orgs.contains(&c.organization_id) => Ok(c),
        Ok(_) | Err(StoreError::NotFound(_)) => {
            Err(StoreError::NotFound(format!("no client {id}")))
        }
        Err(e) => Err(e),
    }
}

/// A card as the client dashboard lists it.
#[derive(Debug, Clone)]
pub struct CardLine {
    pub id: i64,
    pub expires_on: Option<NaiveDate>,
    pub code: String,
    pub kind: String,
    /// The day it was issued, in the client's organization's time zone (as the card says).
    pub issued_on: NaiveDate,
    /// Why it was revoked, for a revoked card.
    pub revoked_reason: String,
    pub state: &'static str,
}

/// An enrollment as the client dashboard lists it.
#[derive(Debug, Clone)]
pub struct EnrollmentLine {
    pub id: i64,
    pub program_id: i64,
    pub program: String,
    pub organization_id: i64,
    pub entry_date: NaiveDate,
    pub exit_date: Option<NaiveDate>,
    /// The enrollment's ID in the HMIS, when known.
    pub hmis_id: Option<String>,
}

/// A service as the client dashboard lists it.
#[derive(Debug, Clone)]
pub struct ServiceLine {
    pub id: i64,
    pub program_id: i64,
    pub date: NaiveDate,
    pub program: String,
    pub service_type: String,
    pub units: f64,
    pub deleted: bool,
}

/// A bar as the client dashboard lists it.
#[derive(Debug, Clone)]
pub struct BarLine {
    /// What the bar covers, in words: "all of Community Meals", a program's name.
    pub scope: String,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
    pub reason: String,
    pub ended_early: bool,
}

impl BarLine {
    /// Whether the bar holds on `day`.
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        !self.ended_early && self.begin_date <= day && day <= self.end_date
    }
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub cards: Vec<CardLine>,
    pub enrollments: Vec<EnrollmentLine>,
    pub services: Vec<ServiceLine>,
    pub bars: Vec<BarLine>,
}

/// Everything the client dashboard shows besides the client row, for a viewer of `orgs`: the
/// bars are those of the viewer's organizations. Dates are in `zone`, the client's
/// organization's, and `today` is that zone's date.
pub fn dashboard(
    conn: &Connection,
    id: ClientId,
    orgs: &[i64],
    zone: chrono_tz::Tz,
    today: NaiveDate,
) -> StoreResult<Dashboard> {
    let cards = conn
        .prepare_cached(
            "SELECT code, kind, issued_at,
                 CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                      WHEN replaced_by IS NOT NULL THEN 'replaced'
                      WHEN expires_on IS NOT NULL AND expires_on < :today THEN 'expired'
                      ELSE 'active' END, id, expires_on, COALESCE(revoked_reason, '')
             FROM cards WHERE client_id = :c ORDER BY id DESC",
        )?
        .query_map(named_params! {":c": id, ":today": today}, |r| {
            let state: String = r.get(3)?;
            let issued: chrono::DateTime<chrono::Utc> = r.get(2)?;
            Ok(CardLine {
                id: r.get(4)?,
                expires_on: r.get(5)?,
                code: r.get(0)?,
                kind: r.get(1)?,
                issued_on: issued.with_timezone(&zone).date_naive(),
                revoked_reason: r.get(6)?,
                state: match state.as_str() {
                    "revoked" => "revoked",
                    "replaced" => "replaced",
                    "expired" => "expired",
                    _ => "active",
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    let enrollments = conn
        .prepare_cached(
            "SELECT e.id, p.name, p.organization_id, e.entry_date, e.exit_date, p.id,
                 e.hmis_enrollment_id
             FROM enrollments e JOIN programs p ON p.id = e.program_id
             WHERE e.client_id = :c ORDER BY e.entry_date DESC, e.id DESC",
        )?
        .query_map(named_params! {":c": id}, |r| {
            Ok(EnrollmentLine {
                id: r.get(0)?,
                program_id: r.get(5)?,
                program: r.get(1)?,
                organization_id: r.get(2)?,
                entry_date: r.get(3)?,
                exit_date: r.get(4)?,
                hmis_id: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let services = conn
        .prepare_cached(
            "SELECT s.date_provided, p.name, t.name, s.units, s.deleted_at IS NOT NULL, s.id,
                 s.program_id
             FROM services s JOIN programs p ON p.id = s.program_id
               JOIN service_types t ON t.id = s.service_type_id
             WHERE s.client_id = :c ORDER BY s.date_provided DESC, s.id DESC LIMIT 20",
        )?
        .query_map(named_params! {":c": id}, |r| {
            Ok(ServiceLine {
                id: r.get(5)?,
                program_id: r.get(6)?,
                date: r.get(0)?,
                program: r.get(1)?,
                service_type: r.get(2)?,
                units: r.get(3)?,
                deleted: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let orgs = serde_json::to_string(orgs).expect("ids serialise");
    let bars = conn
        .prepare_cached(
            "SELECT CASE b.scope_kind
                     WHEN 'organization' THEN 'all of ' || o.name
                     WHEN 'program' THEN p.name
                     ELSE st.name || ' (' || sp.name || ')' END,
                 b.begin_date, b.end_date, b.reason, b.ended_early_at IS NOT NULL
             FROM bars b
               LEFT JOIN organizations o ON b.scope_kind = 'organization' AND o.id = b.scope_id
               LEFT JOIN programs p ON b.scope_kind = 'program' AND p.id = b.scope_id
               LEFT JOIN service_types st ON b.scope_kind = 'service_type' AND st.id = b.scope_id
               LEFT JOIN programs sp ON sp.id = st.program_id
             WHERE b.client_id = :c
               AND COALESCE(o.id, p.organization_id, sp.organization_id)
                   IN (SELECT value FROM json_each(:orgs))
             ORDER BY b.end_date DESC",
        )?
        .query_map(named_params! {":c": id, ":orgs": orgs}, |r| {
            Ok(BarLine {
                scope: r.get(0)?,
                begin_date: r.get(1)?,
                end_date: r.get(2)?,
                reason: r.get(3)?,
                ended_early: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Dashboard { cards, enrollments, services, bars })
}

#[cfg(test)]
mod tests {
    use super::ClientQuery;

    #[test]
    fn the_search_box_reads_what_staff_type() {
        let card = scanline_core::ScanlineCode::new(12, 1).unwrap().encode();
        let cases: Vec<(&str, Option<ClientQuery>)> = vec![
            ("mar gar", Some(ClientQuery::Names { first: "mar".into(), last: "gar".into() })),
            ("  Gar ", Some(ClientQuery::Names { first: String::new(), last: "Gar".into() })),
            ("1234", Some(ClientQuery::Ssn4("1234".into()))),
            ("#1234", Some(ClientQuery::Number(1234))),
            ("567", Some(ClientQuery::Number(567))),
            ("1980-02-03", Some(ClientQuery::Dob("1980-02-03".parse().unwrap()))),
            ("2/3/1980", Some(ClientQuery::Dob("1980-02-03".parse().unwrap()))),
            (card.as_str(), Some(ClientQuery::Card(card.clone()))),
            ("", None),
            ("%%", None),
        ];
        for (input, want) in cases {
            assert_eq!(ClientQuery::parse(input), want, "{input:?}");
        }
    }
}
