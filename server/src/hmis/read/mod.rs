//! Reading an HMIS CSV export into typed rows: columns by header name (any case, any order),
//! byte-order mark and CRLF or LF line ends accepted, every value checked (required, type, HUD
//! code list), and every problem reported with its file, line, column and value. Each row is
//! also kept as received (`model::Kept`) for the export to give back. The export's CSVVersion
//! is read first: FY2024 and FY2026 are imported, older ones refused. Checks that need the
//! rest of the export or the database (references, overlaps) are made when the import is
//! applied.

pub mod dates;
mod files;
mod services;

use std::collections::HashMap;

use std::io::Read as _;

use chrono::{NaiveDate, NaiveDateTime};

use super::Files;
use super::model::codes::CodeList;
use super::model::records::{DATE_COLUMNS, DATETIME_COLUMNS};
use super::model::{Common, CsvVersion, Issue, Kept, Parsed};
use dates::Century;

/// The header of one CSV file: its header map and the FY2026 name of each column.
struct Table {
    file: &'static str,
    headers: HashMap<String, usize>,
    /// Each column's name in the FY2026 record, when the record has the column.
    canonical: Vec<Option<String>>,
}

/// Columns FY2024 spelt otherwise, by lower-case name, with their FY2026 name.
const RENAMED: [(&str, &str); 1] = [("hispaniclatinaeo", "HispanicLatinao")];

/// The input of a CSV reader, noting where each line ends as it passes, to give a row its
/// 1-based line whatever the line ends are. The line ends are kept only until the rows before
/// them have been placed, so a file of any length is read in little memory.
struct Lines<R> {
    inner: R,
    /// Bytes read so far.
    at: u64,
    /// Each CR and LF read and not yet passed: its byte, and whether it is an LF.
    ends: std::collections::VecDeque<(u64, bool)>,
    /// LFs passed.
    passed: u64,
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for i in memchr::memchr2_iter(b'\r', b'\n', &buf[..n]) {
            self.ends.push_back((self.at + i as u64, buf[i] == b'\n'));
        }
        self.at += n as u64;
        Ok(n)
    }
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Self { inner, at: 0, ends: std::collections::VecDeque::new(), passed: 0 }
    }

    /// The line of a record that the reader says starts at `byte`: what it starts with of the
    /// previous line's end (a CRLF reader stops at the CR) is skipped first. Asked in the
    /// order of the file.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut b = byte;
        while let Some(&(at, lf)) = self.ends.front() {
            if at > b {
                break;
            }
            if at == b {
                b += 1;
            }
            self.passed += u64::from(lf);
            self.ends.pop_front();
        }
        self.passed + 1
    }
}

/// The input without a leading byte-order mark.
fn without_bom(mut r: impl std::io::Read) -> std::io::Result<impl std::io::Read> {
    let mut start = [0u8; 3];
    let mut n = 0;
    while n < start.len() {
        match r.read(&mut start[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let kept = if start[..n] == *b"\xEF\xBB\xBF" { 0 } else { n };
    Ok(std::io::Cursor::new(start[..kept].to_vec()).chain(r))
}

/// A CSV file being read record by record: its header and the record last read.
struct Records<R: std::io::Read> {
    table: Table,
    reader: csv::Reader<Lines<R>>,
    width: usize,
    record: csv::StringRecord,
    /// About how many rows it has, when that is known ahead.
    hint: usize,
}

/// Opens a file of the export for reading record by record: the header is read and checked.
fn open<R: std::io::Read>(
    file: &'static str,
    input: R,
    columns: &[String],
    errors: &mut Vec<Issue>,
) -> Option<Records<R>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(Lines::new(input));
    let names: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|n| n.trim().to_ascii_lowercase()).collect(),
        Err(e) => {
            errors.push(issue(file, 1, "", "", &format!("the header row cannot be read: {e}")));
            return None;
        }
    };
    let mut headers = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if headers.insert(name.clone(), i).is_some() {
            errors.push(issue(file, 1, name, "", "the column appears twice in the header"));
        }
    }
    let by_lower: HashMap<String, &String> =
        columns.iter().map(|c| (c.to_ascii_lowercase(), c)).collect();
    let canonical = names
        .iter()
        .map(|n| {
            by_lower.get(n).map(|c| (*c).clone()).or_else(|| {
                RENAMED.iter().find(|(old, _)| old == n).map(|(_, new)| (*new).to_owned())
            })
        })
        .collect();
    let table = Table { file, headers, canonical };
    Some(Records { table, reader, width: names.len(), record: csv::StringRecord::new(), hint: 0 })
}

