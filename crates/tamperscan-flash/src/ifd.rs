//! The Intel flash descriptor (IFD): the first 4 KiB of an Intel platform's SPI flash, which
//! splits the flash into regions (descriptor, BIOS, ME, GbE, ...) and says which bus master may
//! read or write each of them.
//!
//! Layout (Intel ICH/PCH datasheets, "SPI Flash Descriptor"; field names as in coreboot
//! `util/ifdtool/ifdtool.h`): the signature `0x0FF0A55A` (FLVALSIG) at offset 0x10 (at 0x0 on
//! descriptors older than the 5 series), followed by FLMAP0..2, which give the base (in units of
//! 16 bytes, from the start of the descriptor) and size of the component (FCBA), region (FRBA),
//! master (FMBA), PCH-strap (FPSBA) and processor-strap (FMSBA) sections.
//!
//! Two generations exist. IFD v1 (ICH8 to the 9 series) has 12-bit region fields, at most five
//! regions, 3-bit component densities and 8-bit master read/write masks at bits 16/24. IFD v2
//! (100 series and later, C620 Lewisburg, Apollo Lake, ...) has 15-bit region fields, up to 16
//! regions, 4-bit densities (0xF = no second chip) and 12-bit masks at bits 8/20 (regions 12-15
//! in bits 0-3 and 4-7). The descriptor does not say which it is; see [`guess_version`].

use tamperscan_bytes::{Error, ErrorKind};

use crate::{abs, reader_at, Issue};

/// The descriptor signature FLVALSIG, little-endian on flash.
pub const SIGNATURE: u32 = 0x0FF0_A55A;

/// The size of the descriptor: every section it points to lies inside these bytes.
pub const DESCRIPTOR_SIZE: usize = 0x1000;

/// Offset of FLUMAP1 (the ME VSCC table map) from the start of the descriptor: the word before
/// the 256-byte OEM section.
pub const FLUMAP1_OFFSET: usize = 0xEFC;

/// Region names by index, as coreboot `ifdtool` names them (`region_names[]` in
/// `util/ifdtool/ifdtool.c`): 0 descriptor, 1 BIOS, 2 ME, 3 GbE, 4 platform data, 5 device
/// expansion 1, 6 secondary BIOS, 7 reserved, 8 EC (the BMC on server boards), 9 device
/// expansion 2, 10 Innovation Engine, 11/12 10 GbE, 13/14 reserved, 15 PTT.
pub const REGION_NAMES: [&str; 16] = [
    "Flash Descriptor",
    "BIOS",
    "Intel ME",
    "GbE",
    "Platform Data",
    "Device Exp1",
    "Secondary BIOS",
    "Reserved",
    "EC",
    "Device Exp2",
    "IE",
    "10GbE_0",
    "10GbE_1",
    "Reserved",
    "Reserved",
    "PTT",
];

/// How many region registers IFD v1 has (ifdtool `MAX_REGIONS_OLD`).
pub const MAX_REGIONS_V1: usize = 5;
/// How many region registers IFD v2 can have (ifdtool `MAX_REGIONS`).
pub const MAX_REGIONS_V2: usize = 16;

/// The descriptor generation, which decides how region, density and access fields are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IfdVersion {
    /// ICH8 .. 9 series (Wildcat Point).
    V1,
    /// 100 series (Sunrise Point) and later, C620 (Lewisburg), Apollo/Gemini Lake, ...
    V2,
}

impl IfdVersion {
    /// `"v1"` or `"v2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IfdVersion::V1 => "v1",
            IfdVersion::V2 => "v2",
        }
    }
}

