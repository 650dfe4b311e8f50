use std::fmt;

/// An event type (`TCG_EVENTTYPE`, PC Client PFP 10.4.1): open, unknown values are data.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventType(pub u32);

macro_rules! event_types {
    ($($name:ident = $value:expr;)*) => {
        impl EventType {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub const $name: EventType = EventType($value);
            )*

            /// The type with the spec's name `name`, or a number (`0x80000008`, `7`).
            pub fn from_name(name: &str) -> Option<EventType> {
                let name = name.trim();
                match name {
                    $(stringify!($name) => Some(EventType($value)),)*
                    _ => match name.strip_prefix("0x").or_else(|| name.strip_prefix("EV_0x")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok().map(EventType),
                        None => name.parse().ok().map(EventType),
                    },
                }
            }

            /// The spec's name, if this is a known type.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    EV_PREBOOT_CERT = 0x0000_0000;
    EV_POST_CODE = 0x0000_0001;
    EV_UNUSED = 0x0000_0002;
    EV_NO_ACTION = 0x0000_0003;
    EV_SEPARATOR = 0x0000_0004;
    EV_ACTION = 0x0000_0005;
    EV_EVENT_TAG = 0x0000_0006;
    EV_S_CRTM_CONTENTS = 0x0000_0007;
    EV_S_CRTM_VERSION = 0x0000_0008;
    EV_CPU_MICROCODE = 0x0000_0009;
    EV_PLATFORM_CONFIG_FLAGS = 0x0000_000a;
    EV_TABLE_OF_DEVICES = 0x0000_000b;
    EV_COMPACT_HASH = 0x0000_000c;
    EV_IPL = 0x0000_000d;
    EV_IPL_PARTITION_DATA = 0x0000_000e;
    EV_NONHOST_CODE = 0x0000_000f;
    EV_NONHOST_CONFIG = 0x0000_0010;
    EV_NONHOST_INFO = 0x0000_0011;
    EV_OMIT_BOOT_DEVICE_EVENTS = 0x0000_0012;
    EV_POST_CODE2 = 0x0000_0013;
    EV_EFI_VARIABLE_DRIVER_CONFIG = 0x8000_0001;
    EV_EFI_VARIABLE_BOOT = 0x8000_0002;
    EV_EFI_BOOT_SERVICES_APPLICATION = 0x8000_0003;
    EV_EFI_BOOT_SERVICES_DRIVER = 0x8000_0004;
    EV_EFI_RUNTIME_SERVICES_DRIVER = 0x8000_0005;
    EV_EFI_GPT_EVENT = 0x8000_0006;
    EV_EFI_ACTION = 0x8000_0007;
    EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x8000_0008;
    EV_EFI_HANDOFF_TABLES = 0x8000_0009;
    EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000_000a;
    EV_EFI_HANDOFF_TABLES2 = 0x8000_000b;
    EV_EFI_VARIABLE_BOOT2 = 0x8000_000c;
    EV_EFI_GPT_EVENT2 = 0x8000_000d;
    EV_EFI_HCRTM_EVENT = 0x8000_0010;
    EV_EFI_VARIABLE_AUTHORITY = 0x8000_00e0;
    EV_EFI_SPDM_FIRMWARE_BLOB = 0x8000_00e1;
    EV_EFI_SPDM_FIRMWARE_CONFIG = 0x8000_00e2;
    EV_EFI_SPDM_DEVICE_POLICY = 0x8000_00e3;
    EV_EFI_SPDM_DEVICE_AUTHORITY = 0x8000_00e4;
}

impl fmt::Debug for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "EV_0x{:08x}", self.0),
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
