//! Zeek TSV logs (the ASCII writer's format): header directives, then one row per line.
//!
//! The header is the leading `#` lines: `#separator` (its value written with `\xNN` escapes),
//! `#set_separator`, `#empty_field`, `#unset_field`, `#path`, `#open`, `#fields`, `#types`;
//! `#close` ends a log. Columns are found by name from `#fields`, so any order works (RITA's
//! logs start with `_node_name`). Unset (`-`) and empty (`(empty)`) values read as absent.
//! Lines may end in CRLF. IoT-23's logs separate their last three columns with three spaces
//! instead of a tab, in `#fields` and in rows alike; [`Header::parse`] detects that and rows are
//! split the same way.
//!
//! Two ways in: [`ConnParser`], the fast conn-only path over chunks of whole lines (share it
//! across threads, one chunk each), and [`LogParser`] for any of conn, dns, ssl and http into
//! [`Record`]s. [`parse_log`] does a whole log held in memory.

use std::sync::Arc;

use crate::error::{bad_row, Error, Location, Mode, Options, ReadStats};
use crate::model::{Conn, ConnState, ConnStateOther, Dns, Http, Proto, Record, Ssl};
use crate::text::{self, Interner};

/// Longest line accepted (bytes).
pub const MAX_LINE: usize = 1 << 20;
/// Most fields per line.
pub const MAX_FIELDS: usize = 256;
/// Most header lines before the first row.
const MAX_HEADER_LINES: u64 = 256;
/// Most answers kept per DNS row.
const MAX_ANSWERS: usize = 64;

/// Which log a file is, for the logs this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// `conn.log`.
    Conn,
    /// `dns.log`.
    Dns,
    /// `ssl.log`.
    Ssl,
    /// `http.log`.
    Http,
}

impl LogKind {
    /// The kind named by a `#path` value (`conn`, `dns`, `ssl`, `http`), else `None`.
    pub fn from_path(path: &str) -> Option<LogKind> {
        match path.trim() {
            "conn" => Some(LogKind::Conn),
            "dns" => Some(LogKind::Dns),
            "ssl" => Some(LogKind::Ssl),
            "http" => Some(LogKind::Http),
            _ => None,
        }
    }

    /// The kind a file name suggests: a `conn`/`dns`/`ssl`/`http` word in it, e.g.
    /// `conn.15_00_00-16_00_00.log.gz`, `conn.log.labeled`, `labeled-conn.log`.
    pub fn from_file_name(name: &str) -> Option<LogKind> {
        let lower = name.to_ascii_lowercase();
        lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find_map(LogKind::from_path)
    }
}

/// A parsed Zeek TSV header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Field separator (one byte; a tab in every Zeek log).
    pub separator: u8,
    /// Separator between the elements of a set or vector.
    pub set_separator: Vec<u8>,
    /// How an empty set is written (`(empty)`).
    pub empty_field: Vec<u8>,
    /// How an unset value is written (`-`).
    pub unset_field: Vec<u8>,
    /// `#path` (`conn`, `dns`, ...), when given.
    pub path: Option<String>,
    /// `#open`, when given.
    pub open: Option<String>,
    /// Column names from `#fields`.
    pub fields: Vec<String>,
    /// Column types from `#types` (may be empty).
    pub types: Vec<String>,
    /// The separator-delimited column that holds several fields separated by three spaces
    /// (the IoT-23 quirk), when there is one.
    pub space_split_column: Option<usize>,
    /// Length of the header in bytes: rows start at this offset.
    pub len: usize,
    /// Number of header lines.
    pub lines: u64,
}

