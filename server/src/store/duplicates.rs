//! Who may already be on file when staff add a client (DESIGN §10): the match HMIS
//! de-duplication makes, over name, date of birth and SSN. An indexed query gathers the few
//! clients who share something with the new one (an SSN, a birth date near theirs, a last name
//! that starts like either of their names); each is then scored here, in Rust, and kept when
//! two of the three agree, when the full SSN is the same, or when the name agrees closely and
//! neither the birth date nor the SSN says otherwise. Staff decide; nothing is merged.
//!
//! It never looks past what the viewer may see: restricted clients of other organizations are
//! left out in the query itself.

use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, named_params};

use super::StoreResult;
use super::clients::{ClientSummary, NewClient};

/// Most candidates the warning lists.
const MAX_CANDIDATES: usize = 20;

/// A Jaro-Winkler similarity (averaged over first and last name) at or above which two names
/// are "nearly the same": a typo, a doubled or dropped letter.
const CLOSE_NAME: f64 = 0.95;
/// At or above this, names are "similar": a nickname's start, an added letter or two.
const SIMILAR_NAME: f64 = 0.85;
/// Neither name alone may be further apart than this for the pair to count as similar, so a
/// shared surname does not carry an unrelated first name.
const NAME_FLOOR: f64 = 0.70;

/// A client on file who looks like the one being added, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub client: ClientSummary,
    /// Plain words for what agrees, e.g. "same name, birth date one day off".
    pub why: String,
    /// Higher is likelier; candidates are listed by it.
    pub score: f64,
}

/// How two names compare, either way round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NameMatch {
    /// The same letters (ignoring case, accents, spaces and punctuation).
    Same {
        swapped: bool,
    },
    /// A letter or two apart.
    Close {
        swapped: bool,
    },
    Similar {
        swapped: bool,
    },
    Different,
}

/// How two dates of birth compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DobMatch {
    Same,
    OneDayOff,
    /// Day and month swapped (03/02 typed for 02/03).
    DayMonthSwapped,
    SameMonth,
    /// One of the two is not recorded.
    Unknown,
    Different,
}

/// How two SSNs compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsnMatch {
    Same,
    SameLastFour,
    Unknown,
    Different,
}

/// Lower case, Latin accents folded, only letters kept: "José-Luis" and "jose luis" become
/// the same "joseluis".
pub fn normalized(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .filter(|c| c.is_alphabetic())
        .collect()
}

/// The unaccented letter of a Latin-1 or common Latin Extended-A letter; any other character
/// as it is. (Names with other accents still compare closely: one letter differs.)
fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ğ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'š' | 'ş' => 's',
        'ť' | 'ţ' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        other => other,
    }
}

/// Compares a new client's first and last name with a client on file, whose first name may
/// also be given as a preferred name. Names are normalized, then compared straight and with
/// first and last swapped; the closer way wins.
pub fn compare_names(first: &str, last: &str, on_file: &[&str], on_file_last: &str) -> NameMatch {
    let (f, l, cl) = (normalized(first), normalized(last), normalized(on_file_last));
    if f.is_empty() || l.is_empty() || cl.is_empty() {
        return NameMatch::Different;
    }
    let mut best = NameMatch::Different;
    let mut best_score = 0.0;
    for cf in on_file.iter().map(|n| normalized(n)).filter(|n| !n.is_empty()) {
        for (swapped, a, b) in [(false, &f, &l), (true, &l, &f)] {
            let (sf, sl) = (strsim::jaro_winkler(a, &cf), strsim::jaro_winkler(b, &cl));
            let score = f64::midpoint(sf, sl);
            let m = if *a == cf && *b == cl {
                NameMatch::Same { swapped }
            } else if score >= CLOSE_NAME && sf.min(sl) >= NAME_FLOOR {
                NameMatch::Close { swapped }
            } else if score >= SIMILAR_NAME && sf.min(sl) >= NAME_FLOOR {
                NameMatch::Similar { swapped }
            } else {
                NameMatch::Different
            };
            let rank = name_points(m) * 10.0 + score;
            if rank > best_score {
                best_score = rank;
                best = m;
            }
        }
    }
    best
}

