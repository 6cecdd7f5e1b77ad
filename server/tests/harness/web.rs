//! Signing in and using the staff pages through the real router, for the web tests.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use scanline_server::store::users;
use tower::ServiceExt;

use super::Harness;

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
    /// The body as sent, for binary answers.
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
}

pub async fn send(h: &Harness, req: Request<Body>) -> Page {
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let cookies = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let headers = resp.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    Page { status, location, cookies, body, bytes, content_type, headers }
}

pub async fn get(h: &Harness, path: &str, cookie: &str) -> Page {
    send(h, Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await
}

pub async fn post_form(h: &Harness, path: &str, cookie: &str, form: &str) -> Page {
    send(
        h,
        Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap(),
    )
    .await
}

/// The value of `name="csrf" value="..."` in a page.
pub fn csrf_of(body: &str) -> String {
    let at =
        body.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    body[at..].split('"').next().unwrap().to_owned()
}

/// Signs in through the form; returns the session cookie (`scanline_session=...`).
pub async fn sign_in(h: &Harness, username: &str, password: &str) -> Result<String, Page> {
    let form = get(h, "/login", "").await;
    let login_cookie =
        form.cookies.iter().find(|c| c.starts_with("scanline_login=")).unwrap().clone();
    let csrf = csrf_of(&form.body);
    let page = post_form(
        h,
        "/login",
        &login_cookie,
        &format!("username={username}&password={}&csrf={csrf}", password.replace(' ', "+")),
    )
    .await;
    match page
        .cookies
        .iter()
        .find(|c| c.starts_with("scanline_session=") && c.len() > "scanline_session=".len())
    {
        Some(c) if page.status == StatusCode::SEE_OTHER => Ok(c.clone()),
        _ => Err(page),
    }
}

pub fn add_user(h: &Harness, name: &str, org: i64, role: users::Role) {
    users::insert(&h.conn(), name, name, PASSWORD, org, role).unwrap();
}

pub async fn post_with_csrf(
    h: &Harness,
    path: &str,
    cookie: &str,
    csrf_page: &str,
    fields: &str,
) -> Page {
    let csrf = csrf_of(&get(h, csrf_page, cookie).await.body);
    post_form(h, path, cookie, &format!("csrf={csrf}&{fields}")).await
}

/// Posts a multipart form with its CSRF token, a time zone and one file.
pub async fn upload(
    h: &Harness,
    path: &str,
    cookie: &str,
    csrf: &str,
    field: &str,
    filename: &str,
    body: &[u8],
) -> Page {
    let boundary = "scanlineboundary7";
    let mut data = Vec::new();
    for (name, value) in [("csrf", csrf), ("time_zone", "America/Chicago")] {
        data.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    data.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
             filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    data.extend_from_slice(body);
    data.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    send(
        h,
        Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(data))
            .unwrap(),
    )
    .await
}

/// Posts a raw body as a page's script does: the session's CSRF token in `x-csrf-token`.
pub async fn post_body(
    h: &Harness,
    path: &str,
    cookie: &str,
    csrf: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Page {
    send(
        h,
        Request::post(path)
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// A user of `org` with `role`, signed in: the session cookie and the session's CSRF token.
pub async fn signed_in_with_csrf(
    h: &Harness,
    name: &str,
    org: i64,
    role: users::Role,
) -> (String, String) {
    add_user(h, name, org, role);
    let cookie = sign_in(h, name, PASSWORD).await.expect("signs in");
    let csrf = csrf_of(&get(h, "/clients", &cookie).await.body);
    (cookie, csrf)
}
