//! NVRAM volumes: the variable stores inside them, read with `tamperscan-flash`.

use crate::manifest::{FreeSpace, Issue, Variable};
use crate::uefi::{raw_module, Place};
use crate::{hex_sha256, Ctx, Out};
use tamperscan_bytes::hex;
use tamperscan_flash::nvram;

/// Reads the data area of an NVRAM volume: variables, fault-tolerant-write blocks, and bytes
/// that are not erased outside them (reported as free-space data).
pub(crate) fn volume_body(_ctx: &Ctx, body: &[u8], place: Place, path: &str, out: &mut Out) {
    // The whole area is also a module, so a diff sees any change to it.
    out.modules
        .push(raw_module(body, place, path, "NVRAM data"));
    let found = nvram::scan(body, place.base);
    for store in &found.stores {
        for v in &store.variables {
            let signatures = match &v.signature_lists {
                Some(Ok(lists)) => lists
                    .iter()
                    .flat_map(|l| {
                        let kind = l
                            .type_name()
                            .map(str::to_string)
                            .unwrap_or_else(|| l.signature_type.to_string());
                        l.entries.iter().map(move |e| match &e.hash {
                            Some(h) => format!("{kind} {}", hex(h)),
                            None => format!("{kind} sha256:{}", hex(&e.sha256)),
                        })
                    })
                    .collect(),
                _ => Vec::new(),
            };
            out.variables.push(Variable {
                name: v.name.clone(),
                guid: v.vendor,
                attributes: v.attributes.to_string(),
                state: v.state.as_str().to_string(),
                offset: v.offset,
                size: v.data.len() as u64,
                sha256: hex(&v.data_sha256),
                signatures,
            });
        }
        for i in &store.issues {
            push_issue(body, place, path, i, out);
        }
    }
    for i in &found.issues {
        push_issue(body, place, path, i, out);
    }
    for e in &found.errors {
        out.issues.push(Issue {
            kind: "nvram_unparseable",
            offset: e.offset,
            stored_in: place.stored_in,
            path: path.to_string(),
            message: e.to_string(),
        });
    }
}

fn push_issue(body: &[u8], place: Place, path: &str, i: &tamperscan_flash::Issue, out: &mut Out) {
    if i.message.contains("not erased") {
        let from = usize::try_from(i.offset.saturating_sub(place.base)).unwrap_or(usize::MAX);
        let to = from.saturating_add(usize::try_from(i.length).unwrap_or(0));
        if let Some(span) = body.get(from..to) {
            out.free_space.push(FreeSpace {
                within: format!("NVRAM volume {path}"),
                offset: i.offset,
                stored_in: place.stored_in,
                size: i.length,
                sha256: hex_sha256(span),
                preview: hex(&span[..span.len().min(16)]),
            });
            return;
        }
    }
    out.issues.push(Issue {
        kind: "nvram",
        offset: i.offset,
        stored_in: place.stored_in,
        path: path.to_string(),
        message: i.message.clone(),
    });
}
