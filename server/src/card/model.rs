//! The plain data of ID cards: a CR80 card's size, the bitmap geometry a printer draws it at,
//! what goes on a card, the paper a sheet of cards is printed on, and what can be wrong with
//! them. A leaf: the store keeps printers and card content in these types, and `card` draws
//! from them.

use chrono::NaiveDate;

/// CR80 card width in millimetres.
pub const CARD_WIDTH_MM: f32 = 85.6;
/// CR80 card height in millimetres.
pub const CARD_HEIGHT_MM: f32 = 53.98;

/// The bitmap a printer prints a card side from: its size in pixels and its resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CardError {
    #[error("the resolution must be between 150 and 1200 dpi")]
    Resolution,
    #[error(
        "a {width} x {height} pixel bitmap at {dpi} dpi is not a CR80 card (about {want_w} x \
         {want_h} pixels); check the printer's bitmap size"
    )]
    NotCr80 { width: u32, height: u32, dpi: u32, want_w: u32, want_h: u32 },
    #[error("the card code {0} cannot be drawn as a barcode")]
    Code(String),
    #[error("the stored photo could not be read")]
    Photo,
}

impl Geometry {
    /// 300 dpi, the resolution of most card printers: 1012 x 638 pixels.
    pub const DEFAULT: Self = Self { width: 1012, height: 638, dpi: 300 };

    /// Checks a printer's bitmap: a landscape CR80 card within 5% at the given resolution.
    pub fn new(width: u32, height: u32, dpi: u32) -> Result<Self, CardError> {
        if !(150..=1200).contains(&dpi) {
            return Err(CardError::Resolution);
        }
        let want_w = (CARD_WIDTH_MM / 25.4 * dpi as f32).round() as u32;
        let want_h = (CARD_HEIGHT_MM / 25.4 * dpi as f32).round() as u32;
        let near = |got: u32, want: u32| got.abs_diff(want) * 20 <= want;
        if !near(width, want_w) || !near(height, want_h) {
            return Err(CardError::NotCr80 { width, height, dpi, want_w, want_h });
        }
        Ok(Self { width, height, dpi })
    }

    /// Pixels for a horizontal distance in millimetres on this bitmap.
    pub(crate) fn x(&self, mm: f32) -> f32 {
        mm * self.width as f32 / CARD_WIDTH_MM
    }

    /// Pixels for a vertical distance in millimetres on this bitmap.
    pub(crate) fn y(&self, mm: f32) -> f32 {
        mm * self.height as f32 / CARD_HEIGHT_MM
    }

    /// Whole pixels per barcode module of `mils` thousandths of an inch, at least two.
    pub(crate) fn module(&self, mils: u32) -> u32 {
        ((self.dpi * mils + 500) / 1000).max(2)
    }
}

/// What goes on one client's card.
#[derive(Debug, Clone)]
pub struct CardContent {
    pub agency: String,
    pub agency_phone: String,
    pub return_address: String,
    /// The name the client goes by.
    pub name: String,
    pub client_number: u32,
    pub code: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// The stored photo (JPEG), if any.
    pub photo: Option<Vec<u8>>,
}

/// Paper for sheets of cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Letter,
    A4,
}

impl Paper {
    /// Width and height in points.
    pub(crate) fn size(self) -> (f32, f32) {
        match self {
            Self::Letter => (612.0, 792.0),
            Self::A4 => (595.28, 841.89),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Letter => "letter",
            Self::A4 => "a4",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "letter" => Some(Self::Letter),
            "a4" => Some(Self::A4),
            _ => None,
        }
    }

    /// The IPP media keyword for this paper.
    pub fn media(self) -> &'static str {
        match self {
            Self::Letter => "na_letter_8.5x11in",
            Self::A4 => "iso_a4_210x297mm",
        }
    }
}

/// CR80 at a resolution: the bitmap a sheet printer's cards are drawn at.
pub fn cr80_at(dpi: u32) -> (u32, u32) {
    (
        (CARD_WIDTH_MM / 25.4 * dpi as f32).round() as u32,
        (CARD_HEIGHT_MM / 25.4 * dpi as f32).round() as u32,
    )
}
