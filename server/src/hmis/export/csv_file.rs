//! One CSV file of the export being written. Records go through the csv crate's serializer;
//! the rows Scanline writes a million of (its own services) are written field by field here,
//! quoted exactly as the csv crate quotes them (a property test holds the two equal), because
//! the crate's byte-at-a-time writer was a third of the export's writing thread.

use serde::Serialize;

/// A CSV file, its header always there (an empty file is a header alone), rows ending CRLF.
pub(super) struct CsvFile {
    /// What is written so far, while no record is being written.
    out: Vec<u8>,
    /// While records are written: the csv crate's writer, which holds what is written so far.
    records: Option<csv::Writer<Vec<u8>>>,
}

impl CsvFile {
    pub(super) fn new<T: Serialize + Default>() -> Self {
        Self::with_room::<T>(0)
    }

    /// A file with room for `bytes` before its buffer grows.
    pub(super) fn with_room<T: Serialize + Default>(bytes: usize) -> Self {
        let mut file = Self { out: Vec::with_capacity(bytes), records: None };
        file.put_fields(super::super::model::records::columns::<T>().iter().map(String::as_str));
        file
    }

    /// One record, its fields in the file's column order.
    pub(super) fn put<T: Serialize>(&mut self, record: &T) {
        let out = &mut self.out;
        self.records
            .get_or_insert_with(|| {
                csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .has_headers(false)
                    .from_writer(std::mem::take(out))
            })
            .serialize(record)
            .expect("writing to memory");
    }

    /// One row from its fields, in the file's column order.
    pub(super) fn put_fields<'f>(&mut self, fields: impl IntoIterator<Item = &'f str>) {
        self.take_records();
        let start = self.out.len();
        let mut count = 0;
        for field in fields {
            if count > 0 {
                self.out.push(b',');
            }
            put_field(&mut self.out, field);
            count += 1;
        }
        // A row of one empty field is quoted, so that it is not read as an empty line.
        if count == 1 && self.out.len() == start {
            self.out.extend_from_slice(b"\"\"");
        }
        self.out.extend_from_slice(b"\r\n");
    }

    pub(super) fn finish(mut self) -> Vec<u8> {
        self.take_records();
        self.out
    }

    /// Takes what is written back from the csv crate's writer.
    fn take_records(&mut self) {
        if let Some(records) = self.records.take() {
            self.out = records.into_inner().expect("writing to memory");
        }
    }
}

/// A field as the csv crate writes it: as it is, or between quotes with its quotes doubled
/// when it holds a comma, a quote or a line break.
fn put_field(out: &mut Vec<u8>, field: &str) {
    let bytes = field.as_bytes();
    if !bytes.iter().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for part in bytes.split_inclusive(|b| *b == b'"') {
        out.extend_from_slice(part);
        if part.ends_with(b"\"") {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hmis::model::records::ServicesRecord;

    /// The crate's writing of the same rows, with the same settings.
    fn by_csv(rows: &[Vec<String>]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .has_headers(false)
            .flexible(true)
            .from_writer(Vec::new());
        w.write_record(crate::hmis::model::records::columns::<ServicesRecord>()).unwrap();
        for row in rows {
            w.write_record(row.iter()).unwrap();
        }
        w.into_inner().unwrap()
    }

    proptest! {
        #[test]
        fn rows_are_written_as_the_csv_crate_writes_them(
            rows in prop::collection::vec(
                prop::collection::vec("[a-c,\"\r\n #é-]{0,6}", 1..5), 0..6),
            records_first in any::<bool>(),
        ) {
            let mut file = CsvFile::new::<ServicesRecord>();
            let record = ServicesRecord { personal_id: "a,\"b\"".into(), ..Default::default() };
            let mut want_rows = Vec::new();
            let as_fields = |r: &ServicesRecord| {
                let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
                w.serialize(r).unwrap();
                let bytes = w.into_inner().unwrap();
                let mut read = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[..]);
                read.records().next().unwrap().unwrap().iter().map(str::to_owned).collect::<Vec<_>>()
            };
            if records_first {
                file.put(&record);
                want_rows.push(as_fields(&record));
            }
            for row in &rows {
                file.put_fields(row.iter().map(String::as_str));
                want_rows.push(row.clone());
            }
            file.put(&record);
            want_rows.push(as_fields(&record));
            prop_assert_eq!(
                String::from_utf8(file.finish()).unwrap(),
                String::from_utf8(by_csv(&want_rows)).unwrap()
            );
        }
    }
}