impl Header {
    /// Parses the header at the start of `bytes` (which may hold more than the header: rows
    /// after it are not read). Errors when `#separator` or `#fields` is missing.
    pub fn parse(bytes: &[u8]) -> Result<Header, Error> {
        let mut h = Header {
            separator: b'\t',
            set_separator: b",".to_vec(),
            empty_field: b"(empty)".to_vec(),
            unset_field: b"-".to_vec(),
            path: None,
            open: None,
            fields: Vec::new(),
            types: Vec::new(),
            space_split_column: None,
            len: 0,
            lines: 0,
        };
        let mut pos = 0usize;
        let mut line_no = 0u64;
        let mut saw_separator = false;
        while let Some(rest) = bytes.get(pos..) {
            if !rest.starts_with(b"#") {
                break;
            }
            line_no += 1;
            if line_no > MAX_HEADER_LINES {
                return Err(Error::limit(
                    Location::Line(line_no),
                    "header lines",
                    MAX_HEADER_LINES,
                ));
            }
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (rest.get(..i).unwrap_or(rest), pos + i + 1),
                None => (rest, bytes.len()),
            };
            if line.len() > MAX_LINE {
                return Err(Error::limit(
                    Location::Line(line_no),
                    "line length",
                    MAX_LINE as u64,
                ));
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            pos = next;
            if let Some(v) = line.strip_prefix(b"#separator ") {
                let sep = unescape(v);
                match sep.as_slice() {
                    [b] => h.separator = *b,
                    _ => {
                        return Err(Error::malformed(
                            Location::Line(line_no),
                            format!(
                                "expected a one-byte #separator, found '{}'",
                                text::string(v)
                            ),
                        ))
                    }
                }
                saw_separator = true;
                continue;
            }
            if !saw_separator {
                return Err(Error::malformed(
                    Location::Line(line_no),
                    "expected #separator first",
                ));
            }
            let (name, value) = match memchr::memchr(h.separator, line) {
                Some(i) => (
                    line.get(1..i).unwrap_or(&[]),
                    line.get(i + 1..).unwrap_or(&[]),
                ),
                None => (line.get(1..).unwrap_or(&[]), &b""[..]),
            };
            match name {
                b"set_separator" => h.set_separator = unescape(value),
                b"empty_field" => h.empty_field = unescape(value),
                b"unset_field" => h.unset_field = unescape(value),
                b"path" => h.path = Some(text::string(value)),
                b"open" => h.open = Some(text::string(value)),
                b"fields" => {
                    let (names, split) = split_names(value, h.separator, line_no)?;
                    h.fields = names;
                    h.space_split_column = split;
                }
                b"types" => h.types = split_names(value, h.separator, line_no)?.0,
                _ => {}
            }
        }
        if !saw_separator {
            return Err(Error::malformed(
                Location::Line(1),
                "expected a Zeek '#separator' line",
            ));
        }
        if h.fields.is_empty() {
            return Err(Error::malformed(
                Location::Line(line_no.max(1)),
                "expected a #fields line",
            ));
        }
        h.len = pos;
        h.lines = line_no;
        Ok(h)
    }

    /// Which log this is: `#path` when it names one, else the file name, else `None`.
    pub fn kind(&self, file_name: Option<&str>) -> Option<LogKind> {
        if let Some(p) = &self.path {
            return LogKind::from_path(p);
        }
        file_name.and_then(LogKind::from_file_name)
    }

    /// Index of the column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }
}

/// Splits a `#fields`/`#types` value, also on three spaces (the IoT-23 quirk).
fn split_names(value: &[u8], sep: u8, line_no: u64) -> Result<(Vec<String>, Option<usize>), Error> {
    let mut names = Vec::new();
    let mut split = None;
    for (i, part) in value.split(|&b| b == sep).enumerate() {
        if memchr::memmem::find(part, b"   ").is_some() {
            split.get_or_insert(i);
            for sub in split_spaces(part) {
                names.push(text::string(sub));
            }
        } else {
            names.push(text::string(part));
        }
        if names.len() > MAX_FIELDS {
            return Err(Error::limit(
                Location::Line(line_no),
                "fields",
                MAX_FIELDS as u64,
            ));
        }
    }
    Ok((names, split))
}

