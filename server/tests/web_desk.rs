//! The front desk's pages through the real router: the add-client warning finds the slips
//! staff make (no birth date, a day off, day and month swapped, first and last swapped) and
//! says why; find client takes names in either order; Quick Services marks who was served,
//! keeps its filter and answers "nobody ticked" with the form; the reports speak in words,
//! chart every night, link the clients the viewer may see and default to the organization's
//! today.

mod harness;

use axum::http::StatusCode;
use harness::web::{PASSWORD, add_user, get, post_with_csrf, sign_in};
use harness::{Harness, TODAY};
use scanline_server::store::{clients, users};

/// A restricted "Ben Brook" of organization B, born the day Ben Brook of A was: organization
/// A's staff must never see him.
fn restricted_twin(h: &Harness) -> (i64, u32) {
    let (id, number) = clients::insert(
        &h.conn(),
        &clients::NewClient {
            organization_id: h.org_b,
            first_name: "Ben".into(),
            last_name: "Brook".into(),
            dob: Some(harness::d("1980-02-03")),
            restricted: true,
            ..clients::NewClient::default()
        },
    )
    .unwrap();
    (id.0, number)
}

#[tokio::test]
async fn the_add_client_warning_finds_the_usual_slips_and_says_why() {
    let h = Harness::new();
    add_user(&h, "desk", h.org_a, users::Role::Staff);
    let desk = sign_in(&h, "desk", PASSWORD).await.unwrap();
    let (twin, twin_number) = restricted_twin(&h);
    let ben = h.clients[1].0;
    let org = h.org_a;
    let before = h.count("SELECT COUNT(*) FROM clients");
    let cases = [
        ("first_name=Ben&last_name=Brook&dob=&ssn=", "same name, no birth date to compare"),
        ("first_name=ben&last_name=BROOK&dob=1980-02-04&ssn=", "same name, birth date one day off"),
        (
            "first_name=Ben&last_name=Brook&dob=1980-03-02&ssn=",
            "same name, birth date with day and month swapped",
        ),
        (
            "first_name=Brook&last_name=Ben&dob=1980-02-03&ssn=",
            "same name with first and last swapped, same birth date",
        ),
    ];
    for (fields, why) in cases {
        let p = post_with_csrf(
            &h,
            "/clients/new",
            &desk,
            "/clients/new",
            &format!("organization_id={org}&{fields}"),
        )
        .await;
        assert_eq!(p.status, StatusCode::OK, "{fields}: {}", p.body);
        assert!(p.body.contains("may already be on file"), "{fields}: {}", p.body);
        let line = p
            .body
            .lines()
            .find(|l| l.contains(&format!("href=\"/clients/{ben}\"")))
            .unwrap_or_else(|| panic!("{fields}: Ben Brook is not listed: {}", p.body));
        assert!(line.contains(&format!("Why: {why}")), "{fields}: {line}");
        assert!(
            !p.body.contains(&format!("/clients/{twin}\""))
                && !p.body.contains(&format!("client number {twin_number}")),
            "{fields}: the restricted client of another organization is listed: {}",
            p.body
        );
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), before, "a warning adds nobody");
    // Someone alike in nothing is added at once.
    let p = post_with_csrf(
        &h,
        "/clients/new",
        &desk,
        "/clients/new",
        &format!("organization_id={org}&first_name=Quinn&last_name=Yarrow&dob=1999-09-09&ssn="),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(h.count("SELECT COUNT(*) FROM clients"), before + 1);
}

#[tokio::test]
async fn find_client_takes_the_names_in_either_order() {
    let h = Harness::new();
    add_user(&h, "desk", h.org_a, users::Role::Staff);
    let desk = sign_in(&h, "desk", PASSWORD).await.unwrap();
    let (twin, _) = restricted_twin(&h);
    let ben = format!("href=\"/clients/{}\"", h.clients[1].0);
    for q in ["ben+brook", "brook+ben", "Brook+Ben", "bro+be", "be+bro", "brook"] {
        let p = get(&h, &format!("/clients?q={q}"), &desk).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.body.contains(&ben), "{q} does not find Ben Brook: {}", p.body);
        assert!(!p.body.contains(&format!("/clients/{twin}\"")), "{q} finds the restricted twin");
        assert!(!p.body.contains("Alder, Ana"), "{q} finds Ana Alder too: {}", p.body);
    }
    // Letters that start neither name find nobody, either way round.
    for q in ["ben+alder", "alder+ben"] {
        let p = get(&h, &format!("/clients?q={q}"), &desk).await;
        assert!(p.body.contains("Nobody found"), "{q}: {}", p.body);
    }
    // The other organization sees its own restricted client by either order too.
    add_user(&h, "south", h.org_b, users::Role::Staff);
    let south = sign_in(&h, "south", PASSWORD).await.unwrap();
    let p = get(&h, "/clients?q=brook+ben", &south).await;
    assert!(p.body.contains(&format!("/clients/{twin}\"")), "{}", p.body);
}

