//! Serial framing: cuts the byte stream of a serial or USB virtual-COM scanner into payloads at
//! the configured terminator, then strips the configured prefix and the AIM symbology
//! identifier. The keyboard decoder reuses the same stripping and length limit.
//!
//! It deliberately does not judge what it cuts out: bytes are decoded lossily (invalid UTF-8
//! becomes U+FFFD) and control characters are kept, because `scanline_core::card_code::classify`
//! is the one place that says "misread". It does no IO and keeps no timers: a scanner that
//! stops in the middle of a frame leaves it pending until the next terminator or `reset`.

use super::Payload;

/// How a scanner frames each payload on the wire. Part of a scanner profile
/// (`firmware-configs/*.toml`) and of the station configuration.
///
/// A `suffix` made only of CR and LF (`"\r"`, `"\n"`, `"\r\n"`, and also an empty suffix, since
/// a byte stream needs some end) accepts any of CR, LF or CRLF as the end of a payload: scanners
/// get reprogrammed at the counter, and a stray LF after the expected CR must not start a new,
/// empty payload, so the empty frames between CR and LF are dropped. Any other suffix (such as
/// ETX, `"\u{3}"`) must match exactly.
///
/// The prefix is stripped before the AIM identifier, because scanners send the configured
/// prefix first, then the identifier, then the data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framing {
    /// Bytes the scanner sends before each payload (for example STX, `"\u{2}"`); removed when
    /// present, tolerated when missing.
    #[serde(default)]
    pub prefix: String,
    /// The terminator ending each payload; default `"\r"`.
    #[serde(default = "default_suffix")]
    pub suffix: String,
    /// The device prepends an AIM symbology identifier (`]` plus two characters, `]C0` for
    /// Code 128); it is removed from the text and reported as `Payload::symbology`.
    #[serde(default)]
    pub aim_id: bool,
    /// Longest frame, in bytes (characters for keyboard wedges), before the decoder gives up
    /// waiting for a terminator and hands over what it has, unstripped, for the core to call
    /// too long; default 256. A value below the core's `MAX_PAYLOAD_LEN` (64) is raised to it,
    /// so a cut-off frame can never pass for a card.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
}

fn default_suffix() -> String {
    "\r".to_owned()
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

impl Framing {
    /// Whether the suffix is a line end, in which case CR, LF and CRLF all end a frame.
    fn line_ends(&self) -> bool {
        self.suffix.bytes().all(|b| b == b'\r' || b == b'\n')
    }

    /// The frame length past which a frame is cut off and handed over as it is. A `max_len`
    /// below the core's own limit is raised to it, so a cut-off frame always reaches the core
    /// longer than any card holds and is judged a misread, never looked up.
    pub(super) fn overflow_len(&self) -> usize {
        self.max_len.max(scanline_core::card_code::MAX_PAYLOAD_LEN)
    }

    /// Turns one complete frame (terminator already removed) into a payload: removes the prefix
    /// if present, then the AIM identifier if the device sends one.
    pub(super) fn split(&self, frame: &str) -> Payload {
        let text = frame.strip_prefix(self.prefix.as_str()).unwrap_or(frame);
        if self.aim_id
            && let Some((aim, rest)) = split_aim(text)
        {
            return Payload { text: rest.to_owned(), symbology: Some(aim.to_owned()) };
        }
        Payload { text: text.to_owned(), symbology: None }
    }
}

/// Splits `]` + symbology character + modifier character off the front. AIM ISO/IEC 15424
/// identifiers are printable ASCII; anything else means the scanner was not sending one after
/// all, and the text is left alone for the core to judge.
fn split_aim(text: &str) -> Option<(&str, &str)> {
    let b = text.as_bytes();
    let is_aim = b.len() >= 3 && b[0] == b']' && b[1..3].iter().all(u8::is_ascii_graphic);
    is_aim.then(|| text.split_at(3))
}

/// Cuts a serial byte stream into payloads.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    framing: Framing,
    /// Bytes of the frame in progress, terminator bytes included until they are recognised.
    buf: Vec<u8>,
    /// A frame overflowed and was handed over; the rest of it is dropped up to the terminator.
    discarding: bool,
}

