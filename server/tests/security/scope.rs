//! Two organizations, end to end: every staff page and download of North is unreachable for
//! South's staff and admins, by ID guessing too. North's records here are a restricted
//! client (hidden outside North by rule) with a photo, a card, an enrollment, a service and a
//! bar, and North's batch, station, printer, print job and user. Every read answers like
//! something that does not exist (or shows nothing of North), every change is refused, and
//! the database is as it was.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::harness::web::{Page, csrf_of, get, post_form, send};
use crate::harness::{self, Harness, entry};
use crate::{changes_nothing, signed_in};
use scanline_core::domain::BarScope;
use scanline_server::card::pdf::Paper;
use scanline_server::store::printers::{self, PrinterInput, PrinterKind};
use scanline_server::store::{bars, cards, clients, enrollments, services, users::Role};

/// What North holds, by id.
struct North {
    client: i64,
    card: i64,
    enrollment: i64,
    service: i64,
    bar: i64,
    batch: String,
    entry: String,
    printer: i64,
    job: i64,
    station: i64,
    user: i64,
}

/// The restricted client's name: it must appear nowhere South can read.
const NAME: &str = "Zephyrine";

async fn north(h: &Harness) -> North {
    crate::harness::web::add_user(h, "north-boss", h.org_a, Role::Admin);
    let user = h.count("SELECT MAX(id) FROM users");
    let conn = h.conn();
    let (client, _) = clients::insert(
        &conn,
        &clients::NewClient {
            organization_id: h.org_a,
            first_name: NAME.into(),
            last_name: "Quillfeather".into(),
            restricted: true,
            ..clients::NewClient::default()
        },
    )
    .unwrap();
    let (card, code) = cards::issue_scanline(&conn, client.0, None).unwrap();
    let enrollment = enrollments::insert(
        &conn,
        &enrollments::NewEnrollment {
            client_id: client.0,
            program_id: h.meals,
            entry_date: harness::d("2026-01-01"),
            household_id: None,
            relationship_to_hoh: 1,
        },
    )
    .unwrap();
    let service = services::add(
        &conn,
        &services::NewService {
            client_id: client.0,
            enrollment_id: enrollment,
            service_type_id: h.meal,
            date: harness::d("2026-11-20"),
            units: 1.0,
            user_id: user,
        },
        h.clock.now(),
    )
    .unwrap();
    let bar = bars::insert(
        &conn,
        client.0,
        BarScope::Program(h.shelter),
        harness::d("2026-11-01"),
        harness::d("2026-12-31"),
        "north only",
        None,
    )
    .unwrap();
    let printer = printers::insert(
        &conn,
        h.org_a,
        &PrinterInput {
            name: "North desk".into(),
            uri: "ipp://127.0.0.1:9/ipp/print".into(),
            kind: PrinterKind::Card,
            media: String::new(),
            paper: Paper::Letter,
            dpi: 300,
            bitmap_width: 1012,
            bitmap_height: 638,
            duplex: false,
            document_format: "application/pdf".into(),
        },
    )
    .unwrap();
    let job = printers::create_job(
        &conn,
        &printers::get(&conn, printer).unwrap(),
        None,
        "North",
        &[card],
    )
    .unwrap();
    drop(conn);
    let batch = h.create_batch(0, h.meals, &[h.meal], harness::TODAY).await;
    let e = entry(&code, harness::NOW);
    let entry = e["uuid"].as_str().unwrap().to_owned();
    h.upload(0, &batch, json!([e])).await;
    North {
        client: client.0,
        card,
        enrollment,
        service,
        bar,
        batch,
        entry,
        printer,
        job,
        station: h.station_ids[0],
        user,
    }
}

/// A photo for the client, through North's own staff.
async fn give_photo(h: &Harness, client: i64) {
    let staff = signed_in(h, "north-desk", h.org_a, Role::Staff).await;
    let csrf = csrf_of(&get(h, "/clients", &staff).await.body);
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(64, 64))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let p = send(
        h,
        Request::post(format!("/clients/{client}/photo"))
            .header(header::COOKIE, &staff)
            .header("x-csrf-token", csrf)
            .body(Body::from(png))
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
}

fn shows_nothing_of_north(p: &Page, what: &str) {
    assert!(!p.body.contains(NAME), "{what} shows North's client: {}", p.body);
    assert!(!p.body.contains("Quillfeather"), "{what}: {}", p.body);
    assert!(!p.body.contains("North desk"), "{what} shows North's printer: {}", p.body);
}

