//! Quick Services for multiple clients (the seeds' "Quick Services – Multiple Clients"): choose
//! a service and a date, tick the clients with an open enrollment, save. Each ticked client gets
//! the service or a reason why not (already served that day, no longer enrolled); one refusal
//! does not undo the others. The list marks who already has the chosen service that day, the
//! page answers with the same list and last-name filter after saving, and Save services with
//! nobody ticked brings the list back with a message instead of an error page. Select all and
//! Select none are `static/quick.js`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;

use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult};
use crate::state::AppState;
use crate::store::ProgramId;
use crate::store::audit::{self, Actor};
use crate::store::enrollments::{self, EnrolledClient};
use crate::store::services::{self, NewService};
use crate::store::{StoreError, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/quick-services", get(page).post(save))
}

/// Most clients listed at once; a last-name filter narrows bigger programs.
const LIST_LIMIT: usize = 300;

/// One client on the list: enrolled on the date, with how often they already have the chosen
/// service that day.
struct Listed {
    client: EnrolledClient,
    /// Services of the chosen type on the date, posted or accepted and waiting to post.
    served: u32,
    /// Served as often as the service type allows in a day: saving would be refused.
    full: bool,
}

#[derive(Template)]
#[template(path = "quick.html")]
struct QuickPage<'a> {
    user: &'a str,
    csrf: &'a str,
    choices: &'a [(String, String)],
    service: &'a str,
    date: NaiveDate,
    /// Whether `date` is the viewer's today, so the page can say "today".
    is_today: bool,
    last: &'a str,
    clients: &'a [Listed],
    results: &'a [(String, String)],
    /// Every ticked client got the service.
    all_added: bool,
    /// A problem with what was sent, shown above the form (nothing was saved).
    problem: &'a str,
}

#[derive(Deserialize, Default)]
struct QuickQuery {
    #[serde(default)]
    service: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    last: String,
}

/// `program:service type` choices in the organizations where the viewer may record services.
fn parse_service(s: &str) -> Option<(i64, i64)> {
    let (p, t) = s.split_once(':')?;
    Some((p.parse().ok()?, t.parse().ok()?))
}

async fn render(
    state: &AppState,
    session: &crate::store::sessions::Session,
    q: &QuickQuery,
    results: &[(String, String)],
    problem: &str,
) -> WebResult<Response> {
    let viewer = session.viewer.clone();
    let service = q.service.clone();
    let date_text = q.date.clone();
    let last = q.last.trim().to_owned();
    let now = state.clock.now();
    let (choices, clients, date, today) = state
        .db
        .read(move |conn| {
            let (choices, _) = super::service_choices(conn, &viewer)?;
            let today = super::viewer_today(conn, &viewer, now)?;
            let date = super::date_field("date", &date_text).unwrap_or(today);
            // Only a service the viewer may record is listed for: the choices are exactly those.
            let chosen = parse_service(&service)
                .filter(|_| choices.iter().any(|(value, _)| *value == service));
            let clients = match chosen {
                Some((program, service_type)) => {
                    let max = programs::get_service_type(conn, service_type)?.max_per_day;
                    let served = services::served_on(conn, program, service_type, date)?;
                    enrollments::open_on(conn, program, date, &viewer.org_ids(), &last, LIST_LIMIT)?
                        .into_iter()
                        .map(|client| {
                            let served = served.get(&client.client_id).copied().unwrap_or(0);
                            Listed { client, served, full: max > 0 && served >= max }
                        })
                        .collect()
                }
                None => Vec::new(),
            };
            Ok::<_, StoreError>((choices, clients, date, today))
        })
        .await??;
    if choices.is_empty() {
        return Err(WebError::Forbidden("Your role may not record services.".into()));
    }
    let page = QuickPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        choices: &choices,
        service: &q.service,
        date,
        is_today: date == today,
        last: q.last.trim(),
        clients: &clients,
        all_added: results.iter().all(|(_, what)| what == "added"),
        results,
        problem,
    };
    Ok(Html(page.render()?).into_response())
}

async fn page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<QuickQuery>,
) -> WebResult<Response> {
    render(&state, &session, &q, &[], "").await
}

/// What the page says when Save services was pressed with nobody ticked.
const NOBODY_TICKED: &str = "Nobody was ticked, so nothing was saved. Tick the box beside each \
                             client who was served (or use Select all), then press Save services.";

/// The Quick Services form: one `client` field per ticked client.
#[derive(Deserialize)]
struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    date: String,
    /// The last-name filter the list was shown with, kept for the page that answers.
    #[serde(default)]
    last: String,
    #[serde(default)]
    client: Vec<String>,
}

async fn save(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    axum_extra::extract::Form(form): axum_extra::extract::Form<SaveForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let (program_id, service_type_id) = parse_service(&form.service)
        .ok_or_else(|| WebError::Invalid("Choose a service.".into()))?;
    let date = super::date_field("date", &form.date)?;
    let picked: Vec<i64> = form.client.iter().filter_map(|v| v.parse().ok()).collect();
    if picked.is_empty() {
        // The same list comes back, filter and all, with what to do: nothing was saved.
        let q = QuickQuery { service: form.service, date: date.to_string(), last: form.last };
        return render(&state, &session, &q, &[], NOBODY_TICKED).await;
    }
    let viewer = session.viewer.clone();
    let as_of = state.clock.now();
    let results = state
        .db
        .transact(move |tx| {
            // One IMMEDIATE transaction reads who is enrolled and writes the services, so
            // nothing changes between the two; each client's service sits in its own savepoint,
            // so one refusal does not undo the others.
            let program = programs::get_rules(tx, ProgramId(program_id))?;
            if !viewer.may_change(program.organization_id) {
                return Err(StoreError::Forbidden(
                    "Your role may not record services in this program.".into(),
                ));
            }
            let enrolled =
                enrollments::open_on(tx, program_id, date, &viewer.org_ids(), "", usize::MAX)?;
            let mut out = Vec::new();
            for client in picked {
                let Some(e) = enrolled.iter().find(|e| e.client_id == client) else {
                    out.push((
                        format!("client {client}"),
                        "not enrolled in this program on that date".to_owned(),
                    ));
                    continue;
                };
                let sp = tx.savepoint()?;
                let added = services::add(
                    &sp,
                    &NewService {
                        client_id: client,
                        enrollment_id: e.enrollment_id,
                        service_type_id,
                        date,
                        units: 1.0,
                        user_id: viewer.user_id,
                    },
                    as_of,
                )
                .and_then(|id| {
                    audit::record(
                        &sp,
                        Actor::User(viewer.user_id),
                        "add_service",
                        Some(client),
                        &format!("service {id}"),
                        "quick services",
                    )
                });
                match added {
                    Ok(()) => {
                        sp.commit()?;
                        out.push((e.name.clone(), "added".to_owned()));
                    }
                    Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
                        out.push((e.name.clone(), m));
                    }
                    Err(other) => return Err(other),
                }
            }
            Ok(out)
        })
        .await?;
    let results = match results {
        Ok(r) => r,
        Err(StoreError::Forbidden(m)) => return Err(WebError::Forbidden(m)),
        Err(e) => return Err(e.into()),
    };
    let q = QuickQuery { service: form.service, date: date.to_string(), last: form.last };
    render(&state, &session, &q, &results, "").await
}
