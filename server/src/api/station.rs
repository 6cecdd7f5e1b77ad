//! Station API v1 handlers (DESIGN §7): health, roster snapshot and delta, batch create, entry
//! upload, delete and revalidate, close and Post Services. A station is known only by its
//! token; it never names its own identity or organization in a request.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use scanline_core::wire::{
    AnonymousCount, BatchInfo, CreateBatch, EntryVerdict, ErrorBody, Health, HeldAnswer, HeldQuery,
    PostSummary, RosterDelta, RosterSnapshot, SetBed, UploadEntries, UploadResult,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::{ApiJson, parse_uuid};
use crate::error::{ApiError, ApiResult};
use crate::ingest::IngestError;
use crate::store::ClientId;
use crate::store::audit::Actor;
use crate::store::batches::{self, Creator};
use crate::store::roster;
use crate::store::stations::StationAuth;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(get_roster))
        .routes(routes!(get_roster_delta))
        .routes(routes!(create_batch))
        .routes(routes!(get_batch))
        .routes(routes!(upload_entries))
        .routes(routes!(held_entries))
        .routes(routes!(delete_entry))
        .routes(routes!(set_entry_bed))
        .routes(routes!(revalidate_batch))
        .routes(routes!(close_batch))
        .routes(routes!(set_anonymous))
        .routes(routes!(post_batch))
        .routes(routes!(client_photo))
}

/// A client's photo, so the volunteer can check the card belongs to its holder. Only clients
/// the station's organization may see; `no-store`, never cached by the station.
#[utoipa::path(
    get, path = "/api/v1/clients/{client}/photo",
    security(("station_token" = [])),
    params(("client" = i64, Path, description = "client id from the roster")),
    responses(
        (status = 200, description = "the photo, image/jpeg", content_type = "image/jpeg"),
        (status = 404, body = ErrorBody, description = "no such client, not visible, or no photo")
    )
)]
async fn client_photo(
    State(state): State<AppState>,
    station: StationAuth,
    Path(client): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let id: i64 = client.parse().map_err(|_| ApiError::not_found("no such client"))?;
    let org = station.organization_id;
    let bytes = state
        .db
        .read(move |conn| {
            crate::store::clients::get_visible(conn, &[org], ClientId(id))?;
            crate::store::photos::current(conn, ClientId(id), false)
        })
        .await??
        .ok_or_else(|| ApiError::not_found("this client has no photo"))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/jpeg"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response())
}

/// How long `/healthz` waits for each database round trip. Long enough for a busy writer to
/// finish a large group commit, short enough for a supervisor to notice a wedged one.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Liveness: a trivial round trip through the database writer and readers. Answers 503 when
/// one of them does not answer, so a supervisor restarts a broken server.
#[utoipa::path(
    get, path = "/healthz",
    responses(
        (status = 200, body = Health),
        (status = 503, body = ErrorBody, description = "the database does not answer")
    )
)]
async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let schema_version = state.db.check(HEALTH_TIMEOUT).await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unhealthy", format!("not ok: {e}"))
    })?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
    }))
}

/// Everything the station validates from, with the cursor for deltas.
#[utoipa::path(
    get, path = "/api/v1/roster",
    security(("station_token" = [])),
    responses((status = 200, body = RosterSnapshot), (status = 401, body = ErrorBody))
)]
async fn get_roster(
    State(state): State<AppState>,
    station: StationAuth,
) -> ApiResult<Json<RosterSnapshot>> {
    Ok(Json(state.db.read(move |conn| roster::snapshot(conn, &station)).await??))
}

/// What changed since `since` (the cursor of the last snapshot or delta).
#[utoipa::path(
    get, path = "/api/v1/roster/delta",
    security(("station_token" = [])),
    params(("since" = i64, Query, description = "cursor from the last snapshot or delta")),
    responses(
        (status = 200, body = RosterDelta),
        (status = 400, body = ErrorBody, description = "missing or bad cursor"),
        (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "a cursor this server never gave out")
    )
)]
async fn get_roster_delta(
    State(state): State<AppState>,
    station: StationAuth,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<RosterDelta>> {
    let since = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("since="))
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", "give ?since=<cursor> as a number")
        })?;
    Ok(Json(state.db.read(move |conn| roster::delta(conn, &station, since)).await??))
}

