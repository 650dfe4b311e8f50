//! The fleet query language: which servers have (or had) a part.
//!
//! ```text
//! board.model = "X11DPH-T" and bmc.firmware.version < "1.73" since 2026-01-01
//! nic.manufacturer ~ broadcom or (bmc.firmware = 1.71.11 and not board.serial = ZM19AS026837)
//! ```
//!
//! A condition is `CLASS.FIELD OP VALUE`. CLASS is a component class (`board`/`baseboard`,
//! `bmc`, `bios`, `nic`, `cpu`, `memory`, `storage`, `storage_controller`, `gpu`, `psu`, `tpm`,
//! `cpld`, `pcie`, `system`, `chassis`); FIELD is `manufacturer`, `model`, `serial`,
//! `revision`, `firmware.version` (or `firmware`), `location`. OP is `=`, `!=`,
//! `~` (contains, case-insensitive), or `<`, `<=`, `>`, `>=` (versions compared piece by piece,
//! numbers as numbers: `1.9 < 1.10`). VALUE is a word or a "quoted string". Conditions combine
//! with `and`, `or`, `not` and parentheses (`and` binds tighter than `or`). A host matches a
//! condition when any of its current components of that class does; with `since YYYY-MM-DD`,
//! when any component it had at any time from that date on does (a part swapped out since still
//! counts).

use serde::Serialize;
use std::cmp::Ordering;

/// A component field a condition tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Manufacturer.
    Manufacturer,
    /// Model.
    Model,
    /// Serial number.
    Serial,
    /// Hardware revision.
    Revision,
    /// Firmware version.
    FirmwareVersion,
    /// Slot or locator.
    Location,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Op {
    /// `=` (case-insensitive).
    Eq,
    /// `!=`.
    Ne,
    /// `~`: contains, case-insensitive.
    Contains,
    /// `<` in version order.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Condition {
    /// Component class, as the inventory model names it (`baseboard`, `bmc`, `nic`, ...).
    pub class: String,
    /// Field.
    pub field: Field,
    /// Comparison.
    pub op: Op,
    /// Value.
    pub value: String,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Expr {
    /// A condition.
    Cond(Condition),
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Not.
    Not(Box<Expr>),
}

/// A query: an expression and an optional window start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    /// The expression.
    pub expr: Expr,
    /// `since YYYY-MM-DD`, as given.
    pub since: Option<String>,
}

/// Why a query was refused, with the character position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query column {column}: {reason}")]
pub struct QueryError {
    /// 1-based column.
    pub column: usize,
    /// What was expected.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Op),
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push((col, Tok::Open));
            i += 1;
        } else if c == ')' {
            out.push((col, Tok::Close));
            i += 1;
        } else if c == '"' {
            let start = i + 1;
            let end = chars[start..]
                .iter()
                .position(|&x| x == '"')
                .ok_or(QueryError {
                    column: col,
                    reason: "a quoted string is not closed".into(),
                })?;
            out.push((col, Tok::Str(chars[start..start + end].iter().collect())));
            i = start + end + 1;
        } else if "=!<>~".contains(c) {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (op, len) = match two.as_str() {
                "!=" => (Op::Ne, 2),
                "<=" => (Op::Le, 2),
                ">=" => (Op::Ge, 2),
                "==" => (Op::Eq, 2),
                _ => match c {
                    '=' => (Op::Eq, 1),
                    '<' => (Op::Lt, 1),
                    '>' => (Op::Gt, 1),
                    '~' => (Op::Contains, 1),
                    _ => {
                        return Err(QueryError {
                            column: col,
                            reason: "`!` must be followed by `=`".into(),
                        })
                    }
                },
            };
            out.push((col, Tok::Op(op)));
            i += len;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()\"=!<>~".contains(chars[i]) {
                i += 1;
            }
            out.push((col, Tok::Word(chars[start..i].iter().collect())));
        }
        if out.len() > 10_000 {
            return Err(QueryError {
                column: col,
                reason: "the query is too long".into(),
            });
        }
    }
    Ok(out)
}

/// Maps a class name or alias to the inventory model's name.
pub fn class_name(alias: &str) -> Option<&'static str> {
    Some(match alias.to_ascii_lowercase().as_str() {
        "board" | "baseboard" | "motherboard" => "baseboard",
        "system" => "system",
        "chassis" => "chassis",
        "bios" | "uefi" => "bios",
        "bmc" => "bmc",
        "cpu" | "processor" => "cpu",
        "memory" | "dimm" => "memory",
        "nic" | "network" => "nic",
        "storage" | "drive" | "disk" => "storage",
        "storage_controller" | "raid" | "hba" => "storage_controller",
        "gpu" => "gpu",
        "psu" | "power_supply" => "power_supply",
        "tpm" => "tpm",
        "cpld" => "cpld",
        "pcie" | "pci" => "pcie",
        _ => return None,
    })
}

