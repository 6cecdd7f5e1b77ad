//! Reads a card code off one camera frame (DESIGN §17): Code 128 and QR, the two symbols a
//! Scanline card carries, and nothing else, so a poster or a cereal box in view is not read.
//!
//! The page hands frames over a four-function interface with no JavaScript glue: it asks for
//! a buffer (`frame_buffer`), copies the frame's RGBA pixels into it, calls `read_frame`, and
//! reads the text back from `text_buffer`. Everything stays inside the page: no frame leaves
//! the device.

use std::cell::RefCell;

use rxing::helpers::detect_in_luma_slice_with_hints;
use rxing::{BarcodeFormat, DecodeHints};

/// The largest frame accepted, in pixels (1920 × 1080): a larger one is refused, not read.
pub const MAX_PIXELS: u32 = 1920 * 1080;

thread_local! {
    static FRAME: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The code in a frame of 8-bit grey pixels, row by row, if it shows one.
pub fn read_luma(luma: &[u8], width: u32, height: u32) -> Option<String> {
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) != luma.len() as u64 {
        return None;
    }
    let mut hints = DecodeHints {
        PossibleFormats: Some([BarcodeFormat::CODE_128, BarcodeFormat::QR_CODE].into()),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    detect_in_luma_slice_with_hints(luma, width, height, None, &mut hints)
        .ok()
        .map(|r| r.getText().to_owned())
}

/// Grey from RGBA, with the usual weights of the three colours (ITU-R BT.601).
pub fn luma_of_rgba(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8) as u8)
        .collect()
}

/// A buffer for a frame of `pixels` RGBA pixels; its address, for the page to copy into.
/// Zero when the frame is too large.
#[allow(unsafe_code, reason = "exported by name for the page")]
#[unsafe(no_mangle)]
pub extern "C" fn frame_buffer(pixels: u32) -> usize {
    if pixels > MAX_PIXELS {
        return 0;
    }
    FRAME.with_borrow_mut(|f| {
        f.clear();
        f.resize(pixels as usize * 4, 0);
        f.as_mut_ptr() as usize
    })
}

/// Reads the frame in the buffer; the length of the code found, in bytes (0 for none).
#[allow(unsafe_code, reason = "exported by name for the page")]
#[unsafe(no_mangle)]
pub extern "C" fn read_frame(width: u32, height: u32) -> u32 {
    let text = FRAME.with_borrow(|f| {
        if u64::from(width) * u64::from(height) * 4 != f.len() as u64 {
            return None;
        }
        read_luma(&luma_of_rgba(f), width, height)
    });
    TEXT.with_borrow_mut(|t| {
        t.clear();
        t.extend_from_slice(text.unwrap_or_default().as_bytes());
        t.len() as u32
    })
}

/// The address of the code `read_frame` found.
#[allow(unsafe_code, reason = "exported by name for the page")]
#[unsafe(no_mangle)]
pub extern "C" fn text_buffer() -> usize {
    TEXT.with_borrow(|t| t.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_frame_holds_no_code() {
        assert_eq!(read_luma(&vec![255; 64 * 48], 64, 48), None);
        assert_eq!(read_luma(&[0; 10], 64, 48), None, "a buffer of the wrong size");
    }

    #[test]
    fn grey_weights_cover_the_range() {
        assert_eq!(luma_of_rgba(&[255, 255, 255, 255, 0, 0, 0, 255]), vec![255, 0]);
    }
}
