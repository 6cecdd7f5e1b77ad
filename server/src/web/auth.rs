//! Sign-in (Argon2id), server-side sessions stored in SQLite with a fresh id at every sign-in,
//! CSRF tokens on every state-changing form, idle log-off, throttling of failed sign-ins, and
//! sign-out.

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Utc;
use serde::Deserialize;
use std::net::IpAddr;

use super::CsrfForm;
use super::{WebError, WebResult, error_page};
use crate::state::AppState;
use crate::store::audit::{self, Actor};
use crate::store::sessions::{self, Session, THROTTLE_FAILURES};
use crate::throttle::Refused;

pub const SESSION_COOKIE: &str = "scanline_session";
/// The sign-in form's CSRF token rides in this cookie and in the form (double submit): there is
/// no session yet to hold it.
const LOGIN_CSRF_COOKIE: &str = "scanline_login";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/", get(|| async { Redirect::to("/clients") }))
}

/// The signed-in staff member of a request. Extracting it checks the session cookie, ends an
/// idle session, and records the request as activity.
pub struct SignedIn(pub Session);

/// A cookie's value from the request's headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned())
}

/// A cookie the browser keeps from JavaScript and sends only to this site.
fn guarded<'a>(name: &'a str, value: String, path: &'a str, same_site: SameSite) -> Cookie<'a> {
    Cookie::build((name, value)).path(path).http_only(true).same_site(same_site).build()
}

/// Adds `cookie` to a response's `Set-Cookie` headers.
fn set(resp: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&cookie.encoded().to_string()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A cookie that tells the browser to forget `name`.
fn removal<'a>(name: &'a str, path: &'a str) -> Cookie<'a> {
    let mut c = guarded(name, String::new(), path, SameSite::Lax);
    c.make_removal();
    c
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token =
            cookie(&parts.headers, SESSION_COOKIE).ok_or(WebError::SignIn { expired: false })?;
        if token.len() > 128 {
            return Err(WebError::SignIn { expired: false });
        }
        let idle = state.web.idle_timeout;
        // Looked up on a reader, so a page never waits for the writer only to be signed in;
        // the writer records activity at most every `touch_after` of it, and ends a session
        // found idle.
        let Some(s) = state.db.read(move |conn| sessions::find(conn, &token)).await?? else {
            return Err(WebError::SignIn { expired: false });
        };
        let quiet = Utc::now() - s.last_seen_at;
        if quiet > idle {
            let id = s.id.clone();
            state.db.transact(move |conn| sessions::delete(conn, &id)).await??;
            return Err(WebError::SignIn { expired: true });
        }
        if quiet > touch_after(idle) {
            let id = s.id.clone();
            state.db.transact(move |conn| sessions::touch(conn, &id)).await??;
        }
        Ok(Self(s))
    }
}

/// How stale a session's recorded activity may be before a request records it again: a tenth
/// of the idle timeout, at most a minute. A session then ends at most that much before the
/// idle timeout after its last request.
fn touch_after(idle: chrono::Duration) -> chrono::Duration {
    std::cmp::min(idle / 10, chrono::Duration::minutes(1))
}

/// The session a request's cookie names, if it is still live, looked up without recording
/// activity: for drawing the menu on an error page.
pub(crate) async fn peek(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers, SESSION_COOKIE).filter(|t| t.len() <= 128)?;
    let idle = state.web.idle_timeout;
    state
        .db
        .read(move |conn| sessions::find(conn, &token))
        .await
        .ok()?
        .ok()
        .flatten()
        .filter(|s| Utc::now() - s.last_seen_at <= idle)
}

/// Compares a form's CSRF token with the session's, in constant time.
pub fn check_csrf(session: &Session, submitted: &str) -> WebResult<()> {
    if same(&session.csrf_token, submitted) { Ok(()) } else { Err(WebError::Csrf) }
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    message: &'a str,
    username: &'a str,
}

#[derive(Deserialize)]
struct LoginQuery {
    expired: Option<String>,
}

fn login_form(status: StatusCode, message: &str, username: &str) -> Response {
    let csrf = crate::store::random_hex(24);
    let html = LoginPage { csrf: &csrf, message, username }.render().unwrap_or_default();
    let mut resp = (status, Html(html)).into_response();
    let mut c = guarded(LOGIN_CSRF_COOKIE, csrf, "/login", SameSite::Strict);
    c.set_max_age(time::Duration::hours(1));
    set(&mut resp, &c);
    resp
}

