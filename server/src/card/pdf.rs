//! Cards as PDF: one card (a page per side, each page exactly the bitmap at its resolution), or
//! Letter / A4 sheets of up to ten cards with cut guides for agencies without a card printer.
//! Bitmaps are embedded losslessly and placed at 1:1 for their resolution, so nothing is
//! rescaled. The output is deterministic: the same cards give the same bytes.

use pdf_writer::types::Predictor;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

use super::Side;
pub use super::model::Paper;

/// Cards on a sheet: two columns, five rows.
pub const PER_SHEET: usize = 10;
const COLUMNS: usize = 2;

/// Size of a side in points when printed at its own resolution.
fn points(side: &Side) -> (f32, f32) {
    let dpi = side.geometry.dpi as f32;
    (side.geometry.width as f32 * 72.0 / dpi, side.geometry.height as f32 * 72.0 / dpi)
}

/// The concatenated IDAT chunks of a PNG: its zlib stream.
fn idat(png: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 8;
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..(at + 8 + len).min(png.len())];
        if kind == b"IDAT" {
            out.extend_from_slice(data);
        }
        at += 12 + len;
    }
    out
}

struct Writer {
    pdf: Pdf,
    next: i32,
    pages: Vec<Ref>,
}

impl Writer {
    fn new() -> Self {
        Self { pdf: Pdf::new(), next: 3, pages: Vec::new() }
    }

    fn alloc(&mut self) -> Ref {
        let r = Ref::new(self.next);
        self.next += 1;
        r
    }

    fn image(&mut self, side: &Side) -> Ref {
        let id = self.alloc();
        // The PNG encoder's compressed, row-filtered data is exactly a Flate stream with PNG
        // predictors, which PDF readers undo themselves.
        let data = idat(&side.png());
        let mut image = self.pdf.image_xobject(id, &data);
        image.filter(Filter::FlateDecode);
        image
            .decode_parms()
            .predictor(Predictor::PngOptimum)
            .colors(3)
            .bits_per_component(8)
            .columns(side.geometry.width as i32);
        image.width(side.geometry.width as i32);
        image.height(side.geometry.height as i32);
        image.color_space().device_rgb();
        image.bits_per_component(8);
        image.finish();
        id
    }

    /// A page of `size` points showing each image (by name) at its rectangle.
    fn page(&mut self, size: (f32, f32), placed: &[(Ref, [f32; 4])], guides: bool) {
        let page_id = self.alloc();
        let content_id = self.alloc();
        let mut content = Content::new();
        let names: Vec<String> = (0..placed.len()).map(|i| format!("Im{i}")).collect();
        for (name, (_, [x, y, w, h])) in names.iter().zip(placed) {
            content.save_state();
            content.transform([*w, 0.0, 0.0, *h, *x, *y]);
            content.x_object(Name(name.as_bytes()));
            content.restore_state();
            if guides {
                content.set_stroke_gray(0.75);
                content.set_line_width(0.25);
                content.rect(*x, *y, *w, *h);
                content.stroke();
            }
        }
        let content = content.finish();
        self.pdf.stream(content_id, &content);
        let mut page = self.pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, size.0, size.1));
        page.parent(Ref::new(2));
        page.contents(content_id);
        let mut resources = page.resources();
        let mut objects = resources.x_objects();
        for (name, (image, _)) in names.iter().zip(placed) {
            objects.pair(Name(name.as_bytes()), *image);
        }
        objects.finish();
        resources.finish();
        page.finish();
        self.pages.push(page_id);
    }

    fn finish(mut self) -> Vec<u8> {
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        self.pdf.catalog(catalog).pages(tree);
        self.pdf.pages(tree).kids(self.pages.iter().copied()).count(self.pages.len() as i32);
        self.pdf.finish()
    }
}

