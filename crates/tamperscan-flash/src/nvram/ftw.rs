//! The fault-tolerant-write (FTW) working block that EDK II keeps beside the variable store
//! (`EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER`, EDK II
//! `MdeModulePkg/Include/Guid/SystemNvDataGuid.h`): a 32-byte header — signature GUID, CRC-32,
//! a state byte (bit 0 WorkingBlockValid, bit 1 WorkingBlockInvalid, active low), 3 reserved
//! bytes, `WriteQueueSize` (u64) — followed by the write queue. It is not a variable store,
//! but it is not garbage either.

use tamperscan_bytes::{Error, Guid};

use crate::{abs, reader_at, slice_at};

/// `gEdkiiWorkingBlockSignatureGuid`.
pub const WORKING_BLOCK_SIGNATURE: Guid = Guid::from_fields(
    0x9e58_292b,
    0x7c68,
    0x497d,
    [0xa0, 0xce, 0x65, 0x00, 0xfd, 0x9f, 0x1b, 0x95],
);

/// `gEfiSystemNvDataFvGuid`, the NVRAM volume's file-system GUID, which older EDK II also
/// used as the working-block signature (accepted by [`find_ftw`] only with a matching CRC).
pub const SYSTEM_NV_DATA_FV_GUID: Guid = Guid::from_fields(
    0xfff1_2b8d,
    0x7696,
    0x4c8b,
    [0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50],
);

/// Size of the working block header.
pub const HEADER_SIZE: usize = 32;

/// A decoded working block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtwWorkingBlock {
    /// Absolute offset of the header.
    pub offset: u64,
    /// The signature GUID.
    pub signature: Guid,
    /// The stored CRC-32.
    pub crc: u32,
    /// Whether the CRC matches (computed with the CRC and the two state bits erased).
    pub crc_valid: bool,
    /// The state byte as stored.
    pub state: u8,
    /// WorkingBlockValid programmed (bit 0 clear) and WorkingBlockInvalid not (bit 1 set).
    pub valid: bool,
    /// `WriteQueueSize`.
    pub write_queue_size: u64,
    /// True when some byte of the write queue is not erased (a write was recorded).
    pub write_queue_in_use: bool,
}

impl FtwWorkingBlock {
    /// Bytes covered: header plus write queue.
    pub fn size(&self) -> u64 {
        (HEADER_SIZE as u64).saturating_add(self.write_queue_size)
    }
}

/// Decodes the working block header at the start of `bytes` (`base` = absolute offset of
/// `bytes[0]`). The write queue must fit in `bytes`.
pub fn parse_ftw_working_block(bytes: &[u8], base: u64) -> Result<FtwWorkingBlock, Error> {
    let mut r = reader_at(bytes, base, 0, "FTW working block header")?;
    let header: [u8; HEADER_SIZE] = r.take_array("FTW working block header")?;
    let mut h = reader_at(&header, base, 0, "FTW working block header")?;
    let signature = h.guid("FTW signature")?;
    let crc = h.u32_le("FTW CRC")?;
    let state = h.u8("FTW state")?;
    h.skip(3, "FTW reserved")?;
    let write_queue_size = h.u64_le("FTW WriteQueueSize")?;
    let queue_len = r.bounded(write_queue_size, r.remaining() as u64, "FTW WriteQueueSize")?;
    let queue = r.take(queue_len, "FTW write queue")?;

    let mut erased = header;
    if let Some(c) = erased.get_mut(16..20) {
        c.fill(0xff);
    }
    if let Some(s) = erased.get_mut(20) {
        *s |= 0x03;
    }
    Ok(FtwWorkingBlock {
        offset: base,
        signature,
        crc,
        crc_valid: crc32fast::hash(&erased) == crc,
        state,
        valid: state & 0x01 == 0 && state & 0x02 != 0,
        write_queue_size,
        write_queue_in_use: queue.iter().any(|&b| b != 0xff),
    })
}

/// Offsets (4-byte aligned) in `bytes` where an FTW working block header starts: the EDK II
/// working-block GUID, or the older NV-data GUID with a matching CRC.
pub fn find_ftw(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        match ftw_candidate(bytes, 0, pos) {
            Some(Ok(block)) => {
                out.push(pos);
                let size = usize::try_from(block.size()).unwrap_or(usize::MAX);
                pos = pos.saturating_add(size.max(4)).saturating_add(3) & !3;
            }
            _ => pos += 4,
        }
    }
    out
}

/// The working block at `pos`, if a signature is there: the modern GUID always counts (so a
/// header that does not decode is an error), the older NV-data GUID only with a valid CRC.
pub(crate) fn ftw_candidate(
    bytes: &[u8],
    base: u64,
    pos: usize,
) -> Option<Result<FtwWorkingBlock, Error>> {
    let sig = slice_at(bytes, pos, 16)?;
    let modern = sig == WORKING_BLOCK_SIGNATURE.0;
    if !modern && sig != SYSTEM_NV_DATA_FV_GUID.0 {
        return None;
    }
    let block = parse_ftw_working_block(bytes.get(pos..)?, abs(base, pos));
    match block {
        Ok(b) if modern || b.crc_valid => Some(Ok(b)),
        Err(e) if modern => Some(Err(e)),
        _ => None,
    }
}
