//! Serial framing (interim: replaced by the full decoder).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framing {
    #[serde(default)]
    pub prefix: String,
    #[serde(default = "default_suffix")]
    pub suffix: String,
    #[serde(default)]
    pub aim_id: bool,
    #[serde(default = "default_max_len")]
    pub max_len: usize,
}

fn default_suffix() -> String {
    "\r".into()
}
fn default_max_len() -> usize {
    256
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            suffix: default_suffix(),
            aim_id: false,
            max_len: default_max_len(),
        }
    }
}

pub struct FrameDecoder {
    framing: Framing,
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new(framing: Framing) -> Self {
        Self { framing, buf: Vec::new() }
    }

    pub fn push(&mut self, bytes: &[u8]) -> Vec<super::Payload> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if !self.buf.is_empty() {
                    let text = String::from_utf8_lossy(&self.buf).into_owned();
                    let text =
                        text.strip_prefix(self.framing.prefix.as_str()).unwrap_or(&text).to_owned();
                    out.push(super::Payload { text, symbology: None });
                    self.buf.clear();
                }
            } else {
                self.buf.push(b);
            }
        }
        out
    }

    pub fn reset(&mut self) {
        self.buf.clear();
    }
}
