//! User.csv: the HMIS's users, kept as received, so that an export gives back the users its
//! kept records name.

use rusqlite::params;

use super::{Counts, Run, StoreError, tick};

impl Run<'_> {
    pub(super) fn users(&mut self) -> Result<(), StoreError> {
        let (tx, p) = (self.tx, self.p);
        let mut counts = Counts { read: p.users.len() as u64, ..Counts::default() };
        let mut stmt = tx.prepare_cached(
            "INSERT INTO hmis_users (user_id, kept) VALUES (?, ?)
             ON CONFLICT (user_id) DO UPDATE SET kept = excluded.kept WHERE kept <> excluded.kept",
        )?;
        for (i, u) in p.users.iter().enumerate() {
            tick(&mut self.progress, "User.csv", i, p.users.len());
            match stmt.execute(params![u.id, u.kept.0])? {
                0 => counts.unchanged += 1,
                _ => counts.added += 1,
            }
        }
        if !p.users.is_empty() {
            self.counts.push(("User.csv".to_owned(), counts));
        }
        Ok(())
    }
}
