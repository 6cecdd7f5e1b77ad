//! Shared set-up for the server's router tests: a file database with two organizations, a meal
//! program and a night-by-night shelter, a few clients with cards, and three stations; requests
//! go through the real router with `oneshot`, no socket.

#![allow(dead_code, unreachable_pub)]

pub mod ipp;
pub mod web;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use rusqlite::Connection;
use scanline_core::domain::{EnrollmentPolicy, LimitPolicy};
use scanline_server::app::app;
use scanline_server::clock::Clock;
use scanline_server::db::{self, Db, immediate};
use scanline_server::state::AppState;
use scanline_server::store::{StoreError, cards, clients, enrollments, orgs, programs, stations};
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub app: Router,
    pub org_a: i64,
    pub org_b: i64,
    pub meals: i64,
    pub meal: i64,
    pub shelter: i64,
    pub bed: i64,
    pub meals_b: i64,
    pub meal_b: i64,
    /// Station 1 and 2 of organization A, station 3 of organization B.
    pub tokens: [String; 3],
    pub station_ids: [i64; 3],
    /// (client id, card code) for five clients of organization A.
    pub clients: Vec<(i64, String)>,
    /// The server's clock, pinned at `NOW` so the tests' dates stay inside the window a
    /// station can scan in, whatever the calendar says.
    pub clock: Clock,
}

