//! Organization.csv: organizations found again by HMIS ID (or Scanline's `SL-O` ID, or by name when not yet linked), updated when newer, created only by an unrestricted import.

use rusqlite::{OptionalExtension, params};

use super::{Counts, NOT_ADMINISTERED, Run, StoreError, find, newer, sql_err, tick};

impl Run<'_> {
    pub(super) fn organizations(&mut self) -> Result<(), StoreError> {
        let (tx, p, opts, at, tz) = (self.tx, self.p, self.opts, self.at, self.tz);
        let mut counts = Counts { read: p.organizations.len() as u64, ..Counts::default() };
        for (i, o) in p.organizations.iter().enumerate() {
            tick(&mut self.progress, "Organization.csv", i, p.organizations.len());
            let existing = find(tx, "organizations", "hmis_organization_id", "SL-O", &o.id)?;
            if let Some((id, _)) = existing
                && !opts.allows(id)
            {
                self.cx.error(&o.common, "OrganizationID", &o.id, NOT_ADMINISTERED);
                continue;
            }
            match (existing, o.common.deleted) {
                (Some((id, _)), Some(_)) => {
                    self.org_ids.insert(&o.id, id);
                    self.cx.warn(
                    &o.common,
                    "DateDeleted",
                    "",
                    "deleted in the HMIS: the organization is kept, with its programs and clients",
                );
                    counts.skipped += 1;
                }
                (None, Some(_)) => counts.skipped += 1,
                (Some((id, stored)), None) => {
                    self.org_ids.insert(&o.id, id);
                    if newer(o.common.updated, stored) {
                        let r = tx
                        .prepare_cached(
                            "UPDATE organizations SET name = ?, hmis_updated_at = ? WHERE id = ?",
                        )?
                        .execute(params![o.name, o.common.updated, id]);
                        match r {
                            Ok(_) => counts.updated += 1,
                            Err(e) if crate::store::is_unique_violation(&e) => self.cx.error(
                                &o.common,
                                "OrganizationName",
                                &o.name,
                                "another organization already has this name",
                            ),
                            Err(e) => return Err(sql_err(e)),
                        }
                    } else {
                        counts.unchanged += 1;
                    }
                }
                (None, None) => {
                    let by_name: Option<(i64, Option<String>)> = tx
                        .prepare_cached(
                            "SELECT id, hmis_organization_id FROM organizations WHERE name = ?",
                        )?
                        .query_row([&o.name], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    match by_name {
                        Some((id, None)) if !opts.allows(id) => {
                            self.cx.error(&o.common, "OrganizationName", &o.name, NOT_ADMINISTERED);
                        }
                        Some((id, None)) => {
                            tx.prepare_cached("UPDATE organizations SET hmis_organization_id = ?, hmis_updated_at = ? WHERE id = ?")?
                            .execute(params![o.id, o.common.updated, id])?;
                            self.org_ids.insert(&o.id, id);
                            counts.updated += 1;
                        }
                        Some((_, Some(other))) => self.cx.error(
                            &o.common,
                            "OrganizationName",
                            &o.name,
                            &format!("already the name of HMIS organization {other}"),
                        ),
                        None if opts.scope.is_some() => self.cx.error(
                            &o.common,
                            "OrganizationID",
                            &o.id,
                            "no organization you administer has this HMIS organization ID or name: \
                         set the organization's HMIS organization ID on this page first",
                        ),
                        None => {
                            tx.prepare_cached(
                            "INSERT INTO organizations (name, time_zone, hmis_organization_id, hmis_updated_at, created_at)
                             VALUES (?, ?, ?, ?, ?)",
                        )?
                        .execute(params![o.name, tz.name(), o.id, o.common.updated, at])?;
                            self.org_ids.insert(&o.id, tx.last_insert_rowid());
                            counts.added += 1;
                        }
                    }
                }
            }
        }
        self.counts.push(("Organization.csv".to_owned(), counts));

        Ok(())
    }
}
