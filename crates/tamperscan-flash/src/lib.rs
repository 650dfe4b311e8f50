//! tamperscan-flash (being written).
