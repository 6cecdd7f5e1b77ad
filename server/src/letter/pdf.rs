//! Text documents as PDF: US Letter pages of lines of text and thin rules. The text is drawn in
//! the bundled fonts by the cards' fallback chain, each font embedded whole as a CID TrueType
//! font with a ToUnicode map, so the words can be searched, copied and read back by a text
//! extractor. No shaping: each character is its font's glyph, which serves Latin, Greek and
//! Cyrillic text (a letter's languages) exactly.

use std::collections::BTreeMap;

use pdf_writer::types::UnicodeCmap;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::card::text::{Embeddable, Weight, font_of};

/// US Letter, in points.
pub const PAGE: (f32, f32) = (612.0, 792.0);

enum Item {
    Text { x: f32, y: f32, size: f32, weight: Weight, text: String },
    Rule { x1: f32, x2: f32, y: f32 },
}

/// A document being laid out: pages of items placed in points from the bottom left.
#[derive(Default)]
pub struct Doc {
    pages: Vec<Vec<Item>>,
}

/// One font as embedded: the glyphs used, with the character each draws.
struct Used {
    font: Embeddable,
    glyphs: BTreeMap<u16, char>,
}

impl Doc {
    /// Starts a new page; later items go on it.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
    }

    fn current(&mut self) -> &mut Vec<Item> {
        if self.pages.is_empty() {
            self.new_page();
        }
        self.pages.last_mut().expect("a page")
    }

    /// A line of text with its baseline at `y`, starting at `x`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, weight: Weight, text: &str) {
        self.current().push(Item::Text { x, y, size, weight, text: text.to_owned() });
    }

    /// A thin horizontal rule.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        self.current().push(Item::Rule { x1, x2, y });
    }

    /// How wide `text` is at `size` points.
    pub fn width(size: f32, weight: Weight, text: &str) -> f32 {
        text.chars()
            .map(|c| match font_of(weight, c) {
                Some(f) => {
                    let gid = f.face.glyph_index(c).map_or(0, |g| g.0);
                    advance(&f, gid) * size / 1000.0
                }
                None => size / 2.0,
            })
            .sum()
    }

    /// The PDF. The same document gives the same bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut pdf = Pdf::new();
        let mut next = 3;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        // Every font the text needs, in a fixed order, with the glyphs it draws.
        let mut used: BTreeMap<(bool, usize), Used> = BTreeMap::new();
        for page in &self.pages {
            for item in page {
                if let Item::Text { weight, text, .. } = item {
                    for c in text.chars() {
                        if let Some(f) = font_of(*weight, c) {
                            let gid = f.face.glyph_index(c).map_or(0, |g| g.0);
                            used.entry(f.key)
                                .or_insert_with(|| Used { font: f, glyphs: BTreeMap::new() })
                                .glyphs
                                .entry(gid)
                                .or_insert(c);
                        }
                    }
                }
            }
        }
        let names: BTreeMap<(bool, usize), String> =
            used.keys().enumerate().map(|(i, k)| (*k, format!("F{i}"))).collect();
        let mut font_refs = Vec::new();
        for (key, u) in &used {
            let (type0, cid, descriptor, file, cmap) =
                (alloc(), alloc(), alloc(), alloc(), alloc());
            let base = Name(b"Embedded");
            pdf.type0_font(type0)
                .base_font(base)
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(cid)
                .to_unicode(cmap);
            let info =
                SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
            let mut c = pdf.cid_font(cid);
            c.subtype(CidFontType::Type2)
                .base_font(base)
                .system_info(info)
                .font_descriptor(descriptor);
            c.default_width(500.0);
            c.cid_to_gid_map_predefined(Name(b"Identity"));
            let mut w = c.widths();
            for &gid in u.glyphs.keys() {
                w.consecutive(gid, [advance(&u.font, gid)]);
            }
            w.finish();
            c.finish();
            let face = u.font.face;
            let scale = 1000.0 / face.units_per_em() as f32;
            let b = face.global_bounding_box();
            pdf.font_descriptor(descriptor)
                .name(base)
                .flags(FontFlags::NON_SYMBOLIC)
                .bbox(Rect::new(
                    f32::from(b.x_min) * scale,
                    f32::from(b.y_min) * scale,
                    f32::from(b.x_max) * scale,
                    f32::from(b.y_max) * scale,
                ))
                .italic_angle(0.0)
                .ascent(f32::from(face.ascender()) * scale)
                .descent(f32::from(face.descender()) * scale)
                .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
                .stem_v(80.0)
                .font_file2(file);
            let packed = miniz_oxide::deflate::compress_to_vec_zlib(u.font.file, 6);
            let mut stream = pdf.stream(file, &packed);
            stream.filter(Filter::FlateDecode);
            stream.pair(Name(b"Length1"), u.font.file.len() as i32);
            stream.finish();
            let mut map = UnicodeCmap::new(Name(b"Scanline-UTF16"), info);
            for (&gid, &ch) in &u.glyphs {
                map.pair(gid, ch);
            }
            pdf.cmap(cmap, &map.finish());
            font_refs.push((names[key].clone(), type0));
        }
        let mut page_refs = Vec::new();
        for page in &self.pages {
            let (page_id, content_id) = (alloc(), alloc());
            let mut content = Content::new();
            for item in page {
                match item {
                    Item::Text { x, y, size, weight, text } => {
                        content.begin_text();
                        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y]);
                        // Runs of characters in the same font.
                        let mut run: Option<((bool, usize), Vec<u8>)> = None;
                        let flush =
                            |content: &mut Content, run: &mut Option<((bool, usize), Vec<u8>)>| {
                                if let Some((key, bytes)) = run.take() {
                                    content.set_font(Name(names[&key].as_bytes()), *size);
                                    content.show(Str(&bytes));
                                }
                            };
                        for c in text.chars() {
                            let Some(f) = font_of(*weight, c) else { continue };
                            let gid = f.face.glyph_index(c).map_or(0, |g| g.0);
                            if run.as_ref().is_some_and(|(k, _)| *k != f.key) {
                                flush(&mut content, &mut run);
                            }
                            run.get_or_insert_with(|| (f.key, Vec::new()))
                                .1
                                .extend(gid.to_be_bytes());
                        }
                        flush(&mut content, &mut run);
                        content.end_text();
                    }
                    Item::Rule { x1, x2, y } => {
                        content.set_stroke_gray(0.4);
                        content.set_line_width(0.6);
                        content.move_to(*x1, *y);
                        content.line_to(*x2, *y);
                        content.stroke();
                    }
                }
            }
            pdf.stream(content_id, &content.finish());
            let mut p = pdf.page(page_id);
            p.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
            p.parent(Ref::new(2));
            p.contents(content_id);
            let mut resources = p.resources();
            let mut fonts = resources.fonts();
            for (name, r) in &font_refs {
                fonts.pair(Name(name.as_bytes()), *r);
            }
            fonts.finish();
            resources.finish();
            p.finish();
            page_refs.push(page_id);
        }
        pdf.catalog(Ref::new(1)).pages(Ref::new(2));
        pdf.pages(Ref::new(2)).kids(page_refs.iter().copied()).count(page_refs.len() as i32);
        pdf.finish()
    }
}

/// A glyph's advance in thousandths of an em.
fn advance(f: &Embeddable, gid: u16) -> f32 {
    let units = f.face.glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(gid)).unwrap_or(0);
    f32::from(units) * 1000.0 / f.face.units_per_em() as f32
}
