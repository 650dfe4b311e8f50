use crate::alg::AlgId;
use tamperscan_bytes::{Error, Reader};

/// `TCG_EfiSpecIDEvent` (PC Client PFP 10.4.5.1): the data of the first event of a crypto-agile
/// log, naming the banks and their digest sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecIdEvent<'a> {
    /// `platformClass`.
    pub platform_class: u32,
    /// `specVersionMajor`, `specVersionMinor`, `specErrata`.
    pub spec_version: (u8, u8, u8),
    /// `uintnSize` (1: 32-bit UINTN, 2: 64-bit).
    pub uintn_size: u8,
    /// `digestSizes`: the banks this log carries.
    pub algorithms: Vec<AlgorithmSize>,
    /// `vendorInfo`.
    pub vendor_info: &'a [u8],
}

/// One entry of `digestSizes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgorithmSize {
    /// `algorithmId`.
    pub alg: AlgId,
    /// `digestSize`.
    pub size: u16,
}

/// The signature of a crypto-agile log's first event.
pub const SPEC_ID_EVENT03: &[u8; 16] = b"Spec ID Event03\0";

/// The most banks a log may declare (the registry has far fewer hash algorithms).
const MAX_ALGORITHMS: u64 = 32;

impl<'a> SpecIdEvent<'a> {
    /// Decodes the event data `r` (after the signature has been recognised).
    pub(crate) fn parse(mut r: Reader<'a>) -> Result<SpecIdEvent<'a>, Error> {
        r.expect(SPEC_ID_EVENT03, "Spec ID Event03 signature")?;
        let platform_class = r.u32_le("platformClass")?;
        let minor = r.u8("specVersionMinor")?;
        let major = r.u8("specVersionMajor")?;
        let errata = r.u8("specErrata")?;
        let uintn_size = r.u8("uintnSize")?;
        let count = r.u32_le("numberOfAlgorithms")?;
        if count == 0 {
            return Err(r.invalid(
                "numberOfAlgorithms",
                "0: a crypto-agile log must name at least one bank",
            ));
        }
        let count = r.bounded(u64::from(count), MAX_ALGORITHMS, "numberOfAlgorithms")?;
        let mut algorithms = Vec::with_capacity(count);
        for _ in 0..count {
            let alg = AlgId(r.u16_le("algorithmId")?);
            let size = r.u16_le("digestSize")?;
            if size == 0 || size > 128 {
                return Err(r.invalid("digestSize", format!("{size} bytes for {alg}")));
            }
            if let Some(known) = alg.digest_size() {
                if usize::from(size) != known {
                    return Err(r.invalid(
                        "digestSize",
                        format!("{alg} digests are {known} bytes, the header says {size}"),
                    ));
                }
            }
            if algorithms.iter().any(|a: &AlgorithmSize| a.alg == alg) {
                return Err(r.invalid("digestSizes", format!("{alg} listed twice")));
            }
            algorithms.push(AlgorithmSize { alg, size });
        }
        let vendor_len = r.u8("vendorInfoSize")?;
        // Some tools write a vendorInfoSize larger than what the event holds (tpm2-tools'
        // own fixtures do); keep what is there rather than refuse the whole log.
        let available = usize::from(vendor_len).min(r.remaining());
        let vendor_info = r.take(available, "vendorInfo")?;
        r.finish("TCG_EfiSpecIDEvent")?;
        Ok(SpecIdEvent {
            platform_class,
            spec_version: (major, minor, errata),
            uintn_size,
            algorithms,
            vendor_info,
        })
    }

    /// The digest size of `alg` in this log.
    pub fn size_of(&self, alg: AlgId) -> Option<usize> {
        self.algorithms
            .iter()
            .find(|a| a.alg == alg)
            .map(|a| usize::from(a.size))
    }
}
