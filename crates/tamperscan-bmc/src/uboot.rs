//! Legacy U-Boot images (`mkimage -f legacy`): a 64-byte big-endian header (`struct
//! legacy_img_hdr`, formerly `image_header_t`, in U-Boot's `include/image.h`) followed by the
//! data, with a CRC-32 over the header (its CRC field read as zero) and one over the data.
//!
//! Only a bad magic or a header cut short is an [`Error`]; CRC mismatches, data cut short and a
//! malformed multi-file list are reported in the result so a damaged image can still be shown.

mod ids;

pub use ids::{Arch, Compression, ImageType, Os};

use std::ops::Range;

use tamperscan_bytes::{Error, ErrorKind, Reader};

/// `IH_MAGIC`, the first four bytes (big-endian) of every legacy image.
pub const UBOOT_MAGIC: u32 = 0x2705_1956;
/// Size of the header.
pub const HEADER_SIZE: usize = 64;
/// Most files accepted in a multi-file image.
pub const MAX_MULTI_PARTS: usize = 256;

/// A parsed legacy image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyImage {
    /// Absolute offset of the header in the input.
    pub offset: u64,
    /// `ih_hcrc` as stored.
    pub header_crc: u32,
    /// True when `ih_hcrc` matches the header.
    pub header_crc_ok: bool,
    /// `ih_time`: creation time, seconds since 1970.
    pub timestamp: u32,
    /// `ih_size`: data length.
    pub data_size: u32,
    /// `ih_load`: load address.
    pub load: u32,
    /// `ih_ep`: entry point.
    pub entry: u32,
    /// `ih_dcrc` as stored.
    pub data_crc: u32,
    /// `None` when the data runs past the input; otherwise whether `ih_dcrc` matches it.
    pub data_crc_ok: Option<bool>,
    /// `ih_os`.
    pub os: Os,
    /// `ih_arch`.
    pub arch: Arch,
    /// `ih_type`.
    pub image_type: ImageType,
    /// `ih_comp`.
    pub compression: Compression,
    /// `ih_name` up to its first NUL (lossy UTF-8).
    pub name: String,
    /// Absolute range of the data; `None` when it runs past the input.
    pub data_range: Option<Range<u64>>,
    /// For [`ImageType::MULTI`] images: the absolute range of each file.
    pub parts: Vec<Range<u64>>,
    /// For multi-file images whose size list is malformed: why the parts are incomplete.
    pub parts_error: Option<Error>,
}

impl LegacyImage {
    /// One past the last byte the header says the image covers (header plus data).
    pub fn end(&self) -> u64 {
        self.offset + HEADER_SIZE as u64 + u64::from(self.data_size)
    }

    /// True when both CRCs were checked and match.
    pub fn is_intact(&self) -> bool {
        self.header_crc_ok && self.data_crc_ok == Some(true)
    }
}

/// Parses the legacy image at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<LegacyImage, Error> {
    parse_at(bytes, 0)
}

/// Parses the legacy image at `offset` of `image`; offsets in the result are absolute.
pub fn parse_at(image: &[u8], offset: usize) -> Result<LegacyImage, Error> {
    parse_inner(image, offset, true)
}

/// Header only: magic, fields and header CRC, with no data CRC computed (for scanning).
pub(crate) fn parse_inner(
    image: &[u8],
    offset: usize,
    check_data: bool,
) -> Result<LegacyImage, Error> {
    let base = offset as u64;
    let bytes = image.get(offset..).unwrap_or_default();
    let mut r = Reader::with_base(bytes, base);
    r.clone()
        .expect(&UBOOT_MAGIC.to_be_bytes(), "u-boot legacy header")?;
    let header = r.peek(HEADER_SIZE, "u-boot legacy header")?;
    r.skip(4, "ih_magic")?;
    let header_crc = r.u32_be("ih_hcrc")?;
    let timestamp = r.u32_be("ih_time")?;
    let data_size = r.u32_be("ih_size")?;
    let load = r.u32_be("ih_load")?;
    let entry = r.u32_be("ih_ep")?;
    let data_crc = r.u32_be("ih_dcrc")?;
    let os = Os(r.u8("ih_os")?);
    let arch = Arch(r.u8("ih_arch")?);
    let image_type = ImageType(r.u8("ih_type")?);
    let compression = Compression(r.u8("ih_comp")?);
    let name_bytes = r.take_array::<32>("ih_name")?;
    let name_len = name_bytes.iter().position(|&b| b == 0).unwrap_or(32);
    let name = String::from_utf8_lossy(name_bytes.get(..name_len).unwrap_or_default()).into_owned();

    let mut zeroed = header.to_vec();
    if let Some(field) = zeroed.get_mut(4..8) {
        field.fill(0);
    }
    let header_crc_ok = crc32fast::hash(&zeroed) == header_crc;

    let data_start = r.offset();
    let data = r.peek(data_size as usize, "u-boot legacy image data").ok();
    let data_range = data.map(|d| data_start..data_start + d.len() as u64);
    let data_crc_ok = match data {
        Some(d) if check_data => Some(crc32fast::hash(d) == data_crc),
        _ => None,
    };
    let (parts, parts_error) = match data {
        Some(d) if image_type == ImageType::MULTI => match multi_parts(d, data_start) {
            Ok(parts) => (parts, None),
            Err((parts, err)) => (parts, Some(err)),
        },
        _ => (Vec::new(), None),
    };
    Ok(LegacyImage {
        offset: base,
        header_crc,
        header_crc_ok,
        timestamp,
        data_size,
        load,
        entry,
        data_crc,
        data_crc_ok,
        os,
        arch,
        image_type,
        compression,
        name,
        data_range,
        parts,
        parts_error,
    })
}

