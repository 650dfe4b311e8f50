//! tamperscan-decompress (being written).
