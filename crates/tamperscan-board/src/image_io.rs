//! Reading board images (PNG, JPEG, TIFF; 8/16-bit grey or colour) under a memory bound.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader};

use crate::Error;

/// Bounds on what [`load_image`] will decode. Hostile files can claim huge dimensions; these
/// limits are checked on the header before any pixel buffer is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted `width * height` (default 120 megapixels).
    pub max_pixels: u64,
    /// Largest single allocation the decoder may make, in bytes (default 1 GiB).
    pub max_alloc_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_pixels: 120_000_000,
            max_alloc_bytes: 1 << 30,
        }
    }
}

/// A decoded board image: 8-bit grey for analysis, plus the colour pixels when the source had
/// colour (for the overlay picture).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardImage {
    width: u32,
    height: u32,
    gray: Vec<u8>,
    rgb: Option<Vec<u8>>,
    source_bits: u8,
}

impl BoardImage {
    /// An image from 8-bit grey samples, row-major.
    ///
    /// # Errors
    /// [`Error::BadDimensions`] when `gray.len() != width * height` or a side is zero.
    pub fn from_gray(width: u32, height: u32, gray: Vec<u8>) -> Result<Self, Error> {
        let n = u64::from(width) * u64::from(height);
        if width == 0 || height == 0 || gray.len() as u64 != n {
            return Err(Error::BadDimensions { width, height });
        }
        Ok(Self {
            width,
            height,
            gray,
            rgb: None,
            source_bits: 8,
        })
    }

