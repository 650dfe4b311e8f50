//! `dmidecode` text output, from dmidecode 2.x and 3.x: whole dumps, `-t N` selections and
//! `-q` (no handle lines), read as records of `Key: Value` fields with indented list values.
//!
//! The layout is read by indentation, not by fixed tab counts: a record starts at a
//! `Handle 0x0002, DMI type 2, 15 bytes` header (or, in old versions, `Handle 0x0002` and an
//! indented `DMI type 2, 15 bytes.` line), its title is the first line after it, fields are
//! the lines indented deeper than the title, and lines deeper than the fields are list values
//! of the field above. Messages `dmidecode` prints between a header and its title (`Invalid
//! entry length (16). Fixed up to 11.`) or after a record are kept as notes.

use crate::{Error, MAX_TEXT_FIELDS, MAX_TEXT_ITEMS, MAX_TEXT_LINE, MAX_TEXT_RECORDS};
use serde::Serialize;

/// The most issues kept for one text; more are counted in a last one.
const MAX_TEXT_ISSUES: usize = 1000;

/// A decoded `dmidecode` text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmiText<'a> {
    /// The dmidecode version from its `# dmidecode 3.2` line.
    pub dmidecode_version: Option<&'a str>,
    /// The SMBIOS version from `SMBIOS 2.7 present.`.
    pub smbios_version: Option<&'a str>,
    /// The records, in order.
    pub records: Vec<TextRecord<'a>>,
    /// What was odd but did not stop the parse.
    pub issues: Vec<TextIssue>,
}

/// Something odd in a text, and its line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TextIssue {
    /// 1-based line number.
    pub line: usize,
    /// What was found, in words.
    pub message: String,
}

/// One record (one SMBIOS structure as dmidecode printed it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextRecord<'a> {
    /// 1-based line of its header (or of its title, without one).
    pub line: usize,
    /// The handle from the header (`None` in `-q` output).
    pub handle: Option<u16>,
    /// The DMI type from the header (`None` in `-q` output; see [`TextRecord::kind`]).
    pub dmi_type: Option<u8>,
    /// The structure length from the header.
    pub length: Option<u16>,
    /// The title line (`Base Board Information`).
    pub title: &'a str,
    /// The fields, in order.
    pub fields: Vec<Field<'a>>,
    /// Lines dmidecode printed about the structure rather than from it.
    pub notes: Vec<&'a str>,
}

/// One `Key: Value` line and the list values indented below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field<'a> {
    /// 1-based line number.
    pub line: usize,
    /// The key (`Serial Number`).
    pub key: &'a str,
    /// The value, trimmed at the end (empty for a list heading such as `Characteristics:`).
    pub value: &'a str,
    /// The list values below it, trimmed.
    pub items: Vec<&'a str>,
}

impl<'a> TextRecord<'a> {
    /// The DMI type from the header, or else from a known title (for `-q` output).
    pub fn kind(&self) -> Option<u8> {
        self.dmi_type.or_else(|| type_of_title(self.title))
    }