/// The decoded FLMAP0..2 (and FLUMAP1) words: where each section is and how large.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashMap {
    /// FLMAP0 as stored.
    pub flmap0: u32,
    /// FLMAP1 as stored.
    pub flmap1: u32,
    /// FLMAP2 as stored.
    pub flmap2: u32,
    /// Component section base (FCBA), bytes from the start of the descriptor.
    pub fcba: u32,
    /// Number of flash components (NC + 1).
    pub component_count: u8,
    /// Region section base (FRBA).
    pub frba: u32,
    /// The NR field (bits 24-26 of FLMAP0); reserved on 100-series and later.
    pub nr: u8,
    /// Master section base (FMBA).
    pub fmba: u32,
    /// The NM field (bits 8-10 of FLMAP1): number of masters.
    pub nm: u8,
    /// PCH strap section base (FPSBA).
    pub fpsba: u32,
    /// PCH strap length in dwords (ISL/PSL, bits 24-31 of FLMAP1).
    pub pch_strap_dwords: u8,
    /// Processor strap section base (FMSBA).
    pub fmsba: u32,
    /// Processor strap length in dwords (bits 8-15 of FLMAP2).
    pub processor_strap_dwords: u8,
    /// FLUMAP1 at descriptor offset 0xEFC, when the input reaches it.
    pub flumap1: Option<u32>,
}

/// The density code of one flash chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentDensity {
    /// The code as stored (3 bits on v1, 4 bits on v2).
    pub code: u8,
    /// The size in bytes; `None` when the code is "not present" (0xF on v2) or unknown.
    pub bytes: Option<u64>,
    /// True for the v2 code 0xF: no such chip.
    pub unused: bool,
}

/// The component section (FLCOMP, FLILL, FLPB/FLILL1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    /// FLCOMP as stored.
    pub flcomp: u32,
    /// FLILL (invalid instructions 0-3) as stored.
    pub flill: u32,
    /// FLPB (v1 partition boundary) or FLILL1 (invalid instructions 4-7 on v2) as stored.
    pub flpb: u32,
    /// The two density fields (component 1, component 2), whatever FLMAP0.NC says.
    pub densities: Vec<ComponentDensity>,
    /// How many components FLMAP0.NC says there are (1 or 2 in practice).
    pub count: u8,
    /// Read clock frequency code (FLCOMP bits 17-19); eSPI/EC bus frequency on 300 series+.
    pub read_clock: u8,
    /// Fast read clock frequency code (bits 21-23).
    pub fast_read_clock: u8,
    /// Write/erase clock frequency code (bits 24-26).
    pub write_erase_clock: u8,
    /// Read ID / read status clock frequency code (bits 27-29).
    pub read_id_status_clock: u8,
    /// Fast read supported (bit 20).
    pub fast_read: bool,
    /// Dual output fast read supported (bit 30).
    pub dual_output_fast_read: bool,
}

/// One FLREGn register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The region index n of FLREGn.
    pub index: u8,
    /// Its name (see [`REGION_NAMES`]).
    pub name: &'static str,
    /// The register as stored.
    pub raw: u32,
    /// First flash address of the region.
    pub base: u64,
    /// Last flash address of the region (inclusive).
    pub limit: u64,
    /// False when base > limit (e.g. base 0x7FFF, limit 0): the region does not exist.
    pub used: bool,
}

impl Region {
    /// Size in bytes (0 when unused).
    pub fn size(&self) -> u64 {
        if self.used {
            self.limit.saturating_sub(self.base).saturating_add(1)
        } else {
            0
        }
    }
}

/// One FLMSTRn register: which regions a bus master may read and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterAccess {
    /// n of FLMSTRn (1-based, as in the datasheets).
    pub index: u8,
    /// The master's name (1 Host CPU/BIOS, 2 Intel ME, 3 GbE, 5 EC/BMC, 6 IE).
    pub name: &'static str,
    /// The register as stored.
    pub raw: u32,
    /// Bit r set = the master may read region r.
    pub read: u16,
    /// Bit r set = the master may write region r.
    pub write: u16,
    /// Requester ID (bits 0-15), v1 only.
    pub requester_id: Option<u16>,
}