#[tokio::test]
async fn nothing_of_one_organization_is_reachable_by_the_others_staff_or_admins() {
    let h = Harness::new();
    let n = north(&h).await;
    give_photo(&h, n.client).await;
    let south_staff = signed_in(&h, "south-staff", h.org_b, Role::Staff).await;
    let south_admin = signed_in(&h, "south-admin", h.org_b, Role::Admin).await;
    let reads = [
        format!("/clients/{}", n.client),
        format!("/clients/{}/photo", n.client),
        format!("/clients/{}/photo/thumbnail", n.client),
        format!("/cards/{}/front.png", n.card),
        format!("/cards/{}/back.png", n.card),
        format!("/cards/{}/card.pdf", n.card),
        format!("/batches/{}", n.batch),
        format!("/print-jobs/{}", n.job),
        format!("/admin/hmis/export.zip?from=2026-01-01&to=2026-12-31&program={}", h.meals),
        format!(
            "/admin/hmis/services.csv?from=2026-01-01&to=2026-12-31&program={}&format=plain",
            h.meals
        ),
    ];
    let lists = [
        "/clients?q=zephyr".to_owned(),
        "/clients?q=zep+qui".to_owned(),
        format!("/admin/audit?client={}", n.client),
        "/admin/audit".to_owned(),
        "/batches".to_owned(),
        "/print-jobs".to_owned(),
        "/admin/printers".to_owned(),
        "/admin/stations".to_owned(),
        "/admin/users".to_owned(),
        "/bars".to_owned(),
        "/admin/hmis".to_owned(),
        format!("/cards/bulk?program={}&all=1", h.meals),
        format!("/quick-services?service={}:{}&date=2026-11-20", h.meals, h.meal),
        "/reports?kind=services&from=2026-11-01&to=2026-11-28&format=csv".to_owned(),
        "/reports?kind=unduplicated&from=2026-11-01&to=2026-11-28".to_owned(),
        "/reports?kind=flagged&from=2026-11-01&to=2026-11-28".to_owned(),
    ];
    let changes = [
        (
            format!("/clients/{}/enroll", n.client),
            format!("program_id={}&entry_date=2026-11-20", h.meals_b),
        ),
        (
            format!("/enrollments/{}/exit", n.enrollment),
            "exit_date=2026-11-27&destination=30".to_owned(),
        ),
        (
            format!("/clients/{}/services", n.client),
            format!("service={}:{}&date=2026-11-27", n.enrollment, h.meal),
        ),
        (format!("/services/{}/delete", n.service), "reason=gone".to_owned()),
        (format!("/clients/{}/cards", n.client), String::new()),
        (format!("/cards/{}/revoke", n.card), "reason=lost".to_owned()),
        (format!("/cards/{}/print", n.card), format!("printer={}", n.printer)),
        (format!("/clients/{}/photo/remove", n.client), String::new()),
        (format!("/bars/{}/end", n.bar), "last_day=2026-11-27".to_owned()),
        (format!("/batches/{}/scan", n.batch), "code=12345".to_owned()),
        (format!("/batches/{}/entries/{}/delete", n.batch, n.entry), String::new()),
        (format!("/batches/{}/revalidate", n.batch), String::new()),
        (format!("/batches/{}/post", n.batch), String::new()),
        (format!("/admin/printers/{}/check", n.printer), String::new()),
        (format!("/admin/printers/{}/disable", n.printer), String::new()),
        (format!("/admin/stations/{}/revoke", n.station), String::new()),
        (format!("/admin/users/{}/disable", n.user), String::new()),
        ("/admin/hmis/mapping".to_owned(), format!("code_{}=1&unit_{}=C", h.meal, h.meal)),
        (
            "/admin/hmis/organization".to_owned(),
            format!(
                "organization_id={}&hmis_organization_id=X&hmis_user_id=&restrict_org=",
                h.org_a
            ),
        ),
        (
            "/quick-services".to_owned(),
            format!("service={}:{}&date=2026-11-27&client={}", h.meals, h.meal, n.client),
        ),
        (
            "/bars".to_owned(),
            format!(
                "client=#{}&scope=program:{}&begin=2026-11-27&end=2026-11-30&reason=x",
                h.count(&format!("SELECT client_number FROM clients WHERE id = {}", n.client)),
                h.meals
            ),
        ),
    ];
    for (who, cookie) in [("South staff", &south_staff), ("South admin", &south_admin)] {
        // Lists and searches answer, with nothing of North (a search is audited, so these
        // are not "refusals that change nothing").
        for path in &lists {
            let p = get(&h, path, cookie).await;
            assert!(!p.status.is_server_error(), "{who} {path}: {}", p.status);
            shows_nothing_of_north(&p, path);
        }
        changes_nothing(&h, async {
            for path in &reads {
                let p = get(&h, path, cookie).await;
                assert!(
                    matches!(p.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                    "{who} reads {path}: {}",
                    p.status
                );
                shows_nothing_of_north(&p, path);
            }
            let csrf = csrf_of(&get(&h, "/clients", cookie).await.body);
            for (path, fields) in &changes {
                let sep = if fields.is_empty() { "" } else { "&" };
                let p = post_form(&h, path, cookie, &format!("csrf={csrf}{sep}{fields}")).await;
                assert!(
                    matches!(
                        p.status,
                        StatusCode::NOT_FOUND
                            | StatusCode::FORBIDDEN
                            | StatusCode::UNPROCESSABLE_ENTITY
                    ) || (p.status == StatusCode::OK && !p.body.contains("added")),
                    "{who} changes {path}: {} {}",
                    p.status,
                    p.body
                );
                shows_nothing_of_north(&p, path);
            }
        })
        .await;
    }
    // The station API: South's station cannot reach North's batch or client photo either.
    changes_nothing(&h, async {
        for (method, path) in [
            ("GET", format!("/api/v1/batches/{}", n.batch)),
            ("POST", format!("/api/v1/batches/{}/post", n.batch)),
            ("GET", format!("/api/v1/clients/{}/photo", n.client)),
        ] {
            let (status, _) = h.call(method, &path, Some(&h.tokens[2]), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        }
    })
    .await;
}
