//! What an import keeps of each HMIS record, so that the export gives the HMIS back exactly
//! what it sent (DESIGN §12.3): the record as received (`Kept`: every FY2026 column with a
//! value, dates in HUD's format, times as the HMIS's local times), and the values Scanline
//! itself holds of it as the import stored them (one `…Owned` struct a file, stored as its
//! fingerprint). At export the
//! Scanline values are taken again: when they equal what the import stored, the record goes
//! out as received; when staff or a station changed one, that value is written over the
//! received one and only then does DateUpdated move.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record as the HMIS sent it: its columns with a value, by HUD name, as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kept(pub String);

impl Kept {
    /// The record of `(column, value)` pairs; empty values are left out.
    pub fn of(pairs: &BTreeMap<String, String>) -> Self {
        Self(serde_json::to_string(pairs).unwrap_or_default())
    }

    /// The record of `(column, value)` pairs in the order given; empty values are left out.
    /// Column names are HUD's (letters and digits), written as they are.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut out = String::with_capacity(256);
        out.push('{');
        for (column, value) in pairs {
            if value.is_empty() {
                continue;
            }
            if out.len() > 1 {
                out.push(',');
            }
            out.push('"');
            out.push_str(column);
            out.push_str("\":");
            if value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                out.push('"');
                out.push_str(value);
                out.push('"');
            } else {
                out.push_str(&serde_json::to_string(value).unwrap_or_default());
            }
        }
        out.push('}');
        // An import holds a million of these at once: no room to grow.
        out.shrink_to_fit();
        Self(out)
    }

    /// The record as the file's row struct; columns it does not hold are empty.
    pub fn record<T: DeserializeOwned + Default>(&self) -> T {
        serde_json::from_str(&self.0).unwrap_or_default()
    }

    /// The record with a value for a column it has none for.
    #[must_use]
    pub fn with_default(&self, column: &str, value: &str) -> Self {
        let mut pairs: BTreeMap<String, String> = serde_json::from_str(&self.0).unwrap_or_default();
        pairs.entry(column.to_owned()).or_insert_with(|| value.to_owned());
        Self::of(&pairs)
    }

    /// One column's value, empty when the record has none.
    pub fn get(&self, column: &str) -> String {
        serde_json::from_str::<BTreeMap<String, String>>(&self.0)
            .ok()
            .and_then(|mut m| m.remove(column))
            .unwrap_or_default()
    }
}

/// Values of one file's records that Scanline holds and may change. What is stored beside the
/// kept record is their fingerprint: the first 128 bits of the SHA-256 of their JSON, in hex.
/// The export computes it again from Scanline's values; equal, the values are as the import
/// stored them.
pub trait Owned: Serialize + PartialEq + Sized {
    /// Whether these are the values the import stored as `stored`: their fingerprint, or the
    /// JSON of the values themselves, which databases imported before fingerprints hold.
    fn same_as(&self, stored: &str) -> bool {
        if stored.starts_with('{') {
            serde_json::to_string(self).is_ok_and(|json| json == stored)
        } else {
            stored == self.fingerprint()
        }
    }

    fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = sha2::Sha256::digest(&json);
        digest[..16].iter().fold(String::with_capacity(32), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationOwned {
    pub id: String,
    pub name: String,
}
impl Owned for OrganizationOwned {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectOwned {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub project_type: i32,
}
impl Owned for ProjectOwned {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientOwned {
    pub id: String,
    pub first: String,
    pub middle: String,
    pub last: String,
    pub suffix: String,
    pub name_dq: i32,
    pub ssn: Option<String>,
    pub ssn_dq: i32,
    pub dob: Option<NaiveDate>,
    pub dob_dq: i32,
}
impl Owned for ClientOwned {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrollmentOwned {
    pub id: String,
    pub personal_id: String,
    pub project_id: String,
    pub entry_date: NaiveDate,
    pub household_id: String,
    pub relationship: i32,
}
impl Owned for EnrollmentOwned {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExitOwned {
    pub id: String,
    pub enrollment_id: String,
    pub personal_id: String,
    pub exit_date: NaiveDate,
    pub destination: i32,
}
impl Owned for ExitOwned {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceOwned {
    pub id: String,
    pub enrollment_id: String,
    pub personal_id: String,
    pub date: NaiveDate,
    pub record_type: i32,
    pub type_provided: i32,
    pub deleted: Option<DateTime<Utc>>,
}
impl Owned for ServiceOwned {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hmis::model::records::ServicesRecord;

    #[test]
    fn stored_values_are_recognised_by_fingerprint_and_by_the_older_json() {
        let org = OrganizationOwned { id: "O1".into(), name: "Harbor".into() };
        let renamed = OrganizationOwned { name: "Harbour".into(), ..org.clone() };
        assert_eq!(org.fingerprint().len(), 32);
        assert!(org.same_as(&org.fingerprint()));
        assert!(!renamed.same_as(&org.fingerprint()));
        let older = serde_json::to_string(&org).unwrap();
        assert!(org.same_as(&older));
        assert!(!renamed.same_as(&older));
        assert!(!org.same_as(""));
    }

    #[test]
    fn a_kept_record_gives_back_its_columns_and_empties_the_rest() {
        let mut pairs = BTreeMap::new();
        pairs.insert("ServicesID".to_owned(), "S1".to_owned());
        pairs.insert("FAAmount".to_owned(), "125.50".to_owned());
        let kept = Kept::of(&pairs);
        let r: ServicesRecord = kept.record();
        assert_eq!((r.services_id.as_str(), r.fa_amount.as_str()), ("S1", "125.50"));
        assert_eq!(r.fa_start_date, "");
        assert_eq!(kept.get("FAAmount"), "125.50");
        assert_eq!(Kept::default().record::<ServicesRecord>(), ServicesRecord::default());
        let fast =
            Kept::from_pairs([("ServicesID", "S1"), ("FAAmount", "125.50"), ("FAEndDate", "")]);
        assert_eq!(fast.record::<ServicesRecord>(), r);
        let quoted = Kept::from_pairs([("OtherTypeProvided", "a \"b\"\n")]);
        assert_eq!(quoted.get("OtherTypeProvided"), "a \"b\"\n");
    }
}
