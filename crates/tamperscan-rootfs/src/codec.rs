//! The compressors the filesystems use, behind the listing's output budget.

use crate::budget::Budget;
use crate::Error;

/// A compression method of a filesystem block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// zlib-wrapped deflate (squashfs "gzip", cramfs, JFFS2 zlib).
    Zlib,
    /// LZMA "alone" stream with its 13-byte header (squashfs 4 lzma).
    Lzma,
    /// The `.xz` container (squashfs 4 xz).
    Xz,
    /// LZMA with a 5-byte header (properties and dictionary size) and no size field, as old
    /// vendor squashfs 2.x/3.x builds wrote it; the expected size is supplied instead.
    LzmaNoSize,
    /// Chosen per block for squashfs 2.x/3.x: zlib when the block starts with a zlib header,
    /// otherwise [`Codec::LzmaNoSize`].
    Auto,
}

/// True when `data` starts with a valid zlib header (deflate, window <= 32 KiB, check bits).
fn is_zlib(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => {
            cmf & 0x0F == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Longest input accepted for one block (the largest squashfs block is 1 MiB).
const MAX_BLOCK_INPUT: usize = 2 << 20;

/// Decompresses one block that may produce at most `max_out` bytes, charging what it produced
/// to `budget`. `offset` is where `data` starts in the image.
pub(crate) fn decompress(
    codec: Codec,
    data: &[u8],
    max_out: usize,
    budget: &mut Budget,
    offset: u64,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    if data.len() > MAX_BLOCK_INPUT {
        return Err(Error::Decompress {
            offset,
            what,
            reason: format!("{} compressed bytes is more than a block", data.len()),
        });
    }
    let limit = max_out.min(budget.left());
    let codec = match codec {
        Codec::Auto if is_zlib(data) => Codec::Zlib,
        Codec::Auto => Codec::LzmaNoSize,
        other => other,
    };
    let result = match codec {
        Codec::Zlib => tamperscan_decompress::zlib(data, limit),
        Codec::Lzma => tamperscan_decompress::lzma(data, limit),
        Codec::Xz => tamperscan_decompress::xz(data, limit),
        Codec::LzmaNoSize | Codec::Auto => {
            // Rebuild the 13-byte "alone" header: properties, dictionary size, then the
            // uncompressed size, which here is the size the block must have.
            let (head, stream) = (data.get(..5), data.get(5..));
            match (head, stream) {
                (Some(head), Some(stream)) => {
                    let mut alone = Vec::with_capacity(data.len() + 8);
                    alone.extend_from_slice(head);
                    alone.extend_from_slice(&(max_out as u64).to_le_bytes());
                    alone.extend_from_slice(stream);
                    tamperscan_decompress::lzma(&alone, limit)
                }
                _ => {
                    return Err(Error::Decompress {
                        offset,
                        what,
                        reason: "shorter than the 5-byte LZMA header".into(),
                    })
                }
            }
        }
    };
    match result {
        Ok(out) if out.len() <= limit => {
            budget.take(out.len(), offset, what)?;
            Ok(out)
        }
        Ok(out) => Err(Error::Decompress {
            offset,
            what,
            reason: format!("produced {} bytes, more than {limit}", out.len()),
        }),
        // When the budget, not the block size, was the bound, say so.
        Err(_) if limit < max_out => {
            budget.check(max_out as u64, offset, what)?;
            Err(Error::Decompress {
                offset,
                what,
                reason: "output budget exhausted".into(),
            })
        }
        Err(e) => Err(Error::Decompress {
            offset,
            what,
            reason: e.to_string(),
        }),
    }
}
