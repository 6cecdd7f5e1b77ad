//! Talking to the server: the roster refresh loop (snapshot, then deltas) and the outbox loop
//! that sends scans, deletions, revalidations, posts and closes strictly in the order they were
//! made, with backoff while the server is away. The server is idempotent by UUID, so a request
//! whose answer was lost is simply sent again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use rusqlite::Connection;
use scanline_core::wire::{
    ErrorBody, PostSummary, RosterDelta, RosterSnapshot, UploadEntries, UploadResult,
};
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::state::{Link, Shared};
use crate::store::batches::{self, OutboxItem};
use crate::store::{self, StoreError, roster};
use crate::worker::{Event, shown_of};

/// Most entries sent in one request.
const UPLOAD_CHUNK: usize = 200;
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Why a request did not go through, by what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server is unreachable or failing: try again later.
    #[error("server unreachable: {0}")]
    Transient(String),
    /// The token was refused: an admin must look.
    #[error("the server refused this station's token")]
    Unauthorized,
    /// The server refused this piece of work for good; it is kept, marked failed.
    #[error("refused by the server: {0}")]
    Rejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Sync {
    http: reqwest::Client,
    base: String,
    token: String,
    conn: Arc<Mutex<Connection>>,
    shared: Arc<Shared>,
    events: broadcast::Sender<Event>,
    refresh: Duration,
}