impl MasterAccess {
    /// True when the master may read region `region`.
    pub fn can_read(&self, region: u8) -> bool {
        region < 16 && self.read & (1 << region) != 0
    }

    /// True when the master may write region `region`.
    pub fn can_write(&self, region: u8) -> bool {
        region < 16 && self.write & (1 << region) != 0
    }
}

/// A decoded flash descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Absolute offset of the start of the descriptor (flash address 0) in the input.
    pub offset: u64,
    /// Absolute offset of the signature (offset + 0x10, or offset on old descriptors).
    pub signature_offset: u64,
    /// The generation used to decode the fields.
    pub version: IfdVersion,
    /// Why that generation was chosen.
    pub version_reason: String,
    /// The chipset family guessed from the map (flashrom/ifdtool heuristics).
    pub chipset: &'static str,
    /// FLMAP0..2 decoded.
    pub map: FlashMap,
    /// The component section.
    pub components: Components,
    /// Sum of the densities of the FLMAP0.NC components, when each is known.
    pub flash_size: Option<u64>,
    /// FLREG0.. in index order, unused ones included.
    pub regions: Vec<Region>,
    /// FLMSTR1.. in index order.
    pub masters: Vec<MasterAccess>,
    /// The PCH straps (FPSBA, ISL dwords); empty when they do not fit the descriptor.
    pub pch_straps: Vec<u32>,
    /// The processor straps (FMSBA); empty when they do not fit the descriptor.
    pub processor_straps: Vec<u32>,
    /// Overlapping regions, regions past the end of the flash, sections that do not fit, ...
    pub issues: Vec<Issue>,
}

impl Descriptor {
    /// The used region with this index.
    pub fn region(&self, index: u8) -> Option<&Region> {
        self.regions.iter().find(|r| r.index == index && r.used)
    }
}

/// Where a descriptor starts in `image` (the offset of flash address 0): the first 4-byte
/// aligned signature, minus 0x10 (modern layout) unless it sits in the first 16 bytes (old
/// layout, signature first).
pub fn find(image: &[u8]) -> Option<usize> {
    let sig = SIGNATURE.to_le_bytes();
    let hit = image
        .chunks_exact(4)
        .position(|w| w == sig)?
        .checked_mul(4)?;
    Some(if hit >= 0x10 { hit - 0x10 } else { hit })
}

/// Finds the descriptor in `image` and decodes it, guessing the generation.
pub fn parse(image: &[u8]) -> Result<Descriptor, Error> {
    let Some(offset) = find(image) else {
        return Err(Error::new(
            0,
            ErrorKind::BadMagic {
                what: "flash descriptor",
                expected: "0x5aa5f00f at offset 0x10 or 0x0".into(),
                found: "no signature anywhere in the input".into(),
            },
        ));
    };
    parse_at(image, offset, None)
}

