//! Object identifiers used here, as dotted text, with the names the specifications give them.
//!
//! TCG OIDs are from the TCG Platform Certificate Profile v1.1 (§3.1 "ASN.1 object
//! identifiers") and v2.0/v2.1 (the trait OIDs under `tcg-traits` 2.23.133.19); X.509 ones from
//! RFC 5280, RFC 5755, RFC 4055 and RFC 5758.

// X.500 attribute types (RFC 5280 Appendix A, X.520).
/// `id-at-commonName`.
pub const AT_COMMON_NAME: &str = "2.5.4.3";

// X.509 extensions (RFC 5280 §4.2).
/// `id-ce-subjectKeyIdentifier`.
pub const CE_SUBJECT_KEY_ID: &str = "2.5.29.14";
/// `id-ce-subjectAltName`.
pub const CE_SUBJECT_ALT_NAME: &str = "2.5.29.17";
/// `id-ce-basicConstraints`.
pub const CE_BASIC_CONSTRAINTS: &str = "2.5.29.19";
/// `id-ce-authorityKeyIdentifier`.
pub const CE_AUTHORITY_KEY_ID: &str = "2.5.29.35";

// Signature algorithms (RFC 3279, RFC 4055, RFC 5758).
/// `rsaEncryption`.
pub const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// `sha1WithRSAEncryption`.
pub const SHA1_WITH_RSA: &str = "1.2.840.113549.1.1.5";
/// `id-RSASSA-PSS`.
pub const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
/// `sha256WithRSAEncryption`.
pub const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
/// `sha384WithRSAEncryption`.
pub const SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
/// `sha512WithRSAEncryption`.
pub const SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
/// `id-mgf1`.
pub const MGF1: &str = "1.2.840.113549.1.1.8";
/// `id-ecPublicKey`.
pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// `ecdsa-with-SHA256`.
pub const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
/// `ecdsa-with-SHA384`.
pub const ECDSA_WITH_SHA384: &str = "1.2.840.10045.4.3.3";
/// `ecdsa-with-SHA512`.
pub const ECDSA_WITH_SHA512: &str = "1.2.840.10045.4.3.4";
/// `secp256r1` (P-256).
pub const CURVE_P256: &str = "1.2.840.10045.3.1.7";
/// `secp384r1` (P-384).
pub const CURVE_P384: &str = "1.3.132.0.34";
/// `id-sha1`.
pub const SHA1: &str = "1.3.14.3.2.26";
/// `id-sha256`.
pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";
/// `id-sha384`.
pub const SHA384: &str = "2.16.840.1.101.3.4.2.2";
/// `id-sha512`.
pub const SHA512: &str = "2.16.840.1.101.3.4.2.3";

