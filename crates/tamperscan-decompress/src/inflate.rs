//! Deflate (RFC 1951) and zlib (RFC 1950) through miniz_oxide's core inflater, driven here so
//! that the output stops at the budget and the caller learns how much input the stream used
//! (gzip needs that to find its trailer).

use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_COMPUTE_ADLER32, TINFL_FLAG_PARSE_ZLIB_HEADER,
    TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use crate::Error;

/// First output buffer size, before doubling.
const INITIAL_OUTPUT: usize = 16 * 1024;

/// Decompresses a zlib stream (RFC 1950: 2-byte header, deflate data, Adler-32) into at most
/// `limit` bytes. A preset dictionary is refused; bytes after the Adler-32 are ignored.
pub fn zlib(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    inflate(data, 0, true, limit).map(|(out, _)| out)
}

/// Decompresses raw deflate data (RFC 1951) into at most `limit` bytes. Bytes after the final
/// block are ignored.
pub fn deflate(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    inflate(data, 0, false, limit).map(|(out, _)| out)
}

/// Inflates `data` (found at offset `base` of the caller's input), returning the output and
/// the number of input bytes the stream used.
pub(crate) fn inflate(
    data: &[u8],
    base: usize,
    zlib: bool,
    limit: usize,
) -> Result<(Vec<u8>, usize), Error> {
    let mut flags = TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    if zlib {
        flags |= TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_COMPUTE_ADLER32;
    }
    // One byte over the budget is enough to know the budget is exceeded.
    let cap = limit.saturating_add(1);
    let mut out = vec![0u8; INITIAL_OUTPUT.max(data.len().saturating_mul(2)).min(cap)];
    let mut state = Box::<DecompressorOxide>::default();
    let mut in_pos = 0usize;
    let mut out_pos = 0usize;
    loop {
        let input = data.get(in_pos..).unwrap_or(&[]);
        let (status, consumed, written) = decompress(&mut state, input, &mut out, out_pos, flags);
        in_pos += consumed;
        out_pos += written;
        match status {
            TINFLStatus::Done => {
                if out_pos > limit {
                    return Err(Error::TooLarge {
                        limit,
                        declared: None,
                    });
                }
                out.truncate(out_pos);
                return Ok((out, in_pos));
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= cap {
                    return Err(Error::TooLarge {
                        limit,
                        declared: None,
                    });
                }
                let grown = out.len().saturating_mul(2).min(cap);
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(Error::truncated(base + data.len()));
            }
            TINFLStatus::Adler32Mismatch => {
                return Err(Error::corrupt(
                    base + in_pos,
                    "zlib Adler-32 does not match the data",
                ));
            }
            TINFLStatus::Failed | TINFLStatus::BadParam => {
                let what = if zlib { "zlib" } else { "deflate" };
                return Err(Error::corrupt(
                    base + in_pos,
                    format!("invalid {what} data"),
                ));
            }
        }
    }
}
