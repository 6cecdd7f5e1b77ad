//! Stored client photos: the re-encoded JPEG and its thumbnail. A client's current photo is
//! `clients.photo_id`; removing a photo clears that link.

use rusqlite::{Connection, OptionalExtension, named_params};

use super::ids::ClientId;
use super::{StoreResult, now};
/// A photo ready to store: re-encoded JPEGs of the picture and its thumbnail.
#[derive(Debug, Clone, Copy)]
pub struct NewPhoto<'a> {
    pub jpeg: &'a [u8],
    pub thumbnail: &'a [u8],
    pub width: u32,
    pub height: u32,
}

/// Stores a photo and makes it the client's current one.
pub fn save(
    conn: &Connection,
    client_id: ClientId,
    p: &NewPhoto<'_>,
    user: i64,
) -> StoreResult<i64> {
    super::clients::get(conn, client_id)?;
    conn.prepare_cached(
        "INSERT INTO photos (client_id, jpeg, thumbnail, width, height, created_by, created_at)
         VALUES (:c, :jpeg, :thumb, :w, :h, :u, :at)",
    )?
    .execute(named_params! {
        ":c": client_id, ":jpeg": p.jpeg, ":thumb": p.thumbnail, ":w": p.width, ":h": p.height,
        ":u": user, ":at": now(),
    })?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached("UPDATE clients SET photo_id = :p, updated_at = :at WHERE id = :c")?
        .execute(named_params! {":p": id, ":at": now(), ":c": client_id})?;
    Ok(id)
}

/// Removes the client's current photo (the stored bytes go with it).
pub fn remove(conn: &Connection, client_id: ClientId) -> StoreResult<bool> {
    let current: Option<i64> = conn
        .prepare_cached("SELECT photo_id FROM clients WHERE id = :c")?
        .query_row(named_params! {":c": client_id}, |r| r.get(0))
        .optional()?
        .flatten();
    let Some(photo) = current else { return Ok(false) };
    conn.prepare_cached("UPDATE clients SET photo_id = NULL, updated_at = :at WHERE id = :c")?
        .execute(named_params! {":at": now(), ":c": client_id})?;
    conn.prepare_cached("DELETE FROM photos WHERE id = :p")?
        .execute(named_params! {":p": photo})?;
    Ok(true)
}

/// The client's current photo (or its thumbnail), as JPEG bytes.
pub fn current(
    conn: &Connection,
    client_id: ClientId,
    thumbnail: bool,
) -> StoreResult<Option<Vec<u8>>> {
    let sql = if thumbnail {
        "SELECT p.thumbnail FROM clients c JOIN photos p ON p.id = c.photo_id WHERE c.id = :c"
    } else {
        "SELECT p.jpeg FROM clients c JOIN photos p ON p.id = c.photo_id WHERE c.id = :c"
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row(named_params! {":c": client_id}, |r| r.get(0))
        .optional()?)
}
