//! Intake: add a client (with a warning when someone alike is already on file), enroll a client
//! in a program, and exit an enrollment. Staff and admins of the organization only; viewers
//! are refused on the server, not just shown fewer buttons.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::auth::{SignedIn, check_csrf};
use super::{WebError, WebResult, date_field};
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::clients::{self, NewClient};
use crate::store::duplicates::{self, Candidate};
use crate::store::sessions::Viewer;
use crate::store::users::Role;
use crate::store::{ClientId, ProgramId};
use crate::store::{StoreError, enrollments, programs};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clients/new", get(new_client_page).post(add_client))
        .route("/clients/{id}/enroll", post(enroll))
        .route("/enrollments/{id}/exit", post(exit))
        .route("/clients/{id}/services", post(add_service))
        .route("/services/{id}/delete", post(delete_service))
        .route("/clients/{id}/cards", post(issue_card))
        .route("/cards/{id}/revoke", post(revoke_card))
}

#[derive(Deserialize)]
struct IssueForm {
    csrf: String,
    #[serde(default)]
    expires: String,
}

/// Issues a Scanline card; a reprint replaces the client's earlier card, which then scans as
/// "Replaced card" at every station after its next roster sync.
async fn issue_card(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<IssueForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let client_id: ClientId = id.parse().map_err(|_| WebError::NotFound)?;
    let expires = match form.expires.trim() {
        "" => None,
        d => Some(date_field("expiry", d)?),
    };
    let viewer = session.viewer.clone();
    state
        .db
        .transact(move |tx| {
            let client = clients::get_visible(tx, &viewer.org_ids(), client_id)?;
            if !writable_orgs(&viewer).contains(&client.organization_id) {
                return Err(StoreError::Forbidden("Your role may not issue cards.".into()));
            }
            let (card, _) = crate::store::cards::issue_scanline(tx, client_id.0, expires)?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "issue_card",
                Some(client_id.0),
                &format!("card {card}"),
                "",
            )
        })
        .await??;
    Ok(Redirect::to(&format!("/clients/{client_id}?saved=card_issued#h-cards")).into_response())
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
    reason: String,
}

/// Reports a card lost: it no longer resolves anywhere.
async fn revoke_card(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let card_id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let viewer = session.viewer.clone();
    let client_id = state
        .db
        .transact(move |tx| {
            let client_id = crate::store::cards::client_of(tx, card_id)?;
            let client =
                clients::get_visible(tx, &viewer.org_ids(), crate::store::ClientId(client_id))?;
            if !writable_orgs(&viewer).contains(&client.organization_id) {
                return Err(StoreError::Forbidden("Your role may not change cards.".into()));
            }
            crate::store::cards::revoke(tx, card_id, &form.reason)?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "revoke_card",
                Some(client_id),
                &format!("card {card_id}"),
                "",
            )?;
            Ok(client_id)
        })
        .await??;
    Ok(Redirect::to(&format!("/clients/{client_id}?saved=card_revoked#h-cards")).into_response())
}

#[derive(Deserialize)]
struct ServiceForm {
    csrf: String,
    /// `enrollment_id:service_type_id`, as the dashboard's choice list gives it.
    service: String,
    date: String,
    #[serde(default)]
    units: Option<String>,
}

async fn add_service(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ServiceForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let client_id: ClientId = id.parse().map_err(|_| WebError::NotFound)?;
    let (enrollment_id, service_type_id) = form
        .service
        .split_once(':')
        .and_then(|(e, t)| Some((e.parse::<i64>().ok()?, t.parse::<i64>().ok()?)))
        .ok_or_else(|| WebError::Invalid("Choose a service.".into()))?;
    let date = date_field("date", &form.date)?;
    let units = match form.units.as_deref().map(str::trim) {
        None | Some("") => 1.0,
        Some(u) => {
            u.parse::<f64>().map_err(|_| WebError::Invalid("Units must be a number.".into()))?
        }
    };
    let viewer = session.viewer.clone();
    let as_of = state.clock.now();
    let result = state
        .db
        .transact(move |tx| {
            clients::get_visible(tx, &viewer.org_ids(), client_id)?;
            let e = enrollments::get(tx, enrollment_id)?;
            let program = programs::get_rules(tx, ProgramId(e.program_id))?;
            if !writable_orgs(&viewer).contains(&program.organization_id) {
                return Err(StoreError::Forbidden(
                    "Your role may not add services in this program.".into(),
                ));
            }
            let sid = crate::store::services::add(
                tx,
                &crate::store::services::NewService {
                    client_id: client_id.0,
                    enrollment_id,
                    service_type_id,
                    date,
                    units,
                    user_id: viewer.user_id,
                },
                as_of,
            )?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "add_service",
                Some(client_id.0),
                &format!("service {sid}"),
                &date.to_string(),
            )
        })
        .await?;
    result?;
    Ok(Redirect::to(&format!("/clients/{client_id}?saved=service_added#h-services"))
        .into_response())
}

