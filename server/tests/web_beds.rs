//! The Beds page and the batch page's "Give bed" through the real router, as staff use them:
//! add beds and see them free, reserve one for a guest, hold every empty bed, release one hold
//! and then all, set the release time; bad times, beds and nights refused with nothing
//! changed; another organization's staff never see or change the shelter's beds; and a
//! `bed_taken` entry given a free bed becomes accepted.

mod harness;

use axum::http::StatusCode;
use harness::web::{Page, csrf_of, get, post_form, signed_in_with_csrf};
use harness::{Harness, TODAY, d, entry};
use scanline_server::store::beds::{self, NewBed};
use scanline_server::store::{ClientId, ProgramId, clients, users};
use serde_json::json;

/// Posts a Beds form of the shelter for tonight, with the session's CSRF token.
async fn beds_form(h: &Harness, cookie: &str, csrf: &str, path: &str, fields: &str) -> Page {
    let form = format!("csrf={csrf}&program={}&night={TODAY}&{fields}", h.shelter);
    post_form(h, path, cookie, &form).await
}

/// Follows a change's redirect to the board it leads to.
async fn board_after(h: &Harness, cookie: &str, p: &Page) -> String {
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let to = p.location.clone().unwrap();
    assert!(to.starts_with(&format!("/beds?program={}&night={TODAY}&saved=", h.shelter)), "{to}");
    get(h, &to, cookie).await.body
}

