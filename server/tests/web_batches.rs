//! Services by the batch through the real router: the web batch page with its verdicts and
//! Post Services, Quick Services for several clients, and the reports of what was served.

mod harness;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use harness::Harness;
use scanline_server::store::users;

use harness::web::{PASSWORD, add_user, csrf_of, get, post_form, post_with_csrf, send, sign_in};

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
    h.posted_night("2026-11-20", "2026-11-21").await;

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
    assert!(p.body.starts_with("Program,Unduplicated clients,Services given\r\n"), "{}", p.body);
    assert!(p.body.contains("All programs,3,4"), "three people, four services: {}", p.body);
    let p = get(&h, &format!("/reports?kind=occupancy&{range}"), &viewer).await;
    assert!(
        p.body.contains("<svg")
            && p.body.contains("2026-11-20: 2 of 3 beds")
            && p.body.contains("capacity"),
        "{}",
        p.body
    );
    let p = get(&h, &format!("/reports?kind=flagged&{range}&format=csv"), &viewer).await;
    assert!(p.body.contains("NONSENSE") || p.body.contains("nonsense"), "{}", p.body);
    assert!(p.body.contains("Unknown card"), "the verdict in words: {}", p.body);
    // Another organization's users see none of it; a reversed period is refused.
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    let p = get(&h, &format!("/reports?kind=unduplicated&{range}&format=csv"), &south).await;
    assert!(p.body.contains("All programs,0,0"), "{}", p.body);
    let p = get(&h, "/reports?kind=services&from=2026-11-30&to=2026-11-01", &viewer).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
}