/// Splits on runs of three spaces.
fn split_spaces(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memmem::find(r, b"   ") {
            Some(i) => {
                rest = r.get(i + 3..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Decodes `\xNN` escapes (as in `#separator \x09`).
fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while let Some(&b) = v.get(i) {
        if b == b'\\' && v.get(i + 1) == Some(&b'x') {
            let hex = v
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(n) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(n);
                i += 4;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// How rows are split and which values mean "absent".
#[derive(Debug, Clone)]
struct RowFormat {
    separator: u8,
    space_split_column: Option<usize>,
    unset: Vec<u8>,
    empty: Vec<u8>,
    set_separator: Vec<u8>,
    names: Vec<String>,
    mode: Mode,
}

impl RowFormat {
    fn new(h: &Header, options: &Options) -> Self {
        RowFormat {
            separator: h.separator,
            space_split_column: h.space_split_column,
            unset: h.unset_field.clone(),
            empty: h.empty_field.clone(),
            set_separator: h.set_separator.clone(),
            names: h.fields.clone(),
            mode: options.mode,
        }
    }

    /// Splits `line` into `out`; errors on a field count that differs from `#fields`.
    fn split<'a>(
        &self,
        line: &'a [u8],
        line_no: u64,
        out: &mut Vec<&'a [u8]>,
    ) -> Result<(), Error> {
        out.clear();
        for (i, part) in memchr::memchr_iter(self.separator, line)
            .map(Some)
            .chain(std::iter::once(None))
            .scan(0usize, |start, end| {
                let s = *start;
                let e = end.unwrap_or(line.len());
                *start = e + 1;
                Some(line.get(s..e).unwrap_or(&[]))
            })
            .enumerate()
        {
            if out.len() >= MAX_FIELDS {
                return Err(Error::limit(
                    Location::Line(line_no),
                    "fields",
                    MAX_FIELDS as u64,
                ));
            }
            if Some(i) == self.space_split_column {
                for sub in split_spaces(part) {
                    out.push(sub);
                }
            } else {
                out.push(part);
            }
        }
        if out.len() != self.names.len() {
            return Err(Error::malformed(
                Location::Line(line_no),
                format!("expected {} fields, found {}", self.names.len(), out.len()),
            ));
        }
        Ok(())
    }

    /// The value at column `idx`, `None` when the column is absent or the value unset/empty.
    fn get<'a>(&self, fields: &[&'a [u8]], idx: Option<usize>) -> Option<&'a [u8]> {
        let v = *fields.get(idx?)?;
        if v.is_empty() || v == self.unset.as_slice() || v == self.empty.as_slice() {
            None
        } else {
            Some(v)
        }
    }

    fn name(&self, idx: Option<usize>) -> &str {
        idx.and_then(|i| self.names.get(i))
            .map_or("?", String::as_str)
    }

    /// A required value parsed by `parse`.
    fn req<T>(
        &self,
        fields: &[&[u8]],
        idx: Option<usize>,
        line: u64,
        expected: &'static str,
        parse: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<T, Error> {
        let raw = idx.and_then(|i| fields.get(i).copied()).unwrap_or(b"");
        parse(raw).ok_or_else(|| Error::field(line, self.name(idx), expected, raw))
    }

    /// An optional value parsed by `parse`: absent is `Ok(None)`, malformed is an error.
    fn opt<T>(
        &self,
        fields: &[&[u8]],
        idx: Option<usize>,
        line: u64,
        expected: &'static str,
        parse: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<Option<T>, Error> {
        match self.get(fields, idx) {
            None => Ok(None),
            Some(v) => parse(v)
                .map(Some)
                .ok_or_else(|| Error::field(line, self.name(idx), expected, v)),
        }
    }
}

/// Calls `f(line_no, line)` for every data line of `chunk` (comment and blank lines skipped,
/// CR stripped), with strict/lenient handling of the errors `f` returns.
fn for_each_row<'a>(
    chunk: &'a [u8],
    first_line: u64,
    mode: Mode,
    stats: &mut ReadStats,
    mut f: impl FnMut(u64, &'a [u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut line_no = first_line;
    let mut start = 0usize;
    while start < chunk.len() {
        let rest = chunk.get(start..).unwrap_or(&[]);
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (rest.get(..i).unwrap_or(rest), start + i + 1),
            None => (rest, chunk.len()),
        };
        start = next;
        let this_line = line_no;
        line_no += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.first() == Some(&b'#') {
            continue;
        }
        if line.len() > MAX_LINE {
            bad_row(
                mode,
                stats,
                Error::limit(Location::Line(this_line), "line length", MAX_LINE as u64),
            )?;
            continue;
        }
        match f(this_line, line) {
            Ok(()) => stats.rows_read += 1,
            Err(e) => bad_row(mode, stats, e)?,
        }
    }
    Ok(())
}

/// Column indices of a conn log.
#[derive(Debug, Clone, Default)]
struct ConnColumns {
    ts: Option<usize>,
    orig_h: Option<usize>,
    orig_p: Option<usize>,
    resp_h: Option<usize>,
    resp_p: Option<usize>,
    proto: Option<usize>,
    service: Option<usize>,
    duration: Option<usize>,
    orig_bytes: Option<usize>,
    resp_bytes: Option<usize>,
    conn_state: Option<usize>,
    orig_pkts: Option<usize>,
    orig_ip_bytes: Option<usize>,
    resp_pkts: Option<usize>,
    resp_ip_bytes: Option<usize>,
    label: Option<usize>,
    detailed: Option<usize>,
}

/// The label columns Stratosphere and IoT-23 add.
fn label_columns(h: &Header) -> (Option<usize>, Option<usize>) {
    let label = h.column("label");
    let detailed = h
        .column("detailedlabel")
        .or_else(|| h.column("detailed-label"));
    (label, detailed)
}

/// Errors unless the columns every record needs are present.
fn require(h: &Header, names: &[&str]) -> Result<(), Error> {
    for n in names {
        if h.column(n).is_none() {
            return Err(Error::malformed(
                Location::Line(h.lines.max(1)),
                format!("#fields lacks the column {n}"),
            ));
        }
    }
    Ok(())
}

/// Per-call scratch: the row's fields and the string caches.
struct Scratch<'a> {
    fields: Vec<&'a [u8]>,
    strings: Interner,
    key: Vec<u8>,
}

impl Scratch<'_> {
    fn new() -> Self {
        Scratch {
            fields: Vec::with_capacity(32),
            strings: Interner::default(),
            key: Vec::new(),
        }
    }
}

/// The fast conn-only reader: build once from the header, then parse chunks of whole lines,
/// from as many threads as you like (`&self`).
///
/// Per row it allocates nothing: fields are slices of the chunk and `service`/`label` strings
/// come from a small per-call cache of shared strings.
#[derive(Debug, Clone)]
pub struct ConnParser {
    fmt: RowFormat,
    cols: ConnColumns,
}

impl ConnParser {
    /// A parser for the conn log whose header is `header`. Errors when `ts` or an `id.*`
    /// column is missing.
    pub fn new(header: &Header, options: &Options) -> Result<ConnParser, Error> {
        require(
            header,
            &["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"],
        )?;
        let (label, detailed) = label_columns(header);
        let c = |n: &str| header.column(n);
        let cols = ConnColumns {
            ts: c("ts"),
            orig_h: c("id.orig_h"),
            orig_p: c("id.orig_p"),
            resp_h: c("id.resp_h"),
            resp_p: c("id.resp_p"),
            proto: c("proto"),
            service: c("service"),
            duration: c("duration"),
            orig_bytes: c("orig_bytes"),
            resp_bytes: c("resp_bytes"),
            conn_state: c("conn_state"),
            orig_pkts: c("orig_pkts"),
            orig_ip_bytes: c("orig_ip_bytes"),
            resp_pkts: c("resp_pkts"),
            resp_ip_bytes: c("resp_ip_bytes"),
            label,
            detailed,
        };
        Ok(ConnParser {
            fmt: RowFormat::new(header, options),
            cols,
        })
    }

    /// Parses every row of `chunk` (whole lines; `#` lines skipped) onto `out`. Line numbers in
    /// errors count from 1 at the chunk's start; see [`ConnParser::parse_chunk_at`].
    pub fn parse_chunk(&self, chunk: &[u8], out: &mut Vec<Conn>) -> Result<ReadStats, Error> {
        self.parse_chunk_at(chunk, 1, out)
    }

    /// As [`ConnParser::parse_chunk`], numbering `chunk`'s first line `first_line`.
    pub fn parse_chunk_at(
        &self,
        chunk: &[u8],
        first_line: u64,
        out: &mut Vec<Conn>,
    ) -> Result<ReadStats, Error> {
        let mut stats = ReadStats::default();
        let mut s = Scratch::new();
        for_each_row(chunk, first_line, self.fmt.mode, &mut stats, |n, line| {
            let conn = self.row(line, n, &mut s)?;
            out.push(conn);
            Ok(())
        })?;
        stats.records = stats.rows_read;
        Ok(stats)
    }

    fn row<'a>(&self, line: &'a [u8], n: u64, s: &mut Scratch<'a>) -> Result<Conn, Error> {
        let f = &self.fmt;
        let c = &self.cols;
        f.split(line, n, &mut s.fields)?;
        let fl = &s.fields;
        let count = |idx, name| {
            f.opt(fl, idx, n, name, text::parse_u64)
                .map(Option::unwrap_or_default)
        };
        let conn = Conn {
            ts: f.req(fl, c.ts, n, "a time", text::parse_f64)?,
            src: f.req(fl, c.orig_h, n, "an IP address", text::parse_ip)?,
            sport: f.req(fl, c.orig_p, n, "a port number", text::parse_u16)?,
            dst: f.req(fl, c.resp_h, n, "an IP address", text::parse_ip)?,
            dport: f.req(fl, c.resp_p, n, "a port number", text::parse_u16)?,
            proto: f.get(fl, c.proto).map_or(Proto::Other(0), parse_proto),
            service: f.get(fl, c.service).map(|v| s.strings.get(v)),
            duration: f
                .opt(fl, c.duration, n, "an interval", text::parse_f64)?
                .unwrap_or(0.0),
            orig_bytes: count(c.orig_bytes, "a count")?,
            resp_bytes: count(c.resp_bytes, "a count")?,
            orig_ip_bytes: count(c.orig_ip_bytes, "a count")?,
            resp_ip_bytes: count(c.resp_ip_bytes, "a count")?,
            orig_pkts: count(c.orig_pkts, "a count")?,
            resp_pkts: count(c.resp_pkts, "a count")?,
            conn_state: f
                .get(fl, c.conn_state)
                .map_or(ConnState::Oth, parse_conn_state),
            label: label(f, fl, c.label, c.detailed, &mut s.strings, &mut s.key),
        };
        Ok(conn)
    }
}

