//! The `.xz` container (the xz file format specification 1.x): stream header, blocks, index,
//! footer, optional stream padding and further streams.
//!
//! lzma-rs decodes each block into memory before checking it, so its memory follows the data,
//! not a budget. Every LZMA2 chunk header states its uncompressed size, so the streams are first
//! walked here without decoding, the sizes added up and checked against the budget; only then
//! does lzma-rs decode (with the output still capped).

use tamperscan_bytes::Reader;

use crate::lzma::map_lzma_rs_error;
use crate::sink::{LimitedSink, SliceReader};
use crate::{from_reader_error, Error};

const STREAM_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0x00];
const FOOTER_MAGIC: [u8; 2] = *b"YZ";
/// The one filter lzma-rs decodes.
const FILTER_LZMA2: u64 = 0x21;

/// Decompresses `.xz` data into at most `limit` bytes in all.
///
/// Supported: the LZMA2 filter alone, integrity checks None, CRC32 and CRC64 (verified by
/// lzma-rs), several blocks, concatenated streams and stream padding. Refused as corrupt: other
/// filters (BCJ, delta), SHA-256 checks, and anything but zero padding after the last stream.
pub fn xz(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    loop {
        let (end, declared) = scan_stream(data, pos)?;
        let budget = limit - out.len();
        if declared > budget as u64 {
            return Err(Error::TooLarge {
                limit,
                declared: Some(declared.saturating_add(out.len() as u64)),
            });
        }
        let stream = data.get(pos..end).unwrap_or(&[]);
        let mut reader = SliceReader::new(stream);
        let mut sink = LimitedSink::new(budget);
        if let Err(e) = lzma_rs::xz_decompress(&mut reader, &mut sink) {
            return Err(match map_lzma_rs_error(e, &reader, &sink, limit, None) {
                Error::Corrupt { offset, reason } => Error::Corrupt {
                    offset: offset + pos as u64,
                    reason,
                },
                Error::Truncated { offset } => Error::truncated(offset + pos as u64),
                other => other,
            });
        }
        out.extend_from_slice(&sink.out);

        // Stream padding: zero bytes, a multiple of four, then the end or another stream.
        let rest = data.get(end..).unwrap_or(&[]);
        let padding = rest.iter().take_while(|&&b| b == 0).count();
        if padding % 4 != 0 {
            return Err(Error::corrupt(
                end,
                format!("xz stream padding of {padding} bytes is not a multiple of 4"),
            ));
        }
        pos = end + padding;
        let next = data.get(pos..).unwrap_or(&[]);
        if next.is_empty() {
            return Ok(out);
        }
        if !next.starts_with(&STREAM_MAGIC) {
            return Err(Error::corrupt(pos, "data after the last xz stream"));
        }
    }
}

/// Walks the stream that starts at `start` without decoding it; returns where it ends and the
/// total uncompressed size its LZMA2 chunks declare.
fn scan_stream(data: &[u8], start: usize) -> Result<(usize, u64), Error> {
    let mut r = Reader::with_base(data.get(start..).unwrap_or(&[]), start as u64);
    let total = scan_stream_parts(&mut r).map_err(from_reader_error)?;
    let end = usize::try_from(r.offset()).unwrap_or(usize::MAX);
    Ok((end, total))
}

fn scan_stream_parts(r: &mut Reader<'_>) -> Result<u64, tamperscan_bytes::Error> {
    r.expect(&STREAM_MAGIC, "xz stream header magic")?;
    let flags_at = r.offset();
    let flags = r.take_array::<2>("xz stream flags")?;
    let crc = r.u32_le("xz stream header CRC32")?;
    if crc != crc32fast::hash(&flags) {
        return Err(invalid(flags_at, "xz stream flags", "CRC32 mismatch"));
    }
    let [reserved, check] = flags;
    if reserved != 0 || check & 0xF0 != 0 {
        return Err(invalid(flags_at, "xz stream flags", "reserved bits set"));
    }
    let check_size = match check & 0x0F {
        0 => 0,
        1..=3 => 4,
        4..=6 => 8,
        7..=9 => 16,
        10..=12 => 32,
        _ => 64,
    };

    let mut total = 0u64;
    loop {
        let block_start = r.offset();
        let size_byte = r
            .peek(1, "xz block header size")?
            .first()
            .copied()
            .unwrap_or(0);
        if size_byte == 0 {
            break;
        }
        let unpacked = scan_block(r, size_byte, check_size)?;
        total = total
            .checked_add(unpacked)
            .ok_or_else(|| invalid(block_start, "xz block", "sizes overflow"))?;
    }

    // Index: indicator 0, record count, records, padding to four bytes, CRC32.
    let index_start = r.offset();
    r.skip(1, "xz index indicator")?;
    let records = multibyte(r, "xz index record count")?;
    for _ in 0..records {
        // Each record reads at least two bytes, so the input bounds this loop.
        multibyte(r, "xz index unpadded size")?;
        multibyte(r, "xz index uncompressed size")?;
    }
    skip_padding(r, index_start, "xz index padding")?;
    r.skip(4, "xz index CRC32")?;
    let index_size = r.offset() - index_start;

    // Footer: CRC32 of the next six bytes, backward size, stream flags again, magic. Checked
    // here in full so that the decoder only ever sees a consistent footer.
    let footer_at = r.offset();
    let crc = r.u32_le("xz stream footer CRC32")?;
    let covered = r.peek(6, "xz stream footer")?;
    let backward = r.u32_le("xz backward size")?;
    let footer_flags = r.take_array::<2>("xz stream footer flags")?;
    if crc != crc32fast::hash(covered) {
        return Err(invalid(footer_at, "xz stream footer", "CRC32 mismatch"));
    }
    if (u64::from(backward) + 1) * 4 != index_size {
        return Err(invalid(
            footer_at + 4,
            "xz backward size",
            format!("index is {index_size} bytes"),
        ));
    }
    if footer_flags != flags {
        return Err(invalid(
            footer_at + 8,
            "xz stream footer flags",
            "differ from the header's",
        ));
    }
    r.expect(&FOOTER_MAGIC, "xz stream footer magic")?;
    Ok(total)
}

