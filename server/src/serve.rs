//! `scanline-server serve`: the HTTP service on a bound listener (plain HTTP, or HTTPS with a
//! certificate reloaded when its files change), the jobs that run beside the requests
//! (auto-exit, print jobs, scheduled backups), and a graceful stop on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

use crate::app::app;
use crate::db::Db;
use crate::state::{AppState, WebSettings};

/// How `serve` listens and what it runs beside the requests.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Sign staff out after this many minutes without activity.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub idle_minutes: u32,
    /// Mark the session cookie Secure (the server is reached over HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Write an online backup, checked, into this directory at start and on a schedule.
    #[arg(long)]
    pub backup_dir: Option<PathBuf>,
    /// Minutes between scheduled backups.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub backup_every_minutes: u32,
    /// How many scheduled backups to keep (the oldest go first).
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub backup_keep: u32,
    /// Serve HTTPS with this certificate (PEM; reloaded when the file changes). Without
    /// it the server speaks plain HTTP: for loopback, or behind a TLS reverse proxy.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Runs `serve` on the database at `path` until it is stopped.
pub fn run(path: &Path, a: ServeArgs) -> anyhow::Result<()> {
    let _hold = crate::db::Hold::take(path, "serving it again")?;
    // Copies an import was worked out on when the server last stopped in the middle of it.
    crate::store::staged::remove_leftovers(path);
    let db = Db::open(path).with_context(|| format!("opening {}", path.display()))?;
    let web = WebSettings {
        idle_timeout: chrono::Duration::minutes(i64::from(a.idle_minutes)),
        secure_cookies: a.secure_cookies,
    };
    let path = path.to_owned();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let backups = a.backup_dir.map(|dir| {
            tokio::spawn(crate::backup::schedule_loop(
                path.clone(),
                dir,
                std::time::Duration::from_secs(u64::from(a.backup_every_minutes) * 60),
                a.backup_keep as usize,
            ))
        });
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listening on {}", a.listen))?;
        let result = match a.tls_cert.zip(a.tls_key) {
            Some((cert, key)) => serve_tls(db, listener, web, cert, key).await,
            None => serve_with(db, listener, web).await,
        };
        if let Some(b) = backups {
            b.abort();
        }
        result
    })
}

/// Serves the API and the staff pages on a bound listener until Ctrl-C or SIGTERM.
pub async fn serve(db: Db, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    serve_with(db, listener, WebSettings::default()).await
}

/// `serve` over HTTPS: the certificate and key are reloaded when their files change.
pub async fn serve_tls(
    db: Db,
    listener: tokio::net::TcpListener,
    web: WebSettings,
    cert: PathBuf,
    key: PathBuf,
) -> anyhow::Result<()> {
    let config = crate::tls::load(&cert, &key).await?;
    let addr = listener.local_addr()?;
    let listener = listener.into_std()?;
    let (state, mut background) = prepare(db, web).await?;
    background.push(tokio::spawn(crate::tls::reload_loop(config.clone(), cert, key)));
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    // Tests and the demo read this line to learn the port.
    println!("listening on https://{addr}");
    let result = axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await;
    for task in background {
        task.abort();
    }
    Ok(result?)
}

/// `serve` with explicit settings for the staff pages.
pub async fn serve_with(
    db: Db,
    listener: tokio::net::TcpListener,
    web: WebSettings,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let (state, background) = prepare(db, web).await?;
    // Tests and the demo read this line to learn the port.
    println!("listening on http://{addr}");
    // The client's address reaches the handlers: sign-in throttling counts failures by it.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await;
    for task in background {
        task.abort();
    }
    Ok(result?)
}

/// The application state for `serve`, with the database's generation, and the jobs that run
/// beside the requests (auto-exit, print jobs).
async fn prepare(
    db: Db,
    web: WebSettings,
) -> anyhow::Result<(AppState, Vec<tokio::task::JoinHandle<()>>)> {
    let background = vec![
        tokio::spawn(crate::jobs::auto_exit_loop(db.clone())),
        tokio::spawn(crate::print_queue::follow_loop(db.clone())),
    ];
    let state = AppState { web, ..AppState::new(db.clone()) };
    let generation = db.read(crate::store::meta::generation).await??;
    let _ = state.live.generation.set(generation);
    Ok((state, background))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
