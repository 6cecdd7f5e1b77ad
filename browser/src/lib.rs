//! What the pages run in the browser (DESIGN §17), built into the server and the station.
//!
//! Camera scanning, for the staff web batch page and the kiosk: a "Scan with camera" button
//! opens the device's camera and feeds each card code it reads into the same path as a typed
//! code. The browser's own barcode detector is used where it has one; the card-code reader
//! shipped here, compiled to WebAssembly, everywhere else, so nothing is downloaded at run
//! time and no frame leaves the device. And the phone station's rules: `scanline-core`
//! compiled to WebAssembly (the `phone` crate).

/// The page script: `ScanlineCamera.attach({...})`.
pub const SCRIPT: &str = include_str!("../camera.js");

/// The card-code reader, as WebAssembly (served as `application/wasm`).
pub const READER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/reader.wasm"));

/// The phone station's rules, as WebAssembly.
pub const PHONE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/phone.wasm"));

/// The content type WebAssembly must be served with for the browser to compile it as it loads.
pub const WASM_CONTENT_TYPE: &str = "application/wasm";

#[cfg(test)]
mod tests {
    fn exports(wasm: &[u8], names: &[&str]) {
        assert_eq!(&wasm[..4], b"\0asm", "the WebAssembly magic number");
        for name in names {
            let found = wasm.windows(name.len()).any(|w| w == name.as_bytes());
            assert!(found, "it exports {name}");
        }
    }

    #[test]
    fn both_are_webassembly_with_their_functions() {
        exports(super::READER, &["frame_buffer", "read_frame", "text_buffer", "memory"]);
        exports(super::PHONE, &["input_buffer", "call", "output_buffer", "memory"]);
    }
}
