//! Client ID cards (DESIGN §11): a CR80 card (85.60 x 53.98 mm) drawn straight at the printer's
//! own bitmap size and resolution, so nothing is rescaled after rendering and the barcodes keep
//! whole-pixel modules. The front carries the agency's name, the photo, the client's name and
//! number, the issue date and the same card code as Code 128 and QR; the back says the card is
//! not a government ID and where to return it. Cards come out as PNG (with the resolution
//! recorded), as a PDF of one card, or as a Letter or A4 sheet of up to ten cards. Pure: no
//! database, no HTTP.

pub mod barcode;
pub mod model;
pub mod pdf;
pub mod text;

use std::io::Cursor;
use std::sync::{Arc, LazyLock, Mutex};

use image::imageops::FilterType;
use tiny_skia::Pixmap;

pub use self::model::{
    CARD_HEIGHT_MM, CARD_WIDTH_MM, CardContent, CardError, Geometry, Paper, cr80_at,
};
use self::text::{Weight, fit, shape, wrap};

const INK: [u8; 3] = [0x11, 0x18, 0x27];
const BAND: [u8; 3] = [0x1d, 0x35, 0x57];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];
const MUTED: [u8; 3] = [0x4b, 0x55, 0x63];
const PLACEHOLDER: [u8; 3] = [0xe5, 0xe7, 0xeb];

/// One rendered side: an opaque RGB bitmap at the printer's size.
#[derive(Debug, Clone)]
pub struct Side {
    pub geometry: Geometry,
    /// Row-major RGB, three bytes a pixel.
    pub rgb: Vec<u8>,
    /// Characters of the text no bundled font could draw.
    pub missing_glyphs: usize,
}

impl Side {
    fn from_pixmap(geometry: Geometry, pixmap: &Pixmap, missing_glyphs: usize) -> Self {
        let data = pixmap.data();
        let mut rgb = vec![0u8; data.len() / 4 * 3];
        for (dst, src) in rgb.chunks_exact_mut(3).zip(data.chunks_exact(4)) {
            dst.copy_from_slice(&src[..3]);
        }
        Self { geometry, rgb, missing_glyphs }
    }

    /// PNG with its resolution in the pHYs chunk, so a printer prints it at card size.
    pub fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.geometry.width, self.geometry.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let per_metre = (f64::from(self.geometry.dpi) / 0.0254).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
        let mut writer = encoder.write_header().expect("PNG header for a valid size");
        writer.write_image_data(&self.rgb).expect("PNG data of the declared size");
        writer.finish().expect("PNG end");
        out
    }
}

fn canvas(g: Geometry) -> Pixmap {
    let mut p = Pixmap::new(g.width, g.height).expect("card bitmap size is checked");
    p.fill(tiny_skia::Color::WHITE);
    p
}

/// Fills a rectangle of whole pixels, clipped to the bitmap.
fn fill(pixmap: &mut Pixmap, x: u32, y: u32, w: u32, h: u32, rgb: [u8; 3]) {
    let (pw, ph) = (pixmap.width(), pixmap.height());
    let (x1, y1) = ((x + w).min(pw), (y + h).min(ph));
    let data = pixmap.data_mut();
    for row in y.min(ph)..y1 {
        let start = ((row * pw + x.min(pw)) * 4) as usize;
        let end = ((row * pw + x1) * 4) as usize;
        for px in data[start..end].chunks_exact_mut(4) {
            px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
        }
    }
}

/// Draws the Code 128 symbol with its left quiet zone starting at `x`; returns its full width
/// (quiet zones included).
fn draw_code128(
    pixmap: &mut Pixmap,
    modules: &[bool],
    x: u32,
    y: u32,
    module: u32,
    height: u32,
) -> u32 {
    let start = x + barcode::CODE128_QUIET * module;
    let mut i = 0;
    while i < modules.len() {
        let run = modules[i..].iter().take_while(|&&m| m == modules[i]).count();
        if modules[i] {
            fill(pixmap, start + i as u32 * module, y, run as u32 * module, height, [0, 0, 0]);
        }
        i += run;
    }
    (modules.len() as u32 + 2 * barcode::CODE128_QUIET) * module
}

