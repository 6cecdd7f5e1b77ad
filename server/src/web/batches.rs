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
    let (program_id, service_type_id) = form
        .service
        .split_once(':')
        .and_then(|(p, t)| Some((p.parse::<i64>().ok()?, t.parse::<i64>().ok()?)))
        .ok_or_else(|| WebError::Invalid("Choose a program and service.".into()))?;
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
}

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
}

async fn review(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(uuid): Path<String>,
) -> WebResult<Response> {
    render_review(&state, &session, uuid, None).await
}

async fn render_review(
    state: &AppState,
    session: &crate::store::sessions::Session,
    uuid: String,
    summary: Option<PostSummary>,
) -> WebResult<Response> {
    let viewer = session.viewer.clone();
    let u = uuid.clone();
    let (batch, org, program, entries) = state
        .db
        .read(move |conn| {
            let (batch, org, program) = visible_batch(conn, &viewer, &u)?;
            let entries = batches::review(conn, &batch)?;
            Ok::<_, StoreError>((batch, org, program, entries))
        })
        .await??;
    let lines: Vec<EntryLine<'_>> = entries
        .iter()
        .map(|e| EntryLine { e, label: e.verdict.staff_label(), class: class_word(e.verdict) })
        .collect();
    let page = ReviewPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        uuid: &uuid,
        program: &program,
        service_date: batch.service_date,
        open: batch.state == scanline_core::wire::BatchState::Open,
        can_change: can_change(&session.viewer, org),
        entries: &lines,
        summary: summary.as_ref(),
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
    f: impl FnOnce(&rusqlite::Transaction<'_>, &BatchRow, i64) -> Result<T, StoreError> + Send + 'static,
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
        let entry =
            EntryUpload { uuid: Uuid::now_v7(), code, scanned_at: now, station_verdict: None };
        let v = batches::add_entries(tx, batch, &[entry], now)?;
        crate::store::audit::record(
            tx,
            Actor::User(user),
            "web_batch_scan",
            v[0].client_id,
            &format!("batch {}", batch.uuid),
            v[0].verdict.as_str(),
        )?;
        Ok(v)
    })
    .await?;
    let v = &verdicts[0];
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let name = match v.client_id {
            Some(c) => {
                state
                    .db
                    .read(move |conn| {
                        crate::store::clients::get(conn, ClientId(c)).map(|c| {
                            crate::store::display_name(
                                &c.first_name,
                                &c.preferred_name,
                                &c.last_name,
                            )
                        })
                    })
                    .await??
            }
            None => String::new(),
        };
        return Ok(Json(json!({
            "uuid": v.uuid, "verdict": v.verdict, "label": v.verdict.staff_label(),
            "class": class_word(v.verdict), "display_name": name, "detail": v.detail,
        }))
        .into_response());
    }
    Ok(Redirect::to(&format!("/batches/{uuid}")).into_response())
}

async fn delete_entry(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((uuid, entry)): Path<(String, String)>,
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
    Ok(Redirect::to(&format!("/batches/{uuid}")).into_response())
}

async fn revalidate(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(uuid): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    change(&state, &session.viewer, &uuid, |tx, batch, _| batches::revalidate(tx, batch).map(drop))
        .await?;
    Ok(Redirect::to(&format!("/batches/{uuid}")).into_response())
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
    render_review(&state, &session, uuid, Some(summary)).await
}