/// Decodes the descriptor that starts at `offset` of `image`; `version` forces a generation
/// instead of guessing it.
pub fn parse_at(
    image: &[u8],
    offset: usize,
    version: Option<IfdVersion>,
) -> Result<Descriptor, Error> {
    let rest = image.get(offset..).ok_or_else(|| {
        Error::new(
            image.len() as u64,
            ErrorKind::Truncated {
                what: "flash descriptor",
                needed: offset as u64,
                available: image.len() as u64,
            },
        )
    })?;
    let desc = rest.get(..DESCRIPTOR_SIZE).unwrap_or(rest);
    let base = offset as u64;
    let mut issues = Vec::new();

    let sig_pos = locate_signature(desc, base)?;
    let mut r = reader_at(desc, base, sig_pos + 4, "flash descriptor map")?;
    let flmap0 = r.u32_le("FLMAP0")?;
    let flmap1 = r.u32_le("FLMAP1")?;
    let flmap2 = r.u32_le("FLMAP2")?;
    let flumap1 = reader_at(desc, base, FLUMAP1_OFFSET, "FLUMAP1")
        .and_then(|mut r| r.u32_le("FLUMAP1"))
        .ok();
    let map = decode_map(flmap0, flmap1, flmap2, flumap1);
    let header_end = (sig_pos + 16) as u32;
    for (name, at) in [
        ("component", map.fcba),
        ("region", map.frba),
        ("master", map.fmba),
    ] {
        if at < header_end {
            issues.push(Issue::new(
                abs(base, sig_pos + 4),
                12,
                format!("{name} section base 0x{at:x} lies inside the descriptor header"),
            ));
        }
    }

    let mut r = reader_at(desc, base, map.fcba as usize, "component section")?;
    let flcomp = r.u32_le("FLCOMP")?;
    let flill = r.u32_le("FLILL")?;
    let flpb = r.u32_le("FLPB")?;

    let (version, version_reason) = match version {
        Some(v) => (v, format!("IFD {} requested by the caller", v.as_str())),
        None => guess_version(flcomp, &map),
    };
    let chipset = guess_chipset(&map, version);
    let components = decode_components(flcomp, flill, flpb, map.component_count, version);
    let flash_size = flash_size(&components);
    if components
        .densities
        .iter()
        .take(usize::from(components.count))
        .any(|d| d.bytes.is_none() && !d.unused)
    {
        issues.push(Issue::new(
            abs(base, map.fcba as usize),
            4,
            format!("FLCOMP 0x{flcomp:08x} has an unknown component density code"),
        ));
    }

    let sections = [map.fcba, map.frba, map.fmba, map.fpsba, map.fmsba];
    let max_regions = match version {
        IfdVersion::V1 => MAX_REGIONS_V1,
        IfdVersion::V2 => MAX_REGIONS_V2,
    };
    let region_count = fit_count(map.frba, &sections, max_regions);
    let regions = read_regions(desc, base, map.frba, region_count, version)?;
    let master_count = match version {
        IfdVersion::V1 => 3,
        IfdVersion::V2 => usize::from(map.nm).clamp(5, 6),
    };
    let master_count = fit_count(map.fmba, &sections, master_count);
    let masters = read_masters(desc, base, map.fmba, master_count, version)?;

    let pch_straps = read_straps(
        desc,
        base,
        map.fpsba,
        map.pch_strap_dwords,
        "PCH strap",
        &mut issues,
    );
    let processor_straps = read_straps(
        desc,
        base,
        map.fmsba,
        map.processor_strap_dwords,
        "processor strap",
        &mut issues,
    );

    check_regions(&regions, base, map.frba, flash_size, &mut issues);

    Ok(Descriptor {
        offset: base,
        signature_offset: abs(base, sig_pos),
        version,
        version_reason,
        chipset,
        map,
        components,
        flash_size,
        regions,
        masters,
        pch_straps,
        processor_straps,
        issues,
    })
}

/// Decides IFD v1 or v2 the way coreboot `ifdtool` did before it required `-p <platform>`
/// (`get_ifd_version_from_fcba`): from the read clock frequency field of FLCOMP (bits 17-19).
/// 20 MHz (0) means v1; 17 MHz (6) and 50/30 MHz (4) mean v2. Current ifdtool decodes every
/// descriptor as v1 unless told the platform, which misreads v2 descriptors (15-bit region
/// fields cut to 12 bits).
pub fn guess_version(flcomp: u32, map: &FlashMap) -> (IfdVersion, String) {
    let freq = ((flcomp >> 17) & 7) as u8;
    match freq {
        0 => (
            IfdVersion::V1,
            "FLCOMP read clock frequency is 20 MHz (code 0): IFD v1".into(),
        ),
        6 => (
            IfdVersion::V2,
            "FLCOMP read clock frequency is 17 MHz (code 6): IFD v2".into(),
        ),
        4 => (
            IfdVersion::V2,
            "FLCOMP read clock frequency is 50/30 MHz (code 4): IFD v2".into(),
        ),
        other if map.nm == 6 => (
            IfdVersion::V2,
            format!(
                "FLCOMP read clock frequency code {other} is unknown; 6 masters (NM) means C620 Lewisburg: IFD v2"
            ),
        ),
        other => (
            IfdVersion::V1,
            format!("FLCOMP read clock frequency code {other} is unknown: IFD v1 assumed"),
        ),
    }
}

