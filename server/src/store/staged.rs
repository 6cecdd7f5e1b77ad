//! Work done on a copy of the database and then applied to it in one short write (DESIGN
//! §12): a long job (the HMIS import) takes a consistent copy with SQLite's online backup
//! while the server keeps writing, does all its reading, checking and writing on the copy, and
//! the copy's triggers note every row the job added, changed or removed, with each changed row
//! as it was. Applying on the writer then first checks that nobody changed those rows in the
//! meantime (each must still be as it was), adds the new rows above the database's own newest
//! ones (renumbering what refers to them), changes the changed ones and removes the removed
//! ones. A row changed on both sides, or a constraint the live database refuses, is a
//! conflict: the apply rolls back, and the job starts again from a new copy.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// The schema name the copy is attached under on the writer.
pub const ALIAS: &str = "staged";
/// The change log the server's own triggers write; the live database writes it again as the
/// changes land, so the copy neither writes nor carries it.
const TRIGGER_WRITTEN: &str = "roster_changes";
/// What those triggers consult while an import lands (`roster::quiet_history`): filled and
/// emptied within one transaction, never a change to land.
const TRANSIENT: &str = "roster_quiet";
/// How many new rows of a table land in one statement.
const RUN: usize = 20_000;
/// The writer's page cache while changes land, in KiB. A landing of a million rows writes
/// its indexes all over; with the writer's usual cache their pages were written out and read
/// back again and again within the one transaction.
const LANDING_CACHE_KIB: i64 = 262_144;
/// The prefix of the copy's bookkeeping tables.
const NOTES: &str = "_staged";

/// A copy of the database for one job, removed when dropped.
pub struct Copy {
    path: PathBuf,
    conn: Option<Connection>,
}

/// Why changes worked out on a copy did not land: the live database moved under them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict(pub String);

/// What landed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Landed {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
}

impl Copy {
    /// Readies a copy of the database (`db::working_copy`) at `path` for a job: the triggers
    /// that note each change. `serials` are the columns (table, column) the job numbers its new
    /// rows in by counting up from the newest, as clients' numbers are: they move up on
    /// landing as rowids do. The file is removed when the `Copy` goes, whatever happens.
    ///
    /// The rows added to an `appended` table are not noted one by one: they are the rows above
    /// its newest when the copy was taken, and the copy refuses to remove any of its rows, so
    /// that no new row can take an old one's place. A note written by a trigger makes every
    /// insert a statement of two writes, which SQLite journals page by page in case it must
    /// undo the statement alone; a table a job adds a million rows to is spared that.
    pub fn take(
        conn: Connection,
        path: &Path,
        serials: &[(&str, &str)],
        appended: &[&str],
    ) -> Result<Self, StoreError> {
        let mut copy = Self { path: path.to_owned(), conn: None };
        note_changes(&conn, serials, appended)?;
        copy.conn = Some(conn);
        Ok(copy)
    }

    /// The copy, to do the job's work on.
    pub fn conn(&mut self) -> Result<&mut Connection, StoreError> {
        self.conn.as_mut().ok_or_else(|| StoreError::Invalid("the copy is closed".into()))
    }

    /// Closes the copy's connection, so the writer may attach the file.
    pub fn close(&mut self) {
        self.conn = None;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        self.conn = None;
        remove(&self.path);
    }
}

/// Removes a copy's file and its journal.
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut journal = path.as_os_str().to_owned();
    journal.push("-journal");
    let _ = std::fs::remove_file(PathBuf::from(journal));
}

