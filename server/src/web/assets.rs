//! The staff pages' style sheet and scripts (and the camera's card-code reader), built into the binary and served from
//! `/static/`, so every page can forbid inline script and style in its Content-Security-Policy
//! (DESIGN §13). They hold no client data and may be cached briefly.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::WebError;
use crate::state::AppState;

/// (file name, content type, content).
const FILES: &[(&str, &str, &str)] = &[
    ("staff.css", "text/css; charset=utf-8", include_str!("../../static/staff.css")),
    ("forms.js", "text/javascript; charset=utf-8", include_str!("../../static/forms.js")),
    ("batch.js", "text/javascript; charset=utf-8", include_str!("../../static/batch.js")),
    ("photo.js", "text/javascript; charset=utf-8", include_str!("../../static/photo.js")),
    ("quick.js", "text/javascript; charset=utf-8", include_str!("../../static/quick.js")),
];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/static/{name}", get(file))
}

async fn file(Path(name): Path<String>) -> Response {
    const CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "public, max-age=300");
    match name.as_str() {
        "camera.js" => {
            return (
                [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), CACHE],
                scanline_browser::SCRIPT,
            )
                .into_response();
        }
        "reader.wasm" => {
            return (
                [(header::CONTENT_TYPE, scanline_browser::WASM_CONTENT_TYPE), CACHE],
                scanline_browser::READER,
            )
                .into_response();
        }
        "phone.wasm" => {
            return (
                [(header::CONTENT_TYPE, scanline_browser::WASM_CONTENT_TYPE), CACHE],
                scanline_browser::PHONE,
            )
                .into_response();
        }
        _ => {}
    }
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => ([(header::CONTENT_TYPE, *kind), CACHE], *body).into_response(),
        None => WebError::NotFound.into_response(),
    }
}

#[cfg(test)]
mod tests {
    /// Every template leaves script and style to `/static/`: no inline `<script>` body, no
    /// `style` element or attribute, no `on...=` handler. The policy would block them, and a
    /// page that relies on one would silently stop working.
    #[test]
    fn templates_hold_no_inline_script_or_style() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display();
            for (i, _) in text.match_indices("<script") {
                let tag = &text[i..text[i..].find('>').map_or(text.len(), |e| i + e)];
                assert!(tag.contains(" src="), "{name}: inline script at byte {i}");
            }
            assert!(!text.contains("<style"), "{name}: a style element");
            assert!(!text.contains(" style=\""), "{name}: a style attribute");
            let handler = regex_free_handler(&text);
            assert!(handler.is_none(), "{name}: an inline event handler {handler:?}");
        }
    }

    /// The first ` onxxx="` attribute in a text, if any.
    fn regex_free_handler(text: &str) -> Option<String> {
        text.match_indices(" on").find_map(|(i, _)| {
            let rest = &text[i + 3..];
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            (!name.is_empty() && rest[name.len()..].starts_with("=\"")).then(|| format!("on{name}"))
        })
    }
}
