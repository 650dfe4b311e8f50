//! SPDM measurements in `ComponentIntegrity` (DSP8010 schema), written by us: the real GH200
//! capture publishes no measurement set.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::json;
use tamperscan_redfish::{parse_capture, ComponentClass};

fn capture(resources: &[(&str, serde_json::Value)]) -> BTreeMap<String, Vec<u8>> {
    resources
        .iter()
        .map(|(id, v)| {
            (
                format!("{}/index.json", id.trim_start_matches('/')),
                serde_json::to_vec_pretty(v).unwrap(),
            )
        })
        .collect()
}

fn measured_capture() -> BTreeMap<String, Vec<u8>> {
    capture(&[
        (
            "/redfish/v1",
            json!({"@odata.id": "/redfish/v1", "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                   "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
                   "ComponentIntegrity": {"@odata.id": "/redfish/v1/ComponentIntegrity"}}),
        ),
        (
            "/redfish/v1/Chassis",
            json!({"@odata.id": "/redfish/v1/Chassis", "@odata.type": "#ChassisCollection.ChassisCollection",
                   "Members": [{"@odata.id": "/redfish/v1/Chassis/GPU_0"}]}),
        ),
        (
            "/redfish/v1/Chassis/GPU_0",
            json!({"@odata.id": "/redfish/v1/Chassis/GPU_0", "@odata.type": "#Chassis.v1_21_0.Chassis",
                   "Id": "GPU_0", "ChassisType": "Module", "Manufacturer": "Example",
                   "SerialNumber": "TS-GPU-0001"}),
        ),
        (
            "/redfish/v1/ComponentIntegrity",
            json!({"@odata.id": "/redfish/v1/ComponentIntegrity",
                   "@odata.type": "#ComponentIntegrityCollection.ComponentIntegrityCollection",
                   "Members": [{"@odata.id": "/redfish/v1/ComponentIntegrity/ERoT_GPU_0"},
                               {"@odata.id": "/redfish/v1/ComponentIntegrity/ERoT_FPGA_0/"}]}),
        ),
        (
            "/redfish/v1/ComponentIntegrity/ERoT_GPU_0",
            json!({"@odata.id": "/redfish/v1/ComponentIntegrity/ERoT_GPU_0",
            "@odata.type": "#ComponentIntegrity.v1_2_0.ComponentIntegrity",
            "Id": "ERoT_GPU_0", "ComponentIntegrityType": "SPDM",
            "ComponentIntegrityTypeVersion": "1.1.0", "ComponentIntegrityEnabled": true,
            "TargetComponentURI": "/redfish/v1/Chassis/GPU_0/",
            "Links": {"ComponentsProtected": [{"@odata.id": "/redfish/v1/Chassis/GPU_0"}]},
            "SPDM": {
                "IdentityAuthentication": {"ResponderAuthentication": {
                    "ComponentCertificate": {"@odata.id": "/redfish/v1/Chassis/GPU_0/Certificates/CertChain"},
                    "VerificationStatus": "Success"}},
                "MeasurementSet": {
                    "MeasurementSpecification": "DMTF",
                    "MeasurementSummaryType": "All",
                    "MeasurementSummaryHashAlgorithm": "TPM_ALG_SHA_384",
                    "MeasurementSummary": "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKT",
                    "Measurements": [
                        {"MeasurementIndex": 1, "MeasurementType": "ImmutableROM",
                         "MeasurementHashAlgorithm": "TPM_ALG_SHA_256",
                         "Measurement": "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
                         "PartofSummaryHash": true},
                        {"MeasurementIndex": 2, "MeasurementType": "MutableFirmware",
                         "MeasurementHashAlgorithm": "TPM_ALG_SHA_256",
                         "Measurement": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                         "PartofSummaryHash": true, "LastUpdated": "2024-08-23T16:02:32Z"},
                        {"MeasurementIndex": 3, "MeasurementType": "MutableFirmware",
                         "MeasurementHashAlgorithm": "TPM_ALG_SHA_384",
                         "Measurement": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5P"}
                    ]}}}),
        ),
        (
            "/redfish/v1/ComponentIntegrity/ERoT_FPGA_0",
            json!({"@odata.id": "/redfish/v1/ComponentIntegrity/ERoT_FPGA_0",
                   "@odata.type": "#ComponentIntegrity.v1_2_0.ComponentIntegrity",
                   "Id": "ERoT_FPGA_0", "ComponentIntegrityType": "SPDM",
                   "TargetComponentURI": "/redfish/v1/Chassis/FPGA_0",
                   "SPDM": {"MeasurementSet": {"Measurements": [
                       {"MeasurementIndex": 2, "MeasurementType": "MutableFirmware",
                        "MeasurementHashAlgorithm": "SHA-256",
                        "Measurement": "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"}]}}}),
        ),
    ])
}

#[test]
fn mutable_firmware_sha256_becomes_firmware_sha256() {
    let cap = parse_capture(&measured_capture()).unwrap();
    assert!(cap.issues.is_empty(), "{:?}", cap.issues);
    assert_eq!(cap.integrity.len(), 2);

    let gpu = &cap.integrity[0];
    assert_eq!(gpu.id.as_deref(), Some("ERoT_GPU_0"));
    assert_eq!(gpu.type_version.as_deref(), Some("1.1.0"));
    assert_eq!(
        gpu.target_component_uri.as_deref(),
        Some("/redfish/v1/Chassis/GPU_0")
    );
    assert_eq!(gpu.verification_status.as_deref(), Some("Success"));
    let summary = gpu.summary.as_ref().unwrap();
    assert_eq!(summary.algorithm.as_deref(), Some("TPM_ALG_SHA_384"));
    assert_eq!(summary.summary_type.as_deref(), Some("All"));
    assert_eq!(
        summary.digest_hex.as_deref(),
        Some("6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f90919293")
    );
    assert_eq!(gpu.measurements.len(), 3);
    assert_eq!(
        gpu.measurements[0].digest_hex.as_deref(),
        Some("ab".repeat(32).as_str())
    );
    assert_eq!(gpu.measurements[1].index, Some(2));
    assert_eq!(gpu.measurements[1].part_of_summary, Some(true));
    assert!(gpu.measurements[1].is_sha256());
    assert!(!gpu.measurements[2].is_sha256());

    // The target chassis read from the capture carries the firmware digest.
    let target = &cap.components[gpu.component];
    assert_eq!(
        target.source_ref.split(';').next(),
        Some("/redfish/v1/Chassis/GPU_0")
    );
    assert_eq!(target.serial.as_deref(), Some("TS-GPU-0001"));
    assert_eq!(target.class, Some(ComponentClass::Gpu));
    assert_eq!(
        target.firmware_sha256.as_deref(),
        Some("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    );
    // The SHA-384 firmware digest is kept as text.
    assert!(target.source_ref.contains(
        "MutableFirmware[3] TPM_ALG_SHA_384 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"
    ), "{}", target.source_ref);

    // A target that is not in the capture gets a component of its own; hex digests are read too.
    let fpga = &cap.integrity[1];
    let own = &cap.components[fpga.component];
    assert_eq!(own.source_ref, "/redfish/v1/ComponentIntegrity/ERoT_FPGA_0");
    assert_eq!(own.location.as_deref(), Some("/redfish/v1/Chassis/FPGA_0"));
    assert_eq!(own.class, Some(ComponentClass::Cpld));
    assert_eq!(
        own.firmware_sha256.as_deref(),
        Some("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    );
}

#[test]
fn undecodable_measurements_are_kept_as_written() {
    let mut set = measured_capture();
    let key = "redfish/v1/ComponentIntegrity/ERoT_FPGA_0/index.json".to_string();
    let text = String::from_utf8(set[&key].clone()).unwrap();
    let text = text.replace(
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        "not base64 at all!",
    );
    set.insert(key, text.into_bytes());
    let cap = parse_capture(&set).unwrap();
    let m = &cap.integrity[1].measurements[0];
    assert_eq!(m.raw.as_deref(), Some("not base64 at all!"));
    assert_eq!(m.digest_hex, None);
    assert_eq!(
        cap.components[cap.integrity[1].component].firmware_sha256,
        None
    );
}
