//! The growth bench's plot: two log–log panels (figures against the roster size, and upload
//! against the number of stations), each figure drawn as its growth factor against the
//! smallest size, beside a dashed line for growing as fast as the size itself. Drawn with
//! tiny-skia and the cards' own fonts, written as PNG.

use anyhow::Context as _;
use scanline_server::card::text::{self, Weight};
use tiny_skia::{Color, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform};

use crate::wait::{BySize, ByStations};

const W: u32 = 1400;
const H: u32 = 640;
const PALETTE: [[u8; 3]; 6] =
    [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189], [255, 127, 14], [23, 190, 207]];
const GREY: [u8; 3] = [120, 120, 120];
const INK: [u8; 3] = [30, 30, 30];

/// One line of a panel: its name and (size, growth factor) points.
struct Series {
    name: &'static str,
    points: Vec<(f64, f64)>,
}

fn grown(xs: &[f64], values: &[f64]) -> Vec<(f64, f64)> {
    let first = values.first().copied().unwrap_or(f64::NAN);
    xs.iter()
        .zip(values)
        .map(|(&x, &v)| (x, v / first))
        .filter(|(_, f)| f.is_finite() && *f > 0.0)
        .collect()
}

/// The PNG of both sweeps.
pub(crate) fn draw(
    sizes: &[BySize],
    stations: &[ByStations],
    sweep_clients: usize,
) -> anyhow::Result<Vec<u8>> {
    let mut pixmap = Pixmap::new(W, H).context("a plot of a fixed size")?;
    pixmap.fill(Color::WHITE);
    let xs: Vec<f64> = sizes.iter().map(|r| r.clients as f64).collect();
    let pick = |f: fn(&BySize) -> f64| grown(&xs, &sizes.iter().map(f).collect::<Vec<_>>());
    let left = vec![
        Series { name: "roster snapshot time", points: pick(|r| r.snapshot_ms) },
        Series { name: "roster snapshot bytes", points: pick(|r| r.snapshot_mb) },
        Series { name: "delta sync time", points: pick(|r| r.delta_ms) },
        Series { name: "find page p99", points: pick(|r| r.find_p99_ms) },
        Series { name: "upload entries/s", points: pick(|r| r.upload_rate) },
        Series { name: "upload request p99", points: pick(|r| r.upload_p99_ms) },
    ];
    panel(&mut pixmap, 0.0, "Growth with the roster (clients)", &xs, &left, "clients");
    let sx: Vec<f64> = stations.iter().map(|r| r.stations as f64).collect();
    let spick = |f: fn(&ByStations) -> f64| grown(&sx, &stations.iter().map(f).collect::<Vec<_>>());
    let right = vec![
        Series { name: "upload entries/s", points: spick(|r| r.upload_rate) },
        Series { name: "upload request p50", points: spick(|r| r.p50_ms) },
        Series { name: "upload request p99", points: spick(|r| r.p99_ms) },
    ];
    let title = format!("Growth with the stations ({} clients)", label(sweep_clients as f64));
    panel(&mut pixmap, W as f32 / 2.0, &title, &sx, &right, "stations");
    encode(&pixmap)
}

fn label(n: f64) -> String {
    match n {
        n if n >= 1e6 && (n / 1e6).fract() == 0.0 => format!("{}M", n / 1e6),
        n if n >= 1e3 && (n / 1e3).fract() == 0.0 => format!("{}k", n / 1e3),
        n if n >= 1.0 => format!("{n}"),
        n => format!("{n:.2}"),
    }
}

fn write(pixmap: &mut Pixmap, s: &str, x: f32, baseline: f32, size: f32, rgb: [u8; 3]) -> f32 {
    let line = text::shape(s, size, Weight::Regular);
    text::draw(pixmap, &line, x, baseline, rgb);
    line.width
}

fn paint(rgb: [u8; 3]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    p.anti_alias = true;
    p
}

fn stroke_line(pixmap: &mut Pixmap, pts: &[(f32, f32)], rgb: [u8; 3], width: f32, dashed: bool) {
    let mut pb = PathBuilder::new();
    for (i, &(x, y)) in pts.iter().enumerate() {
        if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
    }
    let Some(path) = pb.finish() else { return };
    let stroke = Stroke {
        width,
        dash: if dashed { StrokeDash::new(vec![8.0, 6.0], 0.0) } else { None },
        ..Stroke::default()
    };
    pixmap.stroke_path(&path, &paint(rgb), &stroke, Transform::identity(), None);
}

