//! Jobs that run inside `serve`: the daily auto-exit of night-by-night enrollments.

use std::time::Duration;

use crate::db::Db;
use crate::store::{StoreError, bednights};

/// How often the auto-exit job looks. It is idempotent, so running it hourly catches every
/// program's cut-over in every time zone within the hour, and a restart loses nothing.
pub const AUTO_EXIT_EVERY: Duration = Duration::from_secs(3600);

/// Runs the auto-exit job now.
pub async fn run_auto_exit(db: &Db) -> Result<usize, StoreError> {
    let exits = db
        .transact(|tx| bednights::auto_exit(tx, None))
        .await
        .map_err(|e| StoreError::Invalid(e.to_string()))??;
    Ok(exits.len())
}

/// Runs the auto-exit job at start and then every `AUTO_EXIT_EVERY`, until the task is dropped.
pub async fn auto_exit_loop(db: Db) {
    let mut tick = tokio::time::interval(AUTO_EXIT_EVERY);
    loop {
        tick.tick().await;
        match run_auto_exit(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(exited = n, "auto-exit closed night-by-night enrollments"),
            Err(e) => tracing::error!(error = %e, "auto-exit failed; will try again"),
        }
    }
}
