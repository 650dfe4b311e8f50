#![allow(clippy::unwrap_used)]
//! The synthetic demo certificate writer: what it writes parses with no issues, verifies,
//! compares as all matched with the same components observed, and is byte-identical for the
//! same seed.

use tamperscan_inventory::{Component, ComponentClass};
use tamperscan_platcert::platform_certificate::CredentialType;
use tamperscan_platcert::writer::{ComponentSpec, DemoCa, PlatformSpec, DEMO_EK_ISSUER};
use tamperscan_platcert::{
    compare, oid, parse_certificate, parse_platform_certificate, verify, CertifiedPlatform,
};

const SEED: [u8; 32] = [7; 32];

fn platform() -> PlatformSpec {
    PlatformSpec {
        manufacturer: "Demo Systems".into(),
        model: "DS-2000 Rack Server".into(),
        version: "1.0".into(),
        serial: "DS2K-0001".into(),
    }
}

fn spec(class_value: u32, m: &str, model: &str, s: Option<&str>, r: Option<&str>) -> ComponentSpec {
    ComponentSpec {
        class_value,
        manufacturer: m.into(),
        model: model.into(),
        serial: s.map(Into::into),
        revision: r.map(Into::into),
    }
}

/// Class values from the HIRS TCG component class table: motherboard, CPU, DRAM, Ethernet
/// adapter, power supply, SSD.
fn components() -> Vec<ComponentSpec> {
    vec![
        spec(
            0x0003_0003,
            "Demo Boards",
            "MB-9",
            Some("MB9-123"),
            Some("A02"),
        ),
        spec(
            0x0001_0002,
            "Intel(R) Corporation",
            "Xeon Gold 6430",
            None,
            Some("8"),
        ),
        spec(
            0x0006_0004,
            "Samsung",
            "M321R8GA0BB0-CQKZJ",
            Some("0x1234ABCD"),
            None,
        ),
        spec(
            0x0009_0002,
            "Intel Corporation",
            "Ethernet Controller E810",
            Some("b4:96:91:00:00:01"),
            None,
        ),
        spec(
            0x000A_0002,
            "Delta",
            "DPS-800AB",
            Some("PSU-77"),
            Some("S1"),
        ),
        // A long model to exercise long-form lengths.
        spec(
            0x0007_0003,
            "Micron",
            &"7450 PRO ".repeat(20),
            Some("SSD-1"),
            None,
        ),
    ]
}

#[test]
fn ca_certificate_parses_and_self_verifies() {
    let ca = DemoCa::new(SEED, "tamperscan demo platform CA");
    let der = ca.ca_certificate_der();
    let cert = parse_certificate(&der).unwrap();
    assert!(cert.issues.is_empty(), "{:?}", cert.issues);
    assert_eq!(cert.version, 3);
    assert_eq!(
        cert.subject.get(oid::AT_COMMON_NAME),
        Some("tamperscan demo platform CA")
    );
    assert!(cert.is_self_issued());
    assert_eq!(cert.basic_constraints.as_ref().map(|b| b.ca), Some(true));
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, ca.public_point());
    assert_eq!(cert.subject_key_id.as_deref(), Some(sha1.as_ref()));
    assert_eq!(ca.key_id(), sha1.as_ref());
    assert_eq!(cert.public_key.key, ca.public_point());
    assert_eq!(cert.public_key.curve().as_deref(), Some(oid::CURVE_P256));
    assert_eq!(
        cert.validity.not_before.to_rfc3339(),
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(cert.validity.not_after.to_rfc3339(), "2036-01-01T00:00:00Z");
    let v = verify(&cert, &cert, None);
    assert_eq!(v.algorithm, "ecdsa-with-SHA256");
    assert!(v.is_valid(), "{:?}", v.reasons);
    assert_eq!(v.key_id_matches, Some(true));
}

#[test]
fn pkcs8_is_accepted_by_ring_and_signs_for_the_certificate_key() {
    use ring::signature::{EcdsaKeyPair, KeyPair, UnparsedPublicKey};
    let ca = DemoCa::new(SEED, "CA");
    let rng = ring::rand::SystemRandom::new();
    let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
    let pair = EcdsaKeyPair::from_pkcs8(alg, &ca.pkcs8_der(), &rng).unwrap();
    assert_eq!(pair.public_key().as_ref(), ca.public_point());
    let sig = pair.sign(&rng, b"demo").unwrap();
    let cert = parse_certificate(&ca.ca_certificate_der()).unwrap();
    UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        &cert.public_key.key,
    )
    .verify(b"demo", sig.as_ref())
    .unwrap();
}