/// Gives client `index` of the harness a meal on `date` from the desk.
fn meal(h: &Harness, index: usize, date: &str) {
    let client = h.clients[index].0;
    let enrollment: i64 = h
        .conn()
        .query_row(
            "SELECT id FROM enrollments WHERE client_id = ? AND program_id = ?",
            [client, h.meals],
            |r| r.get(0),
        )
        .unwrap();
    scanline_server::store::services::add(
        &h.conn(),
        &scanline_server::store::services::NewService {
            client_id: client,
            enrollment_id: enrollment,
            service_type_id: h.meal,
            date: harness::d(date),
            units: 1.0,
            user_id: 1,
        },
        h.clock.now(),
    )
    .unwrap_or_else(|e| panic!("a meal for the set-up: {e}"));
}

/// The `<label>` line of a client on the Quick Services list.
fn row(body: &str, client: i64) -> &str {
    let at = body
        .find(&format!("name=\"client\" value=\"{client}\""))
        .unwrap_or_else(|| panic!("client {client} is not listed: {body}"));
    let start = body[..at].rfind("<label").unwrap();
    let end = at + body[at..].find("</label>").unwrap();
    &body[start..end]
}

#[tokio::test]
async fn quick_services_marks_who_was_served_and_keeps_the_filter() {
    let h = Harness::new();
    add_user(&h, "desk", h.org_a, users::Role::Staff);
    let desk = sign_in(&h, "desk", PASSWORD).await.unwrap();
    let service = format!("{}:{}", h.meals, h.meal);
    let (ana, ben) = (h.clients[0].0, h.clients[1].0);
    meal(&h, 1, TODAY);
    meal(&h, 0, "2026-11-20");

    // Today's list marks Ben as served today; his box is left out of Select all.
    let list =
        get(&h, &format!("/quick-services?service={service}&date={}", harness::TODAY), &desk)
            .await
            .body;
    assert!(row(&list, ben).contains("Served today") && row(&list, ben).contains("data-full"));
    assert!(!row(&list, ana).contains("Served"), "{}", row(&list, ana));
    assert!(list.contains("id=\"select-all\"") && list.contains("/static/quick.js"));
    // Another day says which day.
    let list =
        get(&h, &format!("/quick-services?service={service}&date=2026-11-20"), &desk).await.body;
    assert!(row(&list, ana).contains("Served on 2026-11-20"), "{}", row(&list, ana));
    assert!(!row(&list, ben).contains("Served"));

    // Save services with nobody ticked: the same list and filter come back with the reason,
    // not an error page, and nothing is written.
    let services = h.count("SELECT COUNT(*) FROM services");
    let page = format!("/quick-services?service={service}&date=2026-11-21&last=Al");
    let p = post_with_csrf(
        &h,
        "/quick-services",
        &desk,
        &page,
        &format!("service={service}&date=2026-11-21&last=Al"),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("Nobody was ticked, so nothing was saved"), "{}", p.body);
    assert!(p.body.contains("id=\"last\" name=\"last\" value=\"Al\""), "{}", p.body);
    assert!(p.body.contains("Alder, Ana") && !p.body.contains("Brook, Ben"), "{}", p.body);
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), services);

    // Saving keeps the filter too, and the answer lists Ana as served that day.
    let p = post_with_csrf(
        &h,
        "/quick-services",
        &desk,
        &page,
        &format!("service={service}&date=2026-11-21&last=Al&client={ana}"),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("Alder, Ana: added"), "{}", p.body);
    assert!(p.body.contains("id=\"last\" name=\"last\" value=\"Al\""), "{}", p.body);
    assert!(p.body.contains("name=\"last\" value=\"Al\">"), "the save form keeps the filter");
    assert!(row(&p.body, ana).contains("Served on 2026-11-21"), "{}", row(&p.body, ana));
    assert!(!p.body.contains("Brook, Ben"));
    assert_eq!(h.count("SELECT COUNT(*) FROM services"), services + 1);

    // A service the viewer may not record lists nobody.
    let other = format!("{}:{}", h.meals_b, h.meal_b);
    let list = get(&h, &format!("/quick-services?service={other}"), &desk).await.body;
    assert!(!list.contains("name=\"client\""), "{list}");
}