/// One panel in the half of the picture starting at `x0`.
fn panel(pixmap: &mut Pixmap, x0: f32, title: &str, xs: &[f64], series: &[Series], unit: &str) {
    let (left, right, top, bottom) =
        (x0 + 80.0, x0 + W as f32 / 2.0 - 30.0, 60.0, H as f32 - 190.0);
    write(pixmap, title, x0 + 80.0, 34.0, 22.0, INK);
    let (Some(&xmin), Some(&xmax)) = (xs.first(), xs.last()) else { return };
    let linear: Vec<(f64, f64)> = xs.iter().map(|&x| (x, x / xmin)).collect();
    let all = series.iter().flat_map(|s| s.points.iter()).chain(&linear).map(|p| p.1);
    let (lo, hi) = all.fold((1.0_f64, 1.0_f64), |(lo, hi), f| (lo.min(f), hi.max(f)));
    let (ylo, yhi) = ((lo / 1.5).log10().floor(), (hi * 1.5).log10().ceil());
    let xspan = (xmax / xmin).log10().max(1e-9);
    let px = |x: f64| left + ((x / xmin).log10() / xspan) as f32 * (right - left);
    let py = |f: f64| bottom - ((f.log10() - ylo) / (yhi - ylo)) as f32 * (bottom - top);
    // Grid at 1, 2 and 5 of every decade, labelled as growth factors.
    let mut decade = ylo;
    while decade <= yhi {
        for (m, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let f = 10f64.powf(decade) * m;
            if f.log10() > yhi + 1e-9 {
                break;
            }
            let y = py(f);
            let grey = if major { [200, 200, 200] } else { [232, 232, 232] };
            stroke_line(pixmap, &[(left, y), (right, y)], grey, 1.0, false);
            let text = if f >= 1.0 { format!("{f}x") } else { format!("{f:.2}x") };
            let line = text::shape(&text, 14.0, Weight::Regular);
            text::draw(pixmap, &line, left - 8.0 - line.width, y + 5.0, GREY);
        }
        decade += 1.0;
    }
    for &x in xs {
        let at = px(x);
        stroke_line(pixmap, &[(at, top), (at, bottom)], [232, 232, 232], 1.0, false);
        let line = text::shape(&label(x), 15.0, Weight::Regular);
        text::draw(pixmap, &line, at - line.width / 2.0, bottom + 22.0, INK);
    }
    let axis = format!("{unit} (log scale); each figure against its value at {}", label(xmin));
    write(pixmap, &axis, left, bottom + 46.0, 15.0, INK);
    if let Some(frame) = Rect::from_ltrb(left, top, right, bottom) {
        let pb = PathBuilder::from_rect(frame);
        pixmap.stroke_path(&pb, &paint(GREY), &Stroke::default(), Transform::identity(), None);
    }
    let mapped = |pts: &[(f64, f64)]| pts.iter().map(|&(x, f)| (px(x), py(f))).collect::<Vec<_>>();
    stroke_line(pixmap, &mapped(&linear), GREY, 2.0, true);
    for (k, s) in series.iter().enumerate() {
        let rgb = PALETTE[k % PALETTE.len()];
        let pts = mapped(&s.points);
        stroke_line(pixmap, &pts, rgb, 2.5, false);
        for &(x, y) in &pts {
            if let Some(dot) = PathBuilder::from_circle(x, y, 4.0) {
                pixmap.fill_path(
                    &dot,
                    &paint(rgb),
                    tiny_skia::FillRule::Winding,
                    Transform::identity(),
                    None,
                );
            }
        }
    }
    // The legend, in two columns under the axis.
    let names = series.iter().map(|s| s.name).chain(["as fast as the size (linear)"]);
    for (k, name) in names.enumerate() {
        let (col, row) = (k % 2, k / 2);
        let (lx, ly) = (left + col as f32 * 300.0, bottom + 80.0 + row as f32 * 24.0);
        let (rgb, dashed) =
            if k < series.len() { (PALETTE[k % PALETTE.len()], false) } else { (GREY, true) };
        stroke_line(pixmap, &[(lx, ly - 5.0), (lx + 30.0, ly - 5.0)], rgb, 2.5, dashed);
        write(pixmap, name, lx + 38.0, ly, 15.0, INK);
    }
}

fn encode(pixmap: &Pixmap) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    // Opaque everywhere (a white background), so premultiplied is plain RGBA.
    writer.write_image_data(pixmap.data())?;
    writer.finish()?;
    Ok(out)
}
