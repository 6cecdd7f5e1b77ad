//! Magnetic stripe decoding (interim: replaced by the full decoder).

pub struct Tracks;

#[derive(Debug)]
pub struct MagError;

pub fn parse_magtek_report(_report: &[u8]) -> Result<Tracks, MagError> {
    Err(MagError)
}

pub fn card_key(_t: &Tracks) -> Option<String> {
    None
}