#[tokio::test]
async fn reports_speak_in_words_chart_every_night_and_link_visible_clients() {
    let h = Harness::new();
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let (twin, twin_number) = restricted_twin(&h);
    let twin_card = scanline_server::store::cards::issue_scanline(&h.conn(), twin, None).unwrap().1;
    // Ana twice (the second is a duplicate) and the restricted twin of organization B, who has
    // no enrollment here: two flagged entries with a client.
    let batch = h.create_batch(0, h.meals, &[h.meal], "2026-11-20").await;
    h.upload(
        0,
        &batch,
        serde_json::json!([
            harness::entry(&h.clients[0].1, "2026-11-20T20:00:00Z"),
            harness::entry(&h.clients[0].1, "2026-11-20T20:05:00Z"),
            harness::entry(&twin_card, "2026-11-20T20:06:00Z"),
        ]),
    )
    .await;
    h.posted_night("2026-11-20", "2026-11-21").await;

    let range = "from=2026-11-15&to=2026-11-24";
    let p = get(&h, &format!("/reports?kind=flagged&{range}"), &viewer).await;
    assert_eq!(p.status, StatusCode::OK);
    for heading in ["Date", "Program", "Client", "Code scanned", "Client number", "Verdict"] {
        assert!(p.body.contains(&format!("<th scope=\"col\">{heading}</th>")), "{heading}");
    }
    let ana = h.clients[0].0;
    assert!(p.body.contains(&format!("<a href=\"/clients/{ana}\">Alder, Ana</a>")), "{}", p.body);
    assert!(p.body.contains("Already served") && !p.body.contains(">duplicate<"), "{}", p.body);
    assert!(p.body.contains("No open enrollment"), "the twin's entry is listed: {}", p.body);
    assert!(
        !p.body.contains(&format!("/clients/{twin}\""))
            && !p.body.contains(&format!(">{twin_number}<")),
        "the restricted client of another organization is named: {}",
        p.body
    );
    let csv = get(&h, &format!("/reports?kind=flagged&{range}&format=csv"), &viewer).await.body;
    assert!(
        csv.starts_with("Date,Program,Client,Code scanned,Client number,Verdict,Detail\r\n"),
        "{csv}"
    );
    assert!(csv.contains("Alder, Ana") && csv.contains("Already served"), "{csv}");

    // Occupancy: a bar for each of the ten nights, two beds on the 20th of three.
    let p = get(&h, &format!("/reports?kind=occupancy&{range}"), &viewer).await;
    assert_eq!(p.body.matches("<rect class=\"bar\"").count(), 10, "{}", p.body);
    assert!(p.body.contains("2026-11-20: 2 of 3 beds") && p.body.contains("capacity 3"));
    assert!(p.body.contains("<th scope=\"col\">Beds used</th>"), "{}", p.body);
    assert!(!p.body.contains("No bed nights were recorded"));
    // An empty period says so, and draws nothing.
    let p = get(&h, "/reports?kind=occupancy&from=2026-10-01&to=2026-10-31", &viewer).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("No bed nights were recorded from 2026-10-01 to 2026-10-31"));
    assert!(!p.body.contains("<svg"), "{}", p.body);
}

#[tokio::test]
async fn the_reports_default_period_ends_today_in_the_organizations_zone() {
    // At NOW it is already 2026-11-29 in UTC, but still the evening of the 28th in Los
    // Angeles, organization A's zone.
    let h = Harness::new();
    assert!(harness::NOW.starts_with("2026-11-29T03"));
    add_user(&h, "viewer", h.org_a, users::Role::Viewer);
    let viewer = sign_in(&h, "viewer", PASSWORD).await.unwrap();
    let p = get(&h, "/reports?kind=services", &viewer).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("id=\"to\" name=\"to\" type=\"date\" value=\"2026-11-28\""),
        "{}",
        p.body
    );
    assert!(p.body.contains("id=\"from\" name=\"from\" type=\"date\" value=\"2026-10-29\""));
    assert!(p.body.contains("2026-10-29 to 2026-11-28"), "{}", p.body);
}

