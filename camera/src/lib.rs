//! Camera scanning (DESIGN §17), for the staff web batch page and the kiosk: a "Scan with
//! camera" button opens the device's camera and feeds each card code it reads into the same
//! path as a typed code. The browser's own barcode detector is used where it has one; the
//! card-code reader shipped here, compiled to WebAssembly, everywhere else, so nothing is
//! downloaded at run time and no frame leaves the device.

/// The page script: `ScanlineCamera.attach({...})`.
pub const SCRIPT: &str = include_str!("../camera.js");

/// The card-code reader, as WebAssembly (served as `application/wasm`).
pub const READER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scanline_reader.wasm"));

/// The content type the reader must be served with for the browser to compile it as it loads.
pub const READER_CONTENT_TYPE: &str = "application/wasm";

#[cfg(test)]
mod tests {
    #[test]
    fn the_reader_is_webassembly_with_its_three_functions() {
        assert_eq!(&super::READER[..4], b"\0asm", "the WebAssembly magic number");
        for name in ["frame_buffer", "read_frame", "text_buffer", "memory"] {
            let found = super::READER.windows(name.len()).any(|w| w == name.as_bytes());
            assert!(found, "the reader exports {name}");
        }
    }
}