/// `label` or `label/detailed`, shared.
fn label(
    f: &RowFormat,
    fields: &[&[u8]],
    label: Option<usize>,
    detailed: Option<usize>,
    strings: &mut Interner,
    key: &mut Vec<u8>,
) -> Option<Arc<str>> {
    let l = f.get(fields, label)?;
    match f.get(fields, detailed) {
        None => Some(strings.get(l)),
        Some(d) => {
            key.clear();
            key.extend_from_slice(l);
            key.push(b'/');
            key.extend_from_slice(d);
            Some(strings.get(key))
        }
    }
}

/// Zeek's `proto` enum.
pub(crate) fn parse_proto(v: &[u8]) -> Proto {
    match v {
        b"tcp" => Proto::Tcp,
        b"udp" => Proto::Udp,
        b"icmp" | b"icmp6" => Proto::Icmp,
        _ => Proto::Other(0),
    }
}

/// Zeek's `conn_state` names.
pub(crate) fn parse_conn_state(v: &[u8]) -> ConnState {
    match v {
        b"S0" => ConnState::S0,
        b"S1" => ConnState::S1,
        b"SF" => ConnState::Sf,
        b"REJ" => ConnState::Rej,
        b"S2" => ConnState::Other(ConnStateOther::S2),
        b"S3" => ConnState::Other(ConnStateOther::S3),
        b"RSTO" => ConnState::Other(ConnStateOther::Rsto),
        b"RSTR" => ConnState::Other(ConnStateOther::Rstr),
        b"RSTOS0" => ConnState::Other(ConnStateOther::Rstos0),
        b"RSTRH" => ConnState::Other(ConnStateOther::Rstrh),
        b"SH" => ConnState::Other(ConnStateOther::Sh),
        b"SHR" => ConnState::Other(ConnStateOther::Shr),
        _ => ConnState::Oth,
    }
}

