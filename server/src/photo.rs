//! Client photos (DESIGN §11): whatever the browser or an upload sends is checked by its
//! content (JPEG, PNG or WebP only), decoded under explicit size and memory limits, turned the
//! right way up from its orientation tag, and re-encoded as a JPEG of at most
//! `STORED_MAX_SIDE` pixels with a thumbnail. Re-encoding drops every byte of metadata (camera,
//! place, time). Pure: no database, no HTTP.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// Largest picture side decoded; a "decompression bomb" declares far more.
pub const MAX_SIDE: u32 = 8000;
/// Largest decoded picture, width × height × bytes per pixel, checked from the header before
/// anything is allocated: a 12-megapixel phone photo (4032 × 3024 × 3, 37 MB) fits, a small
/// file declaring 8000 × 8000 16-bit pixels (384 MB) does not.
pub const MAX_DECODED_BYTES: u64 = 48 * 1024 * 1024;
/// Longest side of the stored photo.
pub const STORED_MAX_SIDE: u32 = 1024;
/// Longest side of the thumbnail.
pub const THUMB_SIDE: u32 = 160;
const JPEG_QUALITY: u8 = 85;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a JPEG, PNG or WebP picture")]
    NotAPicture,
    #[error(
        "the picture is too large: at most {MAX_SIDE} pixels on a side and 16 million pixels \
         (a 12-megapixel phone photo fits)"
    )]
    TooLarge,
    #[error("the picture could not be read: it may be damaged or cut short")]
    Damaged,
}

/// A photo ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn classify(e: &ImageError) -> PhotoError {
    match e {
        ImageError::Limits(_) => PhotoError::TooLarge,
        ImageError::Unsupported(_) => PhotoError::NotAPicture,
        _ => PhotoError::Damaged,
    }
}

fn encode_jpeg(img: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(img)
        .map_err(|_| PhotoError::Damaged)?;
    Ok(out)
}

/// Checks, decodes, orients and re-encodes an uploaded picture.
pub fn process(bytes: &[u8]) -> Result<Processed, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAPicture)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(PhotoError::NotAPicture);
    }
    // The JPEG decoder fills a cut-short picture with grey rather than fail; a whole JPEG ends
    // with the end-of-image marker, so one without it was cut short.
    if format == ImageFormat::Jpeg {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if end < 4 || bytes[end - 2..end] != [0xFF, 0xD9] {
            return Err(PhotoError::Damaged);
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(&e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(PhotoError::TooLarge);
    }
    // The header says how much the decoded picture takes; refuse before allocating it.
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| classify(&e))?;
    img.apply_orientation(orientation);
    // `into_rgb8` keeps an RGB picture's buffer instead of copying it.
    let img = DynamicImage::ImageRgb8(img.into_rgb8());
    let stored = if img.width().max(img.height()) > STORED_MAX_SIDE {
        img.resize(STORED_MAX_SIDE, STORED_MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let thumb = stored.thumbnail(THUMB_SIDE, THUMB_SIDE);
    Ok(Processed {
        jpeg: encode_jpeg(&stored)?,
        thumbnail: encode_jpeg(&thumb)?,
        width: stored.width(),
        height: stored.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn large_pictures_are_scaled_and_lose_nothing_but_size() {
        let p = process(&png(2000, 1500)).unwrap();
        assert_eq!((p.width, p.height), (1024, 768));
        let back = image::load_from_memory(&p.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1024, 768));
        let thumb = image::load_from_memory(&p.thumbnail).unwrap();
        assert!(thumb.width() <= THUMB_SIDE && thumb.height() <= THUMB_SIDE);
        // A JPEG from the encoder carries no EXIF (APP1) segment.
        assert!(!p.jpeg.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn refusals() {
        assert_eq!(process(b"").unwrap_err(), PhotoError::Empty);
        assert_eq!(
            process(b"hello, this is text pretending to be a .jpg").unwrap_err(),
            PhotoError::NotAPicture
        );
        let whole = png(300, 200);
        assert_eq!(process(&whole[..whole.len() / 2]).unwrap_err(), PhotoError::Damaged);
        let jpeg = process(&whole).unwrap().jpeg;
        assert!(process(&jpeg).is_ok());
        assert_eq!(process(&jpeg[..jpeg.len() - 40]).unwrap_err(), PhotoError::Damaged);
        // GIF is a picture, but not one of the accepted kinds.
        assert_eq!(
            process(b"GIF89a\x01\x00\x01\x00\x00\x00\x00").unwrap_err(),
            PhotoError::NotAPicture
        );
    }
}
