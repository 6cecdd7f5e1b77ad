//! 125 kHz proximity cards: decodes the 26-bit HID H10301 Wiegand format and normalises what a
//! keyboard-mode reader (RFIDeas pcProx) types, so that a prox card has one key in the card table
//! however the reader is set up: `"{facility}:{number}"`, or the bare number when the reader
//! does not send the facility code.
//!
//! It deliberately does not handle other Wiegand formats (35-bit Corporate 1000, 37-bit H10304),
//! hexadecimal reader output, or card serial numbers of 13.56 MHz cards; those fail with an error
//! rather than being guessed at. It does no IO.

use std::fmt;

/// A card number in the H10301 layout: facility (site) code and card number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProxCard {
    pub facility: u16,
    pub number: u32,
}

impl fmt::Display for ProxCard {
    /// The card-table key: `"{facility}:{number}"` in decimal without leading zeros, for
    /// example `18:12345`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.facility, self.number)
    }
}

/// Why prox data could not be turned into a card key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProxError {
    #[error("more than 26 bits: not an H10301 card")]
    NotH10301,
    #[error("leading even parity bit does not match: the card was misread")]
    EvenParity,
    #[error("trailing odd parity bit does not match: the card was misread")]
    OddParity,
    #[error("the reader sent no card number")]
    Empty,
    #[error("the reader output is not a decimal card number or FAC:NUM pair")]
    NotDecimal,
    #[error("the facility code or card number is too large")]
    OutOfRange,
}

/// Decodes a 26-bit H10301 frame, first bit received in bit 25:
///
/// ```text
/// bit  25   24..17        16..1          0
///      E    facility (8)  number (16)    O
/// E: even parity over bits 24..13 (facility and the high 4 bits of the number)
/// O: odd parity over bits 12..1 (the low 12 bits of the number)
/// ```
///
/// Both parity bits are checked: a single flipped bit in a short read is the usual way a prox
/// read goes wrong, and it must come out as a misread, never as another card.
pub fn decode_h10301(bits: u32) -> Result<ProxCard, ProxError> {
    if bits >> 26 != 0 {
        return Err(ProxError::NotH10301);
    }
    // Counting the parity bit in: the even half must hold an even number of ones in total, the
    // odd half an odd number.
    let even_half = (bits >> 13) & 0x1fff;
    let odd_half = bits & 0x1fff;
    if !even_half.count_ones().is_multiple_of(2) {
        return Err(ProxError::EvenParity);
    }
    if odd_half.count_ones().is_multiple_of(2) {
        return Err(ProxError::OddParity);
    }
    Ok(ProxCard { facility: ((bits >> 17) & 0xff) as u16, number: (bits >> 1) & 0xffff })
}

/// Normalises what a pcProx reader in keyboard mode typed for one card (the keyboard decoder has
/// already removed the Enter): `12345`, `0012345` (fixed-width output), or `18:12345` with the
/// facility code. Surrounding whitespace is ignored. With a facility the result is the same key
/// as `ProxCard`'s `Display`; without, the number with its leading zeros removed (`0` for zero).
/// Signs, spaces inside, other separators and hexadecimal are refused.
pub fn parse_keyboard_output(raw: &str) -> Result<String, ProxError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ProxError::Empty);
    }
    match s.split_once(':') {
        Some((facility, number)) => {
            let facility = u16::try_from(decimal(facility)?).map_err(|_| ProxError::OutOfRange)?;
            let number = u32::try_from(decimal(number)?).map_err(|_| ProxError::OutOfRange)?;
            Ok(ProxCard { facility, number }.to_string())
        }
        None => {
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ProxError::NotDecimal);
            }
            // No numeric range here: readers print long formats as long decimals, and the key
            // only has to be the same for the same card.
            let trimmed = s.trim_start_matches('0');
            Ok(if trimmed.is_empty() { "0" } else { trimmed }.to_owned())
        }
    }
}

