//! Turning stored name bytes into path text.

use std::fmt::Write;

/// Writes a name (or link target) as text: valid UTF-8 is kept, except control characters and
/// `\`, which become `\xNN` like every byte that is not UTF-8. With `slash_too`, `/` is escaped
/// as well, so a name can never add a path level. The result is deterministic and injective.
pub(crate) fn escape(raw: &[u8], slash_too: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() || c == '\\' || (slash_too && c == '/') {
                // Each byte of the character's UTF-8 form, so that every `\xNN` in the output
                // stands for exactly one stored byte.
                let mut utf8 = [0u8; 4];
                for b in c.encode_utf8(&mut utf8).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Why a stored name cannot be a directory entry, if it cannot.
pub(crate) fn refuse(raw: &[u8]) -> Option<&'static str> {
    match raw {
        [] => Some("an empty name"),
        b"." | b".." => Some("a `.` or `..` name"),
        _ => None,
    }
}

/// `parent` + `/` + `name` (the root is `/`).
pub(crate) fn join(parent: &str, name: &str) -> String {
    let mut p = String::with_capacity(parent.len() + 1 + name.len());
    p.push_str(parent);
    if !parent.ends_with('/') {
        p.push('/');
    }
    p.push_str(name);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_mislead() {
        assert_eq!(escape(b"plain.txt", true), "plain.txt");
        assert_eq!(escape(b"caf\xe9", true), "caf\\xe9");
        assert_eq!(escape("café".as_bytes(), true), "café");
        assert_eq!(escape(b"a/b", true), "a\\x2fb");
        assert_eq!(escape(b"../x", false), "../x");
        assert_eq!(escape(b"a\\x2fb", true), "a\\x5cx2fb");
        assert_eq!(escape(b"new\nline", true), "new\\x0aline");
        // U+0085 (a C1 control) and the lone byte 0x85 stay distinct.
        assert_eq!(escape("\u{85}".as_bytes(), true), "\\xc2\\x85");
        assert_eq!(escape(b"\x85", true), "\\x85");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert!(refuse(b"..").is_some() && refuse(b"").is_some() && refuse(b"...").is_none());
    }
}
