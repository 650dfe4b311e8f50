//! UEFI variable stores as found in the body of an NVRAM firmware volume (the bytes after the
//! FV header), and the fault-tolerant-write working block beside them.
//!
//! `VARIABLE_STORE_HEADER` (EDK II `MdeModulePkg/Include/Guid/VariableFormat.h`): Signature
//! (GUID `EFI_VARIABLE_GUID` = plain variables, `EFI_AUTHENTICATED_VARIABLE_GUID` =
//! authenticated variables; older stores use the 4-byte `$VSS`), Size (u32, header included),
//! Format (u8, 0x5A = formatted), State (u8, 0xFE = healthy), Reserved (u16), Reserved1 (u32).
//! Variables start at the next 4-byte boundary after the header and run until a header whose
//! StartId is erased (0xFFFF); everything after that up to Size is free space and must be
//! erased (0xFF).

mod ftw;
mod signature_list;
mod variable;

pub use ftw::{
    find_ftw, parse_ftw_working_block, FtwWorkingBlock, SYSTEM_NV_DATA_FV_GUID,
    WORKING_BLOCK_SIGNATURE,
};
pub use signature_list::{
    hash_len, parse_signature_lists, signature_type_name, SignatureEntry, SignatureList,
    CERT_RSA2048, CERT_RSA2048_SHA1, CERT_RSA2048_SHA256, CERT_SHA1, CERT_SHA224, CERT_SHA256,
    CERT_SHA384, CERT_SHA512, CERT_X509, CERT_X509_SHA256, CERT_X509_SHA384, CERT_X509_SHA512,
};
pub use variable::{
    is_signature_database, Attributes, AuthFields, EfiTime, Variable, VariableState,
    AUTH_HEADER_SIZE as AUTH_VARIABLE_HEADER_SIZE, EFI_GLOBAL_VARIABLE,
    EFI_IMAGE_SECURITY_DATABASE, HEADER_SIZE as VARIABLE_HEADER_SIZE, START_ID,
};

use tamperscan_bytes::{Error, ErrorKind, Guid};

use crate::{abs, reader_at, slice_at, Issue};

/// `EFI_VARIABLE_GUID`: a store of plain (`VARIABLE_HEADER`) variables.
pub const EFI_VARIABLE_GUID: Guid = Guid::from_fields(
    0xddcf_3616,
    0x3275,
    0x4164,
    [0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d],
);
/// `EFI_AUTHENTICATED_VARIABLE_GUID`: a store of authenticated variables.
pub const EFI_AUTHENTICATED_VARIABLE_GUID: Guid = Guid::from_fields(
    0xaaf3_2c78,
    0x947b,
    0x439a,
    [0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92],
);
/// The 4-byte signature of older stores.
pub const VSS_SIGNATURE: [u8; 4] = *b"$VSS";
/// `VARIABLE_STORE_FORMATTED`.
pub const STORE_FORMATTED: u8 = 0x5A;
/// `VARIABLE_STORE_HEALTHY`.
pub const STORE_HEALTHY: u8 = 0xFE;
/// The most variables decoded from one store.
pub const MAX_VARIABLES: usize = 65_536;

/// Which header form a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreFormat {
    /// `EFI_VARIABLE_GUID` signature, `VARIABLE_HEADER` records.
    Plain,
    /// `EFI_AUTHENTICATED_VARIABLE_GUID` signature, `AUTHENTICATED_VARIABLE_HEADER` records.
    Authenticated,
    /// `$VSS` signature (16-byte header), `VARIABLE_HEADER` records.
    LegacyVss,
}

impl StoreFormat {
    /// Size of the store header.
    pub fn header_size(self) -> usize {
        match self {
            StoreFormat::Plain | StoreFormat::Authenticated => 28,
            StoreFormat::LegacyVss => 16,
        }
    }
}

/// A decoded variable store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableStore<'a> {
    /// Absolute offset of the store header.
    pub offset: u64,
    /// The header form.
    pub format: StoreFormat,
    /// `Size` (header included).
    pub size: u32,
    /// `Format` byte (0x5A when formatted).
    pub format_byte: u8,
    /// `State` byte (0xFE when healthy).
    pub state: u8,
    /// Every record in store order: live, deleted and half-written ones.
    pub variables: Vec<Variable<'a>>,
    /// Absolute offset where the chain of records ended (start of the free space).
    pub end_offset: u64,
    /// Unhealthy header, a corrupt record (decoding stopped there), free space not erased, ...
    pub issues: Vec<Issue>,
}

