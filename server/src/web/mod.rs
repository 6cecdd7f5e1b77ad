//! The staff web pages (DESIGN §10): server-rendered HTML from compile-time-checked templates,
//! behind sign-in. `auth` owns sign-in, sessions, CSRF and idle log-off; `clients` owns find
//! client and the client dashboard. Every page is built from the signed-in viewer's
//! organizations, so what a user may not see is never queried for them.

pub mod admin;
pub mod alerts;
pub mod assets;
pub mod auth;
pub mod bars;
pub mod batches;
pub mod beds;
pub mod cards;
pub mod clients;
pub mod hmis;
pub mod intake;
pub mod letters;
pub mod photos;
pub mod quick;
pub mod reports;
pub mod station;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::db::DbError;
use crate::state::AppState;
use crate::store::StoreError;

/// The staff pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(intake::router())
        .merge(alerts::router())
        .merge(letters::router())
        .merge(clients::router())
        .merge(bars::router())
        .merge(batches::router())
        .merge(beds::router())
        .merge(admin::router())
        .merge(quick::router())
        .merge(photos::router())
        .merge(reports::router())
        .merge(cards::router())
        .merge(hmis::router())
        .merge(assets::router())
        .merge(station::router())
}

/// The staff pages, with their error pages drawn by `error_pages`.
pub fn pages(state: AppState) -> Router<AppState> {
    router().layer(axum::middleware::from_fn_with_state(state, error_pages))
}

/// A date typed into a form: `YYYY-MM-DD`, between 1900 and 2100 (DESIGN §13). `label` names
/// the field in the message ("entry date").
pub(crate) fn date_field(label: &str, value: &str) -> WebResult<chrono::NaiveDate> {
    let date = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| WebError::Invalid(format!("The {label} must be a date (YYYY-MM-DD).")))?;
    scanline_core::bounds::calendar("date", date).map_err(|_| {
        WebError::Invalid(format!(
            "The {label} {date} is not a date between {} and {}.",
            scanline_core::bounds::FIRST_YEAR,
            scanline_core::bounds::LAST_YEAR
        ))
    })?;
    Ok(date)
}

/// A viewer's time zone: that of the first organization where they may change records (else
/// the first they belong to). Pages that mix organizations show their times in it.
pub(crate) fn viewer_zone(
    conn: &rusqlite::Connection,
    viewer: &crate::store::sessions::Viewer,
) -> Result<chrono_tz::Tz, StoreError> {
    let home =
        viewer.writable_orgs().first().copied().or_else(|| viewer.org_ids().first().copied());
    match home {
        Some(org) => crate::store::orgs::time_zone(conn, org),
        None => Ok(chrono_tz::UTC),
    }
}

