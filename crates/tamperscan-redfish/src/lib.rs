//! tamperscan-redfish (being written).
