//! What only a real server process shows: its resident memory while photo bombs arrive, and
//! a sign-in flood over real sockets while a station uploads (no upload fails or times out;
//! the flood is answered with refusals). The latency figures under a flood are measured by
//! `benches/signin_flood.rs`, never asserted here.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use scanline_server::db::{self, immediate};
use scanline_server::store::{
    StoreError, cards, clients, enrollments, orgs, programs, stations, users,
};

use crate::harness::web::PASSWORD;

/// The real `scanline-server serve` on a loopback port it chose, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the database holds before the server starts.
pub(crate) struct Setup {
    pub(crate) token: String,
    pub(crate) program: i64,
    pub(crate) meal: i64,
    pub(crate) client: i64,
    pub(crate) codes: Vec<String>,
}

pub(crate) fn start() -> (Server, Setup) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let mut conn = db::open_and_migrate(&path).unwrap();
    let setup = immediate(&mut conn, |tx| {
        let org = orgs::insert(tx, "North Agency", "America/Los_Angeles")?;
        let program = programs::insert(
            tx,
            &programs::NewProgram {
                organization_id: org,
                name: "Meals".into(),
                project_type: 6,
                capacity: None,
                capacity_policy: scanline_core::domain::LimitPolicy::Enforce,
                cutover_hour: 12,
                enrollment_policy: scanline_core::domain::EnrollmentPolicy::Reject,
                auto_exit_after_nights: None,
            },
        )?;
        let meal = programs::insert_service_type(
            tx,
            &programs::NewServiceType::simple(program.0, "Meal"),
        )?;
        let (_, token) = stations::insert(tx, org, "Line 1", &[program.0])?;
        users::insert(tx, "desk", "Desk", PASSWORD, org, users::Role::Staff)?;
        let mut codes = Vec::new();
        let mut first = 0;
        for i in 0..400 {
            let (id, _) = clients::insert(
                tx,
                &clients::NewClient {
                    organization_id: org,
                    first_name: format!("Guest{i}"),
                    last_name: "Load".into(),
                    ..clients::NewClient::default()
                },
            )?;
            if i == 0 {
                first = id.0;
            }
            enrollments::insert(
                tx,
                &enrollments::NewEnrollment {
                    client_id: id.0,
                    program_id: program.0,
                    entry_date: "2020-01-01".parse().unwrap(),
                    household_id: None,
                    relationship_to_hoh: 1,
                },
            )?;
            codes.push(cards::issue_scanline(tx, id.0, None)?.1);
        }
        Ok::<_, StoreError>(Setup { token, program: program.0, meal, client: first, codes })
    })
    .unwrap();
    drop(conn);
    let mut child = Command::new(env!("CARGO_BIN_EXE_scanline-server"))
        .args(["--db", path.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server prints where it listens").unwrap();
        if let Some(u) = line.strip_prefix("listening on ") {
            break u.to_owned();
        }
    };
    (Server { child, url, dir }, setup)
}

impl Server {
    /// The most resident memory the process has had (VmHWM), in bytes.
    pub(crate) fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The first `name=value` of a response's Set-Cookie headers for `name`.
fn cookie(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_default()
}

fn csrf(body: &str) -> String {
    crate::harness::web::csrf_of(body)
}

/// Posts the sign-in form; returns the response.
pub(crate) async fn sign_in(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let form = http.get(format!("{url}/login")).send().await.unwrap();
    let login = cookie(&form, "scanline_login");
    let token = csrf(&form.text().await.unwrap());
    http.post(format!("{url}/login"))
        .header("cookie", login)
        .form(&[("username", user), ("password", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn photo_bombs_leave_the_server_under_300_mb() {
    let (server, setup) = start();
    let http = client();
    let session = cookie(&sign_in(&http, &server.url, "desk", PASSWORD).await, "scanline_session");
    assert!(!session.is_empty());
    let page = http
        .get(format!("{}/clients", server.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let token = csrf(&page.text().await.unwrap());
    let bomb = super::photos::bomb();
    let mut sent = Vec::new();
    for _ in 0..6 {
        let (http, url, session, token, bomb) =
            (http.clone(), server.url.clone(), session.clone(), token.clone(), bomb.clone());
        let client = setup.client;
        sent.push(tokio::spawn(async move {
            http.post(format!("{url}/clients/{client}/photo"))
                .header("cookie", session)
                .header("x-csrf-token", token)
                .header("content-type", "image/png")
                .body(bomb)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for s in sent {
        assert_eq!(s.await.unwrap(), 422);
    }
    let peak = server.peak_memory();
    println!("peak resident memory under 6 photo bombs: {} MB", peak / (1024 * 1024));
    assert!(peak < 300 * 1024 * 1024, "the server reached {} MB", peak / (1024 * 1024));
}

#[tokio::test]
async fn a_sign_in_flood_never_fails_a_station_upload() {
    let (server, setup) = start();
    let http = client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut flood = Vec::new();
    for n in 0..16 {
        let (http, url, stop) = (http.clone(), server.url.clone(), stop.clone());
        let attempts = attempts.clone();
        flood.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = sign_in(&http, &url, &format!("nobody{n}x{i}"), "guess").await;
                statuses.push(r.status().as_u16());
                attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                i += 1;
            }
            statuses
        }));
    }
    let today = chrono::Utc::now().with_timezone(&chrono_tz::America::Los_Angeles).date_naive();
    let batch = uuid::Uuid::now_v7();
    let auth = format!("Bearer {}", setup.token);
    let r = http
        .post(format!("{}/api/v1/batches", server.url))
        .header("authorization", &auth)
        .json(&serde_json::json!({"uuid": batch, "program_id": setup.program,
                                   "service_type_ids": [setup.meal], "service_date": today}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // The station keeps uploading until the flood has sent plenty; each code is accepted
    // once, then scanned again as a duplicate.
    let mut round = 0;
    while round < 2 || attempts.load(std::sync::atomic::Ordering::SeqCst) < 60 {
        for chunk in setup.codes.chunks(20) {
            let entries: Vec<_> = chunk
                .iter()
                .map(|c| {
                    serde_json::json!({"uuid": uuid::Uuid::now_v7(), "code": c,
                                            "scanned_at": chrono::Utc::now()})
                })
                .collect();
            let r = http
                .post(format!("{}/api/v1/batches/{batch}/entries", server.url))
                .header("authorization", &auth)
                .json(&serde_json::json!({ "entries": entries }))
                .send()
                .await
                .expect("no station upload times out under the flood");
            assert_eq!(r.status(), 200);
        }
        round += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut seen = std::collections::BTreeMap::new();
    for f in flood {
        for s in f.await.unwrap() {
            *seen.entry(s).or_insert(0) += 1;
        }
    }
    println!("sign-in flood answers: {seen:?}");
    assert!(seen.keys().all(|s| [401, 429, 503].contains(s)), "{seen:?}");
    assert!(seen.contains_key(&429), "the flooding address was told to wait: {seen:?}");
    let accepted: i64 = rusqlite::Connection::open(server.dir.path().join("server.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM batch_entries WHERE verdict = 'accepted'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(accepted, 400);
}
