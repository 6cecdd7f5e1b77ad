//! Talking to the server: the roster refresh loop (snapshot, then deltas) and the outbox loop
//! that sends scans, deletions, revalidations, posts and closes strictly in the order they were
//! made, with backoff while the server is away. The server is idempotent by UUID, so a request
//! whose answer was lost is simply sent again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use rusqlite::Connection;
use scanline_core::wire::{
    self, AnonymousCount, EntryVerdict, ErrorBody, PostSummary, RosterDelta, RosterSnapshot,
    UploadEntries, UploadResult,
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
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Scans between the sync task's checkpoints of the write-ahead log: each adds a few pages to
/// it, so the log stays near SQLite's own 1,000-page mark while the station is offline.
const CHECKPOINT_SCANS: u64 = 200;

/// Why a request did not go through, by what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server is unreachable or failing: try again later.
    #[error("server unreachable: {0}")]
    Transient(String),
    /// The token was refused: an admin must look.
    #[error("the server refused this station's token")]
    Unauthorized,
    /// The server does not speak this station's protocol version: one of them must be upgraded.
    #[error("{0}")]
    Incompatible(String),
    /// The server's certificate is not the one this station trusts.
    #[error("{0}")]
    Untrusted(String),
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
    /// The server answered with a new database generation (it was restored from a backup):
    /// what it holds of this station must be checked before more is sent.
    reconcile: std::sync::atomic::AtomicBool,
    /// The count of scans at the last checkpoint (`store::leave_checkpoints`).
    checkpointed_at: std::sync::atomic::AtomicU64,
}

