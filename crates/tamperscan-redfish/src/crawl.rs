//! Reading the resources of a capture: from the service root along `@odata.id` links for a
//! mockup, or every file by its own `@odata.id` for a flat set of responses.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde_json::Value;

use crate::capture::{Issues, Limits};
use crate::json::str_at;
use crate::odata::{collect_links, id_from_path, normalize_id};

/// The service root, where every walk starts.
pub(crate) const SERVICE_ROOT: &str = "/redfish/v1";

/// Links followed out of one resource; a real collection has a few hundred members.
const MAX_LINKS_PER_RESOURCE: usize = 100_000;

/// One resource that was read.
#[derive(Debug)]
pub(crate) struct Resource {
    /// Its normalized `@odata.id` (its own, else the one it was reached by).
    pub id: String,
    /// Its key in the capture.
    pub path: String,
    /// The JSON object.
    pub value: Value,
}

/// What the walk read.
#[derive(Debug, Default)]
pub(crate) struct Crawl {
    /// Resources in the order they were reached.
    pub resources: Vec<Resource>,
    /// Normalized `@odata.id` -> index in `resources`.
    pub by_id: HashMap<String, usize>,
    /// Mockup files that no link reached.
    pub unreached: usize,
    /// Distinct links whose target is not in the capture.
    pub unresolved: usize,
    /// Resources that could not be read (each has an issue).
    pub failed: usize,
}

impl Crawl {
    /// The resource with this (normalized) `@odata.id`.
    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.resources.get(*self.by_id.get(id)?)
    }

    fn add(&mut self, resource: Resource, also: Option<String>) -> usize {
        let idx = self.resources.len();
        self.by_id.entry(resource.id.clone()).or_insert(idx);
        if let Some(id) = also {
            self.by_id.entry(id).or_insert(idx);
        }
        self.resources.push(resource);
        idx
    }
}

/// Reads the capture.
pub(crate) fn crawl(
    input: &BTreeMap<String, Vec<u8>>,
    limits: &Limits,
    issues: &mut Issues,
) -> Crawl {
    let mut by_path: HashMap<String, &str> = HashMap::new();
    let mut by_lower: HashMap<String, &str> = HashMap::new();
    for key in input.keys() {
        if let Some(id) = id_from_path(key) {
            by_lower.entry(id.to_ascii_lowercase()).or_insert(key);
            by_path.entry(id).or_insert(key);
        }
    }
    match by_path.get(SERVICE_ROOT) {
        Some(root) => walk_mockup(input, root, &by_path, &by_lower, limits, issues),
        None => read_flat(input, limits, issues),
    }
}

fn walk_mockup(
    input: &BTreeMap<String, Vec<u8>>,
    root: &str,
    by_path: &HashMap<String, &str>,
    by_lower: &HashMap<String, &str>,
    limits: &Limits,
    issues: &mut Issues,
) -> Crawl {
    let mut crawl = Crawl::default();
    let mut queue: VecDeque<(&str, String, usize)> = VecDeque::new();
    let mut queued: HashSet<&str> = HashSet::new();
    let mut unresolved: HashSet<String> = HashSet::new();
    let mut depth_limited = false;
    queue.push_back((root, SERVICE_ROOT.to_string(), 0));
    queued.insert(root);
    while let Some((key, link_id, depth)) = queue.pop_front() {
        if crawl.resources.len() >= limits.max_resources {
            issues.push(
                key,
                format!(
                    "stopped reading after {} resources (limit); {} more were linked",
                    limits.max_resources,
                    queue.len() + 1
                ),
            );
            break;
        }
        let Some(bytes) = input.get(key) else {
            continue;
        };
        let Some(value) = load(key, bytes, limits, issues) else {
            crawl.failed += 1;
            continue;
        };
        let mut links = Vec::new();
        collect_links(&value, &mut links, MAX_LINKS_PER_RESOURCE);
        let own = str_at(&value, &["@odata.id"]).and_then(normalize_id);
        let (id, also) = match own {
            Some(own) if own != link_id => (own, Some(link_id)),
            Some(own) => (own, None),
            None => (link_id, None),
        };
        crawl.add(
            Resource {
                id,
                path: key.to_string(),
                value,
            },
            also,
        );
        for raw in links {
            let Some(target) = normalize_id(&raw) else {
                continue;
            };
            let found = by_path
                .get(&target)
                .or_else(|| by_lower.get(&target.to_ascii_lowercase()));
            let Some(&target_key) = found else {
                unresolved.insert(target);
                continue;
            };
            if queued.contains(target_key) {
                continue;
            }
            if depth >= limits.max_depth {
                depth_limited = true;
                continue;
            }
            queued.insert(target_key);
            queue.push_back((target_key, target, depth + 1));
        }
    }
    if depth_limited {
        issues.push(
            root,
            format!(
                "links deeper than {} levels were not followed",
                limits.max_depth
            ),
        );
    }
    crawl.unresolved = unresolved.len();
    crawl.unreached = by_path
        .values()
        .collect::<HashSet<_>>()
        .iter()
        .filter(|k| !queued.contains(**k))
        .count();
    crawl
}

