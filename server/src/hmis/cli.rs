//! `scanline-server hmis ...`: import an HMIS CSV export (with a progress bar), export HUD CSV,
//! export non-HUD services for ClientTrack or as plain CSV, and edit the service-code mapping.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use rusqlite::Connection;

use super::services::{self, Layout};
use super::{Files, export, read};
use crate::store::hmis::ImportOptions;

#[derive(Debug, Subcommand)]
pub enum HmisCmd {
    /// Import an HMIS CSV export (a folder or a zip archive). All or nothing: any error leaves
    /// the database as it was. Exits with status 1 when the import was refused.
    Import {
        path: PathBuf,
        /// IANA time zone of organizations the import creates.
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

fn all_orgs(conn: &Connection) -> anyhow::Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM organizations ORDER BY id")?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

pub fn run(conn: &mut Connection, cmd: HmisCmd) -> anyhow::Result<()> {
    match cmd {
        HmisCmd::Import { path, time_zone, report, org } => {
            let files = Files::open(&path).map_err(anyhow::Error::msg)?;
            if files.is_empty() {
                bail!("{} holds no CSV files", path.display());
            }
            let parsed = read::read(&files);
            if let Some(org) = org {
                crate::store::orgs::get(conn, org)
                    .with_context(|| format!("--org {org}: no such organization"))?;
            }
            let opts = ImportOptions { time_zone, scope: org.map(|o| vec![o]) };
            let mut bar = progress_bar();
            let r = super::import_now(conn, &parsed, &opts, &mut bar)?;
            if let Some(file) = report {
                std::fs::write(&file, r.issues_csv())
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
                Ok(())
            } else {
                for e in r.errors.iter().take(50) {
                    eprintln!("error: {e}");
                }
                if r.errors.len() > 50 {
                    eprintln!("... and {} more errors", r.errors.len() - 50);
                }
                eprintln!("nothing was imported: {} errors", r.errors.len());
                std::process::exit(1);
            }
        }
        HmisCmd::Export { from, to, programs, hashed, out } => {
            if to < from {
                bail!("--to is before --from");
            }
            let organizations = all_orgs(conn)?;
            let tx = conn.transaction()?;
            let opts =
                export::ExportOptions { start: from, end: to, programs, organizations, hashed };
            let exported = export::export(&tx, &opts, crate::store::now())?;
            drop(tx);
            write_export(&exported, &out)?;
            println!("exported {} services to {}", exported.services, out.display());
            Ok(())
        }
        HmisCmd::Services { from, to, programs, format, out } => {
            let layout = Layout::parse(&format)
                .with_context(|| format!("{format:?} is not clienttrack or plain"))?;
            let organizations = all_orgs(conn)?;
            let file = services::export(conn, layout, &organizations, &programs, from, to)?;
            std::fs::write(&out, &file.csv)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("exported {} services to {}", file.rows, out.display());
            for (id, number, date, reason) in &file.skipped {
                eprintln!("left out service {id} (client {number}, {date}): {reason}");
            }
            Ok(())
        }
        HmisCmd::Map { service_type, code, unit } => {
            services::map_service_type(conn, service_type, &code, &unit)?;
            println!("service type {service_type} maps to HMIS service code {code:?} ({unit})");
            Ok(())
        }
    }
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
