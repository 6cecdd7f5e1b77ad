//! The staff pages through the real router: sign-in with a fresh session, CSRF on every form,
//! throttled failed sign-ins, idle log-off, find client and the dashboard, and restricted clients
//! and other organizations' records out of reach (by search, by URL and by form).

mod harness;

use axum::http::StatusCode;
use harness::Harness;
use scanline_server::store::{clients, users};

use harness::web::{PASSWORD, add_user, csrf_of, get, post_form, post_with_csrf, sign_in};

#[tokio::test]
async fn sign_in_find_a_client_and_see_the_dashboard() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, users::Role::Staff);
    // Not signed in: every page sends you to sign in.
    let p = get(&h, "/clients", "").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location.as_deref(), Some("/login"));

    let cookie =
        sign_in(&h, "ana", PASSWORD).await.unwrap_or_else(|p| panic!("{} {}", p.status, p.body));
    // A fresh session id at every sign-in.
    let again = sign_in(&h, "ana", PASSWORD).await.unwrap();
    assert_ne!(cookie, again);

    // First letters of first and last name, as the seeds teach.
    let p = get(&h, "/clients?q=an+al", &cookie).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("Alder, Ana"), "{}", p.body);
    assert!(!p.body.contains("Brook"), "only matching clients");
    // SSN last 4 and client number.
    assert!(get(&h, "/clients?q=6789", &cookie).await.body.contains("Alder, Ana"));
    assert!(get(&h, "/clients?q=%232", &cookie).await.body.contains("Brook, Ben"));
    // A card scanned into the search box opens the client.
    let p = get(&h, &format!("/clients?q={}", h.clients[2].1), &cookie).await;
    assert_eq!(p.location, Some(format!("/clients/{}?scanned={}", h.clients[2].0, h.clients[2].1)));
    let p = get(&h, &format!("/clients/{}", h.clients[2].0), &cookie).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("Cleo Castell")
            && p.body.contains(&h.clients[2].1)
            && p.body.contains("Meals"),
        "{}",
        p.body
    );
    // Markup in names is shown as text.
    let id = clients::insert(
        &h.conn(),
        &clients::NewClient {
            organization_id: h.org_a,
            first_name: "<script>x</script>".into(),
            last_name: "Zed".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .0;
    let p = get(&h, &format!("/clients/{id}"), &cookie).await;
    assert!(!p.body.contains("<script>x"), "names are escaped");

    // Every search and view is in the audit log, without the search text.
    let conn = h.conn();
    let views: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'view_client' AND client_id = ?",
            [h.clients[2].0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(views, 1);
    let searches: Vec<String> = conn
        .prepare(
            "SELECT subject || ' ' || detail FROM audit_events WHERE action = 'search_clients'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(searches.len(), 4);
    assert!(searches.iter().all(|s| !s.contains("6789") && !s.contains("an al")), "{searches:?}");
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, users::Role::Staff);
    let cookie = sign_in(&h, "ana", PASSWORD).await.unwrap();
    let page = get(&h, "/clients", &cookie).await;
    let csrf = csrf_of(&page.body);
    let before = h.dump();
    for form in ["", "csrf=", "csrf=0000"] {
        let p = post_form(&h, "/logout", &cookie, form).await;
        assert!(
            p.status == StatusCode::FORBIDDEN || p.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{form:?}: {}",
            p.status
        );
    }
    // Sign-in itself needs the form's token too.
    let p = post_form(
        &h,
        "/login",
        "",
        &format!("username=ana&password={}&csrf=abc", PASSWORD.replace(' ', "+")),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&h, "/clients", &cookie).await.status, StatusCode::OK, "still signed in");
    let after = h.dump();
    assert_eq!(strip_volatile(&before), strip_volatile(&after));
    // With the token, sign-out works and the session is gone.
    let p = post_form(&h, "/logout", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&h, "/clients", &cookie).await.location.as_deref(), Some("/login"));
}

/// Session "last seen" times change on every request; the rest must not.
fn strip_volatile(dump: &str) -> String {
    dump.lines().filter(|l| !l.contains("Blob(")).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn repeated_bad_passwords_are_throttled() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, users::Role::Staff);
    for _ in 0..5 {
        let p = sign_in(&h, "ana", "wrong password here").await.unwrap_err();
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert!(p.body.contains("Wrong username or password"));
    }
    // Now even the right password waits.
    let p = sign_in(&h, "ana", PASSWORD).await.unwrap_err();
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.body.contains("Too many failed sign-ins"));
    // Unknown users get the same answer as wrong passwords.
    let p = sign_in(&h, "nobody", PASSWORD).await.unwrap_err();
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    // Once the window has passed, the right password works again.
    h.conn().execute("UPDATE sign_in_failures SET at = '2000-01-01 00:00:00+00:00'", []).unwrap();
    assert!(sign_in(&h, "ana", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn idle_sessions_expire() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, users::Role::Staff);
    let cookie = sign_in(&h, "ana", PASSWORD).await.unwrap();
    assert_eq!(get(&h, "/clients", &cookie).await.status, StatusCode::OK);
    h.conn()
        .execute(
            "UPDATE sessions SET last_seen_at = datetime('now', '-31 minutes') || '+00:00'",
            [],
        )
        .unwrap();
    let p = get(&h, "/clients", &cookie).await;
    assert_eq!(p.location.as_deref(), Some("/login?expired=1"));
    let n: i64 = h.conn().query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "the idle session is deleted");
    assert!(get(&h, "/login?expired=1", "").await.body.contains("signed out after a while"));
}

