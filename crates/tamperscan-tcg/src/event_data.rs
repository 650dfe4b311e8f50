//! Decoding event data into what a person needs to read: variable names and values, image
//! device paths, firmware blob ranges, version and loader strings (PC Client PFP 10.4; UEFI
//! spec 10.3 for device paths, 3.1.3 for load options, 32.4.1 for signature lists).
//!
//! Decoding never fails the log: data that does not match its type's structure is described as
//! such, with the offset where it stopped.

use crate::event_log::Event;
use crate::event_type::EventType;
use crate::replay::STARTUP_LOCALITY;
use std::fmt::Write;
use tamperscan_bytes::{Error, Guid, Reader};

/// `EFI_GLOBAL_VARIABLE`.
pub const EFI_GLOBAL_VARIABLE: Guid = Guid::from_fields(
    0x8be4df61,
    0x93ca,
    0x11d2,
    [0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c],
);
/// `EFI_IMAGE_SECURITY_DATABASE_GUID` (db, dbx, dbt).
pub const EFI_IMAGE_SECURITY_DATABASE: Guid = Guid::from_fields(
    0xd719b2cb,
    0x3d3a,
    0x4596,
    [0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f],
);
/// `EFI_CERT_X509_GUID`.
const EFI_CERT_X509: Guid = Guid::from_fields(
    0xa5c059a1,
    0x94e4,
    0x4aa7,
    [0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72],
);
/// `EFI_CERT_SHA256_GUID`.
const EFI_CERT_SHA256: Guid = Guid::from_fields(
    0xc1c41626,
    0x504c,
    0x4092,
    [0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28],
);

/// The most device path nodes decoded from one path.
const MAX_NODES: usize = 256;
/// The most characters kept from an event's text.
const MAX_TEXT: usize = 512;

/// A UEFI variable measured in an event (`UEFI_VARIABLE_DATA`, PFP 10.4.5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable<'a> {
    /// `VariableName` (the vendor GUID).
    pub guid: Guid,
    /// `UnicodeName`.
    pub name: String,
    /// `VariableData`.
    pub data: &'a [u8],
}

/// Decodes `UEFI_VARIABLE_DATA`.
pub fn variable(data: &[u8], base: u64) -> Result<Variable<'_>, Error> {
    let mut r = Reader::with_base(data, base);
    let guid = r.guid("VariableName")?;
    let name_len = r.u64_le("UnicodeNameLength")?;
    let data_len = r.u64_le("VariableDataLength")?;
    let name_len = r.bounded(name_len, 1024, "UnicodeNameLength")?;
    let name = utf16(r.take(name_len.saturating_mul(2), "UnicodeName")?);
    let data_len = r.bounded(data_len, r.remaining() as u64, "VariableDataLength")?;
    let data = r.take(data_len, "VariableData")?;
    Ok(Variable { guid, name, data })
}

/// One line describing the event's data.
pub fn describe(event: &Event<'_>) -> String {
    match try_describe(event) {
        Ok(text) => text,
        Err(e) => format!(
            "undecodable {} data ({} bytes): {e}",
            event.event_type,
            event.data.len()
        ),
    }
}