/// The board's line for one bed: its row's text without tags.
fn row_of(page: &str, bed: &str) -> String {
    let at = page.find(&format!("<strong>{bed}</strong>")).unwrap_or_else(|| panic!("{page}"));
    let row = &page[at..page[at..].find("</tr>").map_or(page.len(), |e| at + e)];
    let mut text = String::new();
    let mut in_tag = false;
    for ch in row.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn number_of(h: &Harness, client: usize) -> u32 {
    clients::get(&h.conn(), ClientId(h.clients[client].0)).unwrap().client_number
}

#[tokio::test]
async fn staff_run_the_board_of_a_night() {
    let h = Harness::new();
    let (staff, csrf) = signed_in_with_csrf(&h, "staff", h.org_a, users::Role::Staff).await;
    let page = get(&h, "/beds", &staff).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Beds: Shelter, night of 2026-11-28"), "{}", page.body);
    assert!(page.body.contains("no beds yet"), "{}", page.body);
    assert!(page.body.contains("<a href=\"/beds\">Beds</a>"), "the menu leads here");

    for (name, group, attributes) in
        [("A1", "Dorm A", "bottom bunk, accessible"), ("A2", "Dorm A", ""), ("B1", "Dorm B", "")]
    {
        let fields = format!("name={name}&group={group}&attributes={attributes}");
        let p = beds_form(&h, &staff, &csrf, "/beds/add", &fields.replace(' ', "+")).await;
        let board = board_after(&h, &staff, &p).await;
        assert!(board.contains("Saved: the bed was added"), "{board}");
    }
    let board = get(&h, &format!("/beds?program={}", h.shelter), &staff).await.body;
    assert_eq!(row_of(&board, "A1"), "A1 bottom bunk, accessible Free Retire");
    assert!(board.contains("<h2 id=\"h-group-2\">Dorm B</h2>"), "{board}");
    assert!(board.contains("Free: 3") && board.contains("of 3 beds"), "{board}");
    let bed = |name: &str| {
        beds::list(&h.conn(), h.shelter).unwrap().into_iter().find(|b| b.name == name).unwrap().id
    };

    // A reservation for Ben, for tonight.
    let ben = number_of(&h, 1);
    let fields = format!("client={ben}&bed={}&first={TODAY}&last=", bed("A2"));
    let board =
        board_after(&h, &staff, &beds_form(&h, &staff, &csrf, "/beds/hold", &fields).await).await;
    assert!(board.contains("Saved: the bed was reserved"), "{board}");
    assert!(row_of(&board, "A2").contains("Reserved for Ben B."), "{}", row_of(&board, "A2"));
    assert!(board.contains("Free: 2") && board.contains("Held: 1"), "{board}");

    // A cold night: every empty bed held; then one released, then all.
    let p = beds_form(&h, &staff, &csrf, "/beds/hold-all", "").await;
    let board = board_after(&h, &staff, &p).await;
    assert!(board.contains("Free: 0") && board.contains("Held: 3"), "{board}");
    assert_eq!(row_of(&board, "B1"), "B1 Held Release Retire");
    let night = d(TODAY);
    let b1_hold = beds::holds(&h.conn(), &[h.shelter], night)
        .unwrap()
        .into_iter()
        .find(|x| x.bed_id == bed("B1"))
        .unwrap();
    let p = beds_form(&h, &staff, &csrf, &format!("/beds/holds/{}/release", b1_hold.id), "").await;
    let board = board_after(&h, &staff, &p).await;
    assert!(board.contains("the bed is free again") && board.contains("Free: 1"), "{board}");
    let p = beds_form(&h, &staff, &csrf, "/beds/release-all", "").await;
    let board = board_after(&h, &staff, &p).await;
    assert!(board.contains("Free: 3") && board.contains("Held: 0"), "{board}");
    assert!(board.contains("data-confirm=\"Release every hold"), "release all asks first");
    assert!(board.contains("data-confirm=\"Retire bed A1?"), "retiring asks first");

    // The release time, then none.
    let p = beds_form(&h, &staff, &csrf, "/beds/release-time", "at=21%3A00").await;
    let board = board_after(&h, &staff, &p).await;
    assert!(board.contains("held for them until 21:00"), "{board}");
    assert_eq!(
        scanline_server::store::programs::get_rules(&h.conn(), ProgramId(h.shelter))
            .unwrap()
            .bed_release_minutes,
        Some(21 * 60)
    );

    // Retiring a bed takes it off the board.
    let p = beds_form(&h, &staff, &csrf, &format!("/beds/{}/retire", bed("B1")), "").await;
    let board = board_after(&h, &staff, &p).await;
    assert!(!board.contains("<strong>B1</strong>") && board.contains("of 2 beds"), "{board}");

    // Bad input is refused with words, and nothing changes.
    let before = h.dump();
    let a1 = bed("A1");
    let refusals = [
        ("/beds/release-time", "at=25%3A00".to_owned(), "not a time of day"),
        ("/beds/hold", format!("client={ben}&bed=99999&first={TODAY}"), ""),
        (
            "/beds/hold",
            format!("client={ben}&bed={a1}&first=2026-11-28&last=2026-11-20"),
            "before the first",
        ),
        ("/beds/hold", format!("client={ben}&bed={a1}&first=2026-11-01&last=2026-12-31"), "31"),
        ("/beds/hold", format!("client={ben}&bed={a1}&first=1800-01-01"), "between 1900"),
        ("/beds/hold", format!("client=abc&bed={a1}&first={TODAY}"), "client number"),
        ("/beds/hold", format!("client=99999&bed={a1}&first={TODAY}"), ""),
        ("/beds/add", "name=+++".to_owned(), "must not be empty"),
        ("/beds/add", "name=A1".to_owned(), "already has a bed named A1"),
        ("/beds/add", format!("name={}", "x".repeat(41)), "longer than 40"),
    ];
    for (path, fields, says) in refusals {
        let p = beds_form(&h, &staff, &csrf, path, &fields).await;
        assert!(p.status.is_client_error(), "{path} {fields}: {} {}", p.status, p.body);
        assert!(p.body.contains(says), "{path} {fields}: expected {says:?} in {}", p.body);
    }
    let form = format!("csrf={csrf}&program={}&night=3000-01-01", h.shelter);
    let p = post_form(&h, "/beds/hold-all", &staff, &form).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    let p = post_form(
        &h,
        "/beds/add",
        &staff,
        &format!("csrf=wrong&program={}&night={TODAY}&name=Z", h.shelter),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "a forged form");
    let p = get(&h, "/beds?program=1&night=not-a-date", &staff).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert_eq!(h.dump(), before, "a refused change changed the database");

    // Another night's board.
    let p = get(&h, &format!("/beds?program={}&night=2026-12-24", h.shelter), &staff).await;
    assert!(p.body.contains("night of 2026-12-24") && p.body.contains("Tonight (2026-11-28)"));
}

#[tokio::test]
async fn other_organizations_and_viewers_cannot_change_the_beds() {
    let h = Harness::new();
    beds::add(&h.conn(), ProgramId(h.shelter), &NewBed { name: "A1".into(), ..NewBed::default() })
        .unwrap();
    let (south, south_csrf) = signed_in_with_csrf(&h, "south", h.org_b, users::Role::Admin).await;
    let (viewer, viewer_csrf) = signed_in_with_csrf(&h, "look", h.org_a, users::Role::Viewer).await;
    let before = h.dump();
    let p = get(&h, &format!("/beds?program={}", h.shelter), &south).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.body);
    let p = get(&h, "/beds", &south).await;
    assert!(p.body.contains("None of your organizations"), "{}", p.body);
    assert!(!p.body.contains("A1"));
    let a1 = beds::list(&h.conn(), h.shelter).unwrap()[0].id;
    let forms = [
        ("/beds/add".to_owned(), "name=Z".to_owned()),
        ("/beds/hold-all".to_owned(), String::new()),
        ("/beds/release-all".to_owned(), String::new()),
        (format!("/beds/{a1}/retire"), String::new()),
        ("/beds/release-time".to_owned(), "at=20%3A00".to_owned()),
    ];
    for (path, fields) in &forms {
        let p = beds_form(&h, &south, &south_csrf, path, fields).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}: {}", p.body);
        let p = beds_form(&h, &viewer, &viewer_csrf, path, fields).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}: {}", p.body);
    }
    // A viewer sees the board, without its forms.
    let p = get(&h, "/beds", &viewer).await;
    assert!(p.body.contains("<strong>A1</strong>") && !p.body.contains("Add a bed"), "{}", p.body);
    assert_eq!(h.dump(), before, "a refused change changed the database");
}