fn draw_qr(p: &mut Pixmap, qr: &barcode::QrGrid, x: u32, y: u32, module: u32) {
    let origin_x = x + barcode::QR_QUIET * module;
    let origin_y = y + barcode::QR_QUIET * module;
    for (i, &dark) in qr.dark.iter().enumerate() {
        if dark {
            let (col, row) = ((i % qr.width) as u32, (i / qr.width) as u32);
            fill(p, origin_x + col * module, origin_y + row * module, module, module, [0, 0, 0]);
        }
    }
}

/// Copies the photo, cropped to the box's shape around its centre and scaled to fill it, into
/// the bitmap.
fn draw_photo(
    pixmap: &mut Pixmap,
    jpeg: &[u8],
    x: u32,
    y: u32,
    w: u32,
    h: u32,
) -> Result<(), CardError> {
    let photo = image::ImageReader::with_format(Cursor::new(jpeg), image::ImageFormat::Jpeg)
        .decode()
        .map_err(|_| CardError::Photo)?
        .into_rgb8();
    // The largest centred crop with the box's aspect ratio.
    let (pw, ph) = photo.dimensions();
    let (cw, ch) = if u64::from(pw) * u64::from(h) > u64::from(ph) * u64::from(w) {
        ((u64::from(ph) * u64::from(w) / u64::from(h)) as u32, ph)
    } else {
        (pw, (u64::from(pw) * u64::from(h) / u64::from(w)) as u32)
    };
    let (cx, cy) = ((pw - cw) / 2, (ph - ch) / 2);
    let scaled = if cw >= w && ch >= h {
        shrink(&photo, (cx, cy, cw, ch), w, h)
    } else {
        let crop = image::imageops::crop_imm(&photo, cx, cy, cw, ch).to_image();
        image::imageops::resize(&crop, w, h, FilterType::Triangle)
    };
    let width = pixmap.width();
    let data = pixmap.data_mut();
    for (row, line) in scaled.rows().enumerate() {
        let start = (((y + row as u32) * width + x) * 4) as usize;
        for (dst, src) in data[start..start + w as usize * 4].chunks_exact_mut(4).zip(line) {
            dst.copy_from_slice(&[src[0], src[1], src[2], 255]);
        }
    }
    Ok(())
}

/// Area-average reduction of the `area` (x, y, width, height) of `src` to `w` x `h`: every
/// source pixel counts once, towards the output pixel it falls in. Fast, and free of the
/// aliasing a point sample gives.
fn shrink(src: &image::RgbImage, area: (u32, u32, u32, u32), w: u32, h: u32) -> image::RgbImage {
    let (ax, ay, aw, ah) = area;
    let stride = src.width() as usize * 3;
    let raw = src.as_raw();
    let column: Vec<usize> =
        (0..aw).map(|sx| (u64::from(sx) * u64::from(w) / u64::from(aw)) as usize).collect();
    let mut per_column = vec![0u32; w as usize];
    for &c in &column {
        per_column[c] += 1;
    }
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    let mut sums = vec![[0u32; 3]; w as usize];
    let mut sy = 0;
    for oy in 0..h {
        let end = ((u64::from(oy) + 1) * u64::from(ah) / u64::from(h)) as u32;
        sums.fill([0; 3]);
        for y in sy..end {
            let start = (ay + y) as usize * stride + ax as usize * 3;
            let row = &raw[start..start + aw as usize * 3];
            for (px, &c) in row.chunks_exact(3).zip(&column) {
                let s = &mut sums[c];
                s[0] += u32::from(px[0]);
                s[1] += u32::from(px[1]);
                s[2] += u32::from(px[2]);
            }
        }
        let rows = (end - sy).max(1);
        for (s, &cols) in sums.iter().zip(&per_column) {
            let n = (cols * rows).max(1);
            out.extend(s.iter().map(|&v| ((v + n / 2) / n) as u8));
        }
        sy = end;
    }
    image::RgbImage::from_raw(w, h, out).expect("buffer of the declared size")
}

