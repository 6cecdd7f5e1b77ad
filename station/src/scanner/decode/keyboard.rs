//! Keyboard wedge decoding (interim: replaced by the full decoder).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Us,
    Uk,
    De,
    Fr,
    Es,
}

pub struct KeyboardDecoder;

impl KeyboardDecoder {
    pub fn new(_layout: Layout, _framing: super::framing::Framing) -> Self {
        Self
    }
    pub fn push_evdev(&mut self, _code: u16, _value: i32) -> Option<super::Payload> {
        None
    }
    pub fn reset(&mut self) {}
}
