//! `scanline-server demo`: a whole agency in an empty directory. One organization, a meal
//! program with a Meal service, a night-by-night shelter with Bed Night and twenty beds in two
//! dorms, 500 synthetic clients with cards and enrollments (most with made-up HMIS client and
//! enrollment IDs), a few bars, one registered station whose token is written to a file, and an
//! admin user; then it serves.
//!
//! Every name is made up from short lists; no real person is described.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use scanline_core::domain::{BarScope, EnrollmentPolicy, LimitPolicy};

use crate::db::{self, Db, immediate};
use crate::store::{
    StoreError, bars, cards, clients, enrollments, orgs, programs, services, stations, today_in,
    users,
};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for the demo database and its secrets (created if missing).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// How many synthetic clients to make.
    #[arg(long, default_value_t = 500)]
    pub clients: u32,
    /// Create the data and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// File names inside the demo directory.
pub const DB_FILE: &str = "scanline-demo.db";
pub const TOKEN_FILE: &str = "station.token";
pub const ADMIN_PASSWORD_FILE: &str = "admin.password";
/// One card code per line with what it should scan as, for trying a station by hand.
pub const CARDS_FILE: &str = "demo-cards.txt";

const FIRST: &[&str] = &[
    "Ana", "Ben", "Carla", "Dario", "Elena", "Femi", "Grace", "Hugo", "Ines", "Jamal", "Keiko",
    "Luis", "Mara", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tess", "Umar", "Vera",
    "Wen", "Ximena", "Yusuf", "Zoe", "Amara", "Bodhi", "Chiara", "Dmitri", "Esme", "Farid",
];
const LAST: &[&str] = &[
    "Alder",
    "Brook",
    "Castell",
    "Dunmore",
    "Ellery",
    "Fairweather",
    "Galvan",
    "Hollis",
    "Ibarra",
    "Jessup",
    "Kestrel",
    "Lindqvist",
    "Marlow",
    "Navarro",
    "Oakes",
    "Pemberton",
    "Quill",
    "Rowan",
    "Sorrel",
    "Thackery",
    "Underhill",
    "Valdivia",
    "Whitlock",
    "Yardley",
];