impl FrameDecoder {
    pub fn new(framing: Framing) -> Self {
        Self { framing, buf: Vec::new(), discarding: false }
    }

    /// Feeds bytes as they came off the port. Reads split frames anywhere, and one read may
    /// hold several frames, so this returns every payload completed by these bytes, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Payload> {
        let mut out = Vec::new();
        for &b in bytes {
            self.push_byte(b, &mut out);
        }
        out
    }

    /// Drops a partial frame, for example after the scanner was unplugged mid-frame, so its
    /// first bytes are not glued to the next scan.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.discarding = false;
    }

    fn push_byte(&mut self, b: u8, out: &mut Vec<Payload>) {
        self.buf.push(b);
        if self.strip_terminator() {
            self.finish(out);
            return;
        }
        // A partial multi-byte suffix at the end does not count against the limit.
        if !self.discarding && self.buf.len() > self.framing.overflow_len() + self.suffix_tail() {
            // No terminator in sight: hand over what came, as one payload the core will call
            // too long, and skip the rest of this frame rather than splitting it into pieces
            // that could each look like a card.
            out.push(Payload {
                text: String::from_utf8_lossy(&self.buf).into_owned(),
                symbology: None,
            });
            self.discarding = true;
        }
        if self.discarding {
            // Keep only what could be the start of a multi-byte suffix.
            let keep = self.suffix_tail();
            let drop = self.buf.len().saturating_sub(keep);
            self.buf.drain(..drop);
        }
    }

    /// Bytes of the suffix that may sit at the end of the buffer before the suffix completes.
    fn suffix_tail(&self) -> usize {
        if self.framing.line_ends() { 0 } else { self.framing.suffix.len().saturating_sub(1) }
    }

    /// If the buffer now ends with a terminator, removes it and says so.
    fn strip_terminator(&mut self) -> bool {
        if self.framing.line_ends() {
            if matches!(self.buf.last(), Some(b'\r' | b'\n')) {
                self.buf.pop();
                return true;
            }
            return false;
        }
        let suffix = self.framing.suffix.as_bytes();
        if self.buf.ends_with(suffix) {
            self.buf.truncate(self.buf.len() - suffix.len());
            return true;
        }
        false
    }

    fn finish(&mut self, out: &mut Vec<Payload>) {
        if self.discarding {
            self.discarding = false;
            self.buf.clear();
            return;
        }
        if self.buf.is_empty() {
            // The LF of a CRLF, or a scanner that sends its terminator twice.
            return;
        }
        let frame = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        out.push(self.framing.split(&frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(prefix: &str, suffix: &str, aim_id: bool) -> Framing {
        Framing { prefix: prefix.to_owned(), suffix: suffix.to_owned(), aim_id, max_len: 256 }
    }

    fn p(text: &str) -> Payload {
        Payload { text: text.to_owned(), symbology: None }
    }

    fn pa(aim: &str, text: &str) -> Payload {
        Payload { text: text.to_owned(), symbology: Some(aim.to_owned()) }
    }

    /// Feeds `chunks` one read at a time and checks every payload that came out.
    fn check(framing: &Framing, chunks: &[&[u8]], expected: &[Payload]) {
        let mut dec = FrameDecoder::new(framing.clone());
        let got: Vec<Payload> = chunks.iter().flat_map(|c| dec.push(c)).collect();
        assert_eq!(got, expected, "framing {framing:?}, chunks {chunks:?}");
        // The same bytes one at a time, the way a slow USB-serial adapter delivers them.
        let mut dec = FrameDecoder::new(framing.clone());
        let all: Vec<u8> = chunks.concat();
        let got: Vec<Payload> = all.iter().flat_map(|b| dec.push(&[*b])).collect();
        assert_eq!(got, expected, "framing {framing:?}, byte by byte");
    }

    #[test]
    fn line_ends() {
        let cr = Framing::default();
        // A serial scanner with a CR suffix.
        check(&cr, &[b"88000001234010\r"], &[p("88000001234010")]);
        // Reprogrammed to CRLF; the LF must not make an empty payload.
        check(&cr, &[b"88000001234010\r\n"], &[p("88000001234010")]);
        check(&cr, &[b"12345\n67890\n"], &[p("12345"), p("67890")]);
        check(&cr, &[b"\r\n\r\n12345\r\n\r\n"], &[p("12345")]);
        // Several scans in one read, and one scan split over three reads.
        check(&cr, &[b"111\r222\r\n333\r"], &[p("111"), p("222"), p("333")]);
        check(&cr, &[b"8800", b"00012340", b"10\r"], &[p("88000001234010")]);
        // CR and LF of one CRLF arriving in separate reads.
        check(&framing("", "\r\n", false), &[b"42\r", b"\n43\r", b"\n"], &[p("42"), p("43")]);
        // An empty suffix is taken as a line end: a serial stream needs one.
        check(&framing("", "", false), &[b"42\n"], &[p("42")]);
        // No terminator yet: nothing comes out.
        check(&cr, &[b"12345"], &[]);
    }

    #[test]
    fn exact_suffix() {
        // STX ... ETX framing, common on older RS-232 readers.
        let etx = framing("\u{2}", "\u{3}", false);
        check(&etx, &[b"\x02123\x03\x02456\x03"], &[p("123"), p("456")]);
        // Prefix missing after a reconfiguration: tolerated.
        check(&etx, &[b"789\x03"], &[p("789")]);
        // With an exact suffix, CR and LF are data (and the core's business).
        check(&etx, &[b"12\r3\x03"], &[p("12\r3")]);
        // A two-byte suffix split across reads.
        let cr_etx = framing("", "\r\u{3}", false);
        check(&cr_etx, &[b"55\r", b"\x0366\r\x03"], &[p("55"), p("66")]);
        check(&cr_etx, &[b"5\r5\r\x03"], &[p("5\r5")]);
    }

    #[test]
    fn prefix_and_aim() {
        let aim = framing("", "\r", true);
        // Code 128 (]C0), QR (]Q1), Interleaved 2 of 5 (]I0) from a scanner with AIM IDs on.
        check(&aim, &[b"]C088000001234010\r"], &[pa("]C0", "88000001234010")]);
        check(&aim, &[b"]Q188000001234010\r\n"], &[pa("]Q1", "88000001234010")]);
        check(&aim, &[b"]I0", b"123456\r"], &[pa("]I0", "123456")]);
        // AIM on but the frame does not start with one: left alone.
        check(&aim, &[b"123456\r"], &[p("123456")]);
        check(&aim, &[b"]C\r"], &[p("]C")]);
        // An identifier and nothing else: an empty payload the core calls a misread.
        check(&aim, &[b"]C0\r"], &[pa("]C0", "")]);
        // Prefix comes first, then the identifier.
        let both = framing("SL", "\r", true);
        check(&both, &[b"SL]C012345\r"], &[pa("]C0", "12345")]);
        check(&both, &[b"]C012345\r"], &[pa("]C0", "12345")]);
        // AIM off: an identifier is data.
        check(&framing("", "\r", false), &[b"]C012345\r"], &[p("]C012345")]);
    }

    #[test]
    fn bytes_are_decoded_lossily_and_not_filtered() {
        let cr = Framing::default();
        check(&cr, &[b"12\xff34\r"], &[p("12\u{fffd}34")]);
        check(&cr, &[b"12\x0734\r"], &[p("12\u{7}34")]);
        // A multi-byte character split across reads survives.
        check(&cr, &[b"caf\xc3", b"\xa9\r"], &[p("café")]);
    }

    #[test]
    fn overlong_frame_is_handed_over_once_then_resynced() {
        let f = Framing { max_len: 100, ..Framing::default() };
        let long = vec![b'7'; 250];
        let mut dec = FrameDecoder::new(f.clone());
        let out = dec.push(&long);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text.len(), 101);
        assert!(scanline_core::card_code::classify(&out[0].text).is_err());
        // The tail of the long frame is dropped; the next frame is clean.
        assert_eq!(dec.push(b"7777\r12345\r"), vec![p("12345")]);
        // Exactly max_len bytes is still a frame.
        let exact = [vec![b'1'; 100], b"\r".to_vec()].concat();
        check(&f, &[&exact], &[p(&"1".repeat(100))]);
    }

    #[test]
    fn small_max_len_is_raised_to_the_core_limit() {
        let f = Framing { max_len: 4, ..Framing::default() };
        // Longer than 4 but a plausible card: it must not be cut into a lookup.
        check(&f, &[b"123456\r"], &[p("123456")]);
        let mut dec = FrameDecoder::new(f);
        let out = dec.push(&[b'1'; 70]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            scanline_core::card_code::classify(&out[0].text),
            Err(scanline_core::card_code::Misread::TooLong(65))
        );
    }

    #[test]
    fn overflow_resyncs_on_a_split_two_byte_suffix() {
        let f = Framing { max_len: 64, ..framing("", "\r\u{3}", false) };
        let mut dec = FrameDecoder::new(f);
        let mut stream = vec![b'9'; 65];
        stream.push(b'\r');
        assert_eq!(dec.push(&stream).len(), 1);
        assert_eq!(dec.push(b"\x03123\r\x03"), vec![p("123")]);
    }

    #[test]
    fn reset_drops_the_partial_frame() {
        let mut dec = FrameDecoder::new(Framing::default());
        assert!(dec.push(b"8800000").is_empty());
        dec.reset();
        assert_eq!(dec.push(b"12345\r"), vec![p("12345")]);
        // Reset also ends a discard.
        let mut dec = FrameDecoder::new(Framing::default());
        assert_eq!(dec.push(&[b'1'; 300]).len(), 1);
        dec.reset();
        assert_eq!(dec.push(b"12345\r"), vec![p("12345")]);
    }

    #[test]
    fn serde_defaults_and_unknown_fields() {
        let f: Framing = toml::from_str("").unwrap();
        assert_eq!(f, Framing::default());
        assert_eq!(f.suffix, "\r");
        assert_eq!(f.max_len, 256);
        let f: Framing =
            toml::from_str("prefix = \"\\u0002\"\nsuffix = \"\\r\\n\"\naim_id = true").unwrap();
        assert_eq!(
            f,
            Framing { prefix: "\u{2}".into(), suffix: "\r\n".into(), aim_id: true, max_len: 256 }
        );
        assert!(toml::from_str::<Framing>("terminator = \"\\r\"").is_err());
    }

    /// A small deterministic generator, so the fuzz-ish tests need no extra crate.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn garbage_never_panics_and_payloads_stay_bounded() {
        let framings = [
            Framing::default(),
            framing("\u{2}", "\u{3}", true),
            framing("ab", "\r\u{3}", true),
            Framing { max_len: 0, ..framing("", "\n", true) },
        ];
        let mut seed = 0x5eed_u64;
        for f in framings {
            let mut dec = FrameDecoder::new(f.clone());
            for _ in 0..2_000 {
                let len = (xorshift(&mut seed) % 40) as usize;
                let chunk: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = xorshift(&mut seed);
                        // Bias towards terminators and AIM brackets to reach every branch.
                        match r % 8 {
                            0 => b'\r',
                            1 => 3,
                            2 => b']',
                            _ => (r >> 8) as u8,
                        }
                    })
                    .collect();
                for payload in dec.push(&chunk) {
                    let bound = f.overflow_len() + f.suffix.len();
                    assert!(payload.text.chars().count() <= bound);
                }
                if xorshift(&mut seed).is_multiple_of(50) {
                    dec.reset();
                }
            }
        }
    }
}
