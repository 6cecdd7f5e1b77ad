//! Batches on the staff pages (the ClientTrack batch of the seeds): the list of station and web
//! batches, review with the verdicts of DESIGN §5, delete (X), revalidate after fixing a cause,
//! and Post Services with a summary. A web batch page takes card numbers in its Client ID field
//! (a keyboard-wedge scanner types the code and Enter) and answers each with its verdict, words
//! and a sound, exactly like the kiosk.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use scanline_core::Verdict;
use scanline_core::verdict::VerdictClass;
use scanline_core::wire::{CreateBatch, EntryUpload, PostSummary};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::{SignedIn, check_csrf};
use super::{CsrfForm, WebError, WebResult, date_field};
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::batches::{self, BatchListRow, BatchRow, EntryRow};
use crate::store::sessions::Viewer;
use crate::store::{ClientId, ProgramId};
use crate::store::{StoreError, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/batches", get(list).post(create))
        .route("/batches/{uuid}", get(review))
        .route("/batches/{uuid}/scan", post(scan))
        .route("/batches/{uuid}/entries/{entry}/delete", post(delete_entry))
        .route("/batches/{uuid}/entries/{entry}/bed", post(give_bed))
        .route("/batches/{uuid}/revalidate", post(revalidate))
        .route("/batches/{uuid}/post", post(post_services))
}

fn can_change(v: &Viewer, org: i64) -> bool {
    v.may_change(org)
}

fn class_word(v: Verdict) -> &'static str {
    match v.class() {
        VerdictClass::Ok => "ok",
        VerdictClass::Retry => "retry",
        VerdictClass::Stop => "stop",
    }
}

#[derive(Template)]
#[template(path = "batches.html")]
struct ListPage<'a> {
    user: &'a str,
    csrf: &'a str,
    batches: &'a [BatchListRow],
    /// `program:service type` choices for a new web batch.
    choices: &'a [(String, String)],
    today: NaiveDate,
}

async fn list(State(state): State<AppState>, SignedIn(session): SignedIn) -> WebResult<Response> {
    let viewer = session.viewer.clone();
    let now = state.clock.now();
    let (rows, choices, today) = state
        .db
        .read(move |conn| {
            let rows = batches::list_for_orgs(conn, &viewer.org_ids(), 200)?;
            let (choices, _) = super::service_choices(conn, &viewer)?;
            Ok::<_, StoreError>((rows, choices, super::viewer_today(conn, &viewer, now)?))
        })
        .await??;
    let page = ListPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        batches: &rows,
        choices: &choices,
        today,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct CreateForm {
    csrf: String,
    service: String,
    service_date: String,
    #[serde(default)]
    description: String,
}

async fn create(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<CreateForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let (program_id, service_type_id) = super::service_choice(&form.service)?;
    let service_date = date_field("service date", &form.service_date)?;
    let viewer = session.viewer.clone();
    let uuid = Uuid::now_v7();
    let now = state.clock.now();
    let result = state
        .db
        .transact(move |tx| {
            let program = programs::get_rules(tx, ProgramId(program_id))?;
            if !can_change(&viewer, program.organization_id) {
                return Err(StoreError::Forbidden(
                    "Your role may not start batches for this program.".into(),
                ));
            }
            let req = CreateBatch {
                uuid,
                program_id,
                service_type_ids: vec![service_type_id],
                service_date,
                units: None,
                unit_value: None,
                description: (!form.description.trim().is_empty())
                    .then(|| form.description.clone()),
                auto_post: false,
            };
            batches::create(tx, batches::Creator::User(viewer.user_id), &req, now).map(drop)
        })
        .await?;
    result?;
    Ok(Redirect::to(&format!("/batches/{uuid}")).into_response())
}

/// A batch the viewer may see (its program in one of their organizations), with that
/// organization.
fn visible_batch(
    conn: &rusqlite::Connection,
    viewer: &Viewer,
    uuid: &str,
) -> Result<(BatchRow, i64, String), StoreError> {
    let uuid: Uuid = uuid.parse().map_err(|_| StoreError::NotFound("no such batch".into()))?;
    let batch = batches::load(conn, uuid)?;
    let program = programs::get_rules(conn, ProgramId(batch.program_id))?;
    if viewer.role_in(program.organization_id).is_none() {
        return Err(StoreError::NotFound("no such batch".into()));
    }
    Ok((batch, program.organization_id, program.name))
}

/// An entry with the words and class the page shows.
struct EntryLine<'a> {
    e: &'a EntryRow,
    label: &'static str,
    class: &'static str,
    /// When it was scanned, in the organization's time zone.
    time: String,
    /// Whether staff may give it another bed here: unposted, accepted or `bed_taken`.
    give_bed: bool,
}

