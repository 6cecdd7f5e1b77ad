//! Extractors that keep every rejection in the API's JSON error format: a JSON body (malformed,
//! wrong shape, unknown field, too large, wrong content type), a UUID path segment, and the
//! station's bearer token.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use scanline_core::wire;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::AppState;
use crate::error::ApiError;
use crate::store::stations::{self, StationAuth};

/// `axum::Json` with the API's errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the JSON does not match the request: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is larger than the server accepts",
        ),
        other => ApiError::bad_request("bad_request", other.body_text()),
    }
}

/// Parses a UUID path segment, answering 404 for anything else.
pub fn parse_uuid(segment: &str) -> Result<Uuid, ApiError> {
    segment.parse().map_err(|_| ApiError::not_found(format!("{segment:?} is not a UUID")))
}

/// Station API protocol versions this server speaks.
pub const PROTOCOLS_SPOKEN: std::ops::RangeInclusive<u32> = 1..=wire::PROTOCOL_VERSION;

/// Refuses a station that names a protocol version this server does not speak, plainly: the
/// station shows the message on its kiosk. A request without the header is version 1.
fn check_protocol(parts: &Parts) -> Result<(), ApiError> {
    let Some(value) = parts.headers.get(wire::PROTOCOL_HEADER) else { return Ok(()) };
    let version = value.to_str().ok().and_then(|v| v.trim().parse::<u32>().ok());
    match version {
        Some(v) if PROTOCOLS_SPOKEN.contains(&v) => Ok(()),
        _ => {
            let shown =
                String::from_utf8_lossy(value.as_bytes()).chars().take(20).collect::<String>();
            Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                wire::PROTOCOL_UNSUPPORTED,
                format!(
                    "this server speaks station protocol {}..={}, and the station speaks {shown:?}: \
                     install matching versions of the server and the station",
                    PROTOCOLS_SPOKEN.start(),
                    PROTOCOLS_SPOKEN.end()
                ),
            ))
        }
    }
}

/// The station behind the request's bearer token. Unknown and revoked tokens are refused
/// alike, so a probe learns nothing.
impl FromRequestParts<AppState> for StationAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        check_protocol(parts)?;
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing bearer token"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not a bearer token")
            })?
            .to_owned();
        let station = state.db.read(move |conn| stations::authenticate(conn, &token)).await??;
        let station =
            station.ok_or_else(|| ApiError::unauthorized("unknown or revoked station token"))?;
        let outbox = parts
            .headers
            .get(crate::live::OUTBOX_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        state.live.seen(station.id, outbox);
        Ok(station)
    }
}
