//! The shelter door's beds on the kiosk in headless Chromium (DESIGN §16): tonight's board at a
//! glance, the bed given with the verdict, staff choosing another bed with Change bed, and the
//! guest screen telling the guest their own bed only. Screenshots go to
//! `target/screenshots/beds/`.

use fantoccini::Locator;
use scanline_tests::peek::ServerDb;
use scanline_tests::{
    Browser, Kiosk, StationProcess, agency, pages, ready, serve_new, station_config,
};
use serde_json::json;

/// The demo's night-by-night shelter and its bed-night service type.
const SHELTER: (i64, i64) = (2, 2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_shows_the_beds_and_staff_give_a_guest_another() {
    let agency = agency(60);
    let server = serve_new(&agency.db);
    let config = station_config(
        agency.dir.path(),
        &format!("http://127.0.0.1:{}", server.port()),
        &agency.token,
        None,
        0,
        ("Night check-in", SHELTER.0, SHELTER.1),
    );
    let station = StationProcess::start(&config);
    let kiosk = Kiosk::new(&station.kiosk);
    ready(&kiosk, false).await;
    let cards = ServerDb::open(&agency.db).enrolled_cards(SHELTER.0);
    let shots = pages::screenshots("beds");
    let b = Browser::start().await;
    pages::resize(&b, 1280, 800).await;

    // Before any scan the board is there: twenty beds, each with its dorm and attributes.
    b.client.goto(&format!("{}/", station.kiosk)).await.unwrap();
    b.wait_for("#beds-sum", "tonight's beds", |t| t.contains("of 20")).await;
    // (Which beds are free depends on the hour: last night's guests keep theirs until 21:00.)
    let tiles = b.text("#bed-list").await;
    assert!(tiles.contains("A10 · Dorm A: ") && tiles.contains("(accessible)"), "{tiles}");
    let bed_of = async |name: &str| -> serde_json::Value {
        let board = kiosk.get("/api/beds").await;
        board["beds"].as_array().unwrap().iter().find(|b| b["name"] == name).unwrap().clone()
    };

    // A scan gives a bed, shown with the verdict.
    let (_, first) = kiosk.post("/api/scan", &json!({ "code": cards[0] })).await;
    assert_eq!(first["verdict"], "accepted", "{first}");
    let given = first["bed"].as_str().unwrap().to_owned();
    b.wait_for("#bed-line", "the bed given", |t| t.starts_with(&format!("Bed {given}"))).await;
    let name = first["display_name"].as_str().unwrap().to_owned();
    let given_group = bed_of(&given).await["group"].as_str().unwrap().to_owned();
    b.wait_for("#bed-list", "the guest on the board", |t| {
        t.contains(&format!("{given} · {given_group}: {name}"))
    })
    .await;
    // The bed staff will choose: a free one, with attributes if one is free.
    let board = kiosk.get("/api/beds").await;
    let free: Vec<&serde_json::Value> =
        board["beds"].as_array().unwrap().iter().filter(|b| b["state"] == "free").collect();
    let target = free
        .iter()
        .find(|b| !b["attributes"].as_array().unwrap().is_empty())
        .or(free.first())
        .expect("a free bed");
    let (target_id, target) = (target["id"].as_i64().unwrap(), target["name"].as_str().unwrap());
    let target_group = bed_of(target).await["group"].as_str().unwrap().to_owned();
    std::fs::write(shots.join("kiosk-bed-given.png"), b.client.screenshot().await.unwrap())
        .unwrap();

    // Change bed: the board becomes a choice; the chosen bed is picked.
    b.client.find(Locator::Css("#change-bed")).await.unwrap().click().await.unwrap();
    b.wait_text("#h-beds", &format!("Choose a bed for {name}")).await;
    let focused = b
        .client
        .execute("return document.activeElement.closest('#bed-list') !== null;", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!(true), "the keyboard is on the first bed to choose");
    std::fs::write(shots.join("kiosk-choose-bed.png"), b.client.screenshot().await.unwrap())
        .unwrap();
    b.client
        .find(Locator::XPath(&format!(
            "//ul[@id='bed-list']//button[starts-with(normalize-space(.), '{target} ')]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_text("#banner .label", "Changed: OK").await;
    b.wait_for("#bed-line", "the new bed", |t| t.starts_with(&format!("Bed {target}"))).await;
    b.wait_text("#h-beds", "Beds tonight").await;
    b.wait_for("#bed-list", "the move on the board", |t| {
        t.contains(&format!("{target} · {target_group}: {name}"))
            && t.contains(&format!("{given} · {given_group}: Free"))
    })
    .await;
    b.wait_for("#entries", "the new bed in the review list", |t| {
        t.contains(&format!("Bed {target}"))
    })
    .await;
    // A bed another guest has is refused at the kiosk with the reason.
    let (_, second) = kiosk.post("/api/scan", &json!({ "code": cards[1] })).await;
    let uuid = second["uuid"].as_str().unwrap();
    let (status, refused) =
        kiosk.post(&format!("/api/entries/{uuid}/bed"), &json!({ "bed_id": target_id })).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.to_string().contains("already given"), "{refused}");

    // The guest screen tells the guest their own bed, and nothing else.
    b.client.goto(&format!("{}/guest", station.kiosk)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (_, third) = kiosk.post("/api/scan", &json!({ "code": cards[2] })).await;
    let bed = third["bed"].as_str().unwrap().to_owned();
    b.wait_for("body", "the guest's bed", |t| t.contains(&format!("Your bed: {bed}"))).await;
    let body = b.body().await;
    assert!(!body.contains(&name), "nobody else's name: {body}");
    std::fs::write(shots.join("guest-bed.png"), b.client.screenshot().await.unwrap()).unwrap();

    // The station's batch on the staff pages: each entry's bed, and Give bed on the flagged
    // one; the page passes the page checks at the desk and on a phone.
    let batch = kiosk.get("/api/status").await["batch"]["uuid"].as_str().unwrap().to_owned();
    let base = format!("http://127.0.0.1:{}", server.port());
    b.sign_in_admin(&base, agency.dir.path()).await;
    kiosk.wait_status(30, "the batch on the server", |s| s["outbox_pending"] == 0).await;
    for (w, h) in [(1366, 768), (390, 844)] {
        pages::resize(&b, w, h).await;
        b.client.goto(&format!("{base}/batches/{batch}")).await.unwrap();
        b.wait_for("main", "the batch's beds", |t| t.contains(target)).await;
        b.client
            .execute("document.querySelector('main table').scrollIntoView(); return null;", vec![])
            .await
            .unwrap();
        std::fs::write(shots.join(format!("batch-{w}.png")), b.client.screenshot().await.unwrap())
            .unwrap();
        let problems = pages::problems(&b, w == 390).await;
        assert!(problems.is_empty(), "the batch page at {w} px: {problems:#?}");
    }
    b.close().await;
}
