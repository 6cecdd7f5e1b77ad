//! The two barcodes of a card (DESIGN §4), as module grids drawn later at whole pixels:
//! Code 128 in code set C (two digits per symbol, so a 14-digit card code is 7 symbols) and a
//! QR code of the same digits.

use qrcode::{Color, EcLevel, QrCode};

/// Bar and space widths of Code 128 symbol values 0..=105, in modules (each sums to 11).
const PATTERNS: [&str; 106] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232",
];
const START_C: usize = 105;
const STOP: &str = "2331112";

/// Quiet zone on each side of a Code 128 symbol, in modules (the standard asks for ten).
pub const CODE128_QUIET: u32 = 10;
/// Quiet zone around a QR code, in modules (the standard asks for four).
pub const QR_QUIET: u32 = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BarcodeError {
    #[error("Code 128 set C needs an even number of digits and nothing else")]
    NotEvenDigits,
    #[error("the code does not fit in a QR code")]
    QrTooLong,
}

/// Code 128 set C: the bars as a run of modules, `true` for black, without quiet zones.
pub fn code128c(digits: &str) -> Result<Vec<bool>, BarcodeError> {
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(BarcodeError::NotEvenDigits);
    }
    let values: Vec<usize> = digits
        .as_bytes()
        .chunks(2)
        .map(|pair| usize::from(pair[0] - b'0') * 10 + usize::from(pair[1] - b'0'))
        .collect();
    let check = values.iter().enumerate().fold(START_C, |sum, (i, v)| sum + (i + 1) * v) % 103;
    let mut modules = Vec::with_capacity(11 * (values.len() + 2) + 13);
    let mut push = |pattern: &str| {
        for (i, w) in pattern.bytes().enumerate() {
            let black = i % 2 == 0;
            modules.extend(std::iter::repeat_n(black, usize::from(w - b'0')));
        }
    };
    push(PATTERNS[START_C]);
    for v in values {
        push(PATTERNS[v]);
    }
    push(PATTERNS[check]);
    push(STOP);
    Ok(modules)
}

/// A QR code as a square grid of modules, `true` for dark, without the quiet zone.
pub struct QrGrid {
    pub width: usize,
    pub dark: Vec<bool>,
}

/// QR code of the card code at error correction level M (15% of the symbol can be scuffed).
pub fn qr(code: &str) -> Result<QrGrid, BarcodeError> {
    let qr = QrCode::with_error_correction_level(code.as_bytes(), EcLevel::M)
        .map_err(|_| BarcodeError::QrTooLong)?;
    Ok(QrGrid {
        width: qr.width(),
        dark: qr.to_colors().into_iter().map(|c| c == Color::Dark).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_is_eleven_modules_and_distinct() {
        for p in PATTERNS {
            assert_eq!(p.bytes().map(|b| u32::from(b - b'0')).sum::<u32>(), 11, "{p}");
        }
        let mut sorted = PATTERNS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), PATTERNS.len());
    }

    #[test]
    fn a_card_code_is_start_seven_symbols_check_and_stop() {
        let m = code128c("88000012345015").unwrap();
        assert_eq!(m.len(), 11 * 9 + 13);
        assert!(m[0] && *m.last().unwrap(), "begins and ends with a bar");
    }

    #[test]
    fn odd_or_non_digit_input_is_refused() {
        assert_eq!(code128c("123"), Err(BarcodeError::NotEvenDigits));
        assert_eq!(code128c("12a4"), Err(BarcodeError::NotEvenDigits));
        assert_eq!(code128c(""), Err(BarcodeError::NotEvenDigits));
    }

    #[test]
    fn the_check_symbol_follows_the_weighted_sum() {
        // "1234": values 12 and 34; (105 + 1*12 + 2*34) % 103 = 82.
        let m = code128c("1234").unwrap();
        let check: Vec<bool> = m[33..44].to_vec();
        let mut expected = Vec::new();
        for (i, w) in PATTERNS[82].bytes().enumerate() {
            expected.extend(std::iter::repeat_n(i % 2 == 0, usize::from(w - b'0')));
        }
        assert_eq!(check, expected);
    }

    #[test]
    fn a_card_code_fits_the_smallest_qr_version() {
        let g = qr("88000012345015").unwrap();
        assert_eq!(g.width, 21);
        assert_eq!(g.dark.len(), 21 * 21);
    }
}
