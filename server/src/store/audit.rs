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

/// An audit event as the admin page lists it.
#[derive(Debug, Clone)]
pub struct EventLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub client_id: Option<i64>,
    pub subject: String,
    pub detail: String,
}

/// The newest events an admin of `orgs` may see: what their organizations' users and stations
/// did, and what anyone did to their organizations' clients; never another organization's
/// staff activity, not even on a client both may see, and nothing about a restricted client
/// of another organization. At most `limit`; optionally for one client.
pub fn recent(
    conn: &Connection,
    orgs: &[i64],
    client: Option<i64>,
    limit: usize,
) -> StoreResult<Vec<EventLine>> {
    let orgs = serde_json::to_string(orgs).expect("ids serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT substr(e.at, 1, 19),
             CASE e.actor_kind WHEN 'user' THEN 'user ' || COALESCE(u.username, e.actor_id)
                               WHEN 'station' THEN 'station ' || COALESCE(s.name, e.actor_id)
                               ELSE e.actor_kind END,
             e.action, e.client_id, e.subject, e.detail
         FROM audit_events e
           LEFT JOIN users u ON e.actor_kind = 'user' AND u.id = e.actor_id
           LEFT JOIN stations s ON e.actor_kind = 'station' AND s.id = e.actor_id
           LEFT JOIN clients c ON c.id = e.client_id
         WHERE (:client IS NULL OR e.client_id = :client)
           AND (c.id IS NULL OR c.restricted = 0
                OR c.organization_id IN (SELECT value FROM json_each(:orgs)))
           AND (c.organization_id IN (SELECT value FROM json_each(:orgs))
                OR (e.actor_kind = 'user' AND EXISTS (SELECT 1 FROM user_organizations m
                     WHERE m.user_id = e.actor_id AND m.organization_id IN (SELECT value FROM json_each(:orgs))))
                OR (e.actor_kind = 'station' AND s.organization_id IN (SELECT value FROM json_each(:orgs))))
         ORDER BY e.id DESC LIMIT :lim",
    )?;
    let rows = stmt.query_map(
        named_params! {":orgs": orgs, ":client": client, ":lim": limit as i64},
        |r| {
            Ok(EventLine {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                client_id: r.get(3)?,
                subject: r.get(4)?,
                detail: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