/// The instant the tests run at: the evening of 2026-11-28 in both organizations' zones.
pub const NOW: &str = "2026-11-29T03:00:00Z";
/// `NOW`'s date in both organizations' zones.
pub const TODAY: &str = "2026-11-28";

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let mut conn = db::open_and_migrate(&path).unwrap();
        let ids = immediate(&mut conn, |tx| {
            let org_a = orgs::insert(tx, "North Agency", "America/Los_Angeles")?;
            let org_b = orgs::insert(tx, "South Agency", "America/Chicago")?;
            let program = |org, name: &str, pt, cap, policy, auto_exit| programs::NewProgram {
                organization_id: org,
                name: name.into(),
                project_type: pt,
                capacity: cap,
                capacity_policy: LimitPolicy::Enforce,
                cutover_hour: 12,
                enrollment_policy: policy,
                auto_exit_after_nights: auto_exit,
            };
            let meals = programs::insert(
                tx,
                &program(org_a, "Meals", 6, None, EnrollmentPolicy::Reject, None),
            )?;
            let meal = programs::insert_service_type(
                tx,
                &programs::NewServiceType::simple(meals.0, "Meal"),
            )?;
            let shelter = programs::insert(
                tx,
                &program(org_a, "Shelter", 1, Some(3), EnrollmentPolicy::AutoEnroll, Some(3)),
            )?;
            let bed = programs::insert_service_type(
                tx,
                &programs::NewServiceType {
                    record_type: Some(200),
                    type_provided: Some(200),
                    ..programs::NewServiceType::simple(shelter.0, "Bed Night")
                },
            )?;
            let meals_b = programs::insert(
                tx,
                &program(org_b, "Meals B", 6, None, EnrollmentPolicy::Reject, None),
            )?;
            let meal_b = programs::insert_service_type(
                tx,
                &programs::NewServiceType::simple(meals_b.0, "Meal"),
            )?;
            let (s1, t1) = stations::insert(tx, org_a, "Line 1", &[meals.0, shelter.0])?;
            let (s2, t2) = stations::insert(tx, org_a, "Line 2", &[meals.0, shelter.0])?;
            let (s3, t3) = stations::insert(tx, org_b, "South line", &[meals_b.0])?;
            let mut cl = Vec::new();
            for (first, last) in [
                ("Ana", "Alder"),
                ("Ben", "Brook"),
                ("Cleo", "Castell"),
                ("Dev", "Dunmore"),
                ("Eli", "Ellery"),
            ] {
                let (id, _) = clients::insert(
                    tx,
                    &clients::NewClient {
                        organization_id: org_a,
                        first_name: first.into(),
                        last_name: last.into(),
                        dob: Some(d("1980-02-03")),
                        ssn: Some("123456789".into()),
                        ..clients::NewClient::default()
                    },
                )?;
                let (_, code) = cards::issue_scanline(tx, id.0, None)?;
                enrollments::insert(
                    tx,
                    &enrollments::NewEnrollment {
                        client_id: id.0,
                        program_id: meals.0,
                        entry_date: d("2026-01-01"),
                        household_id: None,
                        relationship_to_hoh: 1,
                    },
                )?;
                cl.push((id, code));
            }
            Ok::<_, StoreError>((
                org_a,
                org_b,
                meals,
                meal,
                shelter,
                bed,
                meals_b,
                meal_b,
                [t1, t2, t3],
                [s1, s2, s3],
                cl,
            ))
        })
        .unwrap();
        drop(conn);
        let db = Db::open(&path).unwrap();
        let clock = Clock::fixed(NOW.parse().unwrap());
        let app = app(AppState { clock: clock.clone(), ..AppState::new(db.clone()) });
        let (
            org_a,
            org_b,
            meals,
            meal,
            shelter,
            bed,
            meals_b,
            meal_b,
            tokens,
            station_ids,
            clients,
        ) = ids;
        Self {
            dir,
            db,
            app,
            org_a,
            org_b,
            meals: meals.0,
            meal,
            shelter: shelter.0,
            bed,
            meals_b: meals_b.0,
            meal_b,
            tokens,
            station_ids,
            clients: clients.into_iter().map(|(id, code)| (id.0, code)).collect(),
            clock,
        }
    }

    pub fn conn(&self) -> Connection {
        Connection::open(self.dir.path().join("server.db")).unwrap()
    }

    /// Every row of every table, for "nothing changed" checks. A station's "last seen" time is
    /// left out: an authenticated request may update it.
    pub fn dump(&self) -> String {
        let conn = self.conn();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut out = String::new();
        for t in tables {
            let cols: Vec<String> = conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<Vec<String>, _>>()
                .unwrap()
                .into_iter()
                .filter(|c| c != "last_seen_at")
                .map(|c| format!("\"{c}\""))
                .collect();
            let mut stmt = conn
                .prepare(&format!("SELECT {} FROM \"{t}\" ORDER BY rowid", cols.join(", ")))
                .unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut line = String::new();
                    for i in 0..n {
                        let v: rusqlite::types::Value = r.get(i)?;
                        line.push_str(&format!("{v:?}|"));
                    }
                    Ok(line)
                })
                .unwrap();
            out.push_str(&format!("## {t}\n"));
            for row in rows {
                out.push_str(&row.unwrap());
                out.push('\n');
            }
        }
        out
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Sends a request through the router; returns the status and the JSON body (or Null).
    pub async fn raw(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, body)
    }

    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => {
                req.header("content-type", "application/json").body(Body::from(b.to_string()))
            }
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.raw(req).await
    }

    pub async fn create_batch(
        &self,
        station: usize,
        program: i64,
        types: &[i64],
        date: &str,
    ) -> String {
        let uuid = uuid::Uuid::now_v7().to_string();
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/batches",
                Some(&self.tokens[station]),
                Some(json!({"uuid": uuid, "program_id": program, "service_type_ids": types, "service_date": date})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        uuid
    }

    pub async fn upload(&self, station: usize, batch: &str, entries: Value) -> (StatusCode, Value) {
        self.call(
            "POST",
            &format!("/api/v1/batches/{batch}/entries"),
            Some(&self.tokens[station]),
            Some(json!({ "entries": entries })),
        )
        .await
    }

    pub async fn post(&self, station: usize, batch: &str) -> Value {
        let (status, body) = self
            .call(
                "POST",
                &format!("/api/v1/batches/{batch}/post"),
                Some(&self.tokens[station]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The shelter's night of `night` from station 0, with clients 0 and 2 checked in at
    /// 05:00 UTC the next morning, posted. Returns the batch.
    pub async fn posted_night(&self, night: &str, next_morning: &str) -> String {
        let batch = self.create_batch(0, self.shelter, &[self.bed], night).await;
        let at = format!("{next_morning}T05:00:00Z");
        self.upload(
            0,
            &batch,
            json!([entry(&self.clients[0].1, &at), entry(&self.clients[2].1, &at)]),
        )
        .await;
        self.post(0, &batch).await;
        batch
    }
}

/// An entry as a station uploads it.
pub fn entry(code: &str, scanned_at: &str) -> Value {
    json!({"uuid": uuid::Uuid::now_v7().to_string(), "code": code, "scanned_at": scanned_at})
}

pub fn verdicts(body: &Value) -> Vec<String> {
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["verdict"].as_str().unwrap().to_owned())
        .collect()
}

/// Everything an HMIS import can change, by HMIS IDs, as text, to compare databases.
pub fn hmis_records(conn: &Connection) -> String {
    let mut out = String::new();
    for sql in [
        "SELECT name, time_zone, hmis_organization_id, hmis_updated_at FROM organizations ORDER BY name",
        "SELECT p.name, p.project_type, p.hmis_project_id, p.hmis_updated_at FROM programs p ORDER BY p.hmis_project_id",
        "SELECT personal_id, first_name, middle_name, last_name, name_data_quality, ssn, ssn_data_quality, dob, dob_data_quality, hmis_updated_at FROM clients ORDER BY personal_id",
        "SELECT e.hmis_enrollment_id, c.personal_id, p.hmis_project_id, e.entry_date, e.household_id, e.relationship_to_hoh, e.exit_date, e.destination, e.hmis_exit_id, e.hmis_updated_at FROM enrollments e JOIN clients c ON c.id = e.client_id JOIN programs p ON p.id = e.program_id ORDER BY e.hmis_enrollment_id",
        "SELECT s.hmis_services_id, e.hmis_enrollment_id, c.personal_id, s.date_provided, st.name, st.record_type, st.type_provided, s.deleted_at IS NOT NULL, s.hmis_updated_at FROM services s JOIN enrollments e ON e.id = s.enrollment_id JOIN clients c ON c.id = s.client_id JOIN service_types st ON st.id = s.service_type_id ORDER BY s.hmis_services_id",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            out.push_str(&row.unwrap().join("|"));
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}
