//! Writing crypto-agile event logs (sha1 and sha256 banks, or SHA-384 CC event logs) event by event: the structures of
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
    /// The banks every event gets a digest in, in header order.
    banks: Vec<AlgId>,
}

impl LogWriter {
    /// A log holding only its Spec ID Event03 header (banks sha1 and sha256).
    pub fn agile() -> LogWriter {
        LogWriter::with_banks(&[AlgId::SHA1, AlgId::SHA256])
    }

    /// A confidential-computing event log as TDX firmware writes it: a Spec ID Event03 header
    /// naming only SHA-384; events go to CC measurement registers (1 to 4 = RTMR0..RTMR3).
    pub fn cc_sha384() -> LogWriter {
        LogWriter::with_banks(&[AlgId::SHA384])
    }

    /// A log holding only its Spec ID Event03 header naming `banks` (each must be a hash this
    /// build computes).
    pub fn with_banks(banks: &[AlgId]) -> LogWriter {
        let mut spec = SPEC_ID_EVENT03.to_vec();
        spec.extend_from_slice(&0u32.to_le_bytes()); // platformClass: client
        spec.extend_from_slice(&[0, 2, 0, 2]); // minor 0, major 2, errata 0, uintnSize 2
        spec.extend_from_slice(&(banks.len() as u32).to_le_bytes());
        for alg in banks {
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
        LogWriter {
            bytes,
            banks: banks.to_vec(),
        }
    }

    /// Appends an event whose digests are the hash of its data.
    pub fn event(self, pcr: u32, ty: EventType, data: &[u8]) -> LogWriter {
        self.event_measuring(pcr, ty, data, data)
    }

    /// Appends an event of a CC event log: `mr` is the CC measurement register index (1 to 4
    /// for RTMR0..RTMR3); the digests are the hash of `data`.
    pub fn cc_event(self, mr: u32, ty: EventType, data: &[u8]) -> LogWriter {
        self.event_measuring(mr, ty, data, data)
    }

    /// Appends an event whose digests are the hash of `measured` (an image or firmware region
    /// that is not in the log) and whose data is `data`.
    pub fn event_measuring(
        self,
        pcr: u32,
        ty: EventType,
        data: &[u8],
        measured: &[u8],
    ) -> LogWriter {
        let digests: Vec<(AlgId, Vec<u8>)> = self
            .banks
            .iter()
            .map(|alg| (*alg, alg.hash(&[measured]).unwrap_or_default()))
            .collect();
        self.event_with_digests(pcr, ty, data, &digests)
    }

    /// Appends an event with the digests given as they are (one per bank, recorded by a real
    /// platform; or wrong on purpose in tests).
    pub fn event_with_digests(
        mut self,
        pcr: u32,
        ty: EventType,
        data: &[u8],
        digests: &[(AlgId, Vec<u8>)],
    ) -> LogWriter {
        self.bytes.extend_from_slice(&pcr.to_le_bytes());
        self.bytes.extend_from_slice(&ty.0.to_le_bytes());
        self.bytes
            .extend_from_slice(&(digests.len() as u32).to_le_bytes());
        for (alg, digest) in digests {
            self.bytes.extend_from_slice(&alg.0.to_le_bytes());
            self.bytes.extend_from_slice(digest);
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

/// A `TPMS_ATTEST` of type quote (big-endian, as a TPM writes it), with a fixed fictional
/// signer name, clock and firmware version.
pub fn quote_attest(nonce: &[u8], selections: &[(AlgId, Vec<u32>)], pcr_digest: &[u8]) -> Vec<u8> {
    let mut a = Vec::new();
    a.extend_from_slice(&crate::quote::TPM_GENERATED_VALUE.to_be_bytes());
    a.extend_from_slice(&crate::quote::TPM_ST_ATTEST_QUOTE.to_be_bytes());
    let signer = [0u8; 34];
    a.extend_from_slice(&(signer.len() as u16).to_be_bytes());
    a.extend_from_slice(&signer);
    a.extend_from_slice(&(nonce.len() as u16).to_be_bytes());
    a.extend_from_slice(nonce);
    a.extend_from_slice(&1_000_000u64.to_be_bytes()); // clock
    a.extend_from_slice(&1u32.to_be_bytes()); // resetCount
    a.extend_from_slice(&0u32.to_be_bytes()); // restartCount
    a.push(1); // safe
    a.extend_from_slice(&0x2024_0101u64.to_be_bytes()); // firmwareVersion
    a.extend_from_slice(&(selections.len() as u32).to_be_bytes());
    for (alg, pcrs) in selections {
        a.extend_from_slice(&alg.0.to_be_bytes());
        let mut bitmap = [0u8; 3];
        for &pcr in pcrs {
            if let Some(byte) = bitmap.get_mut((pcr / 8) as usize) {
                *byte |= 1 << (pcr % 8);
            }
        }
        a.push(bitmap.len() as u8);
        a.extend_from_slice(&bitmap);
    }
    a.extend_from_slice(&(pcr_digest.len() as u16).to_be_bytes());
    a.extend_from_slice(pcr_digest);
    a
}

/// Signs `attest` with an ECDSA P-256 key made from `secret` (SHA-256), returning the
/// `TPMT_SIGNATURE` and the key's `TPM2B_PUBLIC`; `None` when `secret` is not a valid scalar.
pub fn sign_quote_p256(secret: &[u8; 32], attest: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let key = p256::ecdsa::SigningKey::from_bytes(secret.into()).ok()?;
    let digest = AlgId::SHA256.hash(&[attest])?;
    let sig: p256::ecdsa::Signature = key.sign_prehash(&digest).ok()?;
    let (r, s) = sig.split_bytes();
    let mut t = Vec::new();
    t.extend_from_slice(&0x0018u16.to_be_bytes()); // TPM_ALG_ECDSA
    t.extend_from_slice(&AlgId::SHA256.0.to_be_bytes());
    for part in [r.as_slice(), s.as_slice()] {
        t.extend_from_slice(&(part.len() as u16).to_be_bytes());
        t.extend_from_slice(part);
    }
    let point = key.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x()?, point.y()?);
    let mut p = Vec::new();
    p.extend_from_slice(&0x0023u16.to_be_bytes()); // TPM_ALG_ECC
    p.extend_from_slice(&AlgId::SHA256.0.to_be_bytes()); // nameAlg
    p.extend_from_slice(&0x0005_0072u32.to_be_bytes()); // fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign
    p.extend_from_slice(&0u16.to_be_bytes()); // authPolicy
    p.extend_from_slice(&0x0010u16.to_be_bytes()); // symmetric: NULL
    p.extend_from_slice(&0x0018u16.to_be_bytes()); // scheme: ECDSA
    p.extend_from_slice(&AlgId::SHA256.0.to_be_bytes());
    p.extend_from_slice(&0x0003u16.to_be_bytes()); // NIST P-256
    p.extend_from_slice(&0x0010u16.to_be_bytes()); // kdf: NULL
    for c in [x.as_slice(), y.as_slice()] {
        p.extend_from_slice(&(c.len() as u16).to_be_bytes());
        p.extend_from_slice(c);
    }
    let mut public = (p.len() as u16).to_be_bytes().to_vec();
    public.extend_from_slice(&p);
    Some((t, public))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quote::{parse_ak, verify_quote};
    use crate::replay::Pcrs;

    #[test]
    fn written_quotes_verify_and_edited_ones_do_not() {
        let mut pcrs = Pcrs::default();
        pcrs.banks
            .entry(AlgId::SHA256)
            .or_default()
            .insert(0, vec![7; 32]);
        let selections = vec![(AlgId::SHA256, vec![0, 7])];
        let digest = crate::quote::expected_pcr_digest(&selections, &pcrs, AlgId::SHA256).unwrap();
        let attest = quote_attest(b"nonce", &selections, &digest);
        let (sig, public) = sign_quote_p256(&[0x42; 32], &attest).unwrap();
        let ak = parse_ak(&public).unwrap();
        let v = verify_quote(&attest, &sig, &ak, Some(b"nonce"), Some(&pcrs)).unwrap();
        assert!(v.ok(), "{v:?}");
        let mut other = pcrs.clone();
        other
            .banks
            .entry(AlgId::SHA256)
            .or_default()
            .insert(7, vec![1; 32]);
        assert_eq!(
            verify_quote(&attest, &sig, &ak, Some(b"nonce"), Some(&other))
                .unwrap()
                .pcr_digest_matches,
            Some(false)
        );
    }
}