/// "Today" for a viewer at `now`: the date in their zone (`viewer_zone`), as forms default to
/// it.
pub(crate) fn viewer_today(
    conn: &rusqlite::Connection,
    viewer: &crate::store::sessions::Viewer,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::NaiveDate, StoreError> {
    Ok(now.with_timezone(&viewer_zone(conn, viewer)?).date_naive())
}

/// A moment as a wall clock in `zone`, to the minute, with the zone's abbreviation.
pub(crate) fn wall_clock(at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// A stored timestamp's text as a wall clock in `zone`; text that is not a timestamp is shown
/// as it is.
pub(crate) fn wall_clock_text(at: &str, zone: chrono_tz::Tz) -> String {
    at.parse::<chrono::DateTime<chrono::Utc>>()
        .map_or_else(|_| at.to_owned(), |t| wall_clock(t, zone))
}

/// The program and service type of a `program:service type` choice.
pub(crate) fn service_choice(value: &str) -> WebResult<(i64, i64)> {
    value
        .split_once(':')
        .and_then(|(p, t)| Some((p.parse::<i64>().ok()?, t.parse::<i64>().ok()?)))
        .ok_or_else(|| WebError::Invalid("Choose a program and service.".into()))
}

/// `program:service type` values with the words a choice list shows for them.
pub(crate) type Choices = Vec<(String, String)>;

/// The services a viewer may record, as choices, and the programs they belong to: every
/// service type of every program of an organization where the viewer may change records.
pub(crate) fn service_choices(
    conn: &rusqlite::Connection,
    viewer: &crate::store::sessions::Viewer,
) -> Result<(Choices, Vec<i64>), StoreError> {
    let mut choices = Vec::new();
    let mut programs = Vec::new();
    for org in viewer.writable_orgs() {
        for p in crate::store::programs::list_for_org(conn, org)? {
            programs.push(p.id);
            for st in crate::store::programs::service_types_of(conn, &[p.id])? {
                choices.push((format!("{}:{}", p.id, st.id), format!("{} — {}", p.name, st.name)));
            }
        }
    }
    Ok((choices, programs))
}

/// The words for what a form saved, by the key a change's redirect puts in `?saved=` (only
/// these; nothing from the address is echoed).
pub(crate) fn saved_words(key: &str) -> Option<&'static str> {
    Some(match key {
        "added" => "Saved: the client was added.",
        "card_issued" => {
            "Saved: the new card was issued. Any earlier Scanline card no longer works."
        }
        "card_revoked" => "Saved: the card was reported lost and no longer works.",
        "service_added" => "Saved: the service was added.",
        "service_deleted" => "Saved: the service was deleted.",
        "enrolled" => "Saved: the client was enrolled.",
        "exited" => "Saved: the client was exited from the program.",
        "photo_removed" => "Saved: the photo was removed.",
        "photo" => "Saved: the photo was stored.",
        "hmis" => "Saved: the HMIS client ID.",
        "enrollment_hmis" => "Saved: the HMIS enrollment ID.",
        "bar_added" => "Saved: the bar was added.",
        "bar_ended" => "Saved: the bar was ended.",
        "station_revoked" => "Saved: the station was revoked and can no longer sync.",
        "user_added" => "Saved: the user was added.",
        "user_disabled" => "Saved: the user was disabled and signed out.",
        "printer_added" => "Saved: the printer was added.",
        "printer_disabled" => "Saved: the printer was disabled.",
        "hmis_codes" => "Saved: the HMIS service codes.",
        "alert_added" => {
            "Saved: the alert was added. Staff screens show it beside the client's scans."
        }
        "alert_ended" => "Saved: the alert was ended.",
        "hmis_organization" => "Saved: the organization's HMIS settings.",
        "bed_added" => "Saved: the bed was added to the board.",
        "bed_retired" => "Saved: the bed was retired and its holds released.",
        "release_time" => "Saved: the release time for returning guests' beds.",
        "bed_reserved" => "Saved: the bed was reserved for the guest.",
        "beds_held" => "Saved: every empty bed is held for the night.",
        "hold_released" => "Saved: the hold was released; the bed is free again.",
        "holds_released" => "Saved: every hold on the night was released.",
        "bed_given" => "Saved: the entry was given the bed and judged again.",
        _ => return None,
    })
}

/// A page's `?saved=` key (see `saved_words`).
#[derive(serde::Deserialize, Default)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    pub(crate) saved: String,
}

/// A form that carries only its CSRF token (a button that changes one thing).
#[derive(serde::Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

/// A change made by a signed-in user, written in one IMMEDIATE transaction together with its
/// audit event, so no change goes unrecorded. `change` returns its result and the event's
/// detail.
pub(crate) async fn audited<T: Send + 'static>(
    state: &crate::state::AppState,
    user: i64,
    action: &'static str,
    change: impl FnOnce(&rusqlite::Connection) -> Result<(T, String), StoreError> + Send + 'static,
) -> WebResult<T> {
    Ok(state
        .db
        .transact(move |tx| {
            let (value, detail) = change(tx)?;
            crate::store::audit::record(
                tx,
                crate::store::audit::Actor::User(user),
                action,
                None,
                &detail,
                "",
            )?;
            Ok::<_, StoreError>(value)
        })
        .await??)
}

/// What went wrong on a page, answered as a page.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in, or the session ended: back to the sign-in page.
    SignIn {
        expired: bool,
    },
    NotFound,
    Forbidden(String),
    /// The form's CSRF token is missing or wrong.
    Csrf,
    /// The input breaks a rule; nothing was changed. The message says which.
    Invalid(String),
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Self::NotFound,
            StoreError::Forbidden(m) => Self::Forbidden(m),
            // The store's refusals of bad input carry words for the person who typed it.
            StoreError::Invalid(m) | StoreError::Conflict(m) => Self::Invalid(m),
            StoreError::Sqlite(e) if crate::db::disk_full(&e) => Self::Invalid(DISK_FULL.into()),
            StoreError::Sqlite(e) => Self::Internal(e.to_string()),
        }
    }
}

