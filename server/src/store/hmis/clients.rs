//! Client.csv: clients found again by PersonalID (or `SL<number>`), updated when newer, deleted when the HMIS deleted them and Scanline holds nothing of its own about them; a new client joins the organization of its earliest enrollment's program.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::params;

use super::{
    Counts, OUTSIDE, Run, StoreError, client_org, delete_client_if_unused, find_client, newer, tick,
};

impl Run<'_> {
    pub(super) fn clients(&mut self) -> Result<(), StoreError> {
        let (tx, p, opts, at, _tz) = (self.tx, self.p, self.opts, self.at, self.tz);
        let mut first_program: HashMap<&str, (NaiveDate, &str)> = HashMap::new();
        for e in &p.enrollments {
            let slot = first_program
                .entry(e.personal_id.as_str())
                .or_insert((e.entry_date, &e.project_id));
            if e.entry_date < slot.0 {
                *slot = (e.entry_date, &e.project_id);
            }
        }
        let fallback_org: Option<i64> = match (self.org_ids.values().min(), &opts.scope) {
            (Some(id), _) => Some(*id),
            (None, Some(scope)) => scope.iter().min().copied(),
            (None, None) => tx.query_row("SELECT MIN(id) FROM organizations", [], |r| r.get(0))?,
        };
        let mut next_number: i64 =
            tx.query_row("SELECT COALESCE(MAX(client_number), 0) + 1 FROM clients", [], |r| {
                r.get(0)
            })?;
        let mut counts = Counts { read: p.clients.len() as u64, ..Counts::default() };
        for (i, c) in p.clients.iter().enumerate() {
            tick(&mut self.progress, "Client.csv", i, p.clients.len());
            let existing = find_client(tx, &c.id)?;
            if let Some((id, _)) = existing {
                let (org, restricted) = client_org(tx, id)?;
                if !opts.allows(org) {
                    if restricted {
                        self.cx.error(
                            &c.common,
                            "PersonalID",
                            &c.id,
                            &format!("the client {OUTSIDE}"),
                        );
                    } else {
                        // Shared with every organization, recorded by another: theirs to change.
                        self.client_ids.insert(&c.id, id);
                        self.cx.warn(
                            &c.common,
                            "PersonalID",
                            &c.id,
                            "another organization's client: kept as that organization recorded it, \
                         not changed or deleted by this import",
                        );
                        counts.skipped += 1;
                    }
                    continue;
                }
            }
            if c.common.deleted.is_some() {
                match existing {
                    Some((id, _)) if delete_client_if_unused(tx, id)? => counts.deleted += 1,
                    Some((id, _)) => {
                        self.client_ids.insert(&c.id, id);
                        self.cx.warn(&c.common, "DateDeleted", "", "deleted in the HMIS: kept, because Scanline has cards, services or bars for this client");
                        counts.skipped += 1;
                    }
                    None => counts.skipped += 1,
                }
                continue;
            }
            match existing {
                Some((id, stored)) => {
                    self.client_ids.insert(&c.id, id);
                    if newer(c.common.updated, stored) {
                        tx.prepare_cached(
                        "UPDATE clients SET first_name = ?, middle_name = ?, last_name = ?, name_suffix = ?,
                                name_data_quality = ?, dob = ?, dob_data_quality = ?, ssn = ?,
                                ssn_data_quality = ?, hmis_updated_at = ?, updated_at = ?
                         WHERE id = ?",
                    )?
                    .execute(params![
                        c.first, c.middle, c.last, c.suffix, c.name_dq, c.dob, c.dob_dq, c.ssn,
                        c.ssn_dq, c.common.updated, at, id
                    ])?;
                        counts.updated += 1;
                    } else {
                        counts.unchanged += 1;
                    }
                }
                None => {
                    let org = first_program
                        .get(c.id.as_str())
                        .and_then(|(_, project)| self.program_ids.get(project).map(|(pid, _)| *pid))
                        .map(|pid| {
                            tx.query_row(
                                "SELECT organization_id FROM programs WHERE id = ?",
                                [pid],
                                |r| r.get::<_, i64>(0),
                            )
                        })
                        .transpose()?
                        .or(fallback_org);
                    let Some(org) = org else {
                        self.cx.error(&c.common, "PersonalID", &c.id, "no organization to put the client in: the export has no Organization.csv and Scanline has none");
                        continue;
                    };
                    tx.prepare_cached(
                    "INSERT INTO clients (organization_id, client_number, personal_id, first_name, middle_name,
                            last_name, name_suffix, name_data_quality, dob, dob_data_quality, ssn,
                            ssn_data_quality, hmis_updated_at, created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    org, next_number, c.id, c.first, c.middle, c.last, c.suffix, c.name_dq, c.dob,
                    c.dob_dq, c.ssn, c.ssn_dq, c.common.updated, c.common.created.and_utc(), at
                ])?;
                    next_number += 1;
                    self.client_ids.insert(&c.id, tx.last_insert_rowid());
                    counts.added += 1;
                }
            }
        }
        self.counts.push(("Client.csv".to_owned(), counts));

        Ok(())
    }
}
