//! Text on cards in any script: the bundled fonts (Noto for most scripts, Droid Sans Fallback
//! for Chinese and Japanese, Nanum Square for Korean), a fallback chain chosen per character, shaping with
//! rustybuzz (joining Arabic, conjuncts in Indic scripts, stacked Vietnamese accents), and glyph
//! outlines filled with anti-aliasing by tiny-skia.

use std::sync::LazyLock;

use rustybuzz::ttf_parser::{GlyphId, OutlineBuilder};
use rustybuzz::{Face, UnicodeBuffer};
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Transform};

macro_rules! font {
    ($file:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fonts/", $file))
    };
}

/// Regular faces, in fallback order: the first font that has a character draws it.
static REGULAR_FILES: &[&[u8]] = &[
    font!("NotoSans-Regular.ttf"),
    font!("NotoSansArabic-Regular.ttf"),
    font!("NotoSansHebrew-Regular.ttf"),
    font!("NotoSansDevanagari-Regular.ttf"),
    font!("NotoSansBengali-Regular.ttf"),
    font!("NotoSansGurmukhi-Regular.ttf"),
    font!("NotoSansGujarati-Regular.ttf"),
    font!("NotoSansOriya-Regular.ttf"),
    font!("NotoSansTamil-Regular.ttf"),
    font!("NotoSansTelugu-Regular.ttf"),
    font!("NotoSansKannada-Regular.ttf"),
    font!("NotoSansMalayalam-Regular.ttf"),
    font!("NotoSansSinhala-Regular.ttf"),
    font!("NotoSansThai-Regular.ttf"),
    font!("NotoSansLao-Regular.ttf"),
    font!("NotoSansKhmer-Regular.ttf"),
    font!("NotoSansMyanmar-Regular.ttf"),
    font!("NotoSansEthiopic-Regular.ttf"),
    font!("NotoSansArmenian-Regular.ttf"),
    font!("NotoSansGeorgian-Regular.ttf"),
    font!("DroidSansFallbackFull.ttf"),
    font!("NanumSquareR.ttf"),
];

static BOLD_LATIN: &[u8] = font!("NotoSans-Bold.ttf");

struct Fonts {
    regular: Vec<Face<'static>>,
    /// Bold Latin, Greek and Cyrillic first, then the regular chain for every other script.
    bold: Face<'static>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| Fonts {
    regular: REGULAR_FILES
        .iter()
        .map(|data| Face::from_slice(data, 0).expect("bundled font parses"))
        .collect(),
    bold: Face::from_slice(BOLD_LATIN, 0).expect("bundled font parses"),
});

/// Weight of a line of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

impl Fonts {
    /// The fallback chain for a weight: index 0 is the bold face when bold.
    fn face(&self, weight: Weight, index: usize) -> &Face<'static> {
        match (weight, index) {
            (Weight::Bold, 0) => &self.bold,
            _ => &self.regular[index],
        }
    }

    fn count(&self) -> usize {
        self.regular.len()
    }

    fn find(&self, weight: Weight, c: char) -> Option<usize> {
        (0..self.count()).find(|&i| self.face(weight, i).glyph_index(c).is_some())
    }
}

/// A bundled font a document can embed: which one (bold Latin, or a place in the regular
/// chain), its file and its parsed face.
#[derive(Clone, Copy)]
pub struct Embeddable {
    pub key: (bool, usize),
    pub file: &'static [u8],
    pub face: &'static Face<'static>,
}

/// The bundled font that draws `c` at `weight`, by the same fallback chain the cards use; `None`
/// when no bundled font has it.
pub fn font_of(weight: Weight, c: char) -> Option<Embeddable> {
    let fonts = &*FONTS;
    let index = fonts.find(weight, c)?;
    let bold = weight == Weight::Bold && index == 0;
    Some(Embeddable {
        key: (bold, index),
        file: if bold { BOLD_LATIN } else { REGULAR_FILES[index] },
        face: fonts.face(weight, index),
    })
}

