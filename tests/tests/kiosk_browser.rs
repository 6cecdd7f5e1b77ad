//! The kiosk page in headless Chromium, driven over WebDriver: a scan shows its verdict without
//! a reload, and the guest-facing page never shows a reason.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use scanline_tests::{Line, free_port};
use serde_json::json;

/// A chromedriver process and a session on a fresh, throwaway Chromium profile.
struct Browser {
    driver: Child,
    client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver (Debian package chromium-driver) is needed: tests/run installs it",
            );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        // WebDriver runs on loopback: plain HTTP, no TLS stack needed.
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Self { driver, client, _profile: profile }
    }

    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
    }

    /// Waits until the element's text satisfies `ok`.
    async fn wait_for(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.text(css).await;
            if ok(&got) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{css} shows {got:?}, not {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element's text equals `want`.
    async fn wait_text(&self, css: &str, want: &str) {
        self.wait_for(css, want, |got| got == want).await;
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

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
    let (_, good) = kiosk.post("/api/scan", &json!({"code": c.good[0]})).await;
    browser.wait_text("#banner .label", "OK").await;
    assert_eq!(browser.text("#banner .name").await, good["display_name"].as_str().unwrap());
    assert_eq!(browser.text("#banner .icon").await, "✔");
    kiosk.post("/api/scan", &json!({"code": c.barred[0]})).await;
    browser.wait_text("#banner .label", "Barred: see staff").await;
    assert_eq!(browser.text("#banner .icon").await, "✋");
    // Past the double-read window, the same card again is a second meal.
    tokio::time::sleep(Duration::from_millis(400)).await;
    kiosk.post("/api/scan", &json!({"code": c.good[0]})).await;
    browser.wait_text("#banner .label", "Already served").await;
    let marker = browser.client.execute("return window.scanlineMarker;", vec![]).await.unwrap();
    assert_eq!(marker, json!(42), "the page reloaded");
    // The review list shows the entries too.
    browser
        .wait_for("#entries", "the three entries", |r| {
            r.contains("duplicate") && r.contains("barred") && r.contains("accepted")
        })
        .await;

    // Guest page: a first name and a welcome, or "see the front desk"; never why.
    browser.client.goto(&format!("{}/guest", station.kiosk)).await.unwrap();
    browser.wait_text(".en", "Please scan your card").await;
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
