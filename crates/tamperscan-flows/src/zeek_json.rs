//! Zeek JSON logs (`LogAscii::use_json`): one JSON object per line with flat dotted keys
//! (`ts`, `id.orig_h`, ...). `ts` is a number or an ISO-8601 string (`2024-04-29T15:00:01.5Z`).
//! Which log a file is comes from the file name, else from the first row's keys.

use serde_json::{Map, Value};

use crate::error::{bad_row, Error, Location, Mode, Options, ReadStats};
use crate::model::{Conn, ConnState, Dns, Http, Proto, Record, Ssl};
use crate::text;
use crate::zeek::{self, LogKind, MAX_LINE};

/// Most answers kept per DNS row.
const MAX_ANSWERS: usize = 64;

/// Reads Zeek JSON rows into [`Record`]s.
#[derive(Debug, Clone)]
pub struct JsonParser {
    kind: Option<LogKind>,
    mode: Mode,
}

impl JsonParser {
    /// A parser for rows of `kind`; `None` decides per row from its keys (rows of no known
    /// kind are skipped).
    pub fn new(kind: Option<LogKind>, options: &Options) -> JsonParser {
        JsonParser {
            kind,
            mode: options.mode,
        }
    }

    /// Parses every line of `chunk` (whole lines), numbering its first line `first_line`.
    pub fn parse_chunk_at(
        &self,
        chunk: &[u8],
        first_line: u64,
        sink: &mut dyn FnMut(Record),
    ) -> Result<ReadStats, Error> {
        let mut stats = ReadStats::default();
        for (i, line) in chunk.split(|&b| b == b'\n').enumerate() {
            let n = first_line + i as u64;
            let line = text::trim(line);
            if line.is_empty() {
                continue;
            }
            let res = if line.len() > MAX_LINE {
                Err(Error::limit(
                    Location::Line(n),
                    "line length",
                    MAX_LINE as u64,
                ))
            } else {
                self.row(line, n)
            };
            match res {
                Ok(Some(r)) => {
                    stats.rows_read += 1;
                    stats.records += 1;
                    sink(r);
                }
                Ok(None) => stats.rows_read += 1,
                Err(e) => bad_row(self.mode, &mut stats, e)?,
            }
        }
        Ok(stats)
    }

    fn row(&self, line: &[u8], n: u64) -> Result<Option<Record>, Error> {
        let v: Value = serde_json::from_slice(line).map_err(|e| {
            Error::malformed(Location::Line(n), format!("expected a JSON object: {e}"))
        })?;
        let Value::Object(o) = v else {
            return Err(Error::malformed(
                Location::Line(n),
                "expected a JSON object",
            ));
        };
        let Some(kind) = self.kind.or_else(|| guess_kind(&o)) else {
            return Ok(None);
        };
        let r = Row { o: &o, n };
        let ts = r.ts()?;
        let src = r.ip("id.orig_h")?;
        let sport = r.port("id.orig_p")?;
        let dst = r.ip("id.resp_h")?;
        let dport = r.port("id.resp_p")?;
        let rec = match kind {
            LogKind::Conn => Record::Conn(Conn {
                ts,
                src,
                sport,
                dst,
                dport,
                proto: r
                    .str("proto")
                    .map_or(Proto::Other(0), |p| zeek::parse_proto(p.as_bytes())),
                service: r.str("service").map(Into::into),
                duration: r.f64("duration")?.unwrap_or(0.0),
                orig_bytes: r.count("orig_bytes")?,
                resp_bytes: r.count("resp_bytes")?,
                orig_ip_bytes: r.count("orig_ip_bytes")?,
                resp_ip_bytes: r.count("resp_ip_bytes")?,
                orig_pkts: r.count("orig_pkts")?,
                resp_pkts: r.count("resp_pkts")?,
                conn_state: r
                    .str("conn_state")
                    .map_or(ConnState::Oth, |s| zeek::parse_conn_state(s.as_bytes())),
                label: r.label().map(Into::into),
            }),
            LogKind::Dns => Record::Dns(Dns {
                ts,
                src,
                dst,
                dport,
                proto: r
                    .str("proto")
                    .map_or(Proto::Udp, |p| zeek::parse_proto(p.as_bytes())),
                query: r.str("query").map(str::to_lowercase).unwrap_or_default(),
                qtype: match r.u64("qtype")? {
                    Some(q) => {
                        u16::try_from(q).map_err(|_| r.bad("qtype", "a query type number"))?
                    }
                    None => r
                        .str("qtype_name")
                        .and_then(|s| zeek::qtype_from_name(s.as_bytes()))
                        .unwrap_or(0),
                },
                rcode: match r.u64("rcode")? {
                    Some(c) => {
                        Some(u16::try_from(c).map_err(|_| r.bad("rcode", "a response code"))?)
                    }
                    None => r
                        .str("rcode_name")
                        .and_then(|s| zeek::rcode_from_name(s.as_bytes())),
                },
                answers: match o.get("answers") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .take(MAX_ANSWERS)
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                },
            }),
            LogKind::Ssl => Record::Ssl(Ssl {
                ts,
                src,
                sport,
                dst,
                dport,
                server_name: r.str("server_name").map(str::to_lowercase),
            }),
            LogKind::Http => Record::Http(Http {
                ts,
                src,
                sport,
                dst,
                dport,
                method: r.str("method").map(str::to_owned),
                host: r.str("host").map(|h| text::host_without_port(h.as_bytes())),
                uri: r.str("uri").map(str::to_owned),
                user_agent: r.str("user_agent").map(str::to_owned),
                request_body_len: r.count("request_body_len")?,
                response_body_len: r.count("response_body_len")?,
                label: r.label().map(Into::into),
            }),
        };
        Ok(Some(rec))
    }
}

