//! Station API v1 through the real router: idempotent uploads, cross-station duplicates,
//! refusals that change nothing, Post Services exactly once, roster snapshot and delta, and the
//! generated OpenAPI document.

mod harness;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use harness::{Harness, entry, verdicts};
use serde_json::{Value, json};
use tower::ServiceExt;

const NOON: &str = "2026-11-21T20:00:00Z"; // 12:00 in Los Angeles

#[tokio::test]
async fn a_retried_upload_creates_nothing_new() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-21").await;
    let entries = json!([
        entry(&h.clients[0].1, NOON),
        entry(&h.clients[1].1, NOON),
        entry(&h.clients[0].1, NOON),
        entry("garbage", NOON),
    ]);
    let (status, first) = h.upload(0, &batch, entries.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(verdicts(&first), ["accepted", "accepted", "duplicate", "unknown_card"]);
    let before = h.dump();

    // The response was lost and the station retries the same request.
    let (status, again) = h.upload(0, &batch, entries).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verdicts(&again), verdicts(&first));
    assert!(again["entries"].as_array().unwrap().iter().all(|e| e["duplicate_upload"] == true));
    assert_eq!(h.dump(), before, "a retried upload changed the database");

    // Post twice: services once.
    let summary = h.post(0, &batch).await;
    assert_eq!(summary["posted"], 2);
    assert_eq!(summary["services_created"], 2);
    assert_eq!(summary["flagged"].as_array().unwrap().len(), 2);
    let again = h.post(0, &batch).await;
    assert_eq!(again["posted"], 0);
    assert_eq!(again["already_posted"], 2);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 2);
}

#[tokio::test]
async fn the_count_of_guests_without_a_card_only_grows_and_stays_in_its_station() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-21").await;
    let path = format!("/api/v1/batches/{batch}/anonymous");
    let put = async |station: usize, body: Value| {
        h.call("PUT", &path, Some(&h.tokens[station]), Some(body)).await
    };
    let (status, body) = put(0, json!({"count": 3})).await;
    assert_eq!((status, body["count"].clone()), (StatusCode::OK, json!(3)), "{body}");
    // A retry, or an older count arriving late, changes nothing.
    assert_eq!(put(0, json!({"count": 3})).await.1["count"], 3);
    assert_eq!(put(0, json!({"count": 2})).await.1["count"], 3);
    let before = h.dump();
    // Too many, a negative or fractional count, extra fields, another station's batch: refused,
    // nothing changed.
    for (station, body, want) in [
        (0, json!({"count": 100_001}), StatusCode::UNPROCESSABLE_ENTITY),
        (0, json!({"count": -1}), StatusCode::UNPROCESSABLE_ENTITY),
        (0, json!({"count": 1.5}), StatusCode::UNPROCESSABLE_ENTITY),
        (0, json!({"count": 4, "client": 1}), StatusCode::UNPROCESSABLE_ENTITY),
        (2, json!({"count": 9}), StatusCode::NOT_FOUND),
    ] {
        let (status, answer) = put(station, body.clone()).await;
        assert_eq!(status, want, "{body}: {answer}");
        assert!(answer["error"]["code"].is_string(), "{answer}");
    }
    assert_eq!(h.dump(), before, "a refused count changed the database");
    let (_, info) =
        h.call("GET", &format!("/api/v1/batches/{batch}"), Some(&h.tokens[0]), None).await;
    assert_eq!(info["anonymous"], 3, "{info}");
}

