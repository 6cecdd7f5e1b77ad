//! `scanline-server bed ...`: the beds of a night-by-night program and the holds on them
//! (DESIGN §16), from the command line. Each write runs in one IMMEDIATE transaction with its
//! audit event, so a bad argument leaves the database exactly as it was. The rules (names,
//! nights, how long a hold lasts) are the store's, the same the Beds page meets.

use rusqlite::Connection;
use scanline_core::domain::ProgramRules;

use super::args::BedCmd;
use crate::db::Local;
use crate::store::audit::{self, Actor};
use crate::store::beds::{self, NewBed};
use crate::store::{ProgramId, StoreError, clients, programs};

/// The night-by-night program a command names, by id or name.
fn program(tx: &Connection, id_or_name: &str) -> Result<ProgramRules, StoreError> {
    beds::bed_program(tx, programs::resolve(tx, None, id_or_name)?)
}

/// Runs `change` on the program in one transaction and records it in the audit log.
fn change<T>(
    db: &mut Local,
    id_or_name: &str,
    action: &str,
    change: impl FnOnce(&Connection, &ProgramRules) -> Result<(T, String), StoreError>,
) -> anyhow::Result<T> {
    Ok(db.transact(|tx| {
        let rules = program(tx, id_or_name)?;
        let (value, detail) = change(tx, &rules)?;
        audit::record(tx, Actor::Cli, action, None, &format!("program {}", rules.id), &detail)?;
        Ok::<_, StoreError>(value)
    })?)
}

pub(super) fn run(db: &mut Local, cmd: BedCmd) -> anyhow::Result<()> {
    match cmd {
        BedCmd::Add { program, name, group, attributes } => {
            let bed = NewBed { name, group, attributes };
            let id = change(db, &program, "add_bed", |tx, p| {
                let id = beds::add(tx, ProgramId(p.id), &bed)?;
                Ok((id, format!("bed {id} {}", bed.name.trim())))
            })?;
            println!("bed {id}");
        }
        BedCmd::List { program: p } => {
            let list = db.read(|conn| beds::list(conn, program(conn, &p)?.id))?;
            for b in list {
                println!("{}\t{}\t{}\t{}", b.id, b.name, b.group, b.attributes.join(", "));
            }
        }
        BedCmd::Retire { program, bed } => {
            change(db, &program, "retire_bed", |tx, p| {
                beds::retire(tx, p.id, bed)?;
                Ok(((), format!("bed {bed}")))
            })?;
            println!("bed {bed} retired");
        }
        BedCmd::ReleaseTime { program, at } => {
            let minutes = match at.trim() {
                "none" | "" => None,
                t => Some(beds::parse_release_time(t)?),
            };
            change(db, &program, "bed_release_time", |tx, p| {
                beds::set_release_time(tx, ProgramId(p.id), minutes)?;
                Ok(((), release_words(minutes)))
            })?;
            println!("program {program}: {}", release_words(minutes));
        }
        BedCmd::Hold { program, bed, client, first, last } => {
            let last = last.unwrap_or(first);
            let id = change(db, &program, "hold_bed", |tx, p| {
                let guest = match client {
                    Some(n) => {
                        let id = clients::resolve(tx, &format!("#{n}"))?;
                        Some(clients::get_visible(tx, &[p.organization_id], id)?.id)
                    }
                    None => None,
                };
                let id = beds::hold(tx, p.id, bed, guest, (first, last), None)?;
                Ok((id, format!("hold {id}: bed {bed} from {first} to {last}")))
            })?;
            println!("hold {id}");
        }
        BedCmd::HoldAll { program, night } => {
            let n = change(db, &program, "hold_all_beds", |tx, p| {
                let n = beds::hold_all_empty(tx, p, night, None)?;
                Ok((n, format!("{n} beds on {night}")))
            })?;
            println!("{n} beds held on {night}");
        }
        BedCmd::Release { program, hold } => {
            change(db, &program, "release_hold", |tx, p| {
                beds::release(tx, p.id, hold, None)?;
                Ok(((), format!("hold {hold}")))
            })?;
            println!("hold {hold} released");
        }
        BedCmd::ReleaseAll { program, night } => {
            let n = change(db, &program, "release_all_holds", |tx, p| {
                let n = beds::release_all(tx, p.id, night, None)?;
                Ok((n, format!("{n} holds on {night}")))
            })?;
            println!("{n} holds released on {night}");
        }
    }
    Ok(())
}

/// A release time in words: "beds held until 21:00", "no beds held for returning guests".
fn release_words(minutes: Option<u16>) -> String {
    match minutes {
        Some(m) => format!("returning guests' beds held until {}", beds::clock_text(m)),
        None => "no beds held for returning guests".to_owned(),
    }
}
