//! Flash partition maps described in a device tree: the Linux MTD `fixed-partitions` binding,
//! which BMC device trees use for their SPI flash layout (u-boot, kernel, rofs, rwfs ...).

use super::{join_path, Fdt};

/// One fixed partition of a flash device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Path of the partition's node (`/ahb/spi@1e620000/flash@0/partitions/u-boot@0`).
    pub path: String,
    /// The `label` property, or the node name without its unit address when there is none (as
    /// Linux names such partitions).
    pub label: String,
    /// Start of the partition from the start of the flash device.
    pub offset: u64,
    /// Length of the partition in bytes.
    pub size: u64,
    /// True when the node has a `read-only` property.
    pub read_only: bool,
}

impl Partition {
    /// One past the last byte of the partition (saturating).
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size)
    }
}

/// Every partition under every node whose `compatible` lists `fixed-partitions`, in blob order.
///
/// Each child's first `reg` entry is decoded with the parent's `#address-cells` and
/// `#size-cells` (defaults 2 and 1). Children without a decodable `reg` (absent, or cells of
/// more than 64 bits) are not partitions and are left out; the raw tree still has them.
pub fn partitions(fdt: &Fdt<'_>) -> Vec<Partition> {
    let mut out = Vec::new();
    for (path, node) in fdt.walk() {
        if !node.is_compatible("fixed-partitions") {
            continue;
        }
        let (address_cells, size_cells) = (node.address_cells(), node.size_cells());
        for child in &node.children {
            let reg = child
                .property("reg")
                .and_then(|reg| reg.as_reg(address_cells, size_cells));
            let Some(&(offset, size)) = reg.as_ref().and_then(|entries| entries.first()) else {
                continue;
            };
            out.push(Partition {
                path: join_path(&path, child.name),
                label: child
                    .prop_str("label")
                    .unwrap_or_else(|| child.unit_name())
                    .to_string(),
                offset,
                size,
                read_only: child.property("read-only").is_some(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::Builder;
    use super::*;

    #[test]
    fn reads_fixed_partitions_with_their_cell_sizes() {
        let mut b = Builder::default();
        b.begin("")
            .begin("flash@0")
            .begin("partitions")
            .prop("compatible", b"fixed-partitions\0")
            .prop_u32("#address-cells", 2)
            .prop_u32("#size-cells", 1)
            .begin("boot@0")
            .prop("reg", &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x10, 0])
            .prop_str("label", "boot")
            .prop("read-only", b"")
            .end()
            .begin("data@1000")
            .prop("reg", &[0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0])
            .end()
            .begin("broken@0")
            .prop("reg", &[0, 0, 1])
            .end()
            .end()
            .end()
            .end();
        let bytes = b.finish();
        let fdt = crate::fdt::parse(&bytes).unwrap();
        let parts = partitions(&fdt);
        assert_eq!(
            parts,
            vec![
                Partition {
                    path: "/flash@0/partitions/boot@0".into(),
                    label: "boot".into(),
                    offset: 0x1_0000_0000,
                    size: 0x1000,
                    read_only: true,
                },
                Partition {
                    path: "/flash@0/partitions/data@1000".into(),
                    label: "data".into(),
                    offset: 0x1000,
                    size: 0x2000,
                    read_only: false,
                },
            ]
        );
        assert_eq!(parts[1].end(), 0x3000);
    }
}
