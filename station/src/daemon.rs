//! Starting and stopping a whole station: database, scan worker, sync loops, scanner threads
//! and the kiosk server. Used by `scanline-station run` and, in-process, by tests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::sync::broadcast;

use crate::config::Loaded;
use crate::kiosk::{self, KioskState};
use crate::state::Shared;
use crate::sync::Sync;
use crate::worker::{Event, Worker, WorkerHandle};
use crate::{scanner, store};

/// The database file inside the data directory.
pub const DB_FILE: &str = "station.db";

/// A running station. Dropping it stops the background work.
pub struct Running {
    pub kiosk_addr: SocketAddr,
    pub worker: WorkerHandle,
    pub shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts every part of the station on the current tokio runtime.
pub async fn start(loaded: Loaded, with_stdin: bool) -> anyhow::Result<Running> {
    let config = loaded.config;
    std::fs::create_dir_all(&config.station.data_dir)
        .with_context(|| format!("creating {}", config.station.data_dir.display()))?;
    let db_path = config.station.data_dir.join(DB_FILE);
    let worker_conn =
        store::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?;
    store::leave_checkpoints(&worker_conn)?;
    let sync_conn = store::open(&db_path)?;
    store::relax_durability(&sync_conn)?;
    let kiosk_conn = store::open(&db_path)?;

    let shared = Arc::new(Shared::default());
    let (events, _) = broadcast::channel::<Event>(1024);
    let worker = Worker::new(
        worker_conn,
        config.batch_templates.clone(),
        config.debounce(),
        Arc::clone(&shared),
        events.clone(),
    )
    .spawn();

    let http = crate::tls::http_client(&config.server.trust, config.request_timeout())?;
    let sync = Arc::new(Sync::new(
        http.clone(),
        &config.server.url,
        &loaded.token,
        sync_conn,
        Arc::clone(&shared),
        events.clone(),
        std::time::Duration::from_secs(config.server.roster_refresh_secs),
    ));
    let mut tasks = vec![
        tokio::spawn(Arc::clone(&sync).roster_loop()),
        tokio::spawn(Arc::clone(&sync).outbox_loop()),
    ];
    let status_shared = Arc::clone(&shared);
    let status_events = events.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            status_shared.status_changed.notified().await;
            let _ = status_events.send(Event::Status);
        }
    }));

    let stop = Arc::new(AtomicBool::new(false));
    for s in &config.scanners {
        scanner::device::spawn(s.clone(), worker.clone(), Arc::clone(&shared), Arc::clone(&stop));
    }
    if with_stdin || config.station.stdin {
        scanner::device::spawn_stdin(worker.clone());
    }

    let listener = tokio::net::TcpListener::bind(config.station.kiosk_listen)
        .await
        .with_context(|| format!("kiosk listen address {}", config.station.kiosk_listen))?;
    let kiosk_addr = listener.local_addr()?;
    let app = kiosk::router(KioskState {
        worker: worker.clone(),
        shared: Arc::clone(&shared),
        events,
        conn: Arc::new(Mutex::new(kiosk_conn)),
        templates: config.batch_templates.iter().map(|t| t.name.clone()).collect(),
        first_template: config
            .batch_templates
            .first()
            .map(|t| (t.program_id, t.service_type_ids.clone())),
        photos: kiosk::PhotoSource {
            http,
            base: config.server.url.clone(),
            token: loaded.token.clone(),
        },
    });
    tasks.push(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "kiosk server stopped");
        }
    }));
    Ok(Running { kiosk_addr, worker, shared, stop, tasks })
}
