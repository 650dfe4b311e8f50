//! pcap and pcapng capture files, read incrementally: [`CaptureParser::next`] takes whatever
//! bytes are buffered and returns one packet (or a skipped block) and how many bytes it used,
//! or asks for more. A caller holding the whole file passes it with `eof = true`.
//!
//! pcap: the libpcap format (draft-ietf-opsawg-pcap §4-5), both byte orders, microsecond
//! (`a1b2c3d4`) and nanosecond (`a1b23c4d`) magic. pcapng (draft-ietf-opsawg-pcapng §4):
//! Section Header Block in either byte order, Interface Description Block with
//! `if_tsresol`/`if_tsoffset`, Enhanced, Simple and (obsolete) Packet Blocks; other blocks are
//! skipped.

use crate::error::{Error, Location};
use crate::reader::Reader;

/// Largest captured packet accepted (bytes), whatever the declared snap length.
pub const MAX_PACKET: usize = 256 * 1024;
/// Largest pcapng block accepted (bytes).
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// Most interfaces per pcapng section.
const MAX_INTERFACES: usize = 4096;

/// pcap magic, microsecond timestamps, as read little-endian from a little-endian file.
const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
/// pcap magic, nanosecond timestamps.
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
/// pcapng Section Header Block type (the same in both byte orders).
const SHB: u32 = 0x0a0d_0d0a;
/// pcapng byte-order magic.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// pcapng Interface Description Block.
const IDB: u32 = 1;
/// pcapng Packet Block (obsolete).
const OPB: u32 = 2;
/// pcapng Simple Packet Block.
const SPB: u32 = 3;
/// pcapng Enhanced Packet Block.
const EPB: u32 = 6;

/// Whether `bytes` start like a pcap or pcapng file.
pub fn is_capture(bytes: &[u8]) -> bool {
    let Some(m) = bytes.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) else {
        return false;
    };
    let le = u32::from_le_bytes(m);
    let be = u32::from_be_bytes(m);
    [PCAP_MAGIC_US, PCAP_MAGIC_NS].contains(&le)
        || [PCAP_MAGIC_US, PCAP_MAGIC_NS].contains(&be)
        || le == SHB
}

/// A link-layer type (tcpdump.org LINKTYPE_ values); open: any number is data.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback (LINKTYPE_NULL).
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet (LINKTYPE_ETHERNET).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (LINKTYPE_RAW).
    pub const RAW: LinkType = LinkType(101);
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 (LINKTYPE_IPV4).
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 (LINKTYPE_IPV6).
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2).
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

impl std::fmt::Debug for LinkType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match *self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "ETHERNET",
            LinkType::RAW => "RAW",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            LinkType(n) => return write!(f, "LinkType({n})"),
        };
        f.write_str(name)
    }
}

/// One captured packet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Packet<'a> {
    /// Capture time, seconds since the epoch.
    pub ts: f64,
    /// Link-layer type of `data`.
    pub link_type: LinkType,
    /// The captured bytes (possibly cut at the snap length).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: u32,
}

/// What [`CaptureParser::next`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'a> {
    /// A packet; the caller drops `consumed` bytes from its buffer.
    Packet {
        /// The packet.
        packet: Packet<'a>,
        /// Bytes used.
        consumed: usize,
    },
    /// A header or non-packet block; the caller drops `consumed` bytes.
    Skip {
        /// Bytes used.
        consumed: usize,
    },
    /// The buffer ends inside a record; call again with more bytes.
    NeedMore,
    /// Clean end of input (only with `eof`).
    End,
}

#[derive(Debug, Clone)]
struct Interface {
    link_type: LinkType,
    /// Seconds per timestamp unit.
    unit: f64,
    /// Seconds added to every timestamp.
    offset: f64,
}

#[derive(Debug, Clone)]
enum Format {
    Unknown,
    Pcap {
        big: bool,
        nanos: bool,
        link_type: LinkType,
    },
    PcapNg {
        big: bool,
        interfaces: Vec<Interface>,
    },
}

