//! Scan with camera, in headless Chromium whose camera plays a video of a Scanline card the
//! server drew (DESIGN §17): the web batch page reads the card's Code 128, the kiosk its QR
//! code, each with the card's verdict, and a card held in view is read once. Screenshots of
//! both go to `target/screenshots/camera/`.

use fantoccini::Locator;
use scanline_tests::pages::screenshots;
use scanline_tests::{Browser, Line, server_cli, y4m};

/// The card's front with one of its two symbols painted over, so each page shows it reads the
/// other: the QR code sits in the card's lower right, the Code 128 left of it.
fn card_video(line: &Line, code: &str, keep: &str) -> std::path::PathBuf {
    let dir = line.agency.dir.path();
    let png = dir.join(format!("{keep}.png"));
    let (ok, _, err) = server_cli(
        &line.agency.db,
        &["card", "render", "--code", code, "--out", png.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    let mut card = image::open(dir.join(format!("{keep}-front.png"))).unwrap().to_rgb8();
    let (w, h) = card.dimensions();
    for (x, y, p) in card.enumerate_pixels_mut() {
        let in_qr = x * 100 > w * 80 && y * 100 > h * 72;
        let in_bars = x * 100 > w * 28 && x * 100 < w * 66 && y * 100 > h * 55 && y * 100 < h * 90;
        if (keep == "code128" && in_qr) || (keep == "qr" && in_bars) {
            *p = image::Rgb([255, 255, 255]);
        }
    }
    let video = dir.join(format!("{keep}.y4m"));
    std::fs::write(&video, y4m(&card, 1280, 720, 10)).unwrap();
    video
}

/// Rows of the web batch's entries that carry the code.
async fn rows_with(b: &Browser, code: &str) -> usize {
    let rows = b.client.find_all(Locator::Css("#entries tr")).await.unwrap();
    let mut n = 0;
    for row in rows {
        if row.text().await.unwrap_or_default().contains(code) {
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_batch_and_the_kiosk_read_a_card_held_to_the_camera() {
    let line = Line::start(60, false, 300).await;
    let base = format!("http://127.0.0.1:{}", line.port);
    let c = line.cards();
    let (batch_card, kiosk_card) = (c.good[0].clone(), c.good[1].clone());

    // The web batch page: the Code 128 alone, read once however long it is held.
    let b = Browser::start_with_video(&card_video(&line, &batch_card, "code128")).await;
    b.sign_in_admin(&base, line.agency.dir.path()).await;
    let cl = &b.client;
    cl.goto(&format!("{base}/batches")).await.unwrap();
    cl.find(Locator::Css("#service")).await.unwrap().select_by_value("1:1").await.unwrap();
    cl.find(Locator::Css("form[action='/batches'] button")).await.unwrap().click().await.unwrap();
    b.wait_for("main", "the batch page", |t| t.contains("Client ID")).await;
    b.wait_text("#camera", "Scan with camera").await;
    cl.find(Locator::Css("#camera")).await.unwrap().click().await.unwrap();
    b.wait_text("#camera", "Stop camera").await;
    b.wait_text("#banner .label", "OK").await;
    assert!(!b.text("#banner .name").await.is_empty(), "the client's name shows");
    let shots = screenshots("camera");
    std::fs::write(shots.join("web-batch.png"), b.client.screenshot().await.unwrap()).unwrap();
    assert_eq!(rows_with(&b, &batch_card).await, 1);
    // Held in view for three more seconds: still one entry, no "Already served".
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(rows_with(&b, &batch_card).await, 1, "a card held in view is read once");
    assert_eq!(b.text("#banner .label").await, "OK");
    cl.find(Locator::Css("#camera")).await.unwrap().click().await.unwrap();
    b.wait_text("#camera", "Scan with camera").await;
    let hidden = cl.execute("return document.getElementById('camera-view').hidden;", vec![]);
    assert_eq!(hidden.await.unwrap(), serde_json::json!(true), "the preview closes");
    b.close().await;

    // The kiosk: the QR code alone, through the station's own scan path.
    let b = Browser::start_with_video(&card_video(&line, &kiosk_card, "qr")).await;
    b.client.goto(&format!("{}/", line.station.kiosk)).await.unwrap();
    b.wait_text("#banner .label", "Ready").await;
    b.client.find(Locator::Css("#camera")).await.unwrap().click().await.unwrap();
    b.wait_text("#banner .label", "OK").await;
    std::fs::write(shots.join("kiosk.png"), b.client.screenshot().await.unwrap()).unwrap();
    let entries = line.kiosk.get("/api/entries").await;
    let entries = entries.as_array().expect("the station's entries");
    let read: Vec<_> = entries.iter().filter(|e| e["code"] == kiosk_card.as_str()).collect();
    assert_eq!(read.len(), 1, "one entry for the card: {entries:?}");
    assert_eq!(read[0]["verdict"], "accepted");
    b.close().await;
}