/// The front: agency band, photo, name, client number, dates and both barcodes.
pub fn front(g: Geometry, c: &CardContent) -> Result<Side, CardError> {
    let code128 = barcode::code128c(&c.code).map_err(|_| CardError::Code(c.code.clone()))?;
    let qr = barcode::qr(&c.code).map_err(|_| CardError::Code(c.code.clone()))?;
    let template = template(g, c);
    let mut p = template.front.clone();
    let mut missing = template.front_missing;
    let margin = g.x(3.0);

    // Photo, 3:4.
    let (photo_x, photo_y) = (margin as u32, g.y(12.5) as u32);
    let (photo_w, photo_h) = (g.x(20.0) as u32, g.y(26.7) as u32);
    match &c.photo {
        Some(jpeg) => draw_photo(&mut p, jpeg, photo_x, photo_y, photo_w, photo_h)?,
        None => {
            fill(&mut p, photo_x, photo_y, photo_w, photo_h, PLACEHOLDER);
            let label = shape("No photo", g.y(2.6), Weight::Regular);
            let lx = photo_x as f32 + (photo_w as f32 - label.width) / 2.0;
            text::draw(&mut p, &label, lx, photo_y as f32 + photo_h as f32 / 2.0, MUTED);
        }
    }

    // Name and details.
    let col_x = g.x(26.0);
    let col_w = g.width as f32 - col_x - margin;
    let name = fit(&c.name, col_w, g.y(6.0), g.y(3.2), Weight::Bold);
    missing += name.missing;
    text::draw(&mut p, &name, col_x, g.y(18.5), INK);
    let number = shape(&format!("Client {}", c.client_number), g.y(3.4), Weight::Regular);
    text::draw(&mut p, &number, col_x, g.y(23.8), INK);
    let dates = match c.expires_on {
        Some(exp) => format!("Issued {}  ·  Expires {}", c.issued_on, exp),
        None => format!("Issued {}", c.issued_on),
    };
    let dates = fit(&dates, col_w, g.y(2.8), g.y(2.2), Weight::Regular);
    text::draw(&mut p, &dates, col_x, g.y(28.3), MUTED);

    // Code 128, 10 mil modules, its quiet zone starting at the text column.
    let module = g.module(10);
    let bars_y = g.y(31.0) as u32;
    let bars_h = g.y(12.5) as u32;
    let bars_x = col_x as u32 - barcode::CODE128_QUIET * module;
    let bars_w = draw_code128(&mut p, &code128, bars_x, bars_y, module, bars_h);
    let digits = shape(&c.code, g.y(2.6), Weight::Regular);
    let digits_x = bars_x as f32 + (bars_w as f32 - digits.width) / 2.0;
    text::draw(&mut p, &digits, digits_x, bars_y as f32 + bars_h as f32 + g.y(3.2), INK);

    // QR, about 0.5 mm modules, in the bottom right corner with its quiet zone.
    let qr_module = ((g.dpi as f32 * 0.5 / 25.4).round() as u32).max(2);
    let qr_side = (qr.width as u32 + 2 * barcode::QR_QUIET) * qr_module;
    let qr_x = g.width - qr_side - (margin as u32).saturating_sub(barcode::QR_QUIET * qr_module);
    let qr_y = g.height - qr_side - (g.y(2.0) as u32).saturating_sub(barcode::QR_QUIET * qr_module);
    draw_qr(&mut p, &qr, qr_x, qr_y, qr_module);

    Ok(Side::from_pixmap(g, &p, missing))
}

/// Half the height of capital letters of a line, to centre it vertically in a band.
fn agency_cap_half(line: &text::Line) -> f32 {
    // Noto's capital height is 0.714 em.
    line.size * 0.714 / 2.0
}

