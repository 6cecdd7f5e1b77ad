//! HID POS barcode scanners (HID usage page 0x8C, "Bar Code Scanner"): joins the scanned-data
//! input reports of one scan into a payload, with its AIM symbology identifier.
//!
//! It implements the two fixed 64-byte layouts scanners send in "USB HID POS" mode (see
//! `HidPosLayout`): Honeywell's, which other makers copy byte for byte, with the AIM identifier
//! before the data; and Newland's, with the data straight after the length byte. It deliberately
//! does not parse HID report descriptors, does not read vendor fields (Honeywell's code ID,
//! Newland's symbology byte), does not send commands to the scanner, and does not judge the
//! data: control characters and invalid UTF-8 pass through (the latter as U+FFFD) for the core
//! to call a misread. It does no IO.

use super::Payload;

/// The report ID of the scanned-data input report.
const REPORT_ID: u8 = 0x02;
/// Size of the report, report ID included, as hidraw delivers numbered reports.
const REPORT_LEN: usize = 64;
/// Offset of the length byte.
const LEN_AT: usize = 1;
/// Size of the data area in both layouts.
const DATA_MAX: usize = 56;

/// Where a maker puts the data and the symbology in a scanned-data report.
///
/// | offset | Honeywell (and makers that copy it)    | Newland                        |
/// |--------|----------------------------------------|--------------------------------|
/// | 0      | report ID `0x02`                       | report ID `0x02`               |
/// | 1      | data bytes in this report, 0 to 56     | data bytes in this report      |
/// | 2..5   | AIM identifier, `]` + two characters   | data from byte 2 (2..58)       |
/// | 5..61  | data, zero-padded after the length     |                                |
/// | 58..62 |                                        | reserved                       |
/// | 61     | Honeywell code ID, ignored             |                                |
/// | 62     | reserved                               | Newland symbology ID, ignored  |
/// | 63     | bit 0: more reports of this scan follow| the same                       |
///
/// Read with the wrong layout, a Newland scan would lose its first three characters and gain
/// padding, so the layout follows the scanner's maker (`for_vendor`) unless the configuration
/// names one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HidPosLayout {
    #[default]
    Honeywell,
    Newland,
}

/// Newland's USB vendor ID.
pub const NEWLAND_VENDOR_ID: u16 = 0x1eab;

impl HidPosLayout {
    /// The layout a maker's scanners use: Newland's for Newland (0x1EAB), Honeywell's, which
    /// the others follow, otherwise.
    pub fn for_vendor(vendor_id: u16) -> Self {
        if vendor_id == NEWLAND_VENDOR_ID { Self::Newland } else { Self::Honeywell }
    }

    /// Where the data starts.
    fn data_at(self) -> usize {
        match self {
            Self::Honeywell => 5,
            Self::Newland => 2,
        }
    }

    /// The AIM identifier bytes, in the layout that has them.
    fn aim(self) -> Option<std::ops::Range<usize>> {
        match self {
            Self::Honeywell => Some(2..5),
            Self::Newland => None,
        }
    }
}
/// Offset of the flags byte; bit 0 set means more reports of this scan follow.
const FLAGS_AT: usize = 63;
/// Longest payload gathered across continuation reports. Far more than any card holds; past it
/// the decoder hands over what it has (the core calls it too long) instead of growing without
/// bound behind a scanner that never clears its continuation flag.
const MAX_PAYLOAD: usize = 1024;

