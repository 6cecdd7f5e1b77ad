//! HUD HashStatus 4 (SHA-256 (RHY)) for hashed exports: each name as the SHA-256 of its
//! American Soundex, the SSN as its last four characters followed by the SHA-256 of the SSN
//! padded to nine with `x`.

use sha2::{Digest, Sha256};

/// American Soundex: the first letter and three digits.
pub fn soundex(name: &str) -> String {
    let code = |c: char| match c {
        'B' | 'F' | 'P' | 'V' => '1',
        'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => '2',
        'D' | 'T' => '3',
        'L' => '4',
        'M' | 'N' => '5',
        'R' => '6',
        'H' | 'W' => '-',
        _ => '0',
    };
    let letters: Vec<char> =
        name.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_uppercase()).collect();
    let Some(&first) = letters.first() else { return String::new() };
    let mut out = String::from(first);
    let mut last = code(first);
    for &c in &letters[1..] {
        let d = code(c);
        if d == '-' {
            // H and W do not separate letters with the same code.
            continue;
        }
        if d != '0' && d != last {
            out.push(d);
            if out.len() == 4 {
                break;
            }
        }
        last = d;
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

fn sha256_hex(s: &str) -> String {
    crate::store::hex(&Sha256::digest(s.as_bytes()))
}

/// HUD HashStatus 4 for a name: SHA-256 of its Soundex; empty stays empty.
pub fn hash_name(name: &str) -> String {
    let s = soundex(name);
    if s.is_empty() { String::new() } else { sha256_hex(&s) }
}

/// HUD HashStatus 4 for an SSN: the last four characters of the SSN padded to nine with `x`,
/// followed by the SHA-256 of the padded SSN.
pub fn hash_ssn(ssn: &str) -> String {
    let padded = format!("{ssn:x>9}");
    format!("{}{}", &padded[padded.len() - 4..], sha256_hex(&padded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soundex_follows_the_american_rules() {
        for (name, code) in [
            ("Robert", "R163"),
            ("Rupert", "R163"),
            ("Rubin", "R150"),
            ("Ashcraft", "A261"),
            ("Ashcroft", "A261"),
            ("Tymczak", "T522"),
            ("Pfister", "P236"),
            ("Honeyman", "H555"),
            ("Lee", "L000"),
            ("", ""),
        ] {
            assert_eq!(soundex(name), code, "{name}");
        }
    }

    #[test]
    fn hashed_values_follow_hash_status_4() {
        assert_eq!(hash_name("Robert"), sha256_hex("R163"));
        assert_eq!(hash_name(""), "");
        let h = hash_ssn("123456789");
        assert!(h.starts_with("6789"));
        assert_eq!(h.len(), 4 + 64);
        assert_eq!(&h[4..], sha256_hex("123456789"));
        assert_eq!(&hash_ssn("6789")[4..], sha256_hex("xxxxx6789"));
    }
}
