#![allow(clippy::unwrap_used)]
//! Golden tests over the real platform certificates, CAs and collected-component files in
//! `shared/data/inventory` (HIRS, paccor, vendor CAs).

use std::path::{Path, PathBuf};
use tamperscan_inventory::{clean, normalize_mac, Component, ComponentClass};
use tamperscan_platcert::platform_certificate::CredentialType;
use tamperscan_platcert::platform_configuration::{
    AddressKind, AttributeStatus, ComponentClassId, ConfigurationVersion,
};
use tamperscan_platcert::registry::ClassRegistry;
use tamperscan_platcert::time::Time;
use tamperscan_platcert::verify::find_issuer;
use tamperscan_platcert::*;

fn certs_dir() -> Option<PathBuf> {
    Some(tamperscan_testdata::data_dir()?.join("inventory/tcg-platform-certs"))
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap()
}

fn platform(dir: &Path, rel: &str) -> PlatformCertificate {
    parse_platform_certificate(&read(dir, rel)).unwrap()
}

fn ca(dir: &Path, rel: &str) -> Certificate {
    parse_certificate(&read(dir, rel)).unwrap()
}

const LAPTOP_CA: &str = "hirs-ci-laptop/default/trustcerts/ca.crt";
const LAPTOP_BASE: &str = "hirs-ci-laptop/default/platformcerts/laptop.default.1.base.cer";
const LAPTOP_BASE_ADD_MEM: &str =
    "hirs-ci-laptop/deltaPlatMem/platformcerts/laptop_base_platform_cert_addMem.crt";
const LAPTOP_DELTA_ADD_MEM: &str =
    "hirs-ci-laptop/deltaPlatMem/platformcerts/laptop_deltaPlatCert_addMem.crt";
const INTEL_BASE: &str = "hirs/validation/platform_credentials/plat_base_cert1.pem";
const INTEL_DELTA: &str = "hirs/validation/platform_credentials/plat_delta_cert1.pem";
const PACCOR_CERT: &str = "paccor/sample_testgen1/platform_cert.20250909102720.crt";
const PACCOR_CA: &str = "paccor/sample_testgen1/PCTestCA.example.com.pem";
/// 2020-01-01T00:00:00Z, inside the HIRS laptop certificates' validity.
const JAN_2020: Time = Time(1_577_836_800);

