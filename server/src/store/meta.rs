//! The database's own facts: its generation, made when the database is and anew by every
//! restore, so a station can tell the server went back in time (DESIGN §14).

use rusqlite::Connection;

use super::StoreResult;

/// The current generation.
pub fn generation(conn: &Connection) -> StoreResult<String> {
    Ok(conn.query_row("SELECT value FROM server_meta WHERE key = 'generation'", [], |r| r.get(0))?)
}

/// Makes a new generation (after a restore).
pub fn new_generation(conn: &Connection) -> StoreResult<()> {
    conn.execute(
        "UPDATE server_meta SET value = lower(hex(randomblob(8))) WHERE key = 'generation'",
        [],
    )?;
    Ok(())
}
