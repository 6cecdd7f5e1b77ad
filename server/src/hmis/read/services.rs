//! Services.csv, read row by row while the import applies it (`model::ServiceRows`): the file
//! is opened from its start each time, every value is checked as in the other files, a
//! duplicate ServicesID is an error, and each row and each problem goes to the import in the
//! file's order. Only the ServicesIDs seen so far are held, never the rows.

use std::ops::ControlFlow;

use chrono::NaiveDate;

use super::super::Source;
use super::super::model::codes;
use super::super::model::records::{ServicesRecord, columns};
use super::super::model::{CsvVersion, Issue, Read, ServiceRow, ServiceRows};
use super::{Context, Row, Seen, duplicate, issue, open, require_columns, without_bom};

const FILE: &str = "Services.csv";

const REQUIRED: [&str; 7] = [
    "ServicesID",
    "EnrollmentID",
    "PersonalID",
    "DateProvided",
    "RecordType",
    "TypeProvided",
    "DateUpdated",
];

/// Services.csv as the import reads it.
#[derive(Debug)]
pub(super) struct ServicesFile {
    pub(super) source: Source,
    pub(super) export_id: Option<String>,
    pub(super) today: NaiveDate,
    pub(super) version: CsvVersion,
}

impl ServiceRows for ServicesFile {
    fn rows_hint(&self) -> u64 {
        self.source.lines().saturating_sub(1)
    }

    fn each(&self, f: &mut dyn FnMut(Read<'_>) -> ControlFlow<()>) {
        let read = self.source.read(|input| self.read(input, f));
        if let Err(reason) = read {
            let _ = f(Read::Error(issue(FILE, 0, "", "", &reason)));
        }
    }
}

impl ServicesFile {
    fn read(&self, input: &mut dyn std::io::Read, f: &mut dyn FnMut(Read<'_>) -> ControlFlow<()>) {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let give = |f: &mut dyn FnMut(Read<'_>) -> ControlFlow<()>,
                    errors: &mut Vec<Issue>,
                    warnings: &mut Vec<Issue>| {
            for e in errors.drain(..) {
                f(Read::Error(e))?;
            }
            for w in warnings.drain(..) {
                f(Read::Warning(w))?;
            }
            ControlFlow::Continue(())
        };
        let input = match without_bom(input) {
            Ok(input) => input,
            Err(e) => {
                let _ = f(Read::Error(issue(FILE, 0, "", "", &format!("cannot be read: {e}"))));
                return;
            }
        };
        let Some(mut records) = open(FILE, input, &columns::<ServicesRecord>(), &mut errors) else {
            let _ = give(f, &mut errors, &mut warnings);
            return;
        };
        if !require_columns(&records.table, &REQUIRED, &mut errors) {
            let _ = give(f, &mut errors, &mut warnings);
            return;
        }
        let cx = Context {
            export_id: self.export_id.as_deref(),
            today: self.today,
            version: self.version,
        };
        let mut seen = Seen::new();
        while let Some(line) = records.next(&mut errors) {
            if give(f, &mut errors, &mut warnings).is_break() {
                return;
            }
            let mut row = Row {
                table: &records.table,
                line,
                record: &records.record,
                errors: &mut errors,
                warnings: &mut warnings,
                cx: &cx,
                dates_read: Vec::new(),
                bad: false,
            };
            let id = row.text("ServicesID");
            if duplicate(&mut seen, &mut row, "ServicesID", &id) {
                if give(f, &mut errors, &mut warnings).is_break() {
                    return;
                }
                continue;
            }
            let service = service(&mut row);
            let bad = row.bad;
            if give(f, &mut errors, &mut warnings).is_break() {
                return;
            }
            if let Some(s) = service.filter(|_| !bad)
                && f(Read::Row(&s)).is_break()
            {
                return;
            }
        }
        let _ = give(f, &mut errors, &mut warnings);
    }
}

/// One row of Services.csv, checked value by value; `None` when it cannot be imported.
fn service(r: &mut Row<'_>) -> Option<ServiceRow> {
    let id = r.id("ServicesID");
    let enrollment_id = r.id("EnrollmentID");
    let personal_id = r.id("PersonalID");
    let date = r.date("DateProvided", true);
    let record_type = r.int("RecordType", Some(&codes::RECORD_TYPE), true);
    let type_provided = match record_type.and_then(codes::type_provided_list) {
        Some(list) => r.int("TypeProvided", Some(list), true),
        None => r.int("TypeProvided", None, true),
    };
    r.date("FAStartDate", false);
    r.date("FAEndDate", false);
    Some(ServiceRow {
        id,
        enrollment_id,
        personal_id,
        date: date?,
        record_type: record_type?,
        type_provided: type_provided?,
        common: r.common()?,
    })
}