impl<R: std::io::Read> Records<R> {
    /// Reads the next record with a value into `self.record`: its line, or `None` at the end
    /// of the file. A row that cannot be read, or has more or fewer values than the header, is
    /// reported and passed over.
    fn next(&mut self, errors: &mut Vec<Issue>) -> Option<u64> {
        let file = self.table.file;
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    let at = self.record.position().map_or(0, csv::Position::byte);
                    let line = self.reader.get_mut().line_at(at);
                    if self.record.iter().all(str::is_empty) {
                        continue;
                    }
                    if self.record.len() != self.width {
                        let reason = format!(
                            "the row has {} values where the header has {}",
                            self.record.len(),
                            self.width
                        );
                        errors.push(issue(file, line, "", "", &reason));
                        continue;
                    }
                    return Some(line);
                }
                Err(e) => {
                    let at = e.position().map_or(0, csv::Position::byte);
                    let line = self.reader.get_mut().line_at(at);
                    errors.push(issue(file, line, "", "", &format!("the row cannot be read: {e}")));
                    // A row that is not UTF-8 is skipped; anything else ends the file.
                    if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                        return None;
                    }
                }
            }
        }
    }
}

/// A file of the export, opened to be read row by row (`rows`).
fn load<'f>(
    files: &'f Files,
    file: &'static str,
    columns: &[String],
    errors: &mut Vec<Issue>,
) -> Option<Records<impl std::io::Read + 'f>> {
    let bytes = files.get(file)?;
    let mut records = open(file, without_bom(bytes).ok()?, columns, errors)?;
    records.hint = memchr::memchr_iter(b'\n', bytes).count();
    Some(records)
}

fn issue(file: &str, line: u64, column: &str, value: &str, reason: &str) -> Issue {
    Issue {
        file: file.to_owned(),
        line,
        column: column.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// What reading a file needs besides the file.
struct Context<'a> {
    export_id: Option<&'a str>,
    today: NaiveDate,
    version: CsvVersion,
}

/// Reading one row: each accessor records the problems it finds.
struct Row<'a> {
    table: &'a Table,
    line: u64,
    record: &'a csv::StringRecord,
    errors: &'a mut Vec<Issue>,
    warnings: &'a mut Vec<Issue>,
    cx: &'a Context<'a>,
    /// Date columns an accessor has read (and reported on).
    dates_read: Vec<&'static str>,
    bad: bool,
}

