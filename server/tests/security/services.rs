//! One meal a day, whichever door records it. A station's accepted scan once did not count at
//! the desk, so Add service gave a second meal, and Post Services then posted both; the desk
//! also served a barred client without a word. Now every way a service is made runs the same
//! verdict, Post Services judges each entry again as it posts, and a batch closed while a
//! station was offline still takes that station's scans, marked for review.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::web::{csrf_of, get, post_form, post_with_csrf};
use crate::harness::{self, Harness, entry, verdicts};
use crate::{changes_nothing, signed_in};
use scanline_core::domain::BarScope;
use scanline_server::store::{bars, services, users::Role};

fn enrollment_of(h: &Harness, client: i64) -> i64 {
    h.count(&format!(
        "SELECT id FROM enrollments WHERE client_id = {client} AND program_id = {}",
        h.meals
    ))
}

fn meals_of(h: &Harness, client: i64) -> i64 {
    h.count(&format!(
        "SELECT COUNT(*) FROM services WHERE client_id = {client} AND deleted_at IS NULL"
    ))
}

#[tokio::test]
async fn the_desk_cannot_add_a_meal_a_station_already_gave_and_post_services_posts_one() {
    let h = Harness::new();
    let staff = signed_in(&h, "desk", h.org_a, Role::Staff).await;
    let (client, code) = h.clients[0].clone();
    let batch = h.create_batch(0, h.meals, &[h.meal], harness::TODAY).await;
    let (_, body) = h.upload(0, &batch, json!([entry(&code, harness::NOW)])).await;
    assert_eq!(verdicts(&body), ["accepted"]);

    // At the desk, before the batch is posted: the same meal for the same client and day.
    let dash = format!("/clients/{client}");
    let form = format!("service={}:{}&date={}", enrollment_of(&h, client), h.meal, harness::TODAY);
    let csrf = csrf_of(&get(&h, &dash, &staff).await.body);
    changes_nothing(&h, async {
        let p = post_form(&h, &format!("{dash}/services"), &staff, &format!("csrf={csrf}&{form}"))
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
        assert!(p.body.contains("Already served"), "{}", p.body);
    })
    .await;
    // Quick Services says the same for that client.
    let quick = format!("service={}:{}&date={}&client={client}", h.meals, h.meal, harness::TODAY);
    let p = post_with_csrf(&h, "/quick-services", &staff, "/quick-services", &quick).await;
    assert!(p.body.contains("Already served"), "{}", p.body);

    let summary = h.post(0, &batch).await;
    assert_eq!(summary["posted"], 1);
    assert_eq!(meals_of(&h, client), 1, "one meal, whichever door");
}

#[tokio::test]
async fn post_services_judges_each_entry_again_and_flags_what_became_a_duplicate() {
    let h = Harness::new();
    let (client, code) = h.clients[1].clone();
    let batch = h.create_batch(0, h.meals, &[h.meal], harness::TODAY).await;
    let (_, body) = h.upload(0, &batch, json!([entry(&code, harness::NOW)])).await;
    assert_eq!(verdicts(&body), ["accepted"]);
    // A meal for the same day recorded by another door after the scan, behind the verdict's
    // back (what an HMIS import of that day does).
    h.conn()
        .execute(
            "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id,
                 date_provided, units, unit_value, created_at)
             VALUES (?, ?, ?, ?, ?, 1, 0, '2026-11-28 20:00:00.000000000+00:00')",
            rusqlite::params![enrollment_of(&h, client), client, h.meals, h.meal, harness::TODAY],
        )
        .unwrap();
    let summary = h.post(0, &batch).await;
    assert_eq!(summary["posted"], 0, "{summary}");
    let flagged = summary["flagged"].as_array().unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["verdict"], "duplicate");
    assert_eq!(meals_of(&h, client), 1);
    // A bar made after the scan does not undo a meal already given.
    let (other, other_code) = h.clients[2].clone();
    let batch = h.create_batch(1, h.meals, &[h.meal], harness::TODAY).await;
    h.upload(1, &batch, json!([entry(&other_code, harness::NOW)])).await;
    bars::insert(
        &h.conn(),
        other,
        BarScope::Organization(h.org_a),
        harness::d(harness::TODAY),
        harness::d("2026-12-31"),
        "after the meal",
        None,
    )
    .unwrap();
    assert_eq!(h.post(1, &batch).await["posted"], 1);
}

#[tokio::test]
async fn the_desk_says_why_it_refuses_a_barred_client_and_saves_nothing() {
    let h = Harness::new();
    let staff = signed_in(&h, "desk", h.org_a, Role::Staff).await;
    let (client, _) = h.clients[3];
    bars::insert(
        &h.conn(),
        client,
        BarScope::Program(h.meals),
        harness::d("2026-11-01"),
        harness::d("2026-12-31"),
        "incident",
        None,
    )
    .unwrap();
    let dash = format!("/clients/{client}");
    let form = format!("service={}:{}&date={}", enrollment_of(&h, client), h.meal, harness::TODAY);
    let csrf = csrf_of(&get(&h, &dash, &staff).await.body);
    changes_nothing(&h, async {
        let p = post_form(&h, &format!("{dash}/services"), &staff, &format!("csrf={csrf}&{form}"))
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.body.contains("Barred"), "{}", p.body);
        // Nor through the store, as the command line uses it.
        let refused = services::add(
            &h.conn(),
            &services::NewService {
                client_id: client,
                enrollment_id: enrollment_of(&h, client),
                service_type_id: h.meal,
                date: harness::d(harness::TODAY),
                units: 1.0,
                user_id: 1,
            },
            h.clock.now(),
        );
        assert!(refused.is_err());
    })
    .await;
    assert_eq!(get(&h, &dash, &staff).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_closed_batch_keeps_a_late_upload_for_review() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.meals, &[h.meal], harness::TODAY).await;
    let (status, _) =
        h.call("POST", &format!("/api/v1/batches/{batch}/close"), Some(&h.tokens[0]), None).await;
    assert_eq!(status, StatusCode::OK);
    // The station was offline and scanned before it learnt of the close.
    let late = entry(&h.clients[4].1, harness::NOW);
    let (status, body) = h.upload(0, &batch, json!([late])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(verdicts(&body), ["accepted"]);
    assert!(body["entries"][0]["detail"].as_str().unwrap().contains("after the batch was closed"));
    assert_eq!(h.count("SELECT COUNT(*) FROM batch_entries WHERE late = 1"), 1);
    // Staff see it flagged in the batch list, and Post Services posts it.
    let staff = signed_in(&h, "desk", h.org_a, Role::Staff).await;
    let list = get(&h, "/batches", &staff).await.body;
    assert!(list.contains("<td>1</td>"), "one entry waits for review: {list}");
    let review = get(&h, &format!("/batches/{batch}"), &staff).await.body;
    assert!(review.contains("arrived after the batch was closed"), "{review}");
    assert_eq!(h.post(0, &batch).await["posted"], 1);
    // At the desk, where the person sees the refusal, a closed batch takes no new scan.
    changes_nothing(&h, async {
        let web = harness::web::post_with_csrf(
            &h,
            &format!("/batches/{batch}/scan"),
            &staff,
            &format!("/batches/{batch}"),
            &format!("code={}", h.clients[3].1),
        )
        .await;
        assert_eq!(web.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(web.body.contains("This batch is closed"), "{}", web.body);
    })
    .await;
}
