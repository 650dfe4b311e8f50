//! Small typed accessors over `serde_json::Value` for Redfish properties.

use serde_json::Value;

use crate::odata::{normalize_id, normalize_ref};

/// The value at `path` (object keys, one per level).
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    Some(v)
}

/// The string at `path`.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path)?.as_str()
}

/// The boolean at `path`.
pub(crate) fn bool_at(value: &Value, path: &[&str]) -> Option<bool> {
    at(value, path)?.as_bool()
}

/// The normalized `@odata.id` of the link object at `path` (`{"@odata.id": "..."}`).
pub(crate) fn link_at(value: &Value, path: &[&str]) -> Option<String> {
    normalize_id(str_at(at(value, path)?, &["@odata.id"])?)
}

/// The normalized `@odata.id`s of an array of link objects at `path`, at most `max`.
pub(crate) fn links_at(value: &Value, path: &[&str], max: usize) -> Vec<String> {
    let Some(items) = at(value, path).and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| item.get("@odata.id")?.as_str())
        .filter_map(normalize_id)
        .take(max)
        .collect()
}

/// Like [`links_at`] but keeps `#/...` fragments naming embedded objects.
pub(crate) fn refs_at(value: &Value, path: &[&str], max: usize) -> Vec<String> {
    let Some(items) = at(value, path).and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| item.get("@odata.id")?.as_str())
        .filter_map(normalize_ref)
        .take(max)
        .collect()
}

/// The `Members` of a collection resource.
pub(crate) fn members(value: &Value, max: usize) -> Vec<String> {
    links_at(value, &["Members"], max)
}

/// The objects of the array at `path` (non-objects skipped), at most `max`.
pub(crate) fn objects_at<'a>(value: &'a Value, path: &[&str], max: usize) -> Vec<&'a Value> {
    match at(value, path).and_then(Value::as_array) {
        Some(items) => items.iter().filter(|v| v.is_object()).take(max).collect(),
        None => Vec::new(),
    }
}

/// True when the resource reports it is not installed (`Status.State` = `Absent`).
pub(crate) fn is_absent(value: &Value) -> bool {
    str_at(value, &["Status", "State"]).is_some_and(|s| s.eq_ignore_ascii_case("absent"))
}