fn field_of(path: &[&str]) -> Option<Field> {
    Some(match path {
        ["manufacturer"] | ["vendor"] => Field::Manufacturer,
        ["model"] | ["product"] => Field::Model,
        ["serial"] => Field::Serial,
        ["revision"] | ["version"] => Field::Revision,
        ["firmware"] | ["firmware", "version"] | ["firmware_version"] => Field::FirmwareVersion,
        ["location"] | ["slot"] => Field::Location,
        _ => return None,
    })
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn err<T>(&self, reason: impl Into<String>) -> Result<T, QueryError> {
        Err(QueryError {
            column: self.col(),
            reason: reason.into(),
        })
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.toks.get(self.pos), Some((_, Tok::Word(w))) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        self.depth += 1;
        if self.depth > 64 {
            return self.err("the query nests deeper than 64 levels");
        }
        let e = if self.keyword("not") {
            self.pos += 1;
            Expr::Not(Box::new(self.unary()?))
        } else if matches!(self.toks.get(self.pos), Some((_, Tok::Open))) {
            self.pos += 1;
            let e = self.or()?;
            if !matches!(self.toks.get(self.pos), Some((_, Tok::Close))) {
                return self.err("expected `)`");
            }
            self.pos += 1;
            e
        } else {
            Expr::Cond(self.cond()?)
        };
        self.depth -= 1;
        Ok(e)
    }

    fn cond(&mut self) -> Result<Condition, QueryError> {
        let Some((_, Tok::Word(path))) = self.toks.get(self.pos).cloned() else {
            return self.err("expected a field such as board.model or bmc.firmware.version");
        };
        let parts: Vec<&str> = path.split('.').collect();
        let Some((class, rest)) = parts.split_first() else {
            return self.err("expected a field");
        };
        let Some(class) = class_name(class) else {
            return self.err(format!("{class:?} is not a component class (board, bmc, bios, nic, cpu, memory, storage, gpu, psu, tpm, cpld, system, chassis)"));
        };
        let Some(field) = field_of(rest) else {
            return self.err(format!("{path:?}: the field after the class must be manufacturer, model, serial, revision, firmware.version or location"));
        };
        self.pos += 1;
        let Some((_, Tok::Op(op))) = self.toks.get(self.pos).cloned() else {
            return self.err("expected one of = != ~ < <= > >=");
        };
        self.pos += 1;
        let value = match self.toks.get(self.pos).cloned() {
            Some((_, Tok::Word(w))) | Some((_, Tok::Str(w))) => w,
            _ => return self.err("expected a value (a word or a \"quoted string\")"),
        };
        self.pos += 1;
        Ok(Condition {
            class: class.to_string(),
            field,
            op,
            value,
        })
    }
}

/// Parses a query.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let mut toks = lex(text)?;
    let end = text.chars().count() + 1;
    // A trailing `since DATE`.
    let mut since = None;
    if toks.len() >= 2 {
        let n = toks.len();
        if matches!(&toks[n - 2].1, Tok::Word(w) if w.eq_ignore_ascii_case("since")) {
            let (col, date) = match &toks[n - 1] {
                (c, Tok::Word(d)) | (c, Tok::Str(d)) => (*c, d.clone()),
                (c, _) => {
                    return Err(QueryError {
                        column: *c,
                        reason: "expected a date after since (YYYY-MM-DD)".into(),
                    })
                }
            };
            if !valid_date(&date) {
                return Err(QueryError {
                    column: col,
                    reason: format!("{date:?} is not a date (YYYY-MM-DD)"),
                });
            }
            since = Some(date);
            toks.truncate(n - 2);
        }
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end,
        depth: 0,
    };
    if p.toks.is_empty() {
        return p.err("the query is empty; e.g. board.model = \"X11DPH-T\"");
    }
    let expr = p.or()?;
    if p.pos < p.toks.len() {
        return p.err("expected `and`, `or` or the end of the query");
    }
    Ok(Query { expr, since })
}

fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && matches!(d.get(5..7).and_then(|m| m.parse::<u8>().ok()), Some(1..=12))
        && matches!(
            d.get(8..10).and_then(|m| m.parse::<u8>().ok()),
            Some(1..=31)
        )
}