/// Joins HID POS scanned-data reports into payloads.
///
/// Each report, as hidraw or hidapi return it (report ID first), is laid out as:
///
/// | offset  | content                                                              |
/// |---------|----------------------------------------------------------------------|
/// | 0       | report ID, `0x02` for scanned data                                   |
/// | 1       | number of data bytes in this report, 0 to 56                         |
/// | 2..5    | AIM symbology identifier, `]` + two characters (`]C0` for Code 128)  |
/// | 5..61   | data, zero-padded after the length                                   |
/// | 61      | vendor code ID (Honeywell), ignored                                  |
/// | 62      | reserved                                                             |
/// | 63      | bit 0: more reports of this scan follow                              |
///
/// A payload longer than 56 bytes is split over several reports, each repeating the AIM
/// identifier and setting bit 0 of byte 63 except the last; their data is concatenated and the
/// identifier of the first report is used.
///
/// Reports with another ID carry no scan and are ignored. Lengths are never trusted: a report
/// shorter than 64 bytes (truncated, so its length byte and flag cannot be checked) or a length
/// byte above 56 ends the scan in progress as a misread: the decoder returns what it gathered with
/// U+FFFD appended, so the core answers "misread" and the volunteer scans again, rather than
/// looking up a code that may have been cut short.
#[derive(Debug, Clone, Default)]
pub struct HidPosDecoder {
    layout: HidPosLayout,
    data: Vec<u8>,
    symbology: Option<String>,
    /// A report of this scan has been seen, so `symbology` is settled.
    started: bool,
    /// The payload overflowed and was handed over; reports are dropped up to the last one.
    discarding: bool,
}

impl HidPosDecoder {
    pub fn new(layout: HidPosLayout) -> Self {
        Self { layout, ..Self::default() }
    }

    /// Feeds one input report; returns the payload when its last report arrives.
    pub fn push(&mut self, report: &[u8]) -> Option<Payload> {
        if report.first() != Some(&REPORT_ID) {
            return None;
        }
        if report.len() < REPORT_LEN || usize::from(report[LEN_AT]) > DATA_MAX {
            return Some(self.misread());
        }
        if !self.started {
            self.started = true;
            self.symbology = self.layout.aim().and_then(|at| aim(&report[at]));
        }
        let len = usize::from(report[LEN_AT]);
        let more = report[FLAGS_AT] & 0x01 != 0;
        if !self.discarding {
            let at = self.layout.data_at();
            self.data.extend_from_slice(&report[at..at + len]);
            if self.data.len() > MAX_PAYLOAD {
                let payload = self.take();
                self.discarding = more;
                return Some(payload);
            }
        }
        if more {
            return None;
        }
        if std::mem::take(&mut self.discarding) {
            self.reset();
            return None;
        }
        Some(self.take())
    }

    /// Drops a scan whose last report never came, for example after the scanner was unplugged.
    pub fn reset(&mut self) {
        *self = Self::new(self.layout);
    }

    /// Hands over the scan gathered so far and starts afresh.
    fn take(&mut self) -> Payload {
        let text = String::from_utf8_lossy(&self.data).into_owned();
        let symbology = self.symbology.take();
        self.reset();
        Payload { text, symbology }
    }

    /// Ends the scan in progress as a misread.
    fn misread(&mut self) -> Payload {
        let mut payload = self.take();
        payload.text.push(char::REPLACEMENT_CHARACTER);
        payload
    }
}