#[tokio::test]
async fn activity_is_recorded_once_a_minute_not_on_every_page() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, users::Role::Staff);
    let cookie = sign_in(&h, "ana", PASSWORD).await.unwrap();
    let seen = || -> String {
        h.conn().query_row("SELECT last_seen_at FROM sessions", [], |r| r.get(0)).unwrap()
    };
    // Seen moments ago: the page is served without a write.
    h.conn()
        .execute("UPDATE sessions SET last_seen_at = datetime('now', '-5 seconds') || '+00:00'", [])
        .unwrap();
    let before = seen();
    assert_eq!(get(&h, "/clients", &cookie).await.status, StatusCode::OK);
    assert_eq!(seen(), before, "activity seconds old is not written again");
    // Seen two minutes ago: the page records the activity, so the idle clock starts again.
    h.conn()
        .execute("UPDATE sessions SET last_seen_at = datetime('now', '-2 minutes') || '+00:00'", [])
        .unwrap();
    let stale = seen();
    assert_eq!(get(&h, "/clients", &cookie).await.status, StatusCode::OK);
    assert!(seen() > stale, "{} after {stale}", seen());
}

#[tokio::test]
async fn a_restricted_client_is_invisible_to_other_organizations() {
    let h = Harness::new();
    add_user(&h, "north", h.org_a, users::Role::Viewer);
    add_user(&h, "south", h.org_b, users::Role::Admin);
    let secret = clients::insert(
        &h.conn(),
        &clients::NewClient {
            organization_id: h.org_a,
            first_name: "Rhea".into(),
            last_name: "Quill".into(),
            dob: Some(harness::d("1991-04-05")),
            ssn: Some("111223333".into()),
            restricted: true,
            ..Default::default()
        },
    )
    .unwrap();
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    for q in ["rh+qu", "1991-04-05", "3333", &format!("%23{}", secret.1)] {
        let p = get(&h, &format!("/clients?q={q}"), &south).await;
        assert!(!p.body.contains("Quill"), "{q}: {}", p.body);
    }
    let p = get(&h, &format!("/clients/{}", secret.0), &south).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    // The same page for a client that does not exist: nothing to learn from guessing URLs.
    let nobody = get(&h, "/clients/999999", &south).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(p.body, nobody.body);

    let north = sign_in(&h, "north", PASSWORD).await.unwrap();
    assert!(get(&h, "/clients?q=rh+qu", &north).await.body.contains("Quill, Rhea"));
    assert_eq!(get(&h, &format!("/clients/{}", secret.0), &north).await.status, StatusCode::OK);
}

#[tokio::test]
async fn viewers_and_other_organizations_cannot_change_records() {
    let h = Harness::new();
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    add_user(&h, "south", h.org_b, users::Role::Staff);
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    let before = strip_volatile(&h.dump());
    let (client, org, meals) = (h.clients[0].0, h.org_a, h.meals);
    let dash = format!("/clients/{client}");
    assert_eq!(get(&h, "/clients/new", &viewer).await.status, StatusCode::FORBIDDEN);
    let p = post_with_csrf(
        &h,
        "/clients/new",
        &viewer,
        &dash,
        &format!("organization_id={org}&first_name=X&last_name=Y&confirm=1"),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/enroll"),
        &viewer,
        &dash,
        &format!("program_id={}&entry_date=2026-11-01", h.shelter),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Staff of another organization cannot add to, or enroll in, this organization's programs.
    let p = post_with_csrf(
        &h,
        "/clients/new",
        &south,
        &dash,
        &format!("organization_id={org}&first_name=X&last_name=Y&confirm=1"),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/enroll"),
        &south,
        &dash,
        &format!("program_id={meals}&entry_date=2026-11-01"),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Only audit rows of the page views were added.
    let after = strip_volatile(&h.dump());
    let changed: Vec<&str> = after.lines().filter(|l| !before.contains(l)).collect();
    assert!(
        changed.iter().all(|l| l.contains("view_client")
            || l.contains("sign_in")
            || l.contains("audit_events")
            || l.starts_with("Text(\"audit_events\")")),
        "{changed:?}"
    );
}
