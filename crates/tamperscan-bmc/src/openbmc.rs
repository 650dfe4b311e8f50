//! The OpenBMC image `MANIFEST`: the text file inside an OpenBMC update tarball (beside the
//! image files and their signatures) with one `key=value` per line, such as
//! `purpose=xyz.openbmc_project.Software.Version.VersionPurpose.BMC`, `version=2.14.0`,
//! `KeyType`, `HashType`, `MachineName`, `ExtendedVersion` and `CompatibleName` (which may
//! repeat).
//!
//! Parsing is strict, since a manifest is short and machine-written: a line must be
//! `key=value` with a key of ASCII letters, digits, `_`, `-` or `.` and no control characters
//! other than tab in the value. Blank lines and lines starting with `#` are skipped; a `\r`
//! before the newline is dropped. Values are kept exactly as written (OpenBMC reads everything
//! after `key=`). Errors name the line.

/// Largest manifest accepted, in bytes.
pub const MAX_MANIFEST_SIZE: usize = 64 * 1024;
/// Most entries accepted.
pub const MAX_ENTRIES: usize = 1024;

/// A manifest that could not be read, with the 1-based line and the byte offset of that line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MANIFEST line {line} (offset {offset}): {reason}")]
pub struct ManifestError {
    /// 1-based line number.
    pub line: usize,
    /// Offset of the start of that line.
    pub offset: u64,
    /// What is wrong, in words.
    pub reason: String,
}

/// A parsed manifest: its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// Every `key=value` line, in order.
    pub entries: Vec<Entry<'a>>,
}

/// One `key=value` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// 1-based line number.
    pub line: usize,
    /// The text before the first `=`.
    pub key: &'a str,
    /// The text after the first `=`, as written.
    pub value: &'a str,
}

/// What an image updates (`xyz.openbmc_project.Software.Version.VersionPurpose`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// `BMC`: the BMC firmware.
    Bmc,
    /// `Host`: the host (BIOS) firmware.
    Host,
    /// `System`: the whole system.
    System,
    /// `PSU`: power supply firmware.
    Psu,
    /// `Other`.
    Other,
    /// `Unknown`.
    Unknown,
    /// A value this crate does not know, as written.
    Unrecognized(String),
}

const PURPOSE_PREFIX: &str = "xyz.openbmc_project.Software.Version.VersionPurpose.";

/// Parses a `MANIFEST` file.
pub fn parse(bytes: &[u8]) -> Result<Manifest<'_>, ManifestError> {
    if bytes.len() > MAX_MANIFEST_SIZE {
        return Err(ManifestError {
            line: 1,
            offset: 0,
            reason: format!(
                "{} bytes is more than the limit of {MAX_MANIFEST_SIZE}",
                bytes.len()
            ),
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let start = good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            return Err(ManifestError {
                line,
                offset: start as u64,
                reason: format!("byte at offset {} is not UTF-8", e.valid_up_to()),
            });
        }
    };
    let text_start = text.strip_prefix('\u{feff}').map_or(0, |_| 3);
    let mut entries = Vec::new();
    let mut offset = 0usize;
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let line_offset = offset;
        offset += raw.len() + 1;
        let raw = if index == 0 {
            raw.get(text_start..).unwrap_or_default()
        } else {
            raw
        };
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        let fail = |reason: String| ManifestError {
            line,
            offset: line_offset as u64,
            reason,
        };
        if content.trim().is_empty() || content.starts_with('#') {
            continue;
        }
        let Some((key, value)) = content.split_once('=') else {
            return Err(fail("expected key=value, found no '='".to_string()));
        };
        if key.is_empty() {
            return Err(fail("empty key before '='".to_string()));
        }
        if let Some(c) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        {
            return Err(fail(format!("key {key:?} has the character {c:?}")));
        }
        if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
            return Err(fail(format!(
                "value of {key} has the control character {c:?}"
            )));
        }
        if entries.len() >= MAX_ENTRIES {
            return Err(fail(format!("more than {MAX_ENTRIES} entries")));
        }
        entries.push(Entry { line, key, value });
    }
    Ok(Manifest { entries })
}