fn try_describe(event: &Event<'_>) -> Result<String, Error> {
    let data = event.data;
    let base = event.data_offset;
    let t = event.event_type;
    Ok(match t {
        EventType::EV_NO_ACTION => {
            if data.starts_with(STARTUP_LOCALITY) {
                format!(
                    "StartupLocality {}",
                    data.get(16).copied().unwrap_or_default()
                )
            } else if data.starts_with(b"Spec ID Event") {
                "Spec ID event (log header)".to_string()
            } else {
                let sig = data.split(|&b| b == 0).next().unwrap_or_default();
                format!("no-action event {:?}", text(sig))
            }
        }
        EventType::EV_SEPARATOR => {
            let mut r = Reader::with_base(data, base);
            match r.u32_le("separator value") {
                Ok(0) => "separator".to_string(),
                Ok(0xffff_ffff) => "separator (error: 0xFFFFFFFF)".to_string(),
                Ok(v) => format!("separator value 0x{v:08x}"),
                Err(_) => format!("separator of {} bytes", data.len()),
            }
        }
        EventType::EV_EFI_VARIABLE_AUTHORITY => {
            // The data is one EFI_SIGNATURE_DATA (owner GUID, then the certificate or hash)
            // that authorised an image, not a signature list.
            let v = variable(data, base)?;
            let mut r = Reader::new(v.data);
            match r.guid("SignatureOwner") {
                Ok(owner) => format!(
                    "{} {}: entry of {} bytes owned by {owner}",
                    guid_name(&v.guid),
                    v.name,
                    r.remaining()
                ),
                Err(_) => format!("{} {}: {} bytes", guid_name(&v.guid), v.name, v.data.len()),
            }
        }
        EventType::EV_EFI_VARIABLE_DRIVER_CONFIG
        | EventType::EV_EFI_VARIABLE_BOOT
        | EventType::EV_EFI_VARIABLE_BOOT2 => {
            let v = variable(data, base)?;
            format!("{} {}: {}", guid_name(&v.guid), v.name, variable_value(&v))
        }
        EventType::EV_EFI_BOOT_SERVICES_APPLICATION
        | EventType::EV_EFI_BOOT_SERVICES_DRIVER
        | EventType::EV_EFI_RUNTIME_SERVICES_DRIVER => {
            let mut r = Reader::with_base(data, base);
            let _location = r.u64_le("ImageLocationInMemory")?;
            let length = r.u64_le("ImageLengthInMemory")?;
            let _link = r.u64_le("ImageLinkTimeAddress")?;
            let path_len = r.u64_le("LengthOfDevicePath")?;
            let path_len = r.bounded(path_len, r.remaining() as u64, "LengthOfDevicePath")?;
            let path = r.take(path_len, "DevicePath")?;
            format!("image of {length} bytes from {}", device_path(path))
        }
        EventType::EV_EFI_PLATFORM_FIRMWARE_BLOB => {
            let mut r = Reader::with_base(data, base);
            let start = r.u64_le("BlobBase")?;
            let len = r.u64_le("BlobLength")?;
            format!("firmware blob at 0x{start:x}, {len} bytes")
        }
        EventType::EV_EFI_PLATFORM_FIRMWARE_BLOB2 => {
            let mut r = Reader::with_base(data, base);
            let n = r.u8("BlobDescriptionSize")?;
            let desc = text(r.take(usize::from(n), "BlobDescription")?);
            let start = r.u64_le("BlobBase")?;
            let len = r.u64_le("BlobLength")?;
            format!("firmware blob {desc:?} at 0x{start:x}, {len} bytes")
        }
        EventType::EV_EFI_HANDOFF_TABLES | EventType::EV_EFI_HANDOFF_TABLES2 => {
            let mut r = Reader::with_base(data, base);
            let mut desc = String::new();
            if t == EventType::EV_EFI_HANDOFF_TABLES2 {
                let n = r.u8("TableDescriptionSize")?;
                desc = format!("{:?} ", text(r.take(usize::from(n), "TableDescription")?));
            }
            let count = r.u64_le("NumberOfTables")?;
            let count = r.bounded(count, 64, "NumberOfTables")?;
            let mut guids = Vec::new();
            for _ in 0..count {
                guids.push(r.guid("VendorGuid")?.to_string());
                r.u64_le("VendorTable")?;
            }
            format!("handoff tables {desc}[{}]", guids.join(", "))
        }
        EventType::EV_EFI_GPT_EVENT | EventType::EV_EFI_GPT_EVENT2 => {
            let mut r = Reader::with_base(data, base);
            r.expect(b"EFI PART", "GPT header signature")?;
            r.skip(48, "GPT header")?;
            let disk = r.guid("DiskGUID")?;
            r.skip(92 - 72, "GPT header")?;
            let _ = r.u32_le("HeaderSize");
            let mut r2 = Reader::with_base(data, base);
            r2.skip(92, "UEFI_PARTITION_TABLE_HEADER")?;
            let partitions = r2.u64_le("NumberOfPartitions")?;
            format!("GPT of disk {disk}, {partitions} partitions")
        }
        EventType::EV_S_CRTM_VERSION if is_texty(data) => {
            format!("S-CRTM version {:?}", text(data))
        }
        EventType::EV_S_CRTM_VERSION if data.len() == 16 => {
            format!(
                "S-CRTM version {}",
                Reader::with_base(data, base).guid("version GUID")?
            )
        }
        EventType::EV_POST_CODE | EventType::EV_POST_CODE2 if is_texty(data) => {
            format!("POST code {:?}", text(data))
        }
        EventType::EV_POST_CODE | EventType::EV_POST_CODE2 if data.len() == 16 => {
            let mut r = Reader::with_base(data, base);
            let start = r.u64_le("PostCodeBase")?;
            let len = r.u64_le("PostCodeLength")?;
            format!("POST code blob at 0x{start:x}, {len} bytes")
        }
        EventType::EV_IPL
        | EventType::EV_EFI_ACTION
        | EventType::EV_ACTION
        | EventType::EV_EVENT_TAG
        | EventType::EV_EFI_HCRTM_EVENT
        | EventType::EV_COMPACT_HASH
        | EventType::EV_S_CRTM_CONTENTS
        | EventType::EV_OMIT_BOOT_DEVICE_EVENTS
            if is_texty(data) =>
        {
            text(data)
        }
        _ => format!("{} bytes", data.len()),
    })
}