fn read_flat(input: &BTreeMap<String, Vec<u8>>, limits: &Limits, issues: &mut Issues) -> Crawl {
    let mut crawl = Crawl::default();
    let mut loaded: Vec<Resource> = Vec::new();
    for (key, bytes) in input {
        if loaded.len() >= limits.max_resources {
            issues.push(
                key,
                format!(
                    "stopped reading after {} resources (limit)",
                    limits.max_resources
                ),
            );
            break;
        }
        let Some(value) = load(key, bytes, limits, issues) else {
            crawl.failed += 1;
            continue;
        };
        let own = str_at(&value, &["@odata.id"]).and_then(normalize_id);
        // A response without an identifier is still read for what it is; its key (which has
        // no leading slash) can never be the target of a link.
        let id = own
            .or_else(|| id_from_path(key))
            .unwrap_or_else(|| key.clone());
        loaded.push(Resource {
            id,
            path: key.clone(),
            value,
        });
    }
    // The service root first, so that what it says (the vendor) is known before the rest.
    loaded.sort_by_key(|r| r.id != SERVICE_ROOT);
    let mut seen: HashMap<String, String> = HashMap::new();
    for r in loaded {
        if let Some(first) = seen.get(&r.id) {
            issues.push(
                &r.path,
                format!(
                    "same @odata.id {} as {first}; only the first one is read",
                    r.id
                ),
            );
            continue;
        }
        seen.insert(r.id.clone(), r.path.clone());
        crawl.add(r, None);
    }
    crawl
}

/// Parses one resource; every way it can be unusable is an issue naming its path.
fn load(path: &str, bytes: &[u8], limits: &Limits, issues: &mut Issues) -> Option<Value> {
    if bytes.len() > limits.max_resource_bytes {
        issues.push(
            path,
            format!(
                "resource is {} bytes, more than the limit of {}",
                bytes.len(),
                limits.max_resource_bytes
            ),
        );
        return None;
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            issues.push(path, format!("not JSON: {e}"));
            return None;
        }
    };
    let kind = match &value {
        Value::Object(_) => None,
        Value::Null => Some("null"),
        Value::Bool(_) => Some("a boolean"),
        Value::Number(_) => Some("a number"),
        Value::String(_) => Some("a string"),
        Value::Array(_) => Some("an array"),
    };
    if let Some(kind) = kind {
        issues.push(path, format!("not a JSON object but {kind}"));
        return None;
    }
    if let Some(err) = value.get("error") {
        if value.get("@odata.id").is_none() {
            let msg = str_at(err, &["message"])
                .or_else(|| {
                    err.get("@Message.ExtendedInfo")?
                        .as_array()?
                        .first()?
                        .get("Message")?
                        .as_str()
                })
                .unwrap_or("no message");
            issues.push(
                path,
                format!("the BMC answered with an error: {}", cut(msg, 200)),
            );
            return None;
        }
    }
    Some(value)
}

/// `text` cut to at most `max` characters.
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", text.get(..i).unwrap_or_default()),
        None => text.to_string(),
    }
}
