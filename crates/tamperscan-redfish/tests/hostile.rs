//! Hostile inputs: every one gives a value or an error, never a panic, a hang or unbounded
//! memory.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::json;
use tamperscan_redfish::{
    parse_capture, parse_capture_with, parse_lspci, parse_lspci_bytes, to_components,
    ComponentClass, Error, Limits,
};

/// A deterministic xorshift generator for garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn key(id: &str) -> String {
    format!("{}/index.json", id.trim_start_matches('/'))
}

fn small_capture() -> BTreeMap<String, Vec<u8>> {
    [
        (
            key("/redfish/v1"),
            json!({"@odata.id": "/redfish/v1", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
                   "Systems": {"@odata.id": "/redfish/v1/Systems"}}),
        ),
        (
            key("/redfish/v1/Systems"),
            json!({"@odata.id": "/redfish/v1/Systems", "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection",
                   "Members": [{"@odata.id": "/redfish/v1/Systems/1"}]}),
        ),
        (
            key("/redfish/v1/Systems/1"),
            json!({"@odata.id": "/redfish/v1/Systems/1", "@odata.type": "#ComputerSystem.v1_5_0.ComputerSystem",
                   "SerialNumber": "TS0001", "UUID": "0A1B2C3D-0000-1111-2222-333344445555",
                   "BiosVersion": "1.0", "Manufacturer": "Example"}),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, serde_json::to_vec(&v).unwrap()))
    .collect()
}

#[test]
fn the_small_capture_reads() {
    let cap = parse_capture(&small_capture()).unwrap();
    assert_eq!(cap.resources_read, 3);
    assert_eq!(cap.identifiers.system_serial.as_deref(), Some("TS0001"));
    assert_eq!(
        cap.identifiers.smbios_uuid.as_deref(),
        Some("0a1b2c3d-0000-1111-2222-333344445555")
    );
}

#[test]
fn truncation_of_any_resource_at_every_offset() {
    let full = small_capture();
    for (k, bytes) in &full {
        for cut in 0..bytes.len() {
            let mut set = full.clone();
            set.insert(k.clone(), bytes[..cut].to_vec());
            match parse_capture(&set) {
                Ok(cap) => {
                    // The broken resource is named; the others are still read.
                    assert!(cap.issues.iter().any(|i| &i.path == k), "{k} at {cut}");
                }
                Err(e) => assert!(matches!(e, Error::NoJsonResources { .. }), "{e}"),
            }
        }
    }
}

#[test]
fn invalid_json_and_non_objects_are_issues() {
    let mut set = small_capture();
    set.insert(key("/redfish/v1/Systems"), b"{\"Members\": [".to_vec());
    let cap = parse_capture(&set).unwrap();
    assert_eq!(cap.resources_read, 1);
    assert!(
        cap.issues[0].message.starts_with("not JSON"),
        "{:?}",
        cap.issues
    );
    assert_eq!(cap.issues[0].path, "redfish/v1/Systems/index.json");

    for (text, kind) in [
        ("[1,2]", "an array"),
        ("\"x\"", "a string"),
        ("null", "null"),
        ("7", "a number"),
    ] {
        let mut set = small_capture();
        set.insert(key("/redfish/v1/Systems/1"), text.as_bytes().to_vec());
        let cap = parse_capture(&set).unwrap();
        assert!(
            cap.issues.iter().any(|i| i.message.ends_with(kind)),
            "{text}"
        );
    }
    // Nesting deeper than serde_json accepts.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut set = small_capture();
    set.insert(key("/redfish/v1/Systems/1"), deep.into_bytes());
    let cap = parse_capture(&set).unwrap();
    assert!(
        cap.issues.iter().any(|i| i.message.contains("recursion")),
        "{:?}",
        cap.issues
    );

    assert_eq!(parse_capture(&BTreeMap::new()), Err(Error::EmptyCapture));
    let junk: BTreeMap<String, Vec<u8>> = [("a.json".to_string(), b"\xff\xfe".to_vec())].into();
    assert!(matches!(
        parse_capture(&junk),
        Err(Error::NoJsonResources { resources: 1, .. })
    ));
}

