//! Recognising evidence formats from their first bytes.
//!
//! The fleet reader uses this to check that a file in an evidence slot is what the slot promises
//! (a board photo is a PNG/JPEG/TIFF, a flash dump is a flash image) before any layer parser sees
//! it, and to tell users what an unexpected file actually is. Only signatures documented by each
//! format's specification are used; the PNG `IHDR` is decoded because image size matters early.

use crate::error::Error;
use crate::reader::Reader;

/// A recognised file format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// PNG (ISO/IEC 15948) with its `IHDR` fields.
    Png {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bits per sample.
        bit_depth: u8,
        /// PNG colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA).
        color_type: u8,
    },
    /// JPEG/JFIF (ISO/IEC 10918-1 SOI marker).
    Jpeg,
    /// TIFF 6.0 or BigTIFF.
    Tiff {
        /// True for Motorola ("MM") byte order.
        big_endian: bool,
        /// True for BigTIFF (version 43).
        big: bool,
    },
    /// libpcap capture file.
    Pcap {
        /// Link-layer header type (LINKTYPE_*).
        link_type: u32,
        /// True when timestamps are in nanoseconds.
        nanosecond: bool,
    },
    /// pcapng capture (Section Header Block).
    Pcapng,
    /// gzip stream (RFC 1952).
    Gzip,
    /// Zstandard frame (RFC 8878).
    Zstd,
    /// xz container.
    Xz,
    /// bzip2 stream.
    Bzip2,
    /// ELF object.
    Elf,
    /// Intel flash descriptor (signature 0x0FF0A55A at offset 16, or 0 on old parts).
    IntelFlashDescriptor,
    /// UEFI PI firmware volume (`_FVH` at offset 40).
    UefiFirmwareVolume,
    /// Legacy u-boot image (magic 0x27051956).
    UbootLegacy,
    /// Flattened device tree or FIT image (magic 0xd00dfeed).
    FlattenedDeviceTree,
    /// squashfs filesystem.
    Squashfs,
    /// cramfs filesystem.
    Cramfs,
    /// JFFS2 filesystem node.
    Jffs2,
    /// TCG crypto-agile event log (`Spec ID Event03` in the first event).
    TcgCryptoAgileLog,
    /// TCG PC Client 1.2 style log with a `Spec ID Event00` header.
    TcgLegacyLog,
    /// SMBIOS entry point (`_SM_` or `_SM3_`), as written by `dmidecode --dump-bin`.
    SmbiosEntryPoint,
    /// PEM armour (`-----BEGIN ...`).
    Pem,
    /// A DER SEQUENCE (certificates, keys).
    DerSequence,
    /// JSON text.
    Json,
    /// Other UTF-8 text.
    Text,
    /// Nothing recognised.
    Unknown,
}

impl Format {
    /// A short lowercase name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Png { .. } => "png",
            Format::Jpeg => "jpeg",
            Format::Tiff { .. } => "tiff",
            Format::Pcap { .. } => "pcap",
            Format::Pcapng => "pcapng",
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
            Format::Xz => "xz",
            Format::Bzip2 => "bzip2",
            Format::Elf => "elf",
            Format::IntelFlashDescriptor => "intel-flash-descriptor",
            Format::UefiFirmwareVolume => "uefi-firmware-volume",
            Format::UbootLegacy => "uboot-legacy",
            Format::FlattenedDeviceTree => "fdt",
            Format::Squashfs => "squashfs",
            Format::Cramfs => "cramfs",
            Format::Jffs2 => "jffs2",
            Format::TcgCryptoAgileLog => "tcg-crypto-agile-log",
            Format::TcgLegacyLog => "tcg-legacy-log",
            Format::SmbiosEntryPoint => "smbios",
            Format::Pem => "pem",
            Format::DerSequence => "der",
            Format::Json => "json",
            Format::Text => "text",
            Format::Unknown => "unknown",
        }
    }

    /// True for the raster image formats a board photo or X-ray may come in.
    pub fn is_image(&self) -> bool {
        matches!(
            self,
            Format::Png { .. } | Format::Jpeg | Format::Tiff { .. }
        )
    }
}

/// How many leading bytes [`sniff`] needs at most to decide.
pub const SNIFF_LEN: usize = 64;

