//! `UTCTime` / `GeneralizedTime` (RFC 5280 §4.1.2.5) as Unix seconds, and validity periods.

use crate::der::{Tag, Tlv};
use tamperscan_bytes::Error;

/// A point in time, in seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Time {
    /// Decodes a `UTCTime` or `GeneralizedTime` element (`Z` or `+hhmm`/`-hhmm` offsets,
    /// optional seconds and fractions).
    pub fn parse(tlv: &Tlv<'_>) -> Result<Time, Error> {
        let text = std::str::from_utf8(tlv.value)
            .map_err(|_| Error::invalid(tlv.offset, "time", "not ASCII"))?;
        let bad = |why: &str| Error::invalid(tlv.offset, "time", format!("{why}: {text:?}"));
        let (year, rest) = if tlv.tag == Tag::UTC_TIME {
            let yy = digits(text.get(0..2)).ok_or_else(|| bad("bad year"))?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..))
        } else if tlv.tag == Tag::GENERALIZED_TIME {
            (
                digits(text.get(0..4)).ok_or_else(|| bad("bad year"))?,
                text.get(4..),
            )
        } else {
            return Err(bad("expected UTCTime or GeneralizedTime"));
        };
        let rest = rest.ok_or_else(|| bad("too short"))?;
        let month = digits(rest.get(0..2)).ok_or_else(|| bad("bad month"))?;
        let day = digits(rest.get(2..4)).ok_or_else(|| bad("bad day"))?;
        let hour = digits(rest.get(4..6)).ok_or_else(|| bad("bad hour"))?;
        let minute = digits(rest.get(6..8)).ok_or_else(|| bad("bad minute"))?;
        let mut tail = rest.get(8..).unwrap_or_default();
        let mut second = 0;
        if let Some(s) = digits(tail.get(0..2)) {
            second = s;
            tail = tail.get(2..).unwrap_or_default();
        }
        if let Some(frac) = tail.strip_prefix('.') {
            tail = frac.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        let offset = match tail {
            "Z" | "" => 0,
            _ => {
                let sign = match tail.get(0..1) {
                    Some("+") => 1,
                    Some("-") => -1,
                    _ => return Err(bad("bad time zone")),
                };
                let h = digits(tail.get(1..3)).ok_or_else(|| bad("bad time zone"))?;
                let m = digits(tail.get(3..5)).ok_or_else(|| bad("bad time zone"))?;
                sign * (h * 3600 + m * 60)
            }
        };
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(bad("field out of range"));
        }
        let days = days_from_civil(year, month, day);
        Ok(Time(
            days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        ))
    }

    /// The time as `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_rfc3339(&self) -> String {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

fn digits(s: Option<&str>) -> Option<i64> {
    let s = s?;
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A validity period (`notBefore`, `notAfter`), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validity {
    /// Start of validity.
    pub not_before: Time,
    /// End of validity.
    pub not_after: Time,
}

impl Validity {
    /// True when `at` lies inside the period.
    pub fn contains(&self, at: Time) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der::Der;

    fn t(bytes: &[u8]) -> Result<Time, Error> {
        Time::parse(&Der::new(bytes).read().unwrap())
    }

    #[test]
    fn parses_both_forms() {
        // 20180101000000Z = 1514764800
        let g = t(b"\x18\x0f20180101000000Z").unwrap();
        assert_eq!(g, Time(1_514_764_800));
        assert_eq!(g.to_rfc3339(), "2018-01-01T00:00:00Z");
        let u = t(b"\x17\x0d180622151644Z").unwrap();
        assert_eq!(u.to_rfc3339(), "2018-06-22T15:16:44Z");
        let u = t(b"\x17\x0d491231235959Z").unwrap();
        assert_eq!(u.to_rfc3339(), "2049-12-31T23:59:59Z");
        let u = t(b"\x17\x0d500101000000Z").unwrap();
        assert_eq!(u.to_rfc3339(), "1950-01-01T00:00:00Z");
        let off = t(b"\x18\x1320180101010000+0100").unwrap();
        assert_eq!(off, Time(1_514_764_800));
        assert!(t(b"\x18\x0f20181301000000Z").is_err());
        assert!(t(b"\x18\x032018").is_err());
        assert!(t(b"\x04\x0f20180101000000Z").is_err());
    }
}