#[derive(Deserialize)]
struct DeleteForm {
    csrf: String,
    reason: String,
}

/// Soft-deletes a service: admins of the program's organization only, with a reason.
async fn delete_service(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let service_id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let viewer = session.viewer.clone();
    let result = state
        .db
        .transact(move |tx| {
            let owner = crate::store::services::owner(tx, service_id)?;
            let client_id = owner.client.0;
            clients::get_visible(tx, &viewer.org_ids(), owner.client)?;
            let program = programs::get_rules(tx, owner.program)?;
            if viewer.role_in(program.organization_id) != Some(Role::Admin) {
                return Err(StoreError::Forbidden(
                    "Only an admin of the program's organization may delete a service.".into(),
                ));
            }
            crate::store::services::soft_delete(tx, service_id, viewer.user_id, &form.reason)?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "delete_service",
                Some(client_id),
                &format!("service {service_id}"),
                "",
            )?;
            Ok(client_id)
        })
        .await?;
    let client = result?;
    Ok(Redirect::to(&format!("/clients/{client}?saved=service_deleted#h-services")).into_response())
}

/// Organizations where the viewer may change records.
fn writable_orgs(v: &Viewer) -> Vec<i64> {
    v.writable_orgs()
}

fn require_write(v: &Viewer, org: i64) -> WebResult<()> {
    if writable_orgs(v).contains(&org) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Your role may look at records of this organization but not change them.".into(),
        ))
    }
}

#[derive(Template)]
#[template(path = "client_new.html")]
struct NewClientPage<'a> {
    user: &'a str,
    csrf: &'a str,
    orgs: &'a [(i64, String)],
    form: &'a ClientForm,
    error: &'a str,
    duplicates: &'a [Candidate],
}

#[derive(Debug, Default, Deserialize)]
struct ClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    organization_id: i64,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    preferred_name: String,
    #[serde(default)]
    dob: String,
    #[serde(default)]
    ssn: String,
    #[serde(default)]
    restricted: Option<String>,
    /// Set by "Add anyway" after the duplicate warning.
    #[serde(default)]
    confirm: Option<String>,
}

