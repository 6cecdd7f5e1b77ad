//! Project.csv: projects become programs of their organization, found again by HMIS ID (or `SL-P`, or by name), updated when newer.

use rusqlite::{OptionalExtension, params};

use super::{
    Counts, NOT_ADMINISTERED, OUTSIDE, Run, StoreError, find, newer, program_org, sql_err, tick,
};

impl Run<'_> {
    pub(super) fn projects(&mut self) -> Result<(), StoreError> {
        let (tx, p, opts, at, _tz) = (self.tx, self.p, self.opts, self.at, self.tz);
        let mut counts = Counts { read: p.projects.len() as u64, ..Counts::default() };
        for (i, pr) in p.projects.iter().enumerate() {
            tick(&mut self.progress, "Project.csv", i, p.projects.len());
            let org = match self.org_ids.get(pr.organization_id.as_str()) {
                Some(id) => Some(*id),
                None => {
                    find(tx, "organizations", "hmis_organization_id", "SL-O", &pr.organization_id)?
                        .map(|(id, _)| id)
                }
            };
            let existing = find(tx, "programs", "hmis_project_id", "SL-P", &pr.id)?;
            if let Some((id, _)) = existing
                && !opts.allows(program_org(tx, id)?)
            {
                self.cx.error(&pr.common, "ProjectID", &pr.id, &format!("the program {OUTSIDE}"));
                continue;
            }
            if let Some(org) = org
                && !opts.allows(org)
            {
                self.cx.error(&pr.common, "OrganizationID", &pr.organization_id, NOT_ADMINISTERED);
                continue;
            }
            if pr.common.deleted.is_some() {
                if let Some((id, _)) = existing {
                    self.program_ids.insert(&pr.id, (id, pr.project_type));
                    self.cx.warn(
                    &pr.common,
                    "DateDeleted",
                    "",
                    "deleted in the HMIS: the program is kept, with its enrollments and services",
                );
                }
                counts.skipped += 1;
                continue;
            }
            let Some(org) = org else {
                self.cx.error(
                    &pr.common,
                    "OrganizationID",
                    &pr.organization_id,
                    "no such organization in Organization.csv or in Scanline",
                );
                continue;
            };
            match existing {
                Some((id, stored)) => {
                    self.program_ids.insert(&pr.id, (id, pr.project_type));
                    if newer(pr.common.updated, stored) {
                        let r = tx
                        .prepare_cached("UPDATE programs SET name = ?, project_type = ?, organization_id = ?, hmis_updated_at = ? WHERE id = ?")?
                        .execute(params![pr.name, pr.project_type, org, pr.common.updated, id]);
                        match r {
                            Ok(_) => counts.updated += 1,
                            Err(e) if crate::store::is_unique_violation(&e) => self.cx.error(
                                &pr.common,
                                "ProjectName",
                                &pr.name,
                                "another program of the organization already has this name",
                            ),
                            Err(e) => return Err(sql_err(e)),
                        }
                    } else {
                        counts.unchanged += 1;
                    }
                }
                None => {
                    let by_name: Option<(i64, Option<String>)> = tx
                    .prepare_cached("SELECT id, hmis_project_id FROM programs WHERE organization_id = ? AND name = ?")?
                    .query_row(params![org, pr.name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                    match by_name {
                        Some((id, None)) => {
                            tx.prepare_cached("UPDATE programs SET hmis_project_id = ?, project_type = ?, hmis_updated_at = ? WHERE id = ?")?
                            .execute(params![pr.id, pr.project_type, pr.common.updated, id])?;
                            self.program_ids.insert(&pr.id, (id, pr.project_type));
                            counts.updated += 1;
                        }
                        Some((_, Some(other))) => self.cx.error(
                            &pr.common,
                            "ProjectName",
                            &pr.name,
                            &format!("already the name of HMIS project {other}"),
                        ),
                        None => {
                            tx.prepare_cached(
                            "INSERT INTO programs (organization_id, name, project_type, hmis_project_id, hmis_updated_at, created_at)
                             VALUES (?, ?, ?, ?, ?, ?)",
                        )?
                        .execute(params![org, pr.name, pr.project_type, pr.id, pr.common.updated, at])?;
                            self.program_ids
                                .insert(&pr.id, (tx.last_insert_rowid(), pr.project_type));
                            counts.added += 1;
                        }
                    }
                }
            }
        }
        self.counts.push(("Project.csv".to_owned(), counts));

        Ok(())
    }
}
