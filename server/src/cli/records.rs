//! The commands that add and change the records of DESIGN §3 (organizations, programs,
//! service types, clients, enrollments, exits, cards, bars, stations, users): one function a
//! command group, each write in one IMMEDIATE transaction, so a bad argument leaves the
//! database exactly as it was.

use anyhow::{Context as _, bail};
use scanline_core::domain::FrequencyLimit;

use super::args::{
    BarCmd, CardCmd, ClientCmd, EnrollArgs, ExitArgs, OrgCmd, ProgramCmd, ServiceTypeCmd,
    StationCmd, UserCmd,
};
use crate::db::Local;
use crate::store::{
    StoreError, bars, cards, clients, enrollments, orgs, programs, stations, users,
};

pub(super) fn org(db: &mut Local, cmd: OrgCmd) -> anyhow::Result<()> {
    let OrgCmd::Add { name, time_zone } = cmd;
    let id = db.transact(|tx| orgs::insert(tx, &name, &time_zone))?;
    println!("organization {id}");
    Ok(())
}

pub(super) fn program(db: &mut Local, cmd: ProgramCmd) -> anyhow::Result<()> {
    match cmd {
        ProgramCmd::SafetyAlerts { program, stop } => {
            db.transact(|tx| {
                let id = programs::resolve(tx, None, &program)?;
                programs::set_safety_alerts_stop(tx, id, stop)
            })?;
            let what = if stop { "stop the scan for staff" } else { "are only shown" };
            println!("program {program}: safety alerts {what}");
        }
        ProgramCmd::Add {
            org,
            name,
            project_type,
            capacity,
            capacity_policy,
            cutover_hour,
            enrollment_policy,
            auto_exit_after,
        } => {
            let id = db.transact(|tx| {
                let organization_id = orgs::resolve(tx, &org)?;
                programs::insert(
                    tx,
                    &programs::NewProgram {
                        organization_id,
                        name,
                        project_type,
                        capacity,
                        capacity_policy,
                        cutover_hour,
                        enrollment_policy,
                        auto_exit_after_nights: auto_exit_after,
                    },
                )
            })?;
            println!("program {id}");
        }
    }
    Ok(())
}

pub(super) fn service_type(db: &mut Local, cmd: ServiceTypeCmd) -> anyhow::Result<()> {
    let ServiceTypeCmd::Add {
        program,
        name,
        record_type,
        type_provided,
        units,
        unit_value,
        max_per_day,
        frequency,
        frequency_policy,
        hmis_code,
    } = cmd;
    let id = db.transact(|tx| {
        let program_id = programs::resolve(tx, None, &program)?;
        programs::insert_service_type(
            tx,
            &programs::NewServiceType {
                program_id: program_id.0,
                name,
                record_type,
                type_provided,
                default_units: units,
                unit_value,
                max_per_day,
                frequency: frequency.map(|(max, days)| FrequencyLimit {
                    max,
                    days,
                    policy: frequency_policy,
                }),
                hmis_service_code: hmis_code,
            },
        )
    })?;
    println!("service type {id}");
    Ok(())
}

pub(super) fn client(db: &mut Local, cmd: ClientCmd) -> anyhow::Result<()> {
    let ClientCmd::Add { org, first, last, preferred, dob, ssn, number, restricted, with_card } =
        cmd;
    let (id, number, card) = db.transact(|tx| {
        let organization_id = orgs::resolve(tx, &org)?;
        let (id, number) = clients::insert(
            tx,
            &clients::NewClient {
                organization_id,
                client_number: number,
                personal_id: None,
                first_name: first,
                last_name: last,
                preferred_name: preferred,
                dob,
                ssn: ssn.map(|s| s.replace('-', "")),
                restricted,
            },
        )?;
        let card = if with_card { Some(cards::issue_scanline(tx, id.0, None)?.1) } else { None };
        Ok::<_, StoreError>((id, number, card))
    })?;
    println!("client {id} number {number}");
    if let Some(code) = card {
        println!("card {code}");
    }
    Ok(())
}

pub(super) fn enroll(db: &mut Local, a: EnrollArgs) -> anyhow::Result<()> {
    let id = db.transact(|tx| {
        let client_id = clients::resolve(tx, &a.client)?;
        let program_id = programs::resolve(tx, None, &a.program)?;
        enrollments::insert(
            tx,
            &enrollments::NewEnrollment {
                client_id: client_id.0,
                program_id: program_id.0,
                entry_date: a.entry_date,
                household_id: a.household,
                relationship_to_hoh: a.relationship,
            },
        )
    })?;
    println!("enrollment {id}");
    Ok(())
}

