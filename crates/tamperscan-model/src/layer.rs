use serde::Serialize;
use std::fmt;

/// The layer of evidence a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// What the host claims about itself in `host.toml` (model, identifiers) versus the fleet.
    Host,
    /// Photos and X-rays of the board.
    Board,
    /// Host UEFI/BIOS and BMC flash images.
    Firmware,
    /// Measured boot: TPM event logs and quotes.
    Boot,
    /// Components and platform certificates.
    Inventory,
    /// Management-plane traffic.
    Network,
}

impl Layer {
    /// Every layer, in report order.
    pub const ALL: [Layer; 6] = [
        Layer::Host,
        Layer::Board,
        Layer::Firmware,
        Layer::Boot,
        Layer::Inventory,
        Layer::Network,
    ];

    /// The lowercase name used in kinds, JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Host => "host",
            Layer::Board => "board",
            Layer::Firmware => "firmware",
            Layer::Boot => "boot",
            Layer::Inventory => "inventory",
            Layer::Network => "network",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
