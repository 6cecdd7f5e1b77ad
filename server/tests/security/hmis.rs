//! The HMIS upload is a door into every record it names. An organization's admin once renamed
//! another organization, moved its program, overwrote a restricted client's name, date of
//! birth and SSN, and deleted another of its clients with one zip; and a 2.8 MB zip inflated
//! to 1.7 GB before it failed. Now an admin's import acts only inside their own
//! organizations, and an archive's uncompressed size and members are capped.

use std::io::Write as _;

use axum::http::StatusCode;

use crate::harness::{self, Harness};
use crate::{changes_nothing, changes_nothing_but_the_audit, signed_in};
use scanline_server::hmis::{self, Files, read};
use scanline_server::store::hmis::ImportOptions;
use scanline_server::store::{clients, users::Role};

const EXPORT: &str = "ExportID,SourceType,SourceID,SourceName,SourceContactFirst,SourceContactLast,SourceContactPhone,SourceContactExtension,SourceContactEmail,ExportDate,ExportStartDate,ExportEndDate,SoftwareName,SoftwareVersion,CSVVersion,ExportPeriodType,ExportDirective,HashStatus,ImplementationID
EXP9,1,,Forged,,,,,,2026-11-01 09:00:00,2026-01-01,2026-10-31,Forged,1.0,2026 v1.0,3,2,1,X
";
const ORG_HEAD: &str = "OrganizationID,OrganizationName,VictimServiceProvider,OrganizationCommonName,DateCreated,DateUpdated,UserID,DateDeleted,ExportID";
const PROJECT_HEAD: &str = "ProjectID,OrganizationID,ProjectName,ProjectCommonName,OperatingStartDate,OperatingEndDate,ContinuumProject,ProjectType,HousingType,RRHSubType,ResidentialAffiliation,TargetPopulation,HOPWAMedAssistedLivingFac,PITCount,DateCreated,DateUpdated,UserID,DateDeleted,ExportID";
const CLIENT_HEAD: &str = "PersonalID,FirstName,MiddleName,LastName,NameSuffix,NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,Sex,AmIndAKNative,Asian,BlackAfAmerican,HispanicLatinao,MidEastNAfrican,NativeHIPacific,White,RaceNone,AdditionalRaceEthnicity,VeteranStatus,DateCreated,DateUpdated,UserID,DateDeleted,ExportID";