    /// An image from 8-bit RGB samples, row-major (grey is derived with Rec. 601 weights).
    ///
    /// # Errors
    /// [`Error::BadDimensions`] when `rgb.len() != 3 * width * height` or a side is zero.
    pub fn from_rgb(width: u32, height: u32, rgb: Vec<u8>) -> Result<Self, Error> {
        let n = u64::from(width) * u64::from(height);
        if width == 0 || height == 0 || rgb.len() as u64 != 3 * n {
            return Err(Error::BadDimensions { width, height });
        }
        let gray = rgb
            .chunks_exact(3)
            .map(|p| match p {
                [r, g, b] => luma(*r, *g, *b),
                _ => 0,
            })
            .collect();
        Ok(Self {
            width,
            height,
            gray,
            rgb: Some(rgb),
            source_bits: 8,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Grey samples, row-major, `width * height` bytes (16-bit sources are contrast-stretched).
    pub fn gray(&self) -> &[u8] {
        &self.gray
    }

    /// RGB samples when the source had colour.
    pub fn rgb(&self) -> Option<&[u8]> {
        self.rgb.as_deref()
    }

    /// Bits per sample of the source file (8 or 16).
    pub fn source_bits(&self) -> u8 {
        self.source_bits
    }
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    u8::try_from((y + 500) / 1000).unwrap_or(u8::MAX)
}

/// Decodes a PNG, JPEG or TIFF image from memory.
///
/// The header is read first and an image over `limits.max_pixels` is refused before its pixels
/// are allocated; the decoder itself runs under [`image::Limits`] built from `limits`.
///
/// # Errors
/// [`Error::UnknownFormat`], [`Error::TooLarge`] or [`Error::Decode`].
pub fn load_image(bytes: &[u8], limits: &ImageLimits) -> Result<BoardImage, Error> {
    let format = image::guess_format(bytes).map_err(|_| Error::UnknownFormat)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff
    ) {
        return Err(Error::UnknownFormat);
    }
    let mut lim = image::Limits::default();
    lim.max_alloc = Some(limits.max_alloc_bytes);
    let mut probe = ImageReader::with_format(Cursor::new(bytes), format);
    probe.limits(lim.clone());
    let (width, height) = probe.into_dimensions().map_err(decode_error)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width == 0 || height == 0 {
        return Err(Error::TooLarge {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    lim.max_image_width = Some(width);
    lim.max_image_height = Some(height);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(lim);
    let img = reader.decode().map_err(decode_error)?;
    Ok(from_dynamic(img))
}

fn decode_error(e: image::ImageError) -> Error {
    match e {
        image::ImageError::Limits(l) => Error::Decode(format!(
            "decoder memory limit reached ({l}); raise ImageLimits::max_alloc_bytes if the image is genuine"
        )),
        other => Error::Decode(other.to_string()),
    }
}

fn from_dynamic(img: DynamicImage) -> BoardImage {
    let (width, height) = (img.width(), img.height());
    match img {
        DynamicImage::ImageLuma8(b) => BoardImage {
            width,
            height,
            gray: b.into_raw(),
            rgb: None,
            source_bits: 8,
        },
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) => {
            let l16 = img.to_luma16();
            BoardImage {
                width,
                height,
                gray: stretch16(l16.as_raw()),
                rgb: None,
                source_bits: 16,
            }
        }
        DynamicImage::ImageLumaA8(_) => BoardImage {
            width,
            height,
            gray: img.to_luma8().into_raw(),
            rgb: None,
            source_bits: 8,
        },
        other => {
            let bits = if matches!(
                other,
                DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgba16(_)
            ) {
                16
            } else {
                8
            };
            let rgb = other.to_rgb8().into_raw();
            let gray = rgb
                .chunks_exact(3)
                .map(|p| match p {
                    [r, g, b] => luma(*r, *g, *b),
                    _ => 0,
                })
                .collect();
            BoardImage {
                width,
                height,
                gray,
                rgb: Some(rgb),
                source_bits: bits,
            }
        }
    }
}

/// Maps 16-bit grey (X-ray) to 8 bits by stretching the 0.1 %..99.9 % percentile range, so the
/// detector sees the full contrast of a detector that uses only part of its range.
fn stretch16(px: &[u16]) -> Vec<u8> {
    let mut hist = vec![0u64; 65536];
    for &p in px {
        if let Some(h) = hist.get_mut(usize::from(p)) {
            *h += 1;
        }
    }
    let n = px.len() as u64;
    let cut = n / 1000;
    let mut acc = 0u64;
    let mut lo = 0usize;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc > cut {
            lo = i;
            break;
        }
    }
    acc = 0;
    let mut hi = 65535usize;
    for (i, &c) in hist.iter().enumerate().rev() {
        acc += c;
        if acc > cut {
            hi = i;
            break;
        }
    }
    let span = (hi.saturating_sub(lo)).max(1) as f32;
    px.iter()
        .map(|&p| {
            let v = (f32::from(p) - lo as f32) / span * 255.0;
            v.clamp(0.0, 255.0).round() as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    fn png_bytes(img: DynamicImage) -> Vec<u8> {
        encoded(img, ImageFormat::Png)
    }

    #[test]
    fn refuses_oversized_header_before_allocating() {
        let img = DynamicImage::ImageLuma8(image::GrayImage::new(64, 64));
        let bytes = png_bytes(img);
        let lim = ImageLimits {
            max_pixels: 1000,
            ..ImageLimits::default()
        };
        assert!(matches!(
            load_image(&bytes, &lim),
            Err(Error::TooLarge { width: 64, .. })
        ));
    }

    #[test]
    fn huge_claimed_jpeg_dimensions_are_refused() {
        // A JPEG whose SOF claims 30000 x 30000 but carries no scan data.
        let mut j = vec![0xFF, 0xD8];
        j.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0x75, 0x30, 0x75, 0x30, 1, 1, 0x11, 0]);
        j.extend_from_slice(&[0xFF, 0xD9]);
        let r = load_image(&j, &ImageLimits::default());
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    fn truncated_jpeg_is_an_error_or_an_image_not_a_crash() {
        let img = DynamicImage::ImageLuma8(image::GrayImage::from_fn(32, 32, |x, y| {
            image::Luma([((x * 7 + y * 3) % 256) as u8])
        }));
        let out = encoded(img, ImageFormat::Jpeg);
        for cut in [3, 20, out.len() / 2, out.len() - 2] {
            // A truncated scan may decode to a partial image of the declared size; anything
            // else must be an error, not a panic or an image of another size.
            if let Ok(b) = load_image(out.get(..cut).unwrap(), &ImageLimits::default()) {
                assert_eq!((b.width(), b.height()), (32, 32), "cut at {cut}");
                assert_eq!(b.gray().len(), 32 * 32);
            }
        }
        // Cut inside the header: nothing to decode.
        assert!(load_image(out.get(..20).unwrap(), &ImageLimits::default()).is_err());
    }

    fn tiff_bytes(img: DynamicImage) -> Vec<u8> {
        encoded(img, ImageFormat::Tiff)
    }

    #[test]
    fn sixteen_bit_tiff_xray_is_read_and_stretched() {
        // An X-ray detector that uses only part of its 16-bit range.
        let img = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(40, 30, |x, y| {
            image::Luma([20_000 + ((x + y) % 20) as u16 * 100])
        });
        let bytes = tiff_bytes(DynamicImage::ImageLuma16(img));
        let b = load_image(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!((b.width(), b.height(), b.source_bits()), (40, 30, 16));
        assert!(b.rgb().is_none());
        let (lo, hi) = (b.gray().iter().min(), b.gray().iter().max());
        assert_eq!((lo, hi), (Some(&0), Some(&255)));
    }

    #[test]
    fn colour_tiff_keeps_its_colour() {
        let img = image::RgbImage::from_fn(8, 4, |x, _| image::Rgb([200, 10, (x * 30) as u8]));
        let b = load_image(
            &tiff_bytes(DynamicImage::ImageRgb8(img)),
            &ImageLimits::default(),
        )
        .unwrap();
        assert_eq!(b.rgb().map(<[u8]>::len), Some(8 * 4 * 3));
        assert_eq!(b.rgb().and_then(|c| c.first()), Some(&200));
    }

    /// A little-endian baseline TIFF header whose single IFD claims `w` x `h` 16-bit grey pixels
    /// in one uncompressed strip of `strip` bytes right after the IFD.
    fn tiff_claiming(w: u32, h: u32, strip: u32) -> Vec<u8> {
        let tags: [(u16, u16, u32); 8] = [
            (256, 4, w),                  // ImageWidth, LONG
            (257, 4, h),                  // ImageLength
            (258, 3, 16),                 // BitsPerSample, SHORT
            (259, 3, 1),                  // Compression: none
            (262, 3, 1),                  // PhotometricInterpretation: black is zero
            (273, 4, 8 + 2 + 8 * 12 + 4), // StripOffsets: after the IFD
            (278, 4, h),                  // RowsPerStrip
            (279, 4, strip),              // StripByteCounts
        ];
        let mut t = b"II*\0".to_vec();
        t.extend_from_slice(&8u32.to_le_bytes());
        t.extend_from_slice(&(tags.len() as u16).to_le_bytes());
        for (tag, ty, v) in tags {
            t.extend_from_slice(&tag.to_le_bytes());
            t.extend_from_slice(&ty.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
            if ty == 3 {
                t.extend_from_slice(&(v as u16).to_le_bytes());
                t.extend_from_slice(&[0, 0]);
            } else {
                t.extend_from_slice(&v.to_le_bytes());
            }
        }
        t.extend_from_slice(&0u32.to_le_bytes());
        t
    }

    #[test]
    fn handmade_tiff_header_is_understood() {
        // The same writer with a real strip: proves the hostile cases below are refused for
        // their claims, not for a malformed header.
        let mut t = tiff_claiming(4, 2, 16);
        t.extend((0u16..8).flat_map(|v| (v * 1000).to_le_bytes()));
        let b = load_image(&t, &ImageLimits::default()).unwrap();
        assert_eq!((b.width(), b.height(), b.source_bits()), (4, 2, 16));
    }

    #[test]
    fn huge_claimed_tiff_dimensions_are_refused_before_allocating() {
        let t = tiff_claiming(30_000, 30_000, 1_800_000_000);
        assert!(matches!(
            load_image(&t, &ImageLimits::default()),
            Err(Error::TooLarge {
                width: 30_000,
                height: 30_000,
                ..
            })
        ));
    }

    #[test]
    fn truncated_tiff_strip_is_an_error() {
        let mut t = tiff_claiming(64, 64, 64 * 64 * 2);
        t.extend(std::iter::repeat_n(7u8, 100));
        assert!(matches!(
            load_image(&t, &ImageLimits::default()),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn sixteen_bit_grey_is_stretched() {
        let img = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_fn(16, 16, |x, _| {
            image::Luma([1000 + x as u16 * 10])
        });
        let bytes = png_bytes(DynamicImage::ImageLuma16(img));
        let b = load_image(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!(b.source_bits(), 16);
        assert_eq!(b.gray().first(), Some(&0));
        assert_eq!(b.gray().get(15), Some(&255));
    }

    #[test]
    fn not_an_image() {
        assert!(matches!(
            load_image(b"hello", &ImageLimits::default()),
            Err(Error::UnknownFormat)
        ));
    }
}
