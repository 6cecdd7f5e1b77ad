//! Printer addresses. `ipp://user:password@host/...` once appeared in the print-job messages
//! staff and viewers read, `:99999` was quietly sent to port 631, and Check said "it can
//! print" of a printer that never answered. Now addresses are shown without credentials
//! everywhere, a bad port is refused, and no answer is a problem.

use axum::http::StatusCode;

use crate::harness::Harness;
use crate::harness::web::{get, post_with_csrf};
use crate::{changes_nothing, signed_in};
use scanline_server::store::users::Role;

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn printer_form(org: i64, uri: &str) -> String {
    format!(
        "organization_id={org}&name=Desk&uri={}&kind=card&media=&paper=letter&dpi=300\
         &bitmap_width=1012&bitmap_height=638&document_format=application/pdf",
        uri.replace(':', "%3A").replace('/', "%2F").replace('@', "%40")
    )
}

#[tokio::test]
async fn printer_credentials_never_reach_a_page_and_bad_ports_are_refused() {
    let h = Harness::new();
    let admin = signed_in(&h, "boss", h.org_a, Role::Admin).await;
    let viewer = signed_in(&h, "looker", h.org_a, Role::Viewer).await;
    changes_nothing(&h, async {
        for uri in ["ipp://desk:secret@127.0.0.1:99999/ipp/print", "ipp://127.0.0.1:0/x"] {
            let p = post_with_csrf(
                &h,
                "/admin/printers",
                &admin,
                "/admin/printers",
                &printer_form(h.org_a, uri),
            )
            .await;
            assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {}", p.body);
            assert!(p.body.contains("is not a port"), "{}", p.body);
            assert!(!p.body.contains("secret"), "{}", p.body);
        }
    })
    .await;

    let uri = format!("ipp://desk:secret@127.0.0.1:{}/ipp/print", dead_port());
    let p = post_with_csrf(
        &h,
        "/admin/printers",
        &admin,
        "/admin/printers",
        &printer_form(h.org_a, &uri),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let printer = h.count("SELECT MAX(id) FROM printers");
    let card = h.count(&format!("SELECT id FROM cards WHERE client_id = {}", h.clients[0].0));
    let dash = format!("/clients/{}", h.clients[0].0);
    let p = post_with_csrf(
        &h,
        &format!("/cards/{card}/print"),
        &admin,
        &dash,
        &format!("printer={printer}"),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let job = p.location.unwrap();
    assert!(h.count("SELECT COUNT(*) FROM print_jobs WHERE state = 'failed'") == 1);
    for (who, cookie) in [("admin", &admin), ("viewer", &viewer)] {
        for page in [job.as_str(), "/print-jobs", "/admin/printers"] {
            let body = get(&h, page, cookie).await.body;
            assert!(!body.contains("secret"), "{who} reads the password on {page}: {body}");
        }
    }
    assert!(get(&h, &job, &admin).await.body.contains("ipp://127.0.0.1:"), "the address, shown");

    // Check: a printer that does not answer cannot print.
    let p = post_with_csrf(
        &h,
        &format!("/admin/printers/{printer}/check"),
        &admin,
        "/admin/printers",
        "",
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("It can print"), "{}", p.body);
    assert!(p.body.contains("id=\"check-problems\""), "{}", p.body);
    assert!(!p.body.contains("secret"));
}