#[test]
fn cyclic_and_self_links_terminate() {
    let mut set = BTreeMap::new();
    set.insert(
        key("/redfish/v1"),
        serde_json::to_vec(
            &json!({"@odata.id": "/redfish/v1", "A": {"@odata.id": "/redfish/v1/A"},
            "Self": {"@odata.id": "/redfish/v1/"}}),
        )
        .unwrap(),
    );
    set.insert(
        key("/redfish/v1/A"),
        serde_json::to_vec(
            &json!({"@odata.id": "/redfish/v1/A", "B": {"@odata.id": "/redfish/v1/B"},
            "Back": {"@odata.id": "/redfish/v1"}}),
        )
        .unwrap(),
    );
    set.insert(
        key("/redfish/v1/B"),
        serde_json::to_vec(&json!({"@odata.id": "/redfish/v1/B", "A": {"@odata.id": "/redfish/v1/A#/x"},
            "@odata.type": "#NetworkAdapter.v1_0_0.NetworkAdapter",
            "NetworkPorts": {"@odata.id": "/redfish/v1/B"}, "Members": [{"@odata.id": "/redfish/v1/B"}]})).unwrap(),
    );
    let cap = parse_capture(&set).unwrap();
    assert_eq!(cap.resources_read, 3);
    assert_eq!(cap.components.len(), 1);

    // A chain deeper than the depth bound stops there, with an issue.
    let mut chain = BTreeMap::new();
    for i in 0..100 {
        let id = if i == 0 {
            "/redfish/v1".to_string()
        } else {
            format!("/redfish/v1/N{i}")
        };
        chain.insert(
            key(&id),
            serde_json::to_vec(
                &json!({"@odata.id": id, "Next": {"@odata.id": format!("/redfish/v1/N{}", i + 1)}}),
            )
            .unwrap(),
        );
    }
    let cap = parse_capture(&chain).unwrap();
    assert_eq!(cap.resources_read, Limits::default().max_depth + 1);
    assert!(cap.issues.iter().any(|i| i.message.contains("deeper")));
    assert_eq!(cap.resources_unreached, 100 - cap.resources_read);
}

fn ten_thousand_dimms() -> BTreeMap<String, Vec<u8>> {
    let mut set = small_capture();
    let members: Vec<_> = (0..10_000)
        .map(|i| json!({"@odata.id": format!("/redfish/v1/Systems/1/Memory/{i}")}))
        .collect();
    let mut system: serde_json::Value =
        serde_json::from_slice(&set[&key("/redfish/v1/Systems/1")]).unwrap();
    system["Memory"] = json!({"@odata.id": "/redfish/v1/Systems/1/Memory"});
    set.insert(
        key("/redfish/v1/Systems/1"),
        serde_json::to_vec(&system).unwrap(),
    );
    set.insert(
        key("/redfish/v1/Systems/1/Memory"),
        serde_json::to_vec(
            &json!({"@odata.id": "/redfish/v1/Systems/1/Memory", "Members": members}),
        )
        .unwrap(),
    );
    for i in 0..10_000 {
        let id = format!("/redfish/v1/Systems/1/Memory/{i}");
        set.insert(
            key(&id),
            serde_json::to_vec(
                &json!({"@odata.id": id, "@odata.type": "#Memory.v1_11_0.Memory",
                "SerialNumber": format!("TSDIMM{i:05}"), "DeviceLocator": format!("DIMM {i}")}),
            )
            .unwrap(),
        );
    }
    set
}

#[test]
fn ten_thousand_resources() {
    let set = ten_thousand_dimms();
    let start = Instant::now();
    let cap = parse_capture(&set).unwrap();
    assert_eq!(cap.resources_read, 10_004);
    let dimms = cap
        .components
        .iter()
        .filter(|c| c.class == Some(ComponentClass::Memory))
        .count();
    assert_eq!(dimms, 10_000);
    assert!(start.elapsed().as_secs() < 60);

    // With a lower bound the walk stops and says so.
    let limits = Limits {
        max_resources: 500,
        ..Limits::default()
    };
    let cap = parse_capture_with(&set, &limits).unwrap();
    assert_eq!(cap.resources_read, 500);
    assert!(cap
        .issues
        .iter()
        .any(|i| i.message.contains("stopped reading after 500")));

    // The same set read flat (no mockup paths): every file by its own @odata.id.
    let flat: BTreeMap<String, Vec<u8>> = set
        .into_iter()
        .enumerate()
        .map(|(i, (_, v))| (format!("response-{i}.json"), v))
        .collect();
    let cap = parse_capture(&flat).unwrap();
    assert_eq!(cap.resources_read, 10_004);
    assert_eq!(cap.identifiers.system_serial.as_deref(), Some("TS0001"));
}

#[test]
fn huge_strings_and_resources_are_refused() {
    let mut set = small_capture();
    let huge = "A".repeat(10 << 20);
    set.insert(
        key("/redfish/v1/Systems/1"),
        serde_json::to_vec(&json!({"@odata.id": "/redfish/v1/Systems/1",
            "@odata.type": "#ComputerSystem.v1_5_0.ComputerSystem",
            "SerialNumber": huge, "Model": "M"}))
        .unwrap(),
    );
    let cap = parse_capture(&set).unwrap();
    assert_eq!(cap.identifiers.system_serial, None);
    assert!(cap
        .issues
        .iter()
        .any(|i| i.message.contains("SerialNumber is 10485760 bytes")));
    assert!(cap.issues.iter().all(|i| i.message.len() < 400));
    let limits = Limits {
        max_resource_bytes: 1 << 20,
        ..Limits::default()
    };
    let cap = parse_capture_with(&set, &limits).unwrap();
    assert!(cap
        .issues
        .iter()
        .any(|i| i.message.contains("more than the limit")));
    // A huge key is cut in the issue that names it.
    let mut set = small_capture();
    set.insert(format!("{}.json", "k".repeat(100_000)), b"[]".to_vec());
    let cap = parse_capture(&set).unwrap();
    assert!(cap.issues.iter().all(|i| i.path.len() < 400));
}