/// The words of a PDF as `pdftotext` reads them back, spaces and line breaks folded.
fn pdf_words(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian package poppler-utils) is needed: tests/run installs it");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn the_verification_letter_lists_the_nights_and_months_stayed() {
    let h = Harness::new();
    // A stay history: four nights over two months in the shelter, and a meal.
    let client = h.clients[0].clone();
    for (night, morning) in [
        ("2026-10-30", "2026-10-31"),
        ("2026-10-31", "2026-11-01"),
        ("2026-11-01", "2026-11-02"),
        ("2026-11-20", "2026-11-21"),
    ] {
        let batch = h.create_batch(0, h.shelter, &[h.bed], night).await;
        let at = format!("{morning}T05:00:00Z");
        h.upload(0, &batch, serde_json::json!([harness::entry(&client.1, &at)])).await;
        assert_eq!(h.post(0, &batch).await["posted"], 1);
    }
    let meal = h.create_batch(0, h.meals, &[h.meal], "2026-11-21").await;
    h.upload(0, &meal, serde_json::json!([harness::entry(&client.1, "2026-11-21T20:00:00Z")]))
        .await;
    h.post(0, &meal).await;

    add_user(&h, "desk", h.org_a, users::Role::Staff);
    let desk = sign_in(&h, "desk", PASSWORD).await.unwrap();
    let path =
        |from: &str, to: &str| format!("/clients/{}/letter.pdf?from={from}&to={to}", client.0);
    let p = get(&h, &path("2026-10-01", "2026-11-28"), &desk).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.bytes.starts_with(b"%PDF-"));
    // Kept for a person to look at, beside the browser tests' screenshots.
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("verification-letter.pdf"), &p.bytes).unwrap();
    let words = pdf_words(&p.bytes);
    for want in [
        "Homeless verification · Verificación de situación de calle",
        "on 4 nights in 2 distinct months between 2026-10-01 and 2026-11-28",
        "se alojó en",
        "4 noches en 2 meses distintos entre el 2026-10-01 y el 2026-11-28",
        "Nights stayed / Noches: 4 · Distinct months / Meses distintos: 2",
        "October 2026 / octubre de 2026 (2 nights): 30, 31",
        "November 2026 / noviembre de 2026 (2 nights): 1, 20",
        "Services received / Servicios recibidos: Meal: 1",
        "desk Signed on / Firmado el 2026-11-28",
    ] {
        assert!(words.contains(want), "{want:?} is not in the letter: {words}");
    }
    // A shorter period counts only its own nights.
    let words = pdf_words(&get(&h, &path("2026-11-01", "2026-11-28"), &desk).await.bytes);
    assert!(words.contains("on 2 nights in 1 distinct month between"), "{words}");
    // Another organization's staff see none of this organization's stays.
    add_user(&h, "other", h.org_b, users::Role::Staff);
    let other = sign_in(&h, "other", PASSWORD).await.unwrap();
    let p = get(&h, &path("2026-10-01", "2026-11-28"), &other).await;
    if p.status == StatusCode::OK {
        let words = pdf_words(&p.bytes);
        assert!(words.contains("No nights or services are recorded in this period"), "{words}");
        assert!(!words.contains("October 2026"), "{words}");
    } else {
        assert_eq!(p.status, StatusCode::NOT_FOUND);
    }
    // Periods the page refuses, with the reason and nothing made.
    let audit_before =
        h.count("SELECT COUNT(*) FROM audit_events WHERE action = 'verification_letter'");
    for (from, to, reason) in [
        ("2026-11-28", "2026-10-01", "is after the last day"),
        ("2020-01-01", "2026-11-28", "at most"),
        ("1850-01-01", "2026-11-28", "between 1900 and 2100"),
        ("soon", "2026-11-28", "must be a date"),
    ] {
        let p = get(&h, &path(from, to), &desk).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{from} {to}");
        assert!(p.body.contains(reason), "{reason}: {}", p.body);
    }
    assert_eq!(
        h.count("SELECT COUNT(*) FROM audit_events WHERE action = 'verification_letter'"),
        audit_before
    );
}

