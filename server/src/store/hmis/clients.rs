//! Client.csv: clients found again by PersonalID (or `SL<number>`), updated when newer, deleted
//! when the HMIS deleted them and Scanline holds nothing of its own about them; a new client
//! joins the organization of its earliest enrollment's program. Each keeps the row as received.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::params;

use super::{
    Counts, Kind, OUTSIDE, Run, StoreError, client_org, delete_client_if_unused, find_client,
    newer, tick,
};
use crate::hmis::model::ClientRow;
use crate::hmis::model::kept::{ClientOwned, Owned as _};

fn owned(c: &ClientRow) -> String {
    ClientOwned {
        id: c.id.clone(),
        first: c.first.clone(),
        middle: c.middle.clone(),
        last: c.last.clone(),
        suffix: c.suffix.clone(),
        name_dq: c.name_dq,
        ssn: c.ssn.clone(),
        ssn_dq: c.ssn_dq,
        dob: c.dob,
        dob_dq: c.dob_dq,
    }
    .fingerprint()
}

/// Where new clients go.
struct Placing<'a> {
    /// PersonalID -> the project of the client's earliest enrollment in the export.
    first_program: HashMap<&'a str, (NaiveDate, &'a str)>,
    /// The organization when the export does not say.
    fallback: Option<i64>,
    next_number: i64,
}

impl<'a> Run<'a> {
    pub(super) fn clients(&mut self) -> Result<(), StoreError> {
        let (tx, p) = (self.tx, self.p);
        let mut first_program: HashMap<&str, (NaiveDate, &str)> = HashMap::new();
        for e in &p.enrollments {
            let slot = first_program
                .entry(e.personal_id.as_str())
                .or_insert((e.entry_date, &e.project_id));
            if e.entry_date < slot.0 {
                *slot = (e.entry_date, &e.project_id);
            }
        }
        let fallback = match (self.org_ids.values().min(), &self.opts.scope) {
            (Some(id), _) => Some(*id),
            (None, Some(scope)) => scope.iter().min().copied(),
            (None, None) => tx.query_row("SELECT MIN(id) FROM organizations", [], |r| r.get(0))?,
        };
        let next_number =
            tx.query_row("SELECT COALESCE(MAX(client_number), 0) + 1 FROM clients", [], |r| {
                r.get(0)
            })?;
        let mut placing = Placing { first_program, fallback, next_number };
        let mut counts = Counts { read: p.clients.len() as u64, ..Counts::default() };
        for (i, c) in p.clients.iter().enumerate() {
            tick(&mut self.progress, "Client.csv", i, p.clients.len());
            self.client(c, &mut placing, &mut counts)?;
        }
        self.counts.push(("Client.csv".to_owned(), counts));
        Ok(())
    }

    fn client(
        &mut self,
        c: &'a ClientRow,
        placing: &mut Placing<'a>,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let tx = self.tx;
        let existing = find_client(tx, &c.id)?;
        if let Some((id, _)) = existing {
            let (org, restricted) = client_org(tx, id)?;
            if !self.opts.allows(org) && restricted {
                let reason = format!("the client {OUTSIDE}");
                self.refuse(Kind::Client, &c.id, &c.common, ("PersonalID", &c.id, &reason));
                return Ok(());
            }
            if !self.opts.allows(org) {
                // Shared with every organization, recorded by another: theirs to change.
                self.client_ids.insert(&c.id, id);
                let reason = "another organization's client: kept as that organization recorded \
                              it, not changed or deleted by this import";
                self.cx.warn(&c.common, "PersonalID", &c.id, reason);
                counts.skipped += 1;
                return Ok(());
            }
        }
        if c.common.deleted.is_some() {
            match existing {
                Some((id, _)) if delete_client_if_unused(tx, id)? => counts.deleted += 1,
                Some((id, _)) => {
                    self.client_ids.insert(&c.id, id);
                    let reason = "deleted in the HMIS: kept, because Scanline has cards, services \
                                  or bars for this client";
                    self.cx.warn(&c.common, "DateDeleted", "", reason);
                    counts.skipped += 1;
                }
                None => counts.skipped += 1,
            }
            return Ok(());
        }
        match existing {
            Some((id, stored)) => {
                self.client_ids.insert(&c.id, id);
                if newer(c.common.updated, stored) {
                    self.update_client(c, id)?;
                    counts.updated += 1;
                } else {
                    counts.unchanged += 1;
                }
            }
            None => self.new_client(c, placing, counts)?,
        }
        Ok(())
    }

    fn update_client(&mut self, c: &ClientRow, id: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE clients SET first_name = ?, middle_name = ?, last_name = ?, name_suffix = ?,
                        name_data_quality = ?, dob = ?, dob_data_quality = ?, ssn = ?,
                        ssn_data_quality = ?, hmis_updated_at = ?, hmis_kept = ?, hmis_owned = ?,
                        updated_at = ?
                 WHERE id = ?",
            )?
            .execute(params![
                c.first,
                c.middle,
                c.last,
                c.suffix,
                c.name_dq,
                c.dob,
                c.dob_dq,
                c.ssn,
                c.ssn_dq,
                c.common.updated,
                c.common.kept.0,
                owned(c),
                self.at,
                id
            ])?;
        Ok(())
    }

    fn new_client(
        &mut self,
        c: &'a ClientRow,
        placing: &mut Placing<'a>,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let tx = self.tx;
        let program = placing
            .first_program
            .get(c.id.as_str())
            .and_then(|(_, project)| self.program_ids.get(project).map(|(pid, _)| *pid));
        let org = match program {
            Some(pid) => Some(super::program_org(tx, pid)?),
            None => placing.fallback,
        };
        let Some(org) = org else {
            let reason = "no organization to put the client in: the export has no \
                          Organization.csv and Scanline has none";
            self.refuse(Kind::Client, &c.id, &c.common, ("PersonalID", &c.id, reason));
            return Ok(());
        };
        tx.prepare_cached(
            "INSERT INTO clients (organization_id, client_number, personal_id, first_name,
                    middle_name, last_name, name_suffix, name_data_quality, dob, dob_data_quality,
                    ssn, ssn_data_quality, hmis_updated_at, hmis_kept, hmis_owned, created_at,
                    updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![
            org,
            placing.next_number,
            c.id,
            c.first,
            c.middle,
            c.last,
            c.suffix,
            c.name_dq,
            c.dob,
            c.dob_dq,
            c.ssn,
            c.ssn_dq,
            c.common.updated,
            c.common.kept.0,
            owned(c),
            self.utc(c.common.created),
            self.at
        ])?;
        placing.next_number += 1;
        self.client_ids.insert(&c.id, tx.last_insert_rowid());
        counts.added += 1;
        Ok(())
    }
}
