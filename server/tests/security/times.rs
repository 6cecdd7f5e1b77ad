//! Times and dates from outside: an impossible scan time once answered 500 and stopped every
//! write on the server until a restart. Now it is a 422 with a plain message, nothing is
//! stored, and the writer keeps writing; and no body a station can send answers 5xx.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::harness::{self, Harness, entry};
use crate::{changes_nothing, signed_in};
use scanline_server::store::users::Role;

#[tokio::test]
async fn an_impossible_scan_time_is_refused_and_every_write_still_works() {
    let h = Harness::new();
    let batch = h.create_batch(0, h.meals, &[h.meal], harness::TODAY).await;
    let code = h.clients[0].1.clone();
    changes_nothing(&h, async {
        for at in [
            "-262143-01-01T00:00:00Z",
            "+262142-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z",
            "2025-10-24T00:00:00Z", // 401 days before the server's clock
            "2026-12-02T00:00:00Z", // 3 days after it
        ] {
            let (status, body) = h.upload(0, &batch, json!([entry(&code, at)])).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{at}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("outside what a station can produce")
                    || body["error"]["code"] == "invalid_body",
                "{at}: {body}"
            );
        }
        // A good entry beside a bad one: the request is refused whole.
        let (status, _) = h
            .upload(
                0,
                &batch,
                json!([entry(&code, harness::NOW), entry(&code, "-262143-01-01T00:00:00Z")]),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
    // The writer still writes: a scan, a sign-in, and the health check.
    let (status, body) = h.upload(0, &batch, json!([entry(&code, harness::NOW)])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(harness::verdicts(&body), ["accepted"]);
    signed_in(&h, "ana", h.org_a, Role::Staff).await;
    let (status, health) = h.call("GET", "/healthz", None, None).await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
}

#[tokio::test]
async fn a_batch_date_outside_the_window_is_refused() {
    let h = Harness::new();
    changes_nothing(&h, async {
        for date in ["0000-01-01", "1999-01-01", "2025-10-23", "2026-12-01", "+262142-01-01"] {
            let (status, body) = h
                .call(
                    "POST",
                    "/api/v1/batches",
                    Some(&h.tokens[0]),
                    Some(json!({"uuid": uuid::Uuid::now_v7(), "program_id": h.meals,
                                "service_type_ids": [h.meal], "service_date": date})),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{date}: {body}");
        }
    })
    .await;
}

#[tokio::test]
async fn staff_forms_refuse_impossible_dates_and_change_nothing() {
    let h = Harness::new();
    let staff = signed_in(&h, "ana", h.org_a, Role::Staff).await;
    let (client, _) = h.clients[0];
    let enrollment: i64 = h.count(&format!(
        "SELECT id FROM enrollments WHERE client_id = {client} AND program_id = {}",
        h.meals
    ));
    let forms = [
        (
            format!("/clients/{client}/services"),
            format!("service={enrollment}:{}&date=0000-01-01", h.meal),
        ),
        (
            format!("/clients/{client}/services"),
            format!("service={enrollment}:{}&date=2024-01-01", h.meal),
        ),
        (
            format!("/clients/{client}/services"),
            format!("service={enrollment}:{}&date=2099-01-01", h.meal),
        ),
        (
            format!("/clients/{client}/enroll"),
            format!("program_id={}&entry_date=-262143-01-01", h.shelter),
        ),
        (
            format!("/clients/{client}/enroll"),
            format!("program_id={}&entry_date=1066-10-14", h.shelter),
        ),
        (
            format!("/enrollments/{enrollment}/exit"),
            "exit_date=9999-12-31&destination=30".to_owned(),
        ),
        (
            format!("/enrollments/{enrollment}/exit"),
            "exit_date=2026-11-27&destination=4242".to_owned(),
        ),
        (format!("/clients/{client}/cards"), "expires=1900-01-00".to_owned()),
        (format!("/clients/{client}/cards"), "expires=2001-01-01".to_owned()),
        (
            "/bars".to_owned(),
            format!(
                "client=1&scope=organization:{}&begin=0001-01-01&end=2026-12-01&reason=x",
                h.org_a
            ),
        ),
        (
            "/clients/new".to_owned(),
            format!("organization_id={}&first_name=A&last_name=B&dob=2999-01-01", h.org_a),
        ),
        (
            "/quick-services".to_owned(),
            format!("service={}:{}&date=1800-01-01&client={client}", h.meals, h.meal),
        ),
    ];
    changes_nothing(&h, async {
        for (path, fields) in &forms {
            let p = harness::web::post_with_csrf(&h, path, &staff, "/clients", fields).await;
            assert!(
                p.status == StatusCode::UNPROCESSABLE_ENTITY
                    || (p.status == StatusCode::OK && p.body.contains("must be a date")
                        || p.body.contains("between 1900 and 2100")
                        || p.body.contains("in the future")),
                "{path} {fields}: {} {}",
                p.status,
                p.body
            );
            assert!(!p.body.contains("Something went wrong"), "{path}: {}", p.body);
        }
        let p =
            harness::web::get(&h, "/reports?kind=services&from=0001-01-01&to=2026-11-01", &staff)
                .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    })
    .await;
}

/// One request as a station sends it, with any body.
async fn send(h: &Harness, method: &str, path: &str, body: Vec<u8>) -> StatusCode {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", h.tokens[0]))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    h.raw(req).await.0
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::String),
        scan_time().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("uuid".to_owned()),
                        Just("code".to_owned()),
                        Just("scanned_at".to_owned()),
                        Just("entries".to_owned()),
                        Just("program_id".to_owned()),
                        Just("service_type_ids".to_owned()),
                        Just("service_date".to_owned()),
                        "[a-z_]{1,12}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A scan time anywhere in chrono's range and beyond, as RFC 3339 text.
fn scan_time() -> impl Strategy<Value = String> {
    prop_oneof![
        (-8_300_000_000_000i64..8_300_000_000_000i64).prop_map(|secs| {
            chrono::DateTime::from_timestamp(secs, 0)
                .map_or_else(|| format!("{secs}"), |t| t.to_rfc3339())
        }),
        (-300_000i32..300_000, 1u32..=12, 1u32..=28)
            .prop_map(|(y, m, d)| format!("{y:+05}-{m:02}-{d:02}T00:00:00Z")),
        (1_700_000_000i64..1_900_000_000)
            .prop_map(|secs| { chrono::DateTime::from_timestamp(secs, 0).unwrap().to_rfc3339() }),
    ]
}

/// A well-formed upload whose times are anywhere.
fn upload_with_times() -> impl Strategy<Value = Value> {
    prop::collection::vec((scan_time(), "[0-9]{0,20}"), 1..8).prop_map(|entries| {
        json!({"entries": entries.into_iter().map(|(at, code)| json!({
            "uuid": uuid::Uuid::new_v4(), "code": code, "scanned_at": at,
        })).collect::<Vec<_>>()})
    })
}

#[test]
fn no_station_request_answers_5xx_or_stops_the_writer() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _in = rt.enter();
    let h = Harness::new();
    let batch = rt.block_on(h.create_batch(0, h.meals, &[h.meal], harness::TODAY));
    let paths = [
        ("POST", format!("/api/v1/batches/{batch}/entries")),
        ("POST", "/api/v1/batches".to_owned()),
        ("POST", "/api/v1/entries/held".to_owned()),
        ("POST", format!("/api/v1/batches/{batch}/post")),
        ("DELETE", format!("/api/v1/batches/{batch}/entries/{}", uuid::Uuid::new_v4())),
    ];
    let config =
        ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(body in prop_oneof![any_json(), upload_with_times()], which in 0..paths.len())| {
        let (method, path) = &paths[which];
        let status = rt.block_on(send(&h, method, path, body.to_string().into_bytes()));
        prop_assert!(!status.is_server_error(), "{method} {path} {body}: {status}");
    });
    // The writer still writes and the health check says so.
    let (status, body) =
        rt.block_on(h.upload(0, &batch, json!([entry(&h.clients[1].1, harness::NOW)])));
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = rt.block_on(h.call("GET", "/healthz", None, None));
    assert_eq!(status, StatusCode::OK);
}