#[tokio::test]
async fn two_stations_serving_one_client_end_with_one_service_and_one_duplicate() {
    let h = Harness::new();
    let b1 = h.create_batch(0, h.meals, &[h.meal], "2026-11-21").await;
    let b2 = h.create_batch(1, h.meals, &[h.meal], "2026-11-21").await;
    let code = &h.clients[2].1;
    // Both stations judged the scan "accepted" offline.
    let mut e1 = entry(code, NOON);
    e1["station_verdict"] = json!("accepted");
    let mut e2 = entry(code, "2026-11-21T20:01:00Z");
    e2["station_verdict"] = json!("accepted");
    let (s1, r1) = h.upload(0, &b1, json!([e1])).await;
    let (s2, r2) = h.upload(1, &b2, json!([e2])).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(verdicts(&r1), ["accepted"]);
    assert_eq!(verdicts(&r2), ["duplicate"]);
    assert_eq!(r2["entries"][0]["changed"], true, "the station must learn its verdict changed");
    h.post(0, &b1).await;
    let s = h.post(1, &b2).await;
    assert_eq!(s["posted"], 0);
    assert_eq!(s["flagged"][0]["verdict"], "duplicate");
    assert_eq!(h.count("SELECT COUNT(*) FROM services WHERE client_id IS NOT NULL"), 1);
}