/// The chipset family from the map, by the thresholds flashrom's `guess_ich_chipset` and
/// ifdtool's `ifd1_guess_chipset` use (ICC register base, strap lengths, master count). Six
/// masters means C620 Lewisburg whatever the generation; otherwise the v1 thresholds only
/// apply to v1 descriptors.
pub fn guess_chipset(map: &FlashMap, version: IfdVersion) -> &'static str {
    if map.nm == 6 {
        return "C620 series Lewisburg";
    }
    if version == IfdVersion::V2 {
        return "100 series or later PCH (IFD v2)";
    }
    let iccriba = (map.flmap2 >> 16) & 0xff;
    let msl = u32::from(map.processor_strap_dwords);
    let isl = u32::from(map.pch_strap_dwords);
    if iccriba == 0 {
        return match () {
            _ if msl == 0 && isl <= 2 => "ICH8",
            _ if isl <= 2 => "ICH9",
            _ if isl <= 10 => "ICH10",
            _ => "5 series Ibex Peak",
        };
    }
    if iccriba < 0x31 && (map.flmap2 & 0xff) < 0x30 {
        return match () {
            _ if msl == 0 && isl <= 17 => "Baytrail",
            _ if msl <= 1 && isl <= 18 => "6 series Cougar Point",
            _ if msl <= 1 && isl <= 21 => "8 series Lynx Point",
            _ => "9 series Wildcat Point",
        };
    }
    "unknown PCH"
}

/// The name of an SPI clock frequency code, as the datasheets and ifdtool give it.
pub fn spi_frequency_name(code: u8, version: IfdVersion) -> Option<&'static str> {
    match (code, version) {
        (0, _) => Some("20MHz"),
        (1, _) => Some("33MHz"),
        (2, _) => Some("48MHz"),
        (4, IfdVersion::V1) => Some("50MHz"),
        (4, IfdVersion::V2) => Some("30MHz"),
        (6, _) => Some("17MHz"),
        _ => None,
    }
}

fn locate_signature(desc: &[u8], base: u64) -> Result<usize, Error> {
    let sig = SIGNATURE.to_le_bytes();
    let at = |pos: usize| desc.get(pos..pos + 4) == Some(&sig[..]);
    if at(0x10) {
        return Ok(0x10);
    }
    if at(0) {
        return Ok(0);
    }
    // Neither place holds the signature: let the reader say what it found at 0x10.
    let mut r = reader_at(desc, base, 0x10, "flash descriptor signature")?;
    r.expect(&sig, "flash descriptor")?;
    Ok(0x10)
}

fn decode_map(flmap0: u32, flmap1: u32, flmap2: u32, flumap1: Option<u32>) -> FlashMap {
    FlashMap {
        flmap0,
        flmap1,
        flmap2,
        fcba: (flmap0 & 0xff) << 4,
        component_count: ((flmap0 >> 8) & 3) as u8 + 1,
        frba: ((flmap0 >> 16) & 0xff) << 4,
        nr: ((flmap0 >> 24) & 7) as u8,
        fmba: (flmap1 & 0xff) << 4,
        nm: ((flmap1 >> 8) & 7) as u8,
        fpsba: ((flmap1 >> 16) & 0xff) << 4,
        pch_strap_dwords: (flmap1 >> 24) as u8,
        fmsba: (flmap2 & 0xff) << 4,
        processor_strap_dwords: ((flmap2 >> 8) & 0xff) as u8,
        flumap1,
    }
}