/// DNS query type numbers by name (RFC 1035 §3.2.2, RFC 3596, IANA registry).
pub(crate) fn qtype_from_name(name: &[u8]) -> Option<u16> {
    let n = match name.to_ascii_uppercase().as_slice() {
        b"A" => 1,
        b"NS" => 2,
        b"CNAME" => 5,
        b"SOA" => 6,
        b"NULL" => 10,
        b"WKS" => 11,
        b"PTR" => 12,
        b"HINFO" => 13,
        b"MX" => 15,
        b"TXT" => 16,
        b"AAAA" => 28,
        b"SRV" => 33,
        b"NAPTR" => 35,
        b"DS" => 43,
        b"RRSIG" => 46,
        b"NSEC" => 47,
        b"DNSKEY" => 48,
        b"SVCB" => 64,
        b"HTTPS" => 65,
        b"AXFR" => 252,
        b"ANY" | b"*" => 255,
        b"CAA" => 257,
        other => {
            // Zeek writes unknown types as `unknown-NN`, tshark as `TYPENN`.
            let digits = other
                .strip_prefix(b"UNKNOWN-")
                .or_else(|| other.strip_prefix(b"TYPE"))?;
            return text::parse_u16(digits);
        }
    };
    Some(n)
}

/// DNS response codes by name (RFC 1035 §4.1.1, RFC 2136).
pub(crate) fn rcode_from_name(name: &[u8]) -> Option<u16> {
    let n = match name.to_ascii_uppercase().as_slice() {
        b"NOERROR" => 0,
        b"FORMERR" => 1,
        b"SERVFAIL" => 2,
        b"NXDOMAIN" => 3,
        b"NOTIMP" => 4,
        b"REFUSED" => 5,
        b"YXDOMAIN" => 6,
        b"YXRRSET" => 7,
        b"NXRRSET" => 8,
        b"NOTAUTH" => 9,
        b"NOTZONE" => 10,
        other => return text::parse_u16(other.strip_prefix(b"UNKNOWN-").unwrap_or(other)),
    };
    Some(n)
}

/// Column indices shared by dns, ssl and http logs.
#[derive(Debug, Clone, Default)]
struct IdColumns {
    ts: Option<usize>,
    orig_h: Option<usize>,
    orig_p: Option<usize>,
    resp_h: Option<usize>,
    resp_p: Option<usize>,
}