/// The kind a row's keys suggest.
fn guess_kind(o: &Map<String, Value>) -> Option<LogKind> {
    if o.contains_key("conn_state") || o.contains_key("orig_ip_bytes") {
        Some(LogKind::Conn)
    } else if o.contains_key("query") || o.contains_key("qtype") {
        Some(LogKind::Dns)
    } else if o.contains_key("method") || o.contains_key("uri") {
        Some(LogKind::Http)
    } else if o.contains_key("server_name") || o.contains_key("cipher") {
        Some(LogKind::Ssl)
    } else {
        None
    }
}

struct Row<'a> {
    o: &'a Map<String, Value>,
    n: u64,
}

impl Row<'_> {
    fn bad(&self, key: &str, expected: &'static str) -> Error {
        let found = self.o.get(key).map(Value::to_string).unwrap_or_default();
        Error::field(self.n, key, expected, found.as_bytes())
    }

    fn str(&self, key: &str) -> Option<&str> {
        self.o
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && *s != "-")
    }

    fn f64(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| self.bad(key, "a number")),
        }
    }

    fn u64(&self, key: &str) -> Result<Option<u64>, Error> {
        match self.o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| self.bad(key, "a count")),
        }
    }

    fn count(&self, key: &str) -> Result<u64, Error> {
        Ok(self.u64(key)?.unwrap_or(0))
    }

    fn ts(&self) -> Result<f64, Error> {
        match self.o.get("ts") {
            Some(Value::Number(n)) => n.as_f64().ok_or_else(|| self.bad("ts", "a time")),
            Some(Value::String(s)) => iso8601(s.as_bytes()).ok_or_else(|| self.bad("ts", "a time")),
            _ => Err(self.bad("ts", "a time")),
        }
    }

    fn ip(&self, key: &str) -> Result<std::net::IpAddr, Error> {
        self.str(key)
            .and_then(|s| text::parse_ip(s.as_bytes()))
            .ok_or_else(|| self.bad(key, "an IP address"))
    }

    fn port(&self, key: &str) -> Result<u16, Error> {
        self.o
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| self.bad(key, "a port number"))
    }

    fn label(&self) -> Option<String> {
        let l = self.str("label")?;
        match self
            .str("detailedlabel")
            .or_else(|| self.str("detailed-label"))
        {
            Some(d) => Some(format!("{l}/{d}")),
            None => Some(l.to_owned()),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH:MM]` to seconds since the epoch.
fn iso8601(s: &[u8]) -> Option<f64> {
    let num = |a: usize, b: usize| s.get(a..b).and_then(text::parse_u64);
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if s.get(4) != Some(&b'-')
        || !matches!(s.get(10), Some(b'T' | b' '))
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix(b".") {
        let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
        let f = r.get(..digits)?;
        frac = text::parse_f64(&[b"0.", f].concat())?;
        rest = r.get(digits..)?;
    }
    let offset = match rest {
        b"" | b"Z" | b"z" => 0i64,
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] => {
            let hh = text::parse_u64(&[*hh1, *hh2])?;
            let mm = text::parse_u64(&[*mm1, *mm2])?;
            let o = i64::try_from(hh * 3600 + mm * 60).ok()?;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let (y, mo, d) = (
        i64::try_from(y).ok()?,
        i64::try_from(mo).ok()?,
        i64::try_from(d).ok()?,
    );
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::try_from(h * 3600 + mi * 60 + sec).ok()? - offset;
    Some(secs as f64 + frac)
}

/// Reads a whole Zeek JSON log held in memory; `file_name` decides the kind when it names one.
pub fn parse_json_log(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &Options,
    sink: &mut dyn FnMut(Record),
) -> Result<ReadStats, Error> {
    JsonParser::new(file_name.and_then(LogKind::from_file_name), options)
        .parse_chunk_at(bytes, 1, sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rows() {
        let t = br#"{"ts":1714417205.459272,"uid":"C","id.orig_h":"10.0.0.238","id.orig_p":38239,"id.resp_h":"75.75.75.75","id.resp_p":53,"proto":"udp","service":"dns","orig_bytes":191,"conn_state":"SF","orig_pkts":2}
{"ts":"2024-04-29T15:00:05.5Z","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"query":"A.B","qtype_name":"TXT","rcode":0,"answers":["x"]}
{"ts":1,"id.orig_h":"10.0.0.1","id.orig_p":"abc","id.resp_h":"10.0.0.2","id.resp_p":53,"query":"a"}
not json
"#;
        let mut out = Vec::new();
        let stats = parse_json_log(t, None, &Options::default(), &mut |r| out.push(r)).unwrap();
        assert_eq!((stats.rows_read, stats.rows_skipped), (2, 2));
        let Record::Conn(c) = &out[0] else { panic!() };
        assert_eq!(
            (c.dport, c.orig_bytes, c.conn_state),
            (53, 191, ConnState::Sf)
        );
        let Record::Dns(d) = &out[1] else { panic!() };
        assert_eq!((d.ts, d.qtype, d.query.as_str()), (1714402805.5, 16, "a.b"));
        assert!(
            stats.skip_reasons[0].contains("field id.orig_p: expected a port number"),
            "{:?}",
            stats.skip_reasons
        );
        assert_eq!(iso8601(b"1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(iso8601(b"2000-03-01T01:00:00+01:00"), Some(951868800.0));
    }
}
