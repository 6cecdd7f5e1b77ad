//! Applying an HMIS CSV import inside one transaction: records are found by their HMIS IDs,
//! the newer DateUpdated wins, DateDeleted is honoured, references are checked against the
//! export and the database, and data-quality findings are collected. Any error fails the whole
//! import (the caller rolls back); nothing here commits.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, now};
use crate::hmis::read::{Common, Parsed};
use crate::hmis::{Counts, Issue, codes};

/// Settings for records the HMIS does not describe.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// IANA time zone of organizations created by the import.
    pub time_zone: String,
    /// The organizations the import may act in: the organizations a signed-in admin
    /// administers, or the one the operator names on the command line. Records the file names
    /// outside them are errors, never updated or deleted; a client another organization
    /// shares is kept as that organization recorded it. `None`: the operator's unrestricted
    /// import, which may also create organizations.
    pub scope: Option<Vec<i64>>,
}

impl ImportOptions {
    fn allows(&self, org: i64) -> bool {
        self.scope.as_ref().is_none_or(|s| s.contains(&org))
    }
}

/// What a record found outside the import's organizations is told.
const OUTSIDE: &str =
    "belongs to an organization you do not administer: the import leaves it as it is";
/// What an organization outside the import's is told.
const NOT_ADMINISTERED: &str = "not an organization you administer: the import leaves it as it is";

/// What applying an import did and found. With any error the caller rolls it back.
#[derive(Debug, Default)]
pub struct Applied {
    pub counts: Vec<(String, Counts)>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

/// Reports progress: file, rows done, rows in the file.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

struct Ctx {
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

impl Ctx {
    fn error(&mut self, c: &Common, column: &str, value: &str, reason: &str) {
        self.errors.push(Issue {
            file: c.file.to_owned(),
            line: c.line,
            column: column.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        });
    }

