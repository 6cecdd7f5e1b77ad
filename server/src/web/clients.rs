//! Find client (first letters of first and last name, date of birth, SSN last 4, client number
//! or a card scanned into the search box) and the client dashboard. Restricted clients outside
//! the viewer's organizations are never returned, by search or by URL; every search and every
//! dashboard view is written to the audit log.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult};
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::clients::{self, ClientQuery, ClientRow, ClientSummary, Dashboard};
use crate::store::programs;
use crate::store::users::Role;
use crate::store::{ClientId, ProgramId};

/// Most results a search shows.
const MAX_RESULTS: usize = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(find))
        .route("/clients/{id}", get(dashboard))
        .route("/clients/{id}/hmis", post(set_client_hmis_id))
        .route("/enrollments/{id}/hmis", post(set_enrollment_hmis_id))
}

#[derive(Template)]
#[template(path = "clients.html")]
struct FindPage<'a> {
    user: &'a str,
    csrf: &'a str,
    q: &'a str,
    searched: bool,
    results: &'a [ClientSummary],
    more: bool,
}

#[derive(Deserialize)]
struct FindQuery {
    #[serde(default)]
    q: String,
}

async fn find(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(query): Query<FindQuery>,
) -> WebResult<Response> {
    let q: String = query.q.chars().take(64).collect();
    let parsed = ClientQuery::parse(&q);
    let orgs = session.viewer.org_ids();
    let user = session.viewer.user_id;
    let results = match parsed {
        None => Vec::new(),
        Some(parsed) => {
            // The query itself may be a name or an SSN: only its kind and the count go to the
            // audit log.
            let kind = match parsed {
                ClientQuery::Names { .. } => "name",
                ClientQuery::Dob(_) => "date of birth",
                ClientQuery::Ssn4(_) => "SSN last 4",
                ClientQuery::Number(_) => "client number",
                ClientQuery::Card(_) => "card",
            };
            // Searched on a reader; only the audit row waits for the writer.
            let found = state
                .db
                .read(move |conn| clients::search(conn, &orgs, &parsed, MAX_RESULTS + 1))
                .await??;
            let counted = format!("{} results", found.len());
            state
                .db
                .transact(move |tx| {
                    audit::record(tx, Actor::User(user), "search_clients", None, kind, &counted)
                })
                .await??;
            found
        }
    };
    // A card scanned into the box opens that client at once, as at the front desk.
    if let (Some(ClientQuery::Card(code)), [only]) = (ClientQuery::parse(&q), results.as_slice()) {
        // The dashboard says so when the scanned card was replaced or revoked.
        let to = format!("/clients/{}?scanned={}", only.id, urlencoding(&code));
        return Ok(axum::response::Redirect::to(&to).into_response());
    }
    let more = results.len() > MAX_RESULTS;
    let shown = &results[..results.len().min(MAX_RESULTS)];
    let page = FindPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        q: &q,
        searched: !q.trim().is_empty(),
        results: shown,
        more,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "client.html")]
struct DashboardPage<'a> {
    user: &'a str,
    csrf: &'a str,
    client: &'a ClientRow,
    d: &'a Dashboard,
    /// Programs the viewer may enroll clients in.
    programs: &'a [(i64, String)],
    /// `enrollment:service type` choices for adding a service, with their labels.
    service_choices: &'a [(String, String)],
    /// The recent services, each with whether this viewer may delete it.
    services: &'a [(&'a clients::ServiceLine, bool)],
    can_write: bool,
    today: chrono::NaiveDate,
    /// Printers of the client's organization, for printing a card.
    printers: &'a [(i64, String)],
    /// Whether the viewer may change the client's own record (its HMIS client ID).
    may_change_client: bool,
    /// The enrollments, each with whether the viewer may change it (its HMIS enrollment ID).
    enrollments: &'a [(&'a clients::EnrollmentLine, bool)],
    /// The strip at the top: today's bars, services, open enrollments and card.
    strip: &'a Strip<'a>,
    /// What the last change saved, in words.
    saved: Option<&'static str>,
    /// The client's alerts of the viewer's organizations.
    alerts: &'a [crate::store::alerts::AlertLine],
    /// Where the viewer may add an alert: (organization, its name, its programs).
    alert_orgs: &'a [AlertOrg],
    alert_kinds: &'a [(&'static str, &'static str)],
    /// The verification letter's default first day: three years before today.
    letter_from: chrono::NaiveDate,
    /// HUD's exit destinations (3.12), in HUD's groups.
    destinations: &'a [(&'static str, Vec<(i32, &'static str)>)],
}

