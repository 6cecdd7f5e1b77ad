//! An HMIS round trip loses and invents nothing (DESIGN §12.3): a synthetic export in which
//! every column of every file Scanline imports holds a value the HMIS chose is imported and
//! exported again, and every column of every exported row equals the source, apart from the
//! ExportID and what Scanline itself changed in between. The same for an FY2024 export
//! exported as FY2026.

mod harness;

use std::collections::BTreeMap;

use rusqlite::Connection;
use scanline_server::db;
use scanline_server::hmis::export::{ExportOptions, Exported, export};
use scanline_server::hmis::model::records::{
    ClientRecord, EnrollmentRecord, ExitRecord, ExportRecord, OrganizationRecord, ProjectRecord,
    ServicesRecord, UserRecord, columns,
};
use scanline_server::hmis::{self, Files, read};
use scanline_server::store::hmis::ImportOptions;

type Row = BTreeMap<String, String>;

/// Every row of every file, by file: (primary key column, rows). Values chosen as an HMIS
/// would hold them, none of them what Scanline would write by default.
fn source() -> Vec<(&'static str, &'static str, Vec<Row>)> {
    let row = |pairs: &[(&str, &str)]| -> Row {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let stamps = |created: &str, updated: &str, user: &str| {
        vec![
            ("DateCreated", created.to_owned()),
            ("DateUpdated", updated.to_owned()),
            ("UserID", user.to_owned()),
        ]
    };
    let with = |mut base: Row, extra: Vec<(&str, String)>| {
        for (k, v) in extra {
            base.insert(k.to_owned(), v);
        }
        base.insert("ExportID".into(), "FULL1".into());
        base
    };
    let organizations = vec![with(
        row(&[
            ("OrganizationID", "ORG-7"),
            ("OrganizationName", "Harbor Light Services"),
            ("VictimServiceProvider", "1"),
            ("OrganizationCommonName", "Harbor Light"),
        ]),
        stamps("2019-03-04 08:15:00", "2025-06-30 17:45:10", "HU-2"),
    )];
    let project = |id: &str, name: &str, kind: &str, extra: &[(&str, &str)]| {
        let mut base = row(&[
            ("ProjectID", id),
            ("OrganizationID", "ORG-7"),
            ("ProjectName", name),
            ("ProjectCommonName", &format!("{name} (common)")),
            ("OperatingStartDate", "2018-07-01"),
            ("ContinuumProject", "1"),
            ("ProjectType", kind),
            ("HousingType", "2"),
            ("ResidentialAffiliation", "1"),
            ("TargetPopulation", "1"),
            ("HOPWAMedAssistedLivingFac", "2"),
            ("PITCount", "37"),
        ]);
        base.extend(row(extra));
        with(base, stamps("2018-06-20 09:00:00", "2025-09-01 12:30:00", "HU-2"))
    };
    let projects = vec![
        project("PRJ-NBN", "Harbor Night Shelter", "1", &[("OperatingEndDate", "2030-06-30")]),
        project("PRJ-RRH", "Harbor Rapid Rehousing", "13", &[("RRHSubType", "2")]),
    ];
    let veteran = [
        ("VeteranStatus", "1"),
        ("YearEnteredService", "1988"),
        ("YearSeparated", "1993"),
        ("WorldWarII", "0"),
        ("KoreanWar", "0"),
        ("VietnamWar", "0"),
        ("DesertStorm", "1"),
        ("AfghanistanOEF", "0"),
        ("IraqOIF", "0"),
        ("IraqOND", "0"),
        ("OtherTheater", "1"),
        ("MilitaryBranch", "2"),
        ("DischargeStatus", "1"),
    ];
    let mut c1 = row(&[
        ("PersonalID", "PID-1001"),
        ("FirstName", "Odalys"),
        ("MiddleName", "Renata"),
        ("LastName", "Vasquez-Thorne"),
        ("NameSuffix", "Jr."),
        ("NameDataQuality", "1"),
        ("SSN", "123450001"),
        ("SSNDataQuality", "1"),
        ("DOB", "1966-09-14"),
        ("DOBDataQuality", "2"),
        ("Sex", "0"),
        ("AmIndAKNative", "1"),
        ("Asian", "0"),
        ("BlackAfAmerican", "1"),
        ("HispanicLatinao", "1"),
        ("MidEastNAfrican", "0"),
        ("NativeHIPacific", "0"),
        ("White", "0"),
        ("AdditionalRaceEthnicity", "Garifuna"),
    ]);
    c1.extend(row(&veteran));
    let mut c2 = row(&[
        ("PersonalID", "PID-1002"),
        ("FirstName", "Teodor"),
        ("LastName", "Lindqvist"),
        ("NameDataQuality", "2"),
        ("SSNDataQuality", "9"),
        ("DOB", "1971-01-30"),
        ("DOBDataQuality", "1"),
        ("Sex", "1"),
        ("AmIndAKNative", "0"),
        ("Asian", "0"),
        ("BlackAfAmerican", "0"),
        ("HispanicLatinao", "0"),
        ("MidEastNAfrican", "0"),
        ("NativeHIPacific", "0"),
        ("White", "0"),
        ("RaceNone", "9"),
        ("VeteranStatus", "0"),
    ]);
    c2.insert("VeteranStatus".into(), "0".into());
    let clients = vec![
        with(c1, stamps("2021-02-01 10:05:00", "2026-03-15 16:20:45", "HU-3")),
        with(c2, stamps("2022-11-10 22:40:00", "2026-04-02 07:00:00", "HU-2")),
    ];
    let enrollment = |id: &str, person: &str, project: &str, entry: &str, hh: &str, rel: &str| {
        let base = row(&[
            ("EnrollmentID", id),
            ("PersonalID", person),
            ("ProjectID", project),
            ("EntryDate", entry),
            ("HouseholdID", hh),
            ("RelationshipToHoH", rel),
            ("EnrollmentCoC", "XX-501"),
            ("LivingSituation", "116"),
            ("RentalSubsidyType", "419"),
            ("LengthOfStay", "4"),
            ("LOSUnderThreshold", "1"),
            ("PreviousStreetESSH", "1"),
            ("DateToStreetESSH", "2025-12-01"),
            ("TimesHomelessPastThreeYears", "2"),
            ("MonthsHomelessPastThreeYears", "104"),
            ("DisablingCondition", "1"),
            ("DateOfEngagement", "2026-02-03"),
            ("MoveInDate", "2026-05-20"),
            ("DateOfPATHStatus", "2026-02-04"),
            ("ClientEnrolledInPATH", "0"),
            ("ReasonNotEnrolled", "3"),
            ("PercentAMI", "1"),
            ("ReferralSource", "7"),
            ("CountOutreachReferralApproaches", "3"),
            ("DateOfBCPStatus", "2026-02-05"),
            ("EligibleForRHY", "0"),
            ("ReasonNoServices", "2"),
            ("RunawayYouth", "0"),
            ("FormerWardChildWelfare", "1"),
            ("ChildWelfareYears", "2"),
            ("ChildWelfareMonths", "5"),
            ("FormerWardJuvenileJustice", "0"),
            ("JuvenileJusticeYears", "1"),
            ("JuvenileJusticeMonths", "3"),
            ("UnemploymentFam", "1"),
            ("MentalHealthDisorderFam", "0"),
            ("PhysicalDisabilityFam", "1"),
            ("AlcoholDrugUseDisorderFam", "0"),
            ("InsufficientIncome", "1"),
            ("IncarceratedParent", "0"),
            ("VAMCStation", "589A5"),
            ("TargetScreenReqd", "1"),
            ("TimeToHousingLoss", "2"),
            ("AnnualPercentAMI", "1"),
            ("LiteralHomelessHistory", "1"),
            ("ClientLeaseholder", "0"),
            ("HOHLeaseholder", "1"),
            ("SubsidyAtRisk", "0"),
            ("EvictionHistory", "2"),
            ("CriminalRecord", "0"),
            ("IncarceratedAdult", "1"),
            ("PrisonDischarge", "0"),
            ("SexOffender", "0"),
            ("DisabledHoH", "1"),
            ("CurrentPregnant", "0"),
            ("SingleParent", "0"),
            ("DependentUnder6", "0"),
            ("HH5Plus", "0"),
            ("CoCPrioritized", "1"),
            ("HPScreeningScore", "17"),
            ("ThresholdScore", "12"),
            ("MentalHealthConsultation", "1"),
        ]);
        with(base, stamps("2026-02-01 21:10:00", "2026-06-01 08:00:00", "HU-3"))
    };
    let enrollments = vec![
        enrollment("ENR-1", "PID-1001", "PRJ-NBN", "2026-02-01", "HH-1", "1"),
        enrollment("ENR-2", "PID-1002", "PRJ-NBN", "2026-02-01", "HH-1", "3"),
        enrollment("ENR-3", "PID-1001", "PRJ-RRH", "2026-03-10", "HH-2", "1"),
    ];
    let exit = row(&[
        ("ExitID", "EXT-2"),
        ("EnrollmentID", "ENR-2"),
        ("PersonalID", "PID-1002"),
        ("ExitDate", "2026-02-10"),
        ("Destination", "435"),
        ("DestinationSubsidyType", "419"),
        ("OtherDestination", "Sister's apartment in Fresno"),
        ("HousingAssessment", "1"),
        ("SubsidyInformation", "2"),
        ("ProjectCompletionStatus", "1"),
        ("EarlyExitReason", "3"),
        ("ExchangeForSex", "0"),
        ("ExchangeForSexPastThreeMonths", "0"),
        ("CountOfExchangeForSex", "1"),
        ("AskedOrForcedToExchangeForSex", "0"),
        ("AskedOrForcedToExchangeForSexPastThreeMonths", "0"),
        ("WorkplaceViolenceThreats", "0"),
        ("WorkplacePromiseDifference", "0"),
        ("CoercedToContinueWork", "0"),
        ("LaborExploitPastThreeMonths", "0"),
        ("CounselingReceived", "1"),
        ("IndividualCounseling", "1"),
        ("FamilyCounseling", "0"),
        ("GroupCounseling", "1"),
        ("SessionCountAtExit", "6"),
        ("PostExitCounselingPlan", "1"),
        ("SessionsInPlan", "4"),
        ("DestinationSafeClient", "1"),
        ("DestinationSafeWorker", "1"),
        ("PosAdultConnections", "1"),
        ("PosPeerConnections", "1"),
        ("PosCommunityConnections", "0"),
        ("AftercareDate", "2026-03-01"),
        ("AftercareProvided", "1"),
        ("EmailSocialMedia", "1"),
        ("Telephone", "1"),
        ("InPersonIndividual", "0"),
        ("InPersonGroup", "0"),
        ("CMExitReason", "2"),
    ]);
    let exits = vec![with(exit, stamps("2026-02-10 09:30:00", "2026-02-11 10:00:00", "HU-2"))];
    let service = |id: &str,
                   enr: &str,
                   person: &str,
                   date: &str,
                   rt: &str,
                   tp: &str,
                   extra: &[(&str, &str)]| {
        let mut base = row(&[
            ("ServicesID", id),
            ("EnrollmentID", enr),
            ("PersonalID", person),
            ("DateProvided", date),
            ("RecordType", rt),
            ("TypeProvided", tp),
        ]);
        base.extend(row(extra));
        with(base, stamps("2026-03-12 14:00:00", "2026-03-13 09:15:30", "HU-3"))
    };
    let services = vec![
        service("SRV-1", "ENR-1", "PID-1001", "2026-02-01", "200", "200", &[]),
        service("SRV-2", "ENR-2", "PID-1002", "2026-02-01", "200", "200", &[]),
        service("SRV-3", "ENR-1", "PID-1001", "2026-02-02", "200", "200", &[]),
        service(
            "SRV-4",
            "ENR-3",
            "PID-1001",
            "2026-03-12",
            "152",
            "1",
            &[("FAAmount", "1250.75"), ("FAStartDate", "2026-04-01"), ("FAEndDate", "2026-04-30")],
        ),
        service(
            "SRV-5",
            "ENR-3",
            "PID-1001",
            "2026-03-13",
            "144",
            "6",
            &[("OtherTypeProvided", "Landlord mediation")],
        ),
        service(
            "SRV-6",
            "ENR-3",
            "PID-1001",
            "2026-03-14",
            "144",
            "3",
            &[("SubTypeProvided", "2")],
        ),
        service(
            "SRV-7",
            "ENR-3",
            "PID-1001",
            "2026-03-15",
            "300",
            "5",
            &[("MovingOnOtherType", "Furniture bank voucher")],
        ),
        service(
            "SRV-8",
            "ENR-3",
            "PID-1001",
            "2026-03-16",
            "161",
            "6",
            &[("ReferralOutcome", "1")],
        ),
    ];
    let users = vec![
        row(&[
            ("UserID", "HU-2"),
            ("UserFirstName", "Priya"),
            ("UserLastName", "Raman"),
            ("UserPhone", "5551234567"),
            ("UserExtension", "204"),
            ("UserEmail", "priya.raman@example.org"),
            ("DateCreated", "2015-05-05 09:00:00"),
            ("DateUpdated", "2025-01-02 10:00:00"),
            ("ExportID", "FULL1"),
        ]),
        row(&[
            ("UserID", "HU-3"),
            ("UserFirstName", "Marcus"),
            ("UserLastName", "Oyelaran"),
            ("UserPhone", "5559876543"),
            ("UserExtension", "17"),
            ("UserEmail", "m.oyelaran@example.org"),
            ("DateCreated", "2016-08-08 08:08:08"),
            ("DateUpdated", "2025-02-03 11:00:00"),
            ("ExportID", "FULL1"),
        ]),
    ];
    vec![
        ("Organization.csv", "OrganizationID", organizations),
        ("Project.csv", "ProjectID", projects),
        ("Client.csv", "PersonalID", clients),
        ("Enrollment.csv", "EnrollmentID", enrollments),
        ("Exit.csv", "ExitID", exits),
        ("Services.csv", "ServicesID", services),
        ("User.csv", "UserID", users),
    ]
}

/// The FY2026 columns of a file, in order.
fn columns_of(file: &str) -> Vec<String> {
    match file {
        "Export.csv" => columns::<ExportRecord>(),
        "Organization.csv" => columns::<OrganizationRecord>(),
        "Project.csv" => columns::<ProjectRecord>(),
        "Client.csv" => columns::<ClientRecord>(),
        "Enrollment.csv" => columns::<EnrollmentRecord>(),
        "Exit.csv" => columns::<ExitRecord>(),
        "Services.csv" => columns::<ServicesRecord>(),
        "User.csv" => columns::<UserRecord>(),
        _ => unreachable!("{file}"),
    }
}

/// FY2024's columns where they differ from FY2026's: Client.csv with HispanicLatinaeo and the
/// nine gender columns and without Sex; Enrollment.csv with the five columns FY2026 dropped
/// and without MentalHealthConsultation.
fn fy2024_columns(file: &str) -> Vec<String> {
    let mut cols = columns_of(file);
    match file {
        "Client.csv" => {
            cols.retain(|c| c != "Sex");
            let at = cols.iter().position(|c| c == "HispanicLatinao").unwrap();
            cols[at] = "HispanicLatinaeo".into();
            let at = cols.iter().position(|c| c == "VeteranStatus").unwrap();
            for (i, c) in [
                "Woman",
                "Man",
                "NonBinary",
                "CulturallySpecific",
                "Transgender",
                "Questioning",
                "DifferentIdentity",
                "GenderNone",
                "DifferentIdentityText",
            ]
            .iter()
            .enumerate()
            {
                cols.insert(at + i, (*c).to_owned());
            }
        }
        "Enrollment.csv" => {
            cols.retain(|c| c != "MentalHealthConsultation");
            let at = cols.iter().position(|c| c == "RunawayYouth").unwrap() + 1;
            cols.insert(at, "SexualOrientation".into());
            cols.insert(at + 1, "SexualOrientationOther".into());
            let at = cols.iter().position(|c| c == "ThresholdScore").unwrap() + 1;
            for (i, c) in ["TranslationNeeded", "PreferredLanguage", "PreferredLanguageDifferent"]
                .iter()
                .enumerate()
            {
                cols.insert(at + i, (*c).to_owned());
            }
        }
        _ => {}
    }
    cols
}

fn csv_of(header: &[String], rows: &[Row], fy2024: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        let value = |c: &String| -> String {
            match (fy2024, c.as_str()) {
                (true, "HispanicLatinaeo") => r.get("HispanicLatinao").cloned().unwrap_or_default(),
                (true, "Woman") => "1".into(),
                (true, "GenderNone") => String::new(),
                (true, "SexualOrientation") => "2".into(),
                (true, "PreferredLanguage") => "367".into(),
                (true, c) if c.starts_with("Translation") => "0".into(),
                (
                    true,
                    "Man" | "NonBinary" | "CulturallySpecific" | "Transgender" | "Questioning"
                    | "DifferentIdentity",
                ) => "0".into(),
                _ => r.get(c).cloned().unwrap_or_default(),
            }
        };
        w.write_record(header.iter().map(value)).unwrap();
    }
    w.into_inner().unwrap()
}

