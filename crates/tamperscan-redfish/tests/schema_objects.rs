//! Schema objects the real captures do not exercise (written by us from DSP8010): assemblies,
//! embedded storage controllers without a `Controllers` collection, absent parts, TPM
//! measurements, links written with host, trailing slash or `index.json`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::json;
use tamperscan_redfish::{parse_capture, ComponentClass};

fn set(resources: &[(&str, serde_json::Value)]) -> BTreeMap<String, Vec<u8>> {
    resources
        .iter()
        .map(|(id, v)| {
            (
                format!("{}/index.json", id.trim_start_matches('/')),
                serde_json::to_vec(v).unwrap(),
            )
        })
        .collect()
}

#[test]
fn assemblies_storage_absent_parts_and_tpm() {
    let cap = parse_capture(&set(&[
        ("/redfish/v1", json!({"@odata.id": "/redfish/v1", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
            "Systems": {"@odata.id": "https://10.0.0.1/redfish/v1/Systems/"}})),
        ("/redfish/v1/Systems", json!({"@odata.id": "/redfish/v1/Systems",
            "Members": [{"@odata.id": "/redfish/v1/Systems/1/index.json"}]})),
        ("/redfish/v1/Systems/1", json!({"@odata.id": "/redfish/v1/Systems/1",
            "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem", "SerialNumber": "To Be Filled By O.E.M.",
            "Storage": {"@odata.id": "/redfish/v1/Systems/1/Storage"},
            "Processors": {"@odata.id": "/redfish/v1/Systems/1/Processors"},
            "Assembly": {"@odata.id": "/redfish/v1/Systems/1/Assembly"},
            "Links": {"Chassis": [{"@odata.id": "/redfish/v1/Chassis/1"}]}})),
        ("/redfish/v1/Systems/1/Assembly", json!({"@odata.id": "/redfish/v1/Systems/1/Assembly",
            "@odata.type": "#Assembly.v1_4_0.Assembly",
            "Assemblies": [
                {"@odata.id": "/redfish/v1/Systems/1/Assembly#/Assemblies/0", "Name": "System Board",
                 "Producer": "Example Corp", "Model": "EX-MB-1", "PartNumber": "EX-100", "SerialNumber": "TSMB0001",
                 "Version": "A02"},
                {"Name": "TPM module", "Model": "EX-TPM", "SerialNumber": "TSTPM0001"},
                {"Name": "Empty", "SerialNumber": "Not Specified"}
            ]})),
        ("/redfish/v1/Systems/1/Storage", json!({"@odata.id": "/redfish/v1/Systems/1/Storage",
            "Members": [{"@odata.id": "/redfish/v1/Systems/1/Storage/RAID.1"}]})),
        ("/redfish/v1/Systems/1/Storage/RAID.1", json!({"@odata.id": "/redfish/v1/Systems/1/Storage/RAID.1",
            "@odata.type": "#Storage.v1_8_0.Storage",
            "Controllers": {"@odata.id": "/redfish/v1/Systems/1/Storage/RAID.1/Controllers"},
            "StorageControllers": [{"@odata.id": "/redfish/v1/Systems/1/Storage/RAID.1#/StorageControllers/0",
                "Manufacturer": "Example", "Model": "EX-RAID", "SerialNumber": "TSRAID01",
                "FirmwareVersion": "5.1"}]})),
        ("/redfish/v1/Systems/1/Processors", json!({"@odata.id": "/redfish/v1/Systems/1/Processors",
            "Members": [{"@odata.id": "/redfish/v1/Systems/1/Processors/CPU1"},
                        {"@odata.id": "/redfish/v1/Systems/1/Processors/CPU2"}]})),
        ("/redfish/v1/Systems/1/Processors/CPU1", json!({"@odata.id": "/redfish/v1/Systems/1/Processors/CPU1",
            "@odata.type": "#Processor.v1_10_0.Processor", "ProcessorType": "CPU", "Socket": "CPU1",
            "Model": "Example CPU", "Status": {"State": "Enabled"}})),
        ("/redfish/v1/Systems/1/Processors/CPU2", json!({"@odata.id": "/redfish/v1/Systems/1/Processors/CPU2",
            "@odata.type": "#Processor.v1_10_0.Processor", "ProcessorType": "CPU", "Socket": "CPU2",
            "Status": {"State": "Absent"}})),
        ("/redfish/v1/Chassis/1", json!({"@odata.id": "/redfish/v1/Chassis/1", "@odata.type": "#Chassis.v1_14_0.Chassis",
            "ChassisType": "RackMount", "SerialNumber": "TSCH0001",
            "Power": {"@odata.id": "/redfish/v1/Chassis/1/Power"}})),
        ("/redfish/v1/Chassis/1/Power", json!({"@odata.id": "/redfish/v1/Chassis/1/Power", "@odata.type": "#Power.v1_6_0.Power",
            "PowerSupplies": [
                {"@odata.id": "/redfish/v1/Chassis/1/Power#/PowerSupplies/0", "Name": "PSU1", "SerialNumber": "TSPSU1", "FirmwareVersion": "1.0"},
                {"@odata.id": "/redfish/v1/Chassis/1/Power#/PowerSupplies/1", "Name": "PSU2", "Status": {"State": "Absent"}}
            ]})),
    ]))
    .unwrap();
    assert_eq!(cap.resources_read, 11);
    // The placeholder serial is recorded, never used.
    assert_eq!(cap.identifiers.system_serial, None);
    let system = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::System))
        .unwrap();
    assert_eq!(system.placeholders, ["serial: To Be Filled By O.E.M."]);
    assert_eq!(cap.identifiers.chassis_serial.as_deref(), Some("TSCH0001"));

    let board = cap
        .components
        .iter()
        .find(|c| c.serial.as_deref() == Some("TSMB0001"))
        .unwrap();
    assert_eq!(board.manufacturer.as_deref(), Some("Example Corp"));
    assert_eq!(board.revision.as_deref(), Some("A02"));
    assert_eq!(
        board.source_ref,
        "/redfish/v1/Systems/1/Assembly#/Assemblies/0"
    );
    let tpm = cap
        .components
        .iter()
        .find(|c| c.serial.as_deref() == Some("TSTPM0001"))
        .unwrap();
    assert_eq!(tpm.class, Some(ComponentClass::Tpm));
    assert_eq!(
        tpm.source_ref,
        "/redfish/v1/Systems/1/Assembly#/Assemblies/1"
    );
    assert!(!cap
        .components
        .iter()
        .any(|c| c.model.as_deref() == Some("Empty")));

    // The Controllers collection is not in the capture: the embedded controller is read.
    let raid = cap
        .components
        .iter()
        .find(|c| c.class == Some(ComponentClass::StorageController))
        .unwrap();
    assert_eq!(raid.serial.as_deref(), Some("TSRAID01"));
    assert_eq!(raid.firmware_version.as_deref(), Some("5.1"));

    let cpus: Vec<_> = cap
        .components
        .iter()
        .filter(|c| c.class == Some(ComponentClass::Cpu))
        .collect();
    assert_eq!(cpus.len(), 1);
    assert_eq!(cpus[0].location.as_deref(), Some("CPU1"));
    let psus: Vec<_> = cap
        .components
        .iter()
        .filter(|c| c.class == Some(ComponentClass::PowerSupply))
        .collect();
    assert_eq!(psus.len(), 1);
    assert_eq!(psus[0].location.as_deref(), Some("PSU1"));
}

