//! Security headers: pages once carried none. Now every HTML page has a Content-Security-Policy
//! with no inline script, and no page, CSV or picture of client data is cached or framed.

use axum::http::header;

use crate::harness::Harness;
use crate::harness::web::get;
use crate::signed_in;
use scanline_server::store::users::Role;

#[tokio::test]
async fn every_page_and_download_carries_the_security_headers() {
    let h = Harness::new();
    let staff = signed_in(&h, "desk", h.org_a, Role::Admin).await;
    let client = h.clients[0].0;
    for path in [
        "/login".to_owned(),
        "/clients".to_owned(),
        format!("/clients/{client}"),
        "/batches".to_owned(),
        "/reports?kind=services&from=2026-11-01&to=2026-11-28".to_owned(),
        "/reports?kind=services&from=2026-11-01&to=2026-11-28&format=csv".to_owned(),
        "/admin/hmis/services.csv?from=2026-11-01&to=2026-11-28&program=&format=plain".to_owned(),
        "/no/such/page".to_owned(),
    ] {
        let p = get(&h, &path, if path == "/login" { "" } else { &staff }).await;
        let hv = |name: header::HeaderName| {
            p.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
        };
        assert_eq!(hv(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(hv(header::REFERRER_POLICY), "same-origin", "{path}");
        assert_eq!(hv(header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(hv(header::CACHE_CONTROL), "no-store", "{path}");
        if p.content_type.starts_with("text/html") {
            let csp = hv(header::CONTENT_SECURITY_POLICY);
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert!(!p.body.contains("<script>"), "{path} has an inline script");
        }
    }
    // The style sheet and scripts are files of their own, and may be cached briefly.
    for file in ["staff.css", "forms.js", "batch.js", "photo.js"] {
        let p = get(&h, &format!("/static/{file}"), "").await;
        assert_eq!(p.status, 200, "{file}");
        assert!(p.headers[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    }
}
