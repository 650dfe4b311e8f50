//! Opening files and directories: the only module that does I/O.
//!
//! A file is sniffed after transparent gunzip (magic `1f 8b`): pcap/pcapng by magic, Zeek TSV
//! by `#separator`, Zeek JSON by `{`, the lab packet CSV by its header. Text is read in chunks
//! of [`CHUNK`] bytes cut at line boundaries, captures through a bounded buffer, so a large
//! log never sits in memory whole. A directory is walked recursively (sorted, symlinks not
//! followed); files that are not conn/dns/ssl/http logs, captures or packet CSVs are listed in
//! [`ReadStats::files_skipped`], not errors.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::capture::{self, CaptureParser, Step, MAX_BLOCK};
use crate::error::{Error, Location, Mode, Options, ReadStats};
use crate::flow::FlowAssembler;
use crate::model::{Conn, Record};
use crate::zeek::{ConnParser, Header, LogKind, LogParser, MAX_LINE};
use crate::zeek_json::JsonParser;
use crate::{packet_csv, zeek};

/// Text chunk size (bytes).
pub const CHUNK: usize = 4 << 20;
/// Largest packet CSV read (it is read whole).
const MAX_CSV: u64 = 512 << 20;
/// Deepest directory nesting walked.
const MAX_DEPTH: usize = 16;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        file: path.to_path_buf(),
        source,
    }
}

/// Opens `path`, gunzipping when it starts with the gzip magic.
fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    let f = File::open(path).map_err(io_err(path))?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let head = r.fill_buf().map_err(io_err(path))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(r),
        )))
    } else {
        Ok(Box::new(r))
    }
}

