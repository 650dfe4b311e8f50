//! tamperscan-platcert (being written).