/// The agency's band across the top of the front.
fn front_background(g: Geometry, c: &CardContent) -> (Pixmap, usize) {
    let mut p = canvas(g);
    let margin = g.x(3.0);
    let band_h = g.y(10.0);
    fill(&mut p, 0, 0, g.width, band_h as u32, BAND);
    let agency = fit(&c.agency, g.width as f32 - 2.0 * margin, g.y(4.6), g.y(2.6), Weight::Bold);
    text::draw(&mut p, &agency, margin, band_h * 0.5 + agency_cap_half(&agency), WHITE);
    (p, agency.missing)
}

/// What every card of one agency on one printer shares: the front's background and the whole
/// back, drawn once and kept.
struct Template {
    geometry: Geometry,
    agency: String,
    phone: String,
    address: String,
    front: Pixmap,
    front_missing: usize,
    back: Side,
    back_png: Vec<u8>,
}

/// Templates kept, most recently used last.
const TEMPLATES_KEPT: usize = 16;
static TEMPLATES: LazyLock<Mutex<Vec<Arc<Template>>>> = LazyLock::new(Mutex::default);

fn template(g: Geometry, c: &CardContent) -> Arc<Template> {
    let matches = |t: &Template| {
        t.geometry == g
            && t.agency == c.agency
            && t.phone == c.agency_phone
            && t.address == c.return_address
    };
    {
        let mut kept = TEMPLATES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = kept.iter().position(|t| matches(t)) {
            let t = kept.remove(i);
            kept.push(Arc::clone(&t));
            return t;
        }
    }
    let (front, front_missing) = front_background(g, c);
    let back = draw_back(g, c);
    let back_png = back.png();
    let t = Arc::new(Template {
        geometry: g,
        agency: c.agency.clone(),
        phone: c.agency_phone.clone(),
        address: c.return_address.clone(),
        front,
        front_missing,
        back,
        back_png,
    });
    let mut kept = TEMPLATES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if kept.len() >= TEMPLATES_KEPT {
        kept.remove(0);
    }
    kept.push(Arc::clone(&t));
    t
}

/// The back: "not a government ID", the agency, where to return the card, the phone number.
/// It is the same for every card of an agency, so it is drawn once and kept.
pub fn back(g: Geometry, c: &CardContent) -> Side {
    template(g, c).back.clone()
}

/// The back as PNG.
pub fn back_png(g: Geometry, c: &CardContent) -> Vec<u8> {
    template(g, c).back_png.clone()
}

fn draw_back(g: Geometry, c: &CardContent) -> Side {
    let mut p = canvas(g);
    let mut missing = 0;
    let margin = g.x(4.0);
    let width = g.width as f32 - 2.0 * margin;
    fill(&mut p, 0, 0, g.width, g.y(1.6) as u32, BAND);

    let heading = fit("NOT A GOVERNMENT ID", width, g.y(4.2), g.y(3.0), Weight::Bold);
    text::draw(&mut p, &heading, margin, g.y(9.0), INK);

    let size = g.y(2.9);
    let leading = size * 1.3;
    let mut y = g.y(15.0);
    let mut lines = wrap(
        &format!("This card identifies the holder to {} for services only.", c.agency),
        width,
        size,
        Weight::Regular,
    );
    lines.extend(wrap("If found, please return it to:", width, size, Weight::Regular));
    for line in &lines {
        missing += line.missing;
        text::draw(&mut p, line, margin, y, INK);
        y += leading;
    }
    y += leading * 0.3;
    for part in c.return_address.lines().map(str::trim).filter(|l| !l.is_empty()).take(4) {
        let line = fit(part, width, size, size * 0.8, Weight::Bold);
        missing += line.missing;
        text::draw(&mut p, &line, margin, y, INK);
        y += leading;
    }
    if !c.agency_phone.trim().is_empty() {
        let phone =
            fit(&format!("Phone {}", c.agency_phone.trim()), width, size, size * 0.8, Weight::Bold);
        text::draw(&mut p, &phone, margin, y, INK);
    }
    Side::from_pixmap(g, &p, missing)
}

