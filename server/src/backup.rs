//! Backups (DESIGN §14): SQLite's online backup of the live database into a new file, checked
//! with `PRAGMA integrity_check` before it takes its final name; backups on a schedule inside
//! `serve`, keeping the newest few; and restore, which checks the backup, keeps a copy of the
//! database it replaces, and copies the backup in with the same online backup.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};

/// Scheduled backups are named `scanline-<UTC time>.db`.
const PREFIX: &str = "scanline-";

/// Copies the database at `source` into the new file `dest`: written under a temporary name,
/// checked, flushed, then renamed, so `dest` is either a whole good backup or absent.
pub fn backup_file(source: &Path, dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        bail!("{} exists; choose a new file for the backup", dest.display());
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    if let Err(e) = crate::db::copy_database(source, &partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(anyhow::Error::new(e).context(format!("backing up {}", source.display())));
    }
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, dest)
        .with_context(|| format!("naming the backup {}", dest.display()))?;
    if let Some(dir) = dest.parent() {
        // The new name is durable too.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// The scheduled backups in `dir`, oldest first.
pub fn list(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(PREFIX) && Path::new(n).extension().is_some_and(|e| e == "db")
            })
        })
        .collect();
    // The names sort by time.
    found.sort();
    Ok(found)
}

/// Makes a scheduled backup in `dir` and deletes the oldest beyond `keep`.
pub fn scheduled(
    source: &Path,
    dir: &Path,
    keep: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dest = dir.join(format!("{PREFIX}{}.db", now.format("%Y%m%dT%H%M%S%.3fZ")));
    backup_file(source, &dest)?;
    let all = list(dir)?;
    if all.len() > keep {
        for old in &all[..all.len() - keep] {
            let _ = std::fs::remove_file(old);
        }
    }
    Ok(dest)
}

/// Backs up every `every`, starting now, until the task is dropped. A failed backup is logged
/// and tried again at the next tick.
pub async fn schedule_loop(source: PathBuf, dir: PathBuf, every: Duration, keep: usize) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (s, d) = (source.clone(), dir.clone());
        match tokio::task::spawn_blocking(move || scheduled(&s, &d, keep, Utc::now())).await {
            Ok(Ok(path)) => tracing::info!(backup = %path.display(), "backup written and checked"),
            Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "backup failed"),
            Err(e) => tracing::error!(error = %e, "backup task failed"),
        }
    }
}

/// Replaces the database at `db` with the backup `from`. It refuses while a server holds the
/// database (`db::Hold`), and holds it itself until it is done, so no server starts on a
/// half-restored file. The backup is checked first; the database it replaces is kept beside
/// it as `<name>.before-restore-<time>`. Returns that file.
pub fn restore(from: &Path, db: &Path, now: DateTime<Utc>) -> anyhow::Result<Option<PathBuf>> {
    let _hold = crate::db::Hold::take(db, "restoring a backup over it")?;
    let version = crate::db::check_file(from)
        .map_err(|e| anyhow::anyhow!("{} is not a Scanline backup: {e}", from.display()))?;
    if version == 0 || version > crate::db::schema_version_known() {
        bail!(
            "{} is not a backup this server can restore (schema version {version})",
            from.display()
        );
    }
    let kept = if db.exists() {
        let kept = PathBuf::from(format!(
            "{}.before-restore-{}",
            db.display(),
            now.format("%Y%m%dT%H%M%SZ")
        ));
        backup_file(db, &kept).context("keeping the current database before the restore")?;
        Some(kept)
    } else {
        None
    };
    crate::db::copy_over(from, db).context("the restored database")?;
    // A new generation: stations learn the server went back in time and resend what it lost.
    // (Opening migrates an older backup first, as the server would.)
    let mut restored = crate::db::Local::open(db)?;
    restored.transact(|tx| crate::store::meta::new_generation(tx))?;
    Ok(kept)
}
