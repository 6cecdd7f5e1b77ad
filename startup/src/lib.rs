//! What both Scanline programs do as they start, and nothing else: bring their SQLite
//! database up to the numbered migrations built into the binary (`NNNN_description.sql`,
//! applied in order and atomically; a database newer than the binary is refused), and set up
//! logging to standard error. The server and the station each keep their own migrations and
//! their own database settings; this crate only runs them.

use std::io::IsTerminal as _;

use include_dir::Dir;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// Why a database could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database {label} has schema version {found}, newer than this program knows \
         ({known}); run a newer version"
    )]
    TooNew { label: String, found: i64, known: i64 },
    #[error("migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The migrations of one program: the `.sql` files of a directory built into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    pub dir: &'static Dir<'static>,
}

impl Embedded {
    fn files(self) -> Vec<&'static include_dir::File<'static>> {
        let mut files: Vec<_> =
            self.dir.files().filter(|f| f.path().extension().is_some_and(|e| e == "sql")).collect();
        files.sort_by_key(|f| f.path().to_path_buf());
        files
    }

    /// The migrations, in the order of their numbers.
    pub fn migrations(self) -> Migrations<'static> {
        Migrations::new(
            self.files()
                .into_iter()
                .map(|f| M::up(f.contents_utf8().expect("migrations are UTF-8")))
                .collect(),
        )
    }

    /// The schema version the binary writes: how many migrations it has.
    pub fn known_version(self) -> i64 {
        self.files().len() as i64
    }

    /// The file names, in order, for checking their numbering.
    pub fn names(self) -> Vec<String> {
        self.files().iter().map(|f| f.path().display().to_string()).collect()
    }

    /// Applies what is pending, refusing a database newer than the binary. `label` names the
    /// database in the refusal.
    pub fn migrate(self, conn: &mut Connection, label: &str) -> Result<(), MigrateError> {
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = self.known_version();
        if found > known {
            return Err(MigrateError::TooNew { label: label.to_owned(), found, known });
        }
        self.migrations().to_latest(conn)?;
        Ok(())
    }
}

/// Logs to standard error: human-readable lines, or one JSON object per line when
/// `SCANLINE_LOG_FORMAT=json`; the level from `RUST_LOG` (default `info`). Colours only when
/// standard error is a terminal, so a log file or the journal gets plain text. Logs name
/// clients by number at most, never by name.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if std::env::var("SCANLINE_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    static DIR: Dir<'_> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../migrations/station");

    #[test]
    fn a_database_is_brought_up_to_date_and_a_newer_one_refused() {
        let m = Embedded { dir: &DIR };
        m.migrations().validate().unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        m.migrate(&mut conn, "test").unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, m.known_version());
        conn.pragma_update(None, "user_version", version + 1).unwrap();
        let err = m.migrate(&mut conn, "test").unwrap_err();
        assert!(matches!(err, MigrateError::TooNew { .. }), "{err}");
    }
}