/// Identifies the format of a file from its first bytes (pass at least [`SNIFF_LEN`] when the
/// file has them). Never fails: malformed headers of a recognised magic come back as `Unknown`
/// from [`sniff`], while [`png_header`] reports exactly what is wrong.
pub fn sniff(head: &[u8]) -> Format {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| {
        head.get(offset..)
            .is_some_and(|rest| rest.starts_with(magic))
    };
    if starts(PNG_SIGNATURE) {
        return png_header(head).unwrap_or(Format::Unknown);
    }
    if starts(&[0xff, 0xd8, 0xff]) {
        return Format::Jpeg;
    }
    match head.get(..4) {
        Some(b"II*\0") => {
            return Format::Tiff {
                big_endian: false,
                big: false,
            }
        }
        Some(b"MM\0*") => {
            return Format::Tiff {
                big_endian: true,
                big: false,
            }
        }
        Some(b"II+\0") => {
            return Format::Tiff {
                big_endian: false,
                big: true,
            }
        }
        Some(b"MM\0+") => {
            return Format::Tiff {
                big_endian: true,
                big: true,
            }
        }
        _ => {}
    }
    if let Some(format) = pcap_header(head) {
        return format;
    }
    if starts(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        return Format::Pcapng;
    }
    if starts(&[0x1f, 0x8b]) {
        return Format::Gzip;
    }
    if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Format::Zstd;
    }
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Format::Xz;
    }
    if starts(b"BZh") {
        return Format::Bzip2;
    }
    if starts(&[0x7f, b'E', b'L', b'F']) {
        return Format::Elf;
    }
    if at(16, &[0x5a, 0xa5, 0xf0, 0x0f]) || starts(&[0x5a, 0xa5, 0xf0, 0x0f]) {
        return Format::IntelFlashDescriptor;
    }
    if at(40, b"_FVH") {
        return Format::UefiFirmwareVolume;
    }
    if starts(&[0x27, 0x05, 0x19, 0x56]) {
        return Format::UbootLegacy;
    }
    if starts(&[0xd0, 0x0d, 0xfe, 0xed]) {
        return Format::FlattenedDeviceTree;
    }
    if starts(b"hsqs") || starts(b"sqsh") {
        return Format::Squashfs;
    }
    if starts(&[0x45, 0x3d, 0xcd, 0x28]) || starts(&[0x28, 0xcd, 0x3d, 0x45]) {
        return Format::Cramfs;
    }
    if starts(&[0x85, 0x19]) || starts(&[0x19, 0x85]) {
        return Format::Jffs2;
    }
    // TCG_PCClientPCREvent (PC Client PFP spec, 10.2.1): 32 bytes of header, then the
    // TCG_EfiSpecIDEvent structure whose signature is "Spec ID Event03" (crypto-agile) or
    // "Spec ID Event00" (TPM 1.2 era logs).
    if at(32, b"Spec ID Event03\0") {
        return Format::TcgCryptoAgileLog;
    }
    if at(32, b"Spec ID Event00\0") {
        return Format::TcgLegacyLog;
    }
    if starts(b"_SM3_") || starts(b"_SM_") {
        return Format::SmbiosEntryPoint;
    }
    if starts(&[0x30, 0x82]) || starts(&[0x30, 0x81]) {
        return Format::DerSequence;
    }
    text_format(head)
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Decodes the PNG signature and `IHDR` chunk (PNG spec 11.2.2).
pub fn png_header(bytes: &[u8]) -> Result<Format, Error> {
    let mut r = Reader::new(bytes);
    r.expect(PNG_SIGNATURE, "PNG")?;
    let len = r.u32_be("IHDR length")?;
    if len != 13 {
        return Err(r.invalid("IHDR length", format!("{len}, must be 13")));
    }
    r.expect(b"IHDR", "IHDR chunk")?;
    let width = r.u32_be("IHDR width")?;
    let height = r.u32_be("IHDR height")?;
    let bit_depth = r.u8("IHDR bit depth")?;
    let color_type = r.u8("IHDR colour type")?;
    if width == 0 || height == 0 {
        return Err(r.invalid("IHDR", format!("image is {width}x{height} pixels")));
    }
    let depth_ok = match color_type {
        0 => matches!(bit_depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(bit_depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(bit_depth, 8 | 16),
        _ => false,
    };
    if !depth_ok {
        return Err(r.invalid(
            "IHDR",
            format!("bit depth {bit_depth} with colour type {color_type} is not allowed"),
        ));
    }
    Ok(Format::Png {
        width,
        height,
        bit_depth,
        color_type,
    })
}

fn pcap_header(head: &[u8]) -> Option<Format> {
    let mut r = Reader::new(head);
    let magic: [u8; 4] = r.take_array("pcap magic").ok()?;
    let (big_endian, nanosecond) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
        [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
        _ => return None,
    };
    r.skip(16, "pcap header").ok()?;
    let link_type = if big_endian {
        r.u32_be("link type").ok()?
    } else {
        r.u32_le("link type").ok()?
    };
    Some(Format::Pcap {
        link_type: link_type & 0x0fff_ffff,
        nanosecond,
    })
}

fn text_format(head: &[u8]) -> Format {
    // The head may end inside a multi-byte character: judge only what is complete.
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => head
            .get(..e.valid_up_to())
            .and_then(|h| std::str::from_utf8(h).ok())
            .unwrap_or(""),
        Err(_) => return Format::Unknown,
    };
    if head.is_empty() || valid.contains('\0') {
        return Format::Unknown;
    }
    let trimmed = valid.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("-----BEGIN ") {
        Format::Pem
    } else if trimmed.starts_with('{') || trimmed.starts_with('[') && !trimmed.starts_with("[[") {
        Format::Json
    } else {
        Format::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
        let mut v = PNG_SIGNATURE.to_vec();
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&width.to_be_bytes());
        v.extend_from_slice(&height.to_be_bytes());
        v.extend_from_slice(&[depth, color, 0, 0, 0]);
        v
    }

    #[test]
    fn png_header_is_decoded() {
        assert_eq!(
            sniff(&png(640, 480, 16, 0)),
            Format::Png {
                width: 640,
                height: 480,
                bit_depth: 16,
                color_type: 0
            }
        );
    }

    #[test]
    fn malformed_png_headers_are_explained() {
        let err = png_header(&png(0, 480, 8, 2)).unwrap_err();
        assert!(err.to_string().contains("image is 0x480 pixels"), "{err}");
        let err = png_header(&png(10, 10, 3, 2)).unwrap_err();
        assert!(err.to_string().contains("bit depth 3"), "{err}");
        let truncated = png(10, 10, 8, 2);
        let err = png_header(&truncated[..20]).unwrap_err();
        assert_eq!(err.offset, 20);
        assert_eq!(sniff(&truncated[..20]), Format::Unknown);
    }

    #[test]
    fn firmware_and_log_signatures() {
        let mut fv = vec![0u8; 64];
        fv[40..44].copy_from_slice(b"_FVH");
        assert_eq!(sniff(&fv), Format::UefiFirmwareVolume);
        let mut ifd = vec![0xffu8; 64];
        ifd[16..20].copy_from_slice(&0x0ff0_a55au32.to_le_bytes());
        assert_eq!(sniff(&ifd), Format::IntelFlashDescriptor);
        let mut log = vec![0u8; 64];
        log[32..48].copy_from_slice(b"Spec ID Event03\0");
        assert_eq!(sniff(&log), Format::TcgCryptoAgileLog);
        assert_eq!(sniff(&0x2705_1956u32.to_be_bytes()), Format::UbootLegacy);
        assert_eq!(sniff(b"hsqs\0\0"), Format::Squashfs);
    }

    #[test]
    fn pcap_link_type_in_either_byte_order() {
        let mut le = vec![0xd4, 0xc3, 0xb2, 0xa1];
        le.extend_from_slice(&[0; 16]);
        le.extend_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            sniff(&le),
            Format::Pcap {
                link_type: 1,
                nanosecond: false
            }
        );
        let mut be = vec![0xa1, 0xb2, 0x3c, 0x4d];
        be.extend_from_slice(&[0; 16]);
        be.extend_from_slice(&101u32.to_be_bytes());
        assert_eq!(
            sniff(&be),
            Format::Pcap {
                link_type: 101,
                nanosecond: true
            }
        );
    }

    #[test]
    fn text_kinds_and_garbage() {
        assert_eq!(sniff(b"{\"a\": 1}"), Format::Json);
        assert_eq!(sniff(b"[[models]]\n"), Format::Text);
        assert_eq!(sniff(b"-----BEGIN CERTIFICATE-----"), Format::Pem);
        assert_eq!(sniff(b"# dmidecode 3.4\n"), Format::Text);
        assert_eq!(sniff(b"caf\xc3"), Format::Text);
        assert_eq!(sniff(&[0x00, 0x13, 0xfe]), Format::Unknown);
        assert_eq!(sniff(b""), Format::Unknown);
    }
}
