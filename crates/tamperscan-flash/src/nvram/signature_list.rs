//! `EFI_SIGNATURE_LIST` chains (UEFI spec 2.10, section 32.4.1 "Signature Database"): the data
//! of the Secure Boot variables PK, KEK, db, dbx, dbt, dbr.
//!
//! Each list is `SignatureType` (GUID), `SignatureListSize`, `SignatureHeaderSize`,
//! `SignatureSize` (u32 each), a header of `SignatureHeaderSize` bytes, then
//! `(SignatureListSize - 28 - SignatureHeaderSize) / SignatureSize` `EFI_SIGNATURE_DATA`
//! entries: `SignatureOwner` (GUID) and `SignatureSize - 16` bytes of data.

use tamperscan_bytes::{Error, ErrorKind, Guid, Reader};

use crate::sha256;

/// Size of the fixed part of an `EFI_SIGNATURE_LIST`.
pub const LIST_HEADER_SIZE: usize = 28;

/// `EFI_CERT_SHA256_GUID`.
pub const CERT_SHA256: Guid = Guid::from_fields(
    0xc1c4_1626,
    0x504c,
    0x4092,
    [0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28],
);
/// `EFI_CERT_RSA2048_GUID`.
pub const CERT_RSA2048: Guid = Guid::from_fields(
    0x3c57_66e8,
    0x269c,
    0x4e34,
    [0xaa, 0x14, 0xed, 0x77, 0x6e, 0x85, 0xb3, 0xb6],
);
/// `EFI_CERT_RSA2048_SHA256_GUID`.
pub const CERT_RSA2048_SHA256: Guid = Guid::from_fields(
    0xe2b3_6190,
    0x879b,
    0x4a3d,
    [0xad, 0x8d, 0xf2, 0xe7, 0xbb, 0xa3, 0x27, 0x84],
);
/// `EFI_CERT_SHA1_GUID`.
pub const CERT_SHA1: Guid = Guid::from_fields(
    0x826c_a512,
    0xcf10,
    0x4ac9,
    [0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd],
);
/// `EFI_CERT_RSA2048_SHA1_GUID`.
pub const CERT_RSA2048_SHA1: Guid = Guid::from_fields(
    0x67f8_444f,
    0x8743,
    0x48f1,
    [0xa3, 0x28, 0x1e, 0xaa, 0xb8, 0x73, 0x60, 0x80],
);
/// `EFI_CERT_X509_GUID`.
pub const CERT_X509: Guid = Guid::from_fields(
    0xa5c0_59a1,
    0x94e4,
    0x4aa7,
    [0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72],
);
/// `EFI_CERT_SHA224_GUID`.
pub const CERT_SHA224: Guid = Guid::from_fields(
    0x0b6e_5233,
    0xa65c,
    0x44c9,
    [0x94, 0x07, 0xd9, 0xab, 0x83, 0xbf, 0xc8, 0xbd],
);
/// `EFI_CERT_SHA384_GUID`.
pub const CERT_SHA384: Guid = Guid::from_fields(
    0xff3e_5307,
    0x9fd0,
    0x48c9,
    [0x85, 0xf1, 0x8a, 0xd5, 0x6c, 0x70, 0x1e, 0x01],
);
/// `EFI_CERT_SHA512_GUID`.
pub const CERT_SHA512: Guid = Guid::from_fields(
    0x093e_0fae,
    0xa6c4,
    0x4f50,
    [0x9f, 0x1b, 0xd4, 0x1e, 0x2b, 0x89, 0xc1, 0x9a],
);
/// `EFI_CERT_X509_SHA256_GUID` (hash of a revoked certificate's TBS, plus revocation time).
pub const CERT_X509_SHA256: Guid = Guid::from_fields(
    0x3bd2_a492,
    0x96c0,
    0x4079,
    [0xb4, 0x20, 0xfc, 0xf9, 0x8e, 0xf1, 0x03, 0xed],
);
/// `EFI_CERT_X509_SHA384_GUID`.
pub const CERT_X509_SHA384: Guid = Guid::from_fields(
    0x7076_876e,
    0x80c2,
    0x4ee6,
    [0xaa, 0xd2, 0x28, 0xb3, 0x49, 0xa6, 0x86, 0x5b],
);
/// `EFI_CERT_X509_SHA512_GUID`.
pub const CERT_X509_SHA512: Guid = Guid::from_fields(
    0x446d_bf63,
    0x2502,
    0x4cda,
    [0xbc, 0xfa, 0x24, 0x65, 0xd2, 0xb0, 0xfe, 0x9d],
);