/// A non-empty run of ASCII digits as a number. `str::parse` alone would also take a `+` sign.
fn decimal(s: &str) -> Result<u64, ProxError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProxError::NotDecimal);
    }
    let digits = s.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    digits.parse().map_err(|_| ProxError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame written as its fields, `"E FFFFFFFF NNNNNNNNNNNNNNNN O"`, first bit left.
    fn frame(fields: &str) -> u32 {
        u32::from_str_radix(&fields.replace(' ', ""), 2).unwrap()
    }

    fn check(bits: u32, expected: Result<(u16, u32), ProxError>) {
        let got = decode_h10301(bits).map(|c| (c.facility, c.number));
        assert_eq!(got, expected, "bits {bits:026b}");
    }

    #[test]
    fn h10301_frames() {
        // Frames as a Wiegand receiver shifts them in, first bit received highest.
        check(frame("1 00000001 0000000000000001 0"), Ok((1, 1)));
        check(frame("0 00010010 0011000000111001 1"), Ok((18, 12345)));
        check(frame("1 01111011 0001000111010111 0"), Ok((123, 4567)));
        check(frame("0 11111111 1111111111111111 1"), Ok((255, 65535)));
        check(frame("0 00000000 0000000000000000 1"), Ok((0, 0)));
        // All zeros fails the odd parity: a reader that saw no card.
        check(0, Err(ProxError::OddParity));
        check(frame("0 00000001 0000000000000001 0"), Err(ProxError::EvenParity));
        check(frame("1 00000001 0000000000000001 1"), Err(ProxError::OddParity));
        // A 27th bit.
        check((1 << 26) | frame("1 00000001 0000000000000001 0"), Err(ProxError::NotH10301));
        check(u32::MAX, Err(ProxError::NotH10301));
    }

    #[test]
    fn every_single_bit_error_is_caught() {
        for good in [0x0202_0002_u32, 0x0024_6073, 0x02f6_23ae, 0x01ff_ffff, 0x0000_0001] {
            assert!(decode_h10301(good).is_ok());
            for bit in 0..26 {
                assert!(
                    decode_h10301(good ^ (1 << bit)).is_err(),
                    "{good:#x} with bit {bit} flipped"
                );
            }
        }
    }

    #[test]
    fn display_is_the_card_key() {
        assert_eq!(ProxCard { facility: 18, number: 12345 }.to_string(), "18:12345");
        assert_eq!(decode_h10301(0x0202_0002).unwrap().to_string(), "1:1");
        assert_eq!(ProxCard { facility: 0, number: 7 }.to_string(), "0:7");
    }

    fn check_kb(raw: &str, expected: Result<&str, ProxError>) {
        assert_eq!(parse_keyboard_output(raw).as_deref(), expected.as_deref(), "output {raw:?}");
    }

    #[test]
    fn keyboard_output() {
        // pcProx defaults: the card number alone, or zero-padded to a fixed width.
        check_kb("12345", Ok("12345"));
        check_kb("0012345", Ok("12345"));
        check_kb("00000", Ok("0"));
        check_kb(" 12345\r\n", Ok("12345"));
        // With the facility code: the same key as decode_h10301 gives.
        check_kb("18:12345", Ok("18:12345"));
        check_kb("018:0012345", Ok("18:12345"));
        check_kb("0:0", Ok("0:0"));
        check_kb("65535:4294967295", Ok("65535:4294967295"));
        // A long decimal from a long format is kept as it is.
        check_kb("000123456789012345678901234567890", Ok("123456789012345678901234567890"));
        check_kb("", Err(ProxError::Empty));
        check_kb(" \r", Err(ProxError::Empty));
        check_kb("65536:1", Err(ProxError::OutOfRange));
        check_kb("1:4294967296", Err(ProxError::OutOfRange));
        check_kb("1:99999999999999999999999", Err(ProxError::OutOfRange));
        for bad in
            ["+12345", "12 345", "1A2B", "18-12345", ":12345", "18:", "18:1:2", "１２３", "1.5"]
        {
            check_kb(bad, Err(ProxError::NotDecimal));
        }
    }

    #[test]
    fn keyboard_output_matches_decoded_frames() {
        let card = decode_h10301(0x0024_6073).unwrap();
        assert_eq!(
            parse_keyboard_output(&format!("{:03}:{:05}", card.facility, card.number)),
            Ok(card.to_string())
        );
    }
}
