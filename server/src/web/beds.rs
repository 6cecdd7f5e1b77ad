//! The Beds page (DESIGN §16): a night-by-night program's board for one night at a glance
//! (each bed by its group, with its attributes and who it is for), and the forms staff change
//! it with: add and retire beds, the release time, reservations for a named guest, holding
//! every empty bed, releasing one hold or all of a night's. Only programs of the viewer's
//! organizations are shown, and only staff and admins there may change them; every change is
//! written to the audit log with it. The rules are `store::beds` and `scanline_core::beds`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use rusqlite::Connection;
use scanline_core::beds::{self as rules, BedFacts, BedUse};
use scanline_core::domain::ProgramRules;
use serde::Deserialize;

use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult, date_field};
use crate::state::AppState;
use crate::store::beds::{self, NewBed};
use crate::store::sessions::Viewer;
use crate::store::{ClientId, ProgramId, StoreError, clients, display_name, orgs, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/beds", get(board))
        .route("/beds/add", post(add))
        .route("/beds/{bed}/retire", post(retire))
        .route("/beds/release-time", post(release_time))
        .route("/beds/hold", post(hold))
        .route("/beds/hold-all", post(hold_all))
        .route("/beds/holds/{hold}/release", post(release))
        .route("/beds/release-all", post(release_all))
}

