//! Card codes (DESIGN §4): the digits printed on Scanline cards, their Damm check digit, and the
//! first look at any scanned payload, which decides "misread" before anything is looked up.
//!
//! A Scanline code is `88` + the client number (9 digits) + the card sequence (2 digits) + one
//! Damm check digit: 14 digits, an even count so Code 128 set C packs it into 7 symbols. Nothing
//! personal is encoded. Every other payload is a legacy code (an HMIS client or scan-card ID, a
//! magnetic-stripe or prox number already normalised by the reader's decoder) that only the card
//! table can resolve. This module does no lookup.

use std::fmt;

/// The fixed prefix of every Scanline code. HMIS client IDs are plain counters far shorter than
/// 14 digits, so a 14-digit string starting with this prefix is never a legacy ID.
pub const PREFIX: &str = "88";
/// Digits of the client number inside a code.
pub const CLIENT_DIGITS: usize = 9;
/// Digits of the card sequence number inside a code.
pub const SEQ_DIGITS: usize = 2;
/// Total length of a Scanline code.
pub const CODE_LEN: usize = PREFIX.len() + CLIENT_DIGITS + SEQ_DIGITS + 1;
/// Longest payload accepted from any scanner; anything longer is a misread.
pub const MAX_PAYLOAD_LEN: usize = 64;
/// Digit strings with the prefix and at least this many digits are taken as Scanline codes, so a
/// code that lost or gained a digit in the scanner is a misread, never a lookup.
const SCANLINE_SHAPE_MIN: usize = 12;

/// The Damm quasigroup of order 10 (totally anti-symmetric): it catches every single-digit
/// error and every adjacent transposition.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm interim digit of a string of ASCII digits; `None` if any byte is not a digit.
fn damm_interim(digits: &str) -> Option<u8> {
    digits.bytes().try_fold(0u8, |interim, b| {
        b.is_ascii_digit().then(|| DAMM[usize::from(interim)][usize::from(b - b'0')])
    })
}

/// The check digit to append to `digits`.
pub fn damm_check_digit(digits: &str) -> Option<u8> {
    damm_interim(digits)
}

/// Whether `digits`, check digit included, is valid under Damm.
pub fn damm_valid(digits: &str) -> bool {
    !digits.is_empty() && damm_interim(digits) == Some(0)
}

/// A well-formed Scanline code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScanlineCode {
    pub client_number: u32,
    pub seq: u8,
}

impl ScanlineCode {
    /// The largest client number a code can carry.
    pub const MAX_CLIENT_NUMBER: u32 = 999_999_999;
    /// The largest card sequence number a code can carry.
    pub const MAX_SEQ: u8 = 99;

    pub fn new(client_number: u32, seq: u8) -> Result<Self, CodeError> {
        if client_number == 0 || client_number > Self::MAX_CLIENT_NUMBER {
            return Err(CodeError::ClientNumberOutOfRange(client_number));
        }
        if seq > Self::MAX_SEQ {
            return Err(CodeError::SeqOutOfRange(seq));
        }
        Ok(Self { client_number, seq })
    }

    /// The 14 digits printed in both barcodes.
    pub fn encode(self) -> String {
        let body = format!("{PREFIX}{:09}{:02}", self.client_number, self.seq);
        let check = damm_check_digit(&body).expect("body is all digits");
        format!("{body}{check}")
    }
}

impl fmt::Display for ScanlineCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// Why a Scanline code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("client number {0} does not fit a card code (1 to 999999999)")]
    ClientNumberOutOfRange(u32),
    #[error("card sequence {0} does not fit a card code (0 to 99)")]
    SeqOutOfRange(u8),
}

/// Why a payload is a misread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misread {
    #[error("empty scan")]
    Empty,
    #[error("scan is {0} characters long, more than any card holds")]
    TooLong(usize),
    #[error("scan contains a control or non-ASCII character")]
    NonPrintable,
    #[error("scan looks like a Scanline card but has {0} digits")]
    WrongLength(usize),
    #[error("check digit does not match: the card was misread")]
    CheckDigit,
}

/// A payload that passed the first look: the key to look up in the card table, and the decoded
/// Scanline code when it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanCode {
    pub key: String,
    pub scanline: Option<ScanlineCode>,
}

