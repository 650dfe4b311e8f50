//! Every decompressor over the same input with a 1 MiB budget: each returns output within the
//! budget or an error whose offset lies inside the input, and never panics, hangs or allocates
//! past its bounds. The x86 BCJ decoder runs over the input itself and keeps its length.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_decompress::{self as d, Error};

const LIMIT: usize = 1 << 20;

type Decode = fn(&[u8], usize) -> Result<Vec<u8>, Error>;

const DECODERS: [(&str, Decode); 11] = [
    ("lzma", d::lzma),
    ("lzma_x86", d::lzma_x86),
    ("efi", d::efi),
    ("tiano", d::tiano),
    ("brotli_edk2", d::brotli_edk2),
    ("brotli", d::brotli),
    ("zlib", d::zlib),
    ("deflate", d::deflate),
    ("gzip", d::gzip),
    ("xz", d::xz),
    ("efi_small_budget", |data, _| d::efi(data, 4096)),
];

fuzz_target!(|data: &[u8]| {
    for (name, decode) in DECODERS {
        match decode(data, LIMIT) {
            Ok(out) => assert!(out.len() <= LIMIT, "{name}: {} bytes", out.len()),
            Err(Error::Corrupt { offset, .. }) | Err(Error::Truncated { offset }) => {
                assert!(offset <= data.len() as u64, "{name}: offset {offset}");
            }
            Err(_) => {}
        }
    }
    let start_ip = data
        .get(..4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let mut buf = data.to_vec();
    d::bcj_x86_decode(&mut buf, start_ip);
    assert_eq!(buf.len(), data.len());
});