/// An incremental pcap/pcapng reader. Feed it the unread bytes each time.
#[derive(Debug, Clone)]
pub struct CaptureParser {
    format: Format,
    offset: u64,
    last_ts: f64,
}

impl Default for CaptureParser {
    fn default() -> Self {
        CaptureParser::new()
    }
}

impl CaptureParser {
    /// A reader at the start of a capture.
    pub fn new() -> Self {
        CaptureParser {
            format: Format::Unknown,
            offset: 0,
            last_ts: 0.0,
        }
    }

    /// Offset of the next unread byte in the whole capture.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next step over `buf` (the unread bytes). With `eof`, `buf` is all that is left and a
    /// record cut short is an error (a truncated capture).
    pub fn next<'a>(&mut self, buf: &'a [u8], eof: bool) -> Result<Step<'a>, Error> {
        if buf.is_empty() && eof {
            if matches!(self.format, Format::Unknown) {
                return Err(Error::malformed(Location::Offset(0), "empty capture"));
            }
            return Ok(Step::End);
        }
        let step = match self.format {
            Format::Unknown => self.file_header(buf),
            Format::Pcap {
                big,
                nanos,
                link_type,
            } => self.pcap_record(buf, big, nanos, link_type),
            Format::PcapNg { big, .. } => self.pcapng_block(buf, big),
        };
        match step {
            Ok(Step::NeedMore) if eof => Err(Error::malformed(
                Location::Offset(self.offset),
                format!("truncated capture: {} bytes left over", buf.len()),
            )),
            Ok(s) => {
                if let Step::Packet { consumed, .. } | Step::Skip { consumed } = s {
                    self.offset += consumed as u64;
                }
                Ok(s)
            }
            Err(e) => Err(e),
        }
    }

    fn file_header<'a>(&mut self, buf: &'a [u8]) -> Result<Step<'a>, Error> {
        let Some(m) = buf.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) else {
            return Ok(Step::NeedMore);
        };
        if u32::from_le_bytes(m) == SHB {
            return self.pcapng_block(buf, false);
        }
        let (big, nanos) = match (u32::from_le_bytes(m), u32::from_be_bytes(m)) {
            (PCAP_MAGIC_US, _) => (false, false),
            (PCAP_MAGIC_NS, _) => (false, true),
            (_, PCAP_MAGIC_US) => (true, false),
            (_, PCAP_MAGIC_NS) => (true, true),
            _ => {
                return Err(Error::malformed(
                    Location::Offset(0),
                    "expected a pcap or pcapng magic number",
                ))
            }
        };
        if buf.len() < 24 {
            return Ok(Step::NeedMore);
        }
        let mut r = Reader::new(buf, 0);
        r.take(16, "pcap header")?;
        let _snaplen = r.u32(big, "snaplen")?;
        let network = r.u32(big, "link type")?;
        self.format = Format::Pcap {
            big,
            nanos,
            link_type: LinkType(network & 0x0fff_ffff),
        };
        Ok(Step::Skip { consumed: 24 })
    }

    fn pcap_record<'a>(
        &mut self,
        buf: &'a [u8],
        big: bool,
        nanos: bool,
        link_type: LinkType,
    ) -> Result<Step<'a>, Error> {
        if buf.len() < 16 {
            return Ok(Step::NeedMore);
        }
        let mut r = Reader::new(buf, self.offset);
        let sec = r.u32(big, "ts_sec")?;
        let frac = r.u32(big, "ts_frac")?;
        let incl = r.u32(big, "incl_len")?;
        let orig_len = r.u32(big, "orig_len")?;
        let incl = usize::try_from(incl).unwrap_or(usize::MAX);
        if incl > MAX_PACKET {
            return Err(Error::limit(
                Location::Offset(self.offset + 8),
                "captured packet length",
                MAX_PACKET as u64,
            ));
        }
        if r.remaining() < incl {
            return Ok(Step::NeedMore);
        }
        let data = r.take(incl, "packet data")?;
        let ts = f64::from(sec) + f64::from(frac) / if nanos { 1e9 } else { 1e6 };
        self.last_ts = ts;
        Ok(Step::Packet {
            packet: Packet {
                ts,
                link_type,
                data,
                orig_len,
            },
            consumed: 16 + incl,
        })
    }

    fn pcapng_block<'a>(&mut self, buf: &'a [u8], big: bool) -> Result<Step<'a>, Error> {
        if buf.len() < 12 {
            return Ok(Step::NeedMore);
        }
        let mut r = Reader::new(buf, self.offset);
        let btype = r.u32(big, "block type")?;
        let mut big = big;
        if btype == SHB {
            // The byte order of this section (and of this block's length) is in the block.
            let mut probe = Reader::new(buf.get(8..).unwrap_or(&[]), self.offset + 8);
            let magic = probe.u32(false, "byte-order magic")?;
            big = match magic {
                BYTE_ORDER_MAGIC => false,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
                _ => {
                    return Err(Error::malformed(
                        Location::Offset(self.offset + 8),
                        "expected the pcapng byte-order magic",
                    ))
                }
            };
        }
        let total = r.u32(big, "block length")?;
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        if total > MAX_BLOCK {
            return Err(Error::limit(
                Location::Offset(self.offset + 4),
                "pcapng block length",
                MAX_BLOCK as u64,
            ));
        }
        if total < 12 || total % 4 != 0 {
            return Err(Error::malformed(
                Location::Offset(self.offset + 4),
                format!(
                    "expected a block length of at least 12 and a multiple of 4, found {total}"
                ),
            ));
        }
        if buf.len() < total {
            return Ok(Step::NeedMore);
        }
        let mut body = r.sub(total - 12, "block body")?;
        let trailer = r.u32(big, "trailing block length")?;
        if usize::try_from(trailer).ok() != Some(total) {
            return Err(Error::malformed(
                Location::Offset(self.offset + total as u64 - 4),
                "trailing block length differs from the leading one",
            ));
        }
        match btype {
            SHB => {
                self.format = Format::PcapNg {
                    big,
                    interfaces: Vec::new(),
                };
                Ok(Step::Skip { consumed: total })
            }
            IDB => {
                let iface = read_idb(&mut body, big)?;
                if let Format::PcapNg { interfaces, .. } = &mut self.format {
                    if interfaces.len() >= MAX_INTERFACES {
                        return Err(Error::limit(
                            Location::Offset(self.offset),
                            "pcapng interfaces",
                            MAX_INTERFACES as u64,
                        ));
                    }
                    interfaces.push(iface);
                }
                Ok(Step::Skip { consumed: total })
            }
            EPB | OPB => {
                let iface_id = if btype == EPB {
                    body.u32(big, "interface id")?
                } else {
                    u32::from(body.u16(big, "interface id")?)
                };
                if btype == OPB {
                    body.u16(big, "drops count")?;
                }
                let hi = body.u32(big, "timestamp (high)")?;
                let lo = body.u32(big, "timestamp (low)")?;
                let cap = body.u32(big, "captured length")?;
                let orig_len = body.u32(big, "original length")?;
                let cap = usize::try_from(cap).unwrap_or(usize::MAX);
                if cap > MAX_PACKET {
                    return Err(Error::limit(
                        Location::Offset(body.offset()),
                        "captured packet length",
                        MAX_PACKET as u64,
                    ));
                }
                let data = body.take(cap, "packet data")?;
                let iface = self.interface(iface_id)?;
                let ticks = (u64::from(hi) << 32) | u64::from(lo);
                let ts = ticks as f64 * iface.unit + iface.offset;
                self.last_ts = ts;
                Ok(Step::Packet {
                    packet: Packet {
                        ts,
                        link_type: iface.link_type,
                        data,
                        orig_len,
                    },
                    consumed: total,
                })
            }
            SPB => {
                let orig_len = body.u32(big, "original length")?;
                let rest = body.rest();
                let n = rest
                    .len()
                    .min(usize::try_from(orig_len).unwrap_or(usize::MAX))
                    .min(MAX_PACKET);
                let data = rest.get(..n).unwrap_or(rest);
                let iface = self.interface(0)?;
                Ok(Step::Packet {
                    packet: Packet {
                        ts: self.last_ts,
                        link_type: iface.link_type,
                        data,
                        orig_len,
                    },
                    consumed: total,
                })
            }
            _ => Ok(Step::Skip { consumed: total }),
        }
    }

    fn interface(&self, id: u32) -> Result<Interface, Error> {
        let found = match &self.format {
            Format::PcapNg { interfaces, .. } => usize::try_from(id)
                .ok()
                .and_then(|i| interfaces.get(i))
                .cloned(),
            _ => None,
        };
        found.ok_or_else(|| {
            Error::malformed(
                Location::Offset(self.offset),
                format!("packet names interface {id}, which was not described"),
            )
        })
    }
}

