//! Lowercase hex, the one way tamperscan writes digests.

/// `bytes` as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    fn digit(nibble: u8) -> char {
        char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        })
    }
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
    out
}

/// Decodes hex text (either case, surrounding whitespace ignored); `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks_exact(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            match pair {
                [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowercase_two_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }

    #[test]
    fn unhex_round_trips_and_refuses_junk() {
        assert_eq!(
            super::unhex(" 000FA5ff\n"),
            Some(vec![0x00, 0x0f, 0xa5, 0xff])
        );
        assert_eq!(super::unhex("abc"), None);
        assert_eq!(super::unhex("zz"), None);
        assert_eq!(super::unhex(""), Some(vec![]));
    }
}