async fn org_names(state: &AppState, ids: Vec<i64>) -> WebResult<Vec<(i64, String)>> {
    Ok(state
        .db
        .read(move |conn| {
            ids.iter()
                .map(|&id| crate::store::orgs::get(conn, id).map(|o| (o.id, o.name)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await??)
}

fn render_new(
    session: &crate::store::sessions::Session,
    orgs: &[(i64, String)],
    form: &ClientForm,
    error: &str,
    duplicates: &[Candidate],
) -> WebResult<Response> {
    let page = NewClientPage {
        user: &session.viewer.display_name,
        csrf: &session.csrf_token,
        orgs,
        form,
        error,
        duplicates,
    };
    Ok(Html(page.render()?).into_response())
}

async fn new_client_page(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> WebResult<Response> {
    let writable = writable_orgs(&session.viewer);
    if writable.is_empty() {
        return Err(WebError::Forbidden("Your role may not add clients.".into()));
    }
    let orgs = org_names(&state, writable).await?;
    render_new(&session, &orgs, &ClientForm::default(), "", &[])
}

async fn add_client(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<ClientForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    require_write(&session.viewer, form.organization_id)?;
    let orgs = org_names(&state, writable_orgs(&session.viewer)).await?;
    let dob = match form.dob.trim() {
        "" => None,
        d => match date_field("date of birth", d) {
            Ok(d) => Some(d),
            Err(WebError::Invalid(m)) => return render_new(&session, &orgs, &form, &m, &[]),
            Err(e) => return Err(e),
        },
    };
    let ssn: String = form.ssn.chars().filter(char::is_ascii_digit).collect();
    let new = NewClient {
        organization_id: form.organization_id,
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        preferred_name: form.preferred_name.clone(),
        dob,
        ssn: (!ssn.is_empty()).then_some(ssn),
        restricted: form.restricted.is_some(),
        ..NewClient::default()
    };
    let viewer_orgs = session.viewer.org_ids();
    let user = session.viewer.user_id;
    let confirmed = form.confirm.is_some();
    let outcome = state
        .db
        .transact(move |tx| {
            if !confirmed {
                let dups = duplicates::likely(tx, &viewer_orgs, &new)?;
                if !dups.is_empty() {
                    return Ok(Err(dups));
                }
            }
            let (id, _) = clients::insert(tx, &new)?;
            audit::record(
                tx,
                Actor::User(user),
                "create_client",
                Some(id.0),
                "",
                if confirmed { "added despite a duplicate warning" } else { "" },
            )?;
            Ok::<_, StoreError>(Ok(id))
        })
        .await?;
    match outcome {
        Ok(Ok(id)) => Ok(Redirect::to(&format!("/clients/{id}?saved=added")).into_response()),
        Ok(Err(dups)) => render_new(&session, &orgs, &form, "", &dups),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            render_new(&session, &orgs, &form, &m, &[])
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct EnrollForm {
    csrf: String,
    program_id: i64,
    entry_date: String,
    /// Up to three household members entering with the head: client number and HUD
    /// RelationshipToHoH (2 child, 3 spouse or partner, 4 other relative, 5 other).
    #[serde(default)]
    member1: String,
    #[serde(default)]
    relationship1: Option<u8>,
    #[serde(default)]
    member2: String,
    #[serde(default)]
    relationship2: Option<u8>,
    #[serde(default)]
    member3: String,
    #[serde(default)]
    relationship3: Option<u8>,
}

impl EnrollForm {
    /// The household members given, as (client number, relationship).
    fn members(&self) -> WebResult<Vec<(u32, u8)>> {
        let mut out = Vec::new();
        for (number, rel) in [
            (&self.member1, self.relationship1),
            (&self.member2, self.relationship2),
            (&self.member3, self.relationship3),
        ] {
            let number = number.trim().trim_start_matches('#');
            if number.is_empty() {
                continue;
            }
            let n: u32 = number
                .parse()
                .map_err(|_| WebError::Invalid(format!("{number:?} is not a client number.")))?;
            let rel = rel.filter(|r| (2..=5).contains(r)).ok_or_else(|| {
                WebError::Invalid("Give each household member's relationship to the head.".into())
            })?;
            out.push((n, rel));
        }
        Ok(out)
    }
}

async fn enroll(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EnrollForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let client_id: ClientId = id.parse().map_err(|_| WebError::NotFound)?;
    let entry_date = date_field("entry date", &form.entry_date)?;
    let members = form.members()?;
    let viewer = session.viewer.clone();
    let result = state
        .db
        .transact(move |tx| {
            clients::get_visible(tx, &viewer.org_ids(), client_id)?;
            // The whole household enters together, or nobody does.
            let household = uuid::Uuid::new_v4().to_string();
            let program = programs::get_rules(tx, ProgramId(form.program_id))?;
            if !writable_orgs(&viewer).contains(&program.organization_id) {
                return Err(StoreError::Forbidden(
                    "Your role may not enroll clients in this program.".into(),
                ));
            }
            let e = enrollments::insert(
                tx,
                &enrollments::NewEnrollment {
                    client_id: client_id.0,
                    program_id: program.id,
                    entry_date,
                    household_id: Some(household.clone()),
                    relationship_to_hoh: 1,
                },
            )?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "enroll",
                Some(client_id.0),
                &format!("enrollment {e}"),
                &format!("program {}, head of household", program.id),
            )?;
            for (number, relationship) in &members {
                let member = clients::resolve(tx, &format!("#{number}"))?;
                clients::get_visible(tx, &viewer.org_ids(), member)?;
                if member == client_id {
                    return Err(StoreError::Invalid(
                        "The head of household is already enrolled.".into(),
                    ));
                }
                let m = enrollments::insert(
                    tx,
                    &enrollments::NewEnrollment {
                        client_id: member.0,
                        program_id: program.id,
                        entry_date,
                        household_id: Some(household.clone()),
                        relationship_to_hoh: *relationship,
                    },
                )?;
                audit::record(
                    tx,
                    Actor::User(viewer.user_id),
                    "enroll",
                    Some(member.0),
                    &format!("enrollment {m}"),
                    &format!("program {}, relationship {relationship}", program.id),
                )?;
            }
            Ok(())
        })
        .await?;
    result?;
    Ok(Redirect::to(&format!("/clients/{client_id}?saved=enrolled#h-enrollments")).into_response())
}

#[derive(Deserialize)]
struct ExitForm {
    csrf: String,
    exit_date: String,
    destination: u16,
}

async fn exit(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ExitForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let enrollment_id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let exit_date = date_field("exit date", &form.exit_date)?;
    let viewer = session.viewer.clone();
    let result = state
        .db
        .transact(move |tx| {
            let e = enrollments::get(tx, enrollment_id)?;
            clients::get_visible(tx, &viewer.org_ids(), ClientId(e.client_id))?;
            let program = programs::get_rules(tx, ProgramId(e.program_id))?;
            if !writable_orgs(&viewer).contains(&program.organization_id) {
                return Err(StoreError::Forbidden(
                    "Your role may not exit clients from this program.".into(),
                ));
            }
            enrollments::exit(tx, enrollment_id, exit_date, form.destination)?;
            audit::record(
                tx,
                Actor::User(viewer.user_id),
                "exit",
                Some(e.client_id),
                &format!("enrollment {enrollment_id}"),
                &format!("destination {}", form.destination),
            )?;
            Ok(e.client_id)
        })
        .await?;
    let client = result?;
    Ok(Redirect::to(&format!("/clients/{client}?saved=exited#h-enrollments")).into_response())
}