/// HUD's Destination list (3.12) in the groups HUD puts it in, by the hundreds of its codes.
fn destination_groups() -> Vec<(&'static str, Vec<(i32, &'static str)>)> {
    let groups = [
        (1, "Homeless situations"),
        (2, "Institutional situations"),
        (3, "Temporary housing situations"),
        (4, "Permanent housing situations"),
        (0, "Other"),
    ];
    groups
        .into_iter()
        .map(|(hundreds, name)| {
            let values = crate::hmis::model::codes::DESTINATION
                .values
                .iter()
                .filter(|(code, _)| code / 100 == hundreds)
                .copied()
                .collect();
            (name, values)
        })
        .collect()
}

impl DashboardPage<'_> {
    /// Whether the viewer may change the alerts of `org`.
    fn may_change_alerts_of(&self, org: i64) -> bool {
        self.alert_orgs.iter().any(|(o, _, _)| *o == org)
    }
}

/// An organization where the viewer may add alerts: its id, its name and its programs.
type AlertOrg = (i64, String, Vec<(i64, String)>);

/// What the front desk needs first, above everything else on the dashboard.
struct Strip<'a> {
    bars: Vec<&'a clients::BarLine>,
    served: Vec<&'a clients::ServiceLine>,
    open: Vec<&'a clients::EnrollmentLine>,
    /// The card the client should be carrying, and its state, in words.
    card: String,
    card_ok: bool,
    /// A scanned card that no longer works, said as such.
    scanned: Option<String>,
}

impl<'a> Strip<'a> {
    fn new(d: &'a Dashboard, today: chrono::NaiveDate, scanned: &str) -> Self {
        let current = d.cards.iter().find(|c| c.state == "active");
        let (card, card_ok) = match (current, d.cards.first()) {
            (Some(c), _) => (format!("Card {} works", c.code), true),
            (None, Some(c)) => {
                (format!("No working card: the last one, {}, is {}", c.code, c.state), false)
            }
            (None, None) => ("No card issued yet".to_owned(), false),
        };
        let scanned = d.cards.iter().find(|c| c.code == scanned && c.state != "active").map(|c| {
            let why = if c.revoked_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.revoked_reason)
            };
            format!("The card just scanned, {}, is {}{why}: it no longer works.", c.code, c.state)
        });
        Self {
            bars: d.bars.iter().filter(|b| b.holds_on(today)).collect(),
            served: d.services.iter().filter(|s| s.date == today && !s.deleted).collect(),
            open: d.enrollments.iter().filter(|e| e.exit_date.is_none()).collect(),
            card,
            card_ok,
            scanned,
        }
    }
}

/// The dashboard's address: what was just saved, and a card scanned into Find client.
#[derive(Deserialize)]
struct DashboardQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    scanned: String,
}

