//! The UEFI "Compression Algorithm" (UEFI specification, chapter "Compression Algorithm
//! Specification"), used by `EFI_SECTION_COMPRESSION` with `EFI_STANDARD_COMPRESSION`, and its
//! Tiano variant (GUIDed section A31280AD-481E-41B6-95E8-127F4C984779), which differs only in
//! the width of the position-set count (4 bits for EFI, 5 for Tiano).
//!
//! Layout: u32 LE compressed size, u32 LE original size, then a bit stream read from the most
//! significant bit of each byte. The stream is a sequence of blocks; each block starts with
//!
//! 1. `BlockSize` (16 bits): how many char&length symbols the block holds;
//! 2. the extra set (`NT` = 19 symbols, 5-bit count): a Huffman code over code lengths, its own
//!    lengths written as 3 bits, or `111` followed by one bit per extra unit ending in a 0; after
//!    the third length, 2 bits give a run of zero lengths;
//! 3. the char&length set (`NC` = 510 symbols, 9-bit count), its lengths coded with the extra
//!    set: symbol 0 is one zero length, 1 is 3 + (4 bits) zeros, 2 is 20 + (9 bits) zeros, and
//!    any other symbol `s` is the length `s - 2`;
//! 4. the position set (PBIT-bit count), lengths coded like the extra set but with no zero run.
//!
//! A count of 0 means the set has a single symbol, given in the next field-width bits, which is
//! coded with no bits at all. Every code is canonical: shorter codes come first, and codes of one
//! length follow the symbol order.
//!
//! Char&length symbols below 256 are literal bytes; a symbol `s` of 256 or more copies
//! `s - 253` bytes from `distance + 1` bytes back, where the distance is read as a position
//! symbol `p`: `p` itself when `p <= 1`, else `2^(p-1)` plus the next `p - 1` bits.

use crate::Error;

/// Length of the size header.
const HEADER_LEN: usize = 8;
/// Char&length symbols: 256 literals and match lengths 3..=256.
const NC: usize = 510;
/// Width of the char&length count.
const CBIT: u32 = 9;
/// Extra-set symbols (`CODE_BIT + 3`).
const NT: usize = 19;
/// Width of the extra-set count.
const TBIT: u32 = 5;
/// The extra-set length after which a 2-bit zero run follows.
const T_SPECIAL: usize = 3;
/// Position symbols the decoder accepts: every value a 5-bit count can name, for both variants
/// (as EDK2's decoder does); distances are checked against the output instead.
const NP_MAX: usize = 31;
/// Width of the position-set count in the EFI variant.
const EFI_PBIT: u32 = 4;
/// Width of the position-set count in the Tiano variant.
const TIANO_PBIT: u32 = 5;
/// Longest Huffman code.
const MAX_CODE_LEN: usize = 16;
/// Shortest match; symbol 256 means a match of this length.
const THRESHOLD: usize = 3;

/// Decompresses UEFI standard compression (`EFI_SECTION_COMPRESSION` with compression type 1):
/// an 8-byte header (u32 LE compressed size, u32 LE original size) and the LZ77+Huffman bit
/// stream with a 4-bit position-set count.
///
/// The original size must be at most `limit`; the output is exactly that long. The compressed
/// size must fit in `data` (bytes after it are ignored, as section padding).
pub fn efi(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    decompress(data, limit, EFI_PBIT)
}

/// Decompresses the Tiano variant of [`efi`]: the same format with a 5-bit position-set count
/// (GUIDed section A31280AD-481E-41B6-95E8-127F4C984779).
pub fn tiano(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    decompress(data, limit, TIANO_PBIT)
}

fn decompress(data: &[u8], limit: usize, pbit: u32) -> Result<Vec<u8>, Error> {
    let header = data
        .get(..HEADER_LEN)
        .ok_or_else(|| Error::truncated(data.len()))?;
    let field = |at: usize| {
        header
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let compressed_size = field(0);
    let original_size = field(4);
    let original = usize::try_from(original_size).unwrap_or(usize::MAX);
    if original > limit {
        return Err(Error::TooLarge {
            limit,
            declared: Some(u64::from(original_size)),
        });
    }
    let end = usize::try_from(compressed_size)
        .ok()
        .and_then(|c| c.checked_add(HEADER_LEN))
        .unwrap_or(usize::MAX);
    let stream = data
        .get(HEADER_LEN..end)
        .ok_or_else(|| Error::truncated(data.len()))?;

    let mut decoder = Decoder {
        bits: BitReader::new(stream, HEADER_LEN),
        pbit,
        // Grows as needed: the declared size is trusted only up to a multiple of the input.
        out: Vec::with_capacity(original.min(stream.len().saturating_mul(8).max(4096))),
    };
    decoder.run(original)?;
    Ok(decoder.out)
}

/// The decoding state: the bit reader, the variant and the output so far.
struct Decoder<'a> {
    bits: BitReader<'a>,
    pbit: u32,
    out: Vec<u8>,
}

