//! Writing crypto-agile event logs (sha1 and sha256 banks) event by event: the structures of
//! the PC Client PFP, byte by byte. Tests and the synthetic demo fleet use it; nothing here is
//! meant to pass for a real platform's log.

use crate::alg::AlgId;
use crate::event_type::EventType;
use crate::spec_id_event::SPEC_ID_EVENT03;

/// A crypto-agile log being written.
#[derive(Debug, Clone)]
pub struct LogWriter {
    /// The log so far.
    pub bytes: Vec<u8>,
}

impl LogWriter {
    /// A log holding only its Spec ID Event03 header (banks sha1 and sha256).
    pub fn agile() -> LogWriter {
        let mut spec = SPEC_ID_EVENT03.to_vec();
        spec.extend_from_slice(&0u32.to_le_bytes()); // platformClass: client
        spec.extend_from_slice(&[0, 2, 0, 2]); // minor 0, major 2, errata 0, uintnSize 2
        spec.extend_from_slice(&2u32.to_le_bytes());
        for alg in [AlgId::SHA1, AlgId::SHA256] {
            spec.extend_from_slice(&alg.0.to_le_bytes());
            let size = alg.digest_size().map_or(0, |s| s as u16);
            spec.extend_from_slice(&size.to_le_bytes());
        }
        spec.push(0); // vendorInfoSize
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&EventType::EV_NO_ACTION.0.to_le_bytes());
        bytes.extend_from_slice(&[0; 20]);
        bytes.extend_from_slice(&(spec.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&spec);
        LogWriter { bytes }
    }

    /// Appends an event whose digests are the hash of its data.
    pub fn event(self, pcr: u32, ty: EventType, data: &[u8]) -> LogWriter {
        self.event_measuring(pcr, ty, data, data)
    }

    /// Appends an event whose digests are the hash of `measured` (an image or firmware region
    /// that is not in the log) and whose data is `data`.
    pub fn event_measuring(
        mut self,
        pcr: u32,
        ty: EventType,
        data: &[u8],
        measured: &[u8],
    ) -> LogWriter {
        self.bytes.extend_from_slice(&pcr.to_le_bytes());
        self.bytes.extend_from_slice(&ty.0.to_le_bytes());
        self.bytes.extend_from_slice(&2u32.to_le_bytes());
        for alg in [AlgId::SHA1, AlgId::SHA256] {
            self.bytes.extend_from_slice(&alg.0.to_le_bytes());
            self.bytes
                .extend_from_slice(&alg.hash(&[measured]).unwrap_or_default());
        }
        self.bytes
            .extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(data);
        self
    }
}

/// `UEFI_VARIABLE_DATA` for a variable.
pub fn variable_data(guid: tamperscan_bytes::Guid, name: &str, value: &[u8]) -> Vec<u8> {
    let name16: Vec<u8> = name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let mut d = guid.0.to_vec();
    d.extend_from_slice(&(name.encode_utf16().count() as u64).to_le_bytes());
    d.extend_from_slice(&(value.len() as u64).to_le_bytes());
    d.extend_from_slice(&name16);
    d.extend_from_slice(value);
    d
}

/// `UEFI_PLATFORM_FIRMWARE_BLOB2` event data.
pub fn firmware_blob2(description: &str, base: u64, length: u64) -> Vec<u8> {
    let n = description.len().min(255);
    let mut d = vec![n as u8];
    d.extend_from_slice(description.as_bytes().get(..n).unwrap_or_default());
    d.extend_from_slice(&base.to_le_bytes());
    d.extend_from_slice(&length.to_le_bytes());
    d
}
