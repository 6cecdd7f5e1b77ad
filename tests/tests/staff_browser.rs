//! The staff pages in headless Chromium over WebDriver, as a case manager uses them: sign in,
//! find a client by the first letters of the name, add a client and see the duplicate warning,
//! enroll, run a web batch by typing codes followed by Enter and see each verdict (a barred
//! client shows Barred), delete a duplicate, Post Services, and see the service on the client's
//! dashboard.

use fantoccini::Locator;
use rusqlite::Connection;
use scanline_tests::{Browser, agency, serve_new};

/// Which icon the banner draws (an SVG shipped with the page, never a font's glyph).
async fn icon(b: &Browser) -> String {
    b.client
        .execute(
            "const i = document.querySelector('#banner .icon'); return i.querySelector('svg') ? i.dataset.icon : 'none';",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Enter, as WebDriver sends it.
const ENTER: &str = "\u{E007}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_manager_day_in_the_browser() {
    let a = agency(200);
    let server = serve_new(&a.db);
    let base = server.base.clone();
    // A client with a card and an open meal enrollment, and a barred one.
    let conn = Connection::open(&a.db).unwrap();
    let enrolled = "EXISTS (SELECT 1 FROM enrollments e WHERE e.client_id = c.id AND e.program_id = 1 AND e.exit_date IS NULL)";
    let barred = "EXISTS (SELECT 1 FROM bars b WHERE b.client_id = c.id AND b.end_date >= date('now', '+1 day') AND b.begin_date <= date('now', '-1 day'))";
    let (id, first, last, dob, code): (i64, String, String, String, String) = conn
        .query_row(
            &format!(
                "SELECT c.id, c.first_name, c.last_name, c.dob, k.code FROM clients c JOIN cards k ON k.client_id = c.id
                 WHERE k.replaced_by IS NULL AND c.restricted = 0 AND {enrolled} AND NOT {barred} ORDER BY c.id LIMIT 1"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let barred_code: String = conn
        .query_row(&format!("SELECT k.code FROM clients c JOIN cards k ON k.client_id = c.id WHERE k.replaced_by IS NULL AND {barred} LIMIT 1"), [], |r| r.get(0))
        .unwrap();
    let b = Browser::start().await;
    let c = &b.client;
    let css = |s: &'static str| Locator::Css(s);

    // Sign in.
    b.sign_in_admin(&base, a.dir.path()).await;

    // Find the client by first letters of first and last name.
    let q = format!("{} {}", &first[..2], &last[..3]);
    c.find(css("#q")).await.unwrap().send_keys(&format!("{q}{ENTER}")).await.unwrap();
    b.wait_for("main", "the client in the results", |t| t.contains(&format!("{last}, {first}")))
        .await;

    // Add someone with the same name and birth date: the duplicate warning comes first.
    c.goto(&format!("{base}/clients/new")).await.unwrap();
    c.find(css("#first_name")).await.unwrap().send_keys(&first).await.unwrap();
    c.find(css("#last_name")).await.unwrap().send_keys(&last).await.unwrap();
    c.execute(&format!("document.getElementById('dob').value = '{dob}'; return null;"), vec![])
        .await
        .unwrap();
    c.find(css("form[action='/clients/new'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("main", "the duplicate warning", |t| t.contains("may already be on file")).await;
    c.find(css("form[action='/clients/new'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("h1", "the new client's dashboard", |t| t.starts_with(&first)).await;
    let new_url = c.current_url().await.unwrap().to_string();
    assert!(
        new_url.contains("/clients/") && !new_url.ends_with(&format!("/clients/{id}")),
        "{new_url}"
    );

    // Enroll the new client in the meal program.
    c.find(css("#program_id")).await.unwrap().select_by_value("1").await.unwrap();
    c.find(css("form[aria-label='Enroll'] button")).await.unwrap().click().await.unwrap();
    b.wait_for("#h-enrollments + table", "the open enrollment", |t| {
        t.contains("Community Meals") && t.contains("open")
    })
    .await;

    // A web batch: codes typed into Client ID, each followed by Enter.
    c.goto(&format!("{base}/batches")).await.unwrap();
    c.find(css("#service")).await.unwrap().select_by_value("1:1").await.unwrap();
    c.find(css("form[action='/batches'] button")).await.unwrap().click().await.unwrap();
    b.wait_for("main", "the batch page", |t| t.contains("Client ID")).await;
    let field = c.find(css("#code")).await.unwrap();
    field.send_keys(&format!("{code}{ENTER}")).await.unwrap();
    b.wait_text("#banner .label", "OK").await;
    assert_eq!(icon(&b).await, "ok");
    c.find(css("#code")).await.unwrap().send_keys(&format!("{code}{ENTER}")).await.unwrap();
    b.wait_text("#banner .label", "Already served").await;
    c.find(css("#code")).await.unwrap().send_keys(&format!("{barred_code}{ENTER}")).await.unwrap();
    b.wait_text("#banner .label", "Barred: see staff").await;
    assert_eq!(icon(&b).await, "stop");

    // Review after a reload: delete the duplicate with its X, then Post Services.
    c.refresh().await.unwrap();
    let rows = c.find_all(css("#entries tr")).await.unwrap();
    let mut deleted = false;
    for row in rows {
        if row.text().await.unwrap().contains("Already served") {
            row.find(css("button")).await.unwrap().click().await.unwrap();
            // The ✕ asks first.
            c.accept_alert().await.unwrap();
            deleted = true;
            break;
        }
    }
    assert!(deleted, "a duplicate row with an X");
    b.wait_for("#entries", "the deleted row", |t| t.contains("Already served (deleted)")).await;
    c.find(css("form[action$='/post'] button")).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
    b.wait_for("main", "the post summary", |t| t.contains("Posted now: 1")).await;

    // The meal is on the client's dashboard.
    c.goto(&format!("{base}/clients/{id}")).await.unwrap();
    b.wait_for("#h-services + table", "the posted meal", |t| t.contains("Meal")).await;
    b.close().await;
}
