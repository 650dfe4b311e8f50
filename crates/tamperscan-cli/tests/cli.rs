//! The `tamperscan` binary as a user runs it.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::fs;
use std::process::{Command, Output};
use tamperscan_testdata::write;

fn tamperscan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tamperscan"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Writes the demo fleet (not recorded in a store) under `dir` and returns its path.
fn demo_fleet(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("demo");
    let o = tamperscan(&["demo", "--out", out.to_str().unwrap(), "--no-store"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_finds_what_was_planted_and_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = tamperscan(&["demo", "--out", out.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", stderr(&o));
    assert!(text.contains("fleet demo [SYNTHETIC]: 12 hosts"), "{text}");
    assert!(text.contains("PASS") && text.contains("FAIL"), "{text}");
    assert!(
        text.contains("demo check: all 24 planted implants found, no false alarm"),
        "{text}"
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("network.beacon"),
        "the beacon is in the report"
    );
    assert!(html.contains("SYNTHETIC DEMO"));
    assert!(html.contains("host.duplicate_identifier"));
    assert!(!html.contains("<script"), "the report must not run scripts");

    // The second run compares with the first.
    let o = tamperscan(&["demo", "--out", out.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["since_last"]["new_findings"], 0);
    assert_eq!(doc["findings"][0]["new"], false);
    // The demo declares its board resolution ([models.<name>.board] px_per_mm): the implant's
    // size is given in mm².
    let board = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "board.added")
        .expect("the board implant is found");
    let summary = board["summary"].as_str().unwrap();
    assert!(summary.contains("mm²"), "{summary}");
    // Five boards of the model are compared (srv-a-06 claims a model the fleet never declared,
    // so there is no golden image for it): the implant is on this one alone.
    assert!(summary.contains("on this board only of 5"), "{summary}");
}

#[test]
fn audit_json_follows_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_fleet(dir.path());
    let o = tamperscan(&[
        "audit",
        out.to_str().unwrap(),
        "--format",
        "json",
        "--no-store",
    ]);
    assert_eq!(o.status.code(), Some(1), "findings exit 1: {}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["schema"], "tamperscan.audit/1");
    assert_eq!(doc["fleet"]["synthetic"], true);
    assert_eq!(doc["summary"]["hosts"], 12);
    assert_eq!(doc["summary"]["fail"], 8);
    assert_eq!(doc["summary"]["suspect"], 1);
    assert_eq!(doc["summary"]["pass"], 3);
    assert_eq!(doc["summary"]["by_layer"]["boot"], 6);
    assert_eq!(doc["summary"]["by_layer"]["firmware"], 6);
    assert_eq!(doc["summary"]["by_layer"]["inventory"], 10);
    assert_eq!(doc["summary"]["by_layer"]["network"], 1);
    assert_eq!(doc["summary"]["by_layer"]["board"], 1);
    assert_eq!(doc["summary"]["by_severity"]["critical"], 2);
    assert!(doc["since_last"].is_null());
    let hosts = doc["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 12);
    assert_eq!(hosts[0]["id"], "srv-a-01");
    assert_eq!(hosts[0]["verdict"], "pass");
    let f = &doc["findings"][0];
    for key in [
        "host",
        "layer",
        "kind",
        "severity",
        "summary",
        "location",
        "reference",
        "fingerprint",
    ] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    assert!(f["new"].is_null(), "no store, so no notion of new");
}

#[test]
fn a_clean_fleet_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fleet.toml", b"[models.m]\n");
    for h in ["a", "b", "c"] {
        write(
            dir.path(),
            &format!("hosts/{h}/host.toml"),
            format!("model = \"m\"\nboard_serial = \"SN-{h}\"\n").as_bytes(),
        );
    }
    let o = tamperscan(&["audit", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("3 hosts, 3 pass, 0 suspect, 0 fail, 0 findings"));
    assert!(dir.path().join("tamperscan.db").is_file());
}

#[test]
fn broken_configuration_exits_two_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "fleet.toml",
        b"[fleet]\nname = \"x\"\n[models.m\n",
    );
    write(
        dir.path(),
        "hosts/a/host.toml",
        b"model = \"m\"\nbmc_address = \"not-an-ip\"\n",
    );
    let o = tamperscan(&["audit", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("fleet.toml:3:"), "{err}");
    assert!(err.contains("hosts/a/host.toml:2:15: bmc_address"), "{err}");
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn hostile_fleet_directory_gives_findings_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "fleet.toml", b"[models.m]\n");
    write(r, "hosts/a/host.toml", b"model = \"nope\"\n");
    fs::create_dir_all(r.join("hosts/empty")).unwrap();
    write(r, "hosts/b/host.toml", b"model = \"m\"\n");
    write(
        r,
        "hosts/b/inventory/dmidecode.txt",
        &[0x7f, b'E', b'L', b'F', 0, 0, 0xff],
    );
    fs::create_dir_all(r.join("hosts/b/firmware")).unwrap();
    fs::File::create(r.join("hosts/b/firmware/bios.bin"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    // A boot log that is text, a quote that is noise, a quote without its key.
    write(
        r,
        "hosts/b/boot/eventlog.bin",
        b"GRUB_CMDLINE_LINUX=\"quiet splash\"\n and more",
    );
    write(
        r,
        "hosts/b/boot/quote.msg",
        &[0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0xff, 0xff],
    );
    write(
        r,
        "hosts/b/boot/quote.sig",
        &[0x00, 0x14, 0x00, 0x0b, 0x00, 0x01, 0x00],
    );
    write(
        r,
        "hosts/b/boot/ak.pem",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    write(r, "hosts/c/host.toml", b"model = \"m\"\n");
    write(r, "hosts/c/boot/quote.msg", &[0xff, 0x54, 0x43, 0x47]);
    let o = tamperscan(&[
        "audit",
        r.to_str().unwrap(),
        "--format",
        "json",
        "--no-store",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let kinds: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["host"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("a", "host.model_undeclared"),
        ("empty", "host.empty"),
        ("b", "evidence.wrong_format"),
        ("b", "evidence.too_large"),
        ("b", "boot.log_unparseable"),
        ("b", "boot.quote_unparseable"),
        ("c", "boot.quote_incomplete"),
    ] {
        assert!(
            kinds.contains(&(want.0.to_string(), want.1.to_string())),
            "missing {want:?} in {kinds:?}"
        );
    }
}

#[test]
fn missing_directory_and_unwritable_store_are_trouble() {
    let o = tamperscan(&["audit", "/nonexistent/fleet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot open fleet directory"),
        "{}",
        stderr(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    let o = tamperscan(&[
        "audit",
        dir.path().to_str().unwrap(),
        "--db",
        "/nonexistent/dir/x.db",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--no-store"),
        "the error says what to do: {}",
        stderr(&o)
    );
}

#[test]
fn help_reads_like_a_well_kept_tool() {
    let o = tamperscan(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let h = stdout(&o);
    assert!(h.contains("Are our servers exactly what they should be?"));
    assert!(h.contains("audit") && h.contains("demo"));
    let o = tamperscan(&["audit", "--help"]);
    let h = stdout(&o);
    for flag in ["--format", "--report", "--db", "--no-store", "FLEET_DIR"] {
        assert!(h.contains(flag), "audit --help lacks {flag}");
    }
    let o = tamperscan(&["audit"]);
    assert_eq!(o.status.code(), Some(2), "usage errors are trouble");
}

#[test]
fn boot_replay_json_has_the_shape_of_the_shared_expected_pcrs() {
    let Some(data) = tamperscan_testdata::data_dir() else {
        return;
    };
    let log = data.join("eventlogs/go-eventlog/glinux-alex.bin");
    let o = tamperscan(&["boot", "replay", log.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected: serde_json::Value = serde_json::from_slice(
        &fs::read(data.join("eventlogs/go-eventlog/glinux-alex.bin.expected.json")).unwrap(),
    )
    .unwrap();
    for (bank, values) in expected["expected"]["pcrs"].as_object().unwrap() {
        for (pcr, value) in values.as_object().unwrap() {
            assert_eq!(&doc["pcrs"][bank][pcr], value, "{bank} PCR{pcr}");
        }
    }
    let o = tamperscan(&["boot", "events", log.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["events"].as_array().unwrap().len(), 29);
    assert!(!doc["events"][1]["description"].as_str().unwrap().is_empty());
}

#[test]
fn boot_commands_refuse_garbage_and_flag_edited_logs() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    fs::write(&junk, b"this is not an event log, it is a sentence").unwrap();
    let o = tamperscan(&["boot", "replay", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a TCG event log"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("offset"), "{}", stderr(&o));

    let demo = demo_fleet(dir.path());
    let edited = demo.join("hosts/srv-b-03/boot/eventlog.bin");
    let genuine = demo.join("hosts/srv-b-01/boot/eventlog.bin");
    let o = tamperscan(&["boot", "replay", edited.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("EDITED? event 4 (PCR7 EV_EFI_VARIABLE_DRIVER_CONFIG)"),
        "{}",
        stdout(&o)
    );
    let o = tamperscan(&[
        "boot",
        "replay",
        genuine.to_str().unwrap(),
        edited.to_str().unwrap(),
        junk.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "one bad file among several is trouble"
    );
    let docs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(docs.as_array().unwrap().len(), 2);
    assert_eq!(docs[1]["digest_mismatches"].as_array().unwrap().len(), 2);
}

#[test]
fn boot_replay_reads_tdx_ccel_logs_their_acpi_table_and_cel_json() {
    use tamperscan_tcg::{writer::LogWriter, AlgId, EventType};
    let dir = tempfile::tempdir().unwrap();
    // A CC event log as sysfs exports it: the log area, 0xFF after the last event.
    let mut log = LogWriter::cc_sha384()
        .cc_event(1, EventType::EV_EFI_HANDOFF_TABLES2, b"td hob")
        .cc_event(2, EventType::EV_SEPARATOR, &[0; 4])
        .bytes;
    log.resize(4096, 0xff);
    let log_path = dir.path().join("CCEL.data");
    fs::write(&log_path, &log).unwrap();
    // Its ACPI table, declaring a log area smaller than the file given.
    let mut table = b"CCEL".to_vec();
    table.extend_from_slice(&56u32.to_le_bytes());
    table.extend_from_slice(&[1, 0]);
    table.extend_from_slice(b"TSTOEMTSTTABLE");
    table.extend_from_slice(&[0; 12]);
    table.extend_from_slice(&[2, 0, 0, 0]);
    table.extend_from_slice(&2048u64.to_le_bytes());
    table.extend_from_slice(&0x7f00_0000u64.to_le_bytes());
    let sum = table.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    table[9] = 0u8.wrapping_sub(sum);
    let table_path = dir.path().join("CCEL");
    fs::write(&table_path, &table).unwrap();

    let o = tamperscan(&[
        "boot",
        "replay",
        log_path.to_str().unwrap(),
        table_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let extend = |data: &[u8]| {
        let digest = AlgId::SHA384.hash(&[data]).unwrap();
        tamperscan_bytes::hex(&AlgId::SHA384.hash(&[&[0u8; 48], &digest]).unwrap())
    };
    assert_eq!(docs[0]["format"], "ccel");
    assert_eq!(docs[0]["rtmrs"]["0"], extend(b"td hob").as_str());
    assert_eq!(docs[0]["rtmrs"]["1"], extend(&[0; 4]).as_str());
    assert_eq!(docs[0]["rtmrs"]["3"], "00".repeat(48).as_str());
    assert_eq!(docs[0]["pcrs"]["sha384"]["1"], extend(b"td hob").as_str());
    assert_eq!(docs[1]["format"], "ccel-table");
    assert_eq!(docs[1]["ccel_table"]["cc_type"], "TDX");
    let issues = docs[0]["issues"].to_string();
    assert!(issues.contains("2048-byte log area"), "{issues}");

    let o = tamperscan(&[
        "boot",
        "events",
        log_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["events"][1]["mr"], "RTMR0");
    assert_eq!(doc["events"][2]["mr"], "RTMR1");
    let o = tamperscan(&["boot", "events", table_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("ACPI CCEL table, TDX"),
        "{}",
        stdout(&o)
    );
    table[20] ^= 1;
    fs::write(&table_path, &table).unwrap();
    let o = tamperscan(&["boot", "events", table_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Checksum"), "{}", stderr(&o));

    // The CEL specification's JSON example record, auto-detected.
    let cel = dir.path().join("log.cel.json");
    fs::write(&cel, r#"[{"recnum":0,"pcr":6,"digests":[{"hashAlg":"sha256","digest":"d18bf8d221a3a3b08774c8d077328c4b2ca205e4f1618ad4bac2b5786f453bc7"}],"content_type":"pcclient_std","content":{"event_type":"EV_COMPACT_HASH","event_data":"44656c6c20436f6e66696775726174696f6e20496e666f726d6174696f6e2032"}}]"#).unwrap();
    let o = tamperscan(&["boot", "events", cel.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["format"], "cel-json");
    assert_eq!(doc["events"][0]["event_type"], "EV_COMPACT_HASH");
    let o = tamperscan(&["boot", "replay", cel.to_str().unwrap(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["pcrs"]["sha256"]["6"].is_string(), "{doc}");

    // `--format cel-json` converts a log; the conversion replays to the same registers.
    let o = tamperscan(&[
        "boot",
        "events",
        log_path.to_str().unwrap(),
        "--format",
        "cel-json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let converted = dir.path().join("converted.cel.json");
    fs::write(&converted, &o.stdout).unwrap();
    let o = tamperscan(&[
        "boot",
        "replay",
        converted.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["format"], "cel-json");
    assert_eq!(doc["pcrs"]["sha384"]["1"], extend(b"td hob").as_str());
    assert_eq!(doc["pcrs"]["sha384"]["2"], extend(&[0; 4]).as_str());
    let o = tamperscan(&[
        "boot",
        "events",
        table_path.to_str().unwrap(),
        "--format",
        "cel-json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds no events"), "{}", stderr(&o));
}

#[test]
fn boot_verify_checks_real_and_demo_quotes() {
    let Some(data) = tamperscan_testdata::data_dir() else {
        return;
    };
    let d = data.join("eventlogs/keylime-quote");
    let arg = |f: &str| d.join(f).to_string_lossy().into_owned();
    let (quote, sig, ak) = (arg("quote.out"), arg("quotesig.out"), arg("ak.pub"));
    let nonce = "db1db298db6d60e6385b7231743e9c3056a18003";
    let o = tamperscan(&[
        "boot",
        "verify",
        "--quote",
        &quote,
        "--signature",
        &sig,
        "--ak",
        &ak,
        "--nonce",
        nonce,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["signature_valid"], true);
    assert_eq!(doc["nonce_matches"], true);
    let o = tamperscan(&[
        "boot",
        "verify",
        "--quote",
        &quote,
        "--signature",
        &sig,
        "--ak",
        &ak,
        "--nonce",
        "00",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("nonce:      FAILED"), "{}", stdout(&o));
    let o = tamperscan(&[
        "boot",
        "verify",
        "--quote",
        &sig,
        "--signature",
        &sig,
        "--ak",
        &ak,
    ]);
    assert_eq!(o.status.code(), Some(2), "a signature is no quote");

    // The demo's quotes: genuine on srv-b-01, from another boot on srv-b-04.
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_fleet(dir.path());
    for (host, code) in [("srv-b-01", 0), ("srv-b-04", 1)] {
        let h = demo.join("hosts").join(host).join("boot");
        let p = |f: &str| h.join(f).to_string_lossy().into_owned();
        let o = tamperscan(&[
            "boot",
            "verify",
            "--quote",
            &p("quote.msg"),
            "--signature",
            &p("quote.sig"),
            "--ak",
            &p("ak.pub"),
            "--log",
            &p("eventlog.bin"),
        ]);
        assert_eq!(o.status.code(), Some(code), "{host}: {}", stdout(&o));
    }
}

#[test]
fn boot_learn_writes_a_reference_that_the_audit_uses() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_fleet(dir.path());
    let o = tamperscan(&[
        "boot",
        "learn",
        demo.to_str().unwrap(),
        "--model",
        "es-1u-r1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("secure_boot = true"), "{text}");
    assert!(text.contains("EV_EFI_PLATFORM_FIRMWARE_BLOB2"), "{text}");
    assert!(
        text.contains("known-good host(s): srv-a-01, srv-a-02"),
        "{text}"
    );
    // Without known-good hosts there is nothing to learn from: say what to do.
    let host = demo.join("hosts/srv-b-01/host.toml");
    let o = tamperscan(&["boot", "learn", demo.to_str().unwrap(), "--model", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no host"), "{}", stderr(&o));
    let toml = fs::read_to_string(&host)
        .unwrap()
        .replace("known_good = true", "known_good = false");
    fs::write(&host, toml).unwrap();
    let h2 = demo.join("hosts/srv-b-02/host.toml");
    let toml = fs::read_to_string(&h2)
        .unwrap()
        .replace("known_good = true", "known_good = false");
    fs::write(&h2, toml).unwrap();
    let o = tamperscan(&[
        "boot",
        "learn",
        demo.to_str().unwrap(),
        "--model",
        "es-2u-r3",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("known_good = true"), "{}", stderr(&o));
    // A broken reference file is a configuration error with its line.
    let reference = demo.join("models/es-1u-r1/boot/reference.toml");
    fs::write(&reference, "secure_boot = maybe\n").unwrap();
    let o = tamperscan(&["audit", demo.to_str().unwrap(), "--no-store"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("models/es-1u-r1/boot/reference.toml:1:"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn firmware_commands_as_a_user_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = demo_fleet(dir.path());
    let clean = fleet.join("hosts/srv-a-01/firmware/bios.fd");
    let implanted = fleet.join("hosts/srv-a-05/firmware/bios.fd");
    let (clean, implanted) = (clean.to_str().unwrap(), implanted.to_str().unwrap());

    let o = tamperscan(&["firmware", "manifest", clean, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(m["schema"], "tamperscan.firmware.manifest/1");
    assert_eq!(m["modules"].as_array().unwrap().len(), 4);
    assert_eq!(m["modules"][0]["name"], "PlatformInitDxe");

    let o = tamperscan(&["firmware", "diff", clean, clean]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "identical images exit 0: {}",
        stdout(&o)
    );

    let o = tamperscan(&["firmware", "diff", clean, implanted, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        d["added"][0]["guid"],
        "682894B5-6B70-4EBA-9E90-A607E5676297"
    );
    assert_eq!(d["added"][0]["name"], "SecDxe");
    assert!(d["added"][0]["path"]
        .as_str()
        .unwrap()
        .starts_with("6A7B8C9D-0000"));
    assert_eq!(d["removed"].as_array().unwrap().len(), 0);
    assert_eq!(d["changed"].as_array().unwrap().len(), 0);
    assert_eq!(d["unchanged"], 4);

    let o = tamperscan(&["firmware", "check", implanted]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("lojax-secdxe"), "{}", stdout(&o));
    let o = tamperscan(&["firmware", "check", clean, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // A rule file of the user's own, and one that is broken.
    write(dir.path(), "mine.toml", b"version = 1\n[[rule]]\nid = \"no-network\"\nseverity = \"medium\"\ntitle = \"network stack\"\nname = \"NetworkStackDxe\"\n");
    let mine = dir.path().join("mine.toml");
    let o = tamperscan(&[
        "firmware",
        "check",
        clean,
        "--rules",
        mine.to_str().unwrap(),
        "--no-default-rules",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("no-network"));
    write(
        dir.path(),
        "bad.toml",
        b"version = 1\n[[rule]]\nid = \"x\"\n",
    );
    let bad = dir.path().join("bad.toml");
    let o = tamperscan(&["firmware", "check", clean, "--rules", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.toml"), "{}", stderr(&o));

    // Bad input exits 2 and says what is wrong.
    let missing = dir.path().join("missing.bin");
    let o = tamperscan(&["firmware", "diff", clean, missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.bin"), "{}", stderr(&o));
    write(dir.path(), "empty.bin", b"");
    let o = tamperscan(&[
        "firmware",
        "manifest",
        dir.path().join("empty.bin").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("empty"), "{}", stderr(&o));
}

#[test]
fn fleet_query_answers_from_the_audit_history() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = tamperscan(&["demo", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let db = out.join("tamperscan.db");
    let db = db.to_str().unwrap();
    let o = tamperscan(&[
        "fleet",
        "query",
        "nic.model ~ broadcom",
        "--db",
        db,
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let csv = stdout(&o);
    assert!(csv.starts_with("fleet,host,class,"), "{csv}");
    assert_eq!(
        csv.lines().filter(|l| l.contains("srv-a-04")).count(),
        2,
        "{csv}"
    );
    let o = tamperscan(&[
        "fleet",
        "query",
        "board.serial = ESB7D3736A4 and bios.firmware >= 2.1",
        "--db",
        db,
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hosts: Vec<&str> = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["srv-b-02", "srv-b-05"]);
    let o = tamperscan(&["fleet", "query", "gpu.model ~ h100", "--db", db]);
    assert_eq!(o.status.code(), Some(0));
    let o = tamperscan(&["fleet", "query", "board.colour = red", "--db", db]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("column 1"), "{}", stderr(&o));
}

#[test]
fn inventory_show_reads_each_kind_of_source() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = demo_fleet(dir.path());
    for (file, source, class) in [
        ("dmidecode.txt", "dmidecode", "baseboard"),
        ("lspci.txt", "lspci", "nic"),
    ] {
        let path = fleet.join("hosts/srv-a-01/inventory").join(file);
        let o = tamperscan(&[
            "inventory",
            "show",
            path.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["source"], source);
        assert!(
            doc["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["class"] == class),
            "{file}"
        );
    }
    let o = tamperscan(&[
        "inventory",
        "check",
        fleet
            .join("hosts/srv-a-04/inventory/lspci.txt")
            .to_str()
            .unwrap(),
        "--bom",
        fleet.join("models/es-1u-r1/bom.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("UNEXPECTED"), "{}", stdout(&o));
}

#[test]
fn net_scan_ranks_the_demo_implants_beacon_first_with_fleet_context() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_fleet(dir.path());
    let network = out.join("network");
    let o = tamperscan(&[
        "net",
        "scan",
        network.to_str().unwrap(),
        "--fleet",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &doc["findings"][0];
    assert_eq!(first["kind"], "beacon");
    assert_eq!(first["src"], "198.18.0.4");
    assert_eq!(first["dst"], "203.0.113.66");
    assert_eq!(first["dport"], 443);
    assert_eq!(first["proto"], "tcp");
    assert_eq!(first["severity"], "high");
    assert_eq!(first["host"], "srv-a-04");
    let score = first["score"].as_f64().unwrap();
    assert!((0.8..=1.0).contains(&score), "{score}");
    let period = first["evidence"]["period_s"].as_f64().unwrap();
    assert!((280.0..320.0).contains(&period), "{period}");
    for key in [
        "connections",
        "interval_median_s",
        "interval_mad_s",
        "bytes_out",
        "first_seen",
        "last_seen",
    ] {
        assert!(!first["evidence"][key].is_null(), "evidence lacks {key}");
    }
    // Everything else the BMCs do is allowed by the policy: nothing else reaches level low.
    let alerts = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .count();
    assert_eq!(
        alerts,
        1,
        "{}",
        serde_json::to_string_pretty(&doc["findings"]).unwrap()
    );

    // The HTML page draws the beacon's timeline.
    let page = dir.path().join("t.html");
    let o = tamperscan(&[
        "net",
        "scan",
        network.to_str().unwrap(),
        "--fleet",
        out.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("198.18.0.4 calls 203.0.113.66:443 every 5.0 min"),
        "{}",
        stdout(&o)
    );
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg") && html.contains("period"), "{html}");
}

#[test]
fn net_scan_judges_destinations_against_a_baseline_and_writes_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_fleet(dir.path());
    let network = out.join("network");
    // The fleet's network/baseline/ (last week) is used when the directory is scanned.
    let o = tamperscan(&[
        "net",
        "scan",
        network.to_str().unwrap(),
        "--fleet",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let beacon = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dst"] == "203.0.113.66")
        .expect("the implant's beacon");
    let keys: Vec<&str> = beacon["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"first_seen"), "{keys:?}");
    assert!(doc["files_read"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f.as_str().unwrap().contains("baseline")));

    // Today's logs become the baseline: tomorrow the same beacon is no longer new.
    let written = dir.path().join("known.json");
    let conn = network.join("conn.log");
    let o = tamperscan(&[
        "net",
        "scan",
        conn.to_str().unwrap(),
        "--fleet",
        out.to_str().unwrap(),
        "--write-baseline",
        written.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = tamperscan(&[
        "net",
        "scan",
        conn.to_str().unwrap(),
        "--fleet",
        out.to_str().unwrap(),
        "--baseline",
        written.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let beacon = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["dst"] == "203.0.113.66")
        .expect("the implant's beacon");
    assert!(beacon["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["key"] == "seen_in_baseline"));

    // A broken baseline file is refused with exit 2 and its name.
    let bad = dir.path().join("bad.json");
    fs::write(&bad, b"{\"tamperscan_net_baseline\": 1, \"pairs\": 7}").unwrap();
    let o = tamperscan(&[
        "net",
        "scan",
        conn.to_str().unwrap(),
        "--baseline",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json"), "{}", stderr(&o));
}

#[test]
fn net_scan_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    fs::write(&junk, b"\x00\x01 not a log").unwrap();
    let o = tamperscan(&["net", "scan", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("junk.bin"), "{}", stderr(&o));
    let o = tamperscan(&["net", "scan", dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not exist"));
}

/// The first two DeepPCB pairs of different board groups (golden, suspect) in the shared data.
fn deeppcb_pairs() -> Option<Vec<(std::path::PathBuf, std::path::PathBuf)>> {
    let root = tamperscan_testdata::data_dir()?.join("boards/deeppcb/PCBData");
    let list = fs::read_to_string(root.parent()?.join("trainval_subset.txt")).ok()?;
    let mut groups = std::collections::BTreeSet::new();
    let mut pairs = Vec::new();
    for line in list.lines() {
        let image = line.split_whitespace().next()?;
        let group = image.split('/').next()?.to_string();
        if groups.insert(group) {
            let stem = image.strip_suffix(".jpg")?;
            pairs.push((
                root.join(format!("{stem}_temp.jpg")),
                root.join(format!("{stem}_test.jpg")),
            ));
        }
    }
    Some(pairs)
}

#[test]
fn board_diff_reports_changes_with_boxes_and_an_overlay() {
    let Some(pairs) = deeppcb_pairs() else { return };
    let (golden, suspect) = &pairs[0];
    let dir = tempfile::tempdir().unwrap();
    let overlay = dir.path().join("overlay.png");
    let o = tamperscan(&[
        "board",
        "diff",
        golden.to_str().unwrap(),
        suspect.to_str().unwrap(),
        "--overlay",
        overlay.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changes = doc["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        let b: Vec<u64> = c["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(b.len(), 4);
        assert!(
            b[0] < b[2] && b[1] < b[3] && b[2] <= 640 && b[3] <= 640,
            "{b:?}"
        );
        assert!(["added", "missing", "altered"].contains(&c["kind"].as_str().unwrap()));
        let score = c["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
    }
    // The DeepPCB annotation of this pair: every truth box overlaps some reported box.
    let stem = suspect.to_str().unwrap().strip_suffix("_test.jpg").unwrap();
    let id = std::path::Path::new(stem)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let dir_name = std::path::Path::new(stem).parent().unwrap();
    let ann = dir_name
        .parent()
        .unwrap()
        .join(format!(
            "{}_not",
            dir_name.file_name().unwrap().to_str().unwrap()
        ))
        .join(format!("{id}.txt"));
    let truth = fs::read_to_string(&ann).unwrap();
    for line in truth.lines().filter(|l| !l.trim().is_empty()) {
        let t: Vec<f64> = line
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .take(4)
            .map(|s| s.parse().unwrap())
            .collect();
        let hit = changes.iter().any(|c| {
            let b: Vec<f64> = c["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            b[0] < t[2] && t[0] < b[2] && b[1] < t[3] && t[1] < b[3]
        });
        assert!(hit, "truth box {t:?} of {} not reported", ann.display());
    }
    let png = fs::read(&overlay).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    // A board against itself: nothing differs, exit 0.
    let o = tamperscan(&[
        "board",
        "diff",
        golden.to_str().unwrap(),
        golden.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("no changes"), "{}", stdout(&o));
}

#[test]
fn board_diff_refuses_a_different_design_and_what_is_not_an_image() {
    let Some(pairs) = deeppcb_pairs() else { return };
    assert!(pairs.len() >= 2);
    let o = tamperscan(&[
        "board",
        "diff",
        pairs[0].0.to_str().unwrap(),
        pairs[1].1.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("not the same board"), "{}", stderr(&o));

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("photo.jpg");
    fs::write(&junk, b"\xff\xd8\xff\xe0 truncated").unwrap();
    let o = tamperscan(&[
        "board",
        "diff",
        pairs[0].0.to_str().unwrap(),
        junk.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("photo.jpg"), "{}", stderr(&o));

    // A scanner's dpi written as pixels per mm is refused before any work, with what to do.
    let o = tamperscan(&[
        "board",
        "diff",
        pairs[0].0.to_str().unwrap(),
        pairs[0].1.to_str().unwrap(),
        "--px-per-mm",
        "600",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("use --dpi"), "{}", stderr(&o));
}

#[test]
fn board_eval_measures_a_deeppcb_directory() {
    let Some(data) = tamperscan_testdata::data_dir() else {
        return;
    };
    let dir = data.join("boards/deeppcb/PCBData");
    let list = data.join("boards/deeppcb/trainval_subset.txt");
    let o = tamperscan(&[
        "board",
        "eval",
        dir.to_str().unwrap(),
        "--list",
        list.to_str().unwrap(),
        "--limit",
        "8",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["pairs"], 8);
    let f1 = doc["iou50"]["f1"].as_f64().unwrap();
    assert!(f1 > 0.8, "F1 {f1} on 8 DeepPCB pairs");
    for key in ["deeppcb", "map", "false_alarms_per_image", "ms_per_pair"] {
        assert!(!doc[key].is_null(), "{key} missing");
    }
    let empty = tempfile::tempdir().unwrap();
    let o = tamperscan(&["board", "eval", empty.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no pairs"), "{}", stderr(&o));
}