/// Name and hash length (for hash types) of the signature types the spec defines.
const TYPES: [(Guid, &str, Option<usize>); 12] = [
    (CERT_X509, "X509", None),
    (CERT_SHA256, "SHA256", Some(32)),
    (CERT_SHA1, "SHA1", Some(20)),
    (CERT_SHA224, "SHA224", Some(28)),
    (CERT_SHA384, "SHA384", Some(48)),
    (CERT_SHA512, "SHA512", Some(64)),
    (CERT_RSA2048, "RSA2048", None),
    (CERT_RSA2048_SHA256, "RSA2048_SHA256", Some(32)),
    (CERT_RSA2048_SHA1, "RSA2048_SHA1", Some(20)),
    (CERT_X509_SHA256, "X509_SHA256", Some(32)),
    (CERT_X509_SHA384, "X509_SHA384", Some(48)),
    (CERT_X509_SHA512, "X509_SHA512", Some(64)),
];

/// The spec's short name of a signature type (`X509`, `SHA256`, ...).
pub fn signature_type_name(signature_type: &Guid) -> Option<&'static str> {
    TYPES
        .iter()
        .find(|(g, _, _)| g == signature_type)
        .map(|(_, name, _)| *name)
}

/// For hash signature types, the length of the hash at the start of each entry's data.
pub fn hash_len(signature_type: &Guid) -> Option<usize> {
    TYPES
        .iter()
        .find(|(g, _, _)| g == signature_type)
        .and_then(|(_, _, len)| *len)
}

/// One `EFI_SIGNATURE_DATA`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureEntry {
    /// Absolute offset of the entry (its owner GUID).
    pub offset: u64,
    /// `SignatureOwner`.
    pub owner: Guid,
    /// Absolute offset of the signature data.
    pub data_offset: u64,
    /// Length of the signature data.
    pub data_len: usize,
    /// SHA-256 of the signature data (for X509 entries: of the DER certificate).
    pub sha256: [u8; 32],
    /// For hash types: the hash itself (the first bytes of the data).
    pub hash: Option<Vec<u8>>,
}

/// One `EFI_SIGNATURE_LIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureList {
    /// Absolute offset of the list.
    pub offset: u64,
    /// `SignatureType`.
    pub signature_type: Guid,
    /// `SignatureListSize`.
    pub list_size: u32,
    /// `SignatureHeaderSize`.
    pub header_size: u32,
    /// `SignatureSize` (owner GUID included).
    pub signature_size: u32,
    /// The entries.
    pub entries: Vec<SignatureEntry>,
}

impl SignatureList {
    /// The spec's short name of the list's type.
    pub fn type_name(&self) -> Option<&'static str> {
        signature_type_name(&self.signature_type)
    }
}

/// Decodes the chain of lists filling `data` (the data of a signature database variable;
/// `base` is the absolute offset of `data[0]`).
pub fn parse_signature_lists(data: &[u8], base: u64) -> Result<Vec<SignatureList>, Error> {
    let mut r = Reader::with_base(data, base);
    let mut lists = Vec::new();
    while !r.is_empty() {
        lists.push(parse_list(&mut r)?);
    }
    Ok(lists)
}