/// How many entries of one verdict a batch holds, for the counts above the list.
struct Count {
    verdict: &'static str,
    label: &'static str,
    class: &'static str,
    n: usize,
}

/// Rows on one page of a batch's review.
const PAGE_ROWS: usize = 100;

#[derive(Template)]
#[template(path = "batch.html")]
struct ReviewPage<'a> {
    user: &'a str,
    csrf: &'a str,
    uuid: &'a str,
    program: &'a str,
    service_date: NaiveDate,
    open: bool,
    can_change: bool,
    entries: &'a [EntryLine<'a>],
    summary: Option<&'a PostSummary>,
    counts: &'a [Count],
    deleted: usize,
    total: usize,
    /// What the list shows: "all", "flagged" or one verdict.
    show: &'a str,
    /// How many entries that is, over every page.
    matching: usize,
    page: usize,
    pages: usize,
    /// What a revalidation changed, each in words; `None` when none was asked for.
    revalidated: Option<&'a [String]>,
    /// Guests the batch served without a card and without a record.
    anonymous: u32,
    /// The program has beds: the list shows each entry's.
    has_beds: bool,
    /// (id, name) of the beds free on the batch's night, for "Give bed".
    free_beds: &'a [(i64, String)],
    saved: Option<&'static str>,
}

/// The review's filter and page, from the address.
#[derive(Deserialize, Default)]
struct ReviewQuery {
    #[serde(default)]
    show: String,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    saved: String,
}

async fn review(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(uuid): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReviewQuery>,
) -> WebResult<Response> {
    render_review(&state, &session, uuid, q, Outcome::None).await
}

/// What the person just did, shown above the list.
enum Outcome {
    None,
    Posted(PostSummary),
    Revalidated(Vec<String>),
}