    fn warn(&mut self, c: &Common, column: &str, value: &str, reason: &str) {
        self.warnings.push(Issue {
            file: c.file.to_owned(),
            line: c.line,
            column: column.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        });
    }
}

/// Whether the incoming row replaces what is stored: it is newer (or nothing was stored).
fn newer(incoming: NaiveDateTime, stored: Option<NaiveDateTime>) -> bool {
    stored.is_none_or(|s| incoming > s)
}

fn tick(progress: &mut Progress<'_>, file: &str, i: usize, total: usize) {
    if i.is_multiple_of(2000) || i + 1 == total {
        progress(file, i as u64 + 1, total as u64);
    }
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

/// Applies a read export: what it did, and the errors that make it fail and the warnings it
/// found. Nothing here commits or rolls back.
pub fn apply(
    tx: &Connection,
    p: &Parsed,
    opts: &ImportOptions,
    mut progress: Progress<'_>,
) -> Result<Applied, StoreError> {
    let tz = super::orgs::parse_time_zone(&opts.time_zone)?;
    let mut cx = Ctx { errors: Vec::new(), warnings: Vec::new() };
    let at = now();

    // Organizations.
    let mut counts = Counts { read: p.organizations.len() as u64, ..Counts::default() };
    let mut org_ids: HashMap<&str, i64> = HashMap::new();
    for (i, o) in p.organizations.iter().enumerate() {
        tick(&mut progress, "Organization.csv", i, p.organizations.len());
        let existing = find(tx, "organizations", "hmis_organization_id", "SL-O", &o.id)?;
        if let Some((id, _)) = existing
            && !opts.allows(id)
        {
            cx.error(&o.common, "OrganizationID", &o.id, NOT_ADMINISTERED);
            continue;
        }
        match (existing, o.common.deleted) {
            (Some((id, _)), Some(_)) => {
                org_ids.insert(&o.id, id);
                cx.warn(
                    &o.common,
                    "DateDeleted",
                    "",
                    "deleted in the HMIS: the organization is kept, with its programs and clients",
                );
                counts.skipped += 1;
            }
            (None, Some(_)) => counts.skipped += 1,
            (Some((id, stored)), None) => {
                org_ids.insert(&o.id, id);
                if newer(o.common.updated, stored) {
                    let r = tx
                        .prepare_cached(
                            "UPDATE organizations SET name = ?, hmis_updated_at = ? WHERE id = ?",
                        )?
                        .execute(params![o.name, o.common.updated, id]);
                    match r {
                        Ok(_) => counts.updated += 1,
                        Err(e) if super::is_unique_violation(&e) => cx.error(
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
                        cx.error(&o.common, "OrganizationName", &o.name, NOT_ADMINISTERED);
                    }
                    Some((id, None)) => {
                        tx.prepare_cached("UPDATE organizations SET hmis_organization_id = ?, hmis_updated_at = ? WHERE id = ?")?
                            .execute(params![o.id, o.common.updated, id])?;
                        org_ids.insert(&o.id, id);
                        counts.updated += 1;
                    }
                    Some((_, Some(other))) => cx.error(
                        &o.common,
                        "OrganizationName",
                        &o.name,
                        &format!("already the name of HMIS organization {other}"),
                    ),
                    None if opts.scope.is_some() => cx.error(
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
                        org_ids.insert(&o.id, tx.last_insert_rowid());
                        counts.added += 1;
                    }
                }
            }
        }
    }
    let mut all_counts = vec![("Organization.csv".to_owned(), counts)];

    // Projects become programs.
    let mut counts = Counts { read: p.projects.len() as u64, ..Counts::default() };
    let mut program_ids: HashMap<&str, (i64, i32)> = HashMap::new();
    for (i, pr) in p.projects.iter().enumerate() {
        tick(&mut progress, "Project.csv", i, p.projects.len());
        let org = match org_ids.get(pr.organization_id.as_str()) {
            Some(id) => Some(*id),
            None => find(tx, "organizations", "hmis_organization_id", "SL-O", &pr.organization_id)?
                .map(|(id, _)| id),
        };
        let existing = find(tx, "programs", "hmis_project_id", "SL-P", &pr.id)?;
        if let Some((id, _)) = existing
            && !opts.allows(program_org(tx, id)?)
        {
            cx.error(&pr.common, "ProjectID", &pr.id, &format!("the program {OUTSIDE}"));
            continue;
        }
        if let Some(org) = org
            && !opts.allows(org)
        {
            cx.error(&pr.common, "OrganizationID", &pr.organization_id, NOT_ADMINISTERED);
            continue;
        }
        if pr.common.deleted.is_some() {
            if let Some((id, _)) = existing {
                program_ids.insert(&pr.id, (id, pr.project_type));
                cx.warn(
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
            cx.error(
                &pr.common,
                "OrganizationID",
                &pr.organization_id,
                "no such organization in Organization.csv or in Scanline",
            );
            continue;
        };
        match existing {
            Some((id, stored)) => {
                program_ids.insert(&pr.id, (id, pr.project_type));
                if newer(pr.common.updated, stored) {
                    let r = tx
                        .prepare_cached("UPDATE programs SET name = ?, project_type = ?, organization_id = ?, hmis_updated_at = ? WHERE id = ?")?
                        .execute(params![pr.name, pr.project_type, org, pr.common.updated, id]);
                    match r {
                        Ok(_) => counts.updated += 1,
                        Err(e) if super::is_unique_violation(&e) => cx.error(
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
                        program_ids.insert(&pr.id, (id, pr.project_type));
                        counts.updated += 1;
                    }
                    Some((_, Some(other))) => cx.error(
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
                        program_ids.insert(&pr.id, (tx.last_insert_rowid(), pr.project_type));
                        counts.added += 1;
                    }
                }
            }
        }
    }
    all_counts.push(("Project.csv".to_owned(), counts));

    // Clients: a new client belongs to the organization of its earliest enrollment's program.
    let mut first_program: HashMap<&str, (NaiveDate, &str)> = HashMap::new();
    for e in &p.enrollments {
        let slot =
            first_program.entry(e.personal_id.as_str()).or_insert((e.entry_date, &e.project_id));
        if e.entry_date < slot.0 {
            *slot = (e.entry_date, &e.project_id);
        }
    }
    let fallback_org: Option<i64> = match (org_ids.values().min(), &opts.scope) {
        (Some(id), _) => Some(*id),
        (None, Some(scope)) => scope.iter().min().copied(),
        (None, None) => tx.query_row("SELECT MIN(id) FROM organizations", [], |r| r.get(0))?,
    };
    let mut next_number: i64 =
        tx.query_row("SELECT COALESCE(MAX(client_number), 0) + 1 FROM clients", [], |r| r.get(0))?;
    let mut counts = Counts { read: p.clients.len() as u64, ..Counts::default() };
    let mut client_ids: HashMap<&str, i64> = HashMap::with_capacity(p.clients.len());
    for (i, c) in p.clients.iter().enumerate() {
        tick(&mut progress, "Client.csv", i, p.clients.len());
        let existing = find_client(tx, &c.id)?;
        if let Some((id, _)) = existing {
            let (org, restricted) = client_org(tx, id)?;
            if !opts.allows(org) {
                if restricted {
                    cx.error(&c.common, "PersonalID", &c.id, &format!("the client {OUTSIDE}"));
                } else {
                    // Shared with every organization, recorded by another: theirs to change.
                    client_ids.insert(&c.id, id);
                    cx.warn(
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
                    client_ids.insert(&c.id, id);
                    cx.warn(&c.common, "DateDeleted", "", "deleted in the HMIS: kept, because Scanline has cards, services or bars for this client");
                    counts.skipped += 1;
                }
                None => counts.skipped += 1,
            }
            continue;
        }
        match existing {
            Some((id, stored)) => {
                client_ids.insert(&c.id, id);
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
                    .and_then(|(_, project)| program_ids.get(project).map(|(pid, _)| *pid))
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
                    cx.error(&c.common, "PersonalID", &c.id, "no organization to put the client in: the export has no Organization.csv and Scanline has none");
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
                client_ids.insert(&c.id, tx.last_insert_rowid());
                counts.added += 1;
            }
        }
    }
    all_counts.push(("Client.csv".to_owned(), counts));

    // Enrollments.
    let mut counts = Counts { read: p.enrollments.len() as u64, ..Counts::default() };
    // HMIS EnrollmentID -> (enrollment, client, program, project type, entry date, PersonalID).
    let mut enrollment_ids: HashMap<&str, EnrollmentRef> =
        HashMap::with_capacity(p.enrollments.len());
    for (i, e) in p.enrollments.iter().enumerate() {
        tick(&mut progress, "Enrollment.csv", i, p.enrollments.len());
        let existing = find(tx, "enrollments", "hmis_enrollment_id", "SL-E", &e.id)?;
        if let Some((id, _)) = existing
            && !opts.allows(enrollment_org(tx, id)?)
        {
            cx.error(&e.common, "EnrollmentID", &e.id, &format!("the enrollment {OUTSIDE}"));
            continue;
        }
        if e.common.deleted.is_some() {
            match existing {
                Some((id, _)) => {
                    let used: i64 = tx.query_row(
                        "SELECT COUNT(*) FROM services WHERE enrollment_id = ?",
                        [id],
                        |r| r.get(0),
                    )?;
                    if used == 0 {
                        tx.execute("DELETE FROM enrollments WHERE id = ?", [id])?;
                        counts.deleted += 1;
                    } else {
                        cx.warn(
                            &e.common,
                            "DateDeleted",
                            "",
                            &format!("deleted in the HMIS: kept, because it has {used} services"),
                        );
                        counts.skipped += 1;
                    }
                }
                None => counts.skipped += 1,
            }
            continue;
        }
        let client = match client_ids.get(e.personal_id.as_str()) {
            Some(id) => Some(*id),
            None => match find_client(tx, &e.personal_id)? {
                Some((id, _)) => {
                    let (org, restricted) = client_org(tx, id)?;
                    if restricted && !opts.allows(org) {
                        cx.error(
                            &e.common,
                            "PersonalID",
                            &e.personal_id,
                            &format!("the client {OUTSIDE}"),
                        );
                        continue;
                    }
                    Some(id)
                }
                None => None,
            },
        };
        let program = match program_ids.get(e.project_id.as_str()) {
            Some(v) => Some(*v),
            None => match find(tx, "programs", "hmis_project_id", "SL-P", &e.project_id)? {
                Some((id, _)) if !opts.allows(program_org(tx, id)?) => {
                    cx.error(
                        &e.common,
                        "ProjectID",
                        &e.project_id,
                        &format!("the program {OUTSIDE}"),
                    );
                    continue;
                }
                Some((id, _)) => Some((
                    id,
                    tx.query_row("SELECT project_type FROM programs WHERE id = ?", [id], |r| {
                        r.get(0)
                    })?,
                )),
                None => None,
            },
        };
        let (Some(client), Some((program, project_type))) = (client, program) else {
            if client.is_none() {
                cx.error(
                    &e.common,
                    "PersonalID",
                    &e.personal_id,
                    "no such client in Client.csv or in Scanline",
                );
            }
            if program.is_none() {
                cx.error(
                    &e.common,
                    "ProjectID",
                    &e.project_id,
                    "no such project in Project.csv or in Scanline",
                );
            }
            continue;
        };
        let id = match existing {
            Some((id, stored)) => {
                if newer(e.common.updated, stored) {
                    let r = tx
                        .prepare_cached(
                            "UPDATE enrollments SET client_id = ?, program_id = ?, household_id = ?,
                                    relationship_to_hoh = ?, entry_date = ?, hmis_updated_at = ?, updated_at = ?
                             WHERE id = ?",
                        )?
                        .execute(params![client, program, e.household_id, e.relationship, e.entry_date, e.common.updated, at, id]);
                    match r {
                        Ok(_) => counts.updated += 1,
                        Err(rusqlite::Error::SqliteFailure(f, _))
                            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            cx.error(
                                &e.common,
                                "EntryDate",
                                &e.entry_date.to_string(),
                                "after the enrollment's exit date",
                            );
                        }
                        Err(err) => return Err(sql_err(err)),
                    }
                } else {
                    counts.unchanged += 1;
                }
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO enrollments (client_id, program_id, household_id, relationship_to_hoh, entry_date,
                            hmis_enrollment_id, hmis_updated_at, created_at, updated_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )?
                .execute(params![client, program, e.household_id, e.relationship, e.entry_date, e.id, e.common.updated, e.common.created.and_utc(), at])?;
                counts.added += 1;
                tx.last_insert_rowid()
            }
        };
        enrollment_ids.insert(
            &e.id,
            EnrollmentRef {
                id,
                client,
                program,
                organization: program_org(tx, program)?,
                project_type,
                entry: e.entry_date,
                personal_id: e.personal_id.clone(),
            },
        );
    }
    all_counts.push(("Enrollment.csv".to_owned(), counts));

    // Exits close their enrollment.
    let mut counts = Counts { read: p.exits.len() as u64, ..Counts::default() };
    let mut exit_of: HashMap<&str, (u64, NaiveDate)> = HashMap::new();
    for (i, x) in p.exits.iter().enumerate() {
        tick(&mut progress, "Exit.csv", i, p.exits.len());
        let found = enrollment_ref(tx, &enrollment_ids, &x.enrollment_id)?;
        if let Some(en) = &found
            && !opts.allows(en.organization)
        {
            cx.error(
                &x.common,
                "EnrollmentID",
                &x.enrollment_id,
                &format!("the enrollment {OUTSIDE}"),
            );
            continue;
        }
        let Some(en) = found else {
            if x.common.deleted.is_none() {
                cx.error(
                    &x.common,
                    "EnrollmentID",
                    &x.enrollment_id,
                    "no such enrollment in Enrollment.csv or in Scanline",
                );
            } else {
                counts.skipped += 1;
            }
            continue;
        };
        if en.personal_id != x.personal_id {
            cx.error(
                &x.common,
                "PersonalID",
                &x.personal_id,
                &format!("the enrollment belongs to PersonalID {}", en.personal_id),
            );
            continue;
        }
        let stored: (Option<String>, Option<NaiveDateTime>) = tx
            .prepare_cached(
                "SELECT hmis_exit_id, hmis_exit_updated_at FROM enrollments WHERE id = ?",
            )?
            .query_row([en.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if x.common.deleted.is_some() {
            if stored.0.as_deref() == Some(x.id.as_str()) {
                tx.execute(
                    "UPDATE enrollments SET exit_date = NULL, destination = NULL, hmis_exit_id = NULL,
                            hmis_exit_updated_at = NULL, updated_at = ? WHERE id = ?",
                    params![at, en.id],
                )?;
                counts.deleted += 1;
            } else {
                counts.skipped += 1;
            }
            continue;
        }
        if let Some((line, _)) = exit_of.get(x.enrollment_id.as_str()) {
            let line = *line;
            cx.error(
                &x.common,
                "EnrollmentID",
                &x.enrollment_id,
                &format!("the enrollment already has an exit on line {line}"),
            );
            continue;
        }
        exit_of.insert(&x.enrollment_id, (x.common.line, x.exit_date));
        if x.exit_date < en.entry {
            cx.error(
                &x.common,
                "ExitDate",
                &x.exit_date.to_string(),
                &format!("before the entry date {}", en.entry),
            );
            continue;
        }
        if newer(x.common.updated, stored.1) {
            tx.prepare_cached(
                "UPDATE enrollments SET exit_date = ?, destination = ?, hmis_exit_id = ?,
                        hmis_exit_updated_at = ?, updated_at = ? WHERE id = ?",
            )?
            .execute(params![
                x.exit_date,
                x.destination,
                x.id,
                x.common.updated,
                at,
                en.id
            ])?;
            if stored.1.is_some() { counts.updated += 1 } else { counts.added += 1 }
        } else {
            counts.unchanged += 1;
        }
    }
    all_counts.push(("Exit.csv".to_owned(), counts));

    // Services.
    let mut counts = Counts { read: p.services.len() as u64, ..Counts::default() };
    let mut service_types: HashMap<(i64, i32, i32), i64> = HashMap::new();
    let mut bed_nights: HashMap<(i64, NaiveDate), (i64, u64)> = HashMap::new();
    for (i, s) in p.services.iter().enumerate() {
        tick(&mut progress, "Services.csv", i, p.services.len());
        let existing = find(tx, "services", "hmis_services_id", "SL-S", &s.id)?;
        if let Some((id, _)) = existing
            && !opts.allows(service_org(tx, id)?)
        {
            cx.error(&s.common, "ServicesID", &s.id, &format!("the service {OUTSIDE}"));
            continue;
        }
        if let Some(deleted) = s.common.deleted {
            match existing {
                Some((id, _)) => {
                    let n = tx.execute(
                        "UPDATE services SET deleted_at = ?, deleted_reason = 'deleted in the HMIS'
                         WHERE id = ? AND deleted_at IS NULL",
                        params![deleted.and_utc(), id],
                    )?;
                    if n > 0 { counts.deleted += 1 } else { counts.unchanged += 1 }
                }
                None => counts.skipped += 1,
            }
            continue;
        }
        let found = enrollment_ref(tx, &enrollment_ids, &s.enrollment_id)?;
        if let Some(en) = &found
            && !opts.allows(en.organization)
        {
            cx.error(
                &s.common,
                "EnrollmentID",
                &s.enrollment_id,
                &format!("the enrollment {OUTSIDE}"),
            );
            continue;
        }
        let Some(en) = found else {
            cx.error(
                &s.common,
                "EnrollmentID",
                &s.enrollment_id,
                "no such enrollment in Enrollment.csv or in Scanline",
            );
            continue;
        };
        if en.personal_id != s.personal_id {
            cx.error(
                &s.common,
                "PersonalID",
                &s.personal_id,
                &format!("the enrollment belongs to PersonalID {}", en.personal_id),
            );
            continue;
        }
        if s.record_type == 200 {
            if en.project_type != 1 {
                cx.warn(
                    &s.common,
                    "RecordType",
                    "200",
                    "a bed night in a program that is not a night-by-night shelter",
                );
            }
            let exit = exit_of.get(s.enrollment_id.as_str()).map(|(_, d)| *d);
            if s.date < en.entry || exit.is_some_and(|x| s.date >= x) {
                cx.warn(
                    &s.common,
                    "DateProvided",
                    &s.date.to_string(),
                    "a bed night outside its enrollment",
                );
            }
            if let Some((other, line)) = bed_nights.get(&(en.client, s.date))
                && *other != en.id
            {
                let line = *line;
                cx.warn(&s.common, "DateProvided", &s.date.to_string(), &format!("the same person has a bed night on the same night in another enrollment (line {line})"));
            }
            bed_nights.insert((en.client, s.date), (en.id, s.common.line));
        }
        let key = (en.program, s.record_type, s.type_provided);
        let service_type = match service_types.get(&key) {
            Some(id) => *id,
            None => {
                let id = service_type_for(tx, key)?;
                service_types.insert(key, id);
                id
            }
        };
        match existing {
            Some((id, stored)) => {
                if newer(s.common.updated, stored) {
                    tx.prepare_cached(
                        "UPDATE services SET enrollment_id = ?, client_id = ?, program_id = ?, service_type_id = ?,
                                date_provided = ?, hmis_updated_at = ? WHERE id = ?",
                    )?
                    .execute(params![en.id, en.client, en.program, service_type, s.date, s.common.updated, id])?;
                    counts.updated += 1;
                } else {
                    counts.unchanged += 1;
                }
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO services (enrollment_id, client_id, program_id, service_type_id, date_provided,
                            units, unit_value, created_at, hmis_services_id, hmis_updated_at)
                     VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?, ?)",
                )?
                .execute(params![en.id, en.client, en.program, service_type, s.date, s.common.created.and_utc(), s.id, s.common.updated])?;
                counts.added += 1;
            }
        }
    }
    all_counts.push(("Services.csv".to_owned(), counts));

    Ok(Applied { counts: all_counts, errors: cx.errors, warnings: cx.warnings })
}

/// A record by its HMIS ID, or by the `<prefix><id>` Scanline exports for a record the HMIS
/// never sent; with its stored DateUpdated.
fn find(
    tx: &Connection,
    table: &str,
    column: &str,
    prefix: &str,
    hmis_id: &str,
) -> Result<Option<(i64, Option<NaiveDateTime>)>, StoreError> {
    let found = tx
        .prepare_cached(&format!("SELECT id, hmis_updated_at FROM {table} WHERE {column} = ?"))?
        .query_row([hmis_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if found.is_some() {
        return Ok(found);
    }
    match hmis_id.strip_prefix(prefix).and_then(|n| n.parse::<i64>().ok()) {
        Some(id) => Ok(tx
            .prepare_cached(&format!(
                "SELECT id, hmis_updated_at FROM {table} WHERE id = ? AND {column} IS NULL"
            ))?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?),
        None => Ok(None),
    }
}

#[derive(Debug, Clone)]
struct EnrollmentRef {
    id: i64,
    client: i64,
    program: i64,
    /// The program's organization.
    organization: i64,
    project_type: i32,
    entry: NaiveDate,
    personal_id: String,
}

fn enrollment_ref(
    tx: &Connection,
    imported: &HashMap<&str, EnrollmentRef>,
    hmis_id: &str,
) -> Result<Option<EnrollmentRef>, StoreError> {
    if let Some(e) = imported.get(hmis_id) {
        return Ok(Some(e.clone()));
    }
    let Some((id, _)) = find(tx, "enrollments", "hmis_enrollment_id", "SL-E", hmis_id)? else {
        return Ok(None);
    };
    Ok(tx
        .prepare_cached(
            "SELECT e.id, e.client_id, e.program_id, p.project_type, e.entry_date,
                    COALESCE(c.personal_id, 'SL' || c.client_number), p.organization_id
             FROM enrollments e JOIN programs p ON p.id = e.program_id JOIN clients c ON c.id = e.client_id
             WHERE e.id = ?",
        )?
        .query_row([id], |r| {
            Ok(EnrollmentRef {
                id: r.get(0)?,
                client: r.get(1)?,
                program: r.get(2)?,
                project_type: r.get(3)?,
                entry: r.get(4)?,
                personal_id: r.get(5)?,
                organization: r.get(6)?,
            })
        })
        .optional()?)
}

/// The organization of a program.
fn program_org(tx: &Connection, program: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached("SELECT organization_id FROM programs WHERE id = ?")?
        .query_row([program], |r| r.get(0))?)
}

/// The organization of an enrollment's program.
fn enrollment_org(tx: &Connection, enrollment: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT p.organization_id FROM enrollments e JOIN programs p ON p.id = e.program_id
             WHERE e.id = ?",
        )?
        .query_row([enrollment], |r| r.get(0))?)
}

/// The organization of a service's program.
fn service_org(tx: &Connection, service: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT p.organization_id FROM services s JOIN programs p ON p.id = s.program_id
             WHERE s.id = ?",
        )?
        .query_row([service], |r| r.get(0))?)
}

/// A client's organization, and whether the client is restricted to it.
fn client_org(tx: &Connection, client: i64) -> Result<(i64, bool), StoreError> {
    Ok(tx
        .prepare_cached("SELECT organization_id, restricted FROM clients WHERE id = ?")?
        .query_row([client], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// A client by PersonalID; `SL<number>` is how Scanline exports a client the HMIS never sent.
fn find_client(
    tx: &Connection,
    personal_id: &str,
) -> Result<Option<(i64, Option<NaiveDateTime>)>, StoreError> {
    let found = tx
        .prepare_cached("SELECT id, hmis_updated_at FROM clients WHERE personal_id = ?")?
        .query_row([personal_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if found.is_some() {
        return Ok(found);
    }
    match personal_id.strip_prefix("SL").and_then(|n| n.parse::<i64>().ok()) {
        Some(number) => Ok(tx
            .prepare_cached("SELECT id, hmis_updated_at FROM clients WHERE client_number = ? AND personal_id IS NULL")?
            .query_row([number], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?),
        None => Ok(None),
    }
}

/// Deletes a client the HMIS deleted, when Scanline holds nothing of its own about them.
fn delete_client_if_unused(tx: &Connection, id: i64) -> Result<bool, StoreError> {
    let used: i64 = tx.query_row(
        "SELECT (SELECT COUNT(*) FROM services WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM batch_entries WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM cards WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM bars WHERE client_id = ?1)
              + (SELECT COUNT(*) FROM photos WHERE client_id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    if used > 0 {
        return Ok(false);
    }
    tx.execute("DELETE FROM enrollments WHERE client_id = ?", [id])?;
    tx.execute("DELETE FROM clients WHERE id = ?", [id])?;
    Ok(true)
}

/// The program's service type for a HUD RecordType and TypeProvided, made when missing.
fn service_type_for(
    tx: &Connection,
    (program, record_type, type_provided): (i64, i32, i32),
) -> Result<i64, StoreError> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM service_types WHERE program_id = ? AND record_type = ? AND type_provided = ? ORDER BY id LIMIT 1")?
        .query_row(params![program, record_type, type_provided], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let name = if record_type == 200 {
        "Bed Night".to_owned()
    } else {
        let rt = codes::RECORD_TYPE.describe(record_type).unwrap_or("HUD service");
        let tp = codes::type_provided_list(record_type)
            .and_then(|l| l.describe(type_provided))
            .unwrap_or("other");
        format!("{rt}: {tp}")
    };
    // A program may already use the name for a service of its own.
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM service_types WHERE program_id = ? AND name = ?)",
        params![program, name],
        |r| r.get(0),
    )?;
    let name = if taken { format!("{name} ({record_type}/{type_provided})") } else { name };
    tx.execute(
        "INSERT INTO service_types (program_id, name, record_type, type_provided, created_at) VALUES (?, ?, ?, ?, ?)",
        params![program, name, record_type, type_provided, now()],
    )?;
    Ok(tx.last_insert_rowid())
}