#[test]
fn every_certificate_file_parses_as_its_kind() {
    let Some(dir) = certs_dir() else { return };
    let mut attribute = Vec::new();
    let mut x509 = Vec::new();
    for f in tamperscan_testdata::files_under(&dir) {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["pem", "crt", "cer", "der", "bin"].contains(&ext) {
            continue;
        }
        let name = f.strip_prefix(&dir).unwrap().display().to_string();
        let all = parse_all(&std::fs::read(&f).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(all.len(), 1, "{name}");
        match &all[0] {
            Parsed::Platform(p) => {
                assert!(p.issues.is_empty(), "{name}: {:?}", p.issues);
                attribute.push(name);
            }
            Parsed::Certificate(c) => {
                assert!(c.issues.is_empty(), "{name}: {:?}", c.issues);
                assert!(c.version == 3 || c.version == 1, "{name}");
                x509.push(name);
            }
        }
    }
    assert_eq!(attribute.len(), 15, "{attribute:?}");
    assert_eq!(x509.len(), 18, "{x509:?}");
    // The TCPA endorsement credential decodes as an attribute certificate without TCG
    // platform attributes; its identity comes from the legacy SAN OIDs.
    let pc1 = platform(&dir, "hirs/validation/platform_credentials/Intel_pc1.cer");
    assert_eq!(pc1.credential_type, None);
    assert!(pc1.configuration.is_none());
    assert_eq!(pc1.platform.manufacturer.as_deref(), Some("Intel"));
    assert_eq!(pc1.platform.model.as_deref(), Some("S2600KP"));
    assert_eq!(pc1.signature_algorithm.oid, "1.2.840.113549.1.1.5");
    // A .txt file of the same data set holding an Intel NUC platform certificate.
    let nuc = parse_platform_certificate(&read(
        &dir,
        "hirs/validation/platform_credentials/TPM_INTC_Platform_Cert_RSA.txt",
    ))
    .unwrap();
    assert_eq!(nuc.components().len(), 7);
    assert_eq!(nuc.platform.model.as_deref(), Some("NUC7i5DNHE"));
    // PEM/DER and the two kinds are told apart.
    assert!(matches!(
        parse_certificate(&read(&dir, LAPTOP_BASE)),
        Err(Error::WrongKind { .. })
    ));
    assert!(matches!(
        parse_platform_certificate(&read(&dir, LAPTOP_CA)),
        Err(Error::WrongKind { .. })
    ));
}

#[test]
fn laptop_base_certificate_decodes_every_field() {
    let Some(dir) = certs_dir() else { return };
    let p = platform(&dir, LAPTOP_BASE);
    assert_eq!(p.version, 1);
    assert_eq!(p.serial_hex(), "01");
    assert_eq!(p.credential_type, Some(CredentialType::Base));
    let holder = p.holder.base_certificate_id.as_ref().unwrap();
    assert_eq!(holder.serial_hex(), "01642813778a");
    assert_eq!(
        holder.issuer_name().unwrap().to_string(),
        "C=US, ST=ST, L=EXAMPLE, O=org, CN=ca"
    );
    assert_eq!(
        p.issuer.as_ref().unwrap().to_string(),
        "C=US, ST=ST, L=EXAMPLE, O=org, CN=ca"
    );
    assert_eq!(p.validity.not_before.to_rfc3339(), "2018-01-01T00:00:00Z");
    assert_eq!(p.validity.not_after.to_rfc3339(), "2028-01-01T00:00:00Z");
    assert_eq!(p.platform.manufacturer.as_deref(), Some("Dell Inc."));
    assert_eq!(p.platform.model.as_deref(), Some("Latitude 5580"));
    assert_eq!(p.platform.version.as_deref(), Some("Not Specified"));
    assert_eq!(p.platform.serial.as_deref(), Some("56LMWD2"));
    let spec = p.platform_specification.as_ref().unwrap();
    assert_eq!(
        (
            spec.version.major,
            spec.version.minor,
            spec.version.revision
        ),
        (1, 3, 22)
    );
    assert_eq!(spec.platform_class, vec![0, 0, 0, 1]);
    let cred = p.credential_specification.unwrap();
    assert_eq!((cred.major, cred.minor, cred.revision), (1, 1, 17));
    assert!(p.tbb_security_assertions.is_some());
    let config = p.configuration.as_ref().unwrap();
    assert_eq!(config.version, ConfigurationVersion::V2);
    assert_eq!(config.components.len(), 6);
    let board = &config.components[1];
    assert_eq!(
        board.class,
        Some(ComponentClassId {
            registry: "2.23.133.18.3.1".into(),
            value: 0x0003_0003
        })
    );
    assert_eq!(board.model.as_deref(), Some("08T986"));
    assert_eq!(board.serial.as_deref(), Some("/56LMWD2/TW320707A30298/"));
    assert_eq!(board.revision.as_deref(), Some("A00"));
    assert_eq!(board.field_replaceable, Some(true));
    let aki = p.authority_key_id.as_ref().unwrap();
    assert_eq!(
        tamperscan_bytes::hex(aki.key_id.as_ref().unwrap()),
        "46b9dc6e1ed8a1a0b415287305d4a8875ddddf25"
    );
}

#[test]
fn intel_v1_and_v2_certificates_decode_addresses_and_assertions() {
    let Some(dir) = certs_dir() else { return };
    let base = platform(&dir, INTEL_BASE);
    let c = &base.components()[0];
    assert_eq!(c.addresses.len(), 2);
    assert_eq!(c.addresses[0].kind, AddressKind::EthernetMac);
    assert_eq!(c.addresses[0].value, "AF:3A:94:10:A5");
    assert_eq!(c.addresses[1].kind, AddressKind::WlanMac);
    let pc = c.platform_cert.as_ref().unwrap();
    assert_eq!(
        pc.attribute_cert_hash.as_ref().unwrap().0.oid,
        "1.3.6.1.4.1.22554.1.2.1"
    );
    assert!(pc.generic.is_some());
    assert_eq!(
        base.platform.manufacturer_id.as_deref(),
        Some("1.3.6.1.4.1.343")
    );
    let tbb = base.tbb_security_assertions.as_ref().unwrap();
    assert_eq!(tbb.common_criteria.as_ref().unwrap().assurance_level, 7);
    assert_eq!(tbb.fips_level.as_ref().unwrap().level, 4);
    assert_eq!(tbb.rtm_type, Some(3));
    let v1 = platform(&dir, "hirs/validation/platform_credentials/plat_cert1.pem");
    let config = v1.configuration.as_ref().unwrap();
    assert_eq!(config.version, ConfigurationVersion::V1);
    assert_eq!(config.components.len(), 1);
    assert_eq!(config.components[0].class, None);
    assert_eq!(config.components[0].model.as_deref(), Some("platform2018"));
    assert_eq!(config.properties.len(), 2);
    assert_eq!(
        config.properties_uri.as_ref().unwrap().uri,
        "https://www.intel.com/platformproperties.xml"
    );
}

#[test]
fn signatures_verify_against_the_shipped_cas() {
    let Some(dir) = certs_dir() else { return };
    let laptop_ca = ca(&dir, LAPTOP_CA);
    assert!(
        laptop_ca.subject_key_id.is_none(),
        "key id comes from the key hash"
    );
    for rel in [LAPTOP_BASE, LAPTOP_BASE_ADD_MEM, LAPTOP_DELTA_ADD_MEM] {
        let v = verify(&platform(&dir, rel), &laptop_ca, Some(JAN_2020));
        assert!(v.signature_ok && v.issuer_matches, "{rel}: {:?}", v.reasons);
        assert_eq!(v.key_id_matches, Some(true), "{rel}: {:?}", v.reasons);
        assert_eq!(v.within_validity, Some(true));
        assert_eq!(v.algorithm, "sha256WithRSAEncryption");
        assert!(v.is_valid());
    }
    // The CA is self-signed; after 2028 nothing is valid any more.
    let v = verify(&laptop_ca, &laptop_ca, Some(Time(1_893_456_000)));
    assert!(v.signature_ok);
    assert_eq!(v.within_validity, Some(false));

    let paccor_ca = ca(&dir, PACCOR_CA);
    let v = verify(
        &platform(&dir, PACCOR_CERT),
        &paccor_ca,
        Some(Time(1_760_000_000)),
    );
    assert!(v.is_valid(), "{:?}", v.reasons);

    // SHA-1 signed: verify, but reported weak.
    let intel_key = ca(&dir, "hirs/certificates/IntelSigningKey_20April2017.pem");
    for rel in [
        "hirs/validation/platform_credentials/Intel_pc1.cer",
        "hirs/validation/platform_credentials/Intel_pc2.cer",
    ] {
        let v = verify(&platform(&dir, rel), &intel_key, None);
        assert!(v.signature_ok && v.weak_algorithm, "{rel}: {:?}", v.reasons);
        assert!(!v.is_valid());
    }
    // CA chains (a CA verified by its own issuer): RSA SHA-1/256/384, ECDSA P-384.
    let chains = [
        (
            "hirs/validation/platform_credentials/intel_chain/root/intermediate1.crt",
            "hirs/validation/platform_credentials/intel_chain/root/rootca.crt",
            true,
        ),
        (
            "hirs/validation/platform_credentials/intel_chain/root/rootca.crt",
            "hirs/validation/platform_credentials/intel_chain/root/rootca.crt",
            false,
        ),
        (
            "oem-ca/dell/Dell_iDRAC_SCV-SIS.cer",
            "oem-ca/dell/Dell_iDRAC_SCV-RootCA.cer",
            false,
        ),
        (
            "oem-ca/dell/PROD-CSG-SCV-SubCA.cer",
            "oem-ca/dell/PROD-CSG-SCV-Root.cer",
            false,
        ),
        (
            "oem-ca/hpe/HPE-Device-CA-L1-TEST.cer",
            "oem-ca/hpe/HPE-Device-CA-Root-TEST.cer",
            false,
        ),
        (
            "oem-ca/hpe/HPE-Device-CA-L2-TEST.cer",
            "oem-ca/hpe/HPE-Device-CA-L1-TEST.cer",
            false,
        ),
        (
            "oem-ca/hp/hplabstest-cert.cer",
            "oem-ca/hp/hplabstest-cert.cer",
            false,
        ),
    ];
    for (leaf, issuer, weak) in chains {
        let v = verify(&ca(&dir, leaf), &ca(&dir, issuer), None);
        assert!(
            v.signature_ok && v.issuer_matches,
            "{leaf}: {:?}",
            v.reasons
        );
        assert_ne!(v.key_id_matches, Some(false), "{leaf}: {:?}", v.reasons);
        assert_eq!(v.weak_algorithm, weak, "{leaf}");
    }
    let dell_sis = ca(&dir, "oem-ca/dell/Dell_iDRAC_SCV-SIS.cer");
    assert_eq!(dell_sis.signature_algorithm.oid, "1.2.840.10045.4.3.3");

    // The wrong CA fails on every count.
    let v = verify(&platform(&dir, LAPTOP_BASE), &paccor_ca, Some(JAN_2020));
    assert!(!v.signature_ok && !v.issuer_matches);
    assert_eq!(v.key_id_matches, Some(false));
    assert!(v.reasons.len() >= 3);

    // Which CA signs which, found from the keys.
    let all_cas: Vec<Certificate> = [
        LAPTOP_CA,
        PACCOR_CA,
        "oem-ca/dell/Dell_iDRAC_SCV-RootCA.cer",
    ]
    .iter()
    .map(|r| ca(&dir, r))
    .collect();
    let found = find_issuer(&platform(&dir, LAPTOP_DELTA_ADD_MEM), &all_cas).unwrap();
    assert_eq!(
        found.subject.to_string(),
        "C=US, ST=ST, L=EXAMPLE, O=org, CN=ca"
    );
    let found = find_issuer(&platform(&dir, PACCOR_CERT), &all_cas).unwrap();
    assert_eq!(found.subject.to_string(), "C=US, O=example.com, OU=PCTest");
}

#[test]
fn a_flipped_byte_in_the_signed_part_fails() {
    let Some(dir) = certs_dir() else { return };
    // RSA: flip a byte of the platform model string inside the DER and parse again.
    let laptop_ca = ca(&dir, LAPTOP_CA);
    let mut der = read(&dir, LAPTOP_BASE);
    let at = der.windows(13).position(|w| w == b"Latitude 5580").unwrap();
    der[at] ^= 0x01;
    let tampered = parse_platform_certificate(&der).unwrap();
    assert_eq!(tampered.platform.model.as_deref(), Some("Matitude 5580"));
    let v = verify(&tampered, &laptop_ca, Some(JAN_2020));
    assert!(!v.signature_ok);
    assert!(v.issuer_matches);
    // ECDSA P-384 and RSA-SHA384 CA certificates: flip one byte of every tenth tbs offset.
    for (leaf, issuer) in [
        (
            "oem-ca/dell/Dell_iDRAC_SCV-SIS.cer",
            "oem-ca/dell/Dell_iDRAC_SCV-RootCA.cer",
        ),
        (
            "oem-ca/hpe/HPE-Device-CA-L2-TEST.cer",
            "oem-ca/hpe/HPE-Device-CA-L1-TEST.cer",
        ),
    ] {
        let good = ca(&dir, leaf);
        let issuer = ca(&dir, issuer);
        assert!(verify(&good, &issuer, None).signature_ok);
        for i in (0..good.tbs.len()).step_by(10) {
            let mut bad = good.clone();
            bad.tbs[i] ^= 0x80;
            assert!(!verify(&bad, &issuer, None).signature_ok, "{leaf} byte {i}");
        }
        let mut bad_sig = good.clone();
        let last = bad_sig.signature.len() - 1;
        bad_sig.signature[last] ^= 1;
        assert!(!verify(&bad_sig, &issuer, None).signature_ok);
    }
}

#[test]
fn laptop_base_and_memory_delta_apply_as_a_chain() {
    let Some(dir) = certs_dir() else { return };
    let base = platform(&dir, LAPTOP_BASE_ADD_MEM);
    let delta = platform(&dir, LAPTOP_DELTA_ADD_MEM);
    assert!(delta.is_delta());
    assert!(delta.holder_points_at(&base));
    assert_eq!(delta.components()[0].status, Some(AttributeStatus::Added));
    let chain = apply_deltas(&base, std::slice::from_ref(&delta)).unwrap();
    assert!(chain.is_clean(), "{:?}", chain.problems);
    assert_eq!(base.components().len(), 5);
    assert_eq!(chain.components.len(), 6);
    assert_eq!(chain.applied.len(), 1);
    assert!(chain.applied[0].linked);
    assert_eq!(chain.applied[0].added, 1);
    assert_eq!(chain.components[5].serial.as_deref(), Some("29AC274B"));
    assert_eq!(chain.components[5].status, None);
    // The folded chain certifies what the single full base certificate certifies.
    let full = platform(&dir, LAPTOP_BASE);
    let key = |c: &PlatformComponent| {
        (
            c.class.clone(),
            c.manufacturer.clone(),
            c.model.clone(),
            c.serial.clone(),
        )
    };
    let mut a: Vec<_> = chain.components.iter().map(key).collect();
    let mut b: Vec<_> = full.components().iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // A delta is not a base.
    assert!(matches!(apply_deltas(&delta, &[]), Err(Error::Chain(_))));
}

#[test]
fn intel_base_and_delta_apply_added_modified_removed() {
    let Some(dir) = certs_dir() else { return };
    let base = platform(&dir, INTEL_BASE);
    let delta = platform(&dir, INTEL_DELTA);
    let chain = apply_deltas(&base, std::slice::from_ref(&delta)).unwrap();
    assert!(chain.is_clean(), "{:?}", chain.problems);
    let applied = &chain.applied[0];
    assert!(applied.linked);
    assert_eq!(
        (applied.added, applied.modified, applied.removed),
        (1, 1, 1)
    );
    let models: Vec<_> = chain
        .components
        .iter()
        .map(|c| c.model.clone().unwrap())
        .collect();
    assert_eq!(models, ["LMBT3904DW1T1G", "XT98287LL"]);
    assert_eq!(chain.components[0].revision.as_deref(), Some("4.0"));
    let props: Vec<_> = chain
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        props,
        [("vPro", "true"), ("AMT", "false"), ("TSC Enabled", "true")]
    );
}

