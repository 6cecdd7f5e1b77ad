//! HTTP: the station API v1 (`station`), health, and the OpenAPI document generated from the
//! handlers. `app()` only merges routers and adds layers.

pub mod error;
pub mod extract;
pub mod station;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::db::Db;
use crate::ingest::Ingest;
use error::ApiError;

/// Largest request body the API reads: an upload of `MAX_ENTRIES_PER_UPLOAD` entries fits with
/// room to spare.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub ingest: Ingest,
    pub web: WebSettings,
    /// Stations as their latest requests showed them, and counters, for `/metrics`.
    pub live: std::sync::Arc<crate::metrics::Live>,
    /// What "now" is when a time from outside is checked; tests pin it.
    pub clock: crate::clock::Clock,
    /// Failed sign-ins per address, and the bounded pool that checks passwords.
    pub sign_ins: std::sync::Arc<crate::web::throttle::SignIns>,
}

/// Settings of the staff pages.
#[derive(Debug, Clone, Copy)]
pub struct WebSettings {
    /// A session unused this long is ended (DESIGN §13: idle log-off).
    pub idle_timeout: chrono::Duration,
    /// Mark the session cookie `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self { idle_timeout: chrono::Duration::minutes(30), secure_cookies: false }
    }
}

impl AppState {
    /// The state for a database; starts the upload queue on the current tokio runtime.
    pub fn new(db: Db) -> Self {
        let ingest = Ingest::start(db.clone());
        Self {
            db,
            ingest,
            web: WebSettings::default(),
            live: std::sync::Arc::default(),
            clock: crate::clock::Clock::system(),
            sign_ins: std::sync::Arc::default(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Scanline station API",
        version = "1",
        description = "Roster sync, batches, entry upload and Post Services for Scanline stations. \
            Every error is JSON: {\"error\": {\"code\", \"message\"}}."
    ),
    modifiers(&StationTokenScheme)
)]
struct ApiDoc;

struct StationTokenScheme;

impl utoipa::Modify for StationTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "station_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The station's token, shown once when it was registered."))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document and the router it describes.
pub fn station_api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(station::router()).split_for_parts()
}

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
    let (api, doc) = station_api();
    let doc = std::sync::Arc::new(doc);
    api.route("/api/v1/openapi.json", get(move || async move { Json(doc.as_ref().clone()) }))
        .route("/metrics", get(crate::metrics::metrics))
        .merge(crate::web::router())
        .fallback(|| async { ApiError::not_found("no such endpoint").into_response() })
        .layer(axum::middleware::from_fn(crate::web::security_headers))
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