fn files_of(fy2024: bool) -> Files {
    let mut files = Files::default();
    let version = if fy2024 { "2024 v1.3" } else { "2026 v1.0" };
    let export = [
        ("ExportID", "FULL1"),
        ("SourceType", "1"),
        ("SourceID", "CoC-XX"),
        ("SourceName", "Bay County HMIS"),
        ("ExportDate", "2026-11-20 06:00:00"),
        ("ExportStartDate", "2026-01-01"),
        ("ExportEndDate", "2026-10-31"),
        ("SoftwareName", "Sample HMIS"),
        ("SoftwareVersion", "12.4"),
        ("CSVVersion", version),
        ("ExportPeriodType", "3"),
        ("ExportDirective", "2"),
        ("HashStatus", "1"),
        ("ImplementationID", "bay-county"),
    ];
    let export: Row = export.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    files.insert("Export.csv", csv_of(&columns_of("Export.csv"), &[export], false));
    for (file, _, rows) in source() {
        let header = if fy2024 { fy2024_columns(file) } else { columns_of(file) };
        files.insert(file, csv_of(&header, &rows, fy2024));
    }
    files
}

fn fresh() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = db::open_and_migrate(&dir.path().join("s.db")).unwrap();
    (dir, conn)
}

fn import(conn: &mut Connection, files: &Files) -> hmis::Report {
    let parsed = read::read(files, harness::d(harness::TODAY));
    let opts = ImportOptions { time_zone: "America/Chicago".into(), scope: None };
    hmis::import_now(conn, &parsed, &opts, &mut |_, _, _| {}).unwrap()
}

