//! The one-byte identifiers of the legacy image header (`IH_OS_*`, `IH_ARCH_*`, `IH_TYPE_*`,
//! `IH_COMP_*` in U-Boot's `include/image.h`). They are open sets: an unknown value is kept as
//! a number, and `Debug` prints the name mkimage uses when the value is known.

use std::fmt;

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $konst:ident = $value:literal => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u8);

        impl $name {
            $($(#[$vmeta])* pub const $konst: $name = $name($value);)*

            /// The name mkimage uses for this value, if known.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}(0x{:02x})", stringify!($name), self.0),
                }
            }
        }
    };
}

open_enum! {
    /// `ih_os`: the operating system of the image.
    Os {
        /// Invalid.
        INVALID = 0 => "invalid",
        /// OpenBSD.
        OPENBSD = 1 => "openbsd",
        /// NetBSD.
        NETBSD = 2 => "netbsd",
        /// FreeBSD.
        FREEBSD = 3 => "freebsd",
        /// 4.4BSD.
        BSD4_4 = 4 => "4_4bsd",
        /// Linux.
        LINUX = 5 => "linux",
        /// SVR4.
        SVR4 = 6 => "svr4",
        /// Esix.
        ESIX = 7 => "esix",
        /// Solaris.
        SOLARIS = 8 => "solaris",
        /// Irix.
        IRIX = 9 => "irix",
        /// SCO.
        SCO = 10 => "sco",
        /// Dell.
        DELL = 11 => "dell",
        /// NCR.
        NCR = 12 => "ncr",
        /// LynxOS.
        LYNXOS = 13 => "lynxos",
        /// VxWorks.
        VXWORKS = 14 => "vxworks",
        /// pSOS.
        PSOS = 15 => "psos",
        /// QNX.
        QNX = 16 => "qnx",
        /// U-Boot firmware.
        U_BOOT = 17 => "u-boot",
        /// RTEMS.
        RTEMS = 18 => "rtems",
        /// ARTOS.
        ARTOS = 19 => "artos",
        /// Unity OS.
        UNITY = 20 => "unity",
        /// INTEGRITY.
        INTEGRITY = 21 => "integrity",
        /// OSE.
        OSE = 22 => "ose",
        /// Plan 9.
        PLAN9 = 23 => "plan9",
        /// OpenRTOS.
        OPENRTOS = 24 => "openrtos",
        /// ARM Trusted Firmware.
        ARM_TRUSTED_FIRMWARE = 25 => "arm-trusted-firmware",
        /// Trusted execution environment.
        TEE = 26 => "tee",
        /// RISC-V OpenSBI.
        OPENSBI = 27 => "opensbi",
        /// EFI firmware.
        EFI = 28 => "efi",
    }
}

open_enum! {
    /// `ih_arch`: the CPU architecture of the image.
    Arch {
        /// Invalid.
        INVALID = 0 => "invalid",
        /// Alpha.
        ALPHA = 1 => "alpha",
        /// 32-bit ARM.
        ARM = 2 => "arm",
        /// 32-bit x86.
        X86 = 3 => "x86",
        /// IA-64.
        IA64 = 4 => "ia64",
        /// MIPS.
        MIPS = 5 => "mips",
        /// MIPS64.
        MIPS64 = 6 => "mips64",
        /// PowerPC.
        PPC = 7 => "powerpc",
        /// IBM S390.
        S390 = 8 => "s390",
        /// SuperH.
        SH = 9 => "sh",
        /// SPARC.
        SPARC = 10 => "sparc",
        /// SPARC64.
        SPARC64 = 11 => "sparc64",
        /// M68K.
        M68K = 12 => "m68k",
        /// Nios-32.
        NIOS = 13 => "nios",
        /// MicroBlaze.
        MICROBLAZE = 14 => "microblaze",
        /// Nios II.
        NIOS2 = 15 => "nios2",
        /// Blackfin.
        BLACKFIN = 16 => "blackfin",
        /// AVR32.
        AVR32 = 17 => "avr32",
        /// ST200.
        ST200 = 18 => "st200",
        /// U-Boot sandbox.
        SANDBOX = 19 => "sandbox",
        /// NDS32.
        NDS32 = 20 => "nds32",
        /// OpenRISC 1000.
        OR1K = 21 => "or1k",
        /// 64-bit ARM.
        ARM64 = 22 => "arm64",
        /// Synopsys ARC.
        ARC = 23 => "arc",
        /// x86-64.
        X86_64 = 24 => "x86_64",
        /// Xtensa.
        XTENSA = 25 => "xtensa",
        /// RISC-V.
        RISCV = 26 => "riscv",
    }
}