#[test]
fn platform_certificate_parses_verifies_and_detects_tampering() {
    let ca = DemoCa::new(SEED, "tamperscan demo platform CA");
    let ca_cert = parse_certificate(&ca.ca_certificate_der()).unwrap();
    let specs = components();
    let der = ca.platform_certificate_der(&platform(), &specs, 0x8000_0000_0000_0042);
    let cert = parse_platform_certificate(&der).unwrap();
    assert!(cert.issues.is_empty(), "{:?}", cert.issues);
    assert_eq!(cert.version, 1);
    assert_eq!(cert.serial_hex(), "8000000000000042");
    assert_eq!(cert.credential_type, Some(CredentialType::Base));
    assert!(!cert.is_delta());
    let ps = cert.platform_specification.as_ref().unwrap();
    assert_eq!((ps.version.major, ps.version.minor), (1, 5));
    assert_eq!(ps.platform_class, [0, 0, 0, 1]);
    let cs = cert.credential_specification.unwrap();
    assert_eq!((cs.major, cs.minor, cs.revision), (1, 1, 19));
    assert_eq!(cert.platform.manufacturer.as_deref(), Some("Demo Systems"));
    assert_eq!(cert.platform.model.as_deref(), Some("DS-2000 Rack Server"));
    assert_eq!(cert.platform.version.as_deref(), Some("1.0"));
    assert_eq!(cert.platform.serial.as_deref(), Some("DS2K-0001"));
    let holder = cert.holder.base_certificate_id.as_ref().unwrap();
    assert_eq!(
        holder.issuer_name().unwrap().get(oid::AT_COMMON_NAME),
        Some(DEMO_EK_ISSUER)
    );
    assert_eq!(holder.serial.len(), 8);
    assert_eq!(
        cert.issuer.as_ref().unwrap().get(oid::AT_COMMON_NAME),
        Some("tamperscan demo platform CA")
    );
    assert_eq!(
        cert.authority_key_id.as_ref().unwrap().key_id.as_deref(),
        Some(ca.key_id())
    );
    assert_eq!(cert.validity.not_after.to_rfc3339(), "2036-01-01T00:00:00Z");

    let got = cert.components();
    assert_eq!(got.len(), specs.len());
    for (c, s) in got.iter().zip(&specs) {
        let class = c.class.as_ref().unwrap();
        assert_eq!(class.registry, oid::TCG_REGISTRY_COMPONENT_CLASS_TCG);
        assert_eq!(class.value, s.class_value);
        assert_eq!(c.manufacturer.as_ref(), Some(&s.manufacturer));
        assert_eq!(c.model.as_ref(), Some(&s.model));
        assert_eq!(c.serial, s.serial);
        assert_eq!(c.revision, s.revision);
    }

    let v = verify(&cert, &ca_cert, None);
    assert!(v.is_valid(), "{:?}", v.reasons);
    assert_eq!(v.key_id_matches, Some(true));

    // Another CA's key does not verify it.
    let other = parse_certificate(&DemoCa::new([8; 32], "other").ca_certificate_der()).unwrap();
    assert!(!verify(&cert, &other, None).signature_ok);

    // Every byte flipped inside the signed part: either it no longer parses, or it no longer
    // verifies.
    let start = usize::try_from(cert.tbs_offset).unwrap();
    let mut flips_parsed = 0;
    for i in start..start + cert.tbs.len() {
        let mut bad = der.clone();
        bad[i] ^= 0x01;
        if let Ok(b) = parse_platform_certificate(&bad) {
            flips_parsed += 1;
            assert!(
                !verify(&b, &ca_cert, None).signature_ok,
                "flip at {i} verifies"
            );
        }
    }
    assert!(flips_parsed > 100, "{flips_parsed}");
}

#[test]
fn comparison_with_the_same_observed_components_is_all_matched() {
    let ca = DemoCa::new(SEED, "tamperscan demo platform CA");
    let specs = components();
    let cert =
        parse_platform_certificate(&ca.platform_certificate_der(&platform(), &specs, 1)).unwrap();
    let classes = [
        ComponentClass::Baseboard,
        ComponentClass::Cpu,
        ComponentClass::Memory,
        ComponentClass::Nic,
        ComponentClass::PowerSupply,
        ComponentClass::Storage,
    ];
    let observed: Vec<Component> = specs
        .iter()
        .zip(classes)
        .map(|(s, class)| Component {
            class: Some(class),
            manufacturer: Some(s.manufacturer.trim().to_string()),
            model: Some(s.model.trim().to_string()),
            serial: s.serial.clone(),
            revision: s.revision.clone(),
            source: "smbios".into(),
            ..Component::default()
        })
        .collect();
    let cmp = compare(&CertifiedPlatform::from_base(&cert), &observed);
    assert_eq!(cmp.matched.len(), specs.len(), "{cmp:#?}");
    assert!(cmp.is_exact(), "{cmp:#?}");

    // A swapped serial is found.
    let mut swapped = observed.clone();
    swapped[0].serial = Some("MB9-999".into());
    let cmp = compare(&CertifiedPlatform::from_base(&cert), &swapped);
    assert_eq!(cmp.mismatched.len(), 1);
    assert_eq!(cmp.matched.len(), specs.len() - 1);
}

#[test]
fn output_is_deterministic_for_a_seed() {
    let a = DemoCa::new(SEED, "CA");
    let b = DemoCa::new(SEED, "CA");
    assert_eq!(a.ca_certificate_der(), b.ca_certificate_der());
    assert_eq!(a.pkcs8_der(), b.pkcs8_der());
    let specs = components();
    assert_eq!(
        a.platform_certificate_der(&platform(), &specs, 5),
        b.platform_certificate_der(&platform(), &specs, 5)
    );
    let c = DemoCa::new([9; 32], "CA");
    assert_ne!(a.public_point(), c.public_point());
    assert_ne!(a.ca_certificate_der(), c.ca_certificate_der());
}

#[test]
fn no_components_and_truncations_are_handled() {
    let ca = DemoCa::new(SEED, "CA");
    let ca_cert = parse_certificate(&ca.ca_certificate_der()).unwrap();
    let der = ca.platform_certificate_der(&PlatformSpec::default(), &[], 0);
    let cert = parse_platform_certificate(&der).unwrap();
    assert!(cert.issues.is_empty(), "{:?}", cert.issues);
    assert!(cert.components().is_empty());
    assert_eq!(cert.serial_hex(), "00");
    assert!(verify(&cert, &ca_cert, None).is_valid());
    for n in 0..der.len() {
        assert!(parse_platform_certificate(&der[..n]).is_err(), "prefix {n}");
    }
}
