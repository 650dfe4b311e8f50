//! Checking that bytes which should be text are text.

use crate::error::Error;

/// Returns `bytes` as `&str` when they are UTF-8 text without NUL bytes.
///
/// A leading UTF-8 byte-order mark is skipped. The error names the offset of the first byte that
/// is not text, so "a binary file where text is expected" is reported precisely.
pub fn as_text(bytes: &[u8]) -> Result<&str, Error> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let skipped = (bytes.len() - body.len()) as u64;
    let text = std::str::from_utf8(body).map_err(|e| {
        let at = e.valid_up_to();
        let byte = body.get(at).copied().unwrap_or_default();
        Error::invalid(
            skipped + at as u64,
            "text",
            format!("byte 0x{byte:02x} is not UTF-8; this looks like a binary file"),
        )
    })?;
    if let Some(at) = text.bytes().position(|b| b == 0) {
        return Err(Error::invalid(
            skipped + at as u64,
            "text",
            "NUL byte in text; this looks like a binary file",
        ));
    }
    Ok(text)
}

/// The 1-based line and column of byte `offset` in `text` (clamped to its end).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let upto = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = upto.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = upto.rfind('\n').map_or(upto.chars().count(), |nl| {
        upto.get(nl + 1..).map_or(0, |s| s.chars().count())
    }) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_text_and_skips_bom() {
        assert_eq!(as_text(b"\xef\xbb\xbfid = 1\n").unwrap(), "id = 1\n");
        assert_eq!(as_text(b"").unwrap(), "");
    }

    #[test]
    fn names_first_binary_byte() {
        let err = as_text(b"\x89PNG\r\n").unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(err.to_string().contains("0x89"));
        let err = as_text(b"abc\0def").unwrap_err();
        assert_eq!(err.offset, 3);
    }

    #[test]
    fn line_col_counts_from_one() {
        let t = "a = 1\nbb = [\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 8), (2, 3));
        assert_eq!(line_col(t, 999), (3, 1));
    }
}
