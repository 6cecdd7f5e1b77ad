//! A certificate's SHA-256 fingerprint, the way both programs speak of it: the server prints
//! the one of its certificate, a station pins it. Written as 32 upper-case hex pairs joined by
//! colons (how browsers show it); read with or without the colons.

use sha2::{Digest, Sha256};

/// The SHA-256 of a DER certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a SHA-256 fingerprint is 64 hex digits (colons allowed)")]
pub struct NotAFingerprint;

impl Fingerprint {
    /// The fingerprint of a certificate in DER.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = NotAFingerprint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex: Vec<u8> = s.bytes().filter(|c| *c != b':' && !c.is_ascii_whitespace()).collect();
        if hex.len() != 64 {
            return Err(NotAFingerprint);
        }
        let digit = |c: u8| char::from(c).to_digit(16).ok_or(NotAFingerprint);
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::try_from(digit(hex[2 * i])? * 16 + digit(hex[2 * i + 1])?)
                .map_err(|_| NotAFingerprint)?;
        }
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_back_what_they_print() {
        let fp = Fingerprint::of(b"a certificate");
        let shown = fp.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(shown.parse::<Fingerprint>(), Ok(fp));
        assert_eq!(shown.replace(':', "").to_lowercase().parse::<Fingerprint>(), Ok(fp));
        assert_eq!("AB".repeat(32).parse::<Fingerprint>(), Ok(Fingerprint([0xAB; 32])));
        for bad in ["AB:CD", &"ZZ".repeat(32), &"A".repeat(65), ""] {
            assert_eq!(bad.parse::<Fingerprint>(), Err(NotAFingerprint), "{bad}");
        }
    }
}