async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    let message = if q.expired.is_some() {
        "You were signed out after a while without activity. Please sign in again."
    } else {
        ""
    };
    login_form(StatusCode::OK, message, "")
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
}

/// The address a request came from, when the server knows it (a socket; not a router test).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Signs in. The order keeps a flood of guesses from costing anything it should not: the
/// address's recent failures are counted in memory first; the user is read on a reader
/// thread; the password is checked on a blocking thread, a bounded number at a time; only
/// the outcome is written.
async fn login(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same(&expected, &form.csrf) {
        return WebError::Csrf.into_response();
    }
    let username = form.username.trim().to_owned();
    if username.is_empty() || username.len() > 64 || form.password.len() > 1024 {
        return login_form(StatusCode::UNAUTHORIZED, "Wrong username or password.", "");
    }
    match sign_in(&state, ip, &username, form.password).await {
        Ok(token) => {
            let mut resp = Redirect::to("/clients").into_response();
            let mut session = guarded(SESSION_COOKIE, token, "/", SameSite::Lax);
            session.set_secure(state.web.secure_cookies);
            set(&mut resp, &session);
            set(&mut resp, &removal(LOGIN_CSRF_COOKIE, "/login"));
            resp
        }
        Err(SignInError::Wrong) => {
            login_form(StatusCode::UNAUTHORIZED, "Wrong username or password.", &username)
        }
        Err(SignInError::NameLocked) => login_form(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins for this username. Wait 15 minutes, sign in from the \
             computer you usually use, or ask an admin.",
            &username,
        ),
        Err(SignInError::Refused(Refused::Address)) => login_form(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins from this computer. Wait 15 minutes, or ask an admin.",
            &username,
        ),
        Err(SignInError::Refused(Refused::Busy)) => login_form(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy with sign-ins. Try again in a moment.",
            &username,
        ),
        Err(SignInError::Page(e)) => e.into_response(),
    }
}

enum SignInError {
    Wrong,
    NameLocked,
    Refused(Refused),
    Page(WebError),
}

impl<E: Into<WebError>> From<E> for SignInError {
    fn from(e: E) -> Self {
        Self::Page(e.into())
    }
}

async fn sign_in(
    state: &AppState,
    ip: Option<IpAddr>,
    username: &str,
    password: String,
) -> Result<String, SignInError> {
    if let Err(refused) = state.sign_ins.admit(ip) {
        // Held a moment before the answer, at no cost but a sleeping task: a flood that waits
        // for its answers slows to a trickle instead of taking the server's CPU.
        tokio::time::sleep(crate::throttle::REFUSED_DELAY).await;
        return Err(SignInError::Refused(refused));
    }
    let address = ip.map(|a| a.to_string()).unwrap_or_default();
    let (name, at) = (username.to_owned(), address.clone());
    let facts = state.db.read(move |conn| sessions::sign_in_facts(conn, &name, &at)).await??;
    if facts.recent_failures >= THROTTLE_FAILURES && !facts.known_address {
        return Err(SignInError::NameLocked);
    }
    let user = facts.user.clone();
    let matched = state
        .sign_ins
        .check(move || match user {
            Some((id, stored, disabled)) => {
                (sessions::password_matches(&stored, &password) && !disabled).then_some(id)
            }
            None => {
                sessions::spend_a_password_check(&password);
                None
            }
        })
        .await
        .map_err(SignInError::Refused)?;
    let name = username.to_owned();
    match matched {
        Some(user) => Ok(state
            .db
            .transact(move |tx| {
                let token = sessions::signed_in(tx, user, &name, &address)?;
                audit::record(tx, Actor::User(user), "sign_in", None, "", "")?;
                Ok::<_, crate::store::StoreError>(token)
            })
            .await??),
        None => {
            state.sign_ins.failed(ip);
            state
                .db
                .transact(move |conn| sessions::record_failure(conn, &name, &address))
                .await??;
            Err(SignInError::Wrong)
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = check_csrf(&session, &form.csrf) {
        return e.into_response();
    }
    let id = session.id.clone();
    let user = session.viewer.user_id;
    let done = state
        .db
        .transact(move |conn| {
            sessions::delete(conn, &id)?;
            audit::record(conn, Actor::User(user), "sign_out", None, "", "")
        })
        .await;
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return WebError::from(e).into_response(),
        Err(e) => return WebError::from(e).into_response(),
    }
    let mut resp = Redirect::to("/login").into_response();
    set(&mut resp, &removal(SESSION_COOKIE, "/"));
    resp
}

/// For pages that refuse a role: the words a viewer sees.
pub fn forbidden(what: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, "Not allowed", what)
}
