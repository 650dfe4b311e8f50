//! The one error type of this crate, the read options, and the counts a reader returns.

use std::fmt;
use std::path::{Path, PathBuf};

/// How many skip reasons [`ReadStats`] keeps (the first ones seen).
pub const MAX_SKIP_REASONS: usize = 8;

/// Where in its input an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number (text formats).
    Line(u64),
    /// A byte offset from the start of the input (binary formats).
    Offset(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Offset(n) => write!(f, "offset {n}"),
        }
    }
}

/// Renders an optional file name as a `name: ` prefix.
struct FilePrefix<'a>(&'a Option<PathBuf>);

impl fmt::Display for FilePrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, "{}: ", p.display()),
            None => Ok(()),
        }
    }
}

/// Everything that can go wrong reading telemetry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field held a value of the wrong shape, e.g.
    /// `line 12: field id.resp_p: expected a port number, found 'abc'`.
    #[error("{}line {line}: field {field}: expected {expected}, found '{found}'", FilePrefix(.file))]
    Field {
        /// The file, when known.
        file: Option<PathBuf>,
        /// 1-based line number.
        line: u64,
        /// The field (column) name.
        field: String,
        /// What the field should have held.
        expected: &'static str,
        /// What it held (cut to 64 bytes, lossy UTF-8).
        found: String,
    },
    /// The input's structure is wrong at `at` (a bad header, a truncated block, a bad magic).
    #[error("{}{at}: {what}", FilePrefix(.file))]
    Malformed {
        /// The file, when known.
        file: Option<PathBuf>,
        /// Where.
        at: Location,
        /// What was expected or found.
        what: String,
    },
    /// A length or count went over one of this crate's bounds.
    #[error("{}{at}: {what} exceeds the limit of {limit}", FilePrefix(.file))]
    Limit {
        /// The file, when known.
        file: Option<PathBuf>,
        /// Where.
        at: Location,
        /// What was too long or too many.
        what: &'static str,
        /// The bound.
        limit: u64,
    },
    /// The input's format could not be recognised.
    #[error("{}unrecognised format: {what}", FilePrefix(.file))]
    UnknownFormat {
        /// The file, when known.
        file: Option<PathBuf>,
        /// What the first bytes looked like.
        what: String,
    },
    /// Reading a file failed.
    #[error("{}: {source}", .file.display())]
    Io {
        /// The file or directory.
        file: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The same error with `file` recorded (when no file was recorded yet).
    pub fn in_file(mut self, path: &Path) -> Self {
        let slot = match &mut self {
            Error::Field { file, .. }
            | Error::Malformed { file, .. }
            | Error::Limit { file, .. }
            | Error::UnknownFormat { file, .. } => file,
            Error::Io { .. } => return self,
        };
        if slot.is_none() {
            *slot = Some(path.to_path_buf());
        }
        self
    }

    /// Shorthand for a [`Error::Malformed`] without a file.
    pub(crate) fn malformed(at: Location, what: impl Into<String>) -> Self {
        Error::Malformed {
            file: None,
            at,
            what: what.into(),
        }
    }

    /// Shorthand for a [`Error::Limit`] without a file.
    pub(crate) fn limit(at: Location, what: &'static str, limit: u64) -> Self {
        Error::Limit {
            file: None,
            at,
            what,
            limit,
        }
    }

    /// Shorthand for a [`Error::Field`] without a file; `found` is cut to 64 bytes.
    pub(crate) fn field(line: u64, field: &str, expected: &'static str, found: &[u8]) -> Self {
        let cut = found.get(..64).unwrap_or(found);
        Error::Field {
            file: None,
            line,
            field: field.to_owned(),
            expected,
            found: String::from_utf8_lossy(cut).into_owned(),
        }
    }
}

/// Whether a bad row or packet stops the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Skip bad rows and count them in [`ReadStats`] (real logs have odd rows).
    #[default]
    Lenient,
    /// Return the first bad row as an error.
    Strict,
}

/// Options shared by every reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Strict or lenient handling of bad rows.
    pub mode: Mode,
    /// Most flows a capture reader keeps open at once; when full, the least recently seen are
    /// expired early (default 1,000,000).
    pub max_flows: usize,
    /// Most DNS queries a capture reader keeps waiting for their answer (default 65,536); when
    /// full, the oldest are written out unanswered.
    pub max_pending_dns: usize,
    /// Epoch (seconds) at which packet-CSV times start (the CSV only has relative times).
    pub csv_epoch: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Lenient,
            max_flows: 1_000_000,
            max_pending_dns: 65_536,
            csv_epoch: 0.0,
        }
    }
}

/// What a read did: rows read and skipped, with the first few reasons, and files skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadStats {
    /// Data rows (log lines, packets) read successfully.
    pub rows_read: u64,
    /// Data rows skipped as malformed (lenient mode).
    pub rows_skipped: u64,
    /// The first [`MAX_SKIP_REASONS`] skip reasons, as error messages.
    pub skip_reasons: Vec<String>,
    /// Records produced.
    pub records: u64,
    /// Packets not decodable into a flow (not IP, unknown link type, truncated headers).
    pub packets_ignored: u64,
    /// Non-first IP fragments (skipped: they carry no ports).
    pub fragments_skipped: u64,
    /// Flows expired early because the flow table was full.
    pub flows_evicted: u64,
    /// Files read (directory and path readers).
    pub files_read: Vec<PathBuf>,
    /// Files not read, with why (not a conn/dns/ssl/http log, unknown format).
    pub files_skipped: Vec<(PathBuf, String)>,
}

impl ReadStats {
    /// Counts a skipped row and keeps its reason if there is room.
    pub fn skip(&mut self, reason: &Error) {
        self.rows_skipped += 1;
        if self.skip_reasons.len() < MAX_SKIP_REASONS {
            self.skip_reasons.push(reason.to_string());
        }
    }

    /// Adds `other`'s counts to these (for per-chunk or per-file stats).
    pub fn merge(&mut self, other: ReadStats) {
        self.rows_read += other.rows_read;
        self.rows_skipped += other.rows_skipped;
        self.records += other.records;
        self.packets_ignored += other.packets_ignored;
        self.fragments_skipped += other.fragments_skipped;
        self.flows_evicted += other.flows_evicted;
        for r in other.skip_reasons {
            if self.skip_reasons.len() < MAX_SKIP_REASONS {
                self.skip_reasons.push(r);
            }
        }
        self.files_read.extend(other.files_read);
        self.files_skipped.extend(other.files_skipped);
    }
}

/// Applies the mode to a bad row: strict returns the error, lenient counts it.
pub(crate) fn bad_row(mode: Mode, stats: &mut ReadStats, err: Error) -> Result<(), Error> {
    match mode {
        Mode::Strict => Err(err),
        Mode::Lenient => {
            stats.skip(&err);
            Ok(())
        }
    }
}