#[test]
fn broken_chains_are_reported_and_deltas_ordered_by_linkage() {
    let Some(dir) = certs_dir() else { return };
    let base = platform(&dir, LAPTOP_BASE_ADD_MEM);
    let laptop_delta = platform(&dir, LAPTOP_DELTA_ADD_MEM);
    let intel_delta = platform(&dir, INTEL_DELTA);
    // The Intel delta comes first in the list but names another base.
    let chain = apply_deltas(&base, &[intel_delta.clone(), laptop_delta.clone()]).unwrap();
    assert_eq!(chain.applied.len(), 2);
    assert_eq!(chain.applied[0].serial, laptop_delta.serial);
    assert!(chain.applied[0].linked);
    assert!(!chain.applied[1].linked);
    assert!(chain.problems.contains(&delta::ChainProblem::BrokenLink {
        serial: intel_delta.serial.clone(),
        previous_serial: laptop_delta.serial.clone(),
    }));
    assert!(chain.problems.iter().any(|p| matches!(
        p,
        delta::ChainProblem::PlatformMismatch {
            field: "serial",
            ..
        }
    )));
    assert!(chain.problems.iter().any(|p| matches!(
        p,
        delta::ChainProblem::UnmatchedComponent {
            status: AttributeStatus::Removed,
            ..
        }
    )));
    // A base passed as a delta is reported, not applied.
    let chain = apply_deltas(&base, &[platform(&dir, LAPTOP_BASE)]).unwrap();
    assert!(chain.applied.is_empty());
    assert!(matches!(
        chain.problems[0],
        delta::ChainProblem::NotADelta { .. }
    ));
}