fn variable_value(v: &Variable<'_>) -> String {
    let d = v.data;
    match v.name.as_str() {
        "SecureBoot" | "SetupMode" | "AuditMode" | "DeployedMode" => match d {
            [0] => "disabled".into(),
            [1] => "enabled".into(),
            [] => "empty".into(),
            other => format!("{} bytes", other.len()),
        },
        "BootOrder" => {
            let entries: Vec<String> = d
                .chunks_exact(2)
                .map(|c| format!("Boot{:04X}", le16(c)))
                .collect();
            entries.join(",")
        }
        "PK" | "KEK" | "db" | "dbx" | "dbt" | "MokList" | "MokListX" => signature_lists(d),
        name if name.len() == 8 && name.starts_with("Boot") => {
            load_option(d).unwrap_or_else(|e| format!("undecodable load option: {e}"))
        }
        _ if v.guid == EFI_IMAGE_SECURITY_DATABASE || d.len() > 64 => format!("{} bytes", d.len()),
        _ if is_texty(d) && !d.is_empty() => format!("{:?}", text(d)),
        _ => format!("{} bytes", d.len()),
    }
}

/// Counts the entries of `EFI_SIGNATURE_LIST`s by type.
fn signature_lists(data: &[u8]) -> String {
    let mut r = Reader::new(data);
    let (mut x509, mut sha256, mut other) = (0usize, 0usize, 0usize);
    while !r.is_empty() {
        let Ok(ty) = r.guid("SignatureType") else {
            break;
        };
        let (Ok(list), Ok(header), Ok(size)) = (
            r.u32_le("SignatureListSize"),
            r.u32_le("SignatureHeaderSize"),
            r.u32_le("SignatureSize"),
        ) else {
            break;
        };
        let body = u64::from(list)
            .saturating_sub(28)
            .saturating_sub(u64::from(header));
        if size == 0
            || r.skip(header as usize, "SignatureHeader").is_err()
            || r.skip(body as usize, "Signatures").is_err()
        {
            break;
        }
        let n = (body / u64::from(size)) as usize;
        match ty {
            EFI_CERT_X509 => x509 += n,
            EFI_CERT_SHA256 => sha256 += n,
            _ => other += n,
        }
    }
    let mut s = format!("{x509} X.509 certificates, {sha256} SHA-256 hashes");
    if other > 0 {
        let _ = write!(s, ", {other} other entries");
    }
    if !r.is_empty() {
        let _ = write!(s, " (malformed after offset {})", r.offset());
    }
    s
}

/// `EFI_LOAD_OPTION`: attributes, description and device path.
fn load_option(data: &[u8]) -> Result<String, Error> {
    let mut r = Reader::new(data);
    let attributes = r.u32_le("Attributes")?;
    let path_len = r.u16_le("FilePathListLength")?;
    let mut desc = Vec::new();
    loop {
        let c = r.u16_le("Description")?;
        if c == 0 {
            break;
        }
        desc.push(c);
        if desc.len() > MAX_TEXT {
            return Err(r.invalid("Description", "not terminated"));
        }
    }
    let path = r.take(usize::from(path_len), "FilePathList")?;
    let active = if attributes & 1 == 1 {
        ""
    } else {
        " (inactive)"
    };
    Ok(format!(
        "{:?}{active} {}",
        String::from_utf16_lossy(&desc),
        device_path(path)
    ))
}

