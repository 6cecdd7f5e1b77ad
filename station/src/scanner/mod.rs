//! Scanner and card-reader input (DESIGN §8). `decode` turns raw bytes, key events and HID
//! reports into clean payloads and is pure; `profile` reads the per-model files of
//! `firmware-configs/`; `configure` programs serial-configurable scanners; `device` is the thin
//! layer that owns the open devices and is the only code here that touches hardware.

pub mod configure;
pub mod decode;
pub mod device;
pub mod profile;