impl Row<'_> {
    fn raw(&self, column: &str) -> Option<&str> {
        let i = *self.table.headers.get(&column.to_ascii_lowercase())?;
        let v = self.record.get(i)?;
        (!v.is_empty()).then_some(v)
    }

    fn error(&mut self, column: &str, value: &str, reason: &str) {
        self.bad = true;
        self.errors.push(issue(self.table.file, self.line, column, value, reason));
    }

    fn warn(&mut self, column: &str, value: &str, reason: &str) {
        self.warnings.push(issue(self.table.file, self.line, column, value, reason));
    }

    fn text(&self, column: &str) -> String {
        self.raw(column).unwrap_or_default().to_owned()
    }

    fn id(&mut self, column: &str) -> String {
        match self.raw(column) {
            Some(v) if v.chars().count() <= 32 => v.to_owned(),
            Some(v) => {
                let v = v.to_owned();
                self.error(column, &v, "longer than HUD's 32 characters");
                String::new()
            }
            None => {
                self.error(column, "", "required and missing");
                String::new()
            }
        }
    }

    fn int(&mut self, column: &str, list: Option<&CodeList>, required: bool) -> Option<i32> {
        let Some(v) = self.raw(column).map(str::to_owned) else {
            if required {
                self.error(column, "", "required and missing");
            }
            return None;
        };
        // Some exports write integers as "1.0".
        let parsed = v
            .parse::<i32>()
            .ok()
            .or_else(|| v.parse::<f64>().ok().filter(|f| f.fract() == 0.0).map(|f| f as i32));
        match (parsed, list) {
            (None, _) => {
                self.error(column, &v, "not a whole number");
                None
            }
            (Some(n), Some(list)) if !list.contains(n) => {
                let reason = format!("not a value of HUD list {} {}", list.number, list.name);
                self.error(column, &v, &reason);
                None
            }
            (Some(n), _) => Some(n),
        }
    }

    fn date(&mut self, column: &'static str, required: bool) -> Option<NaiveDate> {
        self.dates_read.push(column);
        let Some(v) = self.raw(column).map(str::to_owned) else {
            if required {
                self.error(column, "", "required and missing");
            }
            return None;
        };
        let century = if column == "DOB" { Century::Past } else { Century::Nearest };
        match dates::date(&v, self.cx.today, century) {
            None => {
                self.error(column, &v, "not a date (yyyy-mm-dd)");
                None
            }
            Some(read) => {
                if read.two_digit_year {
                    self.warn_two_digits(column, &v, &dates::hud_date(read.date));
                }
                Some(read.date)
            }
        }
    }

    fn warn_two_digits(&mut self, column: &str, value: &str, read_as: &str) {
        let reason = format!("a two-digit year, read as {read_as}: check it in the HMIS");
        self.warn(column, value, &reason);
    }

    fn datetime(&mut self, column: &'static str, required: bool) -> Option<NaiveDateTime> {
        self.dates_read.push(column);
        let Some(v) = self.raw(column).map(str::to_owned) else {
            if required {
                self.error(column, "", "required and missing");
            }
            return None;
        };
        match dates::datetime(&v, self.cx.today) {
            None => {
                self.error(column, &v, "not a date and time (yyyy-mm-dd hh:mm:ss)");
                None
            }
            Some((t, two_digit_year)) => {
                if two_digit_year {
                    self.warn_two_digits(column, &v, &dates::hud_datetime(t));
                }
                Some(t)
            }
        }
    }

    /// The row as received: each column of the FY2026 record with a value, dates and times
    /// in HUD's form. A date in a column Scanline does not read is checked here: written in
    /// HUD's form when it can be read, reported and kept as received when it cannot.
    fn kept(&mut self) -> Kept {
        let mut pairs: Vec<(&str, std::borrow::Cow<'_, str>)> = Vec::new();
        let (table, record) = (self.table, self.record);
        for (i, name) in table.canonical.iter().enumerate() {
            let (Some(name), Some(value)) = (name, record.get(i)) else { continue };
            if value.is_empty() {
                continue;
            }
            pairs.push((name, self.normalized(name, value)));
        }
        Kept::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_ref())))
    }

    fn normalized<'v>(&mut self, column: &str, value: &'v str) -> std::borrow::Cow<'v, str> {
        use std::borrow::Cow;
        if !column.starts_with("Date") && !DATE_COLUMNS.contains(&column) {
            return Cow::Borrowed(value);
        }
        // Already in HUD's form (and so read without a warning): kept as it is.
        let hud = if DATE_COLUMNS.contains(&column) {
            dates::hud_form(value).is_some()
        } else {
            dates::hud_time_form(value).is_some_and(|_| value.as_bytes()[10] == b' ')
        };
        if hud {
            return Cow::Borrowed(value);
        }
        let reported = self.dates_read.contains(&column);
        if DATE_COLUMNS.contains(&column) {
            let century = if column == "DOB" { Century::Past } else { Century::Nearest };
            return match dates::date(value, self.cx.today, century) {
                Some(read) => {
                    if read.two_digit_year && !reported {
                        self.warn_two_digits(column, value, &dates::hud_date(read.date));
                    }
                    let hud = dates::hud_date(read.date);
                    if hud == value { Cow::Borrowed(value) } else { Cow::Owned(hud) }
                }
                None => {
                    if !reported {
                        self.warn(column, value, "not a date: kept as received");
                    }
                    Cow::Borrowed(value)
                }
            };
        }
        if DATETIME_COLUMNS.contains(&column) {
            return match dates::datetime(value, self.cx.today) {
                Some((t, _)) => {
                    let hud = dates::hud_datetime(t);
                    if hud == value { Cow::Borrowed(value) } else { Cow::Owned(hud) }
                }
                None => Cow::Borrowed(value),
            };
        }
        Cow::Borrowed(value)
    }

    /// DateCreated, DateUpdated, DateDeleted, the ExportID check and the row as received.
    fn common(&mut self) -> Option<Common> {
        let created = self.datetime("DateCreated", false);
        let updated = self.datetime("DateUpdated", true);
        let deleted = self.datetime("DateDeleted", false);
        if let (Some(expected), Some(got)) =
            (self.cx.export_id, self.raw("ExportID").map(str::to_owned))
            && got != expected
        {
            let reason = format!("does not match Export.csv's ExportID {expected}");
            self.error("ExportID", &got, &reason);
        }
        let updated = updated?;
        Some(Common {
            file: self.table.file,
            line: self.line,
            created: created.unwrap_or(updated).min(updated),
            updated,
            deleted,
            kept: self.kept(),
        })
    }
}