async fn dashboard(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> WebResult<Response> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let orgs = session.viewer.org_ids();
    let writable = session.viewer.writable_orgs();
    let user = session.viewer.user_id;
    let admin_orgs: Vec<i64> = session
        .viewer
        .memberships
        .iter()
        .filter(|(_, r)| *r == Role::Admin)
        .map(|(o, _)| *o)
        .collect();
    let now = state.clock.now();
    let (client, d, programs, today, choices, deletable, printer_list, alert_list, alert_orgs) =
        state
            .db
            .snapshot(move |conn| {
                let client = clients::get_visible(conn, &orgs, ClientId(id))?;
                // Form defaults are the organization's date, not the server's.
                let zone = crate::store::orgs::time_zone(conn, client.organization_id)?;
                let today = now.with_timezone(&zone).date_naive();
                let d = clients::dashboard(conn, ClientId(id), &orgs, zone, today)?;
                let mut programs = Vec::new();
                let mut alert_orgs = Vec::new();
                for org in &writable {
                    let ps: Vec<(i64, String)> = programs::list_for_org(conn, *org)?
                        .into_iter()
                        .map(|p| (p.id, p.name))
                        .collect();
                    programs.extend(ps.iter().cloned());
                    alert_orgs.push((*org, crate::store::orgs::get(conn, *org)?.name, ps));
                }
                // A service can be added to an open enrollment in a program the viewer may change.
                let mut choices = Vec::new();
                for e in d.enrollments.iter().filter(|e| e.exit_date.is_none()) {
                    if !programs.iter().any(|(id, _)| *id == e.program_id) {
                        continue;
                    }
                    for st in programs::service_types_of(conn, &[e.program_id])? {
                        choices.push((
                            format!("{}:{}", e.id, st.id),
                            format!("{} — {}", e.program, st.name),
                        ));
                    }
                }
                let mut deletable = Vec::new();
                for s in &d.services {
                    let org = programs::get_rules(conn, ProgramId(s.program_id))?.organization_id;
                    deletable.push(!s.deleted && admin_orgs.contains(&org));
                }
                let printer_list: Vec<(i64, String)> =
                    crate::store::printers::list_for_orgs(conn, &[client.organization_id])?
                        .into_iter()
                        .map(|p| (p.id, p.name))
                        .collect();
                let alert_list = crate::store::alerts::for_client(conn, ClientId(id), &orgs)?;
                Ok::<_, crate::store::StoreError>((
                    client,
                    d,
                    programs,
                    today,
                    choices,
                    deletable,
                    printer_list,
                    alert_list,
                    alert_orgs,
                ))
            })
            .await??;
    // Read on a reader in one moment of the database; the view is audited before it is shown.
    state
        .db
        .transact(move |tx| {
            audit::record(tx, Actor::User(user), "view_client", Some(id), "dashboard", "")
        })
        .await??;
    let strip = Strip::new(&d, today, q.scanned.trim());
    let page = DashboardPage {
        strip: &strip,
        alerts: &alert_list,
        alert_orgs: &alert_orgs,
        alert_kinds: &scanline_core::domain::AlertKind::ALL.map(|k| (k.as_str(), k.label())),
        letter_from: today.checked_sub_months(chrono::Months::new(36)).unwrap_or(today),
        destinations: &destination_groups(),
        saved: super::saved_words(&q.saved),
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        client: &client,
        d: &d,
        can_write: !programs.is_empty(),
        programs: &programs,
        service_choices: &choices,
        services: &d.services.iter().zip(deletable.iter().copied()).collect::<Vec<_>>(),
        today,
        printers: &printer_list,
        may_change_client: session.viewer.may_change(client.organization_id),
        enrollments: &d
            .enrollments
            .iter()
            .map(|e| (e, session.viewer.may_change(e.organization_id)))
            .collect::<Vec<_>>(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct HmisIdForm {
    csrf: String,
    #[serde(default)]
    hmis_id: String,
}

/// Records the client's ID in the HMIS (empty clears it), for the ClientTrack upload and the
/// HUD export.
async fn set_client_hmis_id(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HmisIdForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let value = clients::hmis_id("The HMIS client ID", &form.hmis_id)?;
    let viewer = session.viewer.clone();
    state
        .db
        .transact(move |tx| {
            let client = clients::get_visible(tx, &viewer.org_ids(), ClientId(id))?;
            if !viewer.may_change(client.organization_id) {
                return Err(crate::store::StoreError::Forbidden(
                    "Your role may not change this client's records.".into(),
                ));
            }
            clients::set_hmis_id(tx, ClientId(id), value.as_deref())?;
            let detail = value.as_deref().unwrap_or("cleared");
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "set_hmis_client_id",
                Some(id),
                detail,
                "",
            )
        })
        .await??;
    Ok(axum::response::Redirect::to(&format!("/clients/{id}?saved=hmis#h-hmis")).into_response())
}

/// Records an enrollment's ID in the HMIS (empty clears it).
async fn set_enrollment_hmis_id(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<HmisIdForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let value = clients::hmis_id("The HMIS enrollment ID", &form.hmis_id)?;
    let viewer = session.viewer.clone();
    let client = state
        .db
        .transact(move |tx| {
            let e = crate::store::enrollments::get(tx, id)?;
            clients::get_visible(tx, &viewer.org_ids(), ClientId(e.client_id))?;
            let org = programs::get_rules(tx, ProgramId(e.program_id))?.organization_id;
            if !viewer.may_change(org) {
                return Err(crate::store::StoreError::Forbidden(
                    "Your role may not change this program's enrollments.".into(),
                ));
            }
            crate::store::enrollments::set_hmis_id(tx, id, value.as_deref())?;
            let detail = format!("enrollment {id}: {}", value.as_deref().unwrap_or("cleared"));
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "set_hmis_enrollment_id",
                Some(e.client_id),
                &detail,
                "",
            )?;
            Ok(e.client_id)
        })
        .await??;
    Ok(axum::response::Redirect::to(&format!(
        "/clients/{client}?saved=enrollment_hmis#h-enrollments"
    ))
    .into_response())
}

/// A card code for an address: its letters and digits pass, anything else is left out (codes
/// are normalised to those already).
fn urlencoding(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).collect()
}
