//! The audit trail: who viewed or changed what, written in the same transaction as the change.

use rusqlite::{Connection, named_params};

use super::{StoreResult, now};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    Station(i64),
    /// A scheduled job inside the server.
    System,
    /// The admin command line on the server machine.
    Cli,
}

impl Actor {
    fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Self::User(id) => ("user", Some(id)),
            Self::Station(id) => ("station", Some(id)),
            Self::System => ("system", None),
            Self::Cli => ("cli", None),
        }
    }
}

/// Appends one event. `detail` must not hold personal data (ids and codes only).
pub fn record(
    conn: &Connection,
    actor: Actor,
    action: &str,
    client_id: Option<i64>,
    subject: &str,
    detail: &str,
) -> StoreResult<()> {
    let (kind, id) = actor.parts();
    conn.prepare_cached(
        "INSERT INTO audit_events (at, actor_kind, actor_id, action, client_id, subject, detail)
         VALUES (:at, :kind, :id, :action, :client, :subject, :detail)",
    )?
    .execute(named_params! {
        ":at": now(), ":kind": kind, ":id": id, ":action": action, ":client": client_id,
        ":subject": subject, ":detail": detail,
    })?;
    Ok(())
}