/// Splits multi-file data: big-endian u32 sizes ending with a zero, then each file starting on
/// a 4-byte boundary after the list. Returns what could be read with the error on failure.
#[allow(clippy::type_complexity)]
fn multi_parts(data: &[u8], base: u64) -> Result<Vec<Range<u64>>, (Vec<Range<u64>>, Error)> {
    let mut r = Reader::with_base(data, base);
    let mut sizes = Vec::new();
    loop {
        let at = r.offset();
        let size = r
            .u32_be("u-boot multi-file size list")
            .map_err(|e| (Vec::new(), e))?;
        if size == 0 {
            break;
        }
        if sizes.len() >= MAX_MULTI_PARTS {
            let err = Error::new(
                at,
                ErrorKind::TooLarge {
                    what: "u-boot multi-file count",
                    value: sizes.len() as u64 + 1,
                    limit: MAX_MULTI_PARTS as u64,
                },
            );
            return Err((Vec::new(), err));
        }
        sizes.push(size);
    }
    let mut parts = Vec::with_capacity(sizes.len());
    for (index, &size) in sizes.iter().enumerate() {
        let start = r.offset();
        if let Err(e) = r.skip(size as usize, "u-boot multi-file part") {
            return Err((parts, e));
        }
        parts.push(start..start + u64::from(size));
        // Every file but the last is padded to a 4-byte boundary.
        let pad = (4 - size % 4) % 4;
        if index + 1 < sizes.len() {
            if let Err(e) = r.skip(pad as usize, "u-boot multi-file padding") {
                return Err((parts, e));
            }
        }
    }
    Ok(parts)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A legacy image as mkimage writes it.
    pub(crate) fn build(image_type: u8, name: &str, data: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        for v in [
            UBOOT_MAGIC,
            0,
            1_700_000_000,
            data.len() as u32,
            0x8000,
            0x8040,
            crc32fast::hash(data),
        ] {
            h.extend_from_slice(&v.to_be_bytes());
        }
        h.extend_from_slice(&[5, 2, image_type, 0]);
        let mut n = [0u8; 32];
        n[..name.len()].copy_from_slice(name.as_bytes());
        h.extend_from_slice(&n);
        let crc = crc32fast::hash(&h);
        h[4..8].copy_from_slice(&crc.to_be_bytes());
        h.extend_from_slice(data);
        h
    }

    #[test]
    fn parses_and_checks_both_crcs() {
        let img = build(2, "Linux", b"kernel bytes");
        let parsed = parse(&img).unwrap();
        assert!(parsed.is_intact());
        assert_eq!(parsed.name, "Linux");
        assert_eq!(parsed.os, Os::LINUX);
        assert_eq!(format!("{:?}", parsed.arch), "arm");
        assert_eq!(format!("{:?}", Arch(200)), "Arch(0xc8)");
        assert_eq!(parsed.image_type, ImageType::KERNEL);
        assert_eq!(parsed.data_range, Some(64..76));
        assert_eq!(parsed.end(), 76);

        let mut bad = img.clone();
        bad[70] ^= 1;
        let parsed = parse(&bad).unwrap();
        assert_eq!(
            (parsed.header_crc_ok, parsed.data_crc_ok),
            (true, Some(false))
        );
        bad[40] ^= 1;
        assert!(!parse(&bad).unwrap().header_crc_ok);
    }

    #[test]
    fn multi_file_parts_are_listed() {
        let mut data = Vec::new();
        for v in [3u32, 4, 0] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(b"abc\0defg");
        let img = build(4, "multi", &data);
        let parsed = parse(&img).unwrap();
        assert_eq!(parsed.parts, vec![76..79, 80..84]);
        assert_eq!(parsed.parts_error, None);

        let mut data = Vec::new();
        for v in [3u32, 0xffff_ff00, 0] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(b"abc\0");
        let parsed = parse(&build(4, "multi", &data)).unwrap();
        assert_eq!(parsed.parts, vec![76..79]);
        assert!(parsed.parts_error.is_some());
    }

    #[test]
    fn truncation_and_bad_magic() {
        let img = build(2, "Linux", b"kernel bytes");
        for len in 0..HEADER_SIZE {
            assert!(parse(&img[..len]).is_err());
        }
        for len in HEADER_SIZE..img.len() {
            let parsed = parse(&img[..len]).unwrap();
            assert_eq!(parsed.data_range, None);
            assert_eq!(parsed.data_crc_ok, None);
        }
        let mut bad = img;
        bad[0] = 0;
        let err = parse(&bad).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::BadMagic { .. }));
    }
}
