//! The kiosk display (DESIGN §9): a page served by the station (loopback by default) with live
//! updates over server-sent events, for staff (verdict banner, counts, review list with delete,
//! revalidate, Post Services, new batch, no-card lookup, anonymous tally) and a guest-facing
//! page that only ever says "Welcome, <first name>" or "Please see the front desk".
//!
//! Every state-changing request must carry the `X-Scanline-Kiosk` header: a web page elsewhere
//! cannot add it without a CORS preflight this server never grants, so a browser on the kiosk
//! machine cannot be made to delete or post entries by another site.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use futures_util::Stream;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::state::Shared;
use crate::store::{batches, roster};
use crate::worker::{Command, Event, WorkerHandle};

const PAGE: &str = include_str!("page.html");
const GUEST: &str = include_str!("guest.html");
/// The header every state-changing kiosk request must carry.
pub const KIOSK_HEADER: &str = "x-scanline-kiosk";

#[derive(Clone)]
pub struct KioskState {
    pub worker: WorkerHandle,
    pub shared: Arc<Shared>,
    pub events: broadcast::Sender<Event>,
    /// A read connection for status and the review list.
    pub conn: Arc<Mutex<Connection>>,
    pub templates: Vec<String>,
    /// The program and service types of the first template: the batch a first scan starts.
    pub first_template: Option<(i64, Vec<i64>)>,
    /// Where client photos come from: the server, while it is reachable.
    pub photos: PhotoSource,
}

/// The server's photo endpoint, reached with the station's token.
#[derive(Clone)]
pub struct PhotoSource {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub fn router(state: KioskState) -> Router {
    Router::new()
        .route("/", get(|| async { page(PAGE) }))
        .route("/guest", get(|| async { page(GUEST) }))
        .route("/events", get(events))
        .route("/guest/events", get(guest_events))
        .route("/api/status", get(status))
        .route("/api/entries", get(entries))
        .route("/api/lookup", get(lookup))
        .route("/api/scan", post(scan))
        .route("/api/pick", post(pick))
        .route("/api/anonymous", post(anonymous))
        .route("/api/entries/{uuid}/delete", post(delete))
        .route("/api/entries/{uuid}/bed", post(set_bed))
        .route("/api/beds", get(beds))
        .route("/api/revalidate", post(revalidate))
        .route("/api/post", post(post_services))
        .route("/api/batches", post(new_batch))
        .route("/api/photo/{client}", get(photo))
        .route(
            "/camera.js",
            get(|| async {
                asset("text/javascript; charset=utf-8", scanline_browser::SCRIPT.as_bytes())
            }),
        )
        .route(
            "/reader.wasm",
            get(|| async { asset(scanline_browser::WASM_CONTENT_TYPE, scanline_browser::READER) }),
        )
        .with_state(state)
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::HeaderName::from_static("x-content-type-options"), "nosniff"),
        ],
        Html(html),
    )
        .into_response()
}

/// The camera's script and card-code reader: no client data, so they may be cached.
fn asset(kind: &'static str, body: &'static [u8]) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=300")], body)
        .into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"message": message.into()}}))).into_response()
}

/// The refusal for a state-changing request without the kiosk header.
fn header_missing(headers: &HeaderMap) -> Option<Response> {
    if headers.get(KIOSK_HEADER).is_some() {
        None
    } else {
        Some(error(StatusCode::FORBIDDEN, "kiosk requests must carry the X-Scanline-Kiosk header"))
    }
}

async fn read<T: Send + 'static>(
    state: &KioskState,
    f: impl FnOnce(&Connection) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let conn = Arc::clone(&state.conn);
    tokio::task::spawn_blocking(move || f(&conn.lock().expect("kiosk connection lock")))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[derive(Serialize)]