impl Sync {
    pub fn new(
        base: &str,
        token: &str,
        timeout: Duration,
        conn: Connection,
        shared: Arc<Shared>,
        events: broadcast::Sender<Event>,
        refresh: Duration,
    ) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .build()
                .expect("building the HTTP client"),
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            conn: Arc::new(Mutex::new(conn)),
            shared,
            events,
            refresh,
        }
    }

    /// Runs a database function on the sync connection off the async threads.
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().expect("sync connection lock");
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Invalid(format!("database task failed: {e}")))?
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(StatusCode, Vec<u8>), SyncError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| SyncError::Transient(without_url(&e)))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| SyncError::Transient(without_url(&e)))?.to_vec();
        if status == StatusCode::UNAUTHORIZED {
            return Err(SyncError::Unauthorized);
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(SyncError::Transient(format!("server answered {status}")));
        }
        if status.is_client_error() {
            let message = serde_json::from_slice::<ErrorBody>(&body).map_or_else(
                |_| format!("server answered {status}"),
                |b| format!("{}: {}", b.error.code, b.error.message),
            );
            return Err(SyncError::Rejected(message));
        }
        Ok((status, body))
    }

    fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, SyncError> {
        serde_json::from_slice(body)
            .map_err(|e| SyncError::Transient(format!("unreadable answer: {e}")))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Brings the roster up to date once.
    pub async fn refresh_roster(&self) -> Result<(), SyncError> {
        let cursor = self.db(|c| roster::cursor(c)).await?;
        if let Some(since) = cursor {
            match self
                .send(self.http.get(self.url(&format!("/api/v1/roster/delta?since={since}"))))
                .await
            {
                Ok((_, body)) => {
                    let delta: RosterDelta = Self::parse(&body)?;
                    self.db(move |c| store::immediate(c, |tx| roster::apply_delta(tx, &delta)))
                        .await?;
                    return Ok(());
                }
                // A cursor the server does not know (it was restored from a backup): start over.
                Err(SyncError::Rejected(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let (_, body) = self.send(self.http.get(self.url("/api/v1/roster"))).await?;
        let snapshot: RosterSnapshot = Self::parse(&body)?;
        self.db(move |c| store::immediate(c, |tx| roster::apply_snapshot(tx, &snapshot))).await?;
        Ok(())
    }

    fn note(&self, result: &Result<(), SyncError>) {
        match result {
            Ok(()) => self.shared.set_link(Link::Online, None),
            Err(SyncError::Unauthorized) => {
                self.shared.set_link(
                    Link::Unauthorized,
                    Some("the server refused this station's token".into()),
                );
            }
            Err(SyncError::Transient(e)) => self.shared.set_link(Link::Offline, Some(e.clone())),
            Err(e) => tracing::error!(error = %e, "sync"),
        }
        let _ = self.events.send(Event::Status);
    }

    /// The roster loop: refresh now and every `refresh`, retrying sooner while offline.
    pub async fn roster_loop(self: Arc<Self>) {
        loop {
            let r = self.refresh_roster().await;
            self.note(&r);
            let wait =
                if r.is_ok() { self.refresh } else { self.refresh.min(Duration::from_secs(2)) };
            tokio::time::sleep(wait).await;
        }
    }

    /// The outbox loop: sends pending work in order until the station stops.
    pub async fn outbox_loop(self: Arc<Self>) {
        let mut backoff = BACKOFF_MIN;
        loop {
            let items = match self.db(|c| batches::pending(c, UPLOAD_CHUNK)).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::error!(error = %e, "reading the outbox");
                    tokio::time::sleep(BACKOFF_MAX).await;
                    continue;
                }
            };
            if items.is_empty() {
                tokio::select! {
                    () = self.shared.sync_woken() => {},
                    () = tokio::time::sleep(Duration::from_secs(5)) => {},
                }
                continue;
            }
            let r = self.process(&items).await;
            match r {
                Ok(()) => {
                    backoff = BACKOFF_MIN;
                    self.note(&Ok(()));
                }
                Err(SyncError::Store(e)) => {
                    tracing::error!(error = %e, "outbox");
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => {
                    let _ = self
                        .db({
                            let seq = items[0].seq;
                            let msg = e.to_string();
                            move |c| batches::note_attempt(c, seq, &msg)
                        })
                        .await;
                    self.note(&Err(e));
                    tokio::select! {
                        () = self.shared.sync_woken() => {},
                        () = tokio::time::sleep(backoff) => {},
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Sends the first piece of work (a run of uploads counts as one) and records the answer.
    async fn process(&self, items: &[OutboxItem]) -> Result<(), SyncError> {
        let first = &items[0];
        let batch = first.batch_uuid.clone();
        let result = match first.kind.as_str() {
            "create_batch" => self.create_batch(&batch).await,
            "entry" => {
                let run: Vec<&OutboxItem> = items
                    .iter()
                    .take_while(|i| i.kind == "entry" && i.batch_uuid == batch)
                    .collect();
                return self.upload(&batch, &run).await;
            }
            "delete_entry" => {
                let entry = first.entry_uuid.clone().unwrap_or_default();
                match self
                    .send(
                        self.http
                            .delete(self.url(&format!("/api/v1/batches/{batch}/entries/{entry}"))),
                    )
                    .await
                {
                    Err(SyncError::Rejected(m)) if m.starts_with("not_found") => Ok(()),
                    other => other.map(drop),
                }
            }
            "revalidate" => self.revalidate(&batch).await,
            "post" => self.post(&batch).await,
            "close" => self.close(&batch).await,
            other => Err(SyncError::Rejected(format!("unknown outbox item {other}"))),
        };
        self.settle(&[first.seq], result).await
    }

    /// Marks items done, or failed when the server refused them for good.
    async fn settle(&self, seqs: &[i64], result: Result<(), SyncError>) -> Result<(), SyncError> {
        let seqs = seqs.to_vec();
        match result {
            Ok(()) => {
                self.db(move |c| store::immediate(c, |tx| batches::mark_done(tx, &seqs))).await?;
                Ok(())
            }
            Err(SyncError::Rejected(msg)) => {
                tracing::warn!(error = %msg, "the server refused an outbox item; kept as failed");
                self.db(move |c| batches::mark_failed(c, &seqs, &msg)).await?;
                let _ = self.events.send(Event::Batch);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn create_batch(&self, batch: &str) -> Result<(), SyncError> {
        let b = batch.to_owned();
        let Some(req) = self.db(move |c| batches::create_request(c, &b)).await? else {
            return Err(SyncError::Rejected(format!(
                "batch {batch} is not in the station database"
            )));
        };
        self.send(self.http.post(self.url("/api/v1/batches")).json(&req)).await.map(drop)
    }

    async fn upload(&self, batch: &str, run: &[&OutboxItem]) -> Result<(), SyncError> {
        let uuids: Vec<String> = run.iter().filter_map(|i| i.entry_uuid.clone()).collect();
        let seqs: Vec<i64> = run.iter().map(|i| i.seq).collect();
        let entries = self.db(move |c| batches::uploads(c, &uuids)).await?;
        let body = UploadEntries { entries };
        let result = self
            .send(self.http.post(self.url(&format!("/api/v1/batches/{batch}/entries"))).json(&body))
            .await;
        match result {
            Ok((_, bytes)) => {
                let answer: UploadResult = Self::parse(&bytes)?;
                let changed = self
                    .db(move |c| {
                        store::immediate(c, |tx| {
                            let changed = batches::apply_server_verdicts(tx, &answer.entries)?;
                            batches::mark_done(tx, &seqs)?;
                            Ok(changed)
                        })
                    })
                    .await?;
                self.announce_changes(changed.iter().map(|v| v.uuid.to_string()).collect()).await;
                let _ = self.events.send(Event::Batch);
                Ok(())
            }
            Err(e) => self.settle(&seqs, Err(e)).await,
        }
    }

    async fn announce_changes(&self, uuids: Vec<String>) {
        if uuids.is_empty() {
            return;
        }
        if let Ok(views) = self
            .db(move |c| {
                let mut v = Vec::new();
                for u in &uuids {
                    if let Some(e) = batches::entry(c, u)? {
                        v.push(e);
                    }
                }
                Ok(v)
            })
            .await
        {
            for e in &views {
                let _ = self.events.send(Event::Changed(shown_of(e)));
            }
        }
    }

    async fn revalidate(&self, batch: &str) -> Result<(), SyncError> {
        let (_, bytes) = self
            .send(self.http.post(self.url(&format!("/api/v1/batches/{batch}/revalidate"))))
            .await?;
        let answer: UploadResult = Self::parse(&bytes)?;
        let changed = self
            .db(move |c| {
                store::immediate(c, |tx| batches::apply_server_verdicts(tx, &answer.entries))
            })
            .await?;
        self.announce_changes(changed.iter().map(|v| v.uuid.to_string()).collect()).await;
        Ok(())
    }

    async fn post(&self, batch: &str) -> Result<(), SyncError> {
        let (_, bytes) =
            self.send(self.http.post(self.url(&format!("/api/v1/batches/{batch}/post")))).await?;
        let summary: PostSummary = Self::parse(&bytes)?;
        self.db(move |c| store::immediate(c, |tx| batches::apply_post_summary(tx, &summary)))
            .await?;
        let _ = self.events.send(Event::Batch);
        Ok(())
    }

    async fn close(&self, batch: &str) -> Result<(), SyncError> {
        #[derive(Deserialize)]
        struct Closed {
            post: Option<PostSummary>,
        }
        let (_, bytes) =
            self.send(self.http.post(self.url(&format!("/api/v1/batches/{batch}/close")))).await?;
        let closed: Closed = Self::parse(&bytes)?;
        if let Some(summary) = closed.post {
            self.db(move |c| store::immediate(c, |tx| batches::apply_post_summary(tx, &summary)))
                .await?;
        }
        Ok(())
    }
}

/// A reqwest error's text without the URL (which is configuration, not news, and long).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "server");
    }
    if e.is_timeout() {
        "the server did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the server".into()
    } else {
        s
    }
}
