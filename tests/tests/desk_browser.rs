//! The front desk's pages in headless Chromium, as a new caseworker and a volunteer use them:
//! the add-client warning catches a client typed with first and last name swapped and a birth
//! date a day off and says why, and find client takes the names in either order (at a desk's
//! 1366×768); Quick Services selects all and none, says so when nobody was ticked, keeps its
//! filter, and marks who is served today; the occupancy report draws its chart, says so for an
//! empty period, and the flagged-entries report links the client to their dashboard (at a
//! phone's 390×844 and at 1366×768). Every page checked has no axe-core violation (axe-core
//! from npm, installed by `tests/run`), no sideways scroll, and controls at least 44 px tall.
//! Screenshots go to `target/screenshots/`.

use fantoccini::Locator;
use rusqlite::Connection;
use scanline_tests::{Browser, agency, pages, serve_new};
use serde_json::json;

/// Enter, as WebDriver sends it.
const ENTER: &str = "\u{E007}";

const PHONE: (u32, u32) = (390, 844);
const DESK: (u32, u32) = (1366, 768);

async fn resize(b: &Browser, (w, h): (u32, u32)) {
    pages::resize(b, w, h).await;
}

async fn assert_clean(b: &Browser, what: &str) {
    let found = pages::problems(b, true).await;
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

/// A screenshot of the whole page at the current width: the window is made as tall as the
/// page for it (up to 3000 px), then put back.
async fn shot(b: &Browser, name: &str) {
    let c = &b.client;
    let size = c.execute("return [window.innerWidth, window.innerHeight, document.documentElement.scrollHeight];", vec![]).await.unwrap();
    let (w, h, full) =
        (size[0].as_u64().unwrap(), size[1].as_u64().unwrap(), size[2].as_u64().unwrap());
    let want = full.clamp(h, 3000);
    c.set_window_size(w as u32, want as u32).await.unwrap();
    // The window's height may include a few pixels the page does not get.
    let inner = c.execute("return window.innerHeight;", vec![]).await.unwrap().as_u64().unwrap();
    if inner < want {
        c.set_window_size(w as u32, (2 * want - inner) as u32).await.unwrap();
    }
    c.execute("window.scrollTo(0, 0); return null;", vec![]).await.unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(pages::screenshots("").join(name), png).unwrap();
    c.set_window_size(w as u32, h as u32).await.unwrap();
}

/// How many client boxes on the Quick Services list are ticked, and how many there are.
async fn ticked(b: &Browser) -> (u64, u64) {
    let v = b
        .client
        .execute(
            "const boxes = [...document.querySelectorAll('input[name=client]')];
             return [boxes.filter(x => x.checked).length, boxes.length];",
            vec![],
        )
        .await
        .unwrap();
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

async fn value(b: &Browser, css: &str) -> String {
    b.client.find(Locator::Css(css)).await.unwrap().prop("value").await.unwrap().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_pages_for_a_new_caseworker_and_a_volunteer() {
    let a = agency(200);
    let conn = Connection::open(&a.db).unwrap();
    // A client on file with a birth date, and a last name several enrolled meal clients share
    // the first letters of, for the Quick Services filter.
    let (id, first, last, dob): (i64, String, String, String) = conn
        .query_row(
            "SELECT id, first_name, last_name, dob FROM clients
             WHERE restricted = 0 AND dob IS NOT NULL ORDER BY id LIMIT 1 OFFSET 5",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let open_meal = "FROM clients c JOIN enrollments e ON e.client_id = c.id
         WHERE e.program_id = 1 AND e.exit_date IS NULL AND e.entry_date <= date('now', '-1 day')";
    let (prefix, listed): (String, u64) = conn
        .query_row(
            &format!(
                "SELECT substr(c.last_name, 1, 2) AS p, COUNT(*) AS n {open_meal}
                 GROUP BY p HAVING n BETWEEN 3 AND 12 ORDER BY n DESC, p LIMIT 1"
            ),
            [],
            |r| Ok((r.get(0)?, u64::from(r.get::<_, u32>(1)?))),
        )
        .unwrap();
    // The client Quick Services will serve: on that list, with a card, and not barred.
    let (served_id, served_first, served_code): (i64, String, String) = conn
        .query_row(
            &format!(
                "SELECT c.id, c.first_name,
                     (SELECT code FROM cards k WHERE k.client_id = c.id AND k.replaced_by IS NULL
                      AND k.revoked_at IS NULL ORDER BY k.id DESC LIMIT 1)
                 {open_meal} AND c.last_name LIKE ?1 || '%'
                   AND NOT EXISTS (SELECT 1 FROM bars b WHERE b.client_id = c.id)
                 ORDER BY c.id LIMIT 1"
            ),
            [&prefix],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    drop(conn);

    let server = serve_new(&a.db);
    let base = server.base.clone();
    let b = Browser::start().await;
    let c = &b.client;
    let css = |s: &'static str| Locator::Css(s);
    resize(&b, DESK).await;
    b.sign_in_admin(&base, a.dir.path()).await;

    // Item 6, at a desk: the same person typed last name first, born a day later by mistake.
    let next_day = (dob.parse::<chrono::NaiveDate>().unwrap() + chrono::Days::new(1)).to_string();
    c.goto(&format!("{base}/clients/new")).await.unwrap();
    c.find(css("#first_name")).await.unwrap().send_keys(&last).await.unwrap();
    c.find(css("#last_name")).await.unwrap().send_keys(&first).await.unwrap();
    c.execute(
        &format!("document.getElementById('dob').value = '{next_day}'; return null;"),
        vec![],
    )
    .await
    .unwrap();
    c.find(css("form[action='/clients/new'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("main", "the duplicate warning", |t| t.contains("may already be on file")).await;
    let why = c
        .execute(
            &format!("return document.querySelector(\"#h-dups ~ ul a[href='/clients/{id}']\").closest('li').textContent;"),
            vec![],
        )
        .await
        .unwrap();
    let why = why.as_str().unwrap_or_default();
    assert!(
        why.contains(&format!("{last}, {first}"))
            && why.contains("Why: same name with first and last swapped, birth date one day off"),
        "{why}"
    );
    assert_clean(&b, "the add-client warning at 1366 px").await;
    // Find client, last name first, by first letters.
    let q = format!("{} {}", &last[..3], &first[..2]);
    c.goto(&format!("{base}/clients")).await.unwrap();
    c.find(css("#q")).await.unwrap().send_keys(&format!("{q}{ENTER}")).await.unwrap();
    b.wait_for("main", "the client found last name first", |t| {
        t.contains(&format!("{last}, {first}"))
    })
    .await;
    assert!(
        c.find(Locator::Css(&format!("a[href='/clients/{id}']"))).await.is_ok(),
        "{q} finds client {id}"
    );
    assert_clean(&b, "find client at 1366 px").await;

    // Item 9, on a phone and at a desk: Quick Services for the meal, filtered by last name.
    let quick = format!("{base}/quick-services?service=1:1&last={prefix}");
    for size in [PHONE, DESK] {
        resize(&b, size).await;
        c.goto(&quick).await.unwrap();
        b.wait_for("#quick-save legend", "the list", |t| t.contains(&prefix)).await;
        assert_eq!(ticked(&b).await, (0, listed), "everyone on the list, nobody ticked");
        // Save with nobody ticked: the form comes back with the reason and the filter.
        c.find(css("#quick-save button[type=submit]")).await.unwrap().click().await.unwrap();
        b.wait_for("#problem", "the nobody-ticked message", |t| t.contains("Nobody was ticked"))
            .await;
        assert_eq!(value(&b, "#last").await, prefix);
        assert_eq!(ticked(&b).await, (0, listed));
        assert_clean(&b, &format!("Quick Services, nobody ticked, at {} px", size.0)).await;
        // Select all, then none.
        c.find(css("#select-all")).await.unwrap().click().await.unwrap();
        assert_eq!(ticked(&b).await, (listed, listed));
        assert_eq!(b.text("#ticked").await, format!("{listed} clients ticked"));
        c.find(css("#select-none")).await.unwrap().click().await.unwrap();
        assert_eq!(ticked(&b).await, (0, listed));
    }
    // Serve one client (on the desk screen); the answer keeps the filter and marks them.
    c.find(Locator::Css(&format!("input[name=client][value='{served_id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(css("#quick-save button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait_for("#h-results + ul", "the saved client", |t| {
        t.contains(&format!("{served_first} ")) || t.contains(&format!(", {served_first}"))
    })
    .await;
    assert!(b.text("#h-results + ul").await.contains(": added"), "{}", b.text("main").await);
    assert_eq!(value(&b, "#last").await, prefix);
    let row = c
        .execute(
            &format!("return document.querySelector(\"input[name=client][value='{served_id}']\").closest('label').textContent;"),
            vec![],
        )
        .await
        .unwrap();
    assert!(row.as_str().unwrap_or_default().contains("Served today"), "{row}");
    // Select all now leaves out the client already served today.
    c.find(css("#select-all")).await.unwrap().click().await.unwrap();
    assert_eq!(ticked(&b).await, (listed - 1, listed));
    c.find(css("#select-none")).await.unwrap().click().await.unwrap();
    for (size, name) in [(PHONE, "quick-services-390.png"), (DESK, "quick-services-1366.png")] {
        resize(&b, size).await;
        assert_clean(&b, &format!("Quick Services after saving, at {} px", size.0)).await;
        shot(&b, name).await;
    }

    // Item 10: the occupancy chart for the default period (the last 30 days and today).
    for (size, name) in [(PHONE, "reports-390.png"), (DESK, "reports-1366.png")] {
        resize(&b, size).await;
        c.goto(&format!("{base}/reports?kind=occupancy")).await.unwrap();
        b.wait_for("figure.occupancy figcaption", "the chart", |t| t.contains("Night Shelter"))
            .await;
        let bars = c.find_all(css("figure.occupancy rect.bar")).await.unwrap().len();
        assert_eq!(bars, 31, "a bar for each night of the period");
        let fits = c
            .execute(
                "const r = document.querySelector('figure.occupancy svg').getBoundingClientRect();
                 return r.width > 200 && r.right <= document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fits, json!(true), "the chart fits the page at {} px", size.0);
        assert_clean(&b, &format!("the occupancy report at {} px", size.0)).await;
        shot(&b, name).await;
    }
    // An empty period says so instead of drawing nothing.
    c.goto(&format!("{base}/reports?kind=occupancy&from=2001-01-01&to=2001-01-31")).await.unwrap();
    b.wait_for("#no-nights", "the empty-period message", |t| {
        t.contains("No bed nights were recorded from 2001-01-01 to 2001-01-31")
    })
    .await;

    // A flagged entry: the served client scanned again into a web batch is "Already served";
    // the flagged report names them and links to their dashboard.
    c.goto(&format!("{base}/batches")).await.unwrap();
    c.find(css("#service")).await.unwrap().select_by_value("1:1").await.unwrap();
    c.find(css("form[action='/batches'] button")).await.unwrap().click().await.unwrap();
    b.wait_for("main", "the batch page", |t| t.contains("Client ID")).await;
    c.find(css("#code")).await.unwrap().send_keys(&format!("{served_code}{ENTER}")).await.unwrap();
    b.wait_text("#banner .label", "Already served").await;
    for size in [PHONE, DESK] {
        resize(&b, size).await;
        c.goto(&format!("{base}/reports?kind=flagged")).await.unwrap();
        b.wait_for("table.report-table", "the flagged entry", |t| t.contains("Already served"))
            .await;
        assert_clean(&b, &format!("the flagged-entries report at {} px", size.0)).await;
    }
    c.find(Locator::Css(&format!("table.report-table a[href='/clients/{served_id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for("h1", "the client's dashboard", |t| t.starts_with(&served_first)).await;
    b.close().await;
}
