//! gzip (RFC 1952): one or more members, each a header, a deflate stream and a trailer of
//! CRC-32 and ISIZE (the length modulo 2^32), both checked.

use tamperscan_bytes::Reader;

use crate::inflate::inflate;
use crate::{from_reader_error, Error};

const MAGIC: [u8; 2] = [0x1F, 0x8B];
/// CM = 8: deflate, the only method RFC 1952 defines.
const CM_DEFLATE: u8 = 8;
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// FLG bits 5-7 are reserved and must be zero.
const FLG_RESERVED: u8 = 0xE0;

/// Decompresses gzip data into at most `limit` bytes in all. Members are concatenated as
/// RFC 1952 says; zero bytes after the last member (padding) are accepted, anything else there
/// is an error. Header fields (FEXTRA subfields, FNAME, FCOMMENT, FHCRC) are parsed and the
/// header CRC is checked when present; they are not returned.
pub fn gzip(data: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    loop {
        let budget = limit - out.len();
        let (member, end) = member(data, pos, budget).map_err(|e| match e {
            Error::TooLarge { .. } => Error::TooLarge {
                limit,
                declared: None,
            },
            other => other,
        })?;
        out.extend_from_slice(&member);
        pos = end;
        let rest = data.get(pos..).unwrap_or(&[]);
        if rest.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        if !rest.starts_with(&MAGIC) {
            return Err(Error::corrupt(pos, "data after the last gzip member"));
        }
    }
}

/// Decodes the member starting at `start`; returns its output and where it ends.
fn member(data: &[u8], start: usize, budget: usize) -> Result<(Vec<u8>, usize), Error> {
    let mut r = Reader::with_base(data.get(start..).unwrap_or(&[]), start as u64);
    header(&mut r).map_err(from_reader_error)?;
    let body_start = usize::try_from(r.offset()).unwrap_or(usize::MAX);
    let (out, used) = inflate(r.rest(), body_start, false, budget)?;

    let trailer_at = body_start + used;
    let mut t = Reader::with_base(data.get(trailer_at..).unwrap_or(&[]), trailer_at as u64);
    let crc = t.u32_le("gzip CRC-32").map_err(from_reader_error)?;
    let isize = t.u32_le("gzip ISIZE").map_err(from_reader_error)?;
    if crc != crc32fast::hash(&out) {
        return Err(Error::corrupt(
            trailer_at,
            "gzip CRC-32 does not match the data",
        ));
    }
    if isize != out.len() as u32 {
        return Err(Error::corrupt(
            trailer_at + 4,
            format!(
                "gzip ISIZE {isize} does not match the data length {}",
                out.len()
            ),
        ));
    }
    Ok((out, trailer_at + 8))
}

/// Reads a member header up to the compressed data.
fn header(r: &mut Reader<'_>) -> Result<(), tamperscan_bytes::Error> {
    let header_start = r.rest();
    let start_offset = r.offset();
    r.expect(&MAGIC, "gzip magic")?;
    let cm = r.u8("gzip compression method")?;
    if cm != CM_DEFLATE {
        return Err(tamperscan_bytes::Error::invalid(
            r.offset() - 1,
            "gzip compression method",
            format!("{cm} is not 8 (deflate)"),
        ));
    }
    let flg = r.u8("gzip flags")?;
    if flg & FLG_RESERVED != 0 {
        return Err(tamperscan_bytes::Error::invalid(
            r.offset() - 1,
            "gzip flags",
            format!("reserved bits set in {flg:#04x}"),
        ));
    }
    r.skip(6, "gzip MTIME, XFL and OS")?;
    if flg & FEXTRA != 0 {
        let xlen = r.u16_le("gzip XLEN")?;
        let mut extra = r.sub(usize::from(xlen), "gzip extra field")?;
        // Subfields: SI1, SI2, LEN (u16 LE), data.
        while !extra.is_empty() {
            extra.skip(2, "gzip extra subfield id")?;
            let len = extra.u16_le("gzip extra subfield length")?;
            extra.skip(usize::from(len), "gzip extra subfield data")?;
        }
    }
    if flg & FNAME != 0 {
        zero_terminated(r, "gzip file name")?;
    }
    if flg & FCOMMENT != 0 {
        zero_terminated(r, "gzip comment")?;
    }
    if flg & FHCRC != 0 {
        let covered = usize::try_from(r.offset() - start_offset).unwrap_or(usize::MAX);
        let expected = crc32fast::hash(header_start.get(..covered).unwrap_or(&[])) as u16;
        let at = r.offset();
        let stored = r.u16_le("gzip header CRC")?;
        if stored != expected {
            return Err(tamperscan_bytes::Error::invalid(
                at,
                "gzip header CRC",
                format!("{stored:#06x}, the header's is {expected:#06x}"),
            ));
        }
    }
    Ok(())
}

/// Skips a zero-terminated string.
fn zero_terminated(r: &mut Reader<'_>, what: &'static str) -> Result<(), tamperscan_bytes::Error> {
    while r.u8(what)? != 0 {}
    Ok(())
}
