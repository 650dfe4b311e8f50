//! The x86 branch/call/jump (BCJ) converter, decoding direction.
//!
//! x86 `CALL rel32` (opcode E8) and `JMP rel32` (E9) store their target relative to the end of
//! the instruction, so the same target gives different bytes at different places. Before
//! compressing, the encoder rewrites a displacement whose top byte is 00 or FF (a near target)
//! into the absolute address `displacement + position of the next instruction`, which repeats
//! far more and compresses better. Decoding subtracts the position again.
//!
//! Two refinements make the byte stream reversible and cut false hits:
//! - A three-bit history records which of the three bytes before an opcode were themselves
//!   E8/E9 bytes that were not converted. An opcode whose history says it probably sits inside
//!   an earlier instruction's operand is skipped (the history value is not one of 0, 1, 2, 4, or
//!   the operand byte the history points at looks like a near marker).
//! - When the history is not empty and the byte of the converted value that the history points
//!   at is 00 or FF, the conversion is repeated on the value with the bits below that byte
//!   inverted, so the encoder's output never shows a pattern that would be read differently.
//!
//! The converted displacement is stored as the low 25 bits sign-extended to 32 (the top byte is
//! 00 or FF again). The last four bytes of the buffer are never the start of a conversion.

/// The offset of an E8/E9 opcode's four displacement bytes, and their length.
const OPERAND_LEN: usize = 4;

/// Decodes the x86 BCJ filter in place over `buf`, whose first byte sits at address `start_ip`
/// (EDK2's `LzmaF86` sections use 0).
pub fn bcj_x86_decode(buf: &mut [u8], start_ip: u32) {
    // Bit k set: the byte k+1 positions before the last examined opcode was an unconverted E8/E9.
    let mut history: u32 = 0;
    let mut last_opcode: Option<usize> = None;
    let mut pos = 0usize;
    while let Some(&[opcode, d0, d1, d2, d3]) = buf.get(pos..pos + 1 + OPERAND_LEN) {
        if opcode & 0xFE != 0xE8 {
            pos += 1;
            continue;
        }
        let gap = last_opcode.map_or(usize::MAX, |last| pos - last);
        last_opcode = Some(pos);
        if gap > 3 {
            history = 0;
        } else {
            history = (history << (gap - 1)) & 7;
            if history != 0 {
                // Counted from the opcode: the history points at the fourth, third or second
                // byte after it.
                let suspect = [opcode, d0, d1, d2, d3]
                    .get(OPERAND_LEN - history_byte(history) as usize)
                    .copied()
                    .unwrap_or(0);
                if !history_allows(history) || is_near_marker(suspect) {
                    history = ((history << 1) & 7) | 1;
                    pos += 1;
                    continue;
                }
            }
        }
        if !is_near_marker(d3) {
            history = ((history << 1) & 7) | 1;
            pos += 1;
            continue;
        }

        // Position of the next instruction, as the encoder saw it.
        let next_ip = start_ip
            .wrapping_add(pos as u32)
            .wrapping_add(1 + OPERAND_LEN as u32);
        let mut value = u32::from_le_bytes([d0, d1, d2, d3]);
        let relative = loop {
            let relative = value.wrapping_sub(next_ip);
            if history == 0 {
                break relative;
            }
            let byte_bits = history_byte(history) * 8;
            if !is_near_marker((relative >> (24 - byte_bits)) as u8) {
                break relative;
            }
            value = relative ^ ((1u32 << (32 - byte_bits)) - 1);
        };
        // Keep 25 bits and sign-extend: the top byte becomes 00 or FF.
        let top = if relative & (1 << 24) != 0 {
            0xFF
        } else {
            0x00
        };
        let [r0, r1, r2, _] = relative.to_le_bytes();
        if let Some(operand) = buf.get_mut(pos + 1..pos + 1 + OPERAND_LEN) {
            operand.copy_from_slice(&[r0, r1, r2, top]);
        }
        pos += 1 + OPERAND_LEN;
    }
}

/// A displacement's top byte that marks a near target.
fn is_near_marker(b: u8) -> bool {
    b == 0x00 || b == 0xFF
}

/// Whether an opcode with this (non-zero) three-bit history may be converted at all.
fn history_allows(history: u32) -> bool {
    matches!(history, 0 | 1 | 2 | 4)
}

/// Which byte (1 = the third displacement byte, 3 = the first) the history points at.
fn history_byte(history: u32) -> u32 {
    match history {
        0 => 0,
        1 => 1,
        2 | 3 => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_a_lone_call_back_to_relative() {
        // CALL at 0x10 whose encoded absolute target is 0x1000: relative = 0x1000 - 0x15.
        let mut buf = vec![0x90; 0x20];
        buf[0x10..0x15].copy_from_slice(&[0xE8, 0x00, 0x10, 0x00, 0x00]);
        bcj_x86_decode(&mut buf, 0);
        assert_eq!(&buf[0x10..0x15], &[0xE8, 0xEB, 0x0F, 0x00, 0x00]);
    }

    #[test]
    fn start_ip_shifts_the_positions() {
        let mut a = vec![0xE8, 0x00, 0x10, 0x00, 0x00, 0x90];
        let mut b = a.clone();
        bcj_x86_decode(&mut a, 0x100);
        bcj_x86_decode(&mut b, 0);
        assert_eq!(&a[1..5], &(0x1000u32 - 0x105).to_le_bytes());
        assert_eq!(&b[1..5], &(0x1000u32 - 5).to_le_bytes());
    }

    #[test]
    fn far_targets_and_short_buffers_are_left_alone() {
        let mut buf = vec![0xE8, 0x01, 0x02, 0x03, 0x44, 0xE9, 0x00];
        let before = buf.clone();
        bcj_x86_decode(&mut buf, 0);
        assert_eq!(buf, before);
        for len in 0..5 {
            let mut short = vec![0xE8; len];
            bcj_x86_decode(&mut short, 0);
            assert_eq!(short, vec![0xE8; len]);
        }
    }
}