pub fn compare_dobs(a: Option<NaiveDate>, b: Option<NaiveDate>) -> DobMatch {
    let (Some(a), Some(b)) = (a, b) else { return DobMatch::Unknown };
    if a == b {
        DobMatch::Same
    } else if a.succ_opt() == Some(b) || b.succ_opt() == Some(a) {
        DobMatch::OneDayOff
    } else if a.year() == b.year() && a.month() == b.day() && a.day() == b.month() {
        DobMatch::DayMonthSwapped
    } else if a.year() == b.year() && a.month() == b.month() {
        DobMatch::SameMonth
    } else {
        DobMatch::Different
    }
}

/// Compares two nine-digit SSNs (`None` when not recorded).
pub fn compare_ssns(a: Option<&str>, b: Option<&str>) -> SsnMatch {
    let (Some(a), Some(b)) = (a, b) else { return SsnMatch::Unknown };
    if a == b {
        SsnMatch::Same
    } else if a.len() == 9 && b.len() == 9 && a[5..] == b[5..] {
        SsnMatch::SameLastFour
    } else {
        SsnMatch::Different
    }
}

fn name_points(m: NameMatch) -> f64 {
    match m {
        NameMatch::Same { .. } => 3.0,
        NameMatch::Close { .. } => 2.5,
        NameMatch::Similar { .. } => 1.5,
        NameMatch::Different => 0.0,
    }
}

/// Whether the three comparisons make a likely duplicate, and if so its score and the words
/// for why.
pub fn judge(name: NameMatch, dob: DobMatch, ssn: SsnMatch) -> Option<(f64, String)> {
    let name_agrees = name != NameMatch::Different;
    let dob_agrees = !matches!(dob, DobMatch::Unknown | DobMatch::Different);
    let ssn_agrees = matches!(ssn, SsnMatch::Same | SsnMatch::SameLastFour);
    let agreeing = [name_agrees, dob_agrees, ssn_agrees].iter().filter(|a| **a).count();
    let name_close = matches!(name, NameMatch::Same { .. } | NameMatch::Close { .. });
    // Two people never share a full SSN, so that alone is worth a look; a close name is too
    // when nothing recorded contradicts it.
    let flagged = agreeing >= 2
        || ssn == SsnMatch::Same
        || (name_close && dob != DobMatch::Different && ssn != SsnMatch::Different);
    if !flagged {
        return None;
    }
    let mut why: Vec<&str> = Vec::new();
    match name {
        NameMatch::Same { swapped: false } => why.push("same name"),
        NameMatch::Same { swapped: true } => why.push("same name with first and last swapped"),
        NameMatch::Close { swapped: false } => why.push("nearly the same name"),
        NameMatch::Close { swapped: true } => {
            why.push("nearly the same name with first and last swapped");
        }
        NameMatch::Similar { swapped: false } => why.push("similar name"),
        NameMatch::Similar { swapped: true } => {
            why.push("similar name with first and last swapped");
        }
        NameMatch::Different => {}
    }
    match dob {
        DobMatch::Same => why.push("same birth date"),
        DobMatch::OneDayOff => why.push("birth date one day off"),
        DobMatch::DayMonthSwapped => why.push("birth date with day and month swapped"),
        DobMatch::SameMonth => why.push("born the same month"),
        DobMatch::Unknown if name_agrees => why.push("no birth date to compare"),
        DobMatch::Unknown | DobMatch::Different => {}
    }
    match ssn {
        SsnMatch::Same => why.push("same SSN"),
        SsnMatch::SameLastFour => why.push("same SSN last 4"),
        SsnMatch::Unknown | SsnMatch::Different => {}
    }
    let dob_points = match dob {
        DobMatch::Same => 3.0,
        DobMatch::OneDayOff | DobMatch::DayMonthSwapped => 2.0,
        DobMatch::SameMonth => 1.0,
        DobMatch::Unknown | DobMatch::Different => 0.0,
    };
    let ssn_points = match ssn {
        SsnMatch::Same => 4.0,
        SsnMatch::SameLastFour => 1.5,
        SsnMatch::Unknown | SsnMatch::Different => 0.0,
    };
    Some((name_points(name) + dob_points + ssn_points, why.join(", ")))
}