/// Removes copies a job left behind when the server stopped in the middle of it: files named
/// `<database>.<job>-staged-*` beside the database.
pub fn remove_leftovers(db: &Path) {
    let (Some(dir), Some(name)) = (db.parent(), db.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        if file.starts_with(&format!("{name}.")) && file.contains("-staged-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Where a job's copy of `db` goes: beside it, so it is on the same disk as the database.
pub fn copy_path(db: &Path, job: &str) -> PathBuf {
    let name = db.file_name().and_then(|n| n.to_str()).unwrap_or("scanline.db");
    db.with_file_name(format!("{name}.{job}-staged-{}", uuid::Uuid::new_v4()))
}

/// A table of the schema, as the copy and the apply see it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<String>,
    /// The column that is the table's rowid, when it has one.
    key: Option<String>,
    /// Column -> the table it refers to (by its id).
    refers: Vec<(String, String)>,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables whose changes are noted (in `schema`): all but SQLite's own, the trigger-written
/// change log, what its triggers consult, and the notes themselves.
fn tables(conn: &Connection, schema: &str) -> Result<Vec<Table>, StoreError> {
    let names: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\{NOTES}%' ESCAPE '\\'
               AND name NOT IN (?1, ?2) ORDER BY name"
        ))?
        .query_map([TRIGGER_WRITTEN, TRANSIENT], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut columns = Vec::new();
        let mut keys = Vec::new();
        let mut info = conn.prepare(&format!("PRAGMA {schema}.table_info({})", quoted(&name)))?;
        let mut rows = info.query([])?;
        while let Some(r) = rows.next()? {
            let column: String = r.get(1)?;
            let kind: String = r.get(2)?;
            if r.get::<_, i64>(5)? > 0 {
                keys.push((column.clone(), kind));
            }
            columns.push(column);
        }
        let key = match keys.as_slice() {
            [(column, kind)] if kind.eq_ignore_ascii_case("INTEGER") => Some(column.clone()),
            _ => None,
        };
        let refers = conn
            .prepare(&format!("PRAGMA {schema}.foreign_key_list({})", quoted(&name)))?
            .query_map([], |r| Ok((r.get::<_, String>(3)?, r.get::<_, String>(2)?)))?
            .collect::<Result<_, _>>()?;
        out.push(Table { name, columns, key, refers });
    }
    Ok(out)
}

/// Installs the notes on a fresh copy: each table's newest rowid at the copy, a table of the
/// rows added (but for `appended` tables, whose new rows are those above the newest) and one of
/// the rows changed or removed, as they were (first change wins).
fn note_changes(
    conn: &Connection,
    serials: &[(&str, &str)],
    appended: &[&str],
) -> Result<(), StoreError> {
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE ?1")?
        .query_map([format!("%{TRIGGER_WRITTEN}%")], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut script = String::from("BEGIN;\n");
    for t in triggers {
        script.push_str(&format!("DROP TRIGGER {};\n", quoted(&t)));
    }
    script.push_str(&format!(
        "CREATE TABLE {NOTES}_tables (name TEXT PRIMARY KEY, newest INTEGER NOT NULL,
                                      appended INTEGER NOT NULL);
         CREATE TABLE {NOTES}_serials (name TEXT, col TEXT, newest INTEGER NOT NULL, PRIMARY KEY (name, col));\n"
    ));
    for (table, column) in serials {
        script.push_str(&format!(
            "INSERT INTO {NOTES}_serials SELECT '{}', '{}', COALESCE(MAX({}), 0) FROM {};\n",
            table.replace('\'', "''"),
            column.replace('\'', "''"),
            quoted(column),
            quoted(table),
        ));
    }
    for t in tables(conn, "main")? {
        let (name, q) = (&t.name, quoted(&t.name));
        let (old, new) =
            (quoted(&format!("{NOTES}_old_{name}")), quoted(&format!("{NOTES}_new_{name}")));
        let cols: Vec<String> = t.columns.iter().map(|c| quoted(c)).collect();
        let olds: Vec<String> = t.columns.iter().map(|c| format!("OLD.{}", quoted(c))).collect();
        let cols = cols.join(", ");
        let olds = olds.join(", ");
        let literal = name.replace('\'', "''");
        let (ins, upd, del) = (
            quoted(&format!("{NOTES}_ins_{name}")),
            quoted(&format!("{NOTES}_upd_{name}")),
            quoted(&format!("{NOTES}_del_{name}")),
        );
        let appends = appended.contains(&name.as_str());
        script.push_str(&format!(
            "INSERT INTO {NOTES}_tables SELECT '{literal}', COALESCE(MAX(rowid), 0), {} FROM {q};
             CREATE TABLE {old} (_row INTEGER PRIMARY KEY, {cols});
             CREATE TABLE {new} (_row INTEGER PRIMARY KEY);\n",
            i32::from(appends),
        ));
        if appends {
            script.push_str(&format!(
                "CREATE TRIGGER {upd} BEFORE UPDATE ON {q}
                 WHEN OLD.rowid <= (SELECT newest FROM {NOTES}_tables WHERE name = '{literal}')
                 BEGIN INSERT OR IGNORE INTO {old} VALUES (OLD.rowid, {olds}); END;
                 CREATE TRIGGER {del} BEFORE DELETE ON {q}
                 BEGIN SELECT RAISE(ABORT, 'a job on a copy removes no row of {literal}'); END;\n"
            ));
            continue;
        }
        script.push_str(&format!(
            "CREATE TRIGGER {ins} AFTER INSERT ON {q}
             BEGIN INSERT OR IGNORE INTO {new} VALUES (NEW.rowid); END;
             CREATE TRIGGER {upd} BEFORE UPDATE ON {q}
             WHEN NOT EXISTS (SELECT 1 FROM {new} WHERE _row = OLD.rowid)
             BEGIN INSERT OR IGNORE INTO {old} VALUES (OLD.rowid, {olds}); END;
             CREATE TRIGGER {del} BEFORE DELETE ON {q}
             WHEN NOT EXISTS (SELECT 1 FROM {new} WHERE _row = OLD.rowid)
             BEGIN INSERT OR IGNORE INTO {old} VALUES (OLD.rowid, {olds}); END;\n"
        ));
    }
    script.push_str("COMMIT;");
    conn.execute_batch(&script)?;
    Ok(())
}

/// What the apply knows of each table: its newest rowid in the copy when it was taken, and how
/// far its new rows move up to land above the live database's newest.
#[derive(Debug, Default, Clone)]
pub struct Moves {
    newest: HashMap<String, i64>,
    /// The tables whose new rows are those above their newest (`Copy::take`).
    appended: Vec<String>,
    shift: HashMap<String, i64>,
    /// (table, column) -> (newest at the copy, how far new values move up).
    serials: HashMap<(String, String), (i64, i64)>,
}

impl Moves {
    /// The table's newest rowid when the copy was taken: rows above it are the job's own.
    pub fn newest(&self, table: &str) -> i64 {
        self.newest.get(table).copied().unwrap_or(0)
    }

    /// The SQL for the set of rowids (in the attached copy) of the rows the job added to `table`.
    pub fn added(&self, table: &str) -> String {
        if self.appends(table) {
            return format!(
                "(SELECT rowid FROM {ALIAS}.{} WHERE rowid > {})",
                quoted(table),
                self.newest(table)
            );
        }
        format!("(SELECT _row FROM {ALIAS}.{})", quoted(&format!("{NOTES}_new_{table}")))
    }

    fn appends(&self, table: &str) -> bool {
        self.appended.iter().any(|t| t == table)
    }

    /// The SQL for a value that refers to `table` by rowid, as it lands.
    pub fn landed(&self, table: &str, value: &str) -> String {
        moved(value, self.newest(table), self.shift.get(table).copied().unwrap_or(0))
    }

    /// The SQL for a value of a serial column, as it lands.
    fn serial(&self, table: &str, column: &str, value: &str) -> Option<String> {
        let (newest, by) = self.serials.get(&(table.to_owned(), column.to_owned())).copied()?;
        Some(moved(value, newest, by))
    }
}

fn moved(value: &str, newest: i64, by: i64) -> String {
    match by {
        0 => value.to_owned(),
        by => format!("(CASE WHEN {value} > {newest} THEN {value} + {by} ELSE {value} END)"),
    }
}

impl Moves {}

/// A job's own question of the live database before its changes land: a reason is a conflict.
pub type Recheck = dyn Fn(&Connection, &Moves) -> Result<Option<String>, StoreError>;

/// Applies the changes noted in the copy attached as `ALIAS`, inside the writer's transaction
/// `tx`. `recheck` asks the job's own questions of the live database before anything is
/// written (for the import: a bed night recorded meanwhile for a night the copy adds); a
/// reason it gives is a conflict. A conflict leaves `tx` to be rolled back.
pub fn apply(tx: &Connection, recheck: &Recheck) -> Result<Result<Landed, Conflict>, StoreError> {
    let before: i64 = tx.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    tx.pragma_update(None, "cache_size", -LANDING_CACHE_KIB)?;
    let landed = apply_cached(tx, recheck);
    tx.pragma_update(None, "cache_size", before)?;
    landed
}

fn apply_cached(
    tx: &Connection,
    recheck: &Recheck,
) -> Result<Result<Landed, Conflict>, StoreError> {
    let s = ALIAS;
    let mut moves = Moves::default();
    let listed: Vec<(String, i64, bool)> = tx
        .prepare(&format!("SELECT name, newest, appended FROM {s}.{NOTES}_tables"))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let all = tables(tx, "main")?;
    let by_name: BTreeMap<&str, &Table> = all.iter().map(|t| (t.name.as_str(), t)).collect();
    for (name, newest, appends) in &listed {
        if *appends {
            moves.appended.push(name.clone());
        }
        if !by_name.contains_key(name.as_str()) {
            return Ok(Err(Conflict(format!("the table {name} is no longer in the database"))));
        }
        let live: i64 = tx.query_row(
            &format!("SELECT COALESCE(MAX(rowid), 0) FROM main.{}", quoted(name)),
            [],
            |r| r.get(0),
        )?;
        moves.newest.insert(name.clone(), *newest);
        moves.shift.insert(name.clone(), (live - newest).max(0));
    }
    let serials: Vec<(String, String, i64)> = tx
        .prepare(&format!("SELECT name, col, newest FROM {s}.{NOTES}_serials"))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (table, column, newest) in serials {
        let live: i64 = tx.query_row(
            &format!("SELECT COALESCE(MAX({}), 0) FROM main.{}", quoted(&column), quoted(&table)),
            [],
            |r| r.get(0),
        )?;
        moves.serials.insert((table, column), (newest, (live - newest).max(0)));
    }
    let order = match parents_first(&all) {
        Ok(order) => order,
        Err(c) => return Ok(Err(c)),
    };
    for t in &order {
        if let Some(c) = changed_meanwhile(tx, t)? {
            return Ok(Err(c));
        }
    }
    if let Some(reason) = recheck(tx, &moves)? {
        return Ok(Err(Conflict(reason)));
    }
    let mut landed = Landed::default();
    let outcome = (|| -> Result<(), rusqlite::Error> {
        for t in &order {
            let (a, c) = add_and_change(tx, t, &moves)?;
            landed.added += a;
            landed.changed += c;
        }
        for t in order.iter().rev() {
            let q = quoted(&t.name);
            let old = quoted(&format!("{NOTES}_old_{}", t.name));
            landed.removed += tx.execute(
                &format!(
                    "DELETE FROM main.{q} WHERE rowid IN
                       (SELECT _row FROM {s}.{old} WHERE _row NOT IN (SELECT rowid FROM {s}.{q}))"
                ),
                [],
            )? as u64;
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(Ok(landed)),
        Err(rusqlite::Error::SqliteFailure(e, message))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(Err(Conflict(message.unwrap_or_else(|| "a constraint of the database".into()))))
        }
        Err(e) => Err(e.into()),
    }
}

/// The tables, each after the tables it refers to.
fn parents_first(all: &[Table]) -> Result<Vec<Table>, Conflict> {
    let mut done: Vec<Table> = Vec::with_capacity(all.len());
    let mut left: Vec<&Table> = all.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|t| {
            let ready = t.refers.iter().all(|(_, p)| {
                p == &t.name
                    || done.iter().any(|d| &d.name == p)
                    || !all.iter().any(|a| &a.name == p)
            });
            if ready {
                done.push((*t).clone());
            }
            !ready
        });
        if left.len() == before {
            return Err(Conflict("the tables refer to each other in a circle".into()));
        }
    }
    Ok(done)
}

