//! OData identifiers (`@odata.id`, Redfish Specification DSP0266 §6 "Resource identifier")
//! and how Redfish-Mockup-Creator lays resources out on disk (`<odata id>/index.json`).

use serde_json::Value;

/// Longest `@odata.id` we follow; real ones are well under 300 bytes.
pub(crate) const MAX_ID_LEN: usize = 1024;

/// How deep inside one resource we look for links (serde_json itself stops at 128 levels).
const MAX_JSON_DEPTH: usize = 64;

/// The canonical form of an `@odata.id` used to look resources up: absolute path, no scheme or
/// host, no query, no fragment, no trailing slash, no `index.json`, no empty segments.
/// `None` for text that cannot be an identifier.
pub(crate) fn normalize_id(raw: &str) -> Option<String> {
    normalize(raw, false)
}

/// Like [`normalize_id`] but keeps a `#/Member/0` fragment, which names an object embedded in
/// a resource (`/redfish/v1/Chassis/1/Power#/PowerSupplies/0`).
pub(crate) fn normalize_ref(raw: &str) -> Option<String> {
    normalize(raw, true)
}

fn normalize(raw: &str, keep_fragment: bool) -> Option<String> {
    let mut s = raw.trim();
    if s.is_empty() || s.len() > MAX_ID_LEN || s.chars().any(char::is_control) {
        return None;
    }
    for scheme in ["https://", "http://"] {
        if s.len() >= scheme.len()
            && s.get(..scheme.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        {
            let rest = s.get(scheme.len()..)?;
            s = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
        }
    }
    let (body, fragment) = match s.find('#') {
        Some(i) => (s.get(..i)?, s.get(i..)),
        None => (s, None),
    };
    let body = match body.find('?') {
        Some(i) => body.get(..i)?,
        None => body,
    };
    let mut out = String::with_capacity(body.len() + 1);
    for seg in body.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        out.push('/');
        out.push_str(seg);
    }
    if out.ends_with("/index.json") {
        out.truncate(out.len() - "/index.json".len());
    }
    if out.is_empty() {
        out.push('/');
    }
    if keep_fragment {
        if let Some(f) = fragment.filter(|f| f.len() > 1) {
            out.push_str(f.trim_end_matches('/'));
        }
    }
    Some(out)
}

/// The `@odata.id` a mockup file stands for: the path from its `redfish/v1` segments to the
/// `index.json` file name (`x/redfish/v1/Systems/1/index.json` -> `/redfish/v1/Systems/1`).
/// `None` for any other file name.
pub(crate) fn id_from_path(key: &str) -> Option<String> {
    let key = key.replace('\\', "/");
    let body = key.strip_suffix("index.json")?;
    if !(body.is_empty() || body.ends_with('/')) {
        return None;
    }
    let segs: Vec<&str> = body
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let pos = segs
        .windows(2)
        .position(|w| matches!(w, [a, b] if *a == "redfish" && *b == "v1"))?;
    let tail = segs.get(pos..)?;
    normalize_id(&tail.join("/"))
}

/// The resource type of a Redfish object: the last part of `@odata.type`
/// (`#ComputerSystem.v1_16_0.ComputerSystem` -> `ComputerSystem`).
pub(crate) fn type_name(value: &Value) -> Option<&str> {
    let t = value.get("@odata.type")?.as_str()?;
    let t = t.trim().trim_start_matches('#');
    t.rsplit('.').next().filter(|s| !s.is_empty())
}

/// Every `@odata.id` found anywhere inside `value` (links to other resources), appended to
/// `out` in document order, at most `max` of them.
pub(crate) fn collect_links(value: &Value, out: &mut Vec<String>, max: usize) {
    walk_links(value, out, max, 0);
}

fn walk_links(value: &Value, out: &mut Vec<String>, max: usize, depth: usize) {
    if depth > MAX_JSON_DEPTH || out.len() >= max {
        return;
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "@odata.id" || k == "@Redfish.ActionInfo" {
                    if let Some(s) = v.as_str() {
                        if out.len() < max {
                            out.push(s.to_string());
                        }
                    }
                } else {
                    walk_links(v, out, max, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                walk_links(v, out, max, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalized() {
        assert_eq!(normalize_id("/redfish/v1/").as_deref(), Some("/redfish/v1"));
        assert_eq!(
            normalize_id("/redfish/v1/Chassis/1/").as_deref(),
            Some("/redfish/v1/Chassis/1")
        );
        assert_eq!(
            normalize_id("/redfish/v1/Chassis/System.Embedded.1/Thermal#/Fans/0").as_deref(),
            Some("/redfish/v1/Chassis/System.Embedded.1/Thermal")
        );
        assert_eq!(
            normalize_ref("/redfish/v1/Chassis/1/Power#/PowerSupplies/0").as_deref(),
            Some("/redfish/v1/Chassis/1/Power#/PowerSupplies/0")
        );
        assert_eq!(
            normalize_id("https://10.0.0.1:443/redfish/v1/Systems/1?$expand=.").as_deref(),
            Some("/redfish/v1/Systems/1")
        );
        assert_eq!(
            normalize_id("redfish/v1/Systems/1/index.json").as_deref(),
            Some("/redfish/v1/Systems/1")
        );
        assert_eq!(normalize_id(""), None);
        assert_eq!(normalize_id("a\u{0}b"), None);
        assert_eq!(normalize_id(&"a".repeat(MAX_ID_LEN + 1)), None);
    }

    #[test]
    fn mockup_paths_map_to_ids() {
        assert_eq!(
            id_from_path("redfish/v1/Systems/System.Embedded.1/index.json").as_deref(),
            Some("/redfish/v1/Systems/System.Embedded.1")
        );
        assert_eq!(
            id_from_path("redfish/v1/index.json").as_deref(),
            Some("/redfish/v1")
        );
        assert_eq!(
            id_from_path("dell/redfish/v1/Chassis/index.json").as_deref(),
            Some("/redfish/v1/Chassis")
        );
        assert_eq!(id_from_path("redfish/index.json"), None);
        assert_eq!(id_from_path("systems_1.json"), None);
        assert_eq!(id_from_path("redfish/v1/Systems/notindex.json"), None);
    }

    #[test]
    fn types_and_links() {
        let v: Value = serde_json::json!({
            "@odata.id": "/a", "@odata.type": "#ComputerSystem.v1_16_0.ComputerSystem",
            "Links": {"Chassis": [{"@odata.id": "/b"}, {"@odata.id": "/c"}]}
        });
        assert_eq!(type_name(&v), Some("ComputerSystem"));
        let mut out = Vec::new();
        collect_links(&v, &mut out, 10);
        assert_eq!(out, ["/a", "/b", "/c"]);
        let mut out = Vec::new();
        collect_links(&v, &mut out, 2);
        assert_eq!(out.len(), 2);
    }
}
