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

    decode_alone(data, limit, declared)
}

/// Runs liblzma's LZMA "alone" decoder (the reference C implementation, several times faster
/// than a pure-Rust decoder on the multi-megabyte sections of real BIOS images) with its memory
/// limit set from `limit` and the output refused past `limit`.
fn decode_alone(data: &[u8], limit: usize, declared: Option<u64>) -> Result<Vec<u8>, Error> {
    use liblzma::stream::{Action, Error as LzErr, Status, Stream};
    // liblzma allocates the dictionary the header declares. A dictionary larger than the output
    // (declared, or at most `limit`) is never used, so the header handed to it is rewritten to
    // the smaller size, and decoder memory is capped at 256 MiB whatever the header says.
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(
        data.get(..HEADER_LEN)
            .ok_or_else(|| Error::truncated(data.len()))?,
    );
    let dict = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
    let needed = declared.unwrap_or(limit as u64).max(4096);
    let dict = dict.min(u32::try_from(needed).unwrap_or(u32::MAX));
    header[1..5].copy_from_slice(&dict.to_le_bytes());
    let memlimit = u64::from(dict).min(256 << 20).saturating_add(1 << 20);
    let mut stream = Stream::new_lzma_decoder(memlimit)
        .map_err(|e| Error::corrupt(0, format!("LZMA decoder: {e}")))?;
    // The declared size (already checked against `limit`) is allocated once, not grown.
    let mut out: Vec<u8> =
        Vec::with_capacity(declared.map_or(0, |d| usize::try_from(d).unwrap_or(0)));
    let mut pos = 0usize; // bytes of `data` consumed (the header counts from the rewritten copy)
    loop {
        let before = (pos, out.len());
        let room = limit
            .saturating_add(1)
            .saturating_sub(out.len())
            .clamp(1, 1 << 20);
        out.reserve(room);
        let input: &[u8] = if pos < HEADER_LEN {
            header.get(pos..).unwrap_or(&[])
        } else {
            data.get(pos..).unwrap_or(&[])
        };
        let action = if input.is_empty() {
            Action::Finish
        } else {
            Action::Run
        };
        let in_before = stream.total_in();
        let status = stream.process_vec(input, &mut out, action);
        pos += usize::try_from(stream.total_in() - in_before).unwrap_or(0);
        if out.len() > limit {
            return Err(Error::TooLarge { limit, declared });
        }
        match status {
            Ok(Status::StreamEnd) => return Ok(out),
            Ok(_) => {}
            Err(LzErr::MemLimit) => return Err(Error::TooLarge { limit, declared }),
            Err(e) => {
                return Err(Error::corrupt(
                    pos.min(data.len()),
                    format!("LZMA stream: {e}"),
                ))
            }
        }
        if (pos, out.len()) == before && (input.is_empty() || out.len() < out.capacity()) {
            // No progress with room left: the stream needs more input than there is.
            return Err(Error::truncated(data.len()));
        }
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
