//! The bar list (the seeds' "bar list"): bars covering the viewer's organizations, active and
//! past; add a bar (scope, begin and end date, reason) and end one early. Staff and admins of
//! the organization the bar covers only.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use scanline_core::domain::BarScope;
use serde::Deserialize;

use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult, date_field};
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::bars::{self, BarRow};
use crate::store::sessions::Viewer;
use crate::store::{StoreError, clients, orgs, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/bars", get(list).post(add)).route("/bars/{id}/end", post(end))
}

fn can_change(v: &Viewer, org: i64) -> bool {
    v.may_change(org)
}

#[derive(Template)]
#[template(path = "bars.html")]
struct BarsPage<'a> {
    user: &'a str,
    csrf: &'a str,
    today: NaiveDate,
    /// Active or upcoming bars, with whether the viewer may end them.
    current: &'a [(BarRow, bool)],
    past: &'a [BarRow],
    /// `kind:id` scope choices with their labels.
    scopes: &'a [(String, String)],
    saved: Option<&'static str>,
}

async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    axum::extract::Query(q): axum::extract::Query<super::SavedQuery>,
) -> WebResult<Response> {
    let viewer = session.viewer.clone();
    let now = state.clock.now();
    let (rows, scopes, today) = state
        .db
        .read(move |conn| {
            let rows = bars::list_for_orgs(conn, &viewer.org_ids())?;
            let mut scopes = Vec::new();
            let today = super::viewer_today(conn, &viewer, now)?;
            for org in viewer.writable_orgs() {
                let o = orgs::get(conn, org)?;
                scopes.push((format!("organization:{}", o.id), format!("All of {}", o.name)));
                for p in programs::list_for_org(conn, o.id)? {
                    scopes.push((format!("program:{}", p.id), p.name.clone()));
                    for st in programs::service_types_of(conn, &[p.id])? {
                        scopes.push((
                            format!("service_type:{}", st.id),
                            format!("{} ({})", st.name, p.name),
                        ));
                    }
                }
            }
            Ok::<_, StoreError>((rows, scopes, today))
        })
        .await??;
    let (current, past): (Vec<BarRow>, Vec<BarRow>) =
        rows.into_iter().partition(|b| b.end_date >= today);
    let current: Vec<(BarRow, bool)> = current
        .into_iter()
        .map(|b| {
            let ok = can_change(&session.viewer, b.organization_id);
            (b, ok)
        })
        .collect();
    let page = BarsPage {
        saved: super::saved_words(&q.saved),
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        today,
        current: &current,
        past: &past,
        scopes: &scopes,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct AddForm {
    csrf: String,
    /// Client number.
    client: String,
    scope: String,
    begin: String,
    end: String,
    reason: String,
}

async fn add(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<AddForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let scope = form
        .scope
        .split_once(':')
        .and_then(|(k, id)| BarScope::from_parts(k, id.parse().ok()?))
        .ok_or_else(|| WebError::Invalid("Choose what the bar covers.".into()))?;
    let number: u32 = form
        .client
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| WebError::Invalid("Give the client's number.".into()))?;
    let (begin, end) = (date_field("begin date", &form.begin)?, date_field("end date", &form.end)?);
    let viewer = session.viewer.clone();
    let result = state
        .db
        .transact(move |tx| {
            let client = clients::resolve(tx, &format!("#{number}"))?;
            clients::get_visible(tx, &viewer.org_ids(), client)?;
            if !can_change(&viewer, bars::scope_organization(tx, scope)?) {
                return Err(StoreError::Forbidden("Your role may not add bars here.".into()));
            }
            let id =
                bars::insert(tx, client.0, scope, begin, end, &form.reason, Some(viewer.user_id))?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "add_bar",
                Some(client.0),
                &format!("bar {id}"),
                &format!("{begin} to {end}"),
            )
        })
        .await?;
    result?;
    Ok(Redirect::to("/bars?saved=bar_added").into_response())
}

#[derive(Deserialize)]
struct EndForm {
    csrf: String,
    last_day: String,
}

async fn end(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EndForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let bar: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let last_day = date_field("last date", &form.last_day)?;
    let viewer = session.viewer.clone();
    let result = state
        .db
        .transact(move |tx| {
            if !can_change(&viewer, bars::organization_of(tx, bar)?) {
                return Err(StoreError::Forbidden("Your role may not end this bar.".into()));
            }
            bars::end_early(tx, bar, last_day)?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "end_bar",
                None,
                &format!("bar {bar}"),
                &format!("last day {last_day}"),
            )
        })
        .await?;
    result?;
    Ok(Redirect::to("/bars?saved=bar_ended").into_response())
}