    /// The first field named `key`.
    pub fn field(&self, key: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The value of the first field named `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.field(key).map(|f| f.value)
    }

    /// `type 2 handle 0x0002` (or `type 2 line 40` without a handle).
    pub fn source_ref(&self) -> String {
        let ty = self
            .kind()
            .map_or_else(|| "?".to_string(), |t| t.to_string());
        match self.handle {
            Some(h) => format!("type {ty} handle 0x{h:04X}"),
            None => format!("type {ty} line {}", self.line),
        }
    }
}

/// The DMI type of the record titles dmidecode prints for the types this crate decodes.
fn type_of_title(title: &str) -> Option<u8> {
    Some(match title {
        "BIOS Information" => 0,
        "System Information" => 1,
        "Base Board Information" => 2,
        "Chassis Information" => 3,
        "Processor Information" => 4,
        "System Slot Information" => 9,
        "OEM Strings" => 11,
        "Memory Device" => 17,
        "IPMI Device Information" => 38,
        "System Power Supply" => 39,
        "Onboard Device" => 41,
        "TPM Device" => 43,
        "End Of Table" => 127,
        _ => return None,
    })
}

/// Reads `dmidecode` output. Unknown records and fields are kept as they are; the error is
/// for text with no record at all.
pub fn parse_dmidecode_text(text: &str) -> Result<DmiText<'_>, Error> {
    let mut p = Parser {
        out: DmiText {
            dmidecode_version: None,
            smbios_version: None,
            records: Vec::new(),
            issues: Vec::new(),
        },
        current: None,
        pending_title: None,
        dropped_issues: 0,
        full: false,
    };
    let mut last_line = 0;
    for (index, raw) in text.split('\n').enumerate() {
        last_line = index + 1;
        p.line(last_line, raw);
        if p.full {
            break;
        }
    }
    p.finish_record();
    if p.dropped_issues > 0 {
        p.out.issues.push(TextIssue {
            line: last_line,
            message: format!("{} more issues not recorded", p.dropped_issues),
        });
    }
    if p.out.records.is_empty() {
        return Err(Error::Text {
            line: last_line.max(1),
            reason: "no dmidecode record found (no `Handle 0x...` header and no record title \
                     followed by indented fields)"
                .into(),
        });
    }
    Ok(p.out)
}

struct Builder<'a> {
    record: TextRecord<'a>,
    /// The header was `Handle 0x....` alone: an indented `DMI type` line may follow.
    awaiting_type: bool,
    /// Indentation of the title.
    title_indent: Option<usize>,
    /// Indentation of the fields.
    field_indent: Option<usize>,
    /// Col-0 lines still replace the title (until a blank line or a field).
    title_open: bool,
    /// A `-q` record: a blank line ends it.
    quiet: bool,
    /// A blank line was seen inside the record.
    blank_seen: bool,
    /// Fields or list values were dropped at their bounds.
    overflow: bool,
}

struct Parser<'a> {
    out: DmiText<'a>,
    current: Option<Builder<'a>>,
    /// In `-q` output, an unindented line that becomes a title if indented lines follow.
    pending_title: Option<(usize, &'a str)>,
    dropped_issues: usize,
    full: bool,
}

impl<'a> Parser<'a> {
    fn issue(&mut self, line: usize, message: String) {
        if self.out.issues.len() < MAX_TEXT_ISSUES {
            self.out.issues.push(TextIssue { line, message });
        } else {
            self.dropped_issues += 1;
        }
    }

    fn line(&mut self, n: usize, raw: &'a str) {
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.len() > MAX_TEXT_LINE {
            self.issue(
                n,
                format!("line of {} bytes cut to {MAX_TEXT_LINE}", line.len()),
            );
            line = cut(line, MAX_TEXT_LINE);
        }
        let (indent, content) = split_indent(line);
        let content = content.trim_end();
        if content.is_empty() {
            if let Some(b) = &mut self.current {
                b.title_open = false;
                b.blank_seen = true;
                if b.quiet {
                    self.finish_record();
                }
            }
            return;
        }
        if indent == 0 && content.starts_with("Handle 0x") {
            self.finish_record();
            self.start_handle_record(n, content);
            return;
        }
        if self.current.is_none() {
            self.preamble(n, indent, content);
            return;
        }
        self.in_record(n, indent, content);
    }

    fn preamble(&mut self, n: usize, indent: usize, content: &'a str) {
        if let Some(v) = content.strip_prefix("# dmidecode ") {
            if v.starts_with(|c: char| c.is_ascii_digit()) {
                self.out.dmidecode_version = Some(v);
            }
            return;
        }
        if let Some(v) = content
            .strip_prefix("SMBIOS ")
            .and_then(|v| v.strip_suffix(" present."))
        {
            self.out.smbios_version = Some(v);
            return;
        }
        if indent == 0 {
            self.pending_title = Some((n, content));
            return;
        }
        // An indented line under an unindented one: `-q` output, which has no handles.
        let Some((line, title)) = self.pending_title.take() else {
            self.issue(n, "indented line outside any record ignored".into());
            return;
        };
        if !self.start(Builder {
            record: TextRecord {
                line,
                handle: None,
                dmi_type: None,
                length: None,
                title,
                fields: Vec::new(),
                notes: Vec::new(),
            },
            awaiting_type: false,
            title_indent: Some(0),
            field_indent: None,
            title_open: false,
            quiet: true,
            blank_seen: false,
            overflow: false,
        }) {
            return;
        }
        self.in_record(n, indent, content);
    }

    fn start(&mut self, b: Builder<'a>) -> bool {
        if self.out.records.len() >= MAX_TEXT_RECORDS {
            self.issue(
                b.record.line,
                format!("more than {MAX_TEXT_RECORDS} records; the rest is not read"),
            );
            self.full = true;
            return false;
        }
        self.current = Some(b);
        true
    }

    fn start_handle_record(&mut self, n: usize, content: &'a str) {
        self.pending_title = None;
        let header = parse_header(content);
        if let Some(problem) = &header.problem {
            self.issue(n, format!("header `{}`: {problem}", cut(content, 80)));
        }
        self.start(Builder {
            record: TextRecord {
                line: n,
                handle: header.handle,
                dmi_type: header.dmi_type,
                length: header.length,
                title: "",
                fields: Vec::new(),
                notes: Vec::new(),
            },
            awaiting_type: header.dmi_type.is_none(),
            title_indent: None,
            field_indent: None,
            title_open: true,
            quiet: false,
            blank_seen: false,
            overflow: false,
        });
    }

    fn in_record(&mut self, n: usize, indent: usize, content: &'a str) {
        let Some(b) = self.current.as_mut() else {
            return;
        };
        if b.awaiting_type {
            b.awaiting_type = false;
            if let Some(rest) = content.strip_prefix("DMI type ") {
                let header = parse_header_tail(rest);
                b.record.dmi_type = header.dmi_type;
                b.record.length = header.length;
                return;
            }
        }
        let Some(title_indent) = b.title_indent else {
            b.title_indent = Some(indent);
            b.record.title = content;
            return;
        };
        let stray = indent <= title_indent;
        match b.field_indent {
            None if stray && b.title_open => {
                // A message between the header and the title: the later line is the title.
                let old = std::mem::replace(&mut b.record.title, content);
                b.record.notes.push(old);
            }
            None if !stray => {
                b.field_indent = Some(indent);
                b.title_open = false;
                add_field(b, n, content);
            }
            Some(field_indent) if !stray => {
                if indent <= field_indent {
                    add_field(b, n, content);
                } else {
                    add_item(b, n, content);
                }
            }
            // Types 10 and 40 list several devices in one structure, each under an
            // unindented heading (`On Board Device 2 Information`): kept as a field with no
            // value, so the fields after it stay in order under it.
            Some(_) if !b.blank_seen => add_field(b, n, content),
            _ => {
                b.record.notes.push(content);
                let line = b.record.line;
                self.issue(
                    n,
                    format!(
                        "`{}` after the record of line {line} kept as a note",
                        cut(content, 80)
                    ),
                );
            }
        }
    }

    fn finish_record(&mut self) {
        if let Some(b) = self.current.take() {
            if b.overflow {
                self.issue(
                    b.record.line,
                    format!(
                        "record has more than {MAX_TEXT_FIELDS} fields or a field more than \
                         {MAX_TEXT_ITEMS} list values; the rest is dropped"
                    ),
                );
            }
            self.out.records.push(b.record);
        }
    }
}

fn add_field<'a>(b: &mut Builder<'a>, n: usize, content: &'a str) {
    if b.record.fields.len() >= MAX_TEXT_FIELDS {
        b.overflow = true;
        return;
    }
    let (key, value) = match content.find(": ") {
        Some(at) => (
            content.get(..at).unwrap_or_default(),
            content.get(at + 2..).unwrap_or_default().trim_start(),
        ),
        None => (content.strip_suffix(':').unwrap_or(content), ""),
    };
    b.record.fields.push(Field {
        line: n,
        key,
        value,
        items: Vec::new(),
    });
}

fn add_item<'a>(b: &mut Builder<'a>, n: usize, content: &'a str) {
    match b.record.fields.last_mut() {
        Some(f) if f.items.len() < MAX_TEXT_ITEMS => f.items.push(content),
        Some(_) => b.overflow = true,
        None => add_field(b, n, content),
    }
}

/// Width of the leading blanks (tabs to the next multiple of 8) and the rest of the line.
fn split_indent(line: &str) -> (usize, &str) {
    let mut width = 0usize;
    for (i, c) in line.char_indices() {
        match c {
            ' ' => width += 1,
            '\t' => width = (width / 8 + 1) * 8,
            _ => return (width, line.get(i..).unwrap_or_default()),
        }
    }
    (width, "")
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

struct Header {
    handle: Option<u16>,
    dmi_type: Option<u8>,
    length: Option<u16>,
    problem: Option<String>,
}

/// `Handle 0x0002, DMI type 2, 15 bytes` (or `Handle 0x0002` alone).
fn parse_header(content: &str) -> Header {
    let rest = content.strip_prefix("Handle ").unwrap_or(content);
    let (handle_text, tail) = match rest.split_once(',') {
        Some((h, t)) => (h.trim(), Some(t)),
        None => (rest.trim(), None),
    };
    let handle = handle_text
        .strip_prefix("0x")
        .or_else(|| handle_text.strip_prefix("0X"))
        .and_then(|h| u16::from_str_radix(h, 16).ok());
    let mut header = match tail {
        Some(t) => parse_header_tail(t.trim_start().strip_prefix("DMI type ").unwrap_or(t)),
        None => Header {
            handle: None,
            dmi_type: None,
            length: None,
            problem: None,
        },
    };
    header.handle = handle;
    if handle.is_none() {
        header.problem = Some("handle is not a 16-bit hex number".into());
    } else if tail.is_some() && header.dmi_type.is_none() {
        header.problem = Some("no DMI type".into());
    }
    header
}

/// `2, 15 bytes` (or `2, 15 bytes.` in old versions).
fn parse_header_tail(tail: &str) -> Header {
    let (ty, len) = tail.split_once(',').unwrap_or((tail, ""));
    let length = len
        .trim()
        .trim_end_matches('.')
        .strip_suffix(" bytes")
        .and_then(|l| l.trim().parse().ok());
    Header {
        handle: None,
        dmi_type: ty.trim().parse().ok(),
        length,
        problem: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_inside_a_record_become_fields() {
        let t = "Handle 0x002A, DMI type 10, 10 bytes\nOn Board Device 1 Information\n\t\
            Type: Ethernet\n\tDescription: Intel 82574L\nOn Board Device 2 Information\n\t\
            Type: Video\n";
        let t = parse_dmidecode_text(t).unwrap();
        let keys: Vec<&str> = t.records[0].fields.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "Type",
                "Description",
                "On Board Device 2 Information",
                "Type"
            ]
        );
        assert!(t.issues.is_empty());
    }

    const SAMPLE: &str = "# dmidecode 3.2\nGetting SMBIOS data from sysfs.\nSMBIOS 3.1 present.\n\
        46 structures occupying 1833 bytes.\n\nHandle 0x0200, DMI type 2, 8 bytes\n\
        Base Board Information\n\tManufacturer: Dell Inc.\n\tProduct Name: 045M96\n\t\
        Features:\n\t\tBoard is a hosting board\n\t\tBoard is replaceable\n\tSerial Number: --\n\n\
        Handle 0x0074, DMI type 34, 16 bytes\nInvalid entry length (16). Fixed up to 11.\n\
        Management Device\n\tDescription: LM78-2\n\nHandle 0x7F00, DMI type 127, 4 bytes\n\
        End Of Table\n\nWrong DMI structures count: 47, should be 46.\n";

    #[test]
    fn reads_headers_titles_fields_and_lists() {
        let t = parse_dmidecode_text(SAMPLE).unwrap();
        assert_eq!(t.dmidecode_version, Some("3.2"));
        assert_eq!(t.smbios_version, Some("3.1"));
        assert_eq!(t.records.len(), 3);
        let board = &t.records[0];
        assert_eq!(
            (board.handle, board.dmi_type, board.length, board.line),
            (Some(0x200), Some(2), Some(8), 6)
        );
        assert_eq!(board.title, "Base Board Information");
        assert_eq!(board.get("Product Name"), Some("045M96"));
        assert_eq!(board.get("Serial Number"), Some("--"));
        let features = board.field("Features").unwrap();
        assert_eq!(features.value, "");
        assert_eq!(
            features.items,
            ["Board is a hosting board", "Board is replaceable"]
        );
        assert_eq!(t.records[1].title, "Management Device");
        assert_eq!(
            t.records[1].notes,
            ["Invalid entry length (16). Fixed up to 11."]
        );
        assert_eq!(t.records[2].title, "End Of Table");
        assert_eq!(
            t.records[2].notes,
            ["Wrong DMI structures count: 47, should be 46."]
        );
        assert_eq!(t.issues.len(), 1);
        assert_eq!(t.issues[0].line, 23);
    }

    #[test]
    fn reads_the_old_two_line_header_and_spaces_for_tabs() {
        let old =
            "# dmidecode 2.7\nSMBIOS 2.3 present.\n\nHandle 0x0001\n\tDMI type 1, 25 bytes.\n\t\
            System Information\n\t\tManufacturer: IBM\n\t\tProduct Name: eServer 326\n";
        let t = parse_dmidecode_text(old).unwrap();
        let r = &t.records[0];
        assert_eq!(
            (r.handle, r.dmi_type, r.length),
            (Some(1), Some(1), Some(25))
        );
        assert_eq!(r.title, "System Information");
        assert_eq!(r.get("Product Name"), Some("eServer 326"));
        let spaces = "Handle 0x0018, DMI type 39, 22 bytes\nSystem Power Supply\n        \
            Location: PSU1\n        Characteristics:\n                Hot replaceable\n";
        let t = parse_dmidecode_text(spaces).unwrap();
        assert_eq!(t.records[0].get("Location"), Some("PSU1"));
        assert_eq!(t.records[0].fields[1].items, ["Hot replaceable"]);
    }

    #[test]
    fn reads_quiet_output_without_handles() {
        let q = "System Information\n\tManufacturer: Supermicro\n\tSerial Number: 0123456789\n\n\
            Base Board Information\n\tProduct Name: X11DPH-T\n";
        let t = parse_dmidecode_text(q).unwrap();
        assert_eq!(t.records.len(), 2);
        assert_eq!(t.records[0].kind(), Some(1));
        assert_eq!(t.records[1].kind(), Some(2));
        assert_eq!(t.records[1].source_ref(), "type 2 line 5");
        assert_eq!(t.records[1].get("Product Name"), Some("X11DPH-T"));
    }

    #[test]
    fn text_without_records_is_an_error_with_a_line() {
        for bad in ["", "hello\nworld\n", "\0\0\0\x01", "\tindented only\n"] {
            let err = parse_dmidecode_text(bad).unwrap_err();
            assert!(
                matches!(err, Error::Text { line, .. } if line >= 1),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn header_variants() {
        let h = parse_header("Handle 0xDA00, DMI type 218, 17 bytes");
        assert_eq!(
            (h.handle, h.dmi_type, h.length),
            (Some(0xda00), Some(218), Some(17))
        );
        assert!(h.problem.is_none());
        let h = parse_header("Handle 0x12345, DMI type 999, x bytes");
        assert_eq!((h.handle, h.dmi_type, h.length), (None, None, None));
        assert!(h.problem.is_some());
    }
}
