//! A synthetic FY2026 HMIS export for the benchmarks, made in memory: made-up names, dates of
//! birth and SSNs. One organization (`O1`), a night-by-night shelter (`PN`) and a street
//! outreach project (`PS`); each client enrolled in both, and given `nights` bed nights in the
//! shelter from its entry date on.

use std::fmt::Write as _;
use std::io::Write as _;

use scanline_server::hmis::Files;

const FIRST: &[&str] =
    &["Ana", "Ben", "Carla", "Dario", "Elena", "Femi", "Grace", "Hugo", "Ines", "Jamal"];
const LAST: &[&str] =
    &["Alder", "Brook", "Castell", "Dunmore", "Ellery", "Fairholm", "Gale", "Holt"];
const AT: &str = "2026-09-01 10:00:00";

/// The export of `clients` clients (PersonalID `P<i>`), each with two enrollments and
/// `nights` bed nights, as the importer reads it.
#[allow(dead_code)]
pub(crate) fn synthetic(clients: usize, nights: usize) -> Files {
    let mut files = Files::default();
    for (name, bytes) in csv_files(0..clients, nights) {
        files.insert(name, bytes);
    }
    files
}

/// An export of the clients numbered `clients` as named CSV files.
pub(crate) fn csv_files(
    clients: std::ops::Range<usize>,
    nights: usize,
) -> Vec<(&'static str, Vec<u8>)> {
    let t = AT;
    let mut files = Vec::new();
    files.push((
        "Export.csv",
        b"ExportID,SourceType,ExportDate,ExportStartDate,ExportEndDate,SoftwareName,CSVVersion,ExportPeriodType,ExportDirective,HashStatus,ImplementationID\r\nB1,1,2026-10-01 00:00:00,2026-01-01,2026-09-30,Bench,2026 v1.0,3,2,1,B\r\n".to_vec(),
    ));
    files.push((
        "Organization.csv",
        format!("OrganizationID,OrganizationName,VictimServiceProvider,DateCreated,DateUpdated,UserID,ExportID\r\nO1,Bench Agency,0,{t},{t},U1,B1\r\n").into_bytes(),
    ));
    files.push((
        "Project.csv",
        format!(
            "ProjectID,OrganizationID,ProjectName,OperatingStartDate,ContinuumProject,ProjectType,TargetPopulation,DateCreated,DateUpdated,UserID,ExportID\r\n\
             PN,O1,Night Shelter,2020-01-01,1,1,4,{t},{t},U1,B1\r\n\
             PS,O1,Street Outreach,2020-01-01,1,4,4,{t},{t},U1,B1\r\n"
        )
        .into_bytes(),
    ));
    let mut c = String::from(
        "PersonalID,FirstName,MiddleName,LastName,NameSuffix,NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,DateCreated,DateUpdated,UserID,DateDeleted,ExportID\r\n",
    );
    let mut e = String::from(
        "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,DateCreated,DateUpdated,UserID,DateDeleted,ExportID\r\n",
    );
    let mut s = String::from(
        "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,DateCreated,DateUpdated,UserID,DateDeleted,ExportID\r\n",
    );
    let entry = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    for i in clients {
        let _ = write!(
            c,
            "P{i},{},,{},,1,{:09},1,19{:02}-{:02}-{:02},1,{t},{t},U1,,B1\r\n",
            FIRST[i % FIRST.len()],
            LAST[(i / 7) % LAST.len()],
            100_000_000 + i,
            40 + i % 60,
            1 + i % 12,
            1 + i % 28
        );
        for (k, project) in ["PN", "PS"].iter().enumerate() {
            let _ = write!(
                e,
                "E{i}-{k},P{i},{project},2026-0{}-01,H{i}-{k},1,{t},{t},U1,,B1\r\n",
                1 + k
            );
        }
        for n in 0..nights {
            let night = entry + chrono::Days::new(n as u64);
            let _ = write!(s, "S{i}-{n},E{i}-0,P{i},{night},200,200,{t},{t},U1,,B1\r\n");
        }
    }
    files.push(("Client.csv", c.into_bytes()));
    files.push(("Enrollment.csv", e.into_bytes()));
    if nights > 0 {
        files.push(("Services.csv", s.into_bytes()));
    }
    files
}

/// The files as a zip archive, as staff upload an export.
#[allow(dead_code)]
pub(crate) fn zip(files: &[(&str, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, bytes) in files {
        out.start_file(*name, options).map_err(std::io::Error::other)?;
        out.write_all(bytes)?;
    }
    Ok(out.finish().map_err(std::io::Error::other)?.into_inner())
}