impl<'a> Manifest<'a> {
    /// The value of the first entry called `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.entries.iter().find(|e| e.key == key).map(|e| e.value)
    }

    /// The values of every entry called `key`, in order.
    pub fn get_all(&self, key: &str) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|e| e.key == key)
            .map(|e| e.value)
            .collect()
    }

    /// Keys that appear more than once, in order of their second appearance (a repeated
    /// `CompatibleName` is normal; any other repeat is suspicious, since readers disagree on
    /// which value wins).
    pub fn duplicate_keys(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let earlier = self.entries.iter().take(i).any(|p| p.key == e.key);
            if earlier && !out.contains(&e.key) {
                out.push(e.key);
            }
        }
        out
    }

    /// `version`.
    pub fn version(&self) -> Option<&'a str> {
        self.get("version")
    }

    /// `purpose`, decoded; with or without the D-Bus enum prefix.
    pub fn purpose(&self) -> Option<Purpose> {
        let value = self.get("purpose")?;
        let short = value.strip_prefix(PURPOSE_PREFIX).unwrap_or(value);
        Some(match short {
            "BMC" => Purpose::Bmc,
            "Host" => Purpose::Host,
            "System" => Purpose::System,
            "PSU" => Purpose::Psu,
            "Other" => Purpose::Other,
            "Unknown" => Purpose::Unknown,
            _ => Purpose::Unrecognized(value.to_string()),
        })
    }

    /// `MachineName`.
    pub fn machine_name(&self) -> Option<&'a str> {
        self.get("MachineName")
    }

    /// `ExtendedVersion`.
    pub fn extended_version(&self) -> Option<&'a str> {
        self.get("ExtendedVersion")
    }

    /// `KeyType` (the signing key type, e.g. `OpenBMC`).
    pub fn key_type(&self) -> Option<&'a str> {
        self.get("KeyType")
    }

    /// `HashType` (e.g. `RSA-SHA256`).
    pub fn hash_type(&self) -> Option<&'a str> {
        self.get("HashType")
    }

    /// Every `CompatibleName`.
    pub fn compatible_names(&self) -> Vec<&'a str> {
        self.get_all("CompatibleName")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "purpose=xyz.openbmc_project.Software.Version.VersionPurpose.BMC\n\
version=2.14.0-dev-1234-g5678\r\n\
KeyType=OpenBMC\n\
HashType=RSA-SHA256\n\
MachineName=ast2600-evb\n\
\n\
ExtendedVersion=a=b,c\n\
CompatibleName=com.example.Board.One\n\
CompatibleName=com.example.Board.Two\n";

    #[test]
    fn parses_the_usual_keys() {
        let m = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(m.entries.len(), 8);
        assert_eq!(m.purpose(), Some(Purpose::Bmc));
        assert_eq!(m.version(), Some("2.14.0-dev-1234-g5678"));
        assert_eq!(m.key_type(), Some("OpenBMC"));
        assert_eq!(m.hash_type(), Some("RSA-SHA256"));
        assert_eq!(m.machine_name(), Some("ast2600-evb"));
        assert_eq!(m.extended_version(), Some("a=b,c"));
        assert_eq!(
            m.compatible_names(),
            vec!["com.example.Board.One", "com.example.Board.Two"]
        );
        assert_eq!(m.duplicate_keys(), vec!["CompatibleName"]);
        assert_eq!(
            (m.entries[5].key, m.entries[5].line),
            ("ExtendedVersion", 7)
        );
    }

    #[test]
    fn purpose_values() {
        let m = parse(b"purpose=Host\n").unwrap();
        assert_eq!(m.purpose(), Some(Purpose::Host));
        let m = parse(b"purpose=xyz.Other.Thing\n").unwrap();
        assert_eq!(
            m.purpose(),
            Some(Purpose::Unrecognized("xyz.Other.Thing".into()))
        );
        assert_eq!(parse(b"").unwrap().purpose(), None);
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse(b"version=1\nno equals here\n").unwrap_err();
        assert_eq!((err.line, err.offset), (2, 10));
        assert!(err.to_string().starts_with("MANIFEST line 2 (offset 10)"));
        assert_eq!(parse(b"a=1\n\n=x\n").unwrap_err().line, 3);
        assert_eq!(parse(b"a=1\nb c=2\n").unwrap_err().line, 2);
        assert_eq!(parse(b"a=1\nb=\x00\n").unwrap_err().line, 2);
        assert_eq!(parse(b"a=1\nb=2\nc=\xff\n").unwrap_err().line, 3);
        assert!(parse(&vec![b'a'; MAX_MANIFEST_SIZE + 1]).is_err());
    }

    #[test]
    fn every_truncation_is_handled() {
        for len in 0..SAMPLE.len() {
            let _ = parse(&SAMPLE.as_bytes()[..len]);
        }
        assert!(parse("\u{feff}version=1\n".as_bytes()).is_ok());
    }
}
