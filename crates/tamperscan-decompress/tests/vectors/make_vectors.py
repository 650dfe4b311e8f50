#!/usr/bin/env python3
"""Regenerates the compressed test vectors in this folder (development time only; the tests
read the .bin files and never run this).

The uncompressed inputs come from the xorshift32 generators below, which
tests/common/mod.rs repeats in Rust, so only the compressed forms are stored. Needs the
`uefi_firmware` package (EDK2's EfiCompress/TianoCompress/LzmaCompress), Python's lzma module
(liblzma), the `xz` tool and libbrotlienc.so.1.
"""
import ctypes
import lzma
import struct
import subprocess

from uefi_firmware import efi_compressor as ec

WORDS = [b"firmware", b"volume", b"section", b"guid", b"the", b"of", b"PEI", b"DXE",
         b"driver", b"0x0000", b"compress", b"block", b"\r\n", b"  ", b"EFI_", b"Tiano"]


class Xorshift32:
    def __init__(self, seed):
        self.s = seed

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s


def varied(length, seed=0x1234_5678, max_distance=8000):
    """Text, noise, runs, back-references and counters, mixed."""
    rng = Xorshift32(seed)
    out = bytearray()
    while len(out) < length:
        kind = rng.next() % 5
        if kind == 0:
            for _ in range(rng.next() % 40 + 1):
                out += WORDS[rng.next() % len(WORDS)] + b" "
        elif kind == 1:
            for _ in range(rng.next() % 200 + 1):
                out.append(rng.next() & 0xFF)
        elif kind == 2:
            b = rng.next() & 0xFF
            out += bytes([b]) * (rng.next() % 600 + 1)
        elif kind == 3 and out:
            dist = rng.next() % min(len(out), max_distance) + 1
            for _ in range(rng.next() % 300 + 3):
                out.append(out[-dist])
        else:
            base = rng.next()
            for i in range(rng.next() % 50):
                out += struct.pack("<I", (base + i) & 0xFFFFFFFF)
    return bytes(out[:length])


def x86ish(length, seed=0x0BAD_F00D):
    """Bytes that look like x86 code: many E8/E9 with near displacements, often close together."""
    rng = Xorshift32(seed)
    out = bytearray()
    while len(out) < length:
        r = rng.next() % 16
        if r < 6:
            out.append(rng.next() & 0xFF)
        elif r < 12:
            out.append(0xE8 if r & 1 else 0xE9)
            disp = (rng.next() % 0x40000) - 0x20000
            out += struct.pack("<i", disp)
        elif r < 14:
            # Opcodes one to four bytes apart, to exercise the history mask.
            out.append(0xE8)
            out += bytes(rng.next() & 0xFF for _ in range(rng.next() % 4))
            out.append(0xE9)
            out += struct.pack("<I", rng.next() & 0x01FF_FFFF if rng.next() & 1 else rng.next())
        else:
            out += bytes([0x00, 0xFF, 0xE8, 0xFF, 0x00][: rng.next() % 5 + 1])
    return bytes(out[:length])


def brotli_compress(data, quality=9, lgwin=22):
    enc = ctypes.CDLL("libbrotlienc.so.1")
    out_size = ctypes.c_size_t(len(data) + 1024)
    out = ctypes.create_string_buffer(out_size.value)
    ok = enc.BrotliEncoderCompress(ctypes.c_int(quality), ctypes.c_int(lgwin), ctypes.c_int(0),
                                   ctypes.c_size_t(len(data)), data, ctypes.byref(out_size), out)
    assert ok == 1
    return out.raw[: out_size.value]


def xz_tool(data, *args):
    return subprocess.run(["xz", "-c", "-z", *args], input=data, capture_output=True,
                          check=True).stdout


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


def main():
    v = varied(48 * 1024)
    write("varied.efi", ec.EfiCompress(v, len(v)))
    write("varied.tiano", ec.TianoCompress(v, len(v)))
    write("varied.lzma", ec.LzmaCompress(v, len(v)))
    small = varied(3000, seed=0xC0FF_EE11)
    write("small.efi", ec.EfiCompress(small, len(small)))
    write("small.tiano", ec.TianoCompress(small, len(small)))
    write("small.lzma", lzma.compress(small, format=lzma.FORMAT_ALONE))  # size unknown, end marker
    write("small.br", brotli_compress(small))
    write("small.xz", xz_tool(small, "-C", "crc32"))
    write("varied.br", brotli_compress(v))
    # EDK2 BrotliCompress header: decompressed size, scratch size (EDK2's estimate, unused here).
    write("varied.edk2br", struct.pack("<QQ", len(v), 0x10000) + brotli_compress(v))
    write("varied-crc64-blocks.xz", xz_tool(v, "-C", "crc64", "--block-size=8KiB"))
    write("varied-nocheck.xz", xz_tool(v, "-C", "none"))
    write("small-x86.xz", xz_tool(small, "--x86", "--lzma2"))
    write("small-sha256.xz", xz_tool(small, "-C", "sha256"))

    code = x86ish(12 * 1024)
    filtered = lzma.compress(code, format=lzma.FORMAT_RAW,
                             filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}])
    encoded = lzma.decompress(filtered, format=lzma.FORMAT_RAW,
                              filters=[{"id": lzma.FILTER_LZMA2}])
    assert encoded != code and len(encoded) == len(code)
    write("x86ish.lzmaf86", ec.LzmaCompress(encoded, len(encoded)))

    zeros = bytes(64 << 20)
    write("zeros-64m.lzma", lzma.compress(zeros, format=lzma.FORMAT_ALONE, preset=9))
    write("zeros-64m.xz", xz_tool(zeros, "-9", "-C", "crc32"))
    write("zeros-64m.br", brotli_compress(zeros, quality=11, lgwin=24))


if __name__ == "__main__":
    main()