#[tokio::test]
async fn a_bed_given_twice_is_given_a_free_bed_on_the_batch_page() {
    let h = Harness::new();
    let bed = |name: &str| {
        let b = NewBed { name: name.into(), group: "Dorm A".into(), ..NewBed::default() };
        beds::add(&h.conn(), ProgramId(h.shelter), &b).unwrap()
    };
    let (a1, a2) = (bed("A1"), bed("A2"));
    let batch = h.create_batch(0, h.shelter, &[h.bed], TODAY).await;
    let at = harness::NOW;
    let mut ana = entry(&h.clients[0].1, at);
    ana["bed_id"] = json!(a1);
    let mut ben = entry(&h.clients[1].1, at);
    ben["bed_id"] = json!(a1);
    let ben_uuid = ben["uuid"].as_str().unwrap().to_owned();
    let (_, r) = h.upload(0, &batch, json!([ana, ben])).await;
    assert_eq!(harness::verdicts(&r), ["accepted", "bed_taken"]);

    let (staff, _) = signed_in_with_csrf(&h, "staff", h.org_a, users::Role::Staff).await;
    let page = get(&h, &format!("/batches/{batch}"), &staff).await.body;
    assert!(page.contains("<th>Bed</th>"), "{page}");
    let form = format!("/batches/{batch}/entries/{ben_uuid}/bed");
    let at = page.find(&form).expect("Give bed on the bed_taken entry");
    let select = &page[at..at + page[at..].find("</form>").unwrap()];
    assert!(select.contains(">Give bed</label>"), "{select}");
    assert!(select.contains(&format!("value=\"{a2}\"")), "A2 is free: {select}");
    assert!(!select.contains(&format!("value=\"{a1}\"")), "A1 is Ana's: {select}");
    let csrf = csrf_of(&page);

    // The taken bed is refused and nothing changes; a free one makes the entry accepted.
    let before = h.dump();
    let p = post_form(&h, &form, &staff, &format!("csrf={csrf}&bed={a1}")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.body.contains("already given to another guest"), "{}", p.body);
    let p = post_form(&h, &form, &staff, &format!("csrf={csrf}&bed=x")).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert_eq!(h.dump(), before, "a refused bed changed the database");
    let p = post_form(&h, &form, &staff, &format!("csrf={csrf}&bed={a2}")).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some(format!("/batches/{batch}?saved=bed_given").as_str()));
    let page = get(&h, &format!("/batches/{batch}?saved=bed_given"), &staff).await.body;
    assert!(page.contains("Saved: the entry was given the bed"), "{page}");
    assert!(!page.contains("data-verdict=\"bed_taken\""), "{page}");
    let ben_row = page.lines().find(|l| l.contains(&h.clients[1].1)).unwrap();
    assert!(ben_row.contains("data-verdict=\"accepted\"") && ben_row.contains("A2"), "{ben_row}");
    let board = get(&h, &format!("/beds?program={}", h.shelter), &staff).await.body;
    assert_eq!(row_of(&board, "A2"), "A2 Ben B. Retire");
    assert_eq!(row_of(&board, "A1"), "A1 Ana A. Retire");
}