/// Compares two versions piece by piece: runs of digits as numbers, other runs as text
/// (case-insensitive). `1.9 < 1.10`, `1.71.11 > 1.71.2`.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn pieces(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            if !c.is_ascii_alphanumeric() {
                out.push((false, String::new()));
                continue;
            }
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, run)) if *d == digit && !run.is_empty() => run.push(c),
                _ => out.push((digit, c.to_ascii_lowercase().to_string())),
            }
        }
        out.into_iter().filter(|(_, r)| !r.is_empty()).collect()
    }
    let (pa, pb) = (pieces(a), pieces(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.0, y.0) {
            (true, true) => {
                let (xs, ys) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                xs.len().cmp(&ys.len()).then_with(|| xs.cmp(ys))
            }
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.1.cmp(&y.1),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

impl Condition {
    /// Whether a field value satisfies this condition.
    pub fn holds(&self, value: Option<&str>) -> bool {
        let Some(v) = value else {
            return self.op == Op::Ne;
        };
        let (lv, lw) = (v.to_lowercase(), self.value.to_lowercase());
        match self.op {
            Op::Eq => lv == lw,
            Op::Ne => lv != lw,
            Op::Contains => lv.contains(&lw),
            Op::Lt => compare_versions(v, &self.value) == Ordering::Less,
            Op::Le => compare_versions(v, &self.value) != Ordering::Greater,
            Op::Gt => compare_versions(v, &self.value) == Ordering::Greater,
            Op::Ge => compare_versions(v, &self.value) != Ordering::Less,
        }
    }
}

impl Expr {
    /// Every condition, left to right.
    pub fn conditions(&self) -> Vec<&Condition> {
        match self {
            Expr::Cond(c) => vec![c],
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = a.conditions();
                v.extend(b.conditions());
                v
            }
            Expr::Not(a) => a.conditions(),
        }
    }

    /// Evaluates with `holds(condition)` telling whether the host satisfies each condition.
    pub fn eval(&self, holds: &dyn Fn(&Condition) -> bool) -> bool {
        match self {
            Expr::Cond(c) => holds(c),
            Expr::And(a, b) => a.eval(holds) && b.eval(holds),
            Expr::Or(a, b) => a.eval(holds) || b.eval(holds),
            Expr::Not(a) => !a.eval(holds),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_queries_parse() {
        let q = parse(
            "board.model = \"X11DPH-T\" and bmc.firmware.version < \"1.73\" since 2026-01-01",
        )
        .unwrap();
        assert_eq!(q.since.as_deref(), Some("2026-01-01"));
        let c = q.expr.conditions();
        assert_eq!(c.len(), 2);
        assert_eq!(
            (
                c[0].class.as_str(),
                c[0].field,
                c[0].op,
                c[0].value.as_str()
            ),
            ("baseboard", Field::Model, Op::Eq, "X11DPH-T")
        );
        assert_eq!(
            (c[1].class.as_str(), c[1].field, c[1].op),
            ("bmc", Field::FirmwareVersion, Op::Lt)
        );
        let q = parse("nic.manufacturer ~ broadcom or (bmc.firmware = 1.71.11 and not board.serial = ZM19AS026837)").unwrap();
        assert!(matches!(q.expr, Expr::Or(..)));
        assert!(q.since.is_none());
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let q = parse("bmc.model = a or bmc.model = b and bmc.model = c").unwrap();
        let Expr::Or(_, right) = q.expr else {
            panic!("or at the top")
        };
        assert!(matches!(*right, Expr::And(..)));
    }

    #[test]
    fn errors_say_where_and_what() {
        for (q, col, what) in [
            ("", 1, "empty"),
            ("board.model", 12, "expected one of"),
            ("wheel.model = x", 1, "not a component class"),
            ("board.colour = red", 1, "the field after the class"),
            ("board.model = \"x", 15, "not closed"),
            ("(board.model = x", 17, "expected `)`"),
            ("board.model = x since 2026-13-01", 23, "not a date"),
            ("board.model = x board.model = y", 17, "expected `and`"),
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.column, col, "{q:?}: {e}");
            assert!(e.reason.contains(what), "{q:?}: {e}");
        }
        assert!(parse(&"(".repeat(200)).is_err());
    }

    #[test]
    fn versions_compare_as_people_read_them() {
        assert_eq!(compare_versions("1.9", "1.10"), Ordering::Less);
        assert_eq!(compare_versions("1.71.11", "1.71.2"), Ordering::Greater);
        assert_eq!(compare_versions("1.73", "1.73"), Ordering::Equal);
        assert_eq!(compare_versions("1.73", "1.73.1"), Ordering::Less);
        assert_eq!(compare_versions("2.1.7b", "2.1.7a"), Ordering::Greater);
        let c = Condition {
            class: "bmc".into(),
            field: Field::FirmwareVersion,
            op: Op::Lt,
            value: "1.73".into(),
        };
        assert!(c.holds(Some("1.71.11")));
        assert!(!c.holds(Some("1.73")));
        assert!(!c.holds(None));
    }
}
