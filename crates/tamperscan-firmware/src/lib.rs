//! tamperscan-firmware (being written).