fn parse_list(r: &mut Reader<'_>) -> Result<SignatureList, Error> {
    let offset = r.offset();
    let signature_type = r.guid("EFI_SIGNATURE_LIST.SignatureType")?;
    let list_size = r.u32_le("EFI_SIGNATURE_LIST.SignatureListSize")?;
    let header_size = r.u32_le("EFI_SIGNATURE_LIST.SignatureHeaderSize")?;
    let signature_size = r.u32_le("EFI_SIGNATURE_LIST.SignatureSize")?;
    let body_len = (list_size as usize)
        .checked_sub(LIST_HEADER_SIZE)
        .ok_or_else(|| {
            Error::invalid(
                offset.saturating_add(16),
                "EFI_SIGNATURE_LIST.SignatureListSize",
                format!("{list_size} is smaller than the 28-byte list header"),
            )
        })?;
    let mut body = r.sub(body_len, "EFI_SIGNATURE_LIST body")?;
    body.skip(header_size as usize, "EFI_SIGNATURE_LIST header")?;
    let entries_len = body.remaining();
    if entries_len > 0 && (signature_size < 16 || entries_len % signature_size as usize != 0) {
        return Err(Error::new(
            offset.saturating_add(24),
            ErrorKind::Invalid {
                what: "EFI_SIGNATURE_LIST.SignatureSize",
                reason: format!(
                    "{signature_size} does not divide the {entries_len} bytes of entries into EFI_SIGNATURE_DATA (16-byte owner + data)"
                ),
            },
        ));
    }
    let hash_len = hash_len(&signature_type);
    let mut entries = Vec::new();
    while !body.is_empty() {
        let entry_offset = body.offset();
        let owner = body.guid("EFI_SIGNATURE_DATA.SignatureOwner")?;
        let data_offset = body.offset();
        let data = body.take(
            signature_size as usize - 16,
            "EFI_SIGNATURE_DATA.SignatureData",
        )?;
        entries.push(SignatureEntry {
            offset: entry_offset,
            owner,
            data_offset,
            data_len: data.len(),
            sha256: sha256(data),
            hash: hash_len.and_then(|n| data.get(..n)).map(<[u8]>::to_vec),
        });
    }
    Ok(SignatureList {
        offset,
        signature_type,
        list_size,
        header_size,
        signature_size,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn list(kind: Guid, owner: Guid, items: &[&[u8]]) -> Vec<u8> {
        let size = items.first().map_or(16, |i| i.len() + 16);
        let mut l = Vec::new();
        l.extend_from_slice(&kind.0);
        l.extend_from_slice(&((28 + size * items.len()) as u32).to_le_bytes());
        l.extend_from_slice(&0u32.to_le_bytes());
        l.extend_from_slice(&(size as u32).to_le_bytes());
        for i in items {
            l.extend_from_slice(&owner.0);
            l.extend_from_slice(i);
        }
        l
    }

    #[test]
    fn decodes_hash_and_certificate_lists() {
        let owner = Guid::from_fields(
            0x77fa9abd,
            0x0359,
            0x4d32,
            [0xbd, 0x60, 0x28, 0xf4, 0xe7, 0x8f, 0x78, 0x4b],
        );
        let mut data = list(CERT_SHA256, owner, &[&[1u8; 32], &[2u8; 32]]);
        data.extend(list(CERT_X509, owner, &[b"not really DER"]));
        let lists = parse_signature_lists(&data, 0x100).unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].type_name(), Some("SHA256"));
        assert_eq!(lists[0].entries[1].hash.as_deref(), Some(&[2u8; 32][..]));
        assert_eq!(lists[0].entries[1].offset, 0x100 + 28 + 48);
        assert_eq!(lists[1].type_name(), Some("X509"));
        assert_eq!(lists[1].entries[0].sha256, sha256(b"not really DER"));
        assert_eq!(lists[1].entries[0].hash, None);
        assert_eq!(lists[1].offset, 0x100 + 28 + 96);
    }

    #[test]
    fn hostile_sizes_are_errors_not_loops() {
        let owner = Guid([7; 16]);
        let good = list(CERT_SHA256, owner, &[&[1u8; 32]]);
        // ListSize 0 would loop forever if trusted.
        let mut bad = good.clone();
        bad[16..20].copy_from_slice(&0u32.to_le_bytes());
        assert!(parse_signature_lists(&bad, 0).is_err());
        // SignatureSize 0 would divide by zero.
        let mut bad = good.clone();
        bad[24..28].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse_signature_lists(&bad, 0).unwrap_err().offset, 24);
        // Huge header and list sizes.
        let mut bad = good.clone();
        bad[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_signature_lists(&bad, 0).is_err());
        let mut bad = good.clone();
        bad[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_signature_lists(&bad, 0).is_err());
        for len in 0..good.len() {
            let e = parse_signature_lists(&good[..len], 0);
            assert!(len == 0 || e.is_err(), "{len}");
        }
    }
}
