//! The admins' pages through the real router: stations registered and revoked, users added
//! and disabled, and the audit trail.

mod harness;

use axum::http::StatusCode;
use harness::Harness;
use scanline_server::store::users;

use harness::web::{PASSWORD, add_user, get, post_with_csrf, sign_in};

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