/// How a set of cards is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The first card's front as PNG.
    FrontPng,
    /// The first card's back as PNG.
    BackPng,
    /// One PDF: a page per front, and the back after them when two-sided.
    Pdf,
    /// One PNG per card front (a PNG printer takes one card a job).
    PngPerCard,
    /// Sheets of ten on paper, with a mirrored page of backs when two-sided.
    Sheet(Paper),
}

/// The one way cards become files, whichever door asks (a download from the dashboard, a
/// sheet of a program's cards, a print job, the command line): the fronts of `cards` drawn at
/// `g`, the back when `two_sided`, delivered as asked. An empty list gives nothing.
pub fn assemble(
    g: Geometry,
    cards: &[CardContent],
    two_sided: bool,
    delivery: Delivery,
) -> Result<Vec<Vec<u8>>, CardError> {
    let Some(first) = cards.first() else { return Ok(Vec::new()) };
    if delivery == Delivery::BackPng {
        return Ok(vec![back_png(g, first)]);
    }
    let fronts = match delivery {
        Delivery::FrontPng => vec![front(g, first)?],
        _ => cards.iter().map(|c| front(g, c)).collect::<Result<Vec<Side>, _>>()?,
    };
    let back = two_sided.then(|| back(g, first));
    Ok(match delivery {
        Delivery::FrontPng | Delivery::PngPerCard => fronts.iter().map(Side::png).collect(),
        Delivery::BackPng | Delivery::Pdf => vec![pdf::cards(&fronts, back.as_ref())],
        Delivery::Sheet(paper) => vec![pdf::sheet(paper, &fronts, back.as_ref())],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn content() -> CardContent {
        CardContent {
            agency: "Harbor Light Community Services".into(),
            agency_phone: "(555) 010-2000".into(),
            return_address: "12 Example Street\nSpringfield, ST 00000".into(),
            name: "Nguyễn Thị Phượng".into(),
            client_number: 12345,
            code: "88000012345015".into(),
            issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            expires_on: NaiveDate::from_ymd_opt(2027, 11, 22),
            photo: None,
        }
    }

    #[test]
    fn the_default_geometry_is_cr80_at_300_dpi_and_odd_ones_are_refused() {
        assert_eq!(Geometry::new(1012, 638, 300), Ok(Geometry::DEFAULT));
        assert!(Geometry::new(1016, 648, 300).is_ok(), "printers differ by a few pixels");
        assert!(Geometry::new(2024, 1276, 600).is_ok());
        assert!(matches!(Geometry::new(638, 1012, 300), Err(CardError::NotCr80 { .. })));
        assert_eq!(Geometry::new(100, 60, 30), Err(CardError::Resolution));
    }

    #[test]
    fn sides_come_out_at_the_exact_bitmap_size() {
        for g in [
            Geometry::DEFAULT,
            Geometry::new(1016, 648, 300).unwrap(),
            Geometry::new(2024, 1276, 600).unwrap(),
        ] {
            let f = front(g, &content()).unwrap();
            assert_eq!(f.rgb.len(), (g.width * g.height * 3) as usize);
            assert_eq!(f.missing_glyphs, 0);
            let png = f.png();
            let decoded = image::load_from_memory(&png).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (g.width, g.height));
            let b = back(g, &content());
            assert_eq!(b.rgb.len(), f.rgb.len());
        }
    }

    #[test]
    fn a_bad_code_or_photo_is_an_error() {
        let mut c = content();
        c.code = "12345".into();
        assert!(matches!(front(Geometry::DEFAULT, &c), Err(CardError::Code(_))));
        let mut c = content();
        c.photo = Some(b"not a jpeg".to_vec());
        assert_eq!(front(Geometry::DEFAULT, &c).unwrap_err(), CardError::Photo);
    }
}
