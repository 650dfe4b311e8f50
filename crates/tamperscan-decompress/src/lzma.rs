//! LZMA "alone" streams as EDK2's `LzmaCompress` writes them (the `LzmaCustomDecompress` GUIDed
//! section EE4E5898-3914-4259-9D6E-DC7BD79403CF), and the `LzmaF86` variant
//! (D42AE6BD-1352-4BFB-909A-CA72A6EAE889) that runs the x86 BCJ filter over the result.
//!
//! Header (13 bytes): properties byte `(pb * 5 + lp) * 9 + lc`, u32 LE dictionary size, u64 LE
//! uncompressed size (all ones: unknown, the stream ends with an end marker). The range-coded
//! stream follows.

use crate::sink::{LimitedSink, SliceReader};
use crate::{bcj_x86_decode, Error};

/// Length of the LZMA "alone" header.
const HEADER_LEN: usize = 13;
/// The uncompressed-size value that means "unknown, look for the end marker".
const SIZE_UNKNOWN: u64 = u64::MAX;
/// The properties byte encodes `(pb * 5 + lp) * 9 + lc` with pb <= 4, lp <= 4, lc <= 8.
const MAX_PROPERTIES: u8 = 224;

/// Decompresses an LZMA "alone" stream (13-byte header: properties, u32 LE dictionary size,
/// u64 LE uncompressed size or all ones for "unknown, end marker follows") into at most `limit`
/// bytes.
///
/// A declared size above `limit` is refused before decoding. The decoder's dictionary buffer is
/// capped at `limit` too, so a huge declared dictionary cannot make it allocate more than the
/// output could ever need. Bytes after the end of the stream (section padding) are ignored when
/// the size is declared; a stream with an end marker must end the input.
pub fn lzma(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let header = data
        .get(..HEADER_LEN)
        .ok_or_else(|| Error::truncated(data.len()))?;
    let properties = header.first().copied().unwrap_or(0);
    if properties > MAX_PROPERTIES {
        return Err(Error::corrupt(
            0,
            format!("LZMA properties byte {properties:#04x} is above 0xE0"),
        ));
    }
    let declared = header
        .get(5..HEADER_LEN)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .filter(|&size| size != SIZE_UNKNOWN);
    if let Some(size) = declared {
        if size > limit as u64 {
            return Err(Error::TooLarge {
                limit,
                declared: Some(size),
            });
        }
    }

    let options = lzma_rs::decompress::Options {
        unpacked_size: lzma_rs::decompress::UnpackedSize::ReadFromHeader,
        // The dictionary buffer never needs to be longer than the output.
        memlimit: Some(limit),
        allow_incomplete: false,
    };
    let mut reader = SliceReader::new(data);
    let mut sink = LimitedSink::new(limit);
    match lzma_rs::lzma_decompress_with_options(&mut reader, &mut sink, &options) {
        Ok(()) => Ok(sink.out),
        Err(e) => Err(map_lzma_rs_error(e, &reader, &sink, limit, declared)),
    }
}

/// Decompresses an EDK2 `LzmaF86` section body: [`lzma`], then the x86 BCJ filter decoded over
/// the whole output with start address 0 (as EDK2's `LzmaArchDecompressLib` does).
pub fn lzma_x86(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = lzma(data, limit)?;
    bcj_x86_decode(&mut out, 0);
    Ok(out)
}

/// Turns an lzma-rs error into ours. lzma-rs reports neither offsets nor a distinct "out of
/// budget" error, so the budget is recognised from the sink's flag or the dictionary memory
/// limit message, and truncation from an end-of-file error or an input read to its end.
pub(crate) fn map_lzma_rs_error(
    e: lzma_rs::error::Error,
    reader: &SliceReader<'_>,
    sink: &LimitedSink,
    limit: usize,
    declared: Option<u64>,
) -> Error {
    use lzma_rs::error::Error as E;
    if sink.overflowed() {
        return Error::TooLarge { limit, declared };
    }
    let (eof, reason) = match &e {
        E::IoError(io) | E::HeaderTooShort(io) => (
            io.kind() == std::io::ErrorKind::UnexpectedEof,
            io.to_string(),
        ),
        E::LzmaError(s) | E::XzError(s) => (false, s.clone()),
    };
    // lzma-rs words the dictionary budget error this way (lzbuffer.rs); the buffer only grows
    // with the output, so reaching it means the output passed `limit`.
    if reason.starts_with("exceeded memory limit") {
        return Error::TooLarge { limit, declared };
    }
    if eof || reader.at_end() {
        return Error::truncated(reader.pos());
    }
    Error::corrupt(reader.pos(), reason)
}