/// The HIRS collected-components JSON (`laptop_default_hw.json`) as observed components.
fn observed_from_hirs_json(bytes: &[u8], registry: &ClassRegistry) -> Vec<Component> {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut out = Vec::new();
    let platform = &v["PLATFORM"];
    let mut ph = Vec::new();
    out.push(Component {
        class: Some(ComponentClass::System),
        manufacturer: clean(
            platform["PLATFORMMANUFACTURERSTR"].as_str(),
            "manufacturer",
            &mut ph,
        ),
        model: clean(platform["PLATFORMMODEL"].as_str(), "model", &mut ph),
        serial: clean(platform["PLATFORMSERIAL"].as_str(), "serial", &mut ph),
        source: "hirs-json".into(),
        placeholders: ph,
        ..Component::default()
    });
    for (i, c) in v["COMPONENTS"].as_array().unwrap().iter().enumerate() {
        let class = ComponentClassId {
            registry: c["COMPONENTCLASS"]["COMPONENTCLASSREGISTRY"]
                .as_str()
                .unwrap()
                .into(),
            value: u32::from_str_radix(
                c["COMPONENTCLASS"]["COMPONENTCLASSVALUE"].as_str().unwrap(),
                16,
            )
            .unwrap(),
        };
        let mut ph = Vec::new();
        let macs = c["ADDRESSES"]
            .as_array()
            .map(|a| {
                a.iter()
                    .flat_map(|m| m.as_object().unwrap().values())
                    .filter_map(|m| normalize_mac(m.as_str().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Component {
            class: Some(registry.to_inventory_class(&class)),
            manufacturer: clean(c["MANUFACTURER"].as_str(), "manufacturer", &mut ph),
            model: clean(c["MODEL"].as_str(), "model", &mut ph),
            serial: clean(c["SERIAL"].as_str(), "serial", &mut ph),
            revision: clean(c["REVISION"].as_str(), "revision", &mut ph),
            macs,
            source: "hirs-json".into(),
            source_ref: format!("COMPONENTS[{i}]"),
            placeholders: ph,
            ..Component::default()
        });
    }
    out
}

fn registry() -> Option<ClassRegistry> {
    let data = tamperscan_testdata::data_dir()?;
    let json =
        std::fs::read(data.join("inventory/tcg-registries/hirs-component-class.json")).unwrap();
    Some(ClassRegistry::from_json(&json).unwrap())
}

#[test]
fn laptop_certificate_matches_the_collected_components() {
    let (Some(dir), Some(reg)) = (certs_dir(), registry()) else {
        return;
    };
    let observed = observed_from_hirs_json(
        &read(&dir, "hirs-ci-laptop/default/laptop_default_hw.json"),
        &reg,
    );
    assert_eq!(observed.len(), 7);
    let certified = CertifiedPlatform::from_base(&platform(&dir, LAPTOP_BASE));
    let cmp = compare::compare_with(&certified, &observed, Some(&reg));
    assert!(cmp.is_exact(), "{cmp:#?}");
    assert_eq!(cmp.matched.len(), 6);
    assert_eq!(cmp.platform_observed, Some(0));
    let classes: Vec<_> = cmp
        .matched
        .iter()
        .map(|p| p.certified.class.clone().unwrap())
        .collect();
    use ComponentClass as C;
    assert_eq!(
        classes,
        [
            C::Chassis,
            C::Baseboard,
            C::Bios,
            C::Cpu,
            C::Memory,
            C::Memory
        ]
    );
    let board = &cmp.matched[1];
    assert_eq!(
        board.certified.serial.as_deref(),
        Some("/56LMWD2/TW320707A30298/")
    );
    assert_eq!(board.observed.serial, board.certified.serial);
    assert_eq!(board.observed.source_ref, "COMPONENTS[1]");
    // The CPU serial is a placeholder on both sides: never a mismatch, kept as placeholder.
    let cpu = &cmp.matched[3];
    assert_eq!(cpu.certified.serial, None);
    assert_eq!(
        cpu.certified.placeholders,
        ["serial: To Be Filled By O.E.M."]
    );
    // DIMMs paired by serial even when listed in the other order.
    let mut swapped = observed.clone();
    swapped.swap(5, 6);
    let cmp = compare::compare_with(&certified, &swapped, Some(&reg));
    assert!(cmp.is_exact());
    assert_eq!(cmp.matched[4].observed.serial.as_deref(), Some("29AC2764"));
    // The chain base + memory delta certifies the same machine.
    let chain = apply_deltas(
        &platform(&dir, LAPTOP_BASE_ADD_MEM),
        &[platform(&dir, LAPTOP_DELTA_ADD_MEM)],
    )
    .unwrap();
    assert!(compare(&chain, &observed).is_exact());
    // Only the base (without the added DIMM): one DIMM extra.
    let only_base = CertifiedPlatform::from_base(&platform(&dir, LAPTOP_BASE_ADD_MEM));
    let cmp = compare(&only_base, &observed);
    assert_eq!(cmp.extra.len(), 1);
    assert_eq!(cmp.extra[0].component.serial.as_deref(), Some("29AC274B"));
}

#[test]
fn tampered_observations_show_up_as_missing_extra_and_mismatched() {
    let (Some(dir), Some(reg)) = (certs_dir(), registry()) else {
        return;
    };
    let mut observed = observed_from_hirs_json(
        &read(&dir, "hirs-ci-laptop/default/laptop_default_hw.json"),
        &reg,
    );
    observed[2].serial = Some("/56LMWD2/XX000000000000/".into()); // board swapped
    observed[0].serial = Some("OTHER01".into()); // platform serial
    observed.remove(6); // a DIMM pulled
    observed.push(Component {
        class: Some(ComponentClass::Nic),
        manufacturer: Some("Intel".into()),
        model: Some("I219-LM".into()),
        macs: vec!["8c:0f:6f:72:c6:c5".into()],
        ..Component::default()
    });
    let certified = CertifiedPlatform::from_base(&platform(&dir, LAPTOP_BASE));
    let cmp = compare::compare_with(&certified, &observed, Some(&reg));
    assert_eq!(cmp.matched.len(), 4);
    assert_eq!(cmp.mismatched.len(), 1);
    let m = &cmp.mismatched[0];
    assert_eq!(m.pair.certified.class, Some(ComponentClass::Baseboard));
    assert_eq!(m.fields.len(), 1);
    assert_eq!(m.fields[0].field, "serial");
    assert_eq!(m.fields[0].certified, "/56LMWD2/TW320707A30298/");
    assert_eq!(m.fields[0].observed, "/56LMWD2/XX000000000000/");
    assert_eq!(cmp.missing.len(), 1);
    assert_eq!(cmp.missing[0].component.serial.as_deref(), Some("29AC274B"));
    assert_eq!(cmp.extra.len(), 1);
    assert_eq!(cmp.extra[0].component.class, Some(ComponentClass::Nic));
    assert_eq!(cmp.platform_differences.len(), 1);
    assert_eq!(cmp.platform_differences[0].observed, "OTHER01");
}

#[test]
fn paccor_v2_certificate_decodes_its_component_list() {
    let Some(dir) = certs_dir() else { return };
    let cert = platform(&dir, PACCOR_CERT);
    let config = cert.configuration.as_ref().unwrap();
    assert_eq!(config.version, ConfigurationVersion::V3);
    let json: serde_json::Value = serde_json::from_slice(&read(
        &dir,
        "paccor/sample_testgen1/localhost-componentlist.json",
    ))
    .unwrap();
    let listed = json["COMPONENTS"].as_array().unwrap();
    assert_eq!(listed.len(), 33);
    assert_eq!(config.components.len(), listed.len());
    for (c, j) in config.components.iter().zip(listed) {
        assert_eq!(c.manufacturer.as_deref(), j["MANUFACTURER"].as_str());
        assert_eq!(c.model.as_deref(), j["MODEL"].as_str());
        assert_eq!(c.serial.as_deref(), j["SERIAL"].as_str());
        assert_eq!(c.revision.as_deref(), j["REVISION"].as_str());
        let class = c.class.as_ref().unwrap();
        assert_eq!(
            Some(class.registry.as_str()),
            j["COMPONENTCLASS"]["COMPONENTCLASSREGISTRY"].as_str()
        );
        assert_eq!(
            Some(class.value_hex().as_str()),
            j["COMPONENTCLASS"]["COMPONENTCLASSVALUE"].as_str()
        );
        assert_eq!(c.traits.len(), 1);
        assert_eq!(c.traits[0].id, "2.23.133.19.1.5");
        assert_eq!(c.traits[0].category, "2.23.133.19.2.26");
    }
    let props = json["PROPERTIES"].as_array().unwrap();
    assert_eq!(config.properties.len(), props.len());
    assert_eq!(config.properties[1].value, "Rocky Linux 9.6 (Blue Onyx)");
    let macs: Vec<String> = config.components.iter().flat_map(|c| c.macs()).collect();
    assert_eq!(macs, ["cc:48:3a:4b:eb:00"]);
    assert_eq!(cert.platform.model.as_deref(), Some("Latitude 5510"));
    assert_eq!(
        cert.platform.serial.as_deref(),
        json["PLATFORM"]["PLATFORMSERIAL"].as_str()
    );
    // Inventory classes from the SMBIOS and PCIe registries.
    let certified = CertifiedPlatform::from_base(&cert);
    let comps: Vec<Component> = certified
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| compare::to_component(c, i, None))
        .collect();
    use ComponentClass as C;
    let count = |k: C| {
        comps
            .iter()
            .filter(|c| c.class.as_ref() == Some(&k))
            .count()
    };
    assert_eq!(count(C::Bios), 1);
    assert_eq!(count(C::System), 1);
    assert_eq!(count(C::Baseboard), 1);
    assert_eq!(count(C::Memory), 2);
    assert_eq!(count(C::Cpu), 1);
    assert_eq!(count(C::Tpm), 1);
    assert_eq!(count(C::Nic), 1);
    assert_eq!(count(C::Storage), 1);
    assert_eq!(count(C::StorageController), 1);
}

#[test]
fn the_hirs_registry_names_component_classes() {
    let Some(reg) = registry() else { return };
    assert_eq!(reg.tables["TCG"].len(), 19);
    assert_eq!(reg.tables["SMBIOS"].len(), 8);
    let name = |registry: &str, value: u32| {
        reg.describe(&ComponentClassId {
            registry: registry.into(),
            value,
        })
    };
    assert_eq!(
        name("2.23.133.18.3.1", 0x0003_0003),
        "TCG IC Boards - Motherboard"
    );
    assert_eq!(name("2.23.133.18.3.1", 0x0006_0001), "TCG Memory - Unknown");
    assert_eq!(
        name("2.23.133.18.3.1", 0x0013_0003),
        "TCG Firmware - System BIOS"
    );
    assert_eq!(
        name("2.23.133.18.3.1", 0x0002_0000),
        "TCG Containers - Other"
    );
    assert_eq!(name("2.23.133.18.3.3", 0x0011_001a), "SMBIOS RAM - DDR4");
    assert_eq!(
        name("2.23.133.18.3.3", 0x0002_000a),
        "SMBIOS Baseboard - Motherboard (includes processor, memory, and I/O)"
    );
    assert_eq!(
        name("2.23.133.18.3.4", 0x0002_0000),
        "2.23.133.18.3.4 0x00020000"
    );
}