impl IdColumns {
    fn new(h: &Header) -> Result<Self, Error> {
        require(
            h,
            &["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"],
        )?;
        Ok(IdColumns {
            ts: h.column("ts"),
            orig_h: h.column("id.orig_h"),
            orig_p: h.column("id.orig_p"),
            resp_h: h.column("id.resp_h"),
            resp_p: h.column("id.resp_p"),
        })
    }
}

/// Which columns a non-conn log reader uses.
#[derive(Debug, Clone)]
enum Columns {
    Conn(ConnParser),
    Dns {
        id: IdColumns,
        proto: Option<usize>,
        query: Option<usize>,
        qtype: Option<usize>,
        qtype_name: Option<usize>,
        rcode: Option<usize>,
        rcode_name: Option<usize>,
        answers: Option<usize>,
    },
    Ssl {
        id: IdColumns,
        server_name: Option<usize>,
    },
    Http {
        id: IdColumns,
        method: Option<usize>,
        host: Option<usize>,
        uri: Option<usize>,
        user_agent: Option<usize>,
        request_body_len: Option<usize>,
        response_body_len: Option<usize>,
        label: Option<usize>,
        detailed: Option<usize>,
    },
}

/// A reader for any of the conn, dns, ssl and http logs into [`Record`]s.
#[derive(Debug, Clone)]
pub struct LogParser {
    kind: LogKind,
    fmt: RowFormat,
    cols: Columns,
}

impl LogParser {
    /// A parser for the log of `kind` whose header is `header`.
    pub fn new(header: &Header, kind: LogKind, options: &Options) -> Result<LogParser, Error> {
        let c = |n: &str| header.column(n);
        let cols = match kind {
            LogKind::Conn => Columns::Conn(ConnParser::new(header, options)?),
            LogKind::Dns => Columns::Dns {
                id: IdColumns::new(header)?,
                proto: c("proto"),
                query: c("query"),
                qtype: c("qtype"),
                qtype_name: c("qtype_name"),
                rcode: c("rcode"),
                rcode_name: c("rcode_name"),
                answers: c("answers"),
            },
            LogKind::Ssl => Columns::Ssl {
                id: IdColumns::new(header)?,
                server_name: c("server_name"),
            },
            LogKind::Http => {
                let (label, detailed) = label_columns(header);
                Columns::Http {
                    id: IdColumns::new(header)?,
                    method: c("method"),
                    host: c("host"),
                    uri: c("uri"),
                    user_agent: c("user_agent"),
                    request_body_len: c("request_body_len"),
                    response_body_len: c("response_body_len"),
                    label,
                    detailed,
                }
            }
        };
        Ok(LogParser {
            kind,
            fmt: RowFormat::new(header, options),
            cols,
        })
    }

    /// The log kind this parser reads.
    pub fn kind(&self) -> LogKind {
        self.kind
    }

    /// Parses every row of `chunk` (whole lines), numbering its first line `first_line`, and
    /// hands each record to `sink`.
    pub fn parse_chunk_at(
        &self,
        chunk: &[u8],
        first_line: u64,
        sink: &mut dyn FnMut(Record),
    ) -> Result<ReadStats, Error> {
        let mut stats = ReadStats::default();
        let mut s = Scratch::new();
        if let Columns::Conn(p) = &self.cols {
            for_each_row(chunk, first_line, self.fmt.mode, &mut stats, |n, line| {
                sink(Record::Conn(p.row(line, n, &mut s)?));
                Ok(())
            })?;
        } else {
            for_each_row(chunk, first_line, self.fmt.mode, &mut stats, |n, line| {
                sink(self.row(line, n, &mut s)?);
                Ok(())
            })?;
        }
        stats.records = stats.rows_read;
        Ok(stats)
    }

