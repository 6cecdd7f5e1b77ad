//! ID cards through the real router (DESIGN §11): a rendered card scans with a real barcode
//! reader (`zbarimg`) and the code it reads resolves to the right client the way a station
//! resolves it; cards print on a real IPP printer (`ippeveprinter`) byte for byte and the job is
//! followed to the end; a printer that cannot print two-sided refuses with a clear message;
//! a program's clients get their missing cards issued and printed on a sheet; and only the
//! right people may do each of these.

mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use harness::ipp::TestPrinter;
use harness::web::{PASSWORD, add_user, get, post_with_csrf, sign_in};
use harness::{Harness, d, entry, verdicts};
use scanline_server::card::pdf::Paper;
use scanline_server::print_queue;
use scanline_server::store::printers::{self, PrinterInput, PrinterKind};
use scanline_server::store::{clients, enrollments, users};

/// Both symbols `zbarimg` finds in a PNG, as (type, data).
fn zbar(png: &[u8]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .arg("-q")
        .arg(&path)
        .output()
        .expect("zbarimg runs (Debian package zbar-tools)");
    let mut found: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(t, d)| (t.to_owned(), d.to_owned()))
        .collect();
    found.sort();
    found
}

fn card_id(h: &Harness, code: &str) -> i64 {
    h.conn().query_row("SELECT id FROM cards WHERE code = ?", [code], |r| r.get(0)).unwrap()
}

fn add_printer(
    h: &Harness,
    name: &str,
    uri: &str,
    kind: PrinterKind,
    duplex: bool,
    dpi: u32,
) -> i64 {
    let (w, hgt) = scanline_server::card::cr80_at(dpi);
    printers::insert(
        &h.conn(),
        h.org_a,
        &PrinterInput {
            name: name.into(),
            uri: uri.into(),
            kind,
            media: if kind == PrinterKind::Card {
                "custom_53.98x85.6mm_53.98x85.6mm".into()
            } else {
                String::new()
            },
            paper: Paper::Letter,
            dpi,
            bitmap_width: w,
            bitmap_height: hgt,
            duplex,
            document_format: "application/pdf".into(),
        },
    )
    .unwrap()
}

fn pages(pdf: &[u8]) -> usize {
    pdf.windows(b"/Type /Page\n".len()).filter(|w| *w == b"/Type /Page\n").count()
}