/// The AIM identifier in a report, if the scanner sent one: some scanners zero these bytes when
/// the identifier is turned off.
fn aim(bytes: &[u8]) -> Option<String> {
    let is_aim =
        bytes.len() == 3 && bytes[0] == b']' && bytes[1..].iter().all(u8::is_ascii_graphic);
    is_aim.then(|| String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scanned-data report: header bytes as given, then `data` in the data area, zero padding,
    /// Honeywell's code ID byte, the reserved byte and the flags byte.
    fn report(len: u8, aim: [u8; 3], data: &[u8], code_id: u8, flags: u8) -> Vec<u8> {
        let mut r = vec![REPORT_ID, len];
        r.extend_from_slice(&aim);
        r.extend_from_slice(data);
        r.resize(61, 0);
        r.extend([code_id, 0x00, flags]);
        r
    }

    fn pa(aim: &str, text: &str) -> Payload {
        Payload { text: text.to_owned(), symbology: Some(aim.to_owned()) }
    }

    fn check(reports: &[Vec<u8>], expected: &[Payload]) {
        let mut dec = HidPosDecoder::new(HidPosLayout::Honeywell);
        let got: Vec<Payload> = reports.iter().filter_map(|r| dec.push(r)).collect();
        assert_eq!(got, expected);
    }

    /// A Newland scanned-data report: the data from byte 2, Newland's symbology byte at 62.
    fn newland(len: u8, data: &[u8], symbology: u8, flags: u8) -> Vec<u8> {
        let mut r = vec![REPORT_ID, len];
        r.extend_from_slice(data);
        r.resize(62, 0);
        r.extend([symbology, flags]);
        r
    }

    #[test]
    fn newland_reports_are_read_from_byte_two() {
        let mut dec = HidPosDecoder::new(HidPosLayout::for_vendor(0x1eab));
        let r = newland(14, b"88000001234010", b'2', 0);
        assert_eq!(r.len(), 64);
        assert_eq!(dec.push(&r), Some(Payload { text: "88000001234010".into(), symbology: None }));
        // A long payload over two reports.
        let text: Vec<u8> = (0..70).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(dec.push(&newland(56, &text[..56], b'Q', 1)), None);
        let joined = dec.push(&newland(14, &text[56..], b'Q', 0)).unwrap();
        assert_eq!(joined.text.as_bytes(), &text[..]);
        // Read with Honeywell's layout the same report loses its first three digits.
        let mut wrong = HidPosDecoder::new(HidPosLayout::Honeywell);
        assert_ne!(wrong.push(&r).unwrap().text, "88000001234010");
        assert_eq!(HidPosLayout::for_vendor(0x0c2e), HidPosLayout::Honeywell);
    }

    #[test]
    fn single_report_scans() {
        // A Scanline card's Code 128 as a Honeywell scanner reports it (its code ID 'j').
        let r = report(14, *b"]C0", b"88000001234010", b'j', 0x00);
        assert_eq!(r.len(), 64);
        assert_eq!(&r[..8], &[0x02, 0x0e, 0x5d, 0x43, 0x30, 0x38, 0x38, 0x30]);
        check(&[r], &[pa("]C0", "88000001234010")]);
        // The same card's QR code ('s'), then a legacy Code 39 ID ('b'), back to back.
        check(
            &[
                report(14, *b"]Q1", b"88000001234010", b's', 0),
                report(6, *b"]A0", b"123456", b'b', 0),
            ],
            &[pa("]Q1", "88000001234010"), pa("]A0", "123456")],
        );
        // Data after the length byte is padding, whatever it holds.
        check(&[report(3, *b"]C0", b"123GARBAGE", b'j', 0)], &[pa("]C0", "123")]);
        // AIM identifier turned off: zero bytes.
        check(
            &[report(4, [0, 0, 0], b"4242", 0, 0)],
            &[Payload { text: "4242".into(), symbology: None }],
        );
    }

    #[test]
    fn multi_report_scan_is_joined() {
        // A 60-byte QR payload: 56 bytes with the continuation flag, then the last 4 without.
        let text: Vec<u8> = (0..60).map(|i| b'A' + (i % 26) as u8).collect();
        let first = report(56, *b"]Q1", &text[..56], b's', 0x01);
        let last = report(4, *b"]Q1", &text[56..], b's', 0x00);
        assert_eq!((first[1], first[63], last[1], last[63]), (0x38, 0x01, 0x04, 0x00));
        check(&[first, last], &[pa("]Q1", std::str::from_utf8(&text).unwrap())]);
        // Only bit 0 of the flags byte counts.
        check(
            &[
                report(2, *b"]C0", b"12", 0, 0xfe),
                report(2, *b"]C0", b"34", 0, 0x03),
                report(2, *b"]C0", b"56", 0, 0x02),
            ],
            &[pa("]C0", "12"), pa("]C0", "3456")],
        );
    }

    #[test]
    fn other_reports_are_ignored() {
        // Another report ID (a vendor response), and an empty read.
        let mut vendor = report(4, *b"]C0", b"1234", 0, 0);
        vendor[0] = 0xfd;
        check(&[vendor, vec![], report(2, *b"]C0", b"42", 0, 0)], &[pa("]C0", "42")]);
    }

    #[test]
    fn reports_that_lie_end_the_scan_as_a_misread() {
        // A length byte past the data area: no panic, no partial lookup.
        let misread = Payload { text: "\u{fffd}".into(), symbology: None };
        check(&[report(200, *b"]C0", b"12345", 0, 0)], std::slice::from_ref(&misread));
        check(&[report(57, *b"]C0", b"12345", 0, 0)], std::slice::from_ref(&misread));
        // A truncated continuation report after a good first part.
        let first = report(56, *b"]C0", &[b'1'; 56], 0, 0x01);
        let cut = report(4, *b"]C0", b"2222", 0, 0)[..10].to_vec();
        let mut dec = HidPosDecoder::new(HidPosLayout::Honeywell);
        assert_eq!(dec.push(&first), None);
        let out = dec.push(&cut).unwrap();
        assert_eq!(out.text, format!("{}\u{fffd}", "1".repeat(56)));
        assert_eq!(out.symbology.as_deref(), Some("]C0"));
        // The decoder starts afresh afterwards.
        assert_eq!(dec.push(&report(2, *b"]C0", b"42", 0, 0)), Some(pa("]C0", "42")));
        // Just the report ID.
        check(&[vec![REPORT_ID]], &[misread]);
    }

    #[test]
    fn endless_continuation_is_cut_off() {
        let mut dec = HidPosDecoder::new(HidPosLayout::Honeywell);
        let more = report(56, *b"]Q1", &[b'9'; 56], 0, 0x01);
        let mut out = Vec::new();
        for _ in 0..40 {
            out.extend(dec.push(&more));
        }
        assert_eq!(out.len(), 1);
        assert!(out[0].text.len() > MAX_PAYLOAD && out[0].text.len() <= MAX_PAYLOAD + DATA_MAX);
        // The last report of the long scan is dropped; the next scan is clean.
        assert_eq!(dec.push(&report(1, *b"]Q1", b"9", 0, 0)), None);
        assert_eq!(dec.push(&report(2, *b"]C0", b"42", 0, 0)), Some(pa("]C0", "42")));
    }

    #[test]
    fn reset_drops_a_scan_in_progress() {
        let mut dec = HidPosDecoder::new(HidPosLayout::Honeywell);
        assert_eq!(dec.push(&report(56, *b"]Q1", &[b'1'; 56], 0, 0x01)), None);
        dec.reset();
        assert_eq!(dec.push(&report(2, *b"]C0", b"42", 0, 0)), Some(pa("]C0", "42")));
    }

    #[test]
    fn data_is_not_filtered() {
        check(&[report(4, *b"]C0", b"1\r\xff2", 0, 0)], &[pa("]C0", "1\r\u{fffd}2")]);
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x0bad_f00d_u64;
        let mut dec = HidPosDecoder::new(HidPosLayout::Honeywell);
        for _ in 0..20_000 {
            let len = (xorshift(&mut seed) % 80) as usize;
            let mut r: Vec<u8> = (0..len).map(|_| xorshift(&mut seed) as u8).collect();
            // Mostly the right report ID and a plausible length, so every path is reached.
            if let Some(id) = r.first_mut()
                && !xorshift(&mut seed).is_multiple_of(8)
            {
                *id = REPORT_ID;
            }
            if r.len() > 1 && !xorshift(&mut seed).is_multiple_of(4) {
                r[1] %= 60;
            }
            if let Some(p) = dec.push(&r) {
                assert!(p.text.chars().count() <= MAX_PAYLOAD + DATA_MAX + 1);
            }
        }
    }
}