#[tokio::test]
async fn alerts_keep_their_note_on_the_server_and_their_organization() {
    let h = Harness::new();
    add_user(&h, "desk", h.org_a, users::Role::Staff);
    add_user(&h, "other", h.org_b, users::Role::Staff);
    let desk = sign_in(&h, "desk", PASSWORD).await.unwrap();
    let other = sign_in(&h, "other", PASSWORD).await.unwrap();
    let client = h.clients[0].0;
    let dashboard = format!("/clients/{client}");
    let path = format!("/clients/{client}/alerts");
    let form = |fields: &str| {
        format!("organization_id={}&begin_date={TODAY}&end_date=2026-12-05&{fields}", h.org_a)
    };
    let (note, text) = ("Certified letter from the county benefits office", "Mail at the desk");
    let p = post_with_csrf(
        &h,
        &path,
        &desk,
        &dashboard,
        &form(&format!(
            "kind=mail&note={note}&for_stations=1&station_text={text}&program={}",
            h.meals
        )),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(h.count("SELECT COUNT(*) FROM client_alerts"), 1);
    assert_eq!(
        h.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'add_alert' AND client_id = {client}"
        )),
        1
    );
    // Refused, with the reason, and nothing stored.
    for (fields, status, reason) in [
        (
            form("kind=omen&note=x"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose what the alert is about",
        ),
        (form("kind=mail&note="), StatusCode::UNPROCESSABLE_ENTITY, "must not be empty"),
        (
            form(&format!("kind=mail&note=x&for_stations=1&station_text={}", "y".repeat(61))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "longer than 60",
        ),
        (
            form("kind=mail&note=x&for_stations=1&station_text="),
            StatusCode::UNPROCESSABLE_ENTITY,
            "short text",
        ),
        (
            format!(
                "organization_id={}&begin_date=2026-12-05&end_date={TODAY}&kind=mail&note=x",
                h.org_a
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "before its first day",
        ),
        (
            form(&format!("kind=mail&note=x&program={}", h.meals_b)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not one of the alert&#39;s organization",
        ),
        (
            format!(
                "organization_id={}&begin_date={TODAY}&end_date={TODAY}&kind=mail&note=x",
                h.org_b
            ),
            StatusCode::FORBIDDEN,
            "may not add alerts",
        ),
    ] {
        let p = post_with_csrf(&h, &path, &desk, &dashboard, &fields).await;
        assert_eq!(p.status, status, "{fields}: {}", p.body);
        assert!(p.body.contains(reason), "{reason}: {}", p.body);
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM client_alerts"), 1);

    // Its organization's staff see the note; the other organization's see nothing of it.
    assert!(get(&h, &dashboard, &desk).await.body.contains(note));
    let seen = get(&h, &dashboard, &other).await;
    assert!(!seen.body.contains(note) && !seen.body.contains(text), "{}", seen.body);

    // Stations of its organization get the kind and the short text; another's get nothing.
    let (_, snap) = h.call("GET", "/api/v1/roster", Some(&h.tokens[0]), None).await;
    let alerts = snap["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{snap}");
    assert_eq!(alerts[0]["kind"], "mail");
    assert_eq!(alerts[0]["text"], text);
    assert_eq!(alerts[0]["program_ids"], serde_json::json!([h.meals]));
    assert!(!snap.to_string().contains("Certified"), "the note reached a station");
    let (_, theirs) = h.call("GET", "/api/v1/roster", Some(&h.tokens[2]), None).await;
    assert_eq!(theirs["alerts"], serde_json::json!([]));

    // Ending it: not by the other organization; by its own, and the next delta drops it.
    let id = h.count("SELECT id FROM client_alerts");
    let cursor = snap["cursor"].as_i64().unwrap();
    let p = post_with_csrf(&h, &format!("/alerts/{id}/end"), &other, "/clients", "").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let p = post_with_csrf(&h, &format!("/alerts/{id}/end"), &desk, &dashboard, "").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let (_, delta) = h
        .call("GET", &format!("/api/v1/roster/delta?since={cursor}"), Some(&h.tokens[0]), None)
        .await;
    assert_eq!(delta["removed_alerts"], serde_json::json!([id]), "{delta}");
    assert_eq!(
        h.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'end_alert' AND client_id = {client}"
        )),
        1
    );
}