fn decode_components(
    flcomp: u32,
    flill: u32,
    flpb: u32,
    count: u8,
    version: IfdVersion,
) -> Components {
    let (mask, shift) = match version {
        IfdVersion::V1 => (0x7, 3),
        IfdVersion::V2 => (0xf, 4),
    };
    let densities = (0..2u32)
        .map(|i| {
            let code = ((flcomp >> (shift * i)) & mask) as u8;
            let unused = version == IfdVersion::V2 && code == 0xf;
            let bytes = (code <= 7).then(|| (512u64 * 1024) << code);
            ComponentDensity {
                code,
                bytes,
                unused,
            }
        })
        .collect();
    Components {
        flcomp,
        flill,
        flpb,
        densities,
        count,
        read_clock: ((flcomp >> 17) & 7) as u8,
        fast_read_clock: ((flcomp >> 21) & 7) as u8,
        write_erase_clock: ((flcomp >> 24) & 7) as u8,
        read_id_status_clock: ((flcomp >> 27) & 7) as u8,
        fast_read: flcomp & (1 << 20) != 0,
        dual_output_fast_read: flcomp & (1 << 30) != 0,
    }
}

fn flash_size(components: &Components) -> Option<u64> {
    let mut total = 0u64;
    let mut any = false;
    for d in components
        .densities
        .iter()
        .take(usize::from(components.count))
    {
        if d.unused {
            continue;
        }
        total = total.checked_add(d.bytes?)?;
        any = true;
    }
    any.then_some(total)
}

/// How many 4-byte registers fit from `start` before the next section or the descriptor end.
fn fit_count(start: u32, sections: &[u32], max: usize) -> usize {
    let end = sections
        .iter()
        .copied()
        .filter(|&s| s > start)
        .min()
        .unwrap_or(DESCRIPTOR_SIZE as u32)
        .min(DESCRIPTOR_SIZE as u32);
    let room = end.saturating_sub(start) as usize / 4;
    room.min(max)
}

fn read_regions(
    desc: &[u8],
    base: u64,
    frba: u32,
    count: usize,
    version: IfdVersion,
) -> Result<Vec<Region>, Error> {
    let mask = match version {
        IfdVersion::V1 => 0xfff,
        IfdVersion::V2 => 0x7fff,
    };
    let mut r = reader_at(desc, base, frba as usize, "region section")?;
    let mut regions = Vec::with_capacity(count);
    for (index, name) in REGION_NAMES.iter().enumerate().take(count) {
        let raw = r.u32_le("FLREG")?;
        let base_field = u64::from(raw & mask);
        let limit_field = u64::from((raw >> 16) & mask);
        regions.push(Region {
            index: index as u8,
            name,
            raw,
            base: base_field << 12,
            limit: (limit_field << 12) | 0xfff,
            used: base_field <= limit_field,
        });
    }
    Ok(regions)
}

fn master_name(index: u8) -> &'static str {
    match index {
        1 => "Host CPU/BIOS",
        2 => "Intel ME",
        3 => "GbE",
        5 => "EC/BMC",
        6 => "IE",
        _ => "Reserved",
    }
}

fn read_masters(
    desc: &[u8],
    base: u64,
    fmba: u32,
    count: usize,
    version: IfdVersion,
) -> Result<Vec<MasterAccess>, Error> {
    let mut r = reader_at(desc, base, fmba as usize, "master section")?;
    let mut masters = Vec::with_capacity(count);
    for i in 1..=count {
        let raw = r.u32_le("FLMSTR")?;
        let index = i as u8;
        let (read, write, requester_id) = match version {
            IfdVersion::V1 => (
                ((raw >> 16) & 0xff) as u16,
                ((raw >> 24) & 0xff) as u16,
                Some((raw & 0xffff) as u16),
            ),
            IfdVersion::V2 => (
                (((raw >> 8) & 0xfff) | ((raw & 0xf) << 12)) as u16,
                (((raw >> 20) & 0xfff) | (((raw >> 4) & 0xf) << 12)) as u16,
                None,
            ),
        };
        masters.push(MasterAccess {
            index,
            name: master_name(index),
            raw,
            read,
            write,
            requester_id,
        });
    }
    Ok(masters)
}

