//! Base64 (RFC 4648 §4, standard alphabet) decoding of SPDM measurement digests, which
//! Redfish carries as "Base64-encoded string, with padding characters".

/// Longest encoded text decoded; digests are at most 64 bytes (88 characters).
const MAX_ENCODED: usize = 4096;

/// The decoded bytes, or `None` when the text is not canonical base64 (padding optional,
/// surrounding whitespace ignored).
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if t.is_empty() || t.len() > MAX_ENCODED {
        return None;
    }
    let body = t.trim_end_matches('=');
    let padding = t.len() - body.len();
    if padding > 2 || (padding > 0 && !t.len().is_multiple_of(4)) || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero in canonical encodings.
    if acc != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (enc, dec) in [
            ("", None),
            ("Zg==", Some(&b"f"[..])),
            ("Zm8=", Some(b"fo")),
            ("Zm9v", Some(b"foo")),
            ("Zm9vYg==", Some(b"foob")),
            ("Zm9vYmE=", Some(b"fooba")),
            ("Zm9vYmFy", Some(b"foobar")),
            ("Zm9vYg", Some(b"foob")),
        ] {
            assert_eq!(decode(enc).as_deref(), dec, "{enc}");
        }
        assert_eq!(decode("Zm9vY"), None);
        assert_eq!(decode("Zm9v!g=="), None);
        assert_eq!(decode("Zh=="), None);
        assert_eq!(decode("Zg==="), None);
    }
}
