//! Pages for admins: stations (register with a token shown once, revoke, last seen, entries not
//! yet posted), users (add, disable) and the audit trail. Each lists and changes only the
//! organizations where the viewer is an admin; everybody else is refused.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::auth::{SignedIn, check_csrf};
use super::{CsrfForm, WebError, WebResult, audited};
use crate::state::AppState;
use crate::store::audit::{self, Actor, EventLine};
use crate::store::sessions::{Session, Viewer};
use crate::store::stations::{self, StationLine};
use crate::store::users::{self, Role, UserLine};
use crate::store::{StoreError, orgs, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/stations", get(stations_page).post(add_station))
        .route("/admin/stations/{id}/revoke", post(revoke_station))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/audit", get(audit_page))
}

pub(super) fn admin_orgs(v: &Viewer) -> WebResult<Vec<i64>> {
    let orgs: Vec<i64> =
        v.memberships.iter().filter(|(_, r)| *r == Role::Admin).map(|(o, _)| *o).collect();
    if orgs.is_empty() {
        Err(WebError::Forbidden("This page is for admins.".into()))
    } else {
        Ok(orgs)
    }
}

/// The organization a form names (its id as text), when the viewer is an admin of it.
pub(super) fn admin_of(v: &Viewer, org: &str) -> WebResult<i64> {
    let org: i64 =
        org.trim().parse().map_err(|_| WebError::Invalid("Choose an organization.".into()))?;
    if admin_orgs(v)?.contains(&org) {
        Ok(org)
    } else {
        Err(WebError::Forbidden("You are not an admin of that organization.".into()))
    }
}

/// An organization and its programs, for the "programs it serves" choice.
type OrgPrograms = (i64, String, Vec<(i64, String)>);

#[derive(Template)]
#[template(path = "admin_stations.html")]
struct StationsPage<'a> {
    user: &'a str,
    csrf: &'a str,
    stations: &'a [StationLine],
    /// Per station (same order): its last request since the server started (UTC) and the
    /// outbox depth it reported then.
    live: &'a [Health],
    orgs: &'a [OrgPrograms],
    /// A token just made: shown this once.
    new_token: Option<&'a str>,
    saved: Option<&'static str>,
}

async fn stations_view(
    state: &AppState,
    session: &Session,
    new_token: Option<&str>,
    saved: Option<&'static str>,
) -> WebResult<Response> {
    let orgs = admin_orgs(&session.viewer)?;
    let now = state.clock.now();
    let (list, org_programs, figures, zones) = state
        .db
        .read(move |conn| {
            let list = stations::list_for_orgs(conn, &orgs)?;
            let figures = stations::figures(conn, now)?;
            let mut zones = std::collections::HashMap::new();
            for s in &list {
                zones.insert(s.id, orgs::time_zone(conn, stations::organization_of(conn, s.id)?)?);
            }
            let mut out = Vec::new();
            for o in &orgs {
                let name = orgs::get(conn, *o)?.name;
                let ps =
                    programs::list_for_org(conn, *o)?.into_iter().map(|p| (p.id, p.name)).collect();
                out.push((*o, name, ps));
            }
            Ok::<_, StoreError>((list, out, figures, zones))
        })
        .await??;
    let live: Vec<Health> = list
        .iter()
        .map(|s| {
            let zone = zones.get(&s.id).copied().unwrap_or(chrono_tz::UTC);
            let live = state.live.station(s.id);
            let f = figures.iter().find(|f| f.id == s.id);
            let seen = match (live.map(|l| l.last_seen), f.and_then(|f| f.last_seen)) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            Health {
                last_seen: seen.map_or_else(
                    || "never".to_owned(),
                    |t| {
                        let ago = (now - t).num_seconds().max(0);
                        format!(
                            "{} ({})",
                            t.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
                            ago_words(ago)
                        )
                    },
                ),
                waiting: live.and_then(|l| l.outbox_depth).map_or_else(
                    || "not reported since the server started".to_owned(),
                    |d| d.to_string(),
                ),
                per_minute: f.map_or(0, |f| f.last_minute),
                lag: f
                    .and_then(|f| f.upload_lag_seconds)
                    .map_or_else(|| "no uploads in 5 min".to_owned(), |l| format!("{l:.1} s")),
                post_failures: state.live.station_post_failures(s.id),
            }
        })
        .collect();
    let page = StationsPage {
        saved,
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        stations: &list,
        live: &live,
        orgs: &org_programs,
        new_token,
    };
    Ok(Html(page.render()?).into_response())
}

/// How a station is doing, as the Stations page shows it.
struct Health {
    /// When it last reached the server, in its organization's time, and how long ago.
    last_seen: String,
    /// What it still has to send, as it last reported.
    waiting: String,
    /// Scans that reached the server in the last minute.
    per_minute: i64,
    /// Average time from scan to arrival over the last 5 minutes.
    lag: String,
    /// Post Services that failed since the server started.
    post_failures: u64,
}