fn read_straps(
    desc: &[u8],
    base: u64,
    at: u32,
    dwords: u8,
    what: &'static str,
    issues: &mut Vec<Issue>,
) -> Vec<u32> {
    let read = || -> Result<Vec<u32>, Error> {
        let mut r = reader_at(desc, base, at as usize, what)?;
        (0..dwords).map(|_| r.u32_le(what)).collect()
    };
    match read() {
        Ok(straps) => straps,
        Err(e) => {
            issues.push(Issue::new(
                abs(base, at as usize),
                u64::from(dwords) * 4,
                format!("{what} section ({dwords} dwords at 0x{at:x}) does not fit: {e}"),
            ));
            Vec::new()
        }
    }
}

fn check_regions(
    regions: &[Region],
    base: u64,
    frba: u32,
    flash_size: Option<u64>,
    issues: &mut Vec<Issue>,
) {
    let reg_at = |r: &Region| abs(base, frba as usize + usize::from(r.index) * 4);
    let used: Vec<&Region> = regions.iter().filter(|r| r.used).collect();
    for (i, a) in used.iter().enumerate() {
        if let Some(size) = flash_size {
            if a.limit >= size {
                issues.push(Issue::new(
                    reg_at(a),
                    4,
                    format!(
                        "region {} ({}) 0x{:x}-0x{:x} ends beyond the flash size 0x{:x}",
                        a.index, a.name, a.base, a.limit, size
                    ),
                ));
            }
        }
        for b in used.iter().skip(i + 1) {
            if a.base <= b.limit && b.base <= a.limit {
                issues.push(Issue::new(
                    reg_at(a),
                    4,
                    format!(
                        "region {} ({}) 0x{:x}-0x{:x} overlaps region {} ({}) 0x{:x}-0x{:x}",
                        a.index, a.name, a.base, a.limit, b.index, b.name, b.base, b.limit
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal modern descriptor: FCBA 0x30, FRBA 0x40, FMBA 0x80, FPSBA 0x100 (2 straps),
    /// FMSBA 0x200 (1 strap).
    pub(crate) fn sample(flcomp: u32, regions: &[u32], masters: &[u32]) -> Vec<u8> {
        let mut d = vec![0xffu8; DESCRIPTOR_SIZE];
        let mut put = |at: usize, v: u32| d[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(0x10, SIGNATURE);
        put(0x14, 0x0004_0103); // FRBA 0x40, NC 1 (two chips), FCBA 0x30
        put(0x18, 0x0210_0308); // ISL 2, FPSBA 0x100, NM 3, FMBA 0x80
        put(0x1c, 0x0000_0120); // PSL 1, FMSBA 0x200
        put(0x30, flcomp);
        put(0x34, 0);
        put(0x38, 0);
        for (i, r) in regions.iter().enumerate() {
            put(0x40 + 4 * i, *r);
        }
        for (i, m) in masters.iter().enumerate() {
            put(0x80 + 4 * i, *m);
        }
        d
    }

    #[test]
    fn v1_descriptor_decodes_regions_and_access() {
        // 20 MHz read clock (v1), two 4 MiB chips.
        let d = sample(
            0x0000_001b,
            &[
                0x0000_0000,
                0x07ff_0200,
                0x01ff_0001,
                0x0000_0fff,
                0x0000_0fff,
            ],
            &[0x0a0b_0000, 0x0c0d_0000, 0x0808_0118],
        );
        let desc = parse(&d).unwrap();
        assert_eq!(desc.version, IfdVersion::V1);
        assert_eq!(desc.flash_size, Some(8 << 20));
        assert_eq!(desc.regions.len(), 5);
        let bios = desc.region(1).unwrap();
        assert_eq!((bios.base, bios.limit), (0x200000, 0x7fffff));
        assert!(!desc.regions[3].used);
        assert!(desc.masters[0].can_read(0) && desc.masters[0].can_read(1));
        assert!(desc.masters[0].can_write(1) && desc.masters[0].can_write(3));
        assert_eq!(desc.masters[2].requester_id, Some(0x0118));
        assert!(desc.issues.is_empty(), "{:?}", desc.issues);
        assert_eq!(desc.pch_straps.len(), 2);
    }

    #[test]
    fn v2_masks_and_overlap_and_size_issues() {
        // 17 MHz read clock (v2), one 16 MiB chip (code 5), second unused (0xF).
        let d = sample(
            (6 << 17) | 0xf5,
            &[
                0x0000_0000,
                0x1fff_0800, // BIOS 0x800000-0x1ffffff: past the 16 MiB flash
                0x08ff_0003, // ME 0x3000-0x8fffff: overlaps the BIOS
                0x0000_7fff,
            ],
            &[0x0030_0f00 | 0xf0, 0, 0, 0, 0],
        );
        let desc = parse(&d).unwrap();
        assert_eq!(desc.version, IfdVersion::V2);
        assert_eq!(desc.flash_size, Some(16 << 20));
        assert!(desc.components.densities[1].unused);
        let bios = desc.region(1).unwrap();
        assert_eq!((bios.base, bios.limit), (0x800000, 0x1ffffff));
        assert!(!desc.regions[3].used);
        let m = &desc.masters[0];
        assert!(m.can_read(0) && m.can_read(3) && !m.can_read(4));
        assert!(m.can_write(0) && m.can_write(1) && !m.can_write(2));
        assert!(m.can_write(12) && m.can_write(15) && !m.can_read(12));
        let text: Vec<String> = desc.issues.iter().map(|i| i.to_string()).collect();
        assert!(
            text.iter().any(|t| t.contains("beyond the flash size")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.contains("overlaps")), "{text:?}");
    }

    #[test]
    fn old_layout_with_signature_first() {
        let mut d = sample(0x1b, &[0, 0x07ff_0200], &[0, 0, 0]);
        // Move the signature to 0 and keep the map right behind it.
        d.copy_within(0x10..0x20, 0);
        d[0x10..0x20].fill(0xff);
        assert_eq!(find(&d), Some(0));
        let desc = parse(&d).unwrap();
        assert_eq!(desc.signature_offset, 0);
        assert_eq!(desc.region(1).unwrap().base, 0x200000);
    }

    #[test]
    fn truncations_never_panic_and_report_offsets() {
        let d = sample(0x1b, &[0, 0x07ff_0200], &[0, 0, 0]);
        // The last register read is the third master at 0x88.
        for len in 0..0x8c {
            match parse_at(&d[..len], 0, None) {
                Ok(_) => panic!("a {len}-byte descriptor cannot be complete"),
                Err(e) => assert!(e.offset <= len as u64, "{e} for {len}"),
            }
        }
        for len in 0x8c..d.len() {
            let desc = parse_at(&d[..len], 0, None).unwrap();
            assert_eq!(desc.pch_straps.is_empty(), len < 0x108, "{len}");
        }
    }

    #[test]
    fn garbage_maps_stay_inside_the_descriptor() {
        let mut d = sample(0x1b, &[0, 0x07ff_0200], &[0, 0, 0]);
        d[0x14..0x20].fill(0xff);
        let desc = parse(&d).unwrap();
        assert_eq!(desc.map.fcba, 0xff0);
        assert!(desc.regions.len() <= MAX_REGIONS_V1);
        let mut rng = 0x1234_5678u32;
        for _ in 0..2000 {
            for b in d[0x14..0x90].iter_mut() {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                *b = rng as u8;
            }
            let _ = parse(&d);
            let _ = parse_at(&d, 0, Some(IfdVersion::V2));
        }
        assert!(parse(&[0u8; 64]).is_err());
        assert!(parse_at(&d, usize::MAX, None).is_err());
    }
}