/// The three codes of one block.
struct BlockCodes {
    char_len: Code,
    position: Code,
}

impl Decoder<'_> {
    fn run(&mut self, original: usize) -> Result<(), Error> {
        let mut left_in_block = 0u32;
        let mut codes: Option<BlockCodes> = None;
        while self.out.len() < original {
            if left_in_block == 0 || codes.is_none() {
                // EDK2 counts the block size in 16 bits and decrements before checking, so a
                // stored 0 stands for 65536 symbols.
                left_in_block = match self.bits.read(16)? {
                    0 => 1 << 16,
                    n => n,
                };
                codes = Some(self.read_block_codes()?);
            }
            let Some(block) = codes.as_ref() else {
                return Err(Error::corrupt(self.bits.offset(), "no block header"));
            };
            left_in_block -= 1;

            let symbol = usize::from(block.char_len.decode(&mut self.bits)?);
            if let Ok(literal) = u8::try_from(symbol) {
                self.out.push(literal);
                continue;
            }
            let length = symbol - (256 - THRESHOLD);
            let at = self.bits.offset();
            let distance = self.read_distance(&block.position)?;
            let start = usize::try_from(distance)
                .ok()
                .and_then(|d| d.checked_add(1))
                .and_then(|back| self.out.len().checked_sub(back))
                .ok_or_else(|| {
                    Error::corrupt(
                        at,
                        format!(
                            "match distance {} reaches before the start of the output ({} bytes)",
                            u64::from(distance) + 1,
                            self.out.len()
                        ),
                    )
                })?;
            let length = length.min(original - self.out.len());
            for from in start..start + length {
                // `from` is below the current length, which only grows: always present.
                let byte = self.out.get(from).copied().unwrap_or(0);
                self.out.push(byte);
            }
        }
        Ok(())
    }

    /// Reads the extra set, the char&length set and the position set that open a block.
    fn read_block_codes(&mut self) -> Result<BlockCodes, Error> {
        let extra = self.read_pt_code(NT, TBIT, Some(T_SPECIAL), "extra")?;
        let char_len = self.read_char_len_code(&extra)?;
        let position = self.read_pt_code(NP_MAX, self.pbit, None, "position")?;
        Ok(BlockCodes { char_len, position })
    }

    /// Reads the extra set or the position set: a count of `count_bits` bits, then that many
    /// lengths (3 bits, or `111` plus a unary extension), with a 2-bit zero run after the
    /// `special`-th length.
    fn read_pt_code(
        &mut self,
        symbols: usize,
        count_bits: u32,
        special: Option<usize>,
        what: &'static str,
    ) -> Result<Code, Error> {
        let at = self.bits.offset();
        let count = self.bits.read(count_bits)? as usize;
        if count == 0 {
            let only = self.bits.read(count_bits)?;
            return Code::single(only, symbols, what, at);
        }
        if count > symbols {
            return Err(Error::corrupt(
                at,
                format!("{what} set declares {count} code lengths, at most {symbols} exist"),
            ));
        }
        let mut lengths = [0u8; NP_MAX];
        let mut i = 0;
        while i < count {
            let len_at = self.bits.offset();
            let mut len = self.bits.read(3)?;
            if len == 7 {
                while self.bits.read(1)? == 1 {
                    len += 1;
                    if len as usize > MAX_CODE_LEN {
                        return Err(Error::corrupt(
                            len_at,
                            format!("{what} code length above {MAX_CODE_LEN}"),
                        ));
                    }
                }
            }
            if let Some(slot) = lengths.get_mut(i) {
                *slot = len as u8;
            }
            i += 1;
            if Some(i) == special {
                // A run of zero lengths; they are zero already.
                i += self.bits.read(2)? as usize;
            }
        }
        Code::from_lengths(lengths.get(..symbols).unwrap_or(&[]), what, at)
    }

    /// Reads the char&length set, its lengths coded with the extra set.
    fn read_char_len_code(&mut self, extra: &Code) -> Result<Code, Error> {
        let at = self.bits.offset();
        let count = self.bits.read(CBIT)? as usize;
        if count == 0 {
            let only = self.bits.read(CBIT)?;
            return Code::single(only, NC, "char&length", at);
        }
        // EDK2 reads at most NC lengths whatever the count says.
        let count = count.min(NC);
        let mut lengths = [0u8; NC];
        let mut i = 0;
        while i < count {
            match extra.decode(&mut self.bits)? {
                0 => i += 1,
                1 => i += self.bits.read(4)? as usize + 3,
                2 => i += self.bits.read(CBIT)? as usize + 20,
                symbol => {
                    // Extra-set symbols are below NT = 19, so the length is at most 16.
                    if let Some(slot) = lengths.get_mut(i) {
                        *slot = (symbol - 2) as u8;
                    }
                    i += 1;
                }
            }
        }
        Code::from_lengths(&lengths, "char&length", at)
    }

    /// Reads a position symbol and its extra bits: the match distance minus one.
    fn read_distance(&mut self, position: &Code) -> Result<u32, Error> {
        let p = u32::from(position.decode(&mut self.bits)?);
        if p <= 1 {
            return Ok(p);
        }
        Ok((1u32 << (p - 1)) + self.bits.read(p - 1)?)
    }
}

