//! `scanline-server hmis ...`: import an HMIS CSV export (with a progress bar), export HUD CSV,
//! export non-HUD services for ClientTrack or as plain CSV, and edit the service-code mapping.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use clap::Subcommand;

use super::services::{self, Layout};
use super::{Files, export, read};
use crate::db::Local;
use crate::store::hmis::ImportOptions;
use crate::store::hmis::settings;

#[derive(Debug, Subcommand)]
pub enum HmisCmd {
    /// Import an HMIS CSV export (a folder or a zip archive). All or nothing: any error leaves
    /// the database as it was. Exits with status 1 when the import was refused.
    Import {
        path: PathBuf,
        /// IANA time zone the HMIS writes its times in (DateCreated, DateUpdated), also given
        /// to organizations the import creates.
        #[arg(long, default_value = "America/Los_Angeles")]
        time_zone: String,
        /// Write every error and warning to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Act only inside this organization (by id): records of others are errors, never
        /// changed. Without it the import may touch and create any organization.
        #[arg(long)]
        org: Option<i64>,
    },
    /// Export HUD services (FY2026 HMIS CSV) with the records they reference.
    Export {
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        /// Programs to export (by id); every program when none is given.
        #[arg(long = "program")]
        programs: Vec<i64>,
        /// Hash names and SSNs (HUD HashStatus 4).
        #[arg(long)]
        hashed: bool,
        /// A .zip file, or a folder for the CSV files.
        #[arg(long)]
        out: PathBuf,
    },
    /// Export services with no HUD code: `clienttrack` (batch upload layout) or `plain`.
    Services {
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        #[arg(long = "program")]
        programs: Vec<i64>,
        #[arg(long, default_value = "clienttrack")]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Set a service type's HMIS service code and unit of measure (C, D, M or H).
    Map {
        #[arg(long)]
        service_type: i64,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "C")]
        unit: String,
    },
}

/// A progress bar on standard error, redrawn in place.
fn progress_bar() -> impl FnMut(&str, u64, u64) {
    let mut last = (String::new(), 0u64);
    move |file: &str, done: u64, total: u64| {
        let width = 30u64;
        let filled = (done * width).checked_div(total).unwrap_or(width);
        if last.0 != file || filled != last.1 || done == total {
            let bar: String = (0..width).map(|i| if i < filled { '#' } else { '.' }).collect();
            let mut err = std::io::stderr();
            let _ = write!(err, "\r{file:<17} [{bar}] {done}/{total}");
            if done == total {
                let _ = writeln!(err);
            }
            last = (file.to_owned(), filled);
        }
    }
}

/// Runs one `hmis` command on the database.
pub fn run(db: &mut Local, cmd: HmisCmd) -> anyhow::Result<()> {
    match cmd {
        HmisCmd::Import { path, time_zone, report, org } => {
            import(db, &path, time_zone, report.as_deref(), org)
        }
        HmisCmd::Export { from, to, programs, hashed, out } => {
            export(db, from, to, programs, hashed, &out)
        }
        HmisCmd::Services { from, to, programs, format, out } => {
            services_file(db, from, to, &programs, &format, &out)
        }
        HmisCmd::Map { service_type, code, unit } => {
            db.transact(|tx| settings::map_service_type(tx, service_type, &code, &unit))?;
            println!("service type {service_type} maps to HMIS service code {code:?} ({unit})");
            Ok(())
        }
    }
}

fn import(
    db: &mut Local,
    path: &Path,
    time_zone: String,
    report: Option<&Path>,
    org: Option<i64>,
) -> anyhow::Result<()> {
    let files = Files::open(path).map_err(anyhow::Error::msg)?;
    if files.is_empty() {
        bail!("{} holds no CSV files", path.display());
    }
    let zone = crate::store::orgs::parse_time_zone(&time_zone)?;
    let parsed = read::read(&files, chrono::Utc::now().with_timezone(&zone).date_naive());
    if let Some(org) = org {
        db.read(|conn| crate::store::orgs::get(conn, org))
            .with_context(|| format!("--org {org}: no such organization"))?;
    }
    let opts = ImportOptions { time_zone, scope: org.map(|o| vec![o]) };
    let mut bar = progress_bar();
    let r = super::report_of(db.transact(|tx| super::import(tx, &parsed, &opts, &mut bar)))?;
    if let Some(file) = report {
        std::fs::write(file, r.issues_csv())
            .with_context(|| format!("writing {}", file.display()))?;
    }
    for (file, c) in &r.counts {
        println!(
            "{file:<17} read {:>7}  added {:>7}  updated {:>7}  unchanged {:>7}  deleted {:>5}  skipped {:>5}",
            c.read, c.added, c.updated, c.unchanged, c.deleted, c.skipped
        );
    }
    for w in r.warnings.iter().take(20) {
        println!("warning: {w}");
    }
    if r.warnings.len() > 20 {
        println!("... and {} more warnings", r.warnings.len() - 20);
    }
    if r.applied {
        println!("imported, with {} warnings", r.warnings.len());
        return Ok(());
    }
    for e in r.errors.iter().take(50) {
        eprintln!("error: {e}");
    }
    if r.errors.len() > 50 {
        eprintln!("... and {} more errors", r.errors.len() - 50);
    }
    eprintln!("nothing was imported: {} errors", r.errors.len());
    std::process::exit(1);
}

fn export(
    db: &mut Local,
    from: NaiveDate,
    to: NaiveDate,
    programs: Vec<i64>,
    hashed: bool,
    out: &Path,
) -> anyhow::Result<()> {
    scanline_core::bounds::period("export period", from, to)?;
    let exported = db.snapshot(|conn| {
        let organizations = crate::store::orgs::all_ids(conn)?;
        let opts = export::ExportOptions {
            start: from,
            end: to,
            programs,
            organizations,
            hashed,
            time_zone: None,
        };
        export::export(conn, &opts, crate::store::now())
    })?;
    write_export(&exported, out)?;
    println!("exported {} services to {}", exported.services, out.display());
    Ok(())
}

fn services_file(
    db: &mut Local,
    from: NaiveDate,
    to: NaiveDate,
    programs: &[i64],
    format: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let layout =
        Layout::parse(format).with_context(|| format!("{format:?} is not clienttrack or plain"))?;
    scanline_core::bounds::period("period", from, to)?;
    let file = db.snapshot(|conn| {
        let organizations = crate::store::orgs::all_ids(conn)?;
        services::export(conn, layout, &organizations, programs, from, to)
    })?;
    std::fs::write(out, &file.csv).with_context(|| format!("writing {}", out.display()))?;
    println!("exported {} services to {}", file.rows, out.display());
    for (id, number, date, reason) in &file.skipped {
        eprintln!("left out service {id} (client {number}, {date}): {reason}");
    }
    Ok(())
}

fn write_export(exported: &export::Exported, out: &Path) -> anyhow::Result<()> {
    if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        std::fs::write(out, exported.zip()?)
            .with_context(|| format!("writing {}", out.display()))?;
    } else {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        for (name, bytes) in &exported.files {
            std::fs::write(out.join(name), bytes)
                .with_context(|| format!("writing {}", out.join(name).display()))?;
        }
    }
    Ok(())
}