/// Renders an `EFI_DEVICE_PATH_PROTOCOL` in the UEFI text notation for the common nodes.
pub fn device_path(bytes: &[u8]) -> String {
    let mut r = Reader::new(bytes);
    let mut out: Vec<String> = Vec::new();
    for _ in 0..MAX_NODES {
        if r.is_empty() {
            break;
        }
        let (Ok(ty), Ok(sub), Ok(len)) = (r.u8("Type"), r.u8("SubType"), r.u16_le("Length")) else {
            out.push("<truncated>".into());
            break;
        };
        let Some(body_len) = usize::from(len).checked_sub(4) else {
            out.push(format!("<bad node length {len}>"));
            break;
        };
        let Ok(mut n) = r.sub(body_len, "device path node") else {
            out.push("<truncated>".into());
            break;
        };
        let node = match (ty, sub) {
            (0x7f, 0xff) => break,
            (0x7f, 0x01) => ",".to_string(),
            (0x01, 0x01) => match (n.u8("Function"), n.u8("Device")) {
                (Ok(f), Ok(d)) => format!("Pci(0x{d:x},0x{f:x})"),
                _ => "Pci(?)".into(),
            },
            (0x01, 0x04) => n
                .guid("Vendor")
                .map_or("VenHw(?)".into(), |g| format!("VenHw({g})")),
            (0x02, 0x01) => match (n.u32_le("HID"), n.u32_le("UID")) {
                (Ok(0x0a03_41d0), Ok(uid)) => format!("PciRoot(0x{uid:x})"),
                (Ok(0x0a08_41d0), Ok(uid)) => format!("PcieRoot(0x{uid:x})"),
                (Ok(hid), Ok(uid)) => format!("Acpi(0x{hid:08x},0x{uid:x})"),
                _ => "Acpi(?)".into(),
            },
            (0x03, 0x02) => "Scsi".into(),
            (0x03, 0x05) => "USB".into(),
            (0x03, 0x0b) => n.take(6, "MAC").map_or("MAC(?)".into(), |m| {
                format!(
                    "MAC({})",
                    m.iter().map(|b| format!("{b:02x}")).collect::<String>()
                )
            }),
            (0x03, 0x0c) => "IPv4".into(),
            (0x03, 0x0d) => "IPv6".into(),
            (0x03, 0x12) => n
                .u16_le("HBA port")
                .map_or("Sata(?)".into(), |p| format!("Sata(0x{p:x})")),
            (0x03, 0x17) => n
                .u32_le("NSID")
                .map_or("NVMe(?)".into(), |ns| format!("NVMe(0x{ns:x})")),
            (0x03, 0x18) => format!("Uri({})", text(n.rest())),
            (0x04, 0x01) => hard_drive(&mut n),
            (0x04, 0x02) => "CDROM".into(),
            (0x04, 0x03) => n
                .guid("Vendor")
                .map_or("VenMedia(?)".into(), |g| format!("VenMedia({g})")),
            (0x04, 0x04) => utf16(n.rest()),
            (0x04, 0x06) => n
                .guid("FvFile")
                .map_or("FvFile(?)".into(), |g| format!("FvFile({g})")),
            (0x04, 0x07) => n.guid("Fv").map_or("Fv(?)".into(), |g| format!("Fv({g})")),
            (0x04, 0x08) => "Offset".into(),
            _ => format!("Path({ty},{sub})"),
        };
        out.push(node);
    }
    let mut s = String::new();
    for node in out {
        if node != "," && !s.is_empty() && !s.ends_with(',') {
            s.push('/');
        }
        s.push_str(&node);
    }
    if s.is_empty() {
        "<empty device path>".into()
    } else {
        s
    }
}