#[test]
fn issues_are_bounded() {
    let set: BTreeMap<String, Vec<u8>> = (0..5_000)
        .map(|i| {
            (
                format!("r{i}.json"),
                if i == 0 {
                    b"{\"@odata.id\":\"/x\"}".to_vec()
                } else {
                    b"nope".to_vec()
                },
            )
        })
        .collect();
    let cap = parse_capture(&set).unwrap();
    assert_eq!(cap.issues.len(), Limits::default().max_issues + 1);
    assert!(cap.issues.last().unwrap().message.contains("more issues"));
}

#[test]
fn random_garbage_resources() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let template = serde_json::to_vec(&json!({"@odata.id": "/redfish/v1/Systems/1",
        "@odata.type": "#ComputerSystem.v1_5_0.ComputerSystem", "SerialNumber": "TS0001",
        "Links": {"Chassis": [{"@odata.id": "/redfish/v1/Chassis/1"}]}}))
    .unwrap();
    for round in 0..300 {
        let mut set = small_capture();
        let n = (rng.next() % 512) as usize;
        let garbage = rng.bytes(n);
        set.insert(format!("redfish/v1/G{round}/index.json"), garbage);
        // Mutate a valid resource byte by byte.
        let mut mutated = template.clone();
        for _ in 0..(rng.next() % 8 + 1) {
            let at = (rng.next() as usize) % mutated.len();
            mutated[at] = rng.next() as u8;
        }
        set.insert(key("/redfish/v1/Systems/1"), mutated);
        let _ = parse_capture(&set);
    }
}

#[test]
fn lspci_binary_junk() {
    let err = parse_lspci_bytes(b"00:00.0 Host bridge [0600]: X [8086:0d57]\n\x89PNG\r\n\x00")
        .unwrap_err();
    match err {
        Error::NotText(e) => assert_eq!(e.offset, 42),
        other => panic!("{other}"),
    }
    // Control characters inside text are not records, and do not stop the ones around them.
    let text = "\u{1}\u{2}\u{7f}junk\n00:03.0 Ethernet controller [0200]: Red Hat, Inc. Virtio 1.0 network device [1af4:1041] (rev 01)\n\t\u{0}\u{1b}[31m\n";
    let devices = parse_lspci(text).unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(to_components(&devices)[0].class, Some(ComponentClass::Nic));
    assert!(matches!(
        parse_lspci("no pci here\n$ ls\n"),
        Err(Error::NoDevices { .. })
    ));

    let mut rng = Rng(42);
    for _ in 0..2_000 {
        let n = (rng.next() % 300) as usize;
        let bytes = rng.bytes(n);
        let _ = parse_lspci_bytes(&bytes);
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = parse_lspci(&format!("00:00.0 {lossy}\n\t{lossy}\nSlot:\t{lossy}\n"));
    }
}

#[test]
fn lspci_truncation_at_every_offset() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lspci/handwritten-server-vvnn.txt"),
    )
    .unwrap();
    let full = parse_lspci(&text).unwrap().len();
    for cut in (0..text.len()).filter(|c| text.is_char_boundary(*c)) {
        let n = parse_lspci(&text[..cut]).map(|d| d.len()).unwrap_or(0);
        assert!(n <= full, "{cut}");
        let _ = parse_lspci_bytes(&text.as_bytes()[..cut]);
    }
}

#[test]
fn lspci_bounds() {
    // More records than the bound: an error naming the line, not unbounded memory.
    let mut text = String::new();
    for bus in 0..=255u32 {
        for dev in 0..32u32 {
            for f in 0..4u32 {
                text.push_str(&format!(
                    "{bus:02x}:{dev:02x}.{f} Ethernet controller [0200]: X [8086:1521]\n"
                ));
            }
        }
    }
    assert!(matches!(
        parse_lspci(&text),
        Err(Error::TooManyDevices { limit: 16_384, .. })
    ));
    // A huge line: the oversized text is not kept.
    let huge = format!(
        "00:00.0 Host bridge [0600]: {} [8086:0d57]\n",
        "x".repeat(5 << 20)
    );
    let d = parse_lspci(&huge).unwrap();
    assert_eq!(d[0].description, None);
    assert_eq!(d[0].vendor_id, Some(0x8086));
}
