//! The commands that look after the server itself: migrate, backup, restore, a self-signed
//! certificate, the auto-exit job by hand, and a card drawn to a file.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;

use crate::card::Delivery;
use crate::db::Local;
use crate::store::{bednights, cards};

pub(super) fn migrate(path: &Path) -> anyhow::Result<()> {
    let db = super::open(path)?;
    println!("schema version {}", db.schema_version()?);
    Ok(())
}

pub(super) fn backup(path: &Path, dest: &Path) -> anyhow::Result<()> {
    // Migrated (and refused when newer) before it is copied.
    drop(super::open(path)?);
    crate::backup::backup_file(path, dest)?;
    println!("backed up {} to {}", path.display(), dest.display());
    Ok(())
}

pub(super) fn restore(path: &Path, backup: &Path) -> anyhow::Result<()> {
    let kept = crate::backup::restore(backup, path, crate::store::now())?;
    println!("restored {} from {}", path.display(), backup.display());
    if let Some(kept) = kept {
        println!("the database it replaced is kept as {}", kept.display());
    }
    Ok(())
}

pub(super) fn self_signed(hosts: &[String], cert: &Path, key: &Path) -> anyhow::Result<()> {
    for f in [cert, key] {
        if f.exists() {
            bail!("{} exists; choose new files", f.display());
        }
    }
    let (cert_pem, key_pem, fingerprint) = crate::tls::self_signed(hosts)?;
    std::fs::write(cert, cert_pem).with_context(|| format!("writing {}", cert.display()))?;
    crate::secret_file::write_secret(key, &key_pem)?;
    let until = chrono::Utc::now() + chrono::Duration::days(crate::tls::SELF_SIGNED_DAYS);
    println!(
        "certificate {} for {}, valid until {} (renew before then: make new files and move \
         them over these; the server reloads them)",
        cert.display(),
        hosts.join(", "),
        until.format("%Y-%m-%d")
    );
    println!("key {} (readable by its owner only)", key.display());
    println!("fingerprint SHA-256 {fingerprint}");
    Ok(())
}

pub(super) fn auto_exit(db: &mut Local, night: Option<NaiveDate>) -> anyhow::Result<()> {
    let exits = db.transact(|tx| bednights::auto_exit(tx, night))?;
    for e in &exits {
        println!("exited enrollment {} on {}", e.enrollment_id, e.exit_date);
    }
    println!("{} enrollment(s) exited", exits.len());
    Ok(())
}

/// Parses `WIDTHxHEIGHT@DPI`.
fn parse_bitmap(s: &str) -> anyhow::Result<crate::card::Geometry> {
    let (size, dpi) = s.split_once('@').context("the bitmap is WIDTHxHEIGHT@DPI")?;
    let (w, h) = size.split_once('x').context("the bitmap is WIDTHxHEIGHT@DPI")?;
    let n = |v: &str| v.trim().parse::<u32>().context("the bitmap is WIDTHxHEIGHT@DPI");
    Ok(crate::card::Geometry::new(n(w)?, n(h)?, n(dpi)?)?)
}

pub(super) fn render_card(
    db: &mut Local,
    code: &str,
    out: &Path,
    bitmap: &str,
) -> anyhow::Result<()> {
    let g = parse_bitmap(bitmap)?;
    let (_, content) = db.transact(|tx| {
        let id = cards::id_of(tx, code)?;
        crate::store::printers::card_content(tx, id)
    })?;
    let cards = [content];
    let one = |d| crate::card::assemble(g, &cards, true, d).map(|mut f| f.remove(0));
    match out.extension().and_then(|e| e.to_str()) {
        Some("pdf") => {
            std::fs::write(out, one(Delivery::Pdf)?)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
        }
        Some("png") => {
            let stem = out.with_extension("");
            for (side, bytes) in
                [("front", one(Delivery::FrontPng)?), ("back", one(Delivery::BackPng)?)]
            {
                let path = PathBuf::from(format!("{}-{side}.png", stem.display()));
                std::fs::write(&path, bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
        _ => anyhow::bail!("--out must end in .png or .pdf"),
    }
    Ok(())
}