/// One shaped glyph, placed in pixels relative to the line's origin on the baseline.
#[derive(Debug, Clone, Copy)]
struct Placed {
    font: usize,
    glyph: u16,
    x: f32,
    y: f32,
}

/// A line of shaped text at a pixel size, ready to draw.
#[derive(Debug, Clone)]
pub struct Line {
    glyphs: Vec<Placed>,
    weight: Weight,
    /// Pixels per em.
    pub size: f32,
    /// Advance width in pixels.
    pub width: f32,
    /// Characters no bundled font has (drawn as an empty box).
    pub missing: usize,
}

fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF)
}

/// First strong direction of the text: right-to-left when it starts with Hebrew or Arabic.
fn paragraph_rtl(text: &str) -> bool {
    text.chars().find(|c| c.is_alphabetic()).is_some_and(is_rtl)
}

/// Splits text into runs that one font can draw: a character stays in the current run's font
/// when that font has it (spaces, digits, combining marks), otherwise the first font that has
/// it starts a new run.
fn runs(fonts: &Fonts, weight: Weight, text: &str) -> (Vec<(usize, String)>, usize) {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut missing = 0;
    for c in text.chars() {
        if let Some((font, run)) = out.last_mut()
            && (fonts.face(weight, *font).glyph_index(c).is_some() || c.is_whitespace())
        {
            run.push(c);
            continue;
        }
        let font = fonts.find(weight, c).unwrap_or_else(|| {
            if !c.is_control() {
                missing += 1;
            }
            0
        });
        match out.last_mut() {
            Some((f, run)) if *f == font => run.push(c),
            _ => out.push((font, c.to_string())),
        }
    }
    (out, missing)
}

/// Shapes one line of text at `size` pixels per em.
pub fn shape(text: &str, size: f32, weight: Weight) -> Line {
    let fonts = &*FONTS;
    let (mut runs, missing) = runs(fonts, weight, text);
    if paragraph_rtl(text) {
        runs.reverse();
    }
    let mut glyphs = Vec::new();
    let mut pen = 0.0f32;
    for (font, run) in runs {
        let face = fonts.face(weight, font);
        let scale = size / face.units_per_em() as f32;
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(&run);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(face, &[], buffer);
        for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
            glyphs.push(Placed {
                font,
                glyph: info.glyph_id as u16,
                x: pen + pos.x_offset as f32 * scale,
                y: pos.y_offset as f32 * scale,
            });
            pen += pos.x_advance as f32 * scale;
        }
    }
    Line { glyphs, weight, size, width: pen, missing }
}

/// Shapes text at the largest size from `max_size` down to `min_size` that fits `max_width`;
/// text still too wide at the smallest size is cut and ends with an ellipsis.
pub fn fit(text: &str, max_width: f32, max_size: f32, min_size: f32, weight: Weight) -> Line {
    let line = shape(text, max_size, weight);
    if line.width <= max_width {
        return line;
    }
    // A little under the exact ratio, so rounding cannot leave it a hair too wide.
    let size = (max_size * max_width / line.width * 0.995).max(min_size);
    let line = shape(text, size, weight);
    if line.width <= max_width {
        return line;
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
        let shorter = shape(&cut, size, weight);
        if shorter.width <= max_width {
            return Line { missing: line.missing, ..shorter };
        }
    }
    shape("…", size, weight)
}

/// Breaks text into lines no wider than `max_width` at word boundaries (a single word wider
/// than the line is cut by `fit`).
pub fn wrap(text: &str, max_width: f32, size: f32, weight: Weight) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate =
            if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
        if current.is_empty() || shape(&candidate, size, weight).width <= max_width {
            current = candidate;
        } else {
            lines.push(fit(&current, max_width, size, size, weight));
            word.clone_into(&mut current);
        }
    }
    if !current.is_empty() {
        lines.push(fit(&current, max_width, size, size, weight));
    }
    lines
}

/// Builds a tiny-skia path from a glyph outline, scaled to pixels and flipped to y-down.
struct Outline {
    path: PathBuilder,
    scale: f32,
    x: f32,
    y: f32,
}