/// A zip of `(name, content)` files, in a folder as HMIS exports come.
pub(crate) fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in files {
        w.start_file(format!("export/{name}"), zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Organization B's records as an attacker in organization A names them: Scanline's own
/// export IDs, which the importer recognises.
struct Targets {
    restricted: i64,
    restricted_number: u32,
    other_number: u32,
}

fn b_clients(h: &Harness) -> Targets {
    let conn = h.conn();
    let new = |first: &str, restricted| clients::NewClient {
        organization_id: h.org_b,
        first_name: first.into(),
        last_name: "Southland".into(),
        dob: Some(harness::d("1970-05-06")),
        ssn: Some("987654321".into()),
        restricted,
        ..clients::NewClient::default()
    };
    let (restricted, restricted_number) = clients::insert(&conn, &new("Rhea", true)).unwrap();
    let (_, other_number) = clients::insert(&conn, &new("Omar", false)).unwrap();
    Targets { restricted: restricted.0, restricted_number, other_number }
}

fn takeover(h: &Harness, t: &Targets) -> Vec<u8> {
    let at = "2030-01-01 00:00:00";
    let org = format!("{ORG_HEAD}\nSL-O{},Taken Over,0,,{at},{at},U1,,EXP9\n", h.org_b);
    let project = format!(
        "{PROJECT_HEAD}\nSL-P{},SL-O{},Moved,,2020-01-01,,1,6,,,,,,,{at},{at},U1,,EXP9\n",
        h.meals_b, h.org_a
    );
    let client = format!(
        "{CLIENT_HEAD}\nSL{},Mallory,,Owned,,1,111223333,1,2001-01-01,1,0,0,0,0,0,0,0,1,,,0,{at},{at},U1,,EXP9\n\
         SL{},Omar,,Southland,,1,987654321,1,1970-05-06,1,0,0,0,0,0,0,0,1,,,0,{at},{at},U1,{at},EXP9\n",
        t.restricted_number, t.other_number
    );
    zip(&[
        ("Export.csv", EXPORT.as_bytes()),
        ("Organization.csv", org.as_bytes()),
        ("Project.csv", project.as_bytes()),
        ("Client.csv", client.as_bytes()),
    ])
}

async fn upload(h: &Harness, cookie: &str, zip: &[u8]) -> harness::web::Page {
    let csrf = harness::web::csrf_of(&harness::web::get(h, "/admin/hmis", cookie).await.body);
    harness::web::upload(h, "/admin/hmis/import", cookie, &csrf, "file", "export.zip", zip).await
}

#[tokio::test]
async fn an_admin_cannot_take_over_another_organization_through_the_hmis_upload() {
    let h = Harness::new();
    let t = b_clients(&h);
    let admin = signed_in(&h, "north-admin", h.org_a, Role::Admin).await;
    let forged = takeover(&h, &t);
    changes_nothing_but_the_audit(&h, async {
        let p = upload(&h, &admin, &forged).await;
        assert!(p.body.contains("Nothing was imported"), "{}", p.body);
        for place in [
            format!("<td>OrganizationID</td><td>SL-O{}</td><td>not an organization you administer", h.org_b),
            format!("<td>ProjectID</td><td>SL-P{}</td><td>the program belongs to an organization you do not administer", h.meals_b),
            format!("<td>PersonalID</td><td>SL{}</td><td>the client belongs to an organization you do not administer", t.restricted_number),
            // A client B shares with everyone: its deletion is not done, and said so.
            format!("<td>PersonalID</td><td>SL{}</td><td>another organization&#39;s client", t.other_number),
        ] {
            assert!(p.body.contains(&place), "{place} is an error: {}", p.body);
        }
        // The report never shows the restricted client's stored name.
        assert!(!p.body.contains("Rhea"), "{}", p.body);
    })
    .await;
    assert_eq!(h.count("SELECT COUNT(*) FROM audit_events WHERE action = 'hmis_import' AND subject LIKE 'applied false%'"), 1);
    let stored: (String, String) = h
        .conn()
        .query_row("SELECT first_name, ssn FROM clients WHERE id = ?", [t.restricted], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(stored, ("Rhea".to_owned(), "987654321".to_owned()));
    assert_eq!(
        h.count(&format!("SELECT COUNT(*) FROM clients WHERE client_number = {}", t.other_number)),
        1
    );

    // The operator's command line, told to act for organization A, refuses the same file.
    let files = Files::from_zip(&forged).unwrap();
    let parsed = read::read(&files, harness::d(harness::TODAY));
    let opts = ImportOptions { time_zone: "America/Chicago".into(), scope: Some(vec![h.org_a]) };
    changes_nothing(&h, async {
        let mut conn = h.conn();
        let report = hmis::import_now(&mut conn, &parsed, &opts, &mut |_, _, _| {}).unwrap();
        assert!(!report.applied && report.errors.len() >= 3, "{:?}", report.errors);
    })
    .await;
}

#[tokio::test]
async fn a_shared_client_is_never_overwritten_by_another_organizations_file() {
    let h = Harness::new();
    let t = b_clients(&h);
    let at = "2030-01-01 00:00:00";
    // Organization A's own export lists B's shared client (as HMIS exports list every client
    // an enrollment names): imported, with the client left as B recorded them.
    let client = format!(
        "{CLIENT_HEAD}\nSL{},Changed,,Name,,1,111223333,1,2001-01-01,1,0,0,0,0,0,0,0,1,,,0,{at},{at},U1,,EXP9\n",
        t.other_number
    );
    let files = Files::from_zip(&zip(&[
        ("Export.csv", EXPORT.as_bytes()),
        ("Client.csv", client.as_bytes()),
    ]))
    .unwrap();
    let parsed = read::read(&files, harness::d(harness::TODAY));
    let opts = ImportOptions { time_zone: "America/Chicago".into(), scope: Some(vec![h.org_a]) };
    changes_nothing(&h, async {
        let mut conn = h.conn();
        let report = hmis::import_now(&mut conn, &parsed, &opts, &mut |_, _, _| {}).unwrap();
        assert!(report.applied, "{:?}", report.errors);
        assert!(report.warnings.iter().any(|w| w.reason.contains("another organization's client")));
    })
    .await;
}

#[tokio::test]
async fn a_zip_bomb_is_refused_before_it_fills_memory() {
    let h = Harness::new();
    let admin = signed_in(&h, "north-admin", h.org_a, Role::Admin).await;
    // 600 MB of one byte: a few hundred kilobytes compressed; as a file read whole and as
    // Services.csv, which is read row by row and measured as it is opened.
    let bomb = |name: &str| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file(format!("export/{name}"), zip::write::SimpleFileOptions::default()).unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..600 {
            w.write_all(&block).unwrap();
        }
        let bomb = w.finish().unwrap().into_inner();
        assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
        bomb
    };
    let bombs = [bomb("Client.csv"), bomb("Services.csv")];
    // An archive of thousands of members.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..300 {
        w.start_file(format!("f{i}.csv"), zip::write::SimpleFileOptions::default()).unwrap();
    }
    let many = w.finish().unwrap().into_inner();
    changes_nothing(&h, async {
        for bomb in &bombs {
            let p = upload(&h, &admin, bomb).await;
            assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
            assert!(p.body.contains("more than 512 MB of CSV files"), "{}", p.body);
        }
        let p = upload(&h, &admin, &many).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.body.contains("holds 300 files"), "{}", p.body);
    })
    .await;
    // Files the importer does not read are not read at all.
    let files = Files::from_zip(&zip(&[
        ("Export.csv", EXPORT.as_bytes()),
        ("Funder.csv", b"huge"),
        ("notes.txt", b"x"),
    ]))
    .unwrap();
    assert!(files.get("Export.csv").is_some() && files.get("Funder.csv").is_none());
}