fn hard_drive(n: &mut Reader<'_>) -> String {
    let (Ok(part), Ok(_start), Ok(_size), Ok(sig)) = (
        n.u32_le("PartitionNumber"),
        n.u64_le("PartitionStart"),
        n.u64_le("PartitionSize"),
        n.take_array::<16>("PartitionSignature"),
    ) else {
        return "HD(?)".into();
    };
    let (Ok(format), Ok(sig_type)) = (n.u8("PartitionFormat"), n.u8("SignatureType")) else {
        return format!("HD({part})");
    };
    match (format, sig_type) {
        (2, 2) => format!("HD({part},GPT,{})", Guid(sig)),
        (1, 1) => format!(
            "HD({part},MBR,0x{:08x})",
            u32::from_le_bytes([sig[0], sig[1], sig[2], sig[3]])
        ),
        _ => format!("HD({part})"),
    }
}

/// A little-endian u16 from a two-byte chunk.
fn le16(c: &[u8]) -> u16 {
    match c {
        [lo, hi] => u16::from_le_bytes([*lo, *hi]),
        _ => 0,
    }
}

fn guid_name(g: &Guid) -> String {
    match *g {
        EFI_GLOBAL_VARIABLE => "EFI".into(),
        EFI_IMAGE_SECURITY_DATABASE => "SecurityDB".into(),
        other => other.to_string(),
    }
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(le16)
        .take_while(|&u| u != 0)
        .take(MAX_TEXT)
        .collect();
    String::from_utf16_lossy(&units)
}

/// True for data that is (possibly NUL-terminated) printable ASCII/UTF-8, or UTF-16LE text.
fn is_texty(data: &[u8]) -> bool {
    let trimmed = data.strip_suffix(&[0]).unwrap_or(data);
    (!trimmed.is_empty()
        && std::str::from_utf8(trimmed)
            .is_ok_and(|s| s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')))
        || (trimmed.len() >= 4
            && trimmed.len().is_multiple_of(2)
            && trimmed
                .chunks_exact(2)
                .all(|c| matches!(c, [lo, 0] if *lo == 0 || lo.is_ascii_graphic() || *lo == b' ')))
}

/// The data as text: UTF-16LE when it looks like it, else UTF-8 (lossy), trimmed and bounded.
fn text(data: &[u8]) -> String {
    let looks_utf16 = data.len() >= 4 && data.get(1) == Some(&0) && data.get(3) == Some(&0);
    let s = if looks_utf16 {
        utf16(data)
    } else {
        String::from_utf8_lossy(data).into_owned()
    };
    let s = s.trim_end_matches('\0').trim().to_string();
    if s.chars().count() > MAX_TEXT {
        s.chars().take(MAX_TEXT).collect::<String>() + "…"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn secure_boot_variable() {
        let mut d = EFI_GLOBAL_VARIABLE.0.to_vec();
        d.extend_from_slice(&10u64.to_le_bytes());
        d.extend_from_slice(&1u64.to_le_bytes());
        d.extend_from_slice(&utf16le("SecureBoot"));
        d.push(1);
        let v = variable(&d, 0).unwrap();
        assert_eq!(v.name, "SecureBoot");
        assert_eq!(variable_value(&v), "enabled");
    }

    #[test]
    fn lying_lengths_do_not_overrun() {
        let mut d = EFI_GLOBAL_VARIABLE.0.to_vec();
        d.extend_from_slice(&u64::MAX.to_le_bytes());
        d.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(variable(&d, 100)
            .unwrap_err()
            .to_string()
            .contains("UnicodeNameLength"));
    }

    #[test]
    fn device_path_with_disk_and_file() {
        let mut p = vec![0x02, 0x01, 12, 0];
        p.extend_from_slice(&0x0a03_41d0u32.to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&[0x01, 0x01, 6, 0, 0, 0x1f]);
        let file = utf16le("\\EFI\\BOOT\\BOOTX64.EFI\0");
        p.extend_from_slice(&[0x04, 0x04, (4 + file.len()) as u8, 0]);
        p.extend_from_slice(&file);
        p.extend_from_slice(&[0x7f, 0xff, 4, 0]);
        assert_eq!(
            device_path(&p),
            "PciRoot(0x0)/Pci(0x1f,0x0)/\\EFI\\BOOT\\BOOTX64.EFI"
        );
        assert_eq!(device_path(&[0x04, 0x04, 2, 0]), "<bad node length 2>");
        assert_eq!(device_path(&[0x04, 0x04, 200, 0, 1]), "<truncated>");
    }
}