/// What a page says when the server's disk is full.
const DISK_FULL: &str = "Not saved: the server's disk is full, so nothing was changed. Tell \
                         whoever looks after the server; try again once there is room.";

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        if e.is_disk_full() {
            Self::Invalid(DISK_FULL.into())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    /// The signed-in staff member's name, for the menu; `None` shows the page without it.
    signed_in: Option<&'a str>,
    csrf: &'a str,
    /// Where the person came from on this site, for the way back.
    back: &'a str,
}

/// What went wrong, kept on an error response until `error_pages` draws the page around it.
#[derive(Clone)]
struct PageError {
    title: String,
    message: String,
}

/// An error page with the status. `error_pages` gives it the menu and the way back.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage { title, message, signed_in: None, csrf: "", back: "/clients" };
    let html = page.render().unwrap_or_else(|_| title.to_owned());
    let mut resp = (status, Html(html)).into_response();
    resp.extensions_mut()
        .insert(PageError { title: title.to_owned(), message: message.to_owned() });
    resp
}

/// The path of a same-site `Referer`, so an error page can lead back to where the person was.
fn came_from(headers: &axum::http::HeaderMap) -> Option<String> {
    let referer = headers.get(axum::http::header::REFERER)?.to_str().ok()?;
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
    let rest = referer.strip_prefix("http://").or_else(|| referer.strip_prefix("https://"))?;
    let path = rest.strip_prefix(host)?;
    (path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/login"))
        .then(|| path.to_owned())
}

/// Every error a staff page answers with, including the framework's own refusals of a form or
/// an address it cannot read, becomes a page that keeps the menu (for a signed-in person), says
/// why, and links back to where the person was.
async fn error_pages(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Only what an error page needs: the way back and the session's cookie.
    let mut headers = axum::http::HeaderMap::new();
    for name in [axum::http::header::REFERER, axum::http::header::HOST, axum::http::header::COOKIE]
    {
        if let Some(v) = req.headers().get(&name) {
            headers.insert(name, v.clone());
        }
    }
    let get = req.method() == axum::http::Method::GET;
    let resp = next.run(req).await;
    let status = resp.status();
    let error = match resp.extensions().get::<PageError>() {
        Some(e) => e.clone(),
        None if status.is_client_error() && status != StatusCode::NOT_FOUND && is_plain(&resp) => {
            // A form field of the wrong kind or a missing one: the extractor's own words.
            let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap_or_default();
            let title = if get { "This page's address is not complete" } else { "Not saved" };
            let detail = String::from_utf8_lossy(&body).into_owned();
            let message =
                format!("Nothing was changed. The form or address could not be read: {detail}");
            return draw_error(&state, &headers, status, title, &message).await;
        }
        None => return resp,
    };
    draw_error(&state, &headers, status, &error.title, &error.message).await
}

fn is_plain(resp: &Response) -> bool {
    resp.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"))
}

async fn draw_error(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let session = auth::peek(state, headers).await;
    let back = came_from(headers).unwrap_or_else(|| "/clients".to_owned());
    let page = ErrorPage {
        title,
        message,
        signed_in: session.as_ref().map(|s| s.viewer.display_name.as_str()),
        csrf: session.as_ref().map_or("", |s| s.csrf_token.as_str()),
        back: &back,
    };
    let html = page.render().unwrap_or_else(|_| title.to_owned());
    (status, Html(html)).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { expired } => {
                Redirect::to(if expired { "/login?expired=1" } else { "/login" }).into_response()
            }
            Self::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or you may not see it.",
            ),
            Self::Forbidden(m) => error_page(StatusCode::FORBIDDEN, "Not allowed", &m),
            Self::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "The form expired",
                "The page was open too long or came from elsewhere. Go back, reload it and try again.",
            ),
            Self::Invalid(m) => error_page(StatusCode::UNPROCESSABLE_ENTITY, "Not saved", &m),
            Self::Internal(e) => {
                tracing::error!(error = %e, "web page failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Please try again.",
                )
            }
        }
    }
}

pub type WebResult<T> = Result<T, WebError>;
