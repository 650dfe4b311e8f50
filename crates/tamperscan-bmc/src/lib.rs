//! tamperscan-bmc (being written).