async fn follow_until_final(h: &Harness, job: i64) -> printers::JobLine {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        print_queue::follow_once(&h.db).await.unwrap();
        let line = printers::get_job(&h.conn(), job).unwrap();
        if !line.active() {
            return line;
        }
        assert!(Instant::now() < deadline, "job {job} still {}", line.state);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn job_from(location: Option<&str>) -> i64 {
    location.and_then(|l| l.strip_prefix("/print-jobs/")).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_rendered_card_scans_and_resolves_to_its_client_like_at_a_station() {
    let h = Harness::new();
    h.conn()
        .execute(
            "UPDATE organizations SET phone = '(555) 010-4000', return_address = '1 Sample Way' WHERE id = ?",
            [h.org_a],
        )
        .unwrap();
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let (client, code) = h.clients[2].clone();
    let card = card_id(&h, &code);

    let front = get(&h, &format!("/cards/{card}/front.png"), &staff).await;
    assert_eq!(front.status, StatusCode::OK, "{}", front.body);
    assert_eq!(front.content_type, "image/png");
    assert_eq!(front.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(front.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let img = image::load_from_memory(&front.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (1012, 638));
    let read = zbar(&front.bytes);
    assert_eq!(
        read,
        vec![("CODE-128".to_owned(), code.clone()), ("QR-Code".to_owned(), code.clone())],
        "both barcodes carry the card code"
    );

    // The code a scanner reads resolves as at a station: normalised by the same function,
    // found in the station's roster, and judged accepted for this client.
    let key = scanline_core::card_code::classify(&read[0].1).unwrap().key;
    let (_, roster) = h.call("GET", "/api/v1/roster", Some(&h.tokens[0]), None).await;
    let listed = roster["cards"].as_array().unwrap().iter().find(|c| c["code"] == key.as_str());
    assert_eq!(listed.unwrap()["client_id"], client);
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-20").await;
    let (status, body) =
        h.upload(0, &batch, serde_json::json!([entry(&read[1].1, "2026-11-20T18:00:00Z")])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(verdicts(&body), ["accepted"]);
    assert_eq!(body["entries"][0]["client_id"], client, "{body}");

    // The back, and the card as a PDF of two card-sized pages.
    let back = get(&h, &format!("/cards/{card}/back.png"), &staff).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(zbar(&back.bytes).is_empty(), "the back carries no code");
    let pdf = get(&h, &format!("/cards/{card}/card.pdf"), &staff).await;
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pages(&pdf.bytes), 2);

    // At a 600 dpi printer's bitmap the modules scale and the card still scans.
    let fine =
        add_printer(&h, "Fine", "ipp://127.0.0.1:9/ipp/print", PrinterKind::Card, false, 600);
    let big = get(&h, &format!("/cards/{card}/front.png?printer={fine}"), &staff).await;
    let img = image::load_from_memory(&big.bytes).unwrap();
    assert_eq!((img.width(), img.height()), (2022, 1275));
    assert_eq!(zbar(&big.bytes).len(), 2);

    // A replaced card is not printed; another organization cannot see the card at all.
    h.conn().execute("UPDATE cards SET replaced_by = id WHERE id = ?", [card]).unwrap();
    let gone = get(&h, &format!("/cards/{card}/front.png"), &staff).await;
    assert_eq!(gone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(gone.body.contains("no longer scans"), "{}", gone.body);
    add_user(&h, "south", h.org_b, users::Role::Staff);
    h.conn().execute("UPDATE clients SET restricted = 1 WHERE id = ?", [h.clients[3].0]).unwrap();
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    let hidden = card_id(&h, &h.clients[3].1);
    assert_eq!(
        get(&h, &format!("/cards/{hidden}/front.png"), &south).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&h, "/cards/xyz/front.png", &staff).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&h, &format!("/cards/{card}/card.svg"), &staff).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_printed_card_arrives_byte_for_byte_and_its_job_is_followed_to_the_end() {
    let h = Harness::new();
    let printer = TestPrinter::card().await;
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let cards_printer =
        add_printer(&h, "Card printer", &printer.uri(), PrinterKind::Card, true, 300);
    let (client, code) = h.clients[0].clone();
    let card = card_id(&h, &code);
    let dash = format!("/clients/{client}");
    assert!(get(&h, &dash, &staff).await.body.contains("Print card"));

    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let refused = post_with_csrf(
        &h,
        &format!("/cards/{card}/print"),
        &viewer,
        &dash,
        &format!("printer={cards_printer}"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(printer.spool_files().is_empty());

    let sent = post_with_csrf(
        &h,
        &format!("/cards/{card}/print"),
        &staff,
        &dash,
        &format!("printer={cards_printer}"),
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let job = job_from(sent.location.as_deref());
    let spooled = printer.wait_for_spool(1, Duration::from_secs(20)).await;
    let expected =
        get(&h, &format!("/cards/{card}/card.pdf?printer={cards_printer}"), &staff).await;
    assert_eq!(
        std::fs::read(&spooled[0]).unwrap(),
        expected.bytes,
        "the printer got exactly the card"
    );
    assert_eq!(pages(&expected.bytes), 2, "front and back");

    let done = follow_until_final(&h, job).await;
    assert_eq!(done.state, "completed", "{done:?}");
    assert_eq!(done.media, "custom_53.98x85.6mm_53.98x85.6mm");
    assert_eq!(done.sides, "two-sided-long-edge");
    assert!(done.ipp_job_id.is_some());
    let page = get(&h, &format!("/print-jobs/{job}"), &staff).await;
    assert!(page.body.contains("Printed"), "{}", page.body);
    assert!(get(&h, "/print-jobs", &staff).await.body.contains(&format!("Card {code}")));
    assert_eq!(h.count("SELECT COUNT(*) FROM audit_events WHERE action = 'print_card'"), 1);
}

#[tokio::test]
async fn two_sided_on_a_one_sided_printer_is_refused_in_plain_words() {
    let h = Harness::new();
    let printer = TestPrinter::simplex().await;
    add_user(&h, "admin", h.org_a, users::Role::Admin);
    let admin = sign_in(&h, "admin", PASSWORD).await.unwrap();
    let office = add_printer(&h, "Office", &printer.uri(), PrinterKind::Sheet, true, 300);
    let (client, code) = h.clients[1].clone();
    let card = card_id(&h, &code);
    let dash = format!("/clients/{client}");

    let sent = post_with_csrf(
        &h,
        &format!("/cards/{card}/print"),
        &admin,
        &dash,
        &format!("printer={office}"),
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let job = job_from(sent.location.as_deref());
    let page = get(&h, &format!("/print-jobs/{job}"), &admin).await;
    assert!(page.body.contains("Refused by the printer"), "{}", page.body);
    assert!(page.body.contains("one side only"), "{}", page.body);
    // Nothing may arrive: give a printer that took the job time to write it, then look.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(printer.spool_files().is_empty(), "nothing reached the printer");
    assert_eq!(printers::get_job(&h.conn(), job).unwrap().state, "refused");

    // The admin's check says the same before anyone waits at the desk.
    let check = post_with_csrf(
        &h,
        &format!("/admin/printers/{office}/check"),
        &admin,
        "/admin/printers",
        "",
    )
    .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("one side only"), "{}", check.body);
}

#[tokio::test]
async fn a_programs_clients_without_cards_get_them_issued_on_a_sheet_and_printed() {
    let h = Harness::new();
    let printer = TestPrinter::card().await;
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    let mut new_clients = Vec::new();
    {
        let conn = h.conn();
        for i in 0..12 {
            let (id, _) = clients::insert(
                &conn,
                &clients::NewClient {
                    organization_id: h.org_a,
                    first_name: format!("Nuevo{i}"),
                    last_name: "Zamora".into(),
                    ..clients::NewClient::default()
                },
            )
            .unwrap();
            enrollments::insert(
                &conn,
                &enrollments::NewEnrollment {
                    client_id: id.0,
                    program_id: h.meals,
                    entry_date: d("2026-01-01"),
                    household_id: None,
                    relationship_to_hoh: 1,
                },
            )
            .unwrap();
            new_clients.push(id);
        }
    }
    let list = get(&h, &format!("/cards/bulk?program={}&missing=1", h.meals), &staff).await;
    assert!(list.body.contains("12 clients"), "{}", list.body);
    assert!(!list.body.contains("Alder"), "clients with a card are left out");
    let all = get(&h, &format!("/cards/bulk?program={}", h.meals), &staff).await;
    assert!(all.body.contains("17 clients"), "{}", all.body);

    let picked = new_clients.iter().map(|c| format!("&client={c}")).collect::<Vec<_>>().concat();
    let before = h.count("SELECT COUNT(*) FROM cards");
    let sheet = post_with_csrf(
        &h,
        "/cards/bulk",
        &staff,
        "/cards/bulk",
        &format!("program={}&action=pdf&paper=a4&backs=1{picked}", h.meals),
    )
    .await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.body);
    assert_eq!(sheet.content_type, "application/pdf");
    assert_eq!(pages(&sheet.bytes), 4, "two sheets of fronts, each with its backs");
    assert_eq!(h.count("SELECT COUNT(*) FROM cards") - before, 12);
    assert_eq!(h.count("SELECT COUNT(*) FROM audit_events WHERE action = 'issue_card'"), 12);

    // Again, to the card printer: nobody gets a second card, and every card is printed.
    let p = add_printer(&h, "Cards", &printer.uri(), PrinterKind::Card, true, 300);
    let sent = post_with_csrf(
        &h,
        "/cards/bulk",
        &staff,
        "/cards/bulk",
        &format!("program={}&action=print&printer={p}{picked}", h.meals),
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(h.count("SELECT COUNT(*) FROM cards") - before, 12);
    let spooled = printer.wait_for_spool(1, Duration::from_secs(20)).await;
    assert_eq!(pages(&std::fs::read(&spooled[0]).unwrap()), 24, "front and back of each card");

    let none = post_with_csrf(
        &h,
        "/cards/bulk",
        &staff,
        "/cards/bulk",
        &format!("program={}&action=pdf", h.meals),
    )
    .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = post_with_csrf(
        &h,
        "/cards/bulk",
        &staff,
        "/cards/bulk",
        &format!("program={}&action=pdf&client={}", h.meals_b, new_clients[0]),
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "another organization's program");
}

#[tokio::test]
async fn only_admins_set_up_printers_and_bad_settings_are_refused() {
    let h = Harness::new();
    add_user(&h, "admin", h.org_a, users::Role::Admin);
    add_user(&h, "staff", h.org_a, users::Role::Staff);
    let admin = sign_in(&h, "admin", PASSWORD).await.unwrap();
    let staff = sign_in(&h, "staff", PASSWORD).await.unwrap();
    assert_eq!(get(&h, "/admin/printers", &staff).await.status, StatusCode::FORBIDDEN);
    let form = |uri: &str, w: u32, duplex: &str, format: &str| {
        format!(
            "organization_id={}&name=Desk&uri={uri}&kind=card&media=cr80&dpi=300&bitmap_width={w}&bitmap_height=638&duplex={duplex}&document_format={format}",
            h.org_a
        )
    };
    for (fields, says) in [
        (form("ftp%3A%2F%2Fprinter", 1012, "0", "application%2Fpdf"), "not usable"),
        (
            form("ipp%3A%2F%2F127.0.0.1%2Fipp%2Fprint", 638, "0", "application%2Fpdf"),
            "not a CR80 card",
        ),
        (form("ipp%3A%2F%2F127.0.0.1%2Fipp%2Fprint", 1012, "1", "image%2Fpng"), "one side only"),
        (form("ipp%3A%2F%2F127.0.0.1%2Fipp%2Fprint", 1012, "0", "text%2Fplain"), "PDF or PNG"),
    ] {
        let p = post_with_csrf(&h, "/admin/printers", &admin, "/admin/printers", &fields).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields}");
        assert!(p.body.contains(says), "{says}: {}", p.body);
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM printers"), 0);
    let ok = post_with_csrf(
        &h,
        "/admin/printers",
        &admin,
        "/admin/printers",
        &form("ipp%3A%2F%2F127.0.0.1%3A631%2Fprinters%2Fcards", 1016, "1", "application%2Fpdf"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let listed = get(&h, "/admin/printers", &admin).await.body;
    assert!(listed.contains("1016 × 638") && listed.contains("two-sided-long-edge"), "{listed}");
    let staff_post = post_with_csrf(
        &h,
        "/admin/printers",
        &staff,
        "/clients",
        &form("ipp%3A%2F%2Fx", 1012, "0", "application%2Fpdf"),
    )
    .await;
    assert_eq!(staff_post.status, StatusCode::FORBIDDEN);
}
