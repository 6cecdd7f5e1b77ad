//! A photo upload once took about 0.8 GB of memory from anyone signed in: a 486 KiB PNG
//! declaring 8000 × 8000 16-bit pixels passed the limits, and was decoded before the
//! permission check. Now who may change the photo is settled first, the decoded size is
//! checked from the header before anything is allocated, and few photos decode at once.
//! (The server's resident memory under the bomb is measured in `process`.)

use axum::http::StatusCode;

use crate::harness::Harness;
use crate::harness::web::{csrf_of, get, post_body};
use crate::{changes_nothing, signed_in};
use scanline_server::store::users::Role;

/// A PNG of 8000 × 8000 16-bit RGB pixels of one colour: under a megabyte that would take
/// 384 MB decoded.
pub(crate) fn bomb() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 8000, 8000);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Sixteen);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header().unwrap();
    let mut stream = w.stream_writer().unwrap();
    let row = vec![0u8; 8000 * 6];
    for _ in 0..8000 {
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
    drop(w);
    out
}

async fn upload(h: &Harness, cookie: &str, client: i64, bytes: Vec<u8>) -> (StatusCode, String) {
    let csrf = csrf_of(&get(h, "/clients", cookie).await.body);
    let p =
        post_body(h, &format!("/clients/{client}/photo"), cookie, &csrf, "image/png", bytes).await;
    (p.status, p.body)
}

#[tokio::test]
async fn the_photo_bomb_is_refused_and_permission_comes_before_decoding() {
    let h = Harness::new();
    let staff = signed_in(&h, "desk", h.org_a, Role::Staff).await;
    let viewer = signed_in(&h, "looker", h.org_a, Role::Viewer).await;
    let other = signed_in(&h, "south", h.org_b, Role::Admin).await;
    let bomb = bomb();
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let (client, _) = h.clients[0];
    changes_nothing(&h, async {
        let (status, body) = upload(&h, &staff, client, bomb.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("too large"), "{body}");
        // Refused before a byte is decoded: a viewer, a client out of sight, no such client.
        let (status, _) = upload(&h, &viewer, client, bomb.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = upload(&h, &staff, 999_999, bomb.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = upload(&h, &other, client, bomb.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "another organization's admin");
    })
    .await;
}
