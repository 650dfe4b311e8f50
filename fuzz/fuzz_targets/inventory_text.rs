#![no_main]
//! Operator-written inventory text: bills of materials (TOML and CSV) and fleet queries.
//! Parsed or refused with a reason, never a panic; a parsed query evaluates without one.

use libfuzzer_sys::fuzz_target;
use tamperscan_inventory::{bom::Bom, query};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Bom::from_toml(text);
    let _ = Bom::from_csv(text);
    if let Ok(q) = query::parse(text) {
        let _ = q.expr.eval(&|c: &query::Condition| c.holds(Some(&c.value)));
    }
});