impl<'a> VariableStore<'a> {
    /// The live variables (valid, or in deleted transition).
    pub fn live(&self) -> impl Iterator<Item = &Variable<'a>> {
        self.variables.iter().filter(|v| v.is_live())
    }

    /// True when the header says formatted and healthy.
    pub fn healthy(&self) -> bool {
        self.format_byte == STORE_FORMATTED && self.state == STORE_HEALTHY
    }
}

/// The store header form at `pos`, when a signature is there.
fn store_format_at(bytes: &[u8], pos: usize) -> Option<StoreFormat> {
    let sig = slice_at(bytes, pos, 16);
    if sig == Some(&EFI_VARIABLE_GUID.0[..]) {
        return Some(StoreFormat::Plain);
    }
    if sig == Some(&EFI_AUTHENTICATED_VARIABLE_GUID.0[..]) {
        return Some(StoreFormat::Authenticated);
    }
    // Four bytes are a weak signature: also require a size that fits.
    if slice_at(bytes, pos, 4) == Some(&VSS_SIGNATURE[..]) {
        let size = slice_at(bytes, pos + 4, 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_le_bytes)?;
        let room = bytes.len().saturating_sub(pos);
        if (16..=room).contains(&(size as usize)) {
            return Some(StoreFormat::LegacyVss);
        }
    }
    None
}

/// Offsets (4-byte aligned) in `bytes` where a variable store header starts. A store's own
/// bytes are not searched again, so a variable holding a store GUID does not count.
pub fn find_stores(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        if store_format_at(bytes, pos).is_some() {
            out.push(pos);
            pos = next_after(pos, store_size_at(bytes, pos));
        } else {
            pos += 4;
        }
    }
    out
}

fn store_size_at(bytes: &[u8], pos: usize) -> usize {
    let at = match store_format_at(bytes, pos) {
        Some(StoreFormat::LegacyVss) => pos + 4,
        Some(_) => pos + 16,
        None => return 0,
    };
    slice_at(bytes, at, 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, |s| u32::from_le_bytes(s) as usize)
        .min(bytes.len().saturating_sub(pos))
}

fn next_after(pos: usize, size: usize) -> usize {
    pos.saturating_add(size.max(4)).saturating_add(3) & !3
}

/// Decodes the store whose header is at the start of `bytes` (`base` = absolute offset of
/// `bytes[0]`). A bad signature, a truncated header or a Size past the end of `bytes` is an
/// error; a corrupt record ends decoding with an issue, keeping the records before it.
pub fn parse_store(bytes: &[u8], base: u64) -> Result<VariableStore<'_>, Error> {
    let Some(format) = store_format_at(bytes, 0) else {
        let mut r = reader_at(bytes, base, 0, "variable store header")?;
        let found = r.take(16.min(bytes.len()), "variable store header")?;
        return Err(Error::new(
            base,
            ErrorKind::BadMagic {
                what: "variable store",
                expected: "EFI_VARIABLE_GUID, EFI_AUTHENTICATED_VARIABLE_GUID or \"$VSS\"".into(),
                found: found.iter().map(|b| format!("{b:02x}")).collect(),
            },
        ));
    };
    let size_pos = if format == StoreFormat::LegacyVss {
        4
    } else {
        16
    };
    let mut r = reader_at(bytes, base, size_pos, "variable store header")?;
    let size = r.u32_le("variable store Size")?;
    let format_byte = r.u8("variable store Format")?;
    let state = r.u8("variable store State")?;
    r.skip(2, "variable store Reserved")?;
    r.skip(4, "variable store Reserved1")?;
    let header_size = format.header_size();
    if (size as usize) < header_size {
        return Err(Error::invalid(
            abs(base, size_pos),
            "variable store Size",
            format!("{size} is smaller than the {header_size}-byte store header"),
        ));
    }
    let store = slice_at(bytes, 0, size as usize).ok_or_else(|| {
        Error::new(
            base,
            ErrorKind::Truncated {
                what: "variable store",
                needed: u64::from(size),
                available: bytes.len() as u64,
            },
        )
    })?;

    let mut issues = Vec::new();
    if format_byte != STORE_FORMATTED || state != STORE_HEALTHY {
        issues.push(Issue::new(
            base,
            header_size as u64,
            format!(
                "variable store header Format 0x{format_byte:02x} State 0x{state:02x}, expected formatted (0x5a) and healthy (0xfe)"
            ),
        ));
    }

    let authenticated = format == StoreFormat::Authenticated;
    let mut variables = Vec::new();
    let mut pos = (header_size + 3) & !3;
    let mut clean_end = true;
    while let Some(id) = slice_at(store, pos, 2) {
        if id == [0xff, 0xff] {
            break;
        }
        if variables.len() >= MAX_VARIABLES {
            issues.push(Issue::new(
                abs(base, pos),
                0,
                format!("more than {MAX_VARIABLES} variables: the rest is not decoded"),
            ));
            clean_end = false;
            break;
        }
        match variable::parse_variable(store, base, pos, authenticated, &mut issues) {
            Ok((var, next)) => {
                variables.push(var);
                pos = next;
            }
            Err(e) => {
                let rest = store.len().saturating_sub(pos) as u64;
                issues.push(Issue::new(
                    abs(base, pos),
                    rest,
                    format!(
                        "corrupt variable record, decoding stopped ({} variables before it kept): {e}",
                        variables.len()
                    ),
                ));
                clean_end = false;
                break;
            }
        }
    }
    let free_start = pos.min(store.len());
    if clean_end {
        if let Some(issue) = unerased(store, base, free_start, "the store's free space") {
            issues.push(issue);
        }
    }
    Ok(VariableStore {
        offset: base,
        format,
        size,
        format_byte,
        state,
        variables,
        end_offset: abs(base, free_start),
        issues,
    })
}

