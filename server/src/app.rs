//! The whole HTTP application: the station API, its OpenAPI document, `/metrics` and the
//! staff pages merged into one router, with the layers every response passes through (body
//! limit, compression, request ids and tracing, the database generation, security headers).
//! Nothing here handles a request itself.

use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::{AppState, MAX_BODY_BYTES};

/// Names the database's generation on every response, so a station notices a restore.
async fn generation_header(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut resp = next.run(req).await;
    if let Some(g) = state.live.generation.get()
        && let Ok(v) = axum::http::HeaderValue::from_str(g)
    {
        resp.headers_mut().insert(scanline_core::wire::GENERATION_HEADER, v);
    }
    resp
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (api, doc) = crate::api::station_api();
    let doc = std::sync::Arc::new(doc);
    api.route("/api/v1/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .route("/metrics", get(crate::metrics::metrics))
        .merge(crate::web::pages(state.clone()))
        .fallback(|| async { ApiError::not_found("no such endpoint").into_response() })
        .layer(axum::middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // The path only: a query string may hold what staff typed into a search.
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), generation_header))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The Content-Security-Policy of every HTML page: scripts, styles and pictures only from this
/// server (the webcam's picture is a `blob:`), no framing, forms post only here. WebAssembly
/// may be compiled: the camera's card-code reader is.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Security headers on every response (DESIGN §13): no sniffing, no framing, no referrer to
/// other sites; the policy on HTML; and `no-store` on everything but the static files, so no
/// page, CSV or picture of a client stays in a browser's cache.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::{HeaderValue, header};
    let cacheable = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
