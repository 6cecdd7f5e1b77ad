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