impl Sync {
    pub fn new(
        http: reqwest::Client,
        base: &str,
        token: &str,
        conn: Connection,
        shared: Arc<Shared>,
        events: broadcast::Sender<Event>,
        refresh: Duration,
    ) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            conn: Arc::new(Mutex::new(conn)),
            shared,
            events,
            refresh,
            reconcile: std::sync::atomic::AtomicBool::new(false),
            checkpointed_at: std::sync::atomic::AtomicU64::new(0),
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
        // The server's metrics show how much each station still has to send.
        let depth = self.db(|c| batches::outbox_depth(c)).await.unwrap_or(0);
        let resp = req
            .bearer_auth(&self.token)
            .header("x-scanline-outbox", depth.to_string())
            .header(wire::PROTOCOL_HEADER, wire::PROTOCOL_VERSION.to_string())
            .send()
            .await
            .map_err(|e| match crate::tls::untrusted(&e) {
                Some(why) => SyncError::Untrusted(why),
                None => SyncError::Transient(without_url(&e)),
            })?;
        let status = resp.status();
        if let Some(generation) =
            resp.headers().get(wire::GENERATION_HEADER).and_then(|v| v.to_str().ok())
        {
            self.note_generation(generation.to_owned()).await?;
        }
        let body = resp.bytes().await.map_err(|e| SyncError::Transient(without_url(&e)))?.to_vec();
        if status == StatusCode::UNAUTHORIZED {
            return Err(SyncError::Unauthorized);
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            // Kept and sent again; the server's words (a full disk, say) go to the kiosk.
            let said = serde_json::from_slice::<ErrorBody>(&body)
                .map(|b| format!(": {}", b.error.message))
                .unwrap_or_default();
            return Err(SyncError::Transient(format!("server answered {status}{said}")));
        }
        if status.is_client_error() {
            let error = serde_json::from_slice::<ErrorBody>(&body).ok();
            if let Some(b) = &error
                && b.error.code == wire::PROTOCOL_UNSUPPORTED
            {
                return Err(SyncError::Incompatible(b.error.message.clone()));
            }
            let message = error.map_or_else(
                || format!("server answered {status}"),
                |b| format!("{}: {}", b.error.code, b.error.message),
            );
            return Err(SyncError::Rejected(message));
        }
        Ok((status, body))
    }

    /// Remembers the server's database generation; a different one than before means the
    /// server was restored from a backup and may have lost entries this station sent.
    async fn note_generation(&self, generation: String) -> Result<(), SyncError> {
        let changed = self
            .db(move |c| {
                let known = store::get_meta(c, "server_generation")?;
                if known.as_deref() != Some(generation.as_str()) {
                    store::set_meta(c, "server_generation", &generation)?;
                }
                Ok(known.is_some_and(|k| k != generation))
            })
            .await?;
        if changed {
            tracing::warn!("the server was restored from a backup: checking what it holds");
            self.reconcile.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }

    /// Asks the server which of the entries sent in the last 60 days it holds, and moves the
    /// upload cursor back before the first one it lost: those are sent again (the server
    /// ignores the ones it already has).
    async fn reconcile(&self) -> Result<(), SyncError> {
        let sent = self.db(|c| batches::sent_recently(c, 60)).await?;
        let mut first_missing: Option<i64> = None;
        let mut missing_count = 0usize;
        for chunk in sent.chunks(wire::MAX_ENTRIES_PER_UPLOAD) {
            let uuids: Vec<uuid::Uuid> = chunk.iter().filter_map(|(_, u)| u.parse().ok()).collect();
            let (_, body) = self
                .send(
                    self.http
                        .post(self.url("/api/v1/entries/held"))
                        .json(&wire::HeldQuery { uuids }),
                )
                .await?;
            let answer: wire::HeldAnswer = Self::parse(&body)?;
            missing_count += answer.missing.len();
            for m in answer.missing {
                let m = m.to_string();
                if let Some((seq, _)) = chunk.iter().find(|(_, u)| *u == m) {
                    first_missing = Some(first_missing.map_or(*seq, |f| f.min(*seq)));
                }
            }
        }
        if let Some(seq) = first_missing {
            tracing::warn!(
                missing = missing_count,
                "the server lost entries in its restore: sending them again"
            );
            self.db(move |c| batches::rewind_cursor(c, seq - 1)).await?;
        }
        self.reconcile.store(false, std::sync::atomic::Ordering::SeqCst);
        Ok(())
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
        let cursor = self.db(|c| roster::delta_cursor(c)).await?;
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
            Err(SyncError::Untrusted(e)) => {
                tracing::error!(error = %e, "refusing the server");
                self.shared.set_link(Link::Untrusted, Some(e.clone()));
            }
            Err(SyncError::Incompatible(e)) => {
                tracing::error!(error = %e, "the server does not speak this station's protocol");
                self.shared.set_link(Link::Incompatible, Some(e.clone()));
            }
            Err(e) => tracing::error!(error = %e, "sync"),
        }
        let _ = self.events.send(Event::Status);
    }

    /// The roster loop: refresh now and every `refresh`, retrying sooner while offline.
    pub async fn roster_loop(self: Arc<Self>) {
        loop {
            let r = self.refresh_roster().await;
            if r.is_ok() {
                // The server answers again: the outbox need not sit out its backoff.
                self.shared.wake_sync();
            }
            self.note(&r);
            let wait =
                if r.is_ok() { self.refresh } else { self.refresh.min(Duration::from_secs(2)) };
            tokio::time::sleep(wait).await;
        }
    }

    /// Checkpoints the write-ahead log once `CHECKPOINT_SCANS` scans have been made since the
    /// last time: the scans' commits leave it to this task, online or not.
    pub async fn checkpoint_if_due(&self) {
        let scans = self.shared.scans();
        let last = self.checkpointed_at.load(std::sync::atomic::Ordering::Relaxed);
        if scans.saturating_sub(last) < CHECKPOINT_SCANS {
            return;
        }
        self.checkpointed_at.store(scans, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = self.db(|c| store::checkpoint(c)).await {
            tracing::warn!(error = %e, "checkpoint of the station database");
        }
    }

    /// The outbox loop: sends scans and other work in order until the station stops.
    pub async fn outbox_loop(self: Arc<Self>) {
        let mut backoff = BACKOFF_MIN;
        loop {
            self.checkpoint_if_due().await;
            match self.step().await {
                Ok(true) => {
                    backoff = BACKOFF_MIN;
                    self.note(&Ok(()));
                }
                Ok(false) => {
                    tokio::select! {
                        () = self.shared.sync_woken() => {},
                        () = tokio::time::sleep(Duration::from_secs(5)) => {},
                    }
                }
                Err(SyncError::Store(e)) => {
                    tracing::error!(error = %e, "outbox");
                    tokio::time::sleep(BACKOFF_MAX).await;
                }
                Err(e) => {
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

    /// Sends the next piece of work: the oldest outbox item once the entries scanned before it
    /// are sent, else the next run of entries of one batch. Returns whether there was work.
    pub async fn step(&self) -> Result<bool, SyncError> {
        if self.reconcile.load(std::sync::atomic::Ordering::SeqCst) {
            self.reconcile().await?;
        }
        let (op, entries) = self
            .db(|c| Ok((batches::next_op(c)?, batches::unsent(c, UPLOAD_CHUNK, None)?)))
            .await?;
        let op_first = match (&op, entries.first()) {
            (Some(o), Some(e)) => o.after_entry < e.0,
            (Some(_), None) => true,
            (None, _) => false,
        };
        match op {
            Some(op) if op_first => {
                let result = self.run_op(&op).await;
                if let Err(e) = &result
                    && !matches!(e, SyncError::Store(_))
                {
                    let msg = e.to_string();
                    let seq = op.seq;
                    let _ = self.db(move |c| batches::note_attempt(c, seq, &msg)).await;
                }
                result.map(|()| true)
            }
            op if !entries.is_empty() => {
                let up_to = op.map(|o| o.after_entry);
                let batch = entries[0].2.clone();
                let run: Vec<(i64, String)> = entries
                    .into_iter()
                    .take_while(|e| e.2 == batch && up_to.is_none_or(|u| e.0 <= u))
                    .map(|(seq, uuid, _)| (seq, uuid))
                    .collect();
                self.upload(&batch, run).await.map(|()| true)
            }
            _ => Ok(false),
        }
    }

    /// Runs one outbox item and records the answer.
    async fn run_op(&self, op: &OutboxItem) -> Result<(), SyncError> {
        let batch = op.batch_uuid.as_str();
        let result = match op.kind.as_str() {
            "create_batch" => self.create_batch(batch).await,
            "delete_entry" => {
                let entry = op.entry_uuid.clone().unwrap_or_default();
                let url = self.url(&format!("/api/v1/batches/{batch}/entries/{entry}"));
                match self.send(self.http.delete(url)).await {
                    // The entry never reached the server (refused earlier): nothing to delete.
                    Err(SyncError::Rejected(m)) if m.starts_with("not_found") => Ok(()),
                    other => other.map(drop),
                }
            }
            "revalidate" => self.revalidate(batch).await,
            "post" => self.post(batch).await,
            "close" => self.close(batch).await,
            "anonymous" => self.anonymous(batch).await,
            "bed" => self.bed(batch, op.entry_uuid.as_deref().unwrap_or_default()).await,
            other => Err(SyncError::Rejected(format!("unknown outbox item {other}"))),
        };
        let seq = op.seq;
        match result {
            Ok(()) => {
                self.db(move |c| store::immediate(c, |tx| batches::mark_done(tx, seq))).await?;
                Ok(())
            }
            Err(SyncError::Rejected(msg)) => {
                tracing::warn!(error = %msg, "the server refused an outbox item; kept as failed");
                self.db(move |c| batches::mark_failed(c, seq, &msg)).await?;
                let _ = self.events.send(Event::Batch);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Sends the bed staff chose for an entry already sent, and keeps the server's verdict.
    async fn bed(&self, batch: &str, entry: &str) -> Result<(), SyncError> {
        let e = entry.to_owned();
        let Some(bed_id) = self.db(move |c| batches::bed_of(c, &e)).await? else { return Ok(()) };
        let url = self.url(&format!("/api/v1/batches/{batch}/entries/{entry}/bed"));
        let body = scanline_core::wire::SetBed { bed_id };
        let (_, bytes) = self.send(self.http.put(url).json(&body)).await?;
        let verdict: EntryVerdict = Self::parse(&bytes)?;
        self.apply_verdicts(vec![verdict]).await
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

    /// Sends a run of entries of one batch; the cursor moves past them once the server has
    /// answered (or refused them for good, in which case they are kept, marked).
    async fn upload(&self, batch: &str, run: Vec<(i64, String)>) -> Result<(), SyncError> {
        let last = run.last().map_or(0, |r| r.0);
        let uuids: Vec<String> = run.into_iter().map(|(_, u)| u).collect();
        let for_body = uuids.clone();
        let entries = self.db(move |c| batches::uploads(c, &for_body)).await?;
        let body = UploadEntries { entries };
        let url = self.url(&format!("/api/v1/batches/{batch}/entries"));
        match self.send(self.http.post(url).json(&body)).await {
            Ok((_, bytes)) => {
                let answer: UploadResult = Self::parse(&bytes)?;
                let changed = self
                    .db(move |c| {
                        store::immediate(c, |tx| {
                            let changed = batches::apply_server_verdicts(tx, &answer.entries)?;
                            batches::advance_cursor(tx, last)?;
                            Ok(changed)
                        })
                    })
                    .await?;
                self.announce_changes(changed.iter().map(|v| v.uuid.to_string()).collect()).await;
                let _ = self.events.send(Event::Batch);
                Ok(())
            }
            Err(SyncError::Rejected(msg)) => {
                // The server lost the batch (restored from a backup): make it again, then
                // send the entries again.
                if msg.starts_with("not_found") {
                    match self.create_batch(batch).await {
                        Ok(()) => {
                            return Err(SyncError::Transient(
                                "the batch was made again on the server".into(),
                            ));
                        }
                        Err(SyncError::Rejected(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                tracing::warn!(error = %msg, "the server refused a run of entries; kept as failed");
                self.db(move |c| {
                    store::immediate(c, |tx| {
                        batches::mark_entries_failed(tx, &uuids, &msg)?;
                        batches::advance_cursor(tx, last)
                    })
                })
                .await?;
                let _ = self.events.send(Event::Batch);
                Ok(())
            }
            Err(e) => Err(e),
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
        self.apply_verdicts(answer.entries).await
    }

    /// Keeps the server's verdicts and shows the kiosk those that changed.
    async fn apply_verdicts(&self, verdicts: Vec<EntryVerdict>) -> Result<(), SyncError> {
        let changed = self
            .db(move |c| store::immediate(c, |tx| batches::apply_server_verdicts(tx, &verdicts)))
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

    /// Sends the batch's count of guests without a card as it is now (a later tap's item sends
    /// the count again; the server keeps the largest).
    async fn anonymous(&self, batch: &str) -> Result<(), SyncError> {
        let b = batch.to_owned();
        let count = self.db(move |c| batches::anonymous(c, &b)).await?;
        let body = AnonymousCount { count: u32::try_from(count).unwrap_or(u32::MAX) };
        let url = self.url(&format!("/api/v1/batches/{batch}/anonymous"));
        self.send(self.http.put(url).json(&body)).await.map(drop)
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