pub(super) fn exit(db: &mut Local, a: &ExitArgs) -> anyhow::Result<()> {
    db.transact(|tx| enrollments::exit(tx, a.enrollment, a.date, a.destination))?;
    println!("enrollment {} exited on {}", a.enrollment, a.date);
    Ok(())
}

pub(super) fn card(db: &mut Local, cmd: CardCmd) -> anyhow::Result<()> {
    match cmd {
        CardCmd::Issue { client, expires } => {
            let (id, code) = db.transact(|tx| {
                let client_id = clients::resolve(tx, &client)?;
                cards::issue_scanline(tx, client_id.0, expires)
            })?;
            println!("card {id} code {code}");
        }
        CardCmd::Add { client, kind, code, expires } => {
            let kind = cards::CardKind::parse(&kind)
                .filter(|k| *k != cards::CardKind::Scanline)
                .with_context(|| format!("{kind:?} is not legacy, magstripe or prox"))?;
            let id = db.transact(|tx| {
                let client_id = clients::resolve(tx, &client)?;
                cards::add_code(tx, client_id.0, kind, &code, expires)
            })?;
            println!("card {id}");
        }
        CardCmd::Revoke { code, reason } => {
            db.transact(|tx| {
                let id = cards::id_of(tx, &code)?;
                cards::revoke(tx, id, &reason)
            })?;
            println!("card revoked");
        }
        CardCmd::Render { code, out, bitmap } => super::ops::render_card(db, &code, &out, &bitmap)?,
    }
    Ok(())
}

pub(super) fn bar(db: &mut Local, cmd: BarCmd) -> anyhow::Result<()> {
    match cmd {
        BarCmd::Add { client, scope, begin, end, reason } => {
            let id = db.transact(|tx| {
                let client_id = clients::resolve(tx, &client)?;
                bars::insert(tx, client_id.0, scope, begin, end, &reason, None)
            })?;
            println!("bar {id}");
        }
        BarCmd::End { bar, last_day } => {
            db.transact(|tx| bars::end_early(tx, bar, last_day))?;
            println!("bar {bar} now ends on {last_day}");
        }
    }
    Ok(())
}

pub(super) fn station(db: &mut Local, cmd: StationCmd) -> anyhow::Result<()> {
    match cmd {
        StationCmd::Add { org, name, programs: progs, token_file } => {
            if let Some(f) = &token_file
                && f.exists()
            {
                bail!("{} exists; the token is written to a new file only", f.display());
            }
            // The token is written before the transaction commits: if writing it fails, the
            // station is not registered.
            db.transact(|tx| {
                let organization_id = orgs::resolve(tx, &org)?;
                let ids = progs
                    .iter()
                    .map(|p| programs::resolve(tx, Some(organization_id), p))
                    .collect::<Result<Vec<_>, _>>()?;
                let ids: Vec<i64> = ids.iter().map(|p| p.0).collect();
                let (id, token) = stations::insert(tx, organization_id, &name, &ids)?;
                match &token_file {
                    Some(f) => {
                        crate::secret_file::write_secret(f, &token)?;
                        println!("station {id}; token written to {}", f.display());
                    }
                    None => println!("station {id}\ntoken {token}\n(shown once: keep it now)"),
                }
                Ok::<_, anyhow::Error>(())
            })?;
        }
        StationCmd::Revoke { id } => {
            db.transact(|tx| stations::revoke(tx, id))?;
            println!("station {id} revoked");
        }
        StationCmd::List => {
            for s in db.read(stations::list)? {
                println!(
                    "{}\t{}\torg {}\t{}\tlast seen {}",
                    s.id,
                    s.name,
                    s.organization_id,
                    if s.revoked { "revoked" } else { "active" },
                    s.last_seen_at.as_deref().unwrap_or("never")
                );
            }
        }
    }
    Ok(())
}

pub(super) fn user(db: &mut Local, cmd: UserCmd) -> anyhow::Result<()> {
    let UserCmd::Add { username, name, org, role, password_file } = cmd;
    let role = users::Role::parse(&role)
        .with_context(|| format!("{role:?} is not admin, staff or viewer"))?;
    let password = match password_file {
        Some(f) => std::fs::read_to_string(&f)
            .with_context(|| format!("reading {}", f.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        None => std::env::var("SCANLINE_PASSWORD")
            .context("give --password-file or set SCANLINE_PASSWORD")?,
    };
    let id = db.transact(|tx| {
        let organization_id = orgs::resolve(tx, &org)?;
        users::insert(tx, &username, &name, &password, organization_id, role)
    })?;
    println!("user {id}");
    Ok(())
}