/// The date with day and month swapped, when that is another real date.
fn day_month_swapped(d: NaiveDate) -> Option<NaiveDate> {
    (d.day() != d.month()).then(|| NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())).flatten()
}

/// The exclusive upper bound of a case-insensitive prefix range, so the name index is used.
fn prefix_end(prefix: &str) -> String {
    let mut s = prefix.to_lowercase();
    s.push('\u{10FFFF}');
    s
}

/// The first `n` characters of a name as typed, lower-cased, for an index range.
fn start(name: &str, n: usize) -> String {
    name.trim().chars().take(n).collect::<String>().to_lowercase()
}

/// The indexed prefilter: every client who shares an SSN (or its last 4), a birth date near
/// the new one, or the start of a name with it, either way round. Each branch is a search of
/// one index (`clients_by_ssn`, `clients_by_ssn4`, `clients_by_dob`, `clients_by_name`), so the
/// query reads a small slice of the clients, never all of them.
const CANDIDATES: &str =
    "SELECT id, client_number, first_name, last_name, preferred_name, dob, restricted, ssn
      FROM clients
      WHERE id IN (
          SELECT id FROM clients WHERE :ssn IS NOT NULL AND ssn = :ssn
          UNION SELECT id FROM clients
                WHERE :ssn4 IS NOT NULL AND ssn IS NOT NULL AND substr(ssn, 6, 4) = :ssn4
          UNION SELECT id FROM clients WHERE dob IN (:before, :after, :swapped)
          UNION SELECT id FROM clients WHERE dob >= :month_start AND dob < :month_end
          UNION SELECT id FROM clients
                WHERE :l2 != '' AND :f1 != ''
                  AND last_name COLLATE NOCASE >= :l2 AND last_name COLLATE NOCASE < :l2_end
                  AND (first_name LIKE :f1_like OR preferred_name LIKE :f1_like)
          UNION SELECT id FROM clients
                WHERE :f2 != '' AND :l1 != ''
                  AND last_name COLLATE NOCASE >= :f2 AND last_name COLLATE NOCASE < :f2_end
                  AND (first_name LIKE :l1_like OR preferred_name LIKE :l1_like))
        AND (restricted = 0 OR organization_id IN (SELECT value FROM json_each(:orgs)))";