#[tokio::test]
async fn refusals_are_json_and_change_nothing() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-21").await;
    let uri = format!("/api/v1/batches/{batch}/entries");
    let good = json!({"entries": [entry(&h.clients[0].1, NOON)]});
    let before = h.dump();

    let check = |status: StatusCode, body: Value, want: StatusCode, code: &str| {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    };

    let (s, b) = h.call("POST", &uri, None, Some(good.clone())).await;
    check(s, b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = h.call("POST", &uri, Some("sls_0000"), Some(good.clone())).await;
    check(s, b, StatusCode::UNAUTHORIZED, "unauthorized");

    // Another organization's station cannot see this batch, nor create one for our program.
    let (s, b) = h.call("POST", &uri, Some(&h.tokens[2]), Some(good.clone())).await;
    check(s, b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = h
        .call(
            "POST",
            "/api/v1/batches",
            Some(&h.tokens[2]),
            Some(json!({"uuid": uuid::Uuid::now_v7(), "program_id": h.meals, "service_type_ids": [h.meal], "service_date": "2026-11-21"})),
        )
        .await;
    check(s, b, StatusCode::FORBIDDEN, "forbidden");

    // Malformed JSON, an unknown field, a wrong type, no content type, an oversized body.
    let bad = |body: &str, ct: Option<&str>| {
        let mut r = Request::builder()
            .method("POST")
            .uri(&uri)
            .header("authorization", format!("Bearer {}", h.tokens[0]));
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        r.body(Body::from(body.to_owned())).unwrap()
    };
    let (s, b) = h.raw(bad("{\"entries\": [", Some("application/json"))).await;
    check(s, b, StatusCode::BAD_REQUEST, "malformed_json");
    let mut unknown = good.clone();
    unknown["entries"][0]["client_name"] = json!("x");
    let (s, b) = h.raw(bad(&unknown.to_string(), Some("application/json"))).await;
    check(s, b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let (s, b) = h.raw(bad("{\"entries\": 5}", Some("application/json"))).await;
    check(s, b, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let (s, b) = h.raw(bad(&good.to_string(), None)).await;
    check(s, b, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = format!("{{\"entries\": [], \"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (s, b) = h.raw(bad(&huge, Some("application/json"))).await;
    check(s, b, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let many: Vec<Value> = (0..1001).map(|_| entry("1", NOON)).collect();
    let (s, b) = h.upload(0, &batch, json!(many)).await;
    check(s, b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // A bad batch UUID, an unknown endpoint.
    let (s, b) = h
        .call("POST", "/api/v1/batches/not-a-uuid/entries", Some(&h.tokens[0]), Some(good.clone()))
        .await;
    check(s, b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = h.call("GET", "/api/v1/nothing", Some(&h.tokens[0]), None).await;
    check(s, b, StatusCode::NOT_FOUND, "not_found");

    assert_eq!(h.dump(), before, "a refused request changed the database");

    // A revoked token is refused from then on.
    {
        let conn = h.conn();
        scanline_server::store::stations::revoke(&conn, h.station_ids[0]).unwrap();
    }
    let before = h.dump();
    let (s, b) = h.call("POST", &uri, Some(&h.tokens[0]), Some(good)).await;
    check(s, b, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(h.dump(), before);
}

#[tokio::test]
async fn batch_creation_is_idempotent_and_checked() {
    let h = Harness::new();
    let uuid = uuid::Uuid::now_v7();
    let req = json!({"uuid": uuid, "program_id": h.meals, "service_type_ids": [h.meal], "service_date": "2026-11-21"});
    let (s, _) = h.call("POST", "/api/v1/batches", Some(&h.tokens[0]), Some(req.clone())).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = h.call("POST", "/api/v1/batches", Some(&h.tokens[0]), Some(req)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let other = json!({"uuid": uuid, "program_id": h.meals, "service_type_ids": [h.meal], "service_date": "2026-11-22"});
    let (s, b) = h.call("POST", "/api/v1/batches", Some(&h.tokens[0]), Some(other)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    // A service type of another program.
    let wrong = json!({"uuid": uuid::Uuid::now_v7(), "program_id": h.meals, "service_type_ids": [h.bed], "service_date": "2026-11-21"});
    let (s, b) = h.call("POST", "/api/v1/batches", Some(&h.tokens[0]), Some(wrong)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(h.count("SELECT COUNT(*) FROM batches"), 1);
}

#[tokio::test]
async fn delete_revalidate_and_close_with_auto_post() {
    let h = Harness::new();
    let uuid = uuid::Uuid::now_v7().to_string();
    let req = json!({"uuid": uuid, "program_id": h.meals, "service_type_ids": [h.meal], "service_date": "2026-11-21", "auto_post": true});
    let (s, _) = h.call("POST", "/api/v1/batches", Some(&h.tokens[0]), Some(req)).await;
    assert_eq!(s, StatusCode::CREATED);
    // A client without an enrollment is flagged; staff enroll them and revalidate.
    let (new_client, code) = {
        let conn = h.conn();
        let (id, _) = scanline_server::store::clients::insert(
            &conn,
            &scanline_server::store::clients::NewClient {
                organization_id: h.org_a,
                first_name: "Fay".into(),
                last_name: "Fairweather".into(),
                ..Default::default()
            },
        )
        .unwrap();
        (id, scanline_server::store::cards::issue_scanline(&conn, id.0, None).unwrap().1)
    };
    let dup = entry(&h.clients[0].1, NOON);
    let dup_uuid = dup["uuid"].as_str().unwrap().to_owned();
    let (_, r) =
        h.upload(0, &uuid, json!([entry(&h.clients[0].1, NOON), dup, entry(&code, NOON)])).await;
    assert_eq!(verdicts(&r), ["accepted", "duplicate", "no_open_enrollment"]);

    let (s, _) = h
        .call(
            "DELETE",
            &format!("/api/v1/batches/{uuid}/entries/{dup_uuid}"),
            Some(&h.tokens[0]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    {
        let conn = h.conn();
        scanline_server::store::enrollments::insert(
            &conn,
            &scanline_server::store::enrollments::NewEnrollment {
                client_id: new_client.0,
                program_id: h.meals,
                entry_date: harness::d("2026-11-20"),
                household_id: None,
                relationship_to_hoh: 1,
            },
        )
        .unwrap();
    }
    let (s, r) = h
        .call("POST", &format!("/api/v1/batches/{uuid}/revalidate"), Some(&h.tokens[0]), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(verdicts(&r), ["accepted", "accepted"]);

    let (s, r) =
        h.call("POST", &format!("/api/v1/batches/{uuid}/close"), Some(&h.tokens[0]), None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["batch"]["state"], "closed");
    assert_eq!(r["post"]["posted"], 2);
    assert_eq!(r["post"]["deleted"], 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), 2);
    // A posted entry cannot be deleted.
    let posted = r["batch"]["uuid"].as_str().unwrap().to_owned();
    let first_uuid: String = h
        .conn()
        .query_row("SELECT uuid FROM batch_entries WHERE posted_at IS NOT NULL LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let (s, _) = h
        .call(
            "DELETE",
            &format!("/api/v1/batches/{posted}/entries/{first_uuid}"),
            Some(&h.tokens[0]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Services cannot be hard-deleted, even by SQL.
    assert!(h.conn().execute("DELETE FROM services", []).is_err());
}

#[tokio::test]
async fn roster_snapshot_has_no_pii_and_deltas_follow_changes() {
    let h = Harness::new();
    let (s, snap) = h.call("GET", "/api/v1/roster", Some(&h.tokens[0]), None).await;
    assert_eq!(s, StatusCode::OK, "{snap}");
    assert_eq!(snap["clients"].as_array().unwrap().len(), 5);
    assert_eq!(snap["clients"][0]["display_name"], "Ana A.");
    assert_eq!(snap["cards"].as_array().unwrap().len(), 5);
    assert_eq!(snap["programs"].as_array().unwrap().len(), 2);
    let text = snap.to_string();
    for secret in ["1980-02-03", "123456789", "Alder"] {
        assert!(!text.contains(secret), "the roster leaks {secret}");
    }
    let cursor = snap["cursor"].as_i64().unwrap();

    // Nothing changed: an empty delta with the same cursor.
    let (s, delta) = h
        .call("GET", &format!("/api/v1/roster/delta?since={cursor}"), Some(&h.tokens[0]), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(delta["cursor"], cursor);
    assert!(delta["cards"].as_array().unwrap().is_empty());

    // A reprint: the old card is replaced, a new one appears; a bar for today.
    let client = h.clients[1].0;
    let new_code = {
        let conn = h.conn();
        let today = chrono::Utc::now().date_naive();
        scanline_server::store::bars::insert(
            &conn,
            client,
            scanline_core::domain::BarScope::Program(h.meals),
            today - chrono::Days::new(1),
            today + chrono::Days::new(5),
            "test",
            None,
        )
        .unwrap();
        scanline_server::store::cards::issue_scanline(&conn, client, None).unwrap().1
    };
    let (s, delta) = h
        .call("GET", &format!("/api/v1/roster/delta?since={cursor}"), Some(&h.tokens[0]), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{delta}");
    let cards = delta["cards"].as_array().unwrap();
    assert!(cards.iter().any(|c| c["code"] == new_code.as_str() && c["replaced"] == false));
    assert!(cards.iter().any(|c| c["code"] == h.clients[1].1.as_str() && c["replaced"] == true));
    assert_eq!(delta["bars"].as_array().unwrap().len(), 1);
    assert!(delta["cursor"].as_i64().unwrap() > cursor);

    // A station of another organization does not get this organization's bar.
    let (_, snap_b) = h.call("GET", "/api/v1/roster", Some(&h.tokens[2]), None).await;
    assert!(snap_b["bars"].as_array().unwrap().is_empty());
    assert!(snap_b["enrollments"].as_array().unwrap().is_empty());

    // A cursor from the future, and no cursor at all.
    let (s, b) = h.call("GET", "/api/v1/roster/delta?since=999999", Some(&h.tokens[0]), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, b) = h.call("GET", "/api/v1/roster/delta", Some(&h.tokens[0]), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["error"]["code"], "invalid_cursor");
}

#[tokio::test]
async fn uploads_show_up_in_other_stations_deltas() {
    let h = Harness::new();
    let (_, snap) = h.call("GET", "/api/v1/roster", Some(&h.tokens[1]), None).await;
    let cursor = snap["cursor"].as_i64().unwrap();
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-21").await;
    // As a station sends it: with the verdict it showed.
    let mut e = entry(&h.clients[3].1, NOON);
    e["station_verdict"] = json!("accepted");
    h.upload(0, &batch, json!([e.clone()])).await;
    let h = &h;
    let delta_of = |station: usize, since: i64| async move {
        let path = format!("/api/v1/roster/delta?since={since}");
        h.call("GET", &path, Some(&h.tokens[station]), None).await.1
    };
    let delta = delta_of(1, cursor).await;
    let served = delta["served"].as_array().unwrap();
    assert_eq!(served.len(), 1, "{delta}");
    assert_eq!(served[0]["entry_uuid"], e["uuid"]);
    assert_eq!(served[0]["client_id"], h.clients[3].0);
    // The station that scanned it holds it already: its delta does not carry it back.
    let own = delta_of(0, cursor).await;
    assert_eq!(own["cursor"], delta["cursor"]);
    assert!(own["served"].as_array().unwrap().is_empty(), "{own}");
    // After posting, the pending record turns into a service, again only for the other one.
    let cursor = delta["cursor"].as_i64().unwrap();
    h.post(0, &batch).await;
    let delta = delta_of(1, cursor).await;
    assert_eq!(delta["removed_served"].as_array().unwrap().len(), 1, "{delta}");
    assert!(delta["served"][0]["key"].as_str().unwrap().starts_with("svc:"));
    let own = delta_of(0, cursor).await;
    assert!(own["served"].as_array().unwrap().is_empty(), "{own}");
    assert!(own["removed_served"].as_array().unwrap().is_empty(), "{own}");
    // An entry stored without a station's verdict (as the desk's batch page stores its scans)
    // is not one the station holds: it goes to every station, this one too.
    let cursor = own["cursor"].as_i64().unwrap();
    let desk = entry(&h.clients[4].1, NOON);
    h.upload(0, &batch, json!([desk.clone()])).await;
    let own = delta_of(0, cursor).await;
    assert_eq!(own["served"].as_array().unwrap().len(), 1, "{own}");
    assert_eq!(own["served"][0]["entry_uuid"], desk["uuid"]);
}

#[tokio::test]
async fn health_and_openapi() {
    let h = Harness::new();
    let (s, b) = h.call("GET", "/healthz", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["status"], "ok");
    assert_eq!(b["schema_version"], scanline_server::db::schema_version_known());
    let (s, doc) = h.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/roster",
        "/api/v1/roster/delta",
        "/api/v1/batches",
        "/api/v1/batches/{batch}/entries",
        "/api/v1/batches/{batch}/post",
        "/api/v1/batches/{batch}/close",
        "/healthz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"].get("UploadEntries").is_some());
    assert!(doc["components"]["securitySchemes"].get("station_token").is_some());
}

#[tokio::test]
async fn client_photos_only_for_stations_that_may_see_the_client() {
    let h = Harness::new();
    let client = h.clients[0].0;
    {
        let conn = h.conn();
        conn.execute(
            "INSERT INTO photos (client_id, jpeg, thumbnail, width, height, created_at) VALUES (?, x'FFD8FFD9', x'FFD8FFD9', 1, 1, 'x')",
            [client],
        )
        .unwrap();
        conn.execute(
            "UPDATE clients SET photo_id = last_insert_rowid(), restricted = 1 WHERE id = ?",
            [client],
        )
        .unwrap();
    }
    let uri = format!("/api/v1/clients/{client}/photo");
    let req = |token: &str| {
        Request::builder()
            .uri(&uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let resp = h.app.clone().oneshot(req(&h.tokens[0])).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    // A station of another organization: the restricted client does not exist for it.
    let (s, b) = h.raw(req(&h.tokens[2])).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    let (s, _) = h
        .call("GET", &format!("/api/v1/clients/{}/photo", h.clients[1].0), Some(&h.tokens[0]), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no photo on file");
    let (s, _) = h.call("GET", &uri, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_station_speaking_another_protocol_version_is_told_plainly() {
    let h = Harness::new();
    let request = |version: &str| {
        axum::http::Request::get("/api/v1/roster")
            .header("authorization", format!("Bearer {}", h.tokens[0]))
            .header(scanline_core::wire::PROTOCOL_HEADER, version)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (status, _) = h.raw(request("1")).await;
    assert_eq!(status, axum::http::StatusCode::OK);
    for version in ["2", "0", "one"] {
        let (status, body) = h.raw(request(version)).await;
        assert_eq!(status, axum::http::StatusCode::BAD_REQUEST, "{version}");
        assert_eq!(body["error"]["code"], "protocol_unsupported", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("install matching versions"), "{message}");
    }
}