/// The night-by-night programs of the viewer's organizations, in the order the page lists them.
fn bed_programs(conn: &Connection, viewer: &Viewer) -> Result<Vec<ProgramRules>, StoreError> {
    let mut out = Vec::new();
    for org in viewer.org_ids() {
        for p in programs::list_for_org(conn, org)? {
            if beds::bed_program(conn, ProgramId(p.id)).is_ok() {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// A night-by-night program of one of the viewer's organizations where they may change
/// records; any other program is "not found", exactly like one that does not exist.
fn writable_program(
    conn: &Connection,
    viewer: &Viewer,
    program: i64,
) -> Result<ProgramRules, StoreError> {
    let rules = programs::get_rules(conn, ProgramId(program))?;
    if viewer.role_in(rules.organization_id).is_none() {
        return Err(StoreError::NotFound(format!("no program {program}")));
    }
    if !viewer.may_change(rules.organization_id) {
        return Err(StoreError::Forbidden(
            "Your role may look at beds but not change them.".into(),
        ));
    }
    beds::bed_program(conn, ProgramId(program))
}

/// The night now under way in the program's organization, by its cut-over hour.
fn tonight(
    conn: &Connection,
    p: &ProgramRules,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<NaiveDate, StoreError> {
    let zone = orgs::time_zone(conn, p.organization_id)?;
    let local = scanline_core::night::local_time(now, &zone);
    Ok(scanline_core::night::night_of(local, p.cutover_hour))
}

/// One bed on the board, in words.
struct Tile {
    id: i64,
    name: String,
    attributes: String,
    /// "Free", "Ben J.", "Reserved for Mara G.", "Held", "Held for Ben J. until 21:00".
    words: String,
    /// `free`, `given` or `held`, for the tile's colour.
    class: &'static str,
    /// The staff hold on it tonight, which the page can release.
    hold: Option<i64>,
}

/// The beds of one group, in board order.
struct Group {
    name: String,
    tiles: Vec<Tile>,
}

/// How the night's beds are used, counted.
#[derive(Default)]
struct Counts {
    free: usize,
    given: usize,
    held: usize,
    total: usize,
}

/// A guest's name as the board shows it ("Ben J."); a guest the viewer may not see is "a guest".
fn guest(conn: &Connection, viewer: &Viewer, client: i64) -> Result<String, StoreError> {
    match clients::get_visible(conn, &viewer.org_ids(), ClientId(client)) {
        Ok(c) => Ok(display_name(&c.first_name, &c.preferred_name, &c.last_name)),
        Err(StoreError::NotFound(_)) => Ok("a guest".to_owned()),
        Err(e) => Err(e),
    }
}

/// The board of `facts` grouped for the page, with its counts.
fn groups(
    conn: &Connection,
    viewer: &Viewer,
    facts: &BedFacts,
    release: &str,
) -> Result<(Vec<Group>, Counts), StoreError> {
    let mut out: Vec<Group> = Vec::new();
    let mut counts = Counts { total: facts.beds.len(), ..Counts::default() };
    for (bed, (_, used)) in facts.beds.iter().zip(rules::board(facts)) {
        let (words, class) = match used {
            BedUse::Free => ("Free".to_owned(), "free"),
            BedUse::Occupied(c) => (guest(conn, viewer, c)?, "given"),
            BedUse::Reserved(c) => (format!("Reserved for {}", guest(conn, viewer, c)?), "held"),
            BedUse::Held => ("Held".to_owned(), "held"),
            BedUse::Returning(c) => {
                (format!("Held for {} until {release}", guest(conn, viewer, c)?), "held")
            }
        };
        match class {
            "free" => counts.free += 1,
            "given" => counts.given += 1,
            _ => counts.held += 1,
        }
        let tile = Tile {
            id: bed.id,
            name: bed.name.clone(),
            attributes: bed.attributes.join(", "),
            words,
            class,
            hold: facts.holds.iter().find(|h| h.bed_id == bed.id).map(|h| h.id),
        };
        match out.iter_mut().find(|g| g.name == bed.group) {
            Some(g) => g.tiles.push(tile),
            None => out.push(Group { name: bed.group.clone(), tiles: vec![tile] }),
        }
    }
    Ok((out, counts))
}

#[derive(Template)]
#[template(path = "beds.html")]
struct BedsPage<'a> {
    user: &'a str,
    csrf: &'a str,
    /// (id, name) of every night-by-night program the viewer may see.
    programs: &'a [(i64, String)],
    program: i64,
    program_name: &'a str,
    night: NaiveDate,
    tonight: NaiveDate,
    groups: &'a [Group],
    counts: &'a Counts,
    /// "21:00", or empty when no bed is held for returning guests.
    release: &'a str,
    can_change: bool,
    saved: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct BoardQuery {
    #[serde(default)]
    program: String,
    #[serde(default)]
    night: String,
    #[serde(default)]
    saved: String,
}

/// What the page shows, read in one go.
struct Board {
    programs: Vec<(i64, String)>,
    chosen: Option<(ProgramRules, NaiveDate, NaiveDate, Vec<Group>, Counts)>,
}

async fn board(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<BoardQuery>,
) -> WebResult<Response> {
    let asked: Option<i64> = match q.program.trim() {
        "" => None,
        p => Some(p.parse().map_err(|_| WebError::NotFound)?),
    };
    let night = match q.night.trim() {
        "" => None,
        n => Some(date_field("night", n)?),
    };
    let viewer = session.viewer.clone();
    let now = state.clock.now();
    let b = state
        .db
        .read(move |conn| {
            let list = bed_programs(conn, &viewer)?;
            let programs = list.iter().map(|p| (p.id, p.name.clone())).collect();
            let chosen = match asked {
                Some(id) => Some(
                    list.into_iter()
                        .find(|p| p.id == id)
                        .ok_or_else(|| StoreError::NotFound(format!("no program {id}")))?,
                ),
                None => list.into_iter().next(),
            };
            let chosen = match chosen {
                Some(p) => {
                    let tonight = tonight(conn, &p, now)?;
                    let night = night.unwrap_or(tonight);
                    let facts = beds::night_facts(conn, &p, night, Some(now), None)?;
                    let release = p.bed_release_minutes.map(beds::clock_text).unwrap_or_default();
                    let (groups, counts) = groups(conn, &viewer, &facts, &release)?;
                    Some((p, night, tonight, groups, counts))
                }
                None => None,
            };
            Ok::<_, StoreError>(Board { programs, chosen })
        })
        .await??;
    let empty = Counts::default();
    let (program, program_name, night, tonight, groups, counts, release, can_change) =
        match &b.chosen {
            Some((p, night, tonight, groups, counts)) => (
                p.id,
                p.name.as_str(),
                *night,
                *tonight,
                groups.as_slice(),
                counts,
                p.bed_release_minutes.map(beds::clock_text).unwrap_or_default(),
                session.viewer.may_change(p.organization_id),
            ),
            None => {
                let today = now.date_naive();
                (0, "", today, today, [].as_slice(), &empty, String::new(), false)
            }
        };
    let page = BedsPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        programs: &b.programs,
        program,
        program_name,
        night,
        tonight,
        groups,
        counts,
        release: &release,
        can_change,
        saved: super::saved_words(&q.saved),
    };
    Ok(Html(page.render()?).into_response())
}

/// Runs a change to a program's beds for the signed-in viewer, in one transaction with its
/// audit event, and answers with the board of `night` and the words of `saved`.
async fn change(
    state: &AppState,
    session: &crate::store::sessions::Session,
    (csrf, program): (&str, &str),
    action: &'static str,
    saved: &'static str,
    f: impl FnOnce(&Connection, &ProgramRules, i64) -> Result<(NaiveDate, String), StoreError>
    + Send
    + 'static,
) -> WebResult<Response> {
    check_csrf(session, csrf)?;
    let program: i64 = program
        .trim()
        .parse()
        .map_err(|_| WebError::Invalid("Choose the program the beds belong to.".into()))?;
    let viewer = session.viewer.clone();
    let user = viewer.user_id;
    let night = super::audited(state, user, action, move |tx| {
        let rules = writable_program(tx, &viewer, program)?;
        let (night, detail) = f(tx, &rules, user)?;
        Ok((night, format!("program {program}: {detail}")))
    })
    .await?;
    Ok(Redirect::to(&format!("/beds?program={program}&night={night}&saved={saved}"))
        .into_response())
}

#[derive(Deserialize)]
struct AddForm {
    csrf: String,
    program: String,
    night: String,
    name: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    attributes: String,
}

async fn add(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<AddForm>,
) -> WebResult<Response> {
    let night = date_field("night", &form.night)?;
    let bed = NewBed { name: form.name, group: form.group, attributes: form.attributes };
    change(
        &state,
        &session,
        (&form.csrf, &form.program),
        "add_bed",
        "bed_added",
        move |tx, p, _| {
            let id = beds::add(tx, ProgramId(p.id), &bed)?;
            Ok((night, format!("bed {id} {}", bed.name.trim())))
        },
    )
    .await
}

#[derive(Deserialize)]
struct ProgramForm {
    csrf: String,
    program: String,
    night: String,
}

async fn retire(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(bed): Path<String>,
    Form(form): Form<ProgramForm>,
) -> WebResult<Response> {
    let bed: i64 = bed.parse().map_err(|_| WebError::NotFound)?;
    let night = date_field("night", &form.night)?;
    let what = (form.csrf.as_str(), form.program.as_str());
    change(&state, &session, what, "retire_bed", "bed_retired", move |tx, p, _| {
        beds::retire(tx, p.id, bed)?;
        Ok((night, format!("bed {bed}")))
    })
    .await
}

#[derive(Deserialize)]
struct ReleaseTimeForm {
    csrf: String,
    program: String,
    night: String,
    /// HH:MM, or empty for none.
    #[serde(default)]
    at: String,
}

async fn release_time(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<ReleaseTimeForm>,
) -> WebResult<Response> {
    let night = date_field("night", &form.night)?;
    let minutes = match form.at.trim() {
        "" => None,
        t => Some(beds::parse_release_time(t)?),
    };
    let what = (form.csrf.as_str(), form.program.as_str());
    change(&state, &session, what, "bed_release_time", "release_time", move |tx, p, _| {
        beds::set_release_time(tx, ProgramId(p.id), minutes)?;
        Ok((night, minutes.map_or_else(|| "none".to_owned(), beds::clock_text)))
    })
    .await
}

#[derive(Deserialize)]
struct HoldForm {
    csrf: String,
    program: String,
    /// The guest's client number.
    client: String,
    bed: String,
    first: String,
    #[serde(default)]
    last: String,
}

async fn hold(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<HoldForm>,
) -> WebResult<Response> {
    let number: u32 = form
        .client
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| WebError::Invalid("Give the guest's client number.".into()))?;
    let bed: i64 =
        form.bed.parse().map_err(|_| WebError::Invalid("Choose the bed to reserve.".into()))?;
    let first = date_field("first night", &form.first)?;
    let last = match form.last.trim() {
        "" => first,
        l => date_field("last night", l)?,
    };
    let viewer = session.viewer.clone();
    let what = (form.csrf.as_str(), form.program.as_str());
    change(&state, &session, what, "hold_bed", "bed_reserved", move |tx, p, user| {
        let client = clients::resolve(tx, &format!("#{number}"))?;
        let client = clients::get_visible(tx, &viewer.org_ids(), client)?.id;
        let id = beds::hold(tx, p.id, bed, Some(client), (first, last), Some(user))?;
        Ok((first, format!("hold {id}: bed {bed} for client {} from {first} to {last}", client.0)))
    })
    .await
}

async fn hold_all(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<ProgramForm>,
) -> WebResult<Response> {
    let night = date_field("night", &form.night)?;
    let what = (form.csrf.as_str(), form.program.as_str());
    change(&state, &session, what, "hold_all_beds", "beds_held", move |tx, p, user| {
        let n = beds::hold_all_empty(tx, p, night, Some(user))?;
        Ok((night, format!("{n} beds on {night}")))
    })
    .await
}

async fn release(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(hold): Path<String>,
    Form(form): Form<ProgramForm>,
) -> WebResult<Response> {
    let hold: i64 = hold.parse().map_err(|_| WebError::NotFound)?;
    let night = date_field("night", &form.night)?;
    let what = (form.csrf.as_str(), form.program.as_str());
    change(&state, &session, what, "release_hold", "hold_released", move |tx, p, user| {
        beds::release(tx, p.id, hold, Some(user))?;
        Ok((night, format!("hold {hold}")))
    })
    .await
}

async fn release_all(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<ProgramForm>,
) -> WebResult<Response> {
    let night = date_field("night", &form.night)?;
    let what = (form.csrf.as_str(), form.program.as_str());
    change(&state, &session, what, "release_all_holds", "holds_released", move |tx, p, user| {
        let n = beds::release_all(tx, p.id, night, Some(user))?;
        Ok((night, format!("{n} holds on {night}")))
    })
    .await
}
