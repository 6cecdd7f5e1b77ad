//! Client photos on the staff pages: the picture comes from the webcam in the browser (Use this
//! image / Retake) or from a file, is sent as the request body with the page's CSRF token in a
//! header, and is checked and re-encoded by `crate::photo` before anything is stored. Photos
//! are served only to signed-in staff who may see the client, never cached, never sniffed.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;

use super::auth::{SignedIn, check_csrf};
use super::{CsrfForm, WebError, WebResult};
use crate::photo::{self, MAX_UPLOAD_BYTES};
use crate::state::AppState;
use crate::store::ClientId;
use crate::store::audit::{self, Actor};
use crate::store::{StoreError, clients, photos};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/clients/{id}/photo",
            get(full).post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 1024)),
        )
        .route("/clients/{id}/photo/thumbnail", get(thumbnail))
        .route("/clients/{id}/photo/remove", post(remove))
}

/// Loads a photo of a client the viewer may see.
async fn serve(
    state: &AppState,
    viewer_orgs: Vec<i64>,
    id: &str,
    thumb: bool,
) -> WebResult<Response> {
    let id: ClientId = id.parse().map_err(|_| WebError::NotFound)?;
    let bytes = state
        .db
        .read(move |conn| {
            clients::get_visible(conn, &viewer_orgs, id)?;
            photos::current(conn, id, thumb)
        })
        .await??
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}

async fn full(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    serve(&state, session.viewer.org_ids(), &id, false).await
}

async fn thumbnail(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> WebResult<Response> {
    serve(&state, session.viewer.org_ids(), &id, true).await
}

/// Stores a new photo. Answers JSON `{"ok": true}` or `{"error": "..."}` with a 4xx status.
async fn upload(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refuse = |status: StatusCode, message: String| {
        (status, Json(json!({"error": message}))).into_response()
    };
    let csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if check_csrf(&session, csrf).is_err() {
        return refuse(StatusCode::FORBIDDEN, "The page expired: reload it and try again.".into());
    }
    let Ok(id) = id.parse::<ClientId>() else {
        return refuse(StatusCode::NOT_FOUND, "No such client.".into());
    };
    let orgs = session.viewer.org_ids();
    let user = session.viewer.user_id;
    let allowed = session.viewer.writable_orgs();
    // Who may change this photo is settled before a byte of the picture is decoded: a viewer,
    // or a request for a client out of sight, costs nothing.
    let (o, a) = (orgs.clone(), allowed.clone());
    match state.db.read(move |conn| may_change_photo(conn, &o, &a, id.0)).await {
        Ok(Ok(())) => {}
        Ok(Err(StoreError::NotFound(_))) => {
            return refuse(StatusCode::NOT_FOUND, "No such client.".into());
        }
        Ok(Err(StoreError::Forbidden(m))) => return refuse(StatusCode::FORBIDDEN, m),
        Ok(Err(e)) => return WebError::from(e).into_response(),
        Err(e) => return WebError::from(e).into_response(),
    }
    // Decode and re-encode off the async threads, a few at a time, so uploads at once cannot
    // take more memory than a few pictures' worth.
    let Ok(turn) = DECODES.acquire().await else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "Not saved: please try again.".into());
    };
    let processed = match tokio::task::spawn_blocking(move || photo::process(&body)).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, format!("Not saved: {e}.")),
        Err(_) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Not saved: please try again.".into(),
            );
        }
    };
    drop(turn);
    let result = state
        .db
        .transact(move |tx| {
            may_change_photo(tx, &orgs, &allowed, id.0)?;
            let new = photos::NewPhoto {
                jpeg: &processed.jpeg,
                thumbnail: &processed.thumbnail,
                width: processed.width,
                height: processed.height,
            };
            let photo = photos::save(tx, id, &new, user)?;
            audit::record(tx, Actor::User(user), "photo", Some(id.0), &format!("photo {photo}"), "")
        })
        .await;
    match result {
        Ok(Ok(())) => Json(json!({"ok": true})).into_response(),
        Ok(Err(StoreError::NotFound(_))) => refuse(StatusCode::NOT_FOUND, "No such client.".into()),
        Ok(Err(StoreError::Forbidden(m))) => refuse(StatusCode::FORBIDDEN, m),
        Ok(Err(e)) => WebError::from(e).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Photos decoded at once, server-wide: each may take up to `photo::MAX_DECODED_BYTES` and a
/// copy, so two bound the memory photo uploads can take.
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Refuses unless the client is visible to `orgs` and belongs to one of `allowed`.
fn may_change_photo(
    conn: &rusqlite::Connection,
    orgs: &[i64],
    allowed: &[i64],
    id: i64,
) -> Result<(), StoreError> {
    let client = clients::get_visible(conn, orgs, crate::store::ClientId(id))?;
    if allowed.contains(&client.organization_id) {
        Ok(())
    } else {
        Err(StoreError::Forbidden("Your role may not change this client's photo.".into()))
    }
}

async fn remove(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult<Response> {
    check_csrf(&session, &form.csrf)?;
    let id: ClientId = id.parse().map_err(|_| WebError::NotFound)?;
    let orgs = session.viewer.org_ids();
    let user = session.viewer.user_id;
    let allowed = session.viewer.writable_orgs();
    state
        .db
        .transact(move |tx| {
            let client = clients::get_visible(tx, &orgs, id)?;
            if !allowed.contains(&client.organization_id) {
                return Err(StoreError::Forbidden(
                    "Your role may not change this client's photo.".into(),
                ));
            }
            photos::remove(tx, id)?;
            audit::record(tx, Actor::User(user), "remove_photo", Some(id.0), "", "")
        })
        .await??;
    Ok(Redirect::to(&format!("/clients/{id}?saved=photo_removed#h-photo")).into_response())
}