/// Cards for a card printer: a page per front, each followed, when given, by a page with the
/// back (drawn once, shared by every card), each page the size of the bitmap at its
/// resolution.
pub fn cards(fronts: &[Side], back: Option<&Side>) -> Vec<u8> {
    let mut w = Writer::new();
    let back_image = back.map(|b| (w.image(b), points(b)));
    for front in fronts {
        let image = w.image(front);
        let (pw, ph) = points(front);
        w.page((pw, ph), &[(image, [0.0, 0.0, pw, ph])], false);
        if let Some((image, (bw, bh))) = back_image {
            w.page((bw, bh), &[(image, [0.0, 0.0, bw, bh])], false);
        }
    }
    w.finish()
}

/// Sheets of up to ten cards: for every ten fronts a page, followed, when a back is given, by a
/// page of backs placed to line up with their fronts when the sheet is printed on both sides
/// (flipped on the long edge).
pub fn sheet(paper: Paper, fronts: &[Side], back: Option<&Side>) -> Vec<u8> {
    let mut w = Writer::new();
    let (page_w, page_h) = paper.size();
    let back_image = back.map(|b| w.image(b));
    for chunk in fronts.chunks(PER_SHEET) {
        let (card_w, card_h) = points(&chunk[0]);
        let left = (page_w - card_w * COLUMNS as f32) / 2.0;
        let rows = PER_SHEET / COLUMNS;
        let top = page_h - (page_h - card_h * rows as f32) / 2.0;
        let slot = |i: usize, mirrored: bool| {
            let col = if mirrored { COLUMNS - 1 - i % COLUMNS } else { i % COLUMNS };
            let row = i / COLUMNS;
            [left + col as f32 * card_w, top - (row + 1) as f32 * card_h, card_w, card_h]
        };
        let placed: Vec<(Ref, [f32; 4])> =
            chunk.iter().enumerate().map(|(i, side)| (w.image(side), slot(i, false))).collect();
        w.page((page_w, page_h), &placed, true);
        if let Some(image) = back_image {
            let placed: Vec<(Ref, [f32; 4])> =
                (0..chunk.len()).map(|i| (image, slot(i, true))).collect();
            w.page((page_w, page_h), &placed, true);
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::Geometry;
    use super::*;

    fn side(shade: u8) -> Side {
        let g = Geometry::DEFAULT;
        Side { geometry: g, rgb: vec![shade; (g.width * g.height * 3) as usize], missing_glyphs: 0 }
    }

    fn count(haystack: &[u8], needle: &[u8]) -> usize {
        haystack.windows(needle.len()).filter(|w| *w == needle).count()
    }

    #[test]
    fn a_card_pdf_has_a_page_per_side_at_card_size() {
        let pdf = cards(&[side(200)], Some(&side(100)));
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(count(&pdf, b"/Type /Page\n"), 2, "{}", String::from_utf8_lossy(&pdf[..200]));
        // 1012 px at 300 dpi is 242.88 pt wide.
        assert!(count(&pdf, b"/MediaBox [0 0 242.88 153.12]") == 2);
        assert_eq!(cards(&[side(200)], None), cards(&[side(200)], None), "deterministic");
        let three = cards(&[side(1), side(2), side(3)], Some(&side(9)));
        assert_eq!(count(&three, b"/Type /Page\n"), 6);
        assert_eq!(count(&three, b"/Subtype /Image"), 4, "the back is embedded once");
    }

    #[test]
    fn sheets_hold_ten_cards_and_share_one_back_image() {
        let fronts: Vec<Side> = (0..23).map(|i| side(i as u8)).collect();
        let pdf = sheet(Paper::Letter, &fronts, Some(&side(1)));
        // Three sheets, each a page of fronts and a page of backs.
        assert_eq!(count(&pdf, b"/Type /Page\n"), 6);
        // 23 fronts and one back image.
        assert_eq!(count(&pdf, b"/Subtype /Image"), 24);
        let without = sheet(Paper::A4, &fronts[..3], None);
        assert_eq!(count(&without, b"/Type /Page\n"), 1);
        assert_eq!(count(&without, b"/MediaBox [0 0 595.28 841.89]"), 1);
    }
}
