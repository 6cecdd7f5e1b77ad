//! Changing a client's records through the real router: add a client with the duplicate
//! warning, enroll a household and exit, add and soft-delete services, bars, and cards reprinted
//! or reported lost.

mod harness;

use axum::http::StatusCode;
use harness::Harness;
use scanline_server::store::users;

use harness::web::{PASSWORD, add_user, get, post_with_csrf, sign_in};

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
    // The dashboard of the new client, saying it was saved.
    let location = p.location.unwrap();
    let id: i64 = location
        .trim_start_matches("/clients/")
        .strip_suffix("?saved=added")
        .unwrap_or_else(|| panic!("{location}"))
        .parse()
        .unwrap();
    assert!(get(&h, &location, &cookie).await.body.contains("Saved: the client was added."));
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