/// Creates a batch for one of the station's programs; a retry with the same UUID and settings
/// answers 200 with the existing batch.
#[utoipa::path(
    post, path = "/api/v1/batches",
    security(("station_token" = [])),
    request_body = CreateBatch,
    responses(
        (status = 201, body = BatchInfo, description = "created"),
        (status = 200, body = BatchInfo, description = "already existed (a retried request)"),
        (status = 403, body = ErrorBody, description = "not one of the station's programs"),
        (status = 409, body = ErrorBody, description = "the UUID is taken by other settings"),
        (status = 422, body = ErrorBody)
    )
)]
async fn create_batch(
    State(state): State<AppState>,
    station: StationAuth,
    ApiJson(req): ApiJson<CreateBatch>,
) -> ApiResult<(StatusCode, Json<BatchInfo>)> {
    let now = state.clock.now();
    let (info, created) = state
        .db
        .transact(move |tx| {
            let (batch, created) = batches::create(tx, Creator::Station(&station), &req, now)?;
            crate::store::stations::touch(tx, station.id)?;
            Ok::<_, crate::store::StoreError>((batches::info(tx, &batch)?, created))
        })
        .await??;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(info)))
}

#[utoipa::path(
    get, path = "/api/v1/batches/{batch}",
    security(("station_token" = [])),
    params(("batch" = String, Path, description = "batch UUID")),
    responses((status = 200, body = BatchInfo), (status = 404, body = ErrorBody))
)]
async fn get_batch(
    State(state): State<AppState>,
    station: StationAuth,
    Path(batch): Path<String>,
) -> ApiResult<Json<BatchInfo>> {
    let uuid = parse_uuid(&batch)?;
    let info = state
        .db
        .read(move |conn| {
            let b = batches::load_for_station(conn, &station, uuid)?;
            batches::info(conn, &b)
        })
        .await??;
    Ok(Json(info))
}

/// Uploads scans. Each entry is judged by the server with the same rules as the station and
/// answered with the authoritative verdict; entries already uploaded are answered as stored and
/// change nothing. All entries of a request are stored in one transaction.
#[utoipa::path(
    post, path = "/api/v1/batches/{batch}/entries",
    security(("station_token" = [])),
    params(("batch" = String, Path, description = "batch UUID")),
    request_body = UploadEntries,
    responses(
        (status = 200, body = UploadResult),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "an entry UUID belongs to another batch"),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
async fn upload_entries(
    State(state): State<AppState>,
    station: StationAuth,
    Path(batch): Path<String>,
    ApiJson(req): ApiJson<UploadEntries>,
) -> ApiResult<Json<UploadResult>> {
    let uuid = parse_uuid(&batch)?;
    let now = state.clock.now();
    let entries =
        state.ingest.upload(station, uuid, req.entries, now).await.map_err(|e| match e {
            IngestError::Store(e) => ApiError::from(e),
            IngestError::Internal(e) => ApiError::internal(&e),
            IngestError::DiskFull => ApiError::disk_full(),
        })?;
    Ok(Json(UploadResult { entries }))
}

/// Which of these entries of the station the server does not hold: after the server was
/// restored from a backup, a station asks about what it sent and resends what is missing.
#[utoipa::path(
    post, path = "/api/v1/entries/held",
    security(("station_token" = [])),
    request_body = HeldQuery,
    responses(
        (status = 200, body = HeldAnswer),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
async fn held_entries(
    State(state): State<AppState>,
    station: StationAuth,
    ApiJson(req): ApiJson<HeldQuery>,
) -> ApiResult<Json<HeldAnswer>> {
    if req.uuids.len() > scanline_core::wire::MAX_ENTRIES_PER_UPLOAD {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "too_many",
            format!(
                "ask about at most {} entries at a time",
                scanline_core::wire::MAX_ENTRIES_PER_UPLOAD
            ),
        ));
    }
    let missing = state
        .db
        .read(move |conn| batches::missing_for_station(conn, station.id, &req.uuids))
        .await??;
    Ok(Json(HeldAnswer { missing }))
}