fn export_all(conn: &Connection) -> Exported {
    let orgs: Vec<i64> = conn
        .prepare("SELECT id FROM organizations")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let opts = ExportOptions {
        start: harness::d("2026-01-01"),
        end: harness::d("2026-12-31"),
        programs: Vec::new(),
        organizations: orgs,
        hashed: false,
        time_zone: None,
    };
    export(conn, &opts, chrono::Utc::now()).unwrap()
}

/// A file's rows by their primary key.
fn rows_of(bytes: &[u8], key: &str) -> (Vec<String>, BTreeMap<String, Row>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let mut out = BTreeMap::new();
    for record in r.records() {
        let record = record.unwrap();
        let row: Row = header.iter().cloned().zip(record.iter().map(str::to_owned)).collect();
        out.insert(row[key].clone(), row);
    }
    (header, out)
}

/// Every column of every source row as exported, apart from `ExportID` and the columns
/// `changed` names for a record (`(file, id, columns)`); each difference is listed.
fn differences(exported: &Exported, expect: impl Fn(&str, &str) -> Option<String>) -> Vec<String> {
    let mut found = Vec::new();
    for (file, key, rows) in source() {
        let (header, out) = rows_of(exported.file(file).unwrap(), key);
        assert_eq!(header, columns_of(file), "{file} has FY2026's columns in HUD's order");
        for row in rows {
            let id = &row[key];
            let Some(got) = out.get(id) else {
                found.push(format!("{file} {id}: not exported"));
                continue;
            };
            for column in columns_of(file) {
                if column == "ExportID" {
                    assert_eq!(got[&column], exported.export_id);
                    continue;
                }
                let want = expect(file, &format!("{id}/{column}"))
                    .unwrap_or_else(|| row.get(&column).cloned().unwrap_or_default());
                if got[&column] != want {
                    found.push(format!(
                        "{file} {id} {column}: sent {want:?}, exported {:?}",
                        got[&column]
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn every_column_of_an_fy2026_export_comes_back_as_it_was_sent() {
    let (_d, mut conn) = fresh();
    let report = import(&mut conn, &files_of(false));
    assert!(report.applied, "{:#?}", report.errors);
    let exported = export_all(&conn);
    let found = differences(&exported, |_, _| None);
    assert!(found.is_empty(), "{found:#?}");
    let (_, export) = rows_of(exported.file("Export.csv").unwrap(), "ExportID");
    let export = &export[&exported.export_id];
    assert_eq!(
        (export["ExportPeriodType"].as_str(), export["ExportDirective"].as_str()),
        ("3", "1"),
        "a reporting period's services, as a delta refresh"
    );
}

#[test]
fn an_fy2024_export_comes_back_as_fy2026_with_every_column_it_shares() {
    let (_d, mut conn) = fresh();
    let report = import(&mut conn, &files_of(true));
    assert!(report.applied, "{:#?}", report.errors);
    let exported = export_all(&conn);
    // FY2024 had no Sex (it collected gender) and no MentalHealthConsultation.
    let found = differences(&exported, |file, at| match (file, at.rsplit('/').next()) {
        ("Client.csv", Some("Sex")) => Some("99".into()),
        ("Enrollment.csv", Some("MentalHealthConsultation")) => Some(String::new()),
        _ => None,
    });
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn only_what_scanline_changed_moves_and_then_date_updated_moves_too() {
    let (_d, mut conn) = fresh();
    assert!(import(&mut conn, &files_of(false)).applied);
    let before = export_all(&conn);
    assert!(differences(&before, |_, _| None).is_empty());

    // Staff void one bed night; another export follows.
    let id: i64 = conn
        .query_row("SELECT id FROM services WHERE hmis_services_id = 'SRV-3'", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "UPDATE services SET deleted_at = '2026-11-20 15:30:00.000+00:00', deleted_reason = 'scanned twice' WHERE id = ?",
        [id],
    )
    .unwrap();
    let after = export_all(&conn);
    assert_ne!(after.export_id, before.export_id, "every export has its own ExportID");
    // 15:30 UTC is 09:30 in Chicago, the HMIS's zone.
    let found = differences(&after, |file, at| match (file, at) {
        ("Services.csv", "SRV-3/DateDeleted" | "SRV-3/DateUpdated") => {
            Some("2026-11-20 09:30:00".into())
        }
        _ => None,
    });
    assert!(found.is_empty(), "{found:#?}");
}
