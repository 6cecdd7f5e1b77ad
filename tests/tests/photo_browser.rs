//! A client photo taken with the webcam in headless Chromium (its fake camera): start the
//! camera, take a picture, Retake, take another, Use this image; the stored photo decodes, has
//! no metadata and keeps to the size rules.

#![allow(clippy::many_single_char_names)]

use fantoccini::Locator;
use rusqlite::Connection;
use scanline_tests::{Browser, agency, serve_new};

/// Waits until the element is shown (its `hidden` attribute cleared by the page's script).
async fn wait_shown(b: &Browser, id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let shown = b
            .client
            .execute(
                &format!("const e = document.getElementById('{id}'); return !!e && !e.hidden;"),
                vec![],
            )
            .await
            .unwrap();
        if shown == serde_json::json!(true) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "#{id} never showed; status: {}",
            b.text("#photo-status").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_from_the_webcam_is_stored_clean() {
    let a = agency(50);
    let server = serve_new(&a.db);
    let base = server.base.clone();
    let client: i64 = Connection::open(&a.db)
        .unwrap()
        .query_row("SELECT id FROM clients WHERE restricted = 0 ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let b = Browser::start_with_camera().await;
    let c = &b.client;
    b.sign_in_admin(&base, a.dir.path()).await;

    c.goto(&format!("{base}/clients/{client}")).await.unwrap();
    b.wait_for("#h-photo", "the photo section", |t| t == "Photo").await;
    c.find(Locator::Css("#start-camera")).await.unwrap().click().await.unwrap();
    wait_shown(&b, "take").await;
    c.find(Locator::Css("#take")).await.unwrap().click().await.unwrap();
    wait_shown(&b, "retake").await;
    c.find(Locator::Css("#retake")).await.unwrap().click().await.unwrap();
    wait_shown(&b, "take").await;
    c.find(Locator::Css("#take")).await.unwrap().click().await.unwrap();
    wait_shown(&b, "use").await;
    c.find(Locator::Css("#use")).await.unwrap().click().await.unwrap();
    // The page reloads with the photo.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while c.find(Locator::Css("img#photo")).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no photo after saving: {}",
            b.text("#photo-status").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.close().await;

    let jpeg: Vec<u8> = Connection::open(&a.db)
        .unwrap()
        .query_row(
            "SELECT p.jpeg FROM clients c JOIN photos p ON p.id = c.photo_id WHERE c.id = ?",
            [client],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    assert!(!jpeg.windows(4).any(|w| w == b"Exif"), "no metadata");
    let (w, h) = jpeg_size(&jpeg).expect("a frame header");
    assert!(w <= 1024 && h <= 1024 && w > 0 && h > 0, "{w} x {h}");
}

/// Width and height from a JPEG's start-of-frame segment.
fn jpeg_size(j: &[u8]) -> Option<(u16, u16)> {
    let mut i = 2;
    while i + 9 < j.len() {
        if j[i] != 0xFF {
            return None;
        }
        let marker = j[i + 1];
        let len = usize::from(u16::from_be_bytes([j[i + 2], j[i + 3]]));
        if (0xC0..=0xC3).contains(&marker) {
            return Some((
                u16::from_be_bytes([j[i + 7], j[i + 8]]),
                u16::from_be_bytes([j[i + 5], j[i + 6]]),
            ));
        }
        i += 2 + len;
    }
    None
}
