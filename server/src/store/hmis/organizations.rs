//! Organization.csv: organizations found again by HMIS ID (or Scanline's `SL-O` ID, or by name
//! when not yet linked), updated when newer, created only by an unrestricted import; each
//! keeps the row as received.

use rusqlite::{OptionalExtension, params};

use super::{Counts, Kind, NOT_ADMINISTERED, Run, StoreError, find, newer, sql_err, tick};
use crate::hmis::model::OrganizationRow;
use crate::hmis::model::kept::{OrganizationOwned, Owned as _};

fn owned(o: &OrganizationRow) -> String {
    OrganizationOwned { id: o.id.clone(), name: o.name.clone() }.fingerprint()
}

impl<'a> Run<'a> {
    pub(super) fn organizations(&mut self) -> Result<(), StoreError> {
        let p = self.p;
        let mut counts = Counts { read: p.organizations.len() as u64, ..Counts::default() };
        for (i, o) in p.organizations.iter().enumerate() {
            tick(&mut self.progress, "Organization.csv", i, p.organizations.len());
            self.organization(o, &mut counts)?;
        }
        self.counts.push(("Organization.csv".to_owned(), counts));
        Ok(())
    }

    fn organization(
        &mut self,
        o: &'a OrganizationRow,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let existing = find(self.tx, "organizations", "hmis_organization_id", "SL-O", &o.id)?;
        if let Some((id, _)) = existing
            && !self.opts.allows(id)
        {
            self.refuse(
                Kind::Organization,
                &o.id,
                &o.common,
                ("OrganizationID", &o.id, NOT_ADMINISTERED),
            );
            return Ok(());
        }
        match (existing, o.common.deleted) {
            (Some((id, _)), Some(_)) => {
                self.org_ids.insert(&o.id, id);
                let reason =
                    "deleted in the HMIS: the organization is kept, with its programs and clients";
                self.cx.warn(&o.common, "DateDeleted", "", reason);
                counts.skipped += 1;
            }
            (None, Some(_)) => counts.skipped += 1,
            (Some((id, stored)), None) => {
                self.org_ids.insert(&o.id, id);
                if !newer(o.common.updated, stored) {
                    counts.unchanged += 1;
                    return Ok(());
                }
                let r = self
                    .tx
                    .prepare_cached(
                        "UPDATE organizations SET name = ?, hmis_updated_at = ?, hmis_kept = ?,
                                hmis_owned = ? WHERE id = ?",
                    )?
                    .execute(params![o.name, o.common.updated, o.common.kept.0, owned(o), id]);
                match r {
                    Ok(_) => counts.updated += 1,
                    Err(e) if crate::store::is_unique_violation(&e) => {
                        let reason = "another organization already has this name";
                        self.refuse(
                            Kind::Organization,
                            &o.id,
                            &o.common,
                            ("OrganizationName", &o.name, reason),
                        );
                    }
                    Err(e) => return Err(sql_err(e)),
                }
            }
            (None, None) => self.new_organization(o, counts)?,
        }
        Ok(())
    }

    /// An organization the HMIS names that Scanline does not know by its ID: linked by name,
    /// or made.
    fn new_organization(
        &mut self,
        o: &'a OrganizationRow,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let tx = self.tx;
        let by_name: Option<(i64, Option<String>)> = tx
            .prepare_cached("SELECT id, hmis_organization_id FROM organizations WHERE name = ?")?
            .query_row([&o.name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let refuse = |run: &mut Self, column: &str, value: &str, reason: &str| {
            run.refuse(Kind::Organization, &o.id, &o.common, (column, value, reason));
        };
        match by_name {
            Some((id, None)) if !self.opts.allows(id) => {
                refuse(self, "OrganizationName", &o.name, NOT_ADMINISTERED);
            }
            Some((id, None)) => {
                tx.prepare_cached(
                    "UPDATE organizations SET hmis_organization_id = ?, hmis_updated_at = ?,
                            hmis_kept = ?, hmis_owned = ? WHERE id = ?",
                )?
                .execute(params![
                    o.id,
                    o.common.updated,
                    o.common.kept.0,
                    owned(o),
                    id
                ])?;
                self.org_ids.insert(&o.id, id);
                counts.updated += 1;
            }
            Some((_, Some(other))) => {
                let reason = format!("already the name of HMIS organization {other}");
                refuse(self, "OrganizationName", &o.name, &reason);
            }
            None if self.opts.scope.is_some() => refuse(
                self,
                "OrganizationID",
                &o.id,
                "no organization you administer has this HMIS organization ID or name: set the \
                 organization's HMIS organization ID on this page first",
            ),
            None => {
                tx.prepare_cached(
                    "INSERT INTO organizations (name, time_zone, hmis_organization_id,
                            hmis_updated_at, hmis_kept, hmis_owned, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    o.name,
                    self.tz.name(),
                    o.id,
                    o.common.updated,
                    o.common.kept.0,
                    owned(o),
                    self.utc(o.common.created)
                ])?;
                self.org_ids.insert(&o.id, tx.last_insert_rowid());
                counts.added += 1;
            }
        }
        Ok(())
    }
}
