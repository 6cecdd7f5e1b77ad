//! Alerts on a client from the dashboard (DESIGN §16): add one (kind, note, the short text
//! stations may show, period, programs) for an organization where the viewer may change
//! records, and end one early. Both are written to the audit log with the change.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use scanline_core::domain::AlertKind;

use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult, date_field};
use crate::state::AppState;
use crate::store::alerts::{self, NewAlert};
use crate::store::audit::{self, Actor};
use crate::store::{ClientId, StoreError, clients};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/clients/{id}/alerts", post(add)).route("/alerts/{id}/end", post(end))
}

async fn add(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let get =
        |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(&session, &get("csrf"))?;
    let client: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let kind = AlertKind::parse(&get("kind"))
        .ok_or_else(|| WebError::Invalid("Choose what the alert is about.".into()))?;
    let begin_date = date_field("alert's first day", &get("begin_date"))?;
    let end_date = date_field("alert's last day", &get("end_date"))?;
    let organization_id: i64 = get("organization_id")
        .parse()
        .map_err(|_| WebError::Invalid("Choose the organization the alert is for.".into()))?;
    let program_ids: Vec<i64> = fields
        .iter()
        .filter(|(k, _)| k == "program")
        .map(|(_, v)| {
            v.parse().map_err(|_| WebError::Invalid("A program is not one of the list.".into()))
        })
        .collect::<WebResult<_>>()?;
    let for_stations = get("for_stations") == "1";
    let station_text = get("station_text");
    if for_stations && station_text.trim().is_empty() {
        return Err(WebError::Invalid(
            "Write the short text the stations may show, or leave the box unticked.".into(),
        ));
    }
    let viewer = session.viewer.clone();
    if !viewer.may_change(organization_id) {
        return Err(WebError::Forbidden(
            "Your role may not add alerts for this organization.".into(),
        ));
    }
    let alert = NewAlert {
        client_id: ClientId(client),
        organization_id,
        kind,
        note: get("note"),
        station_text: for_stations.then_some(station_text),
        begin_date,
        end_date,
        program_ids,
    };
    state
        .db
        .transact(move |tx| {
            clients::get_visible(tx, &viewer.org_ids(), ClientId(client))?;
            let id = alerts::insert(tx, &alert, Some(viewer.user_id))?;
            // Like every change to a client: who, which client, what; the note stays out.
            let detail = format!("alert {id}: {} from {begin_date} to {end_date}", kind.as_str());
            audit::record(tx, Actor::User(viewer.user_id), "add_alert", Some(client), &detail, "")
        })
        .await??;
    Ok(Redirect::to(&format!("/clients/{client}?saved=alert_added#h-alerts")).into_response())
}

async fn end(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<super::CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let viewer = session.viewer.clone();
    let client = state
        .db
        .transact(move |tx| {
            let (org, client) = alerts::owner(tx, id)?;
            if viewer.role_in(org).is_none() {
                return Err(StoreError::NotFound(format!("no alert {id}")));
            }
            if !viewer.may_change(org) {
                return Err(StoreError::Forbidden("Your role may not end this alert.".into()));
            }
            alerts::end(tx, id, viewer.user_id)?;
            let detail = format!("alert {id}");
            audit::record(tx, Actor::User(viewer.user_id), "end_alert", Some(client), &detail, "")?;
            Ok::<_, StoreError>(client)
        })
        .await??;
    Ok(Redirect::to(&format!("/clients/{client}?saved=alert_ended#h-alerts")).into_response())
}
