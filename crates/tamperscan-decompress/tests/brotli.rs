//! Brotli and EDK2's Brotli section: libbrotlienc-made vectors, hostile input, a 64 MiB bomb.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{every_truncation_errors, garbage_never_panics, varied};
use tamperscan_decompress::{brotli, brotli_edk2, Error};

const MIB: usize = 1 << 20;

#[test]
fn raw_streams_decode_to_the_generated_input() {
    assert_eq!(
        brotli(vector!("small.br"), MIB).unwrap(),
        varied(3000, 0xC0FF_EE11)
    );
    assert_eq!(
        brotli(vector!("varied.br"), MIB).unwrap(),
        varied(48 * 1024, 0x1234_5678)
    );
}

#[test]
fn the_budget_is_exact() {
    let data = vector!("small.br");
    assert_eq!(brotli(data, 3000).unwrap().len(), 3000);
    assert_eq!(
        brotli(data, 2999),
        Err(Error::TooLarge {
            limit: 2999,
            declared: None
        })
    );
    assert!(brotli(data, 0).unwrap_err().is_too_large());
}

#[test]
fn edk2_section_checks_the_declared_size() {
    let data = vector!("varied.edk2br");
    assert_eq!(
        brotli_edk2(data, MIB).unwrap(),
        varied(48 * 1024, 0x1234_5678)
    );
    assert_eq!(
        brotli_edk2(data, 1000),
        Err(Error::TooLarge {
            limit: 1000,
            declared: Some(48 * 1024)
        })
    );
    for declared in [48 * 1024 - 1, 48 * 1024 + 1, 0] {
        let mut wrong = data.to_vec();
        wrong[..8].copy_from_slice(&(declared as u64).to_le_bytes());
        let err = brotli_edk2(&wrong, MIB).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{declared}: {err:?}");
    }
    let mut absurd = data.to_vec();
    absurd[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(brotli_edk2(&absurd, MIB).unwrap_err().is_too_large());
    assert_eq!(
        brotli_edk2(&data[..10], MIB),
        Err(Error::Truncated { offset: 8 })
    );
}

#[test]
fn a_64_mib_bomb_stops_at_the_budget() {
    // 64 MiB of zeros in 53 bytes.
    let data = vector!("zeros-64m.br");
    assert_eq!(data.len(), 53);
    let start = Instant::now();
    assert_eq!(
        brotli(data, MIB),
        Err(Error::TooLarge {
            limit: MIB,
            declared: None
        })
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Wrapped as an EDK2 section that lies about its size, the lie is caught the same way.
    let mut section = (1000u64).to_le_bytes().to_vec();
    section.extend_from_slice(&0u64.to_le_bytes());
    section.extend_from_slice(data);
    assert!(matches!(
        brotli_edk2(&section, MIB),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn every_truncation_errors_and_garbage_never_panics() {
    every_truncation_errors(vector!("small.br"), brotli);
    common::truncations_error(vector!("varied.edk2br"), brotli_edk2, 53);
    garbage_never_panics(vector!("small.br"), brotli);
    garbage_never_panics(vector!("varied.edk2br"), brotli_edk2);
}