#[test]
fn tpm_measurement_sets() {
    let cap = parse_capture(&set(&[
        ("/redfish/v1", json!({"@odata.id": "/redfish/v1",
            "ComponentIntegrity": {"@odata.id": "/redfish/v1/ComponentIntegrity"}})),
        ("/redfish/v1/ComponentIntegrity", json!({"@odata.id": "/redfish/v1/ComponentIntegrity",
            "Members": [{"@odata.id": "/redfish/v1/ComponentIntegrity/TPM_0"}]})),
        ("/redfish/v1/ComponentIntegrity/TPM_0", json!({"@odata.id": "/redfish/v1/ComponentIntegrity/TPM_0",
            "@odata.type": "#ComponentIntegrity.v1_2_0.ComponentIntegrity", "ComponentIntegrityType": "TPM",
            "TargetComponentURI": "/redfish/v1/Systems/1/TrustedComponents/TPM_0",
            "TPM": {"MeasurementSet": {"Measurements": [
                {"PCR": 0, "MeasurementHashAlgorithm": "SHA256",
                 "Measurement": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]}}})),
    ]))
    .unwrap();
    let e = &cap.integrity[0];
    assert_eq!(e.integrity_type.as_deref(), Some("TPM"));
    assert_eq!(e.measurements[0].pcr, Some(0));
    assert!(e.measurements[0].is_sha256());
    // PCR values are not firmware digests.
    assert_eq!(cap.components[e.component].firmware_sha256, None);
    assert_eq!(cap.components[e.component].class, Some(ComponentClass::Tpm));
}