/// An issue for the bytes of `bytes[from..]` that are not 0xFF (first to last), if any.
fn unerased(bytes: &[u8], base: u64, from: usize, what: &str) -> Option<Issue> {
    let tail = bytes.get(from..)?;
    let first = tail.iter().position(|&b| b != 0xff)?;
    let last = tail.iter().rposition(|&b| b != 0xff)?;
    let count = tail.iter().filter(|&&b| b != 0xff).count();
    Some(Issue::new(
        abs(base, from + first),
        (last - first + 1) as u64,
        format!("{count} bytes in {what} are not erased (0xFF): data hidden outside any variable?"),
    ))
}

/// Everything recognised in an NVRAM volume body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nvram<'a> {
    /// The variable stores, in offset order.
    pub stores: Vec<VariableStore<'a>>,
    /// The FTW working blocks.
    pub ftw_blocks: Vec<FtwWorkingBlock>,
    /// Store or FTW headers found by signature that did not decode.
    pub errors: Vec<Error>,
    /// Non-erased bytes outside every recognised structure.
    pub issues: Vec<Issue>,
}

/// Finds and decodes every variable store and FTW working block in `bytes` (an NVRAM volume
/// body; `base` = absolute offset of `bytes[0]`), and reports bytes outside them that are not
/// erased.
pub fn scan(bytes: &[u8], base: u64) -> Nvram<'_> {
    let mut out = Nvram {
        stores: Vec::new(),
        ftw_blocks: Vec::new(),
        errors: Vec::new(),
        issues: Vec::new(),
    };
    let mut covered_to = 0usize;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or_default();
        let found = if store_format_at(bytes, pos).is_some() {
            match parse_store(rest, abs(base, pos)) {
                Ok(store) => {
                    let size = store.size as usize;
                    out.stores.push(store);
                    Some(size)
                }
                Err(e) => {
                    out.errors.push(e);
                    None
                }
            }
        } else if let Some(block) = ftw::ftw_candidate(bytes, base, pos) {
            match block {
                Ok(block) => {
                    let size = usize::try_from(block.size()).unwrap_or(usize::MAX);
                    out.ftw_blocks.push(block);
                    Some(size)
                }
                Err(e) => {
                    out.errors.push(e);
                    None
                }
            }
        } else {
            None
        };
        match found {
            Some(size) => {
                if let Some(issue) = gap_issue(bytes, base, covered_to, pos) {
                    out.issues.push(issue);
                }
                covered_to = pos.saturating_add(size).min(bytes.len());
                pos = next_after(pos, size);
            }
            None => pos += 4,
        }
    }
    if let Some(issue) = gap_issue(bytes, base, covered_to, bytes.len()) {
        out.issues.push(issue);
    }
    out
}

fn gap_issue(bytes: &[u8], base: u64, from: usize, to: usize) -> Option<Issue> {
    let gap = bytes.get(..to)?;
    unerased(
        gap,
        base,
        from,
        "the NVRAM area outside any store or FTW block",
    )
}

#[cfg(test)]
mod tests;