/// First look at a raw payload: trim surrounding whitespace, reject what no card can hold,
/// verify the check digit of Scanline codes, and normalise legacy codes (letters upper-cased).
pub fn classify(raw: &str) -> Result<ScanCode, Misread> {
    let s = raw.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
    if s.is_empty() {
        return Err(Misread::Empty);
    }
    if s.len() > MAX_PAYLOAD_LEN {
        return Err(Misread::TooLong(s.chars().count()));
    }
    if !s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Misread::NonPrintable);
    }
    let all_digits = s.bytes().all(|b| b.is_ascii_digit());
    if all_digits && s.starts_with(PREFIX) && s.len() >= SCANLINE_SHAPE_MIN {
        if s.len() != CODE_LEN {
            return Err(Misread::WrongLength(s.len()));
        }
        if !damm_valid(s) {
            return Err(Misread::CheckDigit);
        }
        let client_number: u32 = s[PREFIX.len()..PREFIX.len() + CLIENT_DIGITS]
            .parse()
            .expect("nine ASCII digits fit u32");
        let seq: u8 =
            s[PREFIX.len() + CLIENT_DIGITS..CODE_LEN - 1].parse().expect("two ASCII digits fit u8");
        return Ok(ScanCode {
            key: s.to_owned(),
            scanline: Some(ScanlineCode { client_number, seq }),
        });
    }
    Ok(ScanCode { key: s.to_ascii_uppercase(), scanline: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_damm_values() {
        // The worked example of the Damm algorithm: 572 has check digit 4.
        assert_eq!(damm_check_digit("572"), Some(4));
        assert!(damm_valid("5724"));
        assert!(!damm_valid("5723"));
        assert_eq!(damm_check_digit("5a2"), None);
    }

    #[test]
    fn encode_round_trips() {
        let code = ScanlineCode::new(1234, 1).unwrap();
        let text = code.encode();
        assert_eq!(text.len(), CODE_LEN);
        assert!(text.starts_with("8800000123401"));
        assert_eq!(classify(&text).unwrap(), ScanCode { key: text.clone(), scanline: Some(code) });
        assert_eq!(code.to_string(), text);
    }

    #[test]
    fn code_range() {
        assert!(ScanlineCode::new(0, 0).is_err());
        assert!(ScanlineCode::new(1_000_000_000, 0).is_err());
        assert!(ScanlineCode::new(1, 100).is_err());
        assert!(ScanlineCode::new(999_999_999, 99).is_ok());
    }

    fn check(raw: &str, expected: &Result<&str, Misread>) {
        let expected = expected.clone();
        let got = classify(raw).map(|c| c.key);
        assert_eq!(got.as_deref().map_err(Clone::clone), expected, "payload {raw:?}");
    }

    #[test]
    fn classify_table() {
        let good = ScanlineCode::new(42, 3).unwrap().encode();
        let mut bad_check = good.clone().into_bytes();
        bad_check[13] = if bad_check[13] == b'0' { b'1' } else { b'0' };
        let bad_check = String::from_utf8(bad_check).unwrap();
        check(&good, &Ok(&good));
        check(&format!("  {good}\r\n"), &Ok(&good));
        check(&bad_check, &Err(Misread::CheckDigit));
        check(&good[..13], &Err(Misread::WrongLength(13)));
        check(&format!("{good}7"), &Err(Misread::WrongLength(15)));
        check("", &Err(Misread::Empty));
        check(" \r\n", &Err(Misread::Empty));
        check(&"1".repeat(65), &Err(Misread::TooLong(65)));
        check("12\u{7}34", &Err(Misread::NonPrintable));
        check("12é4", &Err(Misread::NonPrintable));
        check("123456", &Ok("123456"));
        check("ab-77", &Ok("AB-77"));
        // Short digit strings with the prefix are legacy IDs, not misreads.
        check("8812", &Ok("8812"));
    }

    /// Every card code, every single-digit substitution and every adjacent transposition that
    /// changes the string: none of them may classify as a valid Scanline code.
    fn assert_all_errors_detected(code: &str) {
        let digits: Vec<u8> = code.bytes().collect();
        for i in 0..digits.len() {
            for d in b'0'..=b'9' {
                if d == digits[i] {
                    continue;
                }
                let mut v = digits.clone();
                v[i] = d;
                let s = String::from_utf8(v).unwrap();
                assert!(
                    !matches!(classify(&s), Ok(ScanCode { scanline: Some(_), .. })),
                    "substitution at {i} in {code} gave valid {s}"
                );
            }
        }
        for i in 0..digits.len() - 1 {
            if digits[i] == digits[i + 1] {
                continue;
            }
            let mut v = digits.clone();
            v.swap(i, i + 1);
            let s = String::from_utf8(v).unwrap();
            assert!(
                !matches!(classify(&s), Ok(ScanCode { scanline: Some(_), .. })),
                "transposition at {i} in {code} gave valid {s}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn every_single_error_and_adjacent_transposition_is_detected(
            client in 1u32..=ScanlineCode::MAX_CLIENT_NUMBER,
            seq in 0u8..=ScanlineCode::MAX_SEQ,
        ) {
            let code = ScanlineCode::new(client, seq).unwrap().encode();
            prop_assert!(damm_valid(&code));
            assert_all_errors_detected(&code);
        }
    }

    #[test]
    fn damm_detects_all_errors_on_every_pair_of_digits() {
        // Exhaustive over all two-digit bodies: the property holds for the table, not by luck.
        for body in 0..100u32 {
            let body = format!("{body:02}");
            let full = format!("{body}{}", damm_check_digit(&body).unwrap());
            let b: Vec<u8> = full.bytes().collect();
            for i in 0..b.len() {
                for d in b'0'..=b'9' {
                    if d != b[i] {
                        let mut v = b.clone();
                        v[i] = d;
                        assert!(!damm_valid(std::str::from_utf8(&v).unwrap()));
                    }
                }
            }
        }
    }
}