/// Clients the viewer may see who look like the one being added, likeliest first, at most
/// twenty.
pub fn likely(
    conn: &Connection,
    viewer_orgs: &[i64],
    new: &NewClient,
) -> StoreResult<Vec<Candidate>> {
    let orgs = serde_json::to_string(viewer_orgs).expect("ids serialise");
    let dob = new.dob;
    let month_start = dob.and_then(|d| d.with_day(1));
    let month_end = month_start.and_then(|d| d.checked_add_months(chrono::Months::new(1)));
    let ssn4 = new.ssn.as_deref().filter(|s| s.len() == 9).map(|s| s[5..].to_owned());
    // Name branches: a last name starting with the first two letters of either name typed,
    // with a first (or preferred) name starting with the other's first letter. Empty names
    // take no branch.
    let (l2, f2) = (start(&new.last_name, 2), start(&new.first_name, 2));
    let (l1, f1) = (start(&new.last_name, 1), start(&new.first_name, 1));
    let like = |s: &str| format!("{}%", s.replace(['%', '_'], ""));
    let mut stmt = conn.prepare_cached(CANDIDATES)?;
    let rows = stmt.query_map(
        named_params! {
            ":ssn": new.ssn, ":ssn4": ssn4,
            ":before": dob.and_then(|d| d.pred_opt()), ":after": dob.and_then(|d| d.succ_opt()), ":swapped": dob.and_then(day_month_swapped),
            ":month_start": month_start, ":month_end": month_end,
            ":l2": l2, ":l2_end": prefix_end(&l2), ":f1": f1, ":f1_like": like(&f1),
            ":f2": f2, ":f2_end": prefix_end(&f2), ":l1": l1, ":l1_like": like(&l1),
            ":orgs": orgs,
        },
        |r| Ok((super::clients::summary_from_row(r)?, r.get::<_, Option<String>>(7)?)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (client, ssn) = row?;
        let mut firsts = vec![client.first_name.as_str()];
        if !client.preferred_name.trim().is_empty() {
            firsts.push(client.preferred_name.as_str());
        }
        let name = compare_names(&new.first_name, &new.last_name, &firsts, &client.last_name);
        let verdict = judge(
            name,
            compare_dobs(new.dob, client.dob),
            compare_ssns(new.ssn.as_deref(), ssn.as_deref()),
        );
        if let Some((score, why)) = verdict {
            out.push(Candidate { client, why, score });
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.client.last_name.cmp(&b.client.last_name))
            .then(a.client.id.cmp(&b.client.id))
    });
    out.truncate(MAX_CANDIDATES);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn names_compare_either_way_round_ignoring_case_accents_and_punctuation() {
        fn check(new: (&str, &str), on_file: (&str, &str), want: NameMatch) {
            let got = compare_names(new.0, new.1, &[on_file.0], on_file.1);
            assert_eq!(got, want, "{new:?} against {on_file:?}");
        }
        use NameMatch::{Close, Different, Same, Similar};
        check(("Ben", "Jessup"), ("ben", "JESSUP"), Same { swapped: false });
        check(("Jessup", "Ben"), ("Ben", "Jessup"), Same { swapped: true });
        check(("José", "Núñez"), ("Jose", "Nunez"), Same { swapped: false });
        check(("Mary Jane", "O'Neil"), ("Mary-Jane", "ONeil"), Same { swapped: false });
        check(("Ben", "Jesup"), ("Ben", "Jessup"), Close { swapped: false });
        check(("Jesup", "Ben"), ("Ben", "Jessup"), Close { swapped: true });
        check(("Anabel", "Alders"), ("Ana", "Alder"), Similar { swapped: false });
        check(("Zed", "Alder"), ("Ana", "Alder"), Different);
        check(("Ana", "Zimmer"), ("Ana", "Alder"), Different);
        check(("Cleo", "Castell"), ("Dev", "Dunmore"), Different);
        check(("", "Alder"), ("Ana", "Alder"), Different);
    }

    #[test]
    fn a_preferred_name_counts_as_a_first_name() {
        let got = compare_names("Bobby", "Jessup", &["Robert", "Bobby"], "Jessup");
        assert_eq!(got, NameMatch::Same { swapped: false });
    }

    #[test]
    fn birth_dates_compare_as_typing_slips_do() {
        fn check(a: Option<&str>, b: Option<&str>, want: DobMatch) {
            assert_eq!(compare_dobs(a.map(d), b.map(d)), want, "{a:?} against {b:?}");
        }
        check(Some("1980-02-03"), Some("1980-02-03"), DobMatch::Same);
        check(Some("1980-02-03"), Some("1980-02-04"), DobMatch::OneDayOff);
        check(Some("1980-03-01"), Some("1980-02-29"), DobMatch::OneDayOff);
        check(Some("1979-12-31"), Some("1980-01-01"), DobMatch::OneDayOff);
        check(Some("1980-02-03"), Some("1980-03-02"), DobMatch::DayMonthSwapped);
        check(Some("1980-02-03"), Some("1980-02-27"), DobMatch::SameMonth);
        check(Some("1980-02-03"), Some("1981-02-03"), DobMatch::Different);
        check(Some("1980-02-03"), None, DobMatch::Unknown);
        check(None, None, DobMatch::Unknown);
    }

    #[test]
    fn ssns_compare_whole_or_by_the_last_four() {
        assert_eq!(compare_ssns(Some("123456789"), Some("123456789")), SsnMatch::Same);
        assert_eq!(compare_ssns(Some("123456789"), Some("999996789")), SsnMatch::SameLastFour);
        assert_eq!(compare_ssns(Some("123456789"), Some("123456780")), SsnMatch::Different);
        assert_eq!(compare_ssns(None, Some("123456789")), SsnMatch::Unknown);
    }

    #[test]
    fn two_of_three_agreeing_make_a_candidate_with_the_reasons() {
        use DobMatch as D;
        use NameMatch as N;
        use SsnMatch as S;
        fn check(name: NameMatch, dob: DobMatch, ssn: SsnMatch, want: Option<&str>) {
            let got = judge(name, dob, ssn).map(|(_, why)| why);
            assert_eq!(got.as_deref(), want, "{name:?} {dob:?} {ssn:?}");
        }
        let same = N::Same { swapped: false };
        let similar = N::Similar { swapped: false };
        check(same, D::Unknown, S::Unknown, Some("same name, no birth date to compare"));
        check(same, D::OneDayOff, S::Unknown, Some("same name, birth date one day off"));
        check(
            N::Same { swapped: true },
            D::Same,
            S::Unknown,
            Some("same name with first and last swapped, same birth date"),
        );
        check(
            similar,
            D::DayMonthSwapped,
            S::Unknown,
            Some("similar name, birth date with day and month swapped"),
        );
        check(similar, D::SameMonth, S::Unknown, Some("similar name, born the same month"));
        check(N::Different, D::Same, S::SameLastFour, Some("same birth date, same SSN last 4"));
        check(N::Different, D::Different, S::Same, Some("same SSN"));
        // One agreeing alone is not enough, and a contradiction undoes a close name.
        check(similar, D::Unknown, S::Unknown, None);
        check(N::Different, D::Same, S::Unknown, None);
        check(N::Different, D::Unknown, S::SameLastFour, None);
        check(same, D::Different, S::Unknown, None);
        check(same, D::Unknown, S::Different, None);
        check(
            N::Close { swapped: false },
            D::Unknown,
            S::Unknown,
            Some("nearly the same name, no birth date to compare"),
        );
    }

    #[test]
    fn the_likelier_match_scores_higher() {
        let score = |n, d, s| judge(n, d, s).unwrap().0;
        let same = NameMatch::Same { swapped: false };
        assert!(
            score(same, DobMatch::Same, SsnMatch::Unknown)
                > score(same, DobMatch::OneDayOff, SsnMatch::Unknown)
        );
        assert!(
            score(same, DobMatch::OneDayOff, SsnMatch::Unknown)
                > score(same, DobMatch::Unknown, SsnMatch::Unknown)
        );
    }

    /// A database with Ben Jessup (born 1980-02-03, SSN ending 6789) in the fixture's
    /// organization, a stranger, and a restricted look-alike in another organization.
    fn on_file() -> (crate::store::testing::Fixture, i64, i64) {
        let f = crate::store::testing::fixture();
        let add =
            |org, first: &str, last: &str, dob: Option<&str>, ssn: Option<&str>, restricted| {
                crate::store::clients::insert(
                    &f.conn,
                    &NewClient {
                        organization_id: org,
                        first_name: first.into(),
                        last_name: last.into(),
                        dob: dob.map(d),
                        ssn: ssn.map(str::to_owned),
                        restricted,
                        ..NewClient::default()
                    },
                )
                .unwrap()
                .0
                .0
            };
        let ben = add(f.org, "Ben", "Jessup", Some("1980-02-03"), Some("123456789"), false);
        add(f.org, "Cleo", "Castell", Some("1991-07-20"), None, false);
        let other = crate::store::orgs::insert(&f.conn, "Other Agency", "America/Chicago").unwrap();
        add(other, "Ben", "Jessup", Some("1980-02-03"), None, true);
        (f, ben, other)
    }

    fn new(first: &str, last: &str, dob: Option<&str>, ssn: Option<&str>) -> NewClient {
        NewClient {
            first_name: first.into(),
            last_name: last.into(),
            dob: dob.map(d),
            ssn: ssn.map(str::to_owned),
            ..NewClient::default()
        }
    }

    #[test]
    fn the_warning_finds_the_slips_staff_make_and_says_why() {
        let (f, ben, _) = on_file();
        let orgs = [f.org];
        let check = |c: NewClient, want: Option<&str>| {
            let found = likely(&f.conn, &orgs, &c).unwrap();
            let got: Vec<(i64, &str)> =
                found.iter().map(|x| (x.client.id, x.why.as_str())).collect();
            match want {
                Some(why) => assert_eq!(got, [(ben, why)], "{c:?}"),
                None => assert!(got.is_empty(), "{c:?}: {got:?}"),
            }
        };
        check(new("Ben", "Jessup", None, None), Some("same name, no birth date to compare"));
        check(
            new("ben", "jessup", Some("1980-02-04"), None),
            Some("same name, birth date one day off"),
        );
        check(
            new("Ben", "Jessup", Some("1980-03-02"), None),
            Some("same name, birth date with day and month swapped"),
        );
        check(
            new("Jessup", "Ben", Some("1980-02-03"), None),
            Some("same name with first and last swapped, same birth date"),
        );
        check(
            new("Benn", "Jesup", Some("1980-02-14"), None),
            Some("nearly the same name, born the same month"),
        );
        check(
            new("Robin", "Quartermain", Some("1980-02-03"), Some("555556789")),
            Some("same birth date, same SSN last 4"),
        );
        check(new("Zora", "Quill", None, Some("123456789")), Some("same SSN"));
        // Nothing alike, or only one thing alike, or a name contradicted by the birth date.
        check(new("Zora", "Quill", Some("1980-02-03"), None), None);
        check(new("Ben", "Jessup", Some("1955-09-30"), None), None);
        check(new("Dana", "Marsh", None, Some("987654321")), None);
    }

    #[test]
    fn the_warning_keeps_to_what_the_viewer_may_see() {
        let (f, ben, other) = on_file();
        let c = new("Ben", "Jessup", Some("1980-02-03"), None);
        let ids = |orgs: &[i64]| -> Vec<i64> {
            likely(&f.conn, orgs, &c).unwrap().iter().map(|x| x.client.id).collect()
        };
        // The restricted Ben Jessup of the other organization is never shown to this one.
        assert_eq!(ids(&[f.org]), [ben]);
        // Inside the other organization both are listed.
        assert_eq!(ids(&[other]).len(), 2);
    }

    #[test]
    fn the_candidate_query_searches_indexes_and_never_scans_the_clients() {
        let (f, _, _) = on_file();
        let plan: Vec<String> = f
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {CANDIDATES}"))
            .unwrap()
            .query_map(
                named_params! {
                    ":ssn": "123456789", ":ssn4": "6789", ":before": d("1980-02-02"),
                    ":after": d("1980-02-04"), ":swapped": d("1980-03-02"),
                    ":month_start": d("1980-02-01"), ":month_end": d("1980-03-01"),
                    ":l2": "je", ":l2_end": "je\u{10FFFF}", ":f1": "b", ":f1_like": "b%",
                    ":f2": "be", ":f2_end": "be\u{10FFFF}", ":l1": "j", ":l1_like": "j%",
                    ":orgs": "[1]",
                },
                |r| r.get::<_, String>(3),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for index in ["clients_by_ssn ", "clients_by_ssn4", "clients_by_dob", "clients_by_name"] {
            assert!(plan.iter().any(|p| p.contains(index)), "{index} unused: {plan:#?}");
        }
        assert!(!plan.iter().any(|p| p.starts_with("SCAN clients")), "a full scan: {plan:#?}");
    }
}
