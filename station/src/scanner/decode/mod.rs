//! Pure decoders from what devices send to clean payloads: serial framing (`framing`), keyboard
//! wedge key events and boot-keyboard reports (`keyboard`), HID POS reports (`hidpos`),
//! magnetic-stripe tracks (`magstripe`) and prox card numbers (`prox`). No IO.

pub mod framing;
pub mod hidpos;
pub mod keyboard;
pub mod magstripe;
pub mod prox;

/// A payload a device produced, with framing, prefix, suffix and AIM identifier removed, ready
/// for `scanline_core::card_code::classify` (which decides "misread").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub text: String,
    /// The AIM symbology identifier the device sent (for example `]C0` for Code 128), if any.
    pub symbology: Option<String>,
}

/// What a serial or keyboard-wedge device reads, which decides how its text becomes the key
/// the card table is searched by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// Barcodes: the text is the code.
    #[default]
    Barcode,
    /// A magnetic-stripe reader typing its tracks (`%B...?;...?`): the card number is the key,
    /// and the name on track 1 is dropped here.
    Magstripe,
    /// A prox reader typing the card number, optionally as `FAC:NUM`.
    Prox,
}

impl Content {
    /// The lookup text for a payload. A swipe or prox read that cannot be decoded becomes text
    /// the core rules call a misread, never another card's number.
    pub fn normalise(self, text: &str) -> String {
        const UNREADABLE: &str = "\u{FFFD}";
        match self {
            Self::Barcode => text.to_owned(),
            Self::Magstripe => magstripe::card_key(&magstripe::parse_keyboard_tracks(text))
                .unwrap_or_else(|| UNREADABLE.to_owned()),
            Self::Prox => {
                prox::parse_keyboard_output(text).unwrap_or_else(|_| UNREADABLE.to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Content;

    #[test]
    fn content_normalises_swipes_and_prox_reads() {
        let swipe = "%B6012345678901234^EXAMPLE/ANA^2912101?;6012345678901234=2912101?";
        assert_eq!(Content::Magstripe.normalise(swipe), "6012345678901234");
        assert!(!Content::Magstripe.normalise(swipe).contains("EXAMPLE"));
        assert_eq!(Content::Magstripe.normalise("%E?;E?"), "\u{FFFD}");
        assert_eq!(Content::Prox.normalise("12:34567"), "12:34567");
        assert_eq!(Content::Prox.normalise("zz"), "\u{FFFD}");
        assert_eq!(Content::Barcode.normalise("88000000001013"), "88000000001013");
    }
}
