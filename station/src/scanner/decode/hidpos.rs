//! HID POS decoding (interim: replaced by the full decoder).

#[derive(Default)]
pub struct HidPosDecoder {
    _buf: Vec<u8>,
}

impl HidPosDecoder {
    pub fn push(&mut self, _report: &[u8]) -> Option<super::Payload> {
        None
    }
    pub fn reset(&mut self) {}
}