/// What the demo made, for printing and for tests.
#[derive(Debug)]
pub struct Demo {
    pub organization_id: i64,
    pub meals_program: i64,
    pub meal_type: i64,
    pub shelter_program: i64,
    pub bed_type: i64,
    pub station_id: i64,
    pub token: String,
    pub admin_password: String,
    /// (code, what it should scan as at the meal line).
    pub sample_cards: Vec<(String, &'static str)>,
}

/// Fills an empty database with the demo agency. Deterministic for a given seed.
pub fn populate(conn: &mut Connection, clients_wanted: u32, seed: u64) -> Result<Demo, StoreError> {
    let mut rng = StdRng::seed_from_u64(seed);
    immediate(conn, |tx| {
        let org = orgs::insert(tx, "Harbor Light Community Services", "America/Los_Angeles")?;
        orgs::set_contact(tx, org, "(555) 010-0199", "100 Example Way, Springfield")?;
        let tz = orgs::time_zone(tx, org)?;
        let today = today_in(tz);
        let meals = programs::insert(tx, &programs::NewProgram::meal_line(org, "Community Meals"))?;
        let meal = programs::insert_service_type(
            tx,
            &programs::NewServiceType {
                hmis_service_code: Some("101".into()),
                ..programs::NewServiceType::simple(meals.0, "Meal")
            },
        )?;
        let shelter = programs::insert(
            tx,
            &programs::NewProgram {
                organization_id: org,
                name: "Night Shelter".into(),
                project_type: 1,
                capacity: Some(SHELTER_BEDS),
                capacity_policy: LimitPolicy::Enforce,
                cutover_hour: 12,
                enrollment_policy: EnrollmentPolicy::AutoEnroll,
                auto_exit_after_nights: Some(3),
            },
        )?;
        let bed = programs::insert_service_type(
            tx,
            &programs::NewServiceType {
                record_type: Some(200),
                type_provided: Some(200),
                ..programs::NewServiceType::simple(shelter.0, "Bed Night")
            },
        )?;

        add_beds(tx, shelter)?;
        let tonight = scanline_core::night::night_of(
            scanline_core::night::local_time(chrono::Utc::now(), &tz),
            12,
        );
        let mut to_reserve = Vec::new();

        let admin_password = random_password(&mut rng);
        let admin =
            users::insert(tx, "admin", "Demo Admin", &admin_password, org, users::Role::Admin)?;
        let mut samples = Vec::new();
        let mut shelter_guests = 0;
        for i in 0..clients_wanted {
            let (mut first, mut last) =
                (FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
            // The kiosk's no-card lookup gives "mar g" as its example: it finds someone here.
            if i == 0 {
                (first, last) = ("Mara", "Galvan");
            }
            let dob = NaiveDate::from_ymd_opt(
                rng.random_range(1950..2006),
                rng.random_range(1..=12),
                rng.random_range(1..=28),
            )
            .expect("day 1 to 28 exists in every month");
            let (client, _) = clients::insert(
                tx,
                &clients::NewClient {
                    organization_id: org,
                    first_name: first.into(),
                    last_name: last.into(),
                    dob: Some(dob),
                    restricted: i % 97 == 0,
                    ..clients::NewClient::default()
                },
            )?;
            let (_, mut code) = cards::issue_scanline(tx, client.0, None)?;
            // Every 25th client lost a card and got a reprint: the old code scans as replaced.
            if i % 25 == 3 {
                samples.push((code.clone(), "replaced_card"));
                code = cards::issue_scanline(tx, client.0, None)?.1;
            }
            // Most clients are in the agency's HMIS already and carry its client ID; every
            // twentieth is new here, and the HMIS page lists them as waiting for one.
            let in_hmis = i % 20 != 11;
            if in_hmis {
                clients::set_hmis_id(tx, client, Some(&(300_000 + i).to_string()))?;
            }
            let roll = rng.random_range(0..100);
            let entry = today - Days::new(rng.random_range(1..200));
            if roll < 88 {
                let enrollment = enrollments::insert(
                    tx,
                    &enrollments::NewEnrollment {
                        client_id: client.0,
                        program_id: meals.0,
                        entry_date: entry,
                        household_id: None,
                        relationship_to_hoh: 1,
                    },
                )?;
                if in_hmis && i % 30 != 17 {
                    let hmis = (700_000 + i).to_string();
                    enrollments::set_hmis_id(tx, enrollment, Some(&hmis))?;
                }
                if samples.len() < 40 {
                    samples.push((code.clone(), "accepted"));
                }
            } else if samples.iter().filter(|s| s.1 == "no_open_enrollment").count() < 5 {
                samples.push((code.clone(), "no_open_enrollment"));
            }
            if roll % 3 != 0 && to_reserve.len() < 2 && i % 97 != 0 {
                to_reserve.push(client);
            }
            if roll % 3 == 0 && shelter_guests < SHELTER_BEDS {
                // Shelter guests came three nights ago and slept there the first two nights
                // (older stays would have been auto-exited for want of bed nights), each given
                // a bed; most came back last night too, so their beds are held for them
                // tonight until the release time. The night now under way, whichever side of
                // the cutover it is, has no bed night yet.
                shelter_guests += 1;
                let entry = today - Days::new(3);
                let enrollment = enrollments::insert(
                    tx,
                    &enrollments::NewEnrollment {
                        client_id: client.0,
                        program_id: shelter.0,
                        entry_date: entry,
                        household_id: None,
                        relationship_to_hoh: 1,
                    },
                )?;
                let mut nights = vec![entry, entry + Days::new(1)];
                let last_night = tonight - Days::new(1);
                if shelter_guests <= SHELTER_BEDS * 3 / 5 && !nights.contains(&last_night) {
                    nights.push(last_night);
                }
                for night in nights {
                    let bed_night = services::NewService {
                        client_id: client.0,
                        enrollment_id: enrollment,
                        service_type_id: bed,
                        date: night,
                        units: 1.0,
                        user_id: admin,
                    };
                    services::add(tx, &bed_night, chrono::Utc::now())?;
                }
            }
            if i % 83 == 41 {
                bars::insert(
                    tx,
                    client.0,
                    BarScope::Organization(org),
                    today - Days::new(3),
                    today + Days::new(27),
                    "Demo bar: behaviour agreement",
                    None,
                )?;
                samples.push((code.clone(), "barred"));
            }
        }
        // Two guests have a bed reserved for tonight and tomorrow night, at the end of Dorm B.
        let beds = crate::store::beds::list(tx, shelter.0)?;
        for (client, bed) in to_reserve.into_iter().zip(beds.iter().rev()) {
            let nights = (tonight, tonight + Days::new(1));
            crate::store::beds::hold(tx, shelter.0, bed.id, Some(client), nights, Some(admin))?;
        }
        samples.push(("8800099999901".to_owned() + "0", "misread"));
        samples.push(("LEGACY-4455".to_owned(), "unknown_card"));

        let (station, token) = stations::insert(tx, org, "Meal line 1", &[meals.0, shelter.0])?;
        Ok(Demo {
            organization_id: org,
            meals_program: meals.0,
            meal_type: meal,
            shelter_program: shelter.0,
            bed_type: bed,
            station_id: station,
            token,
            admin_password,
            sample_cards: samples,
        })
    })
}

/// Beds of the demo shelter: two dorms of ten.
const SHELTER_BEDS: u32 = 20;

/// The shelter's beds (Dorm A for anyone, Dorm B for women), with a few attributes, and its
/// release time: a returning guest's bed is held for them until 21:00.
fn add_beds(tx: &Connection, shelter: crate::store::ProgramId) -> Result<(), StoreError> {
    for (dorm, letter, always) in [("Dorm A", 'A', ""), ("Dorm B", 'B', "women only")] {
        for n in 1..=SHELTER_BEDS / 2 {
            let mut attributes: Vec<&str> = Vec::new();
            if n % 2 == 1 {
                attributes.push("bottom bunk");
            }
            if n == SHELTER_BEDS / 2 {
                attributes.push("accessible");
            }
            if !always.is_empty() {
                attributes.push(always);
            }
            let bed = crate::store::beds::NewBed {
                name: format!("{letter}{n}"),
                group: dorm.to_owned(),
                attributes: attributes.join(", "),
            };
            crate::store::beds::add(tx, shelter, &bed)?;
        }
    }
    crate::store::beds::set_release_time(tx, shelter, Some(21 * 60))
}

fn random_password(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Creates the demo database in `dir` unless it is there already; returns its path.
pub fn ensure(dir: &Path, clients: u32) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db_path = dir.join(DB_FILE);
    if db_path.exists() {
        println!("using the existing demo database {}", db_path.display());
    } else {
        create(dir, &db_path, clients)?;
    }
    Ok(db_path)
}

/// Creates the demo in `args.dir` (when it has no demo database yet) and serves it.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let db_path = ensure(&args.dir, args.clients)?;
    if args.no_serve {
        return Ok(());
    }
    let _hold = db::Hold::take(&db_path, "serving it again")?;
    let db = Db::open(&db_path)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!(
            "station API: http://{addr}/api/v1/  (OpenAPI: http://{addr}/api/v1/openapi.json)"
        );
        crate::serve::serve(db, listener).await
    })
}

