//! Board image reader under small limits: any bytes must give an image or an error, never a
//! crash or an allocation beyond the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamperscan_board::{load_image, ImageLimits};

fuzz_target!(|data: &[u8]| {
    let limits = ImageLimits {
        max_pixels: 1 << 20,
        max_alloc_bytes: 16 << 20,
    };
    let _ = load_image(data, &limits);
});
