//! Finding legacy U-Boot images, FIT images and device trees inside a whole SPI flash dump.
//!
//! Every 4-byte aligned offset holding a magic number is a candidate, and only candidates whose
//! header validates are kept: a legacy image needs a matching header CRC, a device tree must
//! parse completely, and a FIT is a device tree with an `/images` node. Things inside other
//! things (the device trees embedded in a FIT, the external data after it) are reported too,
//! with the offset of the innermost thing that contains them.
//!
//! Work is bounded: device-tree candidates are parsed only while the sum of their sizes stays
//! within eight passes over the image (plus 1 MiB), and at most [`MAX_FOUND`] results are kept.
//! Candidates left unchecked because of either bound are counted in [`ScanReport`].

use crate::{fdt, fit, uboot};

/// Most results kept by one scan.
pub const MAX_FOUND: usize = 1024;

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FoundKind {
    /// A legacy U-Boot image whose header CRC matches.
    UbootLegacy,
    /// A FIT image (a valid device tree with `/images`).
    Fit,
    /// Any other valid device tree.
    Fdt,
}

/// One thing found in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Offset of its first byte in the image.
    pub offset: u64,
    /// What it is.
    pub kind: FoundKind,
    /// Its length: header plus data for a legacy image (which may run past the end of a
    /// truncated dump), `totalsize` for a device tree, and for a FIT the device tree and its
    /// in-bounds external data.
    pub len: u64,
    /// Offset of the innermost earlier result that contains this one, if any.
    pub within: Option<u64>,
}

impl Found {
    /// One past its last byte (saturating).
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.len)
    }
}

/// The results of a scan and what the work bounds left unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Validated results, by offset.
    pub found: Vec<Found>,
    /// Magic-number candidates that were not validated because a bound was reached.
    pub unchecked: usize,
    /// The offset of the first of those.
    pub first_unchecked: Option<u64>,
}

/// Everything found in `image`, by offset (see [`scan_report`] for what the bounds skipped).
pub fn scan(image: &[u8]) -> Vec<Found> {
    scan_report(image).found
}

/// Scans `image` and also reports candidates that the work bounds left unchecked.
pub fn scan_report(image: &[u8]) -> ScanReport {
    let fdt_magic = fdt::FDT_MAGIC.to_be_bytes();
    let uboot_magic = uboot::UBOOT_MAGIC.to_be_bytes();
    let mut budget = (image.len() as u64)
        .saturating_mul(8)
        .saturating_add(1 << 20);
    let mut report = ScanReport::default();
    for offset in (0..image.len()).step_by(4) {
        let magic = image.get(offset..offset.saturating_add(4));
        let is_fdt = magic == Some(fdt_magic.as_slice());
        if !is_fdt && magic != Some(uboot_magic.as_slice()) {
            continue;
        }
        if report.found.len() >= MAX_FOUND {
            skip(&mut report, offset);
            continue;
        }
        let found = if is_fdt {
            match plausible_fdt_size(image, offset) {
                None => None,
                Some(size) if size > budget => {
                    skip(&mut report, offset);
                    None
                }
                Some(size) => {
                    budget -= size;
                    check_fdt(image, offset)
                }
            }
        } else {
            check_legacy(image, offset)
        };
        report.found.extend(found);
    }
    nest(&mut report.found);
    report
}

fn skip(report: &mut ScanReport, offset: usize) {
    report.unchecked += 1;
    report.first_unchecked.get_or_insert(offset as u64);
}

/// `totalsize` when the header at `offset` is plausible enough to be worth a full parse.
fn plausible_fdt_size(image: &[u8], offset: usize) -> Option<u64> {
    let word = |index: usize| {
        let at = offset.checked_add(index * 4)?;
        let bytes = image.get(at..at.checked_add(4)?)?;
        <[u8; 4]>::try_from(bytes).ok().map(u32::from_be_bytes)
    };
    let total_size = u64::from(word(1)?);
    let (version, last_comp_version) = (word(5)?, word(6)?);
    let fits = total_size >= 40 && total_size <= (image.len() - offset) as u64;
    (fits && version >= 16 && last_comp_version <= 17).then_some(total_size)
}

