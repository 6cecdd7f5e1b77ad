//! Staff users: Argon2id password hashes and a role per organization.

use argon2::password_hash::{PasswordHasher, SaltString};
use rand::RngCore;
use rusqlite::{Connection, named_params};

use super::{StoreError, StoreResult, is_unique_violation, now, required_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Staff,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Staff => "staff",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Admin, Self::Staff, Self::Viewer].into_iter().find(|r| r.as_str() == s)
    }
}

/// Shortest password accepted for staff accounts.
pub const MIN_PASSWORD_LEN: usize = 10;

pub fn hash_password(password: &str) -> StoreResult<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| StoreError::Invalid(format!("cannot make a salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash the password: {e}")))
}

pub fn insert(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password: &str,
    organization_id: i64,
    role: Role,
) -> StoreResult<i64> {
    let username = required_text("username", username, 64)?;
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)) {
        return Err(StoreError::Invalid("a username uses letters, digits and . _ - @ only".into()));
    }
    let display_name = required_text("display name", display_name, 100)?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(StoreError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    super::orgs::get(conn, organization_id)?;
    let hash = hash_password(password)?;
    conn.prepare_cached(
        "INSERT INTO users (username, display_name, password_hash, created_at)
         VALUES (:u, :d, :h, :at)",
    )?
    .execute(named_params! {":u": username, ":d": display_name, ":h": hash, ":at": now()})
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("the username {username:?} is taken"))
        } else {
            e.into()
        }
    })?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "INSERT INTO user_organizations (user_id, organization_id, role) VALUES (:u, :o, :r)",
    )?
    .execute(named_params! {":u": id, ":o": organization_id, ":r": role.as_str()})?;
    Ok(id)
}

/// A user as the admin page lists them.
#[derive(Debug, Clone)]
pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub organization: String,
    pub organization_id: i64,
    pub role: String,
    pub disabled: bool,
}

/// The users of some organizations.
pub fn list_for_orgs(conn: &Connection, orgs: &[i64]) -> StoreResult<Vec<UserLine>> {
    let orgs = serde_json::to_string(orgs).expect("ids serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, o.name, o.id, m.role, u.disabled_at IS NOT NULL
         FROM users u JOIN user_organizations m ON m.user_id = u.id
           JOIN organizations o ON o.id = m.organization_id
         WHERE m.organization_id IN (SELECT value FROM json_each(:orgs))
         ORDER BY u.disabled_at IS NOT NULL, u.username",
    )?;
    let rows = stmt.query_map(rusqlite::named_params! {":orgs": orgs}, |r| {
        Ok(UserLine {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            organization: r.get(3)?,
            organization_id: r.get(4)?,
            role: r.get(5)?,
            disabled: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The organizations a user belongs to.
pub fn organizations_of(conn: &Connection, user: i64) -> StoreResult<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT organization_id FROM user_organizations WHERE user_id = :u")?;
    let rows = stmt.query_map(rusqlite::named_params! {":u": user}, |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Disables a user and ends their sessions; their records stay.
pub fn disable(conn: &Connection, user: i64) -> StoreResult<()> {
    let n = conn
        .prepare_cached("UPDATE users SET disabled_at = :at WHERE id = :u AND disabled_at IS NULL")?
        .execute(rusqlite::named_params! {":at": now(), ":u": user})?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no active user {user}")));
    }
    conn.prepare_cached("DELETE FROM sessions WHERE user_id = :u")?
        .execute(rusqlite::named_params! {":u": user})?;
    Ok(())
}