/// Interface Description Block body: link type, reserved, snaplen, options.
fn read_idb(body: &mut Reader<'_>, big: bool) -> Result<Interface, Error> {
    let link = body.u16(big, "link type")?;
    body.u16(big, "reserved")?;
    body.u32(big, "snaplen")?;
    let mut iface = Interface {
        link_type: LinkType(u32::from(link)),
        unit: 1e-6,
        offset: 0.0,
    };
    while body.remaining() >= 4 {
        let code = body.u16(big, "option code")?;
        let len = usize::from(body.u16(big, "option length")?);
        if code == 0 {
            break;
        }
        let value = body.take(len, "option value")?;
        body.take((4 - len % 4) % 4, "option padding")?;
        match (code, value) {
            (9, [v]) => {
                let exp = i32::from(v & 0x7f);
                iface.unit = if v & 0x80 == 0 {
                    10f64.powi(-exp)
                } else {
                    2f64.powi(-exp)
                };
            }
            (14, v) if v.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(v);
                let secs = if big {
                    i64::from_be_bytes(a)
                } else {
                    i64::from_le_bytes(a)
                };
                iface.offset = secs as f64;
            }
            _ => {}
        }
    }
    Ok(iface)
}

/// Calls `f` for every packet of a capture held whole in memory.
pub fn for_each_packet(bytes: &[u8], mut f: impl FnMut(Packet<'_>)) -> Result<(), Error> {
    let mut p = CaptureParser::new();
    let mut pos = 0usize;
    loop {
        let buf = bytes.get(pos..).unwrap_or(&[]);
        match p.next(buf, true)? {
            Step::Packet { packet, consumed } => {
                f(packet);
                pos += consumed;
            }
            Step::Skip { consumed } => pos += consumed,
            Step::NeedMore | Step::End => return Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian microsecond pcap with the given link type and packets.
    pub(crate) fn pcap(link: u32, packets: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(PCAP_MAGIC_US.to_le_bytes());
        v.extend(2u16.to_le_bytes());
        v.extend(4u16.to_le_bytes());
        v.extend([0u8; 8]);
        v.extend(65535u32.to_le_bytes());
        v.extend(link.to_le_bytes());
        for (s, us, d) in packets {
            v.extend(s.to_le_bytes());
            v.extend(us.to_le_bytes());
            v.extend((d.len() as u32).to_le_bytes());
            v.extend((d.len() as u32).to_le_bytes());
            v.extend(*d);
        }
        v
    }

    fn block(big: bool, t: u32, body: &[u8]) -> Vec<u8> {
        let u = |x: u32| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        };
        let pad = (4 - body.len() % 4) % 4;
        let total = (12 + body.len() + pad) as u32;
        let mut v = Vec::new();
        v.extend(u(t));
        v.extend(u(total));
        v.extend(body);
        v.extend(std::iter::repeat_n(0u8, pad));
        v.extend(u(total));
        v
    }

    /// A pcapng with one interface (nanosecond resolution) and EPBs, in either byte order.
    pub(crate) fn pcapng(big: bool, link: u16, packets: &[(u64, &[u8])]) -> Vec<u8> {
        let u32b = |x: u32| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        };
        let u16b = |x: u16| {
            if big {
                x.to_be_bytes()
            } else {
                x.to_le_bytes()
            }
        };
        let mut shb = Vec::new();
        shb.extend(u32b(BYTE_ORDER_MAGIC));
        shb.extend(u16b(1));
        shb.extend(u16b(0));
        shb.extend([0xff; 8]);
        let mut idb = Vec::new();
        idb.extend(u16b(link));
        idb.extend(u16b(0));
        idb.extend(u32b(0));
        idb.extend(u16b(9));
        idb.extend(u16b(1));
        idb.extend([9, 0, 0, 0]);
        idb.extend(u16b(0));
        idb.extend(u16b(0));
        let mut v = block(big, SHB, &shb);
        v.extend(block(big, IDB, &idb));
        v.extend(block(big, 0x0bad, b"unknown block"));
        for (ts, d) in packets {
            let mut epb = Vec::new();
            epb.extend(u32b(0));
            epb.extend(u32b((ts >> 32) as u32));
            epb.extend(u32b(*ts as u32));
            epb.extend(u32b(d.len() as u32));
            epb.extend(u32b(d.len() as u32));
            epb.extend(*d);
            v.extend(block(big, EPB, &epb));
        }
        v
    }

    fn collect(bytes: &[u8]) -> Result<Vec<(f64, u32, usize)>, Error> {
        let mut out = Vec::new();
        for_each_packet(bytes, |p| out.push((p.ts, p.link_type.0, p.data.len())))?;
        Ok(out)
    }

    #[test]
    fn pcap_and_pcapng_both_byte_orders() {
        let p = pcap(1, &[(10, 500_000, b"abc"), (11, 0, b"")]);
        assert_eq!(collect(&p).unwrap(), vec![(10.5, 1, 3), (11.0, 1, 0)]);
        for big in [false, true] {
            let n = pcapng(big, 101, &[(1_500_000_000, b"hello")]);
            assert_eq!(collect(&n).unwrap(), vec![(1.5, 101, 5)], "big={big}");
        }
    }

    #[test]
    fn truncated_at_every_offset_is_an_error_not_a_panic() {
        let p = pcap(1, &[(10, 0, b"abcdef"), (11, 0, b"xyz")]);
        let n = pcapng(false, 1, &[(1, b"abcdef"), (2, b"xyz")]);
        for bytes in [&p, &n] {
            let mut ok = 0;
            for cut in 0..bytes.len() {
                if collect(&bytes[..cut]).is_ok() {
                    ok += 1;
                }
            }
            // Only cuts at record boundaries read cleanly.
            assert!(ok <= 4, "{ok}");
        }
    }

    #[test]
    fn hostile_lengths() {
        let mut p = pcap(1, &[]);
        p[16..20].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
        assert_eq!(collect(&p).unwrap(), vec![]);
        p.extend(0u32.to_le_bytes());
        p.extend(0u32.to_le_bytes());
        p.extend(0xffff_fff0u32.to_le_bytes());
        p.extend(0u32.to_le_bytes());
        assert!(matches!(collect(&p), Err(Error::Limit { .. })));
        let mut n = pcapng(false, 1, &[]);
        n.extend(EPB.to_le_bytes());
        n.extend(0xffff_fff0u32.to_le_bytes());
        n.extend([0u8; 8]);
        assert!(matches!(collect(&n), Err(Error::Limit { .. })));
        assert!(collect(b"garbage garbage garbage garbage").is_err());
        assert!(collect(b"").is_err());
    }
}