fn check_fdt(image: &[u8], offset: usize) -> Option<Found> {
    let tree = fdt::parse_at(image, offset).ok()?;
    let (kind, len) = if fit::is_fit(&tree) {
        let layout = fit::from_tree(image, &tree, false).ok()?;
        (FoundKind::Fit, layout.end().saturating_sub(layout.offset))
    } else {
        (FoundKind::Fdt, tree.total_size())
    };
    Some(Found {
        offset: offset as u64,
        kind,
        len,
        within: None,
    })
}

fn check_legacy(image: &[u8], offset: usize) -> Option<Found> {
    let header = uboot::parse_inner(image, offset, false).ok()?;
    header.header_crc_ok.then(|| Found {
        offset: offset as u64,
        kind: FoundKind::UbootLegacy,
        len: header.end() - header.offset,
        within: None,
    })
}

/// Sets `within` to the innermost earlier result containing each one (`found` is by offset).
fn nest(found: &mut [Found]) {
    for i in 0..found.len() {
        let Some(this) = found.get(i).copied() else {
            continue;
        };
        let parent = found
            .iter()
            .take(i)
            .rev()
            .find(|p| p.offset < this.offset && this.offset < p.end())
            .map(|p| p.offset);
        if let Some(slot) = found.get_mut(i) {
            slot.within = parent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_things_at_aligned_offsets_only() {
        let legacy = uboot::tests::build(2, "k", b"payload!");
        let dtb = fdt::tests::sample();
        let mut image = vec![0u8; 0x100];
        image.extend_from_slice(&legacy);
        image.resize(0x200, 0xff);
        image.extend_from_slice(&dtb);
        image.resize(0x400, 0xff);
        // The same tree at an unaligned offset is not a candidate.
        image.push(0);
        image.extend_from_slice(&dtb);
        // A magic number with a garbage header is not kept.
        image.resize(0x800, 0);
        image.extend_from_slice(&uboot::UBOOT_MAGIC.to_be_bytes());
        image.extend_from_slice(&fdt::FDT_MAGIC.to_be_bytes());
        image.resize(0x900, 0);
        let found = scan(&image);
        assert_eq!(
            found,
            vec![
                Found {
                    offset: 0x100,
                    kind: FoundKind::UbootLegacy,
                    len: 72,
                    within: None
                },
                Found {
                    offset: 0x200,
                    kind: FoundKind::Fdt,
                    len: dtb.len() as u64,
                    within: None
                },
            ]
        );
    }

    #[test]
    fn a_flash_full_of_valid_trees_stays_bounded() {
        let mut dtb = fdt::tests::sample();
        dtb.resize(dtb.len().next_multiple_of(4), 0);
        let mut image = Vec::new();
        while image.len() < 2_000 * dtb.len() {
            image.extend_from_slice(&dtb);
        }
        let report = scan_report(&image);
        assert_eq!(report.found.len(), MAX_FOUND);
        assert_eq!(report.unchecked, 2_000 - MAX_FOUND);
        assert_eq!(report.first_unchecked, Some((MAX_FOUND * dtb.len()) as u64));
    }

    #[test]
    fn nested_results_name_their_container() {
        let mut found = vec![
            Found {
                offset: 0,
                kind: FoundKind::Fit,
                len: 100,
                within: None,
            },
            Found {
                offset: 8,
                kind: FoundKind::Fdt,
                len: 50,
                within: None,
            },
            Found {
                offset: 12,
                kind: FoundKind::Fdt,
                len: 4,
                within: None,
            },
            Found {
                offset: 60,
                kind: FoundKind::Fdt,
                len: 4,
                within: None,
            },
            Found {
                offset: 100,
                kind: FoundKind::Fdt,
                len: 4,
                within: None,
            },
        ];
        nest(&mut found);
        let within: Vec<Option<u64>> = found.iter().map(|f| f.within).collect();
        assert_eq!(within, vec![None, Some(0), Some(8), Some(0), None]);
    }
}