struct Status {
    station: String,
    organization: String,
    /// The organization's time zone: the kiosk shows times in it, as the staff pages do.
    time_zone: String,
    now: chrono::DateTime<Utc>,
    batch: Option<BatchStatus>,
    roster: RosterStatus,
    link: crate::state::LinkState,
    outbox_pending: i64,
    outbox_failed: i64,
    scanners: Vec<crate::state::ScannerState>,
    clock_error: Option<String>,
    templates: Vec<String>,
    /// The banner's words for each verdict, so the counts say the same.
    labels: std::collections::BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct BatchStatus {
    #[serde(flatten)]
    batch: batches::LocalBatch,
    program: String,
    service_types: Vec<String>,
    counts: std::collections::BTreeMap<String, i64>,
}

#[derive(Serialize)]
struct RosterStatus {
    loaded: bool,
    synced_at: Option<chrono::DateTime<Utc>>,
    age_seconds: Option<i64>,
    clients: i64,
}

async fn status(State(state): State<KioskState>) -> Response {
    let shared = Arc::clone(&state.shared);
    let templates = state.templates.clone();
    let result = read(&state, move |c| {
        let rules = roster::rules(c).ok();
        let batch = batches::latest(c)?;
        let batch = match batch {
            Some(b) => {
                let counts = batches::counts(c, &b.uuid)?.into_iter().collect();
                let program = rules
                    .as_ref()
                    .and_then(|r| r.program(b.program_id).map(|p| p.name.clone()))
                    .unwrap_or_else(|| format!("program {}", b.program_id));
                let service_types = rules
                    .as_ref()
                    .map(|r| {
                        r.service_types_of(&b.service_type_ids)
                            .into_iter()
                            .map(|s| s.name)
                            .collect()
                    })
                    .unwrap_or_default();
                Some(BatchStatus { batch: b, program, service_types, counts })
            }
            None => None,
        };
        let synced_at = roster::synced_at(c)?;
        Ok(Status {
            station: rules.as_ref().map(|r| r.station.name.clone()).unwrap_or_default(),
            organization: rules.as_ref().map(|r| r.organization.name.clone()).unwrap_or_default(),
            time_zone: rules.as_ref().map(|r| r.time_zone.name().to_owned()).unwrap_or_default(),
            now: Utc::now(),
            batch,
            roster: RosterStatus {
                loaded: rules.is_some(),
                synced_at,
                age_seconds: synced_at.map(|s| (Utc::now() - s).num_seconds().max(0)),
                clients: roster::client_count(c)?,
            },
            link: shared.link(),
            outbox_pending: batches::outbox_depth(c)?,
            outbox_failed: batches::failed_count(c)?,
            scanners: shared.scanners(),
            clock_error: shared.clock_error(),
            templates,
            labels: scanline_core::verdict::Verdict::ALL
                .into_iter()
                .map(|v| (v.as_str(), v.staff_label()))
                .collect(),
        })
    })
    .await;
    match result {
        Ok(s) => Json(s).into_response(),
        Err(r) => r,
    }
}

/// One line of the review list: the stored entry with the words and class the banner uses.
#[derive(Serialize)]
struct EntryLine {
    #[serde(flatten)]
    entry: batches::EntryView,
    label: &'static str,
    class: &'static str,
}

/// How many of the batch's entries the review list shows, newest first; the counts cover all.
const REVIEW_LIST: usize = 200;

async fn entries(State(state): State<KioskState>) -> Response {
    let result = read(&state, |c| match batches::latest(c)? {
        Some(b) => batches::recent_entries(c, &b.uuid, REVIEW_LIST),
        None => Ok(Vec::new()),
    })
    .await;
    match result {
        Ok(list) => Json(
            list.into_iter()
                .map(|e| EntryLine {
                    label: e.verdict.staff_label(),
                    class: crate::worker::class_of(e.verdict),
                    entry: e,
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct LookupQuery {
    q: String,
}

async fn lookup(State(state): State<KioskState>, Query(q): Query<LookupQuery>) -> Response {
    let query: String = q.q.chars().take(40).collect();
    // Each match with what tells it apart on this station: the last day it was served here
    // (and, on the page, the photo on file while the server answers). Nothing more personal
    // than the roster holds.
    let found = read(&state, move |c| {
        roster::lookup(c, &query, 12)?
            .into_iter()
            .map(|(id, name, number)| {
                let last = batches::last_served(c, id)?;
                Ok(json!({
                    "client_id": id, "display_name": name, "client_number": number,
                    "last_served": last,
                }))
            })
            .collect::<Result<Vec<_>, crate::store::StoreError>>()
    })
    .await;
    match found {
        Ok(list) => Json(list).into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanBody {
    code: String,
}

fn answer<T: Serialize>(r: Result<T, String>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

async fn scan(
    State(state): State<KioskState>,
    headers: HeaderMap,
    Json(body): Json<ScanBody>,
) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    let text: String = body.code.chars().take(1024).collect();
    answer(
        state
            .worker
            .ask(|reply| Command::Scan { source: "kiosk".into(), text, reply: Some(reply) })
            .await,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PickBody {
    client_id: i64,
}

async fn pick(
    State(state): State<KioskState>,
    headers: HeaderMap,
    Json(body): Json<PickBody>,
) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    answer(state.worker.ask(|reply| Command::Pick { client_id: body.client_id, reply }).await)
}

async fn anonymous(State(state): State<KioskState>, headers: HeaderMap) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    answer(
        state
            .worker
            .ask(|reply| Command::Anonymous { reply })
            .await
            .map(|n| json!({"anonymous": n})),
    )
}

async fn delete(
    State(state): State<KioskState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    match state.worker.ask(|reply| Command::Delete { uuid, reply }).await {
        Ok(true) => Json(json!({"deleted": true})).into_response(),
        Ok(false) => error(StatusCode::CONFLICT, "that entry is posted, deleted or unknown"),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e),
    }
}

/// Tonight's beds at a glance: each with who has or holds it (staff screen only).
async fn beds(State(state): State<KioskState>) -> Response {
    let first = state.first_template.clone();
    match read(&state, move |c| crate::store::beds::tonight(c, crate::clock::now(), first)).await {
        Ok(t) => Json(t).into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BedChoice {
    bed_id: i64,
}

/// Staff give a scan another bed.
async fn set_bed(
    State(state): State<KioskState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    Json(choice): Json<BedChoice>,
) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    match state.worker.ask(|reply| Command::SetBed { uuid, bed_id: choice.bed_id, reply }).await {
        Ok(shown) => Json(shown).into_response(),
        Err(e) => error(StatusCode::CONFLICT, e),
    }
}

async fn revalidate(State(state): State<KioskState>, headers: HeaderMap) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    answer(
        state
            .worker
            .ask(|reply| Command::Revalidate { reply })
            .await
            .map(|n| json!({"changed": n})),
    )
}

async fn post_services(State(state): State<KioskState>, headers: HeaderMap) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    answer(
        state
            .worker
            .ask(|reply| Command::Post { reply })
            .await
            .map(|()| json!({"requested": true})),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBatchBody {
    #[serde(default)]
    template: Option<String>,
}

async fn new_batch(
    State(state): State<KioskState>,
    headers: HeaderMap,
    Json(body): Json<NewBatchBody>,
) -> Response {
    if let Some(r) = header_missing(&headers) {
        return r;
    }
    answer(state.worker.ask(|reply| Command::NewBatch { template: body.template, reply }).await)
}

/// A client's photo from the server, passed through and never kept: the station stores no
/// pictures. Nothing (404) when the server is away or has no photo.
async fn photo(State(state): State<KioskState>, Path(client): Path<i64>) -> Response {
    let p = &state.photos;
    let url = format!("{}/api/v1/clients/{client}/photo", p.base.trim_end_matches('/'));
    match p.http.get(url).bearer_auth(&p.token).send().await {
        Ok(r) if r.status().is_success() => match r.bytes().await {
            Ok(bytes) => (
                [
                    (header::CONTENT_TYPE, "image/jpeg"),
                    (header::CACHE_CONTROL, "no-store"),
                    (header::HeaderName::from_static("x-content-type-options"), "nosniff"),
                ],
                bytes,
            )
                .into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn sse_stream(
    rx: broadcast::Receiver<Event>,
    map: fn(Event) -> Option<Value>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    BroadcastStream::new(rx).filter_map(move |e| {
        // A lagging page missed events: tell it to reload its lists.
        let value = match e {
            Ok(ev) => map(ev)?,
            Err(_) => json!({"type": "batch"}),
        };
        Some(Ok(SseEvent::default().data(value.to_string())))
    })
}

async fn events(State(state): State<KioskState>) -> impl IntoResponse {
    let rx = state.events.subscribe();
    Sse::new(sse_stream(rx, |e| serde_json::to_value(&e).ok())).keep_alive(KeepAlive::default())
}

/// What a guest may see of a scan: a first name and a welcome, "scan your card again" for a
/// card that did not read, or "see the front desk". Never the verdict, the reason or the last
/// initial.
pub fn guest_view(e: &Event) -> Option<Value> {
    match e {
        Event::Scan(s) => Some(if s.verdict.is_accepted() {
            let first = s.display_name.split_whitespace().next().unwrap_or("").to_owned();
            // The bed given is the guest's to know; who else sleeps where is not.
            json!({"kind": "welcome", "name": first, "bed": s.bed})
        } else if s.verdict == scanline_core::verdict::Verdict::Misread {
            json!({"kind": "scan_again"})
        } else {
            json!({"kind": "see_desk"})
        }),
        _ => None,
    }
}

async fn guest_events(State(state): State<KioskState>) -> impl IntoResponse {
    let rx = state.events.subscribe();
    Sse::new(sse_stream(rx, |e| guest_view(&e))).keep_alive(KeepAlive::default())
}