open_enum! {
    /// `ih_type`: what the image is.
    ImageType {
        /// Invalid.
        INVALID = 0 => "invalid",
        /// Standalone program.
        STANDALONE = 1 => "standalone",
        /// OS kernel.
        KERNEL = 2 => "kernel",
        /// RAM disk.
        RAMDISK = 3 => "ramdisk",
        /// Multi-file image: a size list then the files.
        MULTI = 4 => "multi",
        /// Firmware.
        FIRMWARE = 5 => "firmware",
        /// Script file.
        SCRIPT = 6 => "script",
        /// Filesystem image.
        FILESYSTEM = 7 => "filesystem",
        /// Flattened device tree.
        FLATDT = 8 => "flat_dt",
        /// Kirkwood boot image.
        KWBIMAGE = 9 => "kwbimage",
        /// Freescale i.MX boot image.
        IMXIMAGE = 10 => "imximage",
        /// Davinci UBL image.
        UBLIMAGE = 11 => "ublimage",
        /// TI OMAP config header.
        OMAPIMAGE = 12 => "omapimage",
        /// TI Davinci AIS image.
        AISIMAGE = 13 => "aisimage",
        /// OS kernel that runs where it is.
        KERNEL_NOLOAD = 14 => "kernel_noload",
        /// Freescale PBL boot image.
        PBLIMAGE = 15 => "pblimage",
        /// Freescale i.MX23/28 boot image.
        MXSIMAGE = 16 => "mxsimage",
        /// TI Keystone GP header.
        GPIMAGE = 17 => "gpimage",
        /// Atmel ROM bootable image.
        ATMELIMAGE = 18 => "atmelimage",
        /// Altera SoCFPGA CV/AV preloader.
        SOCFPGAIMAGE = 19 => "socfpgaimage",
        /// x86 setup.bin.
        X86_SETUP = 20 => "x86_setup",
        /// NXP LPC32xx boot image.
        LPC32XXIMAGE = 21 => "lpc32xximage",
        /// Loadable images.
        LOADABLE = 22 => "loadables",
        /// Rockchip boot image.
        RKIMAGE = 23 => "rkimage",
        /// Rockchip SD card image.
        RKSD = 24 => "rksd",
        /// Rockchip SPI image.
        RKSPI = 25 => "rkspi",
        /// Xilinx Zynq boot image.
        ZYNQIMAGE = 26 => "zynqimage",
        /// Xilinx ZynqMP boot image.
        ZYNQMPIMAGE = 27 => "zynqmpimage",
        /// Xilinx ZynqMP BIF.
        ZYNQMPBIF = 28 => "zynqmpbif",
        /// FPGA bitstream.
        FPGA = 29 => "fpga",
        /// Freescale Vybrid boot image.
        VYBRIDIMAGE = 30 => "vybridimage",
        /// Trusted execution environment image.
        TEE = 31 => "tee",
    }
}

open_enum! {
    /// `ih_comp`: how the data is compressed.
    Compression {
        /// Not compressed.
        NONE = 0 => "none",
        /// gzip.
        GZIP = 1 => "gzip",
        /// bzip2.
        BZIP2 = 2 => "bzip2",
        /// LZMA.
        LZMA = 3 => "lzma",
        /// LZO.
        LZO = 4 => "lzo",
        /// LZ4.
        LZ4 = 5 => "lz4",
        /// Zstandard.
        ZSTD = 6 => "zstd",
    }
}