    fn row<'a>(&self, line: &'a [u8], n: u64, s: &mut Scratch<'a>) -> Result<Record, Error> {
        let f = &self.fmt;
        f.split(line, n, &mut s.fields)?;
        let fl = &s.fields;
        let ids = |id: &IdColumns| -> Result<_, Error> {
            Ok((
                f.req(fl, id.ts, n, "a time", text::parse_f64)?,
                f.req(fl, id.orig_h, n, "an IP address", text::parse_ip)?,
                f.req(fl, id.orig_p, n, "a port number", text::parse_u16)?,
                f.req(fl, id.resp_h, n, "an IP address", text::parse_ip)?,
                f.req(fl, id.resp_p, n, "a port number", text::parse_u16)?,
            ))
        };
        let rec = match &self.cols {
            Columns::Conn(p) => Record::Conn(p.row(line, n, s)?),
            Columns::Dns {
                id,
                proto,
                query,
                qtype,
                qtype_name,
                rcode,
                rcode_name,
                answers,
            } => {
                let (ts, src, _, dst, dport) = ids(id)?;
                let qtype = match f.opt(fl, *qtype, n, "a query type number", text::parse_u16)? {
                    Some(q) => q,
                    None => f
                        .opt(fl, *qtype_name, n, "a query type name", qtype_from_name)?
                        .unwrap_or(0),
                };
                let rcode = match f.opt(fl, *rcode, n, "a response code", text::parse_u16)? {
                    Some(r) => Some(r),
                    None => f.opt(fl, *rcode_name, n, "a response code name", rcode_from_name)?,
                };
                let answers = f.get(fl, *answers).map_or_else(Vec::new, |v| {
                    split_set(v, &f.set_separator)
                        .take(MAX_ANSWERS)
                        .map(text::string)
                        .collect()
                });
                Record::Dns(Dns {
                    ts,
                    src,
                    dst,
                    dport,
                    proto: f.get(fl, *proto).map_or(Proto::Udp, parse_proto),
                    query: f
                        .get(fl, *query)
                        .map(text::lower_string)
                        .unwrap_or_default(),
                    qtype,
                    rcode,
                    answers,
                })
            }
            Columns::Ssl { id, server_name } => {
                let (ts, src, sport, dst, dport) = ids(id)?;
                Record::Ssl(Ssl {
                    ts,
                    src,
                    sport,
                    dst,
                    dport,
                    server_name: f.get(fl, *server_name).map(text::lower_string),
                })
            }
            Columns::Http {
                id,
                method,
                host,
                uri,
                user_agent,
                request_body_len,
                response_body_len,
                label: l,
                detailed,
            } => {
                let (ts, src, sport, dst, dport) = ids(id)?;
                Record::Http(Http {
                    ts,
                    src,
                    sport,
                    dst,
                    dport,
                    method: f.get(fl, *method).map(text::string),
                    host: f.get(fl, *host).map(text::host_without_port),
                    uri: f.get(fl, *uri).map(text::string),
                    user_agent: f.get(fl, *user_agent).map(text::string),
                    request_body_len: f
                        .opt(fl, *request_body_len, n, "a count", text::parse_u64)?
                        .unwrap_or(0),
                    response_body_len: f
                        .opt(fl, *response_body_len, n, "a count", text::parse_u64)?
                        .unwrap_or(0),
                    label: label(f, fl, *l, *detailed, &mut s.strings, &mut s.key),
                })
            }
        };
        Ok(rec)
    }
}

