//! The homeless verification letter from a client's dashboard: a PDF of the nights stayed and
//! the services received per program in a chosen period, from the programs of the viewer's
//! organizations only, signed by the viewer. Each letter made is written to the audit log.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::SignedIn;
use super::{WebError, WebResult, date_field};
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::{ClientId, StoreError, clients, orgs, services};

/// The longest period one letter covers: three years and a month, the look-back of chronic
/// homelessness documentation with room for its edges.
pub const MAX_DAYS: i64 = 3 * 366 + 31;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/clients/{id}/letter.pdf", get(letter))
}

#[derive(Deserialize)]
struct Period {
    from: String,
    to: String,
}

async fn letter(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Period>,
) -> WebResult<Response> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let from = date_field("first day", &q.from)?;
    let to = date_field("last day", &q.to)?;
    if from > to {
        return Err(WebError::Invalid(format!(
            "The first day ({from}) is after the last day ({to})."
        )));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(WebError::Invalid(format!(
            "One letter covers at most {MAX_DAYS} days (three years and a month)."
        )));
    }
    let orgs_seen = session.viewer.org_ids();
    let user = session.viewer.user_id;
    let signed_by = session.viewer.display_name.clone();
    let now = state.clock.now();
    let pdf = state
        .db
        .transact(move |tx| {
            let client = clients::get_visible(tx, &orgs_seen, ClientId(id))?;
            let org = orgs::get(tx, client.organization_id)?;
            let (phone, address) = orgs::contact(tx, client.organization_id)?;
            let signed_on = orgs::today(tx, client.organization_id, now)?;
            let history = services::stay_history(tx, ClientId(id), &orgs_seen, from, to)?;
            let name = if client.preferred_name.is_empty() {
                format!("{} {}", client.first_name, client.last_name)
            } else {
                format!("{} ({}) {}", client.first_name, client.preferred_name, client.last_name)
            };
            let pdf = crate::letter::render(&crate::letter::Letter {
                agency: &org.name,
                return_address: &address,
                phone: &phone,
                client_name: &name,
                client_number: client.client_number,
                dob: client.dob,
                from,
                to,
                signed_on,
                signed_by: &signed_by,
                history: &history,
            });
            audit::record(
                tx,
                Actor::User(user),
                "verification_letter",
                Some(id),
                &format!("{from} to {to}"),
                "",
            )?;
            Ok::<_, StoreError>((pdf, client.client_number))
        })
        .await??;
    let (pdf, number) = pdf;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"verification-{number}-{from}-{to}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
