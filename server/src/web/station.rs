//! The phone station (DESIGN §17.3): `/station/`, a page that makes a signed-in staff member's
//! phone a station of their organization. The page and its service worker are the same for
//! everybody and hold no client data; the phone registers here with the staff member's session
//! and then talks to the station API with its own token, like any station.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::auth::{SignedIn, check_csrf};
use super::{WebResult, audited};
use crate::state::AppState;
use crate::store::{ProgramId, StoreError, programs, stations};

const PAGE: &str = include_str!("../../static/station.html");
const SCRIPT: &str = include_str!("../../static/phone.js");
const WORKER: &str = include_str!("../../static/station-sw.js");

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/station", get(|| async { Redirect::permanent("/station/") }))
        .route("/station/", get(|| async { shell("text/html; charset=utf-8", PAGE) }))
        .route(
            "/station/phone.js",
            get(|| async { shell("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route("/station/sw.js", get(|| async { shell("text/javascript; charset=utf-8", WORKER) }))
        .route("/station/start", get(choices).post(start))
}

/// The page, its script and its service worker: the same for everybody, no client data.
fn shell(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// What a signed-in staff member may start: the services they may record.
async fn choices(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> WebResult<Response> {
    let viewer = session.viewer.clone();
    let (choices, _) = state.db.read(move |conn| super::service_choices(conn, &viewer)).await??;
    let choices: Vec<_> = choices
        .into_iter()
        .map(|(value, label)| json!({ "value": value, "label": label }))
        .collect();
    Ok(Json(json!({
        "user": session.viewer.display_name,
        "csrf": session.csrf_token,
        "choices": choices,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct StartForm {
    csrf: String,
    service: String,
}

/// Registers the phone as a station of the program's organization, serving that program, and
/// answers its token (shown to nobody: the page keeps it).
async fn start(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<StartForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let (program_id, service_type_id) = super::service_choice(&form.service)?;
    let viewer = session.viewer.clone();
    let now = state.clock.now();
    let user = session.viewer.user_id;
    let (station_id, name, token) = audited(&state, user, "register_station", move |tx| {
        let program = programs::get_rules(tx, ProgramId(program_id))?;
        let org = program.organization_id;
        if !viewer.writable_orgs().contains(&org) {
            return Err(StoreError::Forbidden("Your role may not record services here.".into()));
        }
        let types = programs::service_types_of(tx, &[program_id])?;
        if !types.iter().any(|t| t.id == service_type_id) {
            return Err(StoreError::Invalid("That service is not one of the program's.".into()));
        }
        let name = format!("Phone of {} {}", viewer.display_name, now.format("%Y-%m-%d %H:%M:%S"));
        let (id, token) = stations::insert(tx, org, &name, &[program_id])?;
        Ok(((id, name, token), format!("station {id} (phone)")))
    })
    .await?;
    Ok(Json(json!({
        "station_id": station_id,
        "name": name,
        "token": token,
        "program_id": program_id,
        "service_type_ids": [service_type_id],
    }))
    .into_response())
}
