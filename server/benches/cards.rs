//! Card rendering (DESIGN §15: front and back PNG under 20 ms; a sheet PDF of 10 cards under
//! 200 ms). Each card has a stored photo (a synthetic camera picture that went through the
//! same photo pipeline as an upload, so 768 x 1024 JPEG) and a name; the bench times, at the
//! default 300 dpi bitmap: front + back rendered and encoded as PNG, and ten fronts plus the
//! shared back laid out as a Letter sheet PDF. It prints p50, p99 and max; it asserts nothing.
//! With `SCANLINE_CARD_SAMPLES=<dir>` it also writes a sample of each output there.
//!
//! Run: `cargo bench -p scanline-server --bench cards`.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use image::{ImageFormat, Rgb, RgbImage};
use scanline_server::card::pdf::{self, Paper};
use scanline_server::card::{self, CardContent, Geometry};
use scanline_server::photo;

const NAMES: &[&str] = &[
    "Maria José Gutiérrez",
    "Nguyễn Thị Phượng",
    "محمد عبد الله",
    "Дмитрий Иванов",
    "王小明",
    "ሰላም ተስፋዬ",
    "राम कुमार",
    "김민준",
    "Jamal Whitfield",
    "Keiko Yamada",
];

fn synthetic_photo(seed: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(960, 1280, |x, y| {
        Rgb([(x / 4 + seed * 40) as u8, (y / 5) as u8, ((x + y) / 9 + seed * 17) as u8])
    });
    let mut raw = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut raw), ImageFormat::Jpeg).unwrap();
    photo::process(&raw).expect("synthetic photo is valid").jpeg
}

fn content(i: usize, photo: &[u8]) -> CardContent {
    CardContent {
        agency: "Harbor Light Community Services".into(),
        agency_phone: "(555) 010-2000".into(),
        return_address: "12 Example Street\nSpringfield, ST 00000".into(),
        name: NAMES[i % NAMES.len()].into(),
        client_number: 100_000 + i as u32,
        code: scanline_core::ScanlineCode::new(100_000 + i as u32, 1).unwrap().encode(),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        expires_on: NaiveDate::from_ymd_opt(2027, 11, 22),
        photo: Some(photo.to_vec()),
    }
}

fn report(label: &str, mut times: Vec<Duration>, target_ms: f64) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<34} n={:<4} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  (target < {target_ms} ms)",
        times.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*times.last().unwrap()),
    );
}

fn main() {
    let photos: Vec<Vec<u8>> = (0..10).map(synthetic_photo).collect();
    let g = Geometry::DEFAULT;
    // Warm up: fonts are parsed on first use.
    let _ = card::front(g, &content(0, &photos[0])).unwrap().png();

    let mut single = Vec::new();
    for i in 0..200 {
        let c = content(i, &photos[i % photos.len()]);
        let start = Instant::now();
        let front = card::front(g, &c).unwrap().png();
        let back = card::back_png(g, &c);
        single.push(start.elapsed());
        assert!(!front.is_empty() && !back.is_empty());
    }
    report("card front + back, PNG, 300 dpi", single, 20.0);

    let mut sheets = Vec::new();
    let mut last = Vec::new();
    for round in 0..30 {
        let start = Instant::now();
        let fronts: Vec<card::Side> = (0..10)
            .map(|i| card::front(g, &content(round * 10 + i, &photos[i])).unwrap())
            .collect();
        let back = card::back(g, &content(0, &photos[0]));
        last = pdf::sheet(Paper::Letter, &fronts, Some(&back));
        sheets.push(start.elapsed());
    }
    report("sheet of 10 cards, PDF, Letter", sheets, 200.0);
    println!("sheet PDF size: {} KiB", last.len() / 1024);

    if let Ok(dir) = std::env::var("SCANLINE_CARD_SAMPLES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, photo) in photos.iter().enumerate().take(NAMES.len()) {
            let c = content(i, photo);
            std::fs::write(dir.join(format!("front-{i}.png")), card::front(g, &c).unwrap().png())
                .unwrap();
        }
        std::fs::write(dir.join("back.png"), card::back(g, &content(0, &photos[0])).png()).unwrap();
        std::fs::write(dir.join("sheet.pdf"), &last).unwrap();
        println!("samples written to {}", dir.display());
    }
}