// TCG attributes (Platform Certificate Profile v1.1 §3.1, v2.0 §6).
/// `tcg-at-tcgPlatformSpecification`.
pub const TCG_AT_PLATFORM_SPECIFICATION: &str = "2.23.133.2.17";
/// `tcg-at-tbbSecurityAssertions`.
pub const TCG_AT_TBB_SECURITY_ASSERTIONS: &str = "2.23.133.2.19";
/// `tcg-at-tcgCredentialSpecification`.
pub const TCG_AT_CREDENTIAL_SPECIFICATION: &str = "2.23.133.2.23";
/// `tcg-at-tcgCredentialType`.
pub const TCG_AT_CREDENTIAL_TYPE: &str = "2.23.133.2.25";
/// `tcg-at-previousPlatformCertificates` (v2.0).
pub const TCG_AT_PREVIOUS_PLATFORM_CERTIFICATES: &str = "2.23.133.2.26";
/// `tcg-at-tbbSecurityAssertions-v3` (v2.0).
pub const TCG_AT_TBB_SECURITY_ASSERTIONS_V3: &str = "2.23.133.2.27";
/// `tcg-at-cryptographicAnchors` (v2.0).
pub const TCG_AT_CRYPTOGRAPHIC_ANCHORS: &str = "2.23.133.2.28";
/// `tcg-at-platformManufacturerStr`.
pub const TCG_AT_PLATFORM_MANUFACTURER: &str = "2.23.133.5.1.1";
/// `tcg-at-platformManufacturerId`.
pub const TCG_AT_PLATFORM_MANUFACTURER_ID: &str = "2.23.133.5.1.2";
/// `tcg-at-platformConfigUri`.
pub const TCG_AT_PLATFORM_CONFIG_URI: &str = "2.23.133.5.1.3";
/// `tcg-at-platformModel`.
pub const TCG_AT_PLATFORM_MODEL: &str = "2.23.133.5.1.4";
/// `tcg-at-platformVersion`.
pub const TCG_AT_PLATFORM_VERSION: &str = "2.23.133.5.1.5";
/// `tcg-at-platformSerial`.
pub const TCG_AT_PLATFORM_SERIAL: &str = "2.23.133.5.1.6";
/// `tcg-at-platformConfiguration` (v1.0 drafts used it bare).
pub const TCG_AT_PLATFORM_CONFIGURATION: &str = "2.23.133.5.1.7";
/// `tcg-at-platformConfiguration-v1`.
pub const TCG_AT_PLATFORM_CONFIGURATION_V1: &str = "2.23.133.5.1.7.1";
/// `tcg-at-platformConfiguration-v2`.
pub const TCG_AT_PLATFORM_CONFIGURATION_V2: &str = "2.23.133.5.1.7.2";
/// `tcg-at-platformConfiguration-v3` (v2.0/v2.1, trait based).
pub const TCG_AT_PLATFORM_CONFIGURATION_V3: &str = "2.23.133.5.1.7.3";
/// `tcg-at-platformConfigUri-v3`.
pub const TCG_AT_PLATFORM_CONFIG_URI_V3: &str = "2.23.133.5.1.7.4";
/// `tcg-at-platformIdentifier` (v2.0).
pub const TCG_AT_PLATFORM_IDENTIFIER: &str = "2.23.133.5.1.8";

// Key purposes used as credential types.
/// `tcg-kp-PlatformAttributeCertificate` (base platform certificate).
pub const TCG_KP_PLATFORM_ATTRIBUTE_CERTIFICATE: &str = "2.23.133.8.2";
/// `tcg-kp-PlatformKeyCertificate`.
pub const TCG_KP_PLATFORM_KEY_CERTIFICATE: &str = "2.23.133.8.4";
/// `tcg-kp-DeltaPlatformAttributeCertificate`.
pub const TCG_KP_DELTA_PLATFORM_ATTRIBUTE_CERTIFICATE: &str = "2.23.133.8.5";
/// `tcg-kp-DeltaPlatformKeyCertificate`.
pub const TCG_KP_DELTA_PLATFORM_KEY_CERTIFICATE: &str = "2.23.133.8.6";
/// `tcg-kp-AdditionalPlatformAttributeCertificate`.
pub const TCG_KP_ADDITIONAL_PLATFORM_ATTRIBUTE_CERTIFICATE: &str = "2.23.133.8.7";

// Component addresses.
/// `tcg-address-ethernetmac`.
pub const TCG_ADDRESS_ETHERNET_MAC: &str = "2.23.133.17.1";
/// `tcg-address-wlanmac`.
pub const TCG_ADDRESS_WLAN_MAC: &str = "2.23.133.17.2";
/// `tcg-address-bluetoothmac`.
pub const TCG_ADDRESS_BLUETOOTH_MAC: &str = "2.23.133.17.3";

// Component class registries.
/// `tcg-registry-componentClass-tcg`.
pub const TCG_REGISTRY_COMPONENT_CLASS_TCG: &str = "2.23.133.18.3.1";
/// `tcg-registry-componentClass-ietf`.
pub const TCG_REGISTRY_COMPONENT_CLASS_IETF: &str = "2.23.133.18.3.2";
/// `tcg-registry-componentClass-dmtf` (SMBIOS structure types).
pub const TCG_REGISTRY_COMPONENT_CLASS_DMTF: &str = "2.23.133.18.3.3";
/// `tcg-registry-componentClass-pcie` (PCI class codes).
pub const TCG_REGISTRY_COMPONENT_CLASS_PCIE: &str = "2.23.133.18.3.4";
/// `tcg-registry-componentClass-disk`.
pub const TCG_REGISTRY_COMPONENT_CLASS_DISK: &str = "2.23.133.18.3.5";

