//! `EFI_GUID` (UEFI spec, appendix A): 16 bytes, the first three fields little-endian.

use std::fmt;

/// An EFI GUID as stored on disk and in event logs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// Builds a GUID from its canonical fields.
    pub const fn from_fields(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
        let a = d1.to_le_bytes();
        let b = d2.to_le_bytes();
        let c = d3.to_le_bytes();
        Guid([
            a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4],
            d4[5], d4[6], d4[7],
        ])
    }
}

impl fmt::Display for Guid {
    /// Upper-case canonical text: `8BE4DF61-93CA-11D2-AA0D-00E098032B8C`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

/// Why a GUID's text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GUID (expected 8-4-4-4-12 hex digits such as 8BE4DF61-93CA-11D2-AA0D-00E098032B8C): {0:?}")]
pub struct GuidParseError(pub String);

impl std::str::FromStr for Guid {
    type Err = GuidParseError;

    /// Reads the canonical text form, in either case, with or without braces.
    fn from_str(text: &str) -> Result<Guid, GuidParseError> {
        let err = || GuidParseError(text.to_string());
        let t = text.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t);
        let lens = [8usize, 4, 4, 4, 12];
        let parts: Vec<&str> = t.split('-').collect();
        if parts.len() != 5
            || parts
                .iter()
                .zip(lens)
                .any(|(p, n)| p.len() != n || !p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(err());
        }
        let hex: String = parts.concat();
        let bytes = crate::unhex(&hex).ok_or_else(err)?;
        let be: [u8; 16] = bytes.try_into().map_err(|_| err())?;
        let [a0, a1, a2, a3, b0, b1, c0, c1, d4 @ ..] = be;
        let d1 = u32::from_be_bytes([a0, a1, a2, a3]);
        let d2 = u16::from_be_bytes([b0, b1]);
        let d3 = u16::from_be_bytes([c0, c1]);
        Ok(Guid::from_fields(d1, d2, d3, d4))
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_of_the_global_variable_guid() {
        let g = Guid::from_fields(
            0x8be4df61,
            0x93ca,
            0x11d2,
            [0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c],
        );
        assert_eq!(g.to_string(), "8BE4DF61-93CA-11D2-AA0D-00E098032B8C");
        assert_eq!(&g.0[..4], &[0x61, 0xdf, 0xe4, 0x8b]);
        let back: Guid = "{8be4df61-93ca-11d2-aa0d-00e098032b8c}".parse().unwrap();
        assert_eq!(back, g);
        for bad in [
            "",
            "8BE4DF61-93CA-11D2-AA0D",
            "8BE4DF61-93CA-11D2-AA0D-00E098032B8G",
            "8BE4DF6193CA11D2AA0D00E098032B8C",
        ] {
            assert!(bad.parse::<Guid>().is_err(), "{bad}");
        }
    }
}