/// Reads a file or a directory (recursively) and hands every record to `sink`.
///
/// In a directory, files of no known kind are skipped and listed; a file that fails is an
/// error in strict mode and listed as skipped (with the error) in lenient mode. A single file
/// of no known kind is an [`Error::UnknownFormat`].
pub fn read_path(
    path: &Path,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<ReadStats, Error> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_dir() {
        return match read_file(path, options, sink)? {
            Some(s) => Ok(s),
            None => Err(Error::UnknownFormat {
                file: Some(path.to_path_buf()),
                what: "not a conn/dns/ssl/http log, capture or packet CSV".into(),
            }),
        };
    }
    let mut stats = ReadStats::default();
    for file in walk(path)? {
        match read_file(&file, options, sink) {
            Ok(Some(s)) => stats.merge(s),
            Ok(None) => stats.files_skipped.push((
                file,
                "not a conn/dns/ssl/http log, capture or packet CSV".into(),
            )),
            Err(e) if options.mode == Mode::Lenient => {
                stats.files_skipped.push((file, e.to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(stats)
}

/// Every regular file under `dir`, sorted.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(io_err(&d))? {
            let e = e.map_err(io_err(&d))?;
            let t = e.file_type().map_err(io_err(&d))?;
            if t.is_dir() && depth < MAX_DEPTH {
                stack.push((e.path(), depth + 1));
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one file; `Ok(None)` when it is of no kind this crate reads.
pub fn read_file(
    path: &Path,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<Option<ReadStats>, Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut r = open(path)?;
    let head = r.fill_buf().map_err(io_err(path))?;
    let res = if capture::is_capture(head) {
        read_capture(&mut r, path, options, sink).map(Some)
    } else if head.starts_with(b"#separator") {
        read_tsv(&mut r, path, name.as_deref(), options, sink)
    } else if head.starts_with(b"{") {
        let p = JsonParser::new(name.as_deref().and_then(LogKind::from_file_name), options);
        for_each_chunk(&mut r, path, 0, &mut |chunk, line| {
            let s = p.parse_chunk_at(chunk, line, sink)?;
            Ok(s)
        })
        .map(Some)
    } else if packet_csv::is_packet_csv(head) {
        let mut buf = Vec::new();
        r.take(MAX_CSV)
            .read_to_end(&mut buf)
            .map_err(io_err(path))?;
        packet_csv::parse_packet_csv(&buf, options, sink).map(Some)
    } else {
        Ok(None)
    };
    res.map(|o| {
        o.map(|mut s| {
            s.files_read.push(path.to_path_buf());
            s
        })
    })
    .map_err(|e| e.in_file(path))
}

/// Reads a Zeek TSV header from `r`, leaving `r` at the first row; returns the header.
fn read_header(r: &mut dyn BufRead, path: &Path) -> Result<Header, Error> {
    let mut buf = Vec::new();
    loop {
        let before = buf.len();
        let n = Read::take(&mut *r, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io_err(path))?;
        if n > MAX_LINE {
            return Err(Error::limit(
                Location::Offset(before as u64),
                "line length",
                MAX_LINE as u64,
            ));
        }
        if buf.len() > 64 * MAX_LINE {
            return Err(Error::limit(
                Location::Offset(before as u64),
                "header size",
                64 * MAX_LINE as u64,
            ));
        }
        let next = r.fill_buf().map_err(io_err(path))?;
        if n == 0 || next.first() != Some(&b'#') {
            break;
        }
    }
    Header::parse(&buf)
}

fn read_tsv(
    r: &mut dyn BufRead,
    path: &Path,
    name: Option<&str>,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<Option<ReadStats>, Error> {
    let header = read_header(r, path)?;
    let Some(kind) = header.kind(name) else {
        return Ok(None);
    };
    let p = LogParser::new(&header, kind, options)?;
    for_each_chunk(r, path, header.lines, &mut |chunk, line| {
        p.parse_chunk_at(chunk, line, sink)
    })
    .map(Some)
}

/// A consumer of text chunks: `(chunk, first_line)` to the chunk's counts.
type ChunkFn<'a> = dyn FnMut(&[u8], u64) -> Result<ReadStats, Error> + 'a;

/// Calls `f(chunk, first_line)` for chunks of whole lines; `lines_before` lines were read
/// already.
fn for_each_chunk(
    r: &mut dyn BufRead,
    path: &Path,
    lines_before: u64,
    f: &mut ChunkFn<'_>,
) -> Result<ReadStats, Error> {
    let mut stats = ReadStats::default();
    let mut line = lines_before + 1;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + MAX_LINE);
    loop {
        let target = buf.len() + CHUNK;
        let eof = fill(r, &mut buf, target, path)?;
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None if buf.len() > MAX_LINE => {
                    return Err(Error::limit(
                        Location::Line(line),
                        "line length",
                        MAX_LINE as u64,
                    ));
                }
                None => continue,
            }
        };
        let chunk = buf.get(..cut).unwrap_or(&[]);
        stats.merge(f(chunk, line)?);
        line += memchr::memchr_iter(b'\n', chunk).count() as u64;
        buf.drain(..cut);
        if eof {
            return Ok(stats);
        }
    }
}

/// Reads from `r` until `buf` holds `target` bytes or the input ends; returns whether it ended.
fn fill(r: &mut dyn BufRead, buf: &mut Vec<u8>, target: usize, path: &Path) -> Result<bool, Error> {
    while buf.len() < target {
        let want = (target - buf.len()) as u64;
        let n = Read::take(&mut *r, want)
            .read_to_end(buf)
            .map_err(io_err(path))?;
        if n == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn read_capture(
    r: &mut dyn BufRead,
    path: &Path,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<ReadStats, Error> {
    let mut p = CaptureParser::new();
    let mut asm = FlowAssembler::new(options);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut pos = 0usize;
    let mut eof = false;
    let mut trailing_error = None;
    loop {
        let step = p.next(buf.get(pos..).unwrap_or(&[]), eof);
        match step {
            Ok(Step::Packet { packet, consumed }) => {
                asm.push(&packet, sink);
                pos += consumed;
            }
            Ok(Step::Skip { consumed }) => pos += consumed,
            Ok(Step::End) => break,
            Ok(Step::NeedMore) => {
                buf.drain(..pos);
                pos = 0;
                let target = buf.len() + CHUNK.max(MAX_BLOCK.min(buf.len() + CHUNK));
                eof = fill(r, &mut buf, target, path)?;
            }
            Err(e) if options.mode == Mode::Lenient && eof => {
                trailing_error = Some(e);
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let mut stats = asm.finish(sink);
    if let Some(e) = trailing_error {
        stats.skip(&e);
    }
    Ok(stats)
}

/// Reads a conn log (TSV, plain or gzip) on the fast path, parsing chunks on all cores, and
/// hands each chunk's connections to `on_batch` in file order. Errors when the file is not a
/// Zeek TSV conn log.
pub fn read_conn_batches(
    path: &Path,
    options: &Options,
    on_batch: &mut dyn FnMut(Vec<Conn>),
) -> Result<ReadStats, Error> {
    let mut inner = || -> Result<ReadStats, Error> {
        let mut r = open(path)?;
        let header = read_header(&mut r, path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if header.kind(name.as_deref()) != Some(LogKind::Conn) {
            return Err(Error::UnknownFormat {
                file: None,
                what: "expected a Zeek conn log".into(),
            });
        }
        let parser = ConnParser::new(&header, options)?;
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 16);
        let mut stats = ReadStats::default();
        let mut line = header.lines + 1;
        let mut carry: Vec<u8> = Vec::new();
        let mut eof = false;
        while !eof {
            // Read up to `threads` chunks, each cut at a line end.
            let mut chunks: Vec<(Vec<u8>, u64)> = Vec::with_capacity(threads);
            while chunks.len() < threads && !eof {
                let mut buf = std::mem::take(&mut carry);
                eof = fill(&mut r, &mut buf, CHUNK, path)?;
                let cut = if eof {
                    buf.len()
                } else {
                    memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
                };
                if cut == 0 && !eof {
                    if buf.len() > MAX_LINE {
                        return Err(Error::limit(
                            Location::Line(line),
                            "line length",
                            MAX_LINE as u64,
                        ));
                    }
                    carry = buf;
                    continue;
                }
                carry = buf.split_off(cut);
                let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
                chunks.push((buf, line));
                line += lines;
            }
            let results: Vec<Result<(Vec<Conn>, ReadStats), Error>> = std::thread::scope(|s| {
                let handles: Vec<_> = chunks
                    .iter()
                    .map(|(c, l)| {
                        let parser = &parser;
                        s.spawn(move || {
                            let mut out = Vec::with_capacity(c.len() / 150);
                            parser.parse_chunk_at(c, *l, &mut out).map(|st| (out, st))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::malformed(
                                Location::Offset(0),
                                "a parser thread failed",
                            ))
                        })
                    })
                    .collect()
            });
            for res in results {
                let (out, st) = res?;
                stats.merge(st);
                on_batch(out);
            }
        }
        stats.files_read.push(path.to_path_buf());
        Ok(stats)
    };
    inner().map_err(|e| e.in_file(path))
}

/// Reads a file fully into memory, bounded (for small inputs such as tests and the CLI).
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    open(path)?
        .take(limit)
        .read_to_end(&mut buf)
        .map_err(io_err(path))?;
    Ok(buf)
}

/// Parses a Zeek TSV log held in memory (re-exported for symmetry with [`read_path`]).
pub fn parse_tsv(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<Option<ReadStats>, Error> {
    zeek::parse_log(bytes, file_name, options, sink)
}
