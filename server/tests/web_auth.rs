//! The staff pages through the real router: sign-in with a fresh session, CSRF on every form,
//! throttled failed sign-ins, idle log-off, find client and the dashboard, restricted clients
//! invisible to other organizations (by search and by URL), and the audit trail.

mod harness;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use harness::Harness;
use scanline_server::store::{clients, users};

use harness::web::{PASSWORD, add_user, csrf_of, get, post_form, post_with_csrf, send, sign_in};

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
    assert_eq!(p.location, Some(format!("/clients/{}", h.clients[2].0)));
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

/// Posts a form with the session's CSRF token (read from `page`).
#[tokio::test]
async fn add_a_client_with_the_duplicate_warning_then_enroll_and_exit() {
    let h = Harness::new();
    add_user(&h, "ana", h.org_a, users::Role::Staff);
    let cookie = sign_in(&h, "ana", PASSWORD).await.unwrap();
    let org = h.org_a;

    // "Anabel Alders", born the same day as "Ana Alder": the warning lists her, nothing is added.
    let fields =
        format!("organization_id={org}&first_name=Anabel&last_name=Alders&dob=1980-02-03&ssn=");
    let before: i64 = h.count("SELECT COUNT(*) FROM clients");
    let p = post_with_csrf(&h, "/clients/new", &cookie, "/clients/new", &fields).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("may already be on file") && p.body.contains("Alder, Ana"),
        "{}",
        p.body
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), before);
    // The same SSN warns too, whatever the name.
    let p = post_with_csrf(
        &h,
        "/clients/new",
        &cookie,
        "/clients/new",
        &format!("organization_id={org}&first_name=Zoe&last_name=Yardley&dob=&ssn=123-45-6789"),
    )
    .await;
    assert!(p.body.contains("may already be on file"), "{}", p.body);
    // "Add anyway" adds her and opens her dashboard.
    let p =
        post_with_csrf(&h, "/clients/new", &cookie, "/clients/new", &format!("{fields}&confirm=1"))
            .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let id: i64 = p.location.unwrap().trim_start_matches("/clients/").parse().unwrap();
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), before + 1);

    // Enroll in the meal program, then exit.
    let dash = format!("/clients/{id}");
    let p = post_with_csrf(
        &h,
        &format!("/clients/{id}/enroll"),
        &cookie,
        &dash,
        &format!("program_id={}&entry_date=2026-11-01", h.meals),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = get(&h, &dash, &cookie).await.body;
    assert!(
        page.contains("Meals") && page.contains("2026-11-01") && page.contains("open"),
        "{page}"
    );
    // A second open enrollment in the same program is refused with the reason.
    let p = post_with_csrf(
        &h,
        &format!("/clients/{id}/enroll"),
        &cookie,
        &dash,
        &format!("program_id={}&entry_date=2026-11-02", h.meals),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("already has an enrollment"), "{}", p.body);
    let enrollment: i64 = h
        .conn()
        .query_row("SELECT id FROM enrollments WHERE client_id = ?", [id], |r| r.get(0))
        .unwrap();
    // Exit before entry is refused; a proper exit is recorded.
    let p = post_with_csrf(
        &h,
        &format!("/enrollments/{enrollment}/exit"),
        &cookie,
        &dash,
        "exit_date=2026-10-01&destination=30",
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = post_with_csrf(
        &h,
        &format!("/enrollments/{enrollment}/exit"),
        &cookie,
        &dash,
        "exit_date=2026-11-20&destination=30",
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let exit: String = h
        .conn()
        .query_row("SELECT exit_date FROM enrollments WHERE id = ?", [enrollment], |r| r.get(0))
        .unwrap();
    assert_eq!(exit, "2026-11-20");
    let actions: Vec<String> = h
        .conn()
        .prepare("SELECT action FROM audit_events WHERE client_id = ? ORDER BY id")
        .unwrap()
        .query_map([id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for a in ["create_client", "enroll", "exit", "view_client"] {
        assert!(actions.iter().any(|x| x == a), "no {a} in {actions:?}");
    }
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

#[tokio::test]
async fn services_are_added_to_an_open_enrollment_and_only_admins_soft_delete_them() {
    let h = Harness::new();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    add_user(&h, "boss", h.org_a, users::Role::Admin);
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let (client, meal) = (h.clients[0].0, h.meal);
    let enrollment: i64 = h
        .conn()
        .query_row("SELECT id FROM enrollments WHERE client_id = ?", [client], |r| r.get(0))
        .unwrap();
    let dash = format!("/clients/{client}");
    let add = |date: &str| format!("service={enrollment}:{meal}&date={date}&units=1");

    let page = get(&h, &dash, &staff).await.body;
    assert!(page.contains("Meals — Meal"), "the dashboard offers the service");
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/services"),
        &staff,
        &dash,
        &add("2026-11-20"),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    // Once a day: the second meal the same day is refused with the reason.
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/services"),
        &staff,
        &dash,
        &add("2026-11-20"),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("already has Meal"), "{}", p.body);
    // Before the enrollment began: refused.
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/services"),
        &staff,
        &dash,
        &add("2025-12-31"),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 1);

    // A viewer may not add; staff may not delete; an admin deletes with a reason, softly.
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/services"),
        &viewer,
        &dash,
        &add("2026-11-19"),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let service: i64 = h.conn().query_row("SELECT id FROM services", [], |r| r.get(0)).unwrap();
    let p =
        post_with_csrf(&h, &format!("/services/{service}/delete"), &staff, &dash, "reason=mistake")
            .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let boss = sign_in(&h, "boss", PASSWORD).await.unwrap();
    assert!(get(&h, &dash, &boss).await.body.contains(&format!("/services/{service}/delete")));
    let p =
        post_with_csrf(&h, &format!("/services/{service}/delete"), &boss, &dash, "reason=").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let p = post_with_csrf(
        &h,
        &format!("/services/{service}/delete"),
        &boss,
        &dash,
        "reason=scanned+the+wrong+card",
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (deleted_by, reason): (i64, String) = h
        .conn()
        .query_row("SELECT deleted_by, deleted_reason FROM services WHERE id = ?", [service], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(reason, "scanned the wrong card");
    assert!(deleted_by > 0);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 1, "never hard-deleted");
    assert!(get(&h, &dash, &boss).await.body.contains("(deleted)"));
    assert_eq!(
        h.count(
            "SELECT COUNT(*) FROM audit_events WHERE action IN ('add_service', 'delete_service')"
        ),
        2
    );
}

#[tokio::test]
async fn the_bar_list_adds_ends_and_keeps_history() {
    let h = Harness::new();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    add_user(&h, "south", h.org_b, users::Role::Staff);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let number: i64 = h
        .conn()
        .query_row("SELECT client_number FROM clients WHERE id = ?", [h.clients[1].0], |r| r.get(0))
        .unwrap();
    let page = get(&h, "/bars", &staff).await.body;
    assert!(page.contains("No bars in force") && page.contains(&format!("program:{}", h.meals)));

    let add = format!(
        "client={number}&scope=program:{}&begin=2026-11-01&end=2099-12-31&reason=fight+in+line",
        h.meals
    );
    let p = post_with_csrf(&h, "/bars", &staff, "/bars", &add).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = get(&h, "/bars", &staff).await.body;
    assert!(
        page.contains("Ben Brook") && page.contains("fight in line") && page.contains("End early"),
        "{page}"
    );
    // An end before the beginning, or no end at all, is refused.
    let p = post_with_csrf(&h, "/bars", &staff, "/bars", &add.replace("2099-12-31", "2026-10-01"))
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = post_with_csrf(&h, "/bars", &staff, "/bars", &add.replace("2099-12-31", "")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another organization's staff neither see it nor may add bars to this program.
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    assert!(!get(&h, "/bars", &south).await.body.contains("fight in line"));
    let p = post_with_csrf(&h, "/bars", &south, "/bars", &add).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(h.count("SELECT COUNT(*) FROM bars"), 1);

    // End early: the bar moves to the history, marked.
    let bar: i64 = h.conn().query_row("SELECT id FROM bars", [], |r| r.get(0)).unwrap();
    let p = post_with_csrf(&h, &format!("/bars/{bar}/end"), &staff, "/bars", "last_day=2026-11-10")
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = get(&h, "/bars", &staff).await.body;
    assert!(page.contains("No bars in force") && page.contains("(ended early)"), "{page}");
    let end: String = h.conn().query_row("SELECT end_date FROM bars", [], |r| r.get(0)).unwrap();
    assert_eq!(end, "2026-11-10");
}

async fn scan_json(
    h: &Harness,
    cookie: &str,
    batch: &str,
    csrf: &str,
    code: &str,
) -> serde_json::Value {
    let p = send(
        h,
        Request::post(format!("/batches/{batch}/scan"))
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf}&code={code}")))
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    serde_json::from_str(&p.body).unwrap()
}

#[tokio::test]
async fn a_web_batch_takes_scans_shows_verdicts_and_posts_services() {
    let h = Harness::new();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    scanline_server::store::bars::insert(
        &h.conn(),
        h.clients[3].0,
        scanline_core::domain::BarScope::Program(h.meals),
        harness::d("2026-01-01"),
        harness::d("2099-12-31"),
        "test",
        None,
    )
    .unwrap();
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let today = harness::TODAY;
    let p = post_with_csrf(
        &h,
        "/batches",
        &staff,
        "/batches",
        &format!("service={}:{}&service_date={today}", h.meals, h.meal),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let batch = p.location.unwrap().trim_start_matches("/batches/").to_owned();
    let page = get(&h, &format!("/batches/{batch}"), &staff).await.body;
    assert!(page.contains("Client ID"), "the scan field is there");
    let csrf = csrf_of(&page);

    // Codes typed (or scanned) into the Client ID field, each followed by Enter.
    let v = scan_json(&h, &staff, &batch, &csrf, &h.clients[0].1).await;
    assert_eq!(
        (v["verdict"].as_str(), v["label"].as_str(), v["class"].as_str()),
        (Some("accepted"), Some("OK"), Some("ok"))
    );
    assert_eq!(v["display_name"], "Ana A.");
    let v = scan_json(&h, &staff, &batch, &csrf, &h.clients[0].1).await;
    assert_eq!(v["verdict"], "duplicate");
    let v = scan_json(&h, &staff, &batch, &csrf, &h.clients[3].1).await;
    assert_eq!(
        (v["verdict"].as_str(), v["label"].as_str()),
        (Some("barred"), Some("Barred: see staff"))
    );
    let v = scan_json(&h, &staff, &batch, &csrf, "nonsense").await;
    assert_eq!(v["verdict"], "unknown_card");
    let v = scan_json(&h, &staff, &batch, &csrf, &h.clients[1].1).await;
    assert_eq!(v["verdict"], "accepted");

    // A viewer sees the batch but cannot scan into it, delete or post.
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let view = get(&h, &format!("/batches/{batch}"), &viewer).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(!view.body.contains("Post Services</button>"));
    let vcsrf = csrf_of(&view.body);
    let p =
        post_form(&h, &format!("/batches/{batch}/post"), &viewer, &format!("csrf={vcsrf}")).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = post_form(
        &h,
        &format!("/batches/{batch}/scan"),
        &viewer,
        &format!("csrf={vcsrf}&code={}", h.clients[2].1),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    // Delete the duplicate (X), then Post Services: a summary, and the services exist once.
    let dup: String = h
        .conn()
        .query_row("SELECT uuid FROM batch_entries WHERE verdict = 'duplicate'", [], |r| r.get(0))
        .unwrap();
    let p = post_form(
        &h,
        &format!("/batches/{batch}/entries/{dup}/delete"),
        &staff,
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = post_form(&h, &format!("/batches/{batch}/post"), &staff, &format!("csrf={csrf}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("Posted now: 2")
            && p.body.contains("Flagged, not posted: 2")
            && p.body.contains("Deleted: 1"),
        "{}",
        p.body
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 2);
    let p = post_form(&h, &format!("/batches/{batch}/post"), &staff, &format!("csrf={csrf}")).await;
    assert!(p.body.contains("Posted now: 0") && p.body.contains("Posted before: 2"), "{}", p.body);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 2);
    // The services show on the client's dashboard; the batch is in the list.
    assert!(get(&h, &format!("/clients/{}", h.clients[0].0), &staff).await.body.contains("Meal"));
    assert!(get(&h, "/batches", &staff).await.body.contains(&batch));
}

#[tokio::test]
async fn admins_register_and_revoke_stations_manage_users_and_read_the_audit() {
    let h = Harness::new();
    add_user(&h, "boss", h.org_a, users::Role::Admin);
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    let boss = sign_in(&h, "boss", PASSWORD).await.unwrap();
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    for page in ["/admin/stations", "/admin/users", "/admin/audit"] {
        assert_eq!(
            get(&h, page, &staff).await.status,
            StatusCode::FORBIDDEN,
            "{page} is for admins"
        );
    }
    let page = get(&h, "/admin/stations", &boss).await.body;
    assert!(
        page.contains("Line 1") && !page.contains("South line"),
        "only this organization's stations"
    );

    // Register: the token is shown once, works for the station API, and is stored hashed.
    let p = post_with_csrf(
        &h,
        "/admin/stations",
        &boss,
        "/admin/stations",
        &format!("name=Side+door&organization_id={}&program={}", h.org_a, h.meals),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let at = p.body.find("<code id=\"new-token\">").unwrap() + "<code id=\"new-token\">".len();
    let token = p.body[at..].split('<').next().unwrap().to_owned();
    assert!(token.starts_with("sls_"));
    assert!(!get(&h, "/admin/stations", &boss).await.body.contains(&token), "shown once");
    let (s, _) = h.call("GET", "/api/v1/roster", Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    let id: i64 = h
        .conn()
        .query_row("SELECT id FROM stations WHERE name = 'Side door'", [], |r| r.get(0))
        .unwrap();
    // Staff may not revoke; the admin may, and the token stops working.
    let p =
        post_with_csrf(&h, &format!("/admin/stations/{id}/revoke"), &staff, "/clients", "").await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p =
        post_with_csrf(&h, &format!("/admin/stations/{id}/revoke"), &boss, "/admin/stations", "")
            .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let (s, _) = h.call("GET", "/api/v1/roster", Some(&token), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Users: add one, who can sign in; disable, which ends their session.
    let p = post_with_csrf(&h, "/admin/users", &boss, "/admin/users", &format!("username=newbie&display_name=New+Bie&password=long+enough+pass&organization_id={}&role=viewer", h.org_a)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let newbie = sign_in(&h, "newbie", "long enough pass").await.unwrap();
    let uid: i64 = h
        .conn()
        .query_row("SELECT id FROM users WHERE username = 'newbie'", [], |r| r.get(0))
        .unwrap();
    let p =
        post_with_csrf(&h, &format!("/admin/users/{uid}/disable"), &boss, "/admin/users", "").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&h, "/clients", &newbie).await.location.as_deref(), Some("/login"));
    assert!(sign_in(&h, "newbie", "long enough pass").await.is_err());
    // A short password is refused with the rule.
    let p = post_with_csrf(
        &h,
        "/admin/users",
        &boss,
        "/admin/users",
        &format!("username=x&display_name=X&password=short&organization_id={}&role=staff", h.org_a),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The audit trail lists what happened, including client views.
    get(&h, &format!("/clients/{}", h.clients[0].0), &staff).await;
    let page = get(&h, "/admin/audit", &boss).await.body;
    for action in
        ["register_station", "revoke_station", "add_user", "disable_user", "view_client", "sign_in"]
    {
        assert!(page.contains(action), "no {action} in the audit page");
    }
    let one = get(&h, &format!("/admin/audit?client={}", h.clients[0].0), &boss).await.body;
    assert!(one.contains("view_client") && !one.contains("add_user"));
}

#[tokio::test]
async fn quick_services_for_several_clients_report_each_one() {
    let h = Harness::new();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let service = format!("{}:{}", h.meals, h.meal);
    let list =
        get(&h, &format!("/quick-services?service={service}&date=2026-11-20"), &staff).await.body;
    for name in ["Alder, Ana", "Brook, Ben", "Castell, Cleo"] {
        assert!(list.contains(name), "{name} is listed: {list}");
    }
    // Ben already had his meal that day: he is reported, the others get theirs.
    let (ana, ben, cleo) = (h.clients[0].0, h.clients[1].0, h.clients[2].0);
    let ben_enrollment: i64 = h
        .conn()
        .query_row("SELECT id FROM enrollments WHERE client_id = ?", [ben], |r| r.get(0))
        .unwrap();
    scanline_server::store::services::add(
        &h.conn(),
        &scanline_server::store::services::NewService {
            client_id: ben,
            enrollment_id: ben_enrollment,
            service_type_id: h.meal,
            date: harness::d("2026-11-20"),
            units: 1.0,
            user_id: 1,
        },
        h.clock.now(),
    )
    .unwrap_or_else(|_| panic!("setup"));
    let page = format!("/quick-services?service={service}&date=2026-11-20");
    let p = post_with_csrf(
        &h,
        "/quick-services",
        &staff,
        &page,
        &format!("service={service}&date=2026-11-20&client={ana}&client={ben}&client={cleo}"),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(
        p.body.contains("Alder, Ana: added") && p.body.contains("Castell, Cleo: added"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("Brook, Ben: Not saved. Already served: already has Meal on 2026-11-20."),
        "{}",
        p.body
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM services WHERE deleted_at IS NULL"), 3);
    // A viewer may not record services.
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    assert_eq!(get(&h, &page, &viewer).await.status, StatusCode::FORBIDDEN);
    let p = post_with_csrf(
        &h,
        "/quick-services",
        &viewer,
        "/clients",
        &format!("service={service}&date=2026-11-21&client={ana}"),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 3);
}

#[tokio::test]
async fn reports_show_and_download_what_was_served() {
    let h = Harness::new();
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    add_user(&h, "south", h.org_b, users::Role::Viewer);
    // Two meals and two bed nights on the 20th, one flagged entry.
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-20").await;
    h.upload(
        0,
        &batch,
        serde_json::json!([
            harness::entry(&h.clients[0].1, "2026-11-20T20:00:00Z"),
            harness::entry(&h.clients[1].1, "2026-11-20T20:00:00Z"),
            harness::entry("nonsense", "2026-11-20T20:00:00Z"),
        ]),
    )
    .await;
    h.post(0, &batch).await;
    let night = h.create_batch(0, h.shelter, &[h.bed], "2026-11-20").await;
    h.upload(
        0,
        &night,
        serde_json::json!([
            harness::entry(&h.clients[0].1, "2026-11-21T05:00:00Z"),
            harness::entry(&h.clients[2].1, "2026-11-21T05:00:00Z"),
        ]),
    )
    .await;
    h.post(0, &night).await;

    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let range = "from=2026-11-01&to=2026-11-30";
    let p = get(&h, &format!("/reports?kind=services&{range}"), &viewer).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("2026-11-20") && p.body.contains("Meal") && p.body.contains("Bed Night"),
        "{}",
        p.body
    );
    let p = get(&h, &format!("/reports?kind=unduplicated&{range}&format=csv"), &viewer).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.starts_with("program,unduplicated clients,services\r\n"), "{}", p.body);
    assert!(p.body.contains("All programs,3,4"), "three people, four services: {}", p.body);
    let p = get(&h, &format!("/reports?kind=occupancy&{range}"), &viewer).await;
    assert!(
        p.body.contains("<svg")
            && p.body.contains("2026-11-20: 2 beds")
            && p.body.contains("capacity"),
        "{}",
        p.body
    );
    let p = get(&h, &format!("/reports?kind=flagged&{range}&format=csv"), &viewer).await;
    assert!(p.body.contains("NONSENSE") || p.body.contains("nonsense"), "{}", p.body);
    assert!(p.body.contains("unknown_card"));
    // Another organization's users see none of it; a reversed period is refused.
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    let p = get(&h, &format!("/reports?kind=unduplicated&{range}&format=csv"), &south).await;
    assert!(p.body.contains("All programs,0,0"), "{}", p.body);
    let p = get(&h, "/reports?kind=services&from=2026-11-30&to=2026-11-01", &viewer).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_household_enters_together_or_not_at_all() {
    let h = Harness::new();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let number = |id: i64| -> i64 {
        h.conn()
            .query_row("SELECT client_number FROM clients WHERE id = ?", [id], |r| r.get(0))
            .unwrap()
    };
    let (head, child, partner) = (h.clients[0].0, h.clients[1].0, h.clients[2].0);
    let dash = format!("/clients/{head}");
    // The shelter, head with a child and a partner.
    let fields = format!(
        "program_id={}&entry_date=2026-11-01&member1={}&relationship1=2&member2={}&relationship2=3&member3=",
        h.shelter,
        number(child),
        number(partner)
    );
    // An unknown member: nobody is enrolled.
    let bad = fields.replace(&format!("member2={}", number(partner)), "member2=999999");
    let p = post_with_csrf(&h, &format!("/clients/{head}/enroll"), &staff, &dash, &bad).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.body);
    assert_eq!(
        h.count(&format!("SELECT COUNT(*) FROM enrollments WHERE program_id = {}", h.shelter)),
        0
    );
    let p = post_with_csrf(&h, &format!("/clients/{head}/enroll"), &staff, &dash, &fields).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let rows: Vec<(i64, String, i64)> = h
        .conn()
        .prepare("SELECT client_id, household_id, relationship_to_hoh FROM enrollments WHERE program_id = ? ORDER BY client_id")
        .unwrap()
        .query_map([h.shelter], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.1 == rows[0].1), "one household");
    let rel: Vec<(i64, i64)> = rows.iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(rel, [(head, 1), (child, 2), (partner, 3)]);
}

#[tokio::test]
async fn cards_are_reprinted_and_reported_lost_from_the_dashboard() {
    let h = Harness::new();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let (client, old_code) = (h.clients[0].0, h.clients[0].1.clone());
    let dash = format!("/clients/{client}");
    // Reprint: a new card, and the old one is replaced, so stations see it as such.
    let (_, snap) = h.call("GET", "/api/v1/roster", Some(&h.tokens[0]), None).await;
    let cursor = snap["cursor"].as_i64().unwrap();
    let p = post_with_csrf(
        &h,
        &format!("/clients/{client}/cards"),
        &staff,
        &dash,
        "expires=2027-12-31",
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let page = get(&h, &dash, &staff).await.body;
    assert!(page.contains("replaced") && page.contains("2027-12-31"), "{page}");
    let (_, delta) = h
        .call("GET", &format!("/api/v1/roster/delta?since={cursor}"), Some(&h.tokens[0]), None)
        .await;
    assert!(
        delta["cards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == old_code.as_str() && c["replaced"] == true)
    );
    // Report the new card lost: it is revoked and no longer resolves.
    let new_card: i64 = h
        .conn()
        .query_row(
            "SELECT id FROM cards WHERE client_id = ? AND replaced_by IS NULL",
            [client],
            |r| r.get(0),
        )
        .unwrap();
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let p = post_with_csrf(&h, &format!("/cards/{new_card}/revoke"), &viewer, &dash, "reason=lost")
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = post_with_csrf(
        &h,
        &format!("/cards/{new_card}/revoke"),
        &staff,
        &dash,
        "reason=lost+at+the+bus+stop",
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let reason: String = h
        .conn()
        .query_row("SELECT revoked_reason FROM cards WHERE id = ?", [new_card], |r| r.get(0))
        .unwrap();
    assert_eq!(reason, "lost at the bus stop");
    assert!(get(&h, &dash, &staff).await.body.contains("revoked"));
    assert_eq!(
        h.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('issue_card', 'revoke_card')"),
        2
    );
}