/// "12 s ago", "5 min ago", "3 h ago", "2 days ago".
fn ago_words(seconds: i64) -> String {
    match seconds {
        s if s < 90 => format!("{s} s ago"),
        s if s < 90 * 60 => format!("{} min ago", s / 60),
        s if s < 36 * 3600 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}

async fn stations_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<super::SavedQuery>,
) -> WebResult<Response> {
    stations_view(&state, &session, None, super::saved_words(&q.saved)).await
}

async fn add_station(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    let get =
        |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    check_csrf(&session, &get("csrf"))?;
    let org = admin_of(&session.viewer, &get("organization_id"))?;
    let program_ids: Vec<i64> =
        fields.iter().filter(|(k, _)| k == "program").filter_map(|(_, v)| v.parse().ok()).collect();
    let name = get("name");
    let token = audited(&state, session.viewer.user_id, "register_station", move |tx| {
        let (id, token) = stations::insert(tx, org, &name, &program_ids)?;
        Ok((token, format!("station {id}")))
    })
    .await?;
    stations_view(&state, &session, Some(&token), None).await
}

async fn revoke_station(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let orgs = admin_orgs(&session.viewer)?;
    audited(&state, session.viewer.user_id, "revoke_station", move |tx| {
        if !orgs.contains(&stations::organization_of(tx, id)?) {
            return Err(StoreError::NotFound(format!("no station {id}")));
        }
        stations::revoke(tx, id)?;
        Ok(((), format!("station {id}")))
    })
    .await?;
    Ok(Redirect::to("/admin/stations?saved=station_revoked").into_response())
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage<'a> {
    user: &'a str,
    csrf: &'a str,
    me: i64,
    users: &'a [UserLine],
    orgs: &'a [(i64, String)],
    saved: Option<&'static str>,
}

async fn users_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<super::SavedQuery>,
) -> WebResult<Response> {
    let orgs = admin_orgs(&session.viewer)?;
    let (list, names) = state
        .db
        .read(move |conn| {
            let list = users::list_for_orgs(conn, &orgs)?;
            let names = orgs
                .iter()
                .map(|o| orgs::get(conn, *o).map(|x| (x.id, x.name)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, StoreError>((list, names))
        })
        .await??;
    let page = UsersPage {
        saved: super::saved_words(&q.saved),
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        me: session.viewer.user_id,
        users: &list,
        orgs: &names,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct UserForm {
    csrf: String,
    username: String,
    display_name: String,
    password: String,
    organization_id: i64,
    role: String,
}

async fn add_user(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<UserForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    admin_of(&session.viewer, &form.organization_id.to_string())?;
    let role = Role::parse(&form.role)
        .ok_or_else(|| WebError::Invalid("Choose admin, staff or viewer.".into()))?;
    let me = session.viewer.user_id;
    state
        .db
        .transact(move |tx| {
            let id = users::insert(
                tx,
                &form.username,
                &form.display_name,
                &form.password,
                form.organization_id,
                role,
            )?;
            audit::record(
                tx,
                Actor::User(me),
                "add_user",
                None,
                &format!("user {id}"),
                role.as_str(),
            )
        })
        .await??;
    Ok(Redirect::to("/admin/users?saved=user_added").into_response())
}

async fn disable_user(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let orgs = admin_orgs(&session.viewer)?;
    let me = session.viewer.user_id;
    if id == me {
        return Err(WebError::Invalid("You cannot disable your own account.".into()));
    }
    audited(&state, me, "disable_user", move |tx| {
        // An admin may disable only users who belong to no organization outside theirs.
        let theirs = users::organizations_of(tx, id)?;
        if theirs.is_empty() || !theirs.iter().all(|o| orgs.contains(o)) {
            return Err(StoreError::Forbidden(
                "That user also works for another organization.".into(),
            ));
        }
        users::disable(tx, id)?;
        Ok(((), format!("user {id}")))
    })
    .await?;
    Ok(Redirect::to("/admin/users?saved=user_disabled").into_response())
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage<'a> {
    user: &'a str,
    csrf: &'a str,
    events: &'a [EventLine],
    client: Option<i64>,
    zone: chrono_tz::Tz,
}

impl AuditPage<'_> {
    fn when(&self, at: &str) -> String {
        super::wall_clock_text(at, self.zone)
    }
}

#[derive(Deserialize)]
struct AuditQuery {
    client: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<AuditQuery>,
) -> WebResult<Response> {
    let orgs = admin_orgs(&session.viewer)?;
    let client = q.client;
    let viewer = session.viewer.clone();
    let (events, zone) = state
        .db
        .read(move |conn| {
            let events = audit::recent(conn, &orgs, client, 500)?;
            Ok::<_, StoreError>((events, super::viewer_zone(conn, &viewer)?))
        })
        .await??;
    let page = AuditPage {
        zone,
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        events: &events,
        client,
    };
    Ok(Html(page.render()?).into_response())
}
