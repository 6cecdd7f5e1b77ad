//! Project.csv: projects become programs of their organization, found again by HMIS ID (or
//! `SL-P`, or by name), updated when newer; each keeps the row as received.

use rusqlite::{OptionalExtension, params};

use super::{
    Counts, Kind, NOT_ADMINISTERED, OUTSIDE, Run, StoreError, find, newer, program_org, sql_err,
    tick,
};
use crate::hmis::model::ProjectRow;
use crate::hmis::model::kept::{Owned as _, ProjectOwned};

fn owned(p: &ProjectRow) -> String {
    ProjectOwned {
        id: p.id.clone(),
        organization_id: p.organization_id.clone(),
        name: p.name.clone(),
        project_type: p.project_type,
    }
    .fingerprint()
}

impl<'a> Run<'a> {
    pub(super) fn projects(&mut self) -> Result<(), StoreError> {
        let p = self.p;
        let mut counts = Counts { read: p.projects.len() as u64, ..Counts::default() };
        for (i, pr) in p.projects.iter().enumerate() {
            tick(&mut self.progress, "Project.csv", i, p.projects.len());
            self.project(pr, &mut counts)?;
        }
        self.counts.push(("Project.csv".to_owned(), counts));
        Ok(())
    }

    fn project(&mut self, pr: &'a ProjectRow, counts: &mut Counts) -> Result<(), StoreError> {
        let tx = self.tx;
        let org = match self.org_ids.get(pr.organization_id.as_str()) {
            Some(id) => Some(*id),
            None => find(tx, "organizations", "hmis_organization_id", "SL-O", &pr.organization_id)?
                .map(|(id, _)| id),
        };
        let existing = find(tx, "programs", "hmis_project_id", "SL-P", &pr.id)?;
        if let Some((id, _)) = existing
            && !self.opts.allows(program_org(tx, id)?)
        {
            let reason = format!("the program {OUTSIDE}");
            self.refuse(Kind::Project, &pr.id, &pr.common, ("ProjectID", &pr.id, &reason));
            return Ok(());
        }
        if let Some(org) = org
            && !self.opts.allows(org)
        {
            let column = ("OrganizationID", pr.organization_id.as_str(), NOT_ADMINISTERED);
            self.refuse(Kind::Project, &pr.id, &pr.common, column);
            return Ok(());
        }
        if pr.common.deleted.is_some() {
            if let Some((id, _)) = existing {
                self.program_ids.insert(&pr.id, (id, pr.project_type));
                let reason =
                    "deleted in the HMIS: the program is kept, with its enrollments and services";
                self.cx.warn(&pr.common, "DateDeleted", "", reason);
            }
            counts.skipped += 1;
            return Ok(());
        }
        let Some(org) = org else {
            if let Some(root) = self.root(Kind::Organization, &pr.organization_id) {
                self.depend(Some(Kind::Project), &pr.id, &pr.common, "OrganizationID", &root);
            } else {
                let reason = "no such organization in Organization.csv or in Scanline";
                let column = ("OrganizationID", pr.organization_id.as_str(), reason);
                self.refuse(Kind::Project, &pr.id, &pr.common, column);
            }
            return Ok(());
        };
        match existing {
            Some((id, stored)) => self.update_project(pr, (id, stored), org, counts),
            None => self.new_project(pr, org, counts),
        }
    }

    fn update_project(
        &mut self,
        pr: &'a ProjectRow,
        (id, stored): (i64, Option<chrono::NaiveDateTime>),
        org: i64,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        self.program_ids.insert(&pr.id, (id, pr.project_type));
        if !newer(pr.common.updated, stored) {
            counts.unchanged += 1;
            return Ok(());
        }
        let r = self
            .tx
            .prepare_cached(
                "UPDATE programs SET name = ?, project_type = ?, organization_id = ?,
                        hmis_updated_at = ?, hmis_kept = ?, hmis_owned = ? WHERE id = ?",
            )?
            .execute(params![
                pr.name,
                pr.project_type,
                org,
                pr.common.updated,
                pr.common.kept.0,
                owned(pr),
                id
            ]);
        match r {
            Ok(_) => counts.updated += 1,
            Err(e) if crate::store::is_unique_violation(&e) => {
                let reason = "another program of the organization already has this name";
                self.refuse(Kind::Project, &pr.id, &pr.common, ("ProjectName", &pr.name, reason));
            }
            Err(e) => return Err(sql_err(e)),
        }
        Ok(())
    }

    /// A project Scanline does not know by its ID: linked to the organization's program of
    /// the same name, or made.
    fn new_project(
        &mut self,
        pr: &'a ProjectRow,
        org: i64,
        counts: &mut Counts,
    ) -> Result<(), StoreError> {
        let tx = self.tx;
        let by_name: Option<(i64, Option<String>)> = tx
            .prepare_cached(
                "SELECT id, hmis_project_id FROM programs WHERE organization_id = ? AND name = ?",
            )?
            .query_row(params![org, pr.name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match by_name {
            Some((id, None)) => {
                tx.prepare_cached(
                    "UPDATE programs SET hmis_project_id = ?, project_type = ?, hmis_updated_at = ?,
                            hmis_kept = ?, hmis_owned = ? WHERE id = ?",
                )?
                .execute(params![
                    pr.id,
                    pr.project_type,
                    pr.common.updated,
                    pr.common.kept.0,
                    owned(pr),
                    id
                ])?;
                self.program_ids.insert(&pr.id, (id, pr.project_type));
                counts.updated += 1;
            }
            Some((_, Some(other))) => {
                let reason = format!("already the name of HMIS project {other}");
                self.refuse(Kind::Project, &pr.id, &pr.common, ("ProjectName", &pr.name, &reason));
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO programs (organization_id, name, project_type, hmis_project_id,
                            hmis_updated_at, hmis_kept, hmis_owned, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![
                    org,
                    pr.name,
                    pr.project_type,
                    pr.id,
                    pr.common.updated,
                    pr.common.kept.0,
                    owned(pr),
                    self.utc(pr.common.created)
                ])?;
                self.program_ids.insert(&pr.id, (tx.last_insert_rowid(), pr.project_type));
                counts.added += 1;
            }
        }
        Ok(())
    }
}
