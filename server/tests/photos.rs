//! Photo uploads through the real router: a good picture is stored re-encoded, without
//! metadata and within the size rules, and served only to staff who may see the client; a
//! decompression bomb, a huge file, a text file named .jpg and a truncated JPEG are each
//! refused with a clear message and store nothing.

mod harness;

use std::io::Cursor;

use axum::http::{StatusCode, header};
use harness::Harness;
use harness::web::{get, post_body, signed_in_with_csrf};
use scanline_server::store::users;

async fn upload(
    h: &Harness,
    cookie: &str,
    csrf: &str,
    client: i64,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    let p =
        post_body(h, &format!("/clients/{client}/photo"), cookie, csrf, "image/jpeg", bytes).await;
    (p.status, p.body)
}

fn picture(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    }));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A tiny PNG whose header claims 50,000 x 50,000 pixels: decoding it would need gigabytes.
fn decompression_bomb() -> Vec<u8> {
    let mut png = picture(8, 8, image::ImageFormat::Png);
    // IHDR data starts at byte 16: width, height (big-endian), then its CRC after 13 bytes.
    png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn photo_rows(h: &Harness) -> i64 {
    h.count("SELECT COUNT(*) FROM photos")
}

#[tokio::test]
async fn bad_pictures_are_refused_and_store_nothing() {
    let h = Harness::new();
    let (cookie, csrf) = signed_in_with_csrf(&h, "staff", h.org_a, users::Role::Staff).await;
    let client = h.clients[0].0;
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("decompression bomb", decompression_bomb(), StatusCode::UNPROCESSABLE_ENTITY, "too large"),
        (
            "text renamed .jpg",
            b"Dear diary, this is not a picture.".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a JPEG, PNG or WebP",
        ),
        (
            "truncated JPEG",
            {
                let j = picture(400, 300, image::ImageFormat::Jpeg);
                j[..j.len() / 3].to_vec()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "could not be read",
        ),
        ("huge file", vec![0xFF; 11 * 1024 * 1024], StatusCode::PAYLOAD_TOO_LARGE, ""),
        ("empty", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "empty"),
    ];
    for (what, bytes, status, says) in cases {
        let (s, body) = upload(&h, &cookie, &csrf, client, bytes).await;
        assert_eq!(s, status, "{what}: {body}");
        assert!(body.contains(says), "{what}: {body}");
        assert_eq!(photo_rows(&h), 0, "{what} stored something");
    }
    // Without the CSRF token: refused.
    let (s, _) =
        upload(&h, &cookie, "nope", client, picture(100, 100, image::ImageFormat::Png)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(photo_rows(&h), 0);
}

#[tokio::test]
async fn a_good_picture_is_stored_clean_and_served_only_to_those_who_may_see_it() {
    let h = Harness::new();
    let (cookie, csrf) = signed_in_with_csrf(&h, "staff", h.org_a, users::Role::Staff).await;
    let client = h.clients[0].0;
    let (s, body) =
        upload(&h, &cookie, &csrf, client, picture(1600, 1200, image::ImageFormat::WebP)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let resp = get(&h, &format!("/clients/{client}/photo"), &cookie).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(resp.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(resp.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let jpeg = resp.bytes;
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (1024, 768));
    assert!(!jpeg.windows(4).any(|w| w == b"Exif"), "no metadata");
    // Not signed in, or another organization's staff: nothing.
    assert_eq!(
        get(&h, &format!("/clients/{client}/photo"), "").await.status,
        StatusCode::SEE_OTHER
    );
    h.conn().execute("UPDATE clients SET restricted = 1 WHERE id = ?", [client]).unwrap();
    let (south, _) = signed_in_with_csrf(&h, "south", h.org_b, users::Role::Staff).await;
    let resp = get(&h, &format!("/clients/{client}/photo/thumbnail"), &south).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(h.count("SELECT COUNT(*) FROM audit_events WHERE action = 'photo'"), 1);
}
