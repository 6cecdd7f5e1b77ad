//! The kiosk page in headless Chromium, driven over WebDriver: a scan shows its verdict without
//! a reload, and the guest-facing page never shows a reason.

use std::time::Duration;

use scanline_tests::{Browser, Line};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_shows_each_verdict_live_and_the_guest_page_never_a_reason() {
    let line = Line::start(200, false, 300).await;
    let (kiosk, station) = (&line.kiosk, &line.station);
    let c = line.cards();
    let browser = Browser::start().await;

    // Staff page: each scan changes the banner in place.
    browser.client.goto(&format!("{}/", station.kiosk)).await.unwrap();
    browser.wait_text("#banner .label", "Ready").await;
    browser.client.execute("window.scanlineMarker = 42; return null;", vec![]).await.unwrap();
    // The no-card lookup's own example finds someone.
    let placeholder = browser
        .client
        .find(fantoccini::Locator::Css("#q"))
        .await
        .unwrap()
        .attr("placeholder")
        .await
        .unwrap()
        .unwrap_or_default();
    let example = placeholder.trim_start_matches("e.g. ").to_owned();
    browser
        .client
        .find(fantoccini::Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys(&format!("{example}\u{E007}"))
        .await
        .unwrap();
    browser.wait_for("#lookup-results", "the example's match", |t| t.contains("Mara G.")).await;
    let (_, good) = kiosk.post("/api/scan", &json!({"code": c.good[0]})).await;
    browser.wait_text("#banner .label", "OK").await;
    assert_eq!(browser.text("#banner .name").await, good["display_name"].as_str().unwrap());
    let icon = async |b: &scanline_tests::Browser| {
        b.client
            .execute("return document.querySelector('#banner .icon svg') ? document.querySelector('#banner .icon').dataset.icon : 'none';", vec![])
            .await
            .unwrap()
    };
    // The icons are drawn by the page itself, never by a font.
    assert_eq!(icon(&browser).await, json!("ok"));
    kiosk.post("/api/scan", &json!({"code": c.barred[0]})).await;
    browser.wait_text("#banner .label", "Barred: see staff").await;
    assert_eq!(icon(&browser).await, json!("stop"));
    // Past the double-read window, the same card again is a second meal.
    tokio::time::sleep(Duration::from_millis(400)).await;
    kiosk.post("/api/scan", &json!({"code": c.good[0]})).await;
    browser.wait_text("#banner .label", "Already served").await;
    let marker = browser.client.execute("return window.scanlineMarker;", vec![]).await.unwrap();
    assert_eq!(marker, json!(42), "the page reloaded");
    // The review list shows the entries too.
    browser
        .wait_for("#entries", "the three entries", |r| {
            r.contains("Already served") && r.contains("Barred: see staff") && r.contains("OK")
        })
        .await;
    // The counts use the banner's words.
    browser
        .wait_for("#counts", "the counts in the banner's words", |t| {
            t.contains("Already served: 1") && t.contains("OK: 1") && !t.contains("duplicate")
        })
        .await;
    // "+ Guest without card" and Revalidate say what they did.
    for (button, says) in
        [("#anon", "Guest without card counted: 1"), ("#revalidate", "Revalidated:")]
    {
        browser.client.find(fantoccini::Locator::Css(button)).await.unwrap().click().await.unwrap();
        browser.wait_for("#alerts", says, |t| t.contains(says)).await;
    }
    // A misread asks for the card again, and sends nobody to staff.
    kiosk.post("/api/scan", &json!({"code": "88000999999010"})).await;
    browser.wait_text("#banner .label", "Misread: scan again").await;
    assert_eq!(browser.text("#banner .name").await, "");
    assert_eq!(icon(&browser).await, json!("retry"));

    // Guest page: a first name and a welcome, or "see the front desk"; never why.
    browser.client.goto(&format!("{}/guest", station.kiosk)).await.unwrap();
    browser.wait_text(".en", "Please scan your card").await;
    // (Another misread than the staff page's, which the double-read window would drop.)
    let (_, r) = kiosk.post("/api/scan", &json!({"code": "88000999999020"})).await;
    assert_eq!(r["verdict"], "misread", "{r}");
    browser.wait_text(".en", "Please scan your card again").await;
    kiosk.post("/api/scan", &json!({"code": c.barred[1 % c.barred.len()]})).await;
    browser.wait_text(".en", "Please see the front desk").await;
    let body = browser.body().await;
    for reason in ["Barred", "barred", "bar ", "staff", "enrollment", "Already"] {
        assert!(!body.contains(reason), "the guest page shows {reason:?}: {body}");
    }
    let (_, second) = kiosk.post("/api/scan", &json!({"code": c.good[1]})).await;
    let name = second["display_name"].as_str().unwrap().to_owned();
    let first = name.split_whitespace().next().unwrap();
    browser.wait_text(".en", &format!("Welcome, {first}")).await;
    assert!(!browser.body().await.contains(&name), "the guest page shows the last initial");
    tokio::time::sleep(Duration::from_millis(400)).await;
    kiosk.post("/api/scan", &json!({"code": c.good[1]})).await;
    browser.wait_text(".en", "Please see the front desk").await;
    browser.close().await;
}