/// `at` as the organization's wall clock: the time, with the date in front when it is not the
/// batch's service date.
fn local_time(at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz, day: NaiveDate) -> String {
    let local = at.with_timezone(&zone);
    if local.date_naive() == day {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// Whether an entry belongs in the list `show` asks for.
fn shown(e: &EntryRow, show: &str) -> bool {
    match show {
        "" | "all" => true,
        "flagged" => !e.deleted && e.verdict != Verdict::Accepted,
        "deleted" => e.deleted,
        v => !e.deleted && e.verdict.as_str() == v,
    }
}

async fn render_review(
    state: &AppState,
    session: &crate::store::sessions::Session,
    uuid: String,
    q: ReviewQuery,
    outcome: Outcome,
) -> WebResult<Response> {
    let viewer = session.viewer.clone();
    let u = uuid.clone();
    let (batch, org, program, entries, zone, anonymous, beds) = state
        .db
        .read(move |conn| {
            let (batch, org, program) = visible_batch(conn, &viewer, &u)?;
            let entries = batches::review(conn, &batch)?;
            let zone = crate::store::orgs::time_zone(conn, org)?;
            let anonymous = batches::anonymous(conn, &batch)?;
            let beds = free_beds(conn, &batch)?;
            Ok::<_, StoreError>((batch, org, program, entries, zone, anonymous, beds))
        })
        .await??;
    let (has_beds, free_beds) = beds;
    let show = match q.show.as_str() {
        "" | "all" => "all",
        "flagged" => "flagged",
        "deleted" => "deleted",
        v => Verdict::ALL.into_iter().find(|x| x.as_str() == v).map_or("all", |x| x.as_str()),
    };
    let counts: Vec<Count> = Verdict::ALL
        .into_iter()
        .map(|v| Count {
            verdict: v.as_str(),
            label: v.staff_label(),
            class: class_word(v),
            n: entries.iter().filter(|e| !e.deleted && e.verdict == v).count(),
        })
        .filter(|c| c.n > 0)
        .collect();
    let matching: Vec<&EntryRow> = entries.iter().filter(|e| shown(e, show)).collect();
    let pages = matching.len().div_ceil(PAGE_ROWS).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let lines: Vec<EntryLine<'_>> = matching
        .iter()
        .skip((page - 1) * PAGE_ROWS)
        .take(PAGE_ROWS)
        .map(|e| EntryLine {
            e,
            label: e.verdict.staff_label(),
            class: class_word(e.verdict),
            time: local_time(e.scanned_at, zone, batch.service_date),
            give_bed: has_beds
                && !e.posted
                && !e.deleted
                && matches!(e.verdict, Verdict::Accepted | Verdict::BedTaken),
        })
        .collect();
    let (summary, revalidated) = match &outcome {
        Outcome::None => (None, None),
        Outcome::Posted(s) => (Some(s), None),
        Outcome::Revalidated(r) => (None, Some(r.as_slice())),
    };
    let page = ReviewPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        uuid: &uuid,
        program: &program,
        service_date: batch.service_date,
        open: batch.state == scanline_core::wire::BatchState::Open,
        can_change: can_change(&session.viewer, org),
        entries: &lines,
        summary,
        counts: &counts,
        deleted: entries.iter().filter(|e| e.deleted).count(),
        total: entries.len(),
        show,
        matching: matching.len(),
        page,
        pages,
        revalidated,
        anonymous,
        has_beds,
        free_beds: &free_beds,
        saved: super::saved_words(&q.saved),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct ScanForm {
    csrf: String,
    code: String,
}

/// Runs a change on a batch the viewer may change, in one transaction.
async fn change<T: Send + 'static>(
    state: &AppState,
    viewer: &Viewer,
    uuid: &str,
    f: impl FnOnce(&rusqlite::Connection, &BatchRow, i64) -> Result<T, StoreError> + Send + 'static,
) -> WebResult<T> {
    let viewer = viewer.clone();
    let uuid = uuid.to_owned();
    let result = state
        .db
        .transact(move |tx| {
            let (batch, org, _) = visible_batch(tx, &viewer, &uuid)?;
            if !can_change(&viewer, org) {
                return Err(StoreError::Forbidden(
                    "Your role may look at batches but not change them.".into(),
                ));
            }
            f(tx, &batch, viewer.user_id)
        })
        .await?;
    Ok(result?)
}

async fn scan(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ScanForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let code: String = form.code.chars().take(256).collect();
    let now = state.clock.now();
    let verdicts = change(&state, &session.viewer, &uuid, move |tx, batch, user| {
        // At the desk the person sees the refusal and can start a new batch; only a station's
        // late upload is taken into a closed batch.
        if batch.state == scanline_core::wire::BatchState::Closed {
            return Err(StoreError::Invalid(
                "This batch is closed: start a new batch for today's scans.".into(),
            ));
        }
        let entry = EntryUpload {
            uuid: Uuid::now_v7(),
            code,
            scanned_at: now,
            station_verdict: None,
            bed_id: None,
        };
        let v = batches::add_entries(tx, batch, &[entry], now)?;
        let zone = crate::store::orgs::time_zone(
            tx,
            programs::get_rules(tx, ProgramId(batch.program_id))?.organization_id,
        )?;
        crate::store::audit::record(
            tx,
            Actor::User(user),
            "web_batch_scan",
            v[0].client_id,
            &format!("batch {}", batch.uuid),
            v[0].verdict.as_str(),
        )?;
        Ok((v, zone, batch.service_date, batch.program_id))
    })
    .await?;
    let (v, zone, day, program) = verdicts;
    let v = &v[0];
    if wants_json(&headers) {
        let served_on = v.service_date;
        let bed = v.bed_id;
        let bed_name = match bed {
            Some(b) => {
                state
                    .db
                    .read(move |conn| crate::store::beds::get(conn, program, b).map(|b| b.name))
                    .await??
            }
            None => String::new(),
        };
        let (name, alerts) = match v.client_id {
            Some(c) => {
                state
                    .db
                    .read(move |conn| {
                        let client = crate::store::clients::get(conn, ClientId(c))?;
                        let name = crate::store::display_name(
                            &client.first_name,
                            &client.preferred_name,
                            &client.last_name,
                        );
                        // Alerts beside the verdict, for staff: they never change it.
                        let alerts: Vec<serde_json::Value> = crate::store::alerts::shown_at_scan(
                            conn,
                            ClientId(c),
                            program,
                            served_on,
                        )?
                        .into_iter()
                        .map(|a| json!({"kind": a.kind.label(), "text": a.note}))
                        .collect();
                        Ok::<_, StoreError>((name, alerts))
                    })
                    .await??
            }
            None => (String::new(), Vec::new()),
        };
        return Ok(Json(json!({
            "uuid": v.uuid, "verdict": v.verdict, "label": v.verdict.staff_label(),
            "class": class_word(v.verdict), "display_name": name, "detail": v.detail,
            "client_id": v.client_id, "time": local_time(now, zone, day), "alerts": alerts,
            "bed": bed_name,
        }))
        .into_response());
    }
    Ok(Redirect::to(&format!("/batches/{uuid}")).into_response())
}

/// The page's own script asks for JSON, so it can update the list without a reload.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

async fn delete_entry(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((uuid, entry)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let entry: Uuid = entry.parse().map_err(|_| WebError::NotFound)?;
    change(&state, &session.viewer, &uuid, move |tx, batch, user| {
        batches::delete_entry(tx, batch, entry, Some(user))?;
        crate::store::audit::record(
            tx,
            Actor::User(user),
            "delete_entry",
            None,
            &format!("entry {entry}"),
            "",
        )
    })
    .await?;
    if wants_json(&headers) {
        return Ok(Json(json!({ "deleted": entry })).into_response());
    }
    Ok(Redirect::to(&format!("/batches/{uuid}")).into_response())
}

/// Whether the batch's program has beds, and the beds free on the batch's night (nobody has,
/// holds or is coming back to them).
fn free_beds(
    conn: &rusqlite::Connection,
    batch: &BatchRow,
) -> Result<(bool, Vec<(i64, String)>), StoreError> {
    let rules = programs::get_rules(conn, ProgramId(batch.program_id))?;
    let facts = crate::store::beds::night_facts(conn, &rules, batch.service_date, None, None)?;
    let free = scanline_core::beds::board(&facts)
        .into_iter()
        .filter(|(_, u)| *u == scanline_core::beds::BedUse::Free)
        .filter_map(|(id, _)| facts.beds.iter().find(|b| b.id == id))
        .map(|b| (b.id, b.name.clone()))
        .collect();
    Ok((!facts.beds.is_empty(), free))
}

#[derive(Deserialize)]
struct BedForm {
    csrf: String,
    bed: String,
}

/// Gives an unposted entry another bed ("Give bed"): a `bed_taken` entry becomes accepted; a
/// bed another guest already has that night is refused and nothing changes.
async fn give_bed(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((uuid, entry)): Path<(String, String)>,
    Form(form): Form<BedForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let entry: Uuid = entry.parse().map_err(|_| WebError::NotFound)?;
    let bed: i64 =
        form.bed.trim().parse().map_err(|_| WebError::Invalid("Choose a bed to give.".into()))?;
    change(&state, &session.viewer, &uuid, move |tx, batch, user| {
        let v = batches::set_bed(tx, batch, entry, bed)?;
        crate::store::audit::record(
            tx,
            Actor::User(user),
            "give_bed",
            v.client_id,
            &format!("entry {entry}"),
            &format!("bed {bed}: {}", v.verdict.as_str()),
        )
    })
    .await?;
    Ok(Redirect::to(&format!("/batches/{uuid}?saved=bed_given")).into_response())
}

async fn revalidate(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(uuid): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let report = change(&state, &session.viewer, &uuid, |tx, batch, _| {
        let before = batches::review(tx, batch)?;
        let after = batches::revalidate(tx, batch)?;
        Ok(after
            .iter()
            .filter_map(|v| {
                let old = before.iter().find(|e| e.uuid == v.uuid.to_string())?;
                (old.verdict != v.verdict).then(|| {
                    let who = if old.client_name.is_empty() { &old.code } else { &old.client_name };
                    format!("{who}: {} → {}", old.verdict.staff_label(), v.verdict.staff_label())
                })
            })
            .collect::<Vec<String>>())
    })
    .await?;
    render_review(&state, &session, uuid, ReviewQuery::default(), Outcome::Revalidated(report))
        .await
}

async fn post_services(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(uuid): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let summary = change(&state, &session.viewer, &uuid, |tx, batch, user| {
        batches::post(tx, batch, Actor::User(user))
    })
    .await?;
    render_review(&state, &session, uuid, ReviewQuery::default(), Outcome::Posted(summary)).await
}
