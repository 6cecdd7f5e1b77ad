//! Sign-ins. A flood of sign-ins with random usernames once slowed every station's upload a
//! hundredfold, because each password check ran on the database writer; and five wrong
//! guesses locked a real admin out for 15 minutes from anywhere. Now failures are counted per
//! address as well as per name, checks run off the writer a few at a time, and the right
//! password from an address the user signed in from before still opens a locked name. (The
//! flood over real sockets is in `process`; its latency figures in `benches/signin_flood`.)

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};

use crate::harness::Harness;
use crate::harness::web::{PASSWORD, Page, add_user, csrf_of, get, send};
use scanline_server::store::users::Role;
use scanline_server::throttle::ADDRESS_FAILURES;

/// Signs in through the form as a browser at `from` would.
pub(crate) async fn sign_in_from(h: &Harness, user: &str, password: &str, from: &str) -> Page {
    let form = get(h, "/login", "").await;
    let login = form.cookies.iter().find(|c| c.starts_with("scanline_login=")).unwrap().clone();
    let mut req = Request::post("/login")
        .header(header::COOKIE, login)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "username={user}&password={}&csrf={}",
            password.replace(' ', "+"),
            csrf_of(&form.body)
        )))
        .unwrap();
    let addr: SocketAddr = format!("{from}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    send(h, req).await
}

#[tokio::test]
async fn guesses_from_elsewhere_cannot_lock_an_admin_out_of_their_own_desk() {
    let h = Harness::new();
    add_user(&h, "boss", h.org_a, Role::Admin);
    let desk = "192.0.2.10";
    assert_eq!(sign_in_from(&h, "boss", PASSWORD, desk).await.status, StatusCode::SEE_OTHER);
    // Someone elsewhere guesses five times: the name is locked for that address and others.
    for _ in 0..5 {
        let p = sign_in_from(&h, "boss", "guess", "198.51.100.7").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    for elsewhere in ["198.51.100.7", "203.0.113.9"] {
        let p = sign_in_from(&h, "boss", PASSWORD, elsewhere).await;
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{elsewhere}");
        assert!(p.body.contains("computer you usually use"), "{}", p.body);
    }
    // From the admin's own desk the right password still works, and lifts the lock.
    let p = sign_in_from(&h, "boss", PASSWORD, desk).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(h.count("SELECT COUNT(*) FROM sign_in_failures WHERE username = 'boss'"), 0);
}

#[tokio::test]
async fn an_address_that_keeps_guessing_waits_without_costing_a_password_check() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, Role::Staff);
    let flood = "198.51.100.66";
    for i in 0..ADDRESS_FAILURES {
        let p = sign_in_from(&h, &format!("random{i}"), "guess", flood).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "try {i}");
    }
    let failures = h.count("SELECT COUNT(*) FROM sign_in_failures");
    let p = sign_in_from(&h, "random-next", "guess", flood).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.body.contains("from this computer"), "{}", p.body);
    // Answered at once: nothing was checked or written for it.
    assert_eq!(h.count("SELECT COUNT(*) FROM sign_in_failures"), failures);
    // Everyone else signs in as before.
    let p = sign_in_from(&h, "ana", PASSWORD, "192.0.2.20").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}