/// Checks that the columns Scanline reads are all in the header.
fn require_columns(table: &Table, columns: &[&str], errors: &mut Vec<Issue>) -> bool {
    let mut ok = true;
    for c in columns {
        if !table.headers.contains_key(&c.to_ascii_lowercase()) {
            errors.push(issue(table.file, 1, c, "", "the column is missing from the header"));
            ok = false;
        }
    }
    ok
}

/// The primary keys of a file's rows read so far, with the line of each.
type Seen = HashMap<Box<str>, u64>;

/// Whether the row's primary key `id` is on an earlier row, which is reported as an error; a
/// key not seen before is noted with the row's line.
fn duplicate(seen: &mut Seen, row: &mut Row<'_>, key: &str, id: &str) -> bool {
    if id.is_empty() {
        return false;
    }
    if let Some(first) = seen.get(id) {
        let reason = format!("duplicate {key}: the same ID is on line {first}");
        row.error(key, id, &reason);
        return true;
    }
    seen.insert(id.into(), row.line);
    false
}

/// Reads every row of a file with `f`, which returns `None` for a row it refused; duplicate
/// primary keys are errors. The keys of refused rows are noted in `refused`.
fn rows<T, R: std::io::Read>(
    mut records: Records<R>,
    key: &str,
    p: &mut Parsed,
    cx: &Context<'_>,
    mut f: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(records.hint);
    let mut seen: Seen = HashMap::with_capacity(records.hint);
    let (errors, warnings) = (&mut p.errors, &mut p.warnings);
    let mut refused = Vec::new();
    while let Some(line) = records.next(errors) {
        let mut row = Row {
            table: &records.table,
            line,
            record: &records.record,
            errors,
            warnings,
            cx,
            dates_read: Vec::new(),
            bad: false,
        };
        let id = row.text(key);
        if duplicate(&mut seen, &mut row, key, &id) {
            continue;
        }
        let value = f(&mut row);
        match value {
            Some(v) if !row.bad => out.push(v),
            _ if !id.is_empty() => refused.push((id, line)),
            _ => {}
        }
    }
    out.shrink_to_fit();
    if let Some(map) = p.refused.of_file(records.table.file) {
        map.extend(refused);
    }
    out
}

/// Reads an export; `today` (in the import's time zone) places two-digit years. Export.csv is
/// required; the other files are read when present, and only when the export's version is one
/// Scanline reads.
pub fn read(files: &Files, today: NaiveDate) -> Parsed {
    let mut p = Parsed { today: Some(today), ..Parsed::default() };
    let export_id = files::export(files, &mut p, today);
    p.version = files::version(files, &mut p);
    let Some(version) = p.version else { return p };
    let cx = Context { export_id: export_id.as_deref(), today, version };
    files::organizations(files, &mut p, &cx);
    files::projects(files, &mut p, &cx);
    files::clients(files, &mut p, &cx);
    files::enrollments(files, &mut p, &cx);
    files::exits(files, &mut p, &cx);
    p.services = files.source("Services.csv").map(|source| {
        let file = services::ServicesFile {
            source: source.clone(),
            export_id: export_id.clone(),
            today,
            version,
        };
        std::sync::Arc::new(file) as std::sync::Arc<dyn super::model::ServiceRows>
    });
    files::users(files, &mut p, &cx);
    p
}
