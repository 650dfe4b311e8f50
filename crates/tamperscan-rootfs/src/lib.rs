//! tamperscan-rootfs (being written).
