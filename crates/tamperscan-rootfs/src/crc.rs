//! The CRC-32 JFFS2 stores: the reflected polynomial 0xEDB88320 as the Linux kernel's
//! `crc32_le` computes it, starting from 0 with no final inversion (so not the zlib CRC-32).

// Evaluated at compile time: an out-of-range index would fail the build, never a run.
#[allow(clippy::indexing_slicing)]
const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table();

/// `crc32_le(0, bytes)`.
pub(crate) fn jffs2_crc(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |crc, &b| {
        let idx = usize::from((crc as u8) ^ b);
        TABLE.get(idx).copied().unwrap_or(0) ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_uninverted_crc32() {
        // The zlib CRC-32 of "123456789" is 0xCBF43926; with no pre- and post-inversion the
        // same polynomial gives 0x2DFD2D88.
        assert_eq!(jffs2_crc(b"123456789"), 0x2DFD_2D88);
        assert_eq!(jffs2_crc(b""), 0);
    }
}