fn create(dir: &Path, db_path: &Path, clients_wanted: u32) -> anyhow::Result<()> {
    for f in [TOKEN_FILE, ADMIN_PASSWORD_FILE] {
        if dir.join(f).exists() {
            bail!(
                "{} exists without a demo database; use an empty directory",
                dir.join(f).display()
            );
        }
    }
    // Build in a temporary file and rename it into place, so an interrupted demo leaves no
    // half-made database behind.
    let tmp = dir.join(format!("{DB_FILE}.partial"));
    let _ = std::fs::remove_file(&tmp);
    let mut conn = db::open_and_migrate(&tmp)?;
    let demo = populate(&mut conn, clients_wanted, 2026)?;
    db::checkpoint(&conn)?;
    drop(conn);
    let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}.partial-wal")));
    let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}.partial-shm")));
    crate::secret_file::write_secret(&dir.join(TOKEN_FILE), &demo.token)?;
    crate::secret_file::write_secret(&dir.join(ADMIN_PASSWORD_FILE), &demo.admin_password)?;
    let mut cards = String::new();
    for (code, what) in &demo.sample_cards {
        cards.push_str(code);
        cards.push('\t');
        cards.push_str(what);
        cards.push('\n');
    }
    std::fs::write(dir.join(CARDS_FILE), cards)?;
    std::fs::rename(&tmp, db_path)?;
    println!(
        "demo agency created in {}: {clients_wanted} synthetic clients, station token in {}, \
         admin password in {}, sample cards in {}",
        dir.display(),
        TOKEN_FILE,
        ADMIN_PASSWORD_FILE,
        CARDS_FILE
    );
    Ok(())
}
