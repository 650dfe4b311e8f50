//! The Reader cursor under a script of reads chosen by the input: every read either succeeds
//! within bounds or fails with an offset inside the input, and offsets only move forward.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_bytes::Reader;

fuzz_target!(|data: &[u8]| {
    let Some((&script_len, rest)) = data.split_first() else {
        return;
    };
    let (script, input) = rest.split_at(usize::from(script_len).min(rest.len()));
    let mut r = Reader::new(input);
    let mut readers = Vec::new();
    for &op in script {
        let before = r.offset();
        let ok = match op % 8 {
            0 => r.u8("u8").is_ok(),
            1 => r.u16_le("u16").is_ok(),
            2 => r.u32_be("u32").is_ok(),
            3 => r.u64_le("u64").is_ok(),
            4 => r.take(usize::from(op), "take").is_ok(),
            5 => r
                .sub_u32_le(u64::from(op) * 16, "sub")
                .map(|s| readers.push(s))
                .is_ok(),
            6 => r.expect(&[op], "magic").is_ok(),
            _ => r.finish("all").is_ok(),
        };
        assert!(r.offset() >= before);
        assert!(r.offset() <= input.len() as u64);
        if !ok {
            assert_eq!(r.offset(), before, "a failed read consumes nothing");
        }
    }
    for mut s in readers {
        while s.u8("inner").is_ok() {}
        assert!(s.offset() <= input.len() as u64);
    }
});