/// Deletes an unposted entry from the batch (the X in review).
#[utoipa::path(
    delete, path = "/api/v1/batches/{batch}/entries/{entry}",
    security(("station_token" = [])),
    params(
        ("batch" = String, Path, description = "batch UUID"),
        ("entry" = String, Path, description = "entry UUID")
    ),
    responses(
        (status = 204, description = "deleted (or already deleted)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "already posted")
    )
)]
async fn delete_entry(
    State(state): State<AppState>,
    station: StationAuth,
    Path((batch, entry)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let batch = parse_uuid(&batch)?;
    let entry = parse_uuid(&entry)?;
    state
        .db
        .transact(move |tx| {
            let b = batches::load_for_station(tx, &station, batch)?;
            batches::delete_entry(tx, &b, entry, None)
        })
        .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives an entry another bed (staff chose it at the kiosk) and judges it again.
#[utoipa::path(
    put, path = "/api/v1/batches/{batch}/entries/{entry}/bed",
    security(("station_token" = [])),
    params(
        ("batch" = String, Path, description = "batch UUID"),
        ("entry" = String, Path, description = "entry UUID")
    ),
    request_body = SetBed,
    responses(
        (status = 200, body = EntryVerdict, description = "the entry's verdict with its new bed"),
        (status = 404, body = ErrorBody, description = "no such entry or bed"),
        (status = 409, body = ErrorBody, description = "posted, deleted, or the bed is given")
    )
)]
async fn set_entry_bed(
    State(state): State<AppState>,
    station: StationAuth,
    Path((batch, entry)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetBed>,
) -> ApiResult<Json<EntryVerdict>> {
    let batch = parse_uuid(&batch)?;
    let entry = parse_uuid(&entry)?;
    let v = state
        .db
        .transact(move |tx| {
            let b = batches::load_for_station(tx, &station, batch)?;
            batches::set_bed(tx, &b, entry, req.bed_id)
        })
        .await??;
    Ok(Json(v))
}

/// Judges every unposted entry again, after staff fixed a cause.
#[utoipa::path(
    post, path = "/api/v1/batches/{batch}/revalidate",
    security(("station_token" = [])),
    params(("batch" = String, Path, description = "batch UUID")),
    responses((status = 200, body = UploadResult), (status = 404, body = ErrorBody))
)]
async fn revalidate_batch(
    State(state): State<AppState>,
    station: StationAuth,
    Path(batch): Path<String>,
) -> ApiResult<Json<UploadResult>> {
    let uuid = parse_uuid(&batch)?;
    let entries = state
        .db
        .transact(move |tx| {
            let b = batches::load_for_station(tx, &station, uuid)?;
            batches::revalidate(tx, &b)
        })
        .await??;
    Ok(Json(UploadResult { entries }))
}

/// The station's count of guests the batch served without a card and without a record
/// ("+ Guest without card"). Sent again after each one; the larger count stands, so a retry or
/// a late, smaller count changes nothing. A closed batch still takes it.
#[utoipa::path(
    put, path = "/api/v1/batches/{batch}/anonymous",
    security(("station_token" = [])),
    params(("batch" = String, Path, description = "batch UUID")),
    request_body = AnonymousCount,
    responses(
        (status = 200, body = AnonymousCount, description = "the count the server holds now"),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "more than one batch can count")
    )
)]
async fn set_anonymous(
    State(state): State<AppState>,
    station: StationAuth,
    Path(batch): Path<String>,
    ApiJson(body): ApiJson<AnonymousCount>,
) -> ApiResult<Json<AnonymousCount>> {
    let uuid = parse_uuid(&batch)?;
    let count = state
        .db
        .transact(move |tx| {
            let b = batches::load_for_station(tx, &station, uuid)?;
            batches::set_anonymous(tx, &b, body.count)
        })
        .await??;
    Ok(Json(AnonymousCount { count }))
}

/// A closed batch, and what auto-post did if the batch asks for it.
#[derive(Debug, Serialize, ToSchema)]
struct CloseResult {
    batch: BatchInfo,
    post: Option<PostSummary>,
}

/// Closes the batch; with auto-post, posts its accepted entries in the same transaction.
#[utoipa::path(
    post, path = "/api/v1/batches/{batch}/close",
    security(("station_token" = [])),
    params(("batch" = String, Path, description = "batch UUID")),
    responses((status = 200, body = CloseResult), (status = 404, body = ErrorBody))
)]
async fn close_batch(
    State(state): State<AppState>,
    station: StationAuth,
    Path(batch): Path<String>,
) -> ApiResult<Json<CloseResult>> {
    let uuid = parse_uuid(&batch)?;
    let result = state
        .db
        .transact(move |tx| {
            let b = batches::load_for_station(tx, &station, uuid)?;
            let (b, post) = batches::close(tx, &b, Actor::Station(station.id))?;
            Ok::<_, crate::store::StoreError>(CloseResult { batch: batches::info(tx, &b)?, post })
        })
        .await??;
    Ok(Json(result))
}

/// Post Services: creates the services of every accepted entry not yet posted, atomically; a
/// repeated call posts nothing new and says so.
#[utoipa::path(
    post, path = "/api/v1/batches/{batch}/post",
    security(("station_token" = [])),
    params(("batch" = String, Path, description = "batch UUID")),
    responses(
        (status = 200, body = PostSummary),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "an entry lost its enrollment: revalidate")
    )
)]
async fn post_batch(
    State(state): State<AppState>,
    station: StationAuth,
    Path(batch): Path<String>,
) -> ApiResult<Json<PostSummary>> {
    let uuid = parse_uuid(&batch)?;
    let live = std::sync::Arc::clone(&state.live);
    let station_id = station.id;
    let result = state
        .db
        .transact(move |tx| {
            let b = batches::load_for_station(tx, &station, uuid)?;
            batches::post(tx, &b, Actor::Station(station.id))
        })
        .await;
    match result {
        Ok(Ok(summary)) => Ok(Json(summary)),
        Ok(Err(e)) => {
            live.post_failed(Some(station_id));
            Err(e.into())
        }
        Err(e) => {
            live.post_failed(Some(station_id));
            Err(e.into())
        }
    }
}