/// Splits a set/vector value on the set separator.
fn split_set<'a>(v: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(v);
    std::iter::from_fn(move || {
        let r = rest?;
        match (!sep.is_empty())
            .then(|| memchr::memmem::find(r, sep))
            .flatten()
        {
            Some(i) => {
                rest = r.get(i + sep.len()..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Reads a whole Zeek TSV log held in memory. `file_name` decides the kind when the header has
/// no `#path`. Returns `Ok(None)` when the log is not a conn/dns/ssl/http log.
pub fn parse_log(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<Option<ReadStats>, Error> {
    let header = Header::parse(bytes)?;
    let Some(kind) = header.kind(file_name) else {
        return Ok(None);
    };
    let parser = LogParser::new(&header, kind, options)?;
    let rows = bytes.get(header.len..).unwrap_or(&[]);
    parser
        .parse_chunk_at(rows, header.lines + 1, sink)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\t_node_name\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\tlabel\tdetailedlabel\n\
#types\tstring\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tcount\tcount\tcount\tstring\tstring\n\
w1\t1.5\tC1\t10.0.0.1\t5000\t8.8.8.8\t53\tudp\tdns\t0.1\t10\t20\tSF\t1\t38\t1\t48\tMalicious\tCC\n\
w1\t2.5\tC2\tfe80::1\t5001\tff02::1\t5353\tudp\t-\t-\t-\t-\tS0\t1\t38\t0\t0\tBenign\t-\n\
#close\t2024\n";

    fn conns(text: &str, options: &Options) -> Result<(Vec<Conn>, ReadStats), Error> {
        let h = Header::parse(text.as_bytes())?;
        let p = ConnParser::new(&h, options)?;
        let mut out = Vec::new();
        let stats = p.parse_chunk_at(
            text.as_bytes().get(h.len..).unwrap_or(&[]),
            h.lines + 1,
            &mut out,
        )?;
        Ok((out, stats))
    }

    #[test]
    fn conn_rows_by_name() {
        let (c, stats) = conns(CONN, &Options::default()).unwrap();
        assert_eq!(stats.rows_read, 2);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].ts, 1.5);
        assert_eq!(c[0].dport, 53);
        assert_eq!(c[0].proto, Proto::Udp);
        assert_eq!(c[0].service.as_deref(), Some("dns"));
        assert_eq!(c[0].label.as_deref(), Some("Malicious/CC"));
        assert_eq!(c[0].resp_ip_bytes, 48);
        assert_eq!(c[1].service, None);
        assert_eq!(c[1].duration, 0.0);
        assert_eq!(c[1].conn_state, ConnState::S0);
        assert_eq!(c[1].label.as_deref(), Some("Benign"));
    }

    #[test]
    fn bad_port_is_reported_with_line_and_field() {
        let bad = CONN.replace("\t5000\t", "\tabc\t");
        let strict = Options {
            mode: Mode::Strict,
            ..Options::default()
        };
        let err = conns(&bad, &strict).unwrap_err().to_string();
        assert_eq!(
            err,
            "line 8: field id.orig_p: expected a port number, found 'abc'"
        );
        let (c, stats) = conns(&bad, &Options::default()).unwrap();
        assert_eq!((c.len(), stats.rows_skipped), (1, 1));
        assert_eq!(stats.skip_reasons.len(), 1);
    }

    #[test]
    fn iot23_three_space_quirk_and_crlf() {
        let t = "#separator \\x09\r\n#path\tconn\r\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttunnel_parents   label   detailed-label\r\n\
1.0\t192.168.1.132\t1900\t239.255.255.250\t1900\tudp\t-   benign   -\r\n\
2.0\t192.168.1.132\t1900\t239.255.255.250\t1900\tudp\t-   Malicious   C&C\r\n#close\t2019   benign   -\r\n";
        let h = Header::parse(t.as_bytes()).unwrap();
        assert_eq!(h.fields.len(), 9);
        assert_eq!(h.space_split_column, Some(6));
        let (c, _) = conns(
            t,
            &Options {
                mode: Mode::Strict,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].label.as_deref(), Some("benign"));
        assert_eq!(c[1].label.as_deref(), Some("Malicious/C&C"));
    }

    #[test]
    fn dns_by_name_or_number() {
        let t = "#separator \\x09\n#set_separator\t,\n#path\tdns\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers\n\
1.0\t10.0.2.30\t1\t10.0.2.20\t53\tudp\tAbc.Pirate.Sea\tNULL\tNXDOMAIN\t1.2.3.4,b.example\n";
        let mut recs = Vec::new();
        let stats = parse_log(t.as_bytes(), None, &Options::default(), &mut |r| {
            recs.push(r)
        })
        .unwrap()
        .unwrap();
        assert_eq!(stats.rows_read, 1);
        let Record::Dns(d) = &recs[0] else {
            panic!("not dns")
        };
        assert_eq!(d.query, "abc.pirate.sea");
        assert_eq!((d.qtype, d.rcode), (10, Some(3)));
        assert_eq!(
            d.answers,
            vec!["1.2.3.4".to_owned(), "b.example".to_owned()]
        );
    }

    #[test]
    fn kinds_from_names() {
        assert_eq!(
            LogKind::from_file_name("conn.15_00_00-16_00_00.log.gz"),
            Some(LogKind::Conn)
        );
        assert_eq!(
            LogKind::from_file_name("labeled-conn.log"),
            Some(LogKind::Conn)
        );
        assert_eq!(
            LogKind::from_file_name("http.log.labeled"),
            Some(LogKind::Http)
        );
        assert_eq!(LogKind::from_file_name("x509.log"), None);
        assert_eq!(LogKind::from_file_name("dns2tcp_2018.csv"), None);
        assert_eq!(qtype_from_name(b"TYPE65"), Some(65));
    }

    #[test]
    fn truncated_tsv_at_every_offset_never_panics() {
        for cut in 0..CONN.len() {
            let bytes = CONN.as_bytes().get(..cut).unwrap();
            let _ = parse_log(bytes, Some("conn.log"), &Options::default(), &mut |_| {});
            let _ = parse_log(
                bytes,
                Some("conn.log"),
                &Options {
                    mode: Mode::Strict,
                    ..Options::default()
                },
                &mut |_| {},
            );
        }
    }

    #[test]
    fn endless_line_is_a_limit_error() {
        let mut t = CONN.as_bytes().to_vec();
        t.extend(std::iter::repeat_n(b'a', MAX_LINE + 10));
        let strict = Options {
            mode: Mode::Strict,
            ..Options::default()
        };
        let err = parse_log(&t, None, &strict, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("line length"), "{err}");
        let h = t.iter().map(|_| b'#').take(10).collect::<Vec<u8>>();
        assert!(Header::parse(&h).is_err());
    }
}