// Traits (Platform Certificate Profile v2.0/v2.1, `tcg-tr-ID` and `tcg-tr-category`).
/// `tcg-tr-ID-Boolean`.
pub const TCG_TR_ID_BOOLEAN: &str = "2.23.133.19.1.1";
/// `tcg-tr-ID-certificateIdentifier`.
pub const TCG_TR_ID_CERTIFICATE_IDENTIFIER: &str = "2.23.133.19.1.2";
/// `tcg-tr-ID-componentClass`.
pub const TCG_TR_ID_COMPONENT_CLASS: &str = "2.23.133.19.1.4";
/// `tcg-tr-ID-componentIdentifierV11`.
pub const TCG_TR_ID_COMPONENT_IDENTIFIER_V11: &str = "2.23.133.19.1.5";
/// `tcg-tr-ID-networkMAC`.
pub const TCG_TR_ID_NETWORK_MAC: &str = "2.23.133.19.1.8";
/// `tcg-tr-ID-OID`.
pub const TCG_TR_ID_OID: &str = "2.23.133.19.1.9";
/// `tcg-tr-ID-PEN`.
pub const TCG_TR_ID_PEN: &str = "2.23.133.19.1.10";
/// `tcg-tr-ID-status`.
pub const TCG_TR_ID_STATUS: &str = "2.23.133.19.1.16";
/// `tcg-tr-ID-URI`.
pub const TCG_TR_ID_URI: &str = "2.23.133.19.1.17";
/// `tcg-tr-ID-UTF8String`.
pub const TCG_TR_ID_UTF8_STRING: &str = "2.23.133.19.1.18";
/// `tcg-tr-ID-IA5String`.
pub const TCG_TR_ID_IA5_STRING: &str = "2.23.133.19.1.19";
/// `tcg-tr-cat-componentManufacturer`.
pub const TCG_TR_CAT_COMPONENT_MANUFACTURER: &str = "2.23.133.19.2.8";
/// `tcg-tr-cat-componentModel`.
pub const TCG_TR_CAT_COMPONENT_MODEL: &str = "2.23.133.19.2.9";
/// `tcg-tr-cat-componentSerial`.
pub const TCG_TR_CAT_COMPONENT_SERIAL: &str = "2.23.133.19.2.10";
/// `tcg-tr-cat-componentLocation`.
pub const TCG_TR_CAT_COMPONENT_LOCATION: &str = "2.23.133.19.2.12";
/// `tcg-tr-cat-componentRevision`.
pub const TCG_TR_CAT_COMPONENT_REVISION: &str = "2.23.133.19.2.13";
/// `tcg-tr-cat-componentFieldReplaceable`.
pub const TCG_TR_CAT_COMPONENT_FIELD_REPLACEABLE: &str = "2.23.133.19.2.14";

/// A short name for well-known OIDs (for reports), or `None`.
pub fn name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "2.23.133.2.1" => "tpmManufacturer",
        "2.23.133.2.2" => "tpmModel",
        "2.23.133.2.3" => "tpmVersion",
        TCG_AT_PLATFORM_MANUFACTURER => "platformManufacturerStr",
        TCG_AT_PLATFORM_MANUFACTURER_ID => "platformManufacturerId",
        TCG_AT_PLATFORM_MODEL => "platformModel",
        TCG_AT_PLATFORM_VERSION => "platformVersion",
        TCG_AT_PLATFORM_SERIAL => "platformSerial",
        SHA1_WITH_RSA => "sha1WithRSAEncryption",
        SHA256_WITH_RSA => "sha256WithRSAEncryption",
        SHA384_WITH_RSA => "sha384WithRSAEncryption",
        SHA512_WITH_RSA => "sha512WithRSAEncryption",
        RSASSA_PSS => "RSASSA-PSS",
        ECDSA_WITH_SHA256 => "ecdsa-with-SHA256",
        ECDSA_WITH_SHA384 => "ecdsa-with-SHA384",
        ECDSA_WITH_SHA512 => "ecdsa-with-SHA512",
        _ => return None,
    })
}