/// Walks one block (header, LZMA2 chunks, padding, check); returns its uncompressed size.
fn scan_block(
    r: &mut Reader<'_>,
    size_byte: u8,
    check_size: usize,
) -> Result<u64, tamperscan_bytes::Error> {
    let block_start = r.offset();
    let header_len = (usize::from(size_byte) + 1) * 4;
    let header = r.take(header_len, "xz block header")?;
    let (covered, stored) = header.split_at(header_len - 4);
    if crc32fast::hash(covered) != u32::from_le_bytes(stored.try_into().unwrap_or([0; 4])) {
        return Err(invalid(block_start, "xz block header", "CRC32 mismatch"));
    }
    let mut h = Reader::with_base(covered.get(1..).unwrap_or(&[]), block_start + 1);
    let flags = h.u8("xz block flags")?;
    if flags & 0x3C != 0 {
        return Err(invalid(
            block_start + 1,
            "xz block flags",
            "reserved bits set",
        ));
    }
    let filters = usize::from(flags & 0x03) + 1;
    if flags & 0x40 != 0 {
        multibyte(&mut h, "xz block compressed size")?;
    }
    let declared = if flags & 0x80 != 0 {
        Some(multibyte(&mut h, "xz block uncompressed size")?)
    } else {
        None
    };
    if filters != 1 {
        return Err(invalid(
            block_start + 1,
            "xz block flags",
            format!("{filters} filters; only LZMA2 alone is supported"),
        ));
    }
    let filter_at = h.offset();
    let id = multibyte(&mut h, "xz filter id")?;
    let props = multibyte(&mut h, "xz filter properties size")?;
    if id != FILTER_LZMA2 || props != 1 {
        return Err(invalid(
            filter_at,
            "xz filter",
            format!("filter {id:#x}; only LZMA2 (0x21) is supported"),
        ));
    }
    h.skip(1, "xz LZMA2 dictionary size")?;
    if h.rest().iter().any(|&b| b != 0) {
        return Err(invalid(h.offset(), "xz block header padding", "not zero"));
    }

    let unpacked = scan_lzma2(r)?;
    if declared.is_some_and(|d| d != unpacked) {
        return Err(invalid(
            block_start,
            "xz block uncompressed size",
            format!("header says {declared:?}, the LZMA2 chunks hold {unpacked}"),
        ));
    }
    skip_padding(r, block_start, "xz block padding")?;
    r.skip(check_size, "xz block check")?;
    Ok(unpacked)
}

/// Walks LZMA2 chunk headers to the end marker; returns the uncompressed size they declare.
fn scan_lzma2(r: &mut Reader<'_>) -> Result<u64, tamperscan_bytes::Error> {
    let mut total = 0u64;
    loop {
        let at = r.offset();
        let control = r.u8("LZMA2 chunk control")?;
        let unpacked = match control {
            0x00 => return Ok(total),
            0x01 | 0x02 => {
                let size = u64::from(r.u16_be("LZMA2 uncompressed chunk size")?) + 1;
                r.skip(size as usize, "LZMA2 uncompressed chunk")?;
                size
            }
            0x03..=0x7F => {
                return Err(invalid(
                    at,
                    "LZMA2 chunk control",
                    format!("{control:#04x} is reserved"),
                ))
            }
            _ => {
                let low = r.u16_be("LZMA2 chunk uncompressed size")?;
                let unpacked = (u64::from(control & 0x1F) << 16 | u64::from(low)) + 1;
                let packed = usize::from(r.u16_be("LZMA2 chunk compressed size")?) + 1;
                if (control >> 5) & 0x03 >= 2 {
                    r.skip(1, "LZMA2 chunk properties")?;
                }
                r.skip(packed, "LZMA2 compressed chunk")?;
                unpacked
            }
        };
        // At most 2 MiB per chunk of at least 4 input bytes: no overflow is possible.
        total += unpacked;
    }
}

/// Skips the zero bytes that pad a structure begun at `start` to a multiple of four.
fn skip_padding(
    r: &mut Reader<'_>,
    start: u64,
    what: &'static str,
) -> Result<(), tamperscan_bytes::Error> {
    let len = (4 - (r.offset() - start) % 4) % 4;
    let at = r.offset();
    if r.take(len as usize, what)?.iter().any(|&b| b != 0) {
        return Err(invalid(at, what, "not zero"));
    }
    Ok(())
}

/// Reads an xz variable-length integer: 7 bits a byte, least significant first, at most 9 bytes.
fn multibyte(r: &mut Reader<'_>, what: &'static str) -> Result<u64, tamperscan_bytes::Error> {
    let at = r.offset();
    let mut value = 0u64;
    for i in 0..9 {
        let b = r.u8(what)?;
        if i > 0 && b == 0 {
            return Err(invalid(at, what, "non-minimal encoding"));
        }
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(invalid(at, what, "longer than 9 bytes"))
}

fn invalid(at: u64, what: &'static str, reason: impl Into<String>) -> tamperscan_bytes::Error {
    tamperscan_bytes::Error::invalid(at, what, reason)
}
