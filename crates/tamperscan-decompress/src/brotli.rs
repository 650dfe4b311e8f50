//! Brotli (RFC 7932) through brotli-decompressor's streaming decoder, fed the whole input and
//! drained into an output that stops one byte past the budget; and EDK2's Brotli GUIDed
//! section (3D532050-5CDA-4FD0-879E-0F7F630D5AFB), which puts two sizes in front.

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use tamperscan_bytes::Reader;

use crate::{from_reader_error, Error};

/// Output chunk handed to the decoder at a time.
const CHUNK: usize = 64 * 1024;
/// EDK2's header: u64 LE decompressed size, u64 LE scratch size.
const EDK2_HEADER_LEN: usize = 16;

/// Decompresses a raw Brotli stream into at most `limit` bytes. Only standard window sizes
/// (up to 16 MiB) are accepted, not the large-window extension, so the decoder's ring buffer
/// stays bounded. Bytes after the end of the stream are ignored.
pub fn brotli(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    decode(data, 0, limit)
}

/// Decompresses an EDK2 `BrotliCustomDecompress` section body: u64 LE decompressed size,
/// u64 LE scratch size (EDK2's working-memory hint, not used here), then a Brotli stream. The
/// declared size must be at most `limit`, and the stream must produce exactly that many bytes.
pub fn brotli_edk2(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(data);
    let declared = r
        .u64_le("EDK2 Brotli decompressed size")
        .map_err(from_reader_error)?;
    r.u64_le("EDK2 Brotli scratch size")
        .map_err(from_reader_error)?;
    let size = usize::try_from(declared).unwrap_or(usize::MAX);
    if size > limit {
        return Err(Error::TooLarge {
            limit,
            declared: Some(declared),
        });
    }
    let out = decode(r.rest(), EDK2_HEADER_LEN, size).map_err(|e| match e {
        Error::TooLarge { .. } => Error::corrupt(
            0,
            format!("Brotli stream produces more than the declared {declared} bytes"),
        ),
        other => other,
    })?;
    if out.len() != size {
        return Err(Error::corrupt(
            0,
            format!(
                "Brotli stream produces {} bytes, the header declares {declared}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Decodes the stream in `data` (at offset `base` of the caller's input).
fn decode(data: &[u8], base: usize, limit: usize) -> Result<Vec<u8>, Error> {
    let mut state = BrotliState::new_strict(
        StandardAlloc::default(),
        StandardAlloc::default(),
        StandardAlloc::default(),
    );
    let cap = limit.saturating_add(1);
    let mut chunk = vec![0u8; CHUNK.min(cap)];
    let mut out = Vec::new();
    let mut available_in = data.len();
    let mut input_offset = 0usize;
    let mut total_out = 0usize;
    loop {
        let room = chunk.len().min(cap - out.len());
        let mut available_out = room;
        let mut output_offset = 0usize;
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            data,
            &mut available_out,
            &mut output_offset,
            chunk.get_mut(..room).unwrap_or(&mut []),
            &mut total_out,
            &mut state,
        );
        out.extend_from_slice(chunk.get(..output_offset).unwrap_or(&[]));
        if out.len() > limit {
            return Err(Error::TooLarge {
                limit,
                declared: None,
            });
        }
        match result {
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::ResultSuccess => return Ok(out),
            BrotliResult::NeedsMoreInput => return Err(Error::truncated(base + data.len())),
            BrotliResult::ResultFailure => {
                return Err(Error::corrupt(
                    base + input_offset,
                    format!("invalid Brotli data ({:?})", state.error_code),
                ))
            }
        }
    }
}