/// A canonical Huffman code, decoded length by length (codes of one length are consecutive
/// numbers, in symbol order, following the codes one bit shorter).
struct Code {
    /// How many symbols have each code length (index 0 unused).
    counts: [u16; MAX_CODE_LEN + 1],
    /// Symbols ordered by code length, then by value.
    symbols: Vec<u16>,
    /// The only symbol of a one-symbol set, which takes no bits.
    single: Option<u16>,
}

impl Code {
    /// A set whose one symbol is coded with zero bits.
    fn single(symbol: u32, symbols: usize, what: &str, at: u64) -> Result<Code, Error> {
        if symbol as usize >= symbols {
            return Err(Error::corrupt(
                at,
                format!(
                    "{what} set names symbol {symbol}, at most {} exist",
                    symbols - 1
                ),
            ));
        }
        Ok(Code {
            counts: [0; MAX_CODE_LEN + 1],
            symbols: Vec::new(),
            single: Some(symbol as u16),
        })
    }

    /// Builds the code from per-symbol lengths (0 = unused), which must form a complete prefix
    /// code with no length above 16.
    fn from_lengths(lengths: &[u8], what: &str, at: u64) -> Result<Code, Error> {
        let mut counts = [0u16; MAX_CODE_LEN + 1];
        for &len in lengths {
            match counts.get_mut(usize::from(len)) {
                Some(count) => *count += 1,
                None => {
                    return Err(Error::corrupt(
                        at,
                        format!("{what} code length {len} above {MAX_CODE_LEN}"),
                    ))
                }
            }
        }
        // Kraft sum in units of 2^-16: a complete code fills exactly 2^16.
        let kraft: u32 = (0..)
            .zip(counts)
            .skip(1)
            .map(|(len, count)| u32::from(count) << (MAX_CODE_LEN - len))
            .sum();
        if kraft != 1 << MAX_CODE_LEN {
            let state = if kraft > 1 << MAX_CODE_LEN {
                "over-subscribed"
            } else {
                "incomplete"
            };
            return Err(Error::corrupt(
                at,
                format!("{what} code lengths form an {state} code"),
            ));
        }
        let mut symbols = Vec::with_capacity(lengths.len());
        for len in 1..=MAX_CODE_LEN as u8 {
            symbols.extend(
                (0u16..)
                    .zip(lengths)
                    .filter(|&(_, &l)| l == len)
                    .map(|(s, _)| s),
            );
        }
        Ok(Code {
            counts,
            symbols,
            single: None,
        })
    }

