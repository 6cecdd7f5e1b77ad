//! The station API v1 (`station`), health, and the OpenAPI document generated from the
//! handlers (DESIGN §7). The staff pages live in `web`; `app` puts both behind one router.

pub mod extract;
pub mod station;

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

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