/// The row a noted change started from, if the live database no longer holds it as it was;
/// only rows the copy really changed count (an update that wrote the same values is none).
fn changed_meanwhile(tx: &Connection, t: &Table) -> Result<Option<Conflict>, StoreError> {
    let s = ALIAS;
    let q = quoted(&t.name);
    let old = quoted(&format!("{NOTES}_old_{}", t.name));
    let new = quoted(&format!("{NOTES}_new_{}", t.name));
    let differs = |a: &str, b: &str| -> String {
        t.columns
            .iter()
            .map(|c| format!("{a}.{0} IS NOT {b}.{0}", quoted(c)))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let both: Option<i64> = tx
        .query_row(
            &format!("SELECT o._row FROM {s}.{old} o JOIN {s}.{new} n ON n._row = o._row LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(row) = both {
        return Ok(Some(Conflict(format!("row {row} of {} was removed and added again", t.name))));
    }
    let sql = format!(
        "SELECT o._row FROM {s}.{old} o
           LEFT JOIN {s}.{q} c ON c.rowid = o._row
           LEFT JOIN main.{q} m ON m.rowid = o._row
         WHERE (c.rowid IS NULL OR {copy_differs})
           AND (m.rowid IS NULL OR {live_differs})
         LIMIT 1",
        copy_differs = differs("c", "o"),
        live_differs = differs("m", "o"),
    );
    let row: Option<i64> = tx.query_row(&sql, [], |r| r.get(0)).optional()?;
    Ok(row.map(|row| Conflict(format!("row {row} of {} changed while the job ran", t.name))))
}

/// Adds the table's new rows and changes its changed ones; how many of each.
fn add_and_change(
    tx: &Connection,
    t: &Table,
    moves: &Moves,
) -> Result<(u64, u64), rusqlite::Error> {
    let s = ALIAS;
    let q = quoted(&t.name);
    let old = quoted(&format!("{NOTES}_old_{}", t.name));
    let new = quoted(&format!("{NOTES}_new_{}", t.name));
    let refers: HashMap<&str, &str> =
        t.refers.iter().map(|(c, p)| (c.as_str(), p.as_str())).collect();
    let value = |c: &str| -> String {
        let v = format!("c.{}", quoted(c));
        if t.key.as_deref() == Some(c) {
            moves.landed(&t.name, &v)
        } else if let Some(parent) = refers.get(c) {
            moves.landed(parent, &v)
        } else {
            moves.serial(&t.name, c, &v).unwrap_or(v)
        }
    };
    let cols: Vec<String> = t.columns.iter().map(|c| quoted(c)).collect();
    let values: Vec<String> = t.columns.iter().map(|c| value(c)).collect();
    let (into, from) = match t.key {
        Some(_) => (cols.join(", "), values.join(", ")),
        None => (
            format!("rowid, {}", cols.join(", ")),
            format!("{}, {}", moves.landed(&t.name, "c.rowid"), values.join(", ")),
        ),
    };
    // In runs of rows, each its own statement: a statement keeps, until it ends, a copy of
    // every page it changes that it may have to undo, in memory.
    let mut added = 0;
    let (mut after, mut next_run, mut insert) = if moves.appends(&t.name) {
        let next_run = tx.prepare(&format!(
            "SELECT MAX(rowid) FROM (SELECT rowid FROM {s}.{q} WHERE rowid > ?1 ORDER BY rowid LIMIT {RUN})"
        ))?;
        let insert = tx.prepare(&format!(
            "INSERT INTO main.{q} ({into}) SELECT {from} FROM {s}.{q} c
             WHERE c.rowid > ?1 AND c.rowid <= ?2"
        ))?;
        (moves.newest(&t.name), next_run, insert)
    } else {
        let next_run = tx.prepare(&format!(
            "SELECT MAX(_row) FROM (SELECT _row FROM {s}.{new} WHERE _row > ?1 ORDER BY _row LIMIT {RUN})"
        ))?;
        let insert = tx.prepare(&format!(
            "INSERT INTO main.{q} ({into}) SELECT {from} FROM {s}.{new} n
             CROSS JOIN {s}.{q} c ON c.rowid = n._row WHERE n._row > ?1 AND n._row <= ?2"
        ))?;
        (0, next_run, insert)
    };
    while let Some(upto) = next_run.query_row([after], |r| r.get::<_, Option<i64>>(0))? {
        added += insert.execute([after, upto])? as u64;
        after = upto;
    }
    let settable: Vec<&String> =
        t.columns.iter().filter(|c| t.key.as_deref() != Some(c.as_str())).collect();
    if settable.is_empty() {
        return Ok((added, 0));
    }
    let differs: Vec<String> =
        t.columns.iter().map(|c| format!("c.{0} IS NOT o.{0}", quoted(c))).collect();
    let set_cols: Vec<String> = settable.iter().map(|c| quoted(c)).collect();
    let set_vals: Vec<String> = settable.iter().map(|c| value(c)).collect();
    let changed = tx.execute(
        &format!(
            "UPDATE main.{q} SET ({}) = (SELECT {} FROM {s}.{q} c WHERE c.rowid = {q}.rowid)
             WHERE rowid IN (SELECT o._row FROM {s}.{old} o JOIN {s}.{q} c ON c.rowid = o._row
                             WHERE {})",
            set_cols.join(", "),
            set_vals.join(", "),
            differs.join(" OR "),
        ),
        [],
    )? as u64;
    Ok((added, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_left_by_a_stopped_server_goes_and_nothing_else_does() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        let left = copy_path(&db, "import");
        let keep = [
            "server.db",
            "server.db-wal",
            "server.db-shm",
            "server.db.lock",
            "other.db.import-staged-1",
        ];
        for name in keep {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::write(&left, b"x").unwrap();
        remove_leftovers(&db);
        assert!(!left.exists());
        for name in keep {
            assert!(dir.path().join(name).exists(), "{name} stays");
        }
    }
}