impl Outline {
    fn p(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.path.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.path.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x, y) = self.p(x, y);
        self.path.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x2, y2) = self.p(x2, y2);
        let (x, y) = self.p(x, y);
        self.path.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.path.close();
    }
}

/// Draws a shaped line with its origin at `x` on the baseline `baseline`: every glyph's outline
/// goes into one path, filled once.
pub fn draw(pixmap: &mut Pixmap, line: &Line, x: f32, baseline: f32, rgb: [u8; 3]) {
    let fonts = &*FONTS;
    let mut paint = Paint::default();
    paint.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    paint.anti_alias = true;
    let mut outline = Outline { path: PathBuilder::new(), scale: 0.0, x: 0.0, y: 0.0 };
    for g in &line.glyphs {
        let face = fonts.face(line.weight, g.font);
        outline.scale = line.size / face.units_per_em() as f32;
        outline.x = x + g.x;
        outline.y = baseline - g.y;
        // A glyph without an outline (a space) adds nothing.
        let _ = face.outline_glyph(GlyphId(g.glyph), &mut outline);
    }
    if let Some(path) = outline.path.finish() {
        pixmap.fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_many_scripts_need_no_missing_glyphs() {
        for name in [
            "José Ñúñez",
            "Nguyễn Thị Phượng",
            "Дмитрий Иванов",
            "Γιώργος",
            "محمد عبد الله",
            "דוד כהן",
            "राम कुमार",
            "আমিনা",
            "ਗੁਰਪ੍ਰੀਤ",
            "தமிழ்செல்வி",
            "ሰላም ተስፋዬ",
            "สมชาย",
            "ဇော်ဇော်",
            "សុខា",
            "Արամ",
            "გიორგი",
            "王小明",
            "山田 太郎",
            "김민준",
        ] {
            let line = shape(name, 48.0, Weight::Bold);
            assert_eq!(line.missing, 0, "{name}");
            assert!(line.width > 20.0, "{name}: {}", line.width);
            assert!(line.glyphs.iter().all(|g| g.glyph != 0), "{name} drew a .notdef glyph");
        }
    }

    #[test]
    fn arabic_is_shaped_and_laid_right_to_left() {
        // Joined Arabic uses contextual forms: the shaped glyphs differ from the isolated ones.
        let joined = shape("سلام", 40.0, Weight::Regular);
        let isolated: Vec<u16> = "سلام"
            .chars()
            .map(|c| shape(&c.to_string(), 40.0, Weight::Regular).glyphs[0].glyph)
            .collect();
        let shaped: Vec<u16> = joined.glyphs.iter().map(|g| g.glyph).collect();
        assert_ne!(shaped, isolated);
        assert!(paragraph_rtl("سلام Ali"));
        assert!(!paragraph_rtl("Ali سلام"));
    }

    #[test]
    fn a_character_no_font_has_is_counted() {
        // A private-use code point is in no bundled font.
        assert_eq!(shape("A\u{E000}B", 30.0, Weight::Regular).missing, 1);
    }

    #[test]
    fn fit_shrinks_then_cuts_with_an_ellipsis() {
        let short = fit("Ana", 500.0, 60.0, 30.0, Weight::Bold);
        assert!((short.size - 60.0).abs() < f32::EPSILON);
        let long = "Maximiliana Guadalupe Fernández de la Concepción";
        let shrunk = fit(long, 900.0, 60.0, 20.0, Weight::Bold);
        assert!(shrunk.width <= 900.0 && shrunk.size < 60.0);
        let cut = fit(long, 300.0, 60.0, 40.0, Weight::Bold);
        assert!(cut.width <= 300.0);
        assert!((cut.size - 40.0).abs() < 0.01);
    }

    #[test]
    fn wrap_keeps_every_word_within_the_width() {
        let lines = wrap(
            "If found, please return it to the front desk of the agency",
            300.0,
            24.0,
            Weight::Regular,
        );
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| l.width <= 300.0));
    }
}
