//! PEM unwrapping (RFC 7468): `CERTIFICATE`, `ATTRIBUTE CERTIFICATE` and their spelling
//! variants, or raw DER passed through.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use tamperscan_bytes::{Error, ErrorKind};

/// The largest input accepted (a platform certificate is a few kilobytes).
pub const MAX_INPUT: usize = 4 * 1024 * 1024;
/// The most PEM blocks read from one input.
pub const MAX_BLOCKS: usize = 64;

/// One DER object found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The PEM label (`CERTIFICATE`, `ATTRIBUTE CERTIFICATE`), or `None` for raw DER input.
    pub label: Option<String>,
    /// Absolute offset of the `-----BEGIN` line (or 0 for raw DER).
    pub offset: u64,
    /// The DER bytes.
    pub der: Vec<u8>,
}

/// True for the labels this crate reads.
pub fn is_certificate_label(label: &str) -> bool {
    matches!(
        label,
        "CERTIFICATE"
            | "X509 CERTIFICATE"
            | "TRUSTED CERTIFICATE"
            | "ATTRIBUTE CERTIFICATE"
            | "ATTRIBUTE CERT"
    )
}

/// Every certificate in `bytes`: the PEM blocks with a certificate label, in order, or the
/// input itself when it is DER (starts with a SEQUENCE tag).
pub fn unwrap(bytes: &[u8]) -> Result<Vec<Block>, Error> {
    if bytes.len() > MAX_INPUT {
        return Err(Error::new(
            0,
            ErrorKind::TooLarge {
                what: "certificate input",
                value: bytes.len() as u64,
                limit: MAX_INPUT as u64,
            },
        ));
    }
    if bytes.first() == Some(&0x30) {
        return Ok(vec![Block {
            label: None,
            offset: 0,
            der: bytes.to_vec(),
        }]);
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut out = Vec::new();
    let mut pos = 0usize;
    const BEGIN: &[u8] = b"-----BEGIN ";
    while let Some(found) = find(bytes.get(pos..).unwrap_or_default(), BEGIN) {
        let begin = pos + found;
        let label_start = begin + BEGIN.len();
        let rest = bytes.get(label_start..).unwrap_or_default();
        let Some(label_len) = find(rest, b"-----") else {
            return Err(Error::invalid(
                begin as u64,
                "PEM header",
                "unterminated -----BEGIN line",
            ));
        };
        let label = String::from_utf8_lossy(rest.get(..label_len).unwrap_or_default())
            .trim()
            .to_string();
        let body_start = label_start + label_len + 5;
        let end_marker = format!("-----END {label}-----");
        let body = bytes.get(body_start..).unwrap_or_default();
        let Some(body_len) = find(body, end_marker.as_bytes()) else {
            return Err(Error::invalid(
                begin as u64,
                "PEM block",
                format!("no matching {end_marker:?}"),
            ));
        };
        pos = body_start + body_len + end_marker.len();
        if !is_certificate_label(&label) {
            continue;
        }
        let text = String::from_utf8_lossy(body.get(..body_len).unwrap_or_default()).into_owned();
        // Skip RFC 1421 style headers ("Proc-Type: ...") and keep the base64 characters.
        let b64: String = text
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = engine
            .decode(b64.as_bytes())
            .map_err(|e| Error::invalid(body_start as u64, "PEM base64 body", e.to_string()))?;
        out.push(Block {
            label: Some(label),
            offset: begin as u64,
            der,
        });
        if out.len() > MAX_BLOCKS {
            return Err(Error::new(
                begin as u64,
                ErrorKind::TooLarge {
                    what: "PEM blocks",
                    value: out.len() as u64,
                    limit: MAX_BLOCKS as u64,
                },
            ));
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(
            0,
            "certificate input",
            "neither DER (SEQUENCE) nor a PEM CERTIFICATE / ATTRIBUTE CERTIFICATE block",
        ));
    }
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_pem_labels_and_passes_der_through() {
        let pem = b"junk\n-----BEGIN ATTRIBUTE CERTIFICATE-----\nMAMCAQE=\n-----END ATTRIBUTE CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nMAA\n-----END CERTIFICATE-----\n";
        let blocks = unwrap(pem).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label.as_deref(), Some("ATTRIBUTE CERTIFICATE"));
        assert_eq!(blocks[0].der, vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        assert_eq!(blocks[0].offset, 5);
        assert_eq!(blocks[1].der, vec![0x30, 0x00]);
        let der = unwrap(&[0x30, 0x00]).unwrap();
        assert_eq!(der[0].label, None);
        assert!(unwrap(b"hello").is_err());
        assert!(unwrap(b"-----BEGIN CERTIFICATE-----\nMAA").is_err());
        assert!(unwrap(b"-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----").is_err());
    }
}
