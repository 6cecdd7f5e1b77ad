//! Staff sign-in: password checks with Argon2id, failed-attempt throttling, and server-side
//! sessions known by the SHA-256 of their cookie value, each with its CSRF token and the time it
//! was last used (for idle log-off).

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, named_params};
use sha2::{Digest, Sha256};

use super::users::Role;
use super::{StoreResult, now, random_hex};

/// Failed sign-ins for one username within `THROTTLE_WINDOW` before further tries are refused,
/// except from an address the user signed in from within `KNOWN_ADDRESS_FOR`: guesses from
/// elsewhere cannot lock an admin out of their own desk.
pub const THROTTLE_FAILURES: i64 = 5;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
pub const KNOWN_ADDRESS_FOR: Duration = Duration::days(90);

/// A signed-in staff member and where they may act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// (organization, role) for every organization the user belongs to.
    pub memberships: Vec<(i64, Role)>,
}

impl Viewer {
    pub fn role_in(&self, org: i64) -> Option<Role> {
        self.memberships.iter().find(|(o, _)| *o == org).map(|(_, r)| *r)
    }

    pub fn org_ids(&self) -> Vec<i64> {
        self.memberships.iter().map(|(o, _)| *o).collect()
    }

    /// Whether the viewer may change records of an organization (staff or admin there).
    pub fn may_change(&self, org: i64) -> bool {
        matches!(self.role_in(org), Some(Role::Admin | Role::Staff))
    }

    /// The organizations where the viewer may change records.
    pub fn writable_orgs(&self) -> Vec<i64> {
        self.memberships.iter().filter(|(o, _)| self.may_change(*o)).map(|(o, _)| *o).collect()
    }

    pub fn is_admin_anywhere(&self) -> bool {
        self.memberships.iter().any(|(_, r)| *r == Role::Admin)
    }
}

/// A session found by its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: Vec<u8>,
    pub viewer: Viewer,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// What a sign-in needs to know before it checks a password: the user (id, stored hash,
/// disabled), how many sign-ins failed for the name recently, and whether this user has
/// signed in from this address before.
#[derive(Debug, Clone)]
pub struct SignInFacts {
    pub user: Option<(i64, String, bool)>,
    pub recent_failures: i64,
    pub known_address: bool,
}

/// Reads what a sign-in needs; a read, so it runs beside the writer.
pub fn sign_in_facts(conn: &Connection, username: &str, address: &str) -> StoreResult<SignInFacts> {
    let user: Option<(i64, String, bool)> = conn
        .prepare_cached(
            "SELECT id, password_hash, disabled_at IS NOT NULL FROM users WHERE username = :u",
        )?
        .query_row(named_params! {":u": username}, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let recent_failures = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM sign_in_failures WHERE username = :u AND at > :since",
        )?
        .query_row(
            named_params! {":u": username.to_lowercase(), ":since": now() - THROTTLE_WINDOW},
            |r| r.get(0),
        )?;
    let known_address = match &user {
        Some((id, _, _)) => conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM sign_in_known_addresses
                                WHERE user_id = :u AND address = :a AND last_at > :since)",
            )?
            .query_row(
                named_params! {":u": id, ":a": address, ":since": now() - KNOWN_ADDRESS_FOR},
                |r| r.get(0),
            )?,
        None => false,
    };
    Ok(SignInFacts { user, recent_failures, known_address })
}

/// How many sign-ins failed for this username recently.
pub fn recent_failures(conn: &Connection, username: &str) -> StoreResult<i64> {
    Ok(sign_in_facts(conn, username, "")?.recent_failures)
}

pub fn record_failure(conn: &Connection, username: &str, address: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO sign_in_failures (username, address, at) VALUES (:u, :a, :at)",
    )?
    .execute(named_params! {":u": username.to_lowercase(), ":a": address, ":at": now()})?;
    Ok(())
}

/// Whether `password` matches a stored Argon2id hash. Slow on purpose (tens of
/// milliseconds): call it off the database threads.
pub fn password_matches(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Spends the time of a real password check, so a probe cannot tell unknown names apart.
pub fn spend_a_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| {
        super::users::hash_password("not a password anyone has").unwrap_or_default()
    });
    let _ = password_matches(stored, password);
}

/// Checks a username and password; `None` for any mismatch, unknown or disabled user, without
/// telling which. Runs the password check where it is called: the command line and tests.
pub fn verify(conn: &Connection, username: &str, password: &str) -> StoreResult<Option<i64>> {
    let Some((id, stored, disabled)) = sign_in_facts(conn, username, "")?.user else {
        spend_a_password_check(password);
        return Ok(None);
    };
    Ok((password_matches(&stored, password) && !disabled).then_some(id))
}

/// A successful sign-in from `address`: starts a session, remembers the address for the
/// user, and clears the name's failed attempts (the right password proves the owner).
pub fn signed_in(
    conn: &Connection,
    user_id: i64,
    username: &str,
    address: &str,
) -> StoreResult<String> {
    let token = create(conn, user_id)?;
    conn.prepare_cached(
        "INSERT INTO sign_in_known_addresses (user_id, address, last_at) VALUES (:u, :a, :at)
         ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at",
    )?
    .execute(named_params! {":u": user_id, ":a": address, ":at": now()})?;
    conn.prepare_cached("DELETE FROM sign_in_failures WHERE username = :u")?
        .execute(named_params! {":u": username.to_lowercase()})?;
    Ok(token)
}

/// Starts a session and returns the cookie value (shown to the browser only).
pub fn create(conn: &Connection, user_id: i64) -> StoreResult<String> {
    let token = random_hex(32);
    let at = now();
    conn.prepare_cached(
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at)
         VALUES (:id, :u, :csrf, :at, :at)",
    )?
    .execute(
        named_params! {":id": hash(&token), ":u": user_id, ":csrf": random_hex(32), ":at": at},
    )?;
    conn.prepare_cached("DELETE FROM sign_in_failures WHERE at < :old")?
        .execute(named_params! {":old": at - THROTTLE_WINDOW})?;
    Ok(token)
}

/// The session behind a cookie value, if it exists and its user is still active.
pub fn find(conn: &Connection, token: &str) -> StoreResult<Option<Session>> {
    let id = hash(token);
    let row: Option<(i64, String, DateTime<Utc>, String, String)> = conn
        .prepare_cached(
            "SELECT s.user_id, s.csrf_token, s.last_seen_at, u.username, u.display_name
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = :id AND u.disabled_at IS NULL",
        )?
        .query_row(named_params! {":id": id}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((user_id, csrf_token, last_seen_at, username, display_name)) = row else {
        return Ok(None);
    };
    Ok(Some(Session {
        id,
        viewer: Viewer {
            user_id,
            username,
            display_name,
            memberships: memberships(conn, user_id)?,
        },
        csrf_token,
        last_seen_at,
    }))
}

pub fn memberships(conn: &Connection, user_id: i64) -> StoreResult<Vec<(i64, Role)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT organization_id, role FROM user_organizations WHERE user_id = :u ORDER BY organization_id",
    )?;
    let rows = stmt.query_map(named_params! {":u": user_id}, |r| {
        let role: String = r.get(1)?;
        Ok((r.get::<_, i64>(0)?, Role::parse(&role).unwrap_or(Role::Viewer)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn touch(conn: &Connection, id: &[u8]) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sessions SET last_seen_at = :at WHERE id = :id")?
        .execute(named_params! {":at": now(), ":id": id})?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &[u8]) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE id = :id")?
        .execute(named_params! {":id": id})?;
    Ok(())
}
