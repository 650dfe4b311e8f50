//! tamperscan-smbios (being written).