    fn decode(&self, bits: &mut BitReader<'_>) -> Result<u16, Error> {
        if let Some(symbol) = self.single {
            return Ok(symbol);
        }
        let window = bits.peek(MAX_CODE_LEN as u32);
        let mut code = 0u32; // the first `len` bits of the window
        let mut first = 0u32; // the first code of length `len`
        let mut index = 0usize; // where codes of length `len` start in `symbols`
        for (len, &count) in (0..).zip(&self.counts).skip(1) {
            code = (code << 1) | ((window >> (MAX_CODE_LEN - len)) & 1);
            let count = u32::from(count);
            if code < first + count {
                bits.consume(len as u32)?;
                let at = index + (code - first) as usize;
                return self
                    .symbols
                    .get(at)
                    .copied()
                    .ok_or_else(|| Error::corrupt(bits.offset(), "Huffman symbol out of range"));
            }
            index += count as usize;
            first = (first + count) << 1;
        }
        // Unreachable for a complete code, which every `Code` with symbols is.
        Err(Error::corrupt(bits.offset(), "invalid Huffman code"))
    }
}

/// Reads bits most-significant first. Peeking past the end yields zeros; consuming past it is
/// truncation.
struct BitReader<'a> {
    data: &'a [u8],
    /// Offset of `data` in the caller's input, for error offsets.
    base: usize,
    /// Bits consumed.
    pos: u64,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8], base: usize) -> Self {
        BitReader { data, base, pos: 0 }
    }

    /// Byte offset of the next unread bit in the caller's input.
    fn offset(&self) -> u64 {
        self.base as u64 + self.pos / 8
    }

    /// The next `n` (at most 24) bits, without consuming them.
    fn peek(&self, n: u32) -> u32 {
        let byte = usize::try_from(self.pos / 8).unwrap_or(usize::MAX);
        let at = |k: usize| {
            byte.checked_add(k)
                .and_then(|i| self.data.get(i))
                .copied()
                .unwrap_or(0)
        };
        let word = u32::from_be_bytes([at(0), at(1), at(2), at(3)]);
        let aligned = word << (self.pos % 8);
        if n == 0 {
            0
        } else {
            aligned >> (32 - n)
        }
    }

    fn consume(&mut self, n: u32) -> Result<(), Error> {
        self.pos += u64::from(n);
        if self.pos > self.data.len() as u64 * 8 {
            return Err(Error::truncated(self.base + self.data.len()));
        }
        Ok(())
    }

    /// Reads `n` (at most 32) bits.
    fn read(&mut self, n: u32) -> Result<u32, Error> {
        if n > 16 {
            let high = self.read(n - 16)?;
            let low = self.read(16)?;
            return Ok((high << 16) | low);
        }
        let value = self.peek(n);
        self.consume(n)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_reader_reads_msb_first_and_reports_truncation() {
        let mut r = BitReader::new(&[0b1010_0000, 0xFF], 8);
        assert_eq!(r.read(1).unwrap(), 1);
        assert_eq!(r.read(3).unwrap(), 0b010);
        assert_eq!(r.read(8).unwrap(), 0b0000_1111);
        assert_eq!(r.peek(8), 0b1111_0000);
        assert_eq!(r.read(4).unwrap(), 0xF);
        assert_eq!(r.read(1), Err(Error::Truncated { offset: 10 }));
    }

    #[test]
    fn code_rejects_incomplete_and_oversubscribed_lengths() {
        assert!(Code::from_lengths(&[1, 1], "t", 0).is_ok());
        assert!(Code::from_lengths(&[1, 2, 2], "t", 0).is_ok());
        assert!(Code::from_lengths(&[1, 2], "t", 0).is_err());
        assert!(Code::from_lengths(&[1, 1, 1], "t", 0).is_err());
        assert!(Code::from_lengths(&[0, 0, 0], "t", 0).is_err());
        assert!(Code::from_lengths(&[17, 1], "t", 0).is_err());
    }

    #[test]
    fn canonical_code_assigns_shorter_codes_first() {
        // Lengths: a=2, b=1, c=3, d=3 -> b=0, a=10, c=110, d=111.
        let code = Code::from_lengths(&[2, 1, 3, 3], "t", 0).unwrap();
        let stream = [0b0101_1011_1000_0000u16.to_be_bytes()[0], 0b1000_0000];
        let mut r = BitReader::new(&stream, 0);
        let decoded: Vec<u16> = (0..4).map(|_| code.decode(&mut r).unwrap()).collect();
        assert_eq!(decoded, vec![1, 0, 2, 3]);
    }
}
