#!/bin/sh
# Rebuilds the rootfs test fixtures from a small source tree made here (all our own output).
# Needs squashfs-tools (mksquashfs/unsquashfs), util-linux (mkfs.cramfs) and mtd-utils
# (mkfs.jffs2); run as root so that device nodes and owners can be made.
# Writes: tree.sha256 (sha256sum of every regular file), *.lln (unsquashfs -lln), the images.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t="$work/tree"
mkdir -p "$t/dir/sub/deeper" "$t/etc"
printf 'hello world\n' > "$t/hello.txt"
: > "$t/empty"
printf 'deep file\n' > "$t/dir/sub/deeper/deep.txt"
for i in 1 2 3 4 5; do printf 'small file %s\n' "$i" > "$t/dir/small$i"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$t/etc/passwd"
ln -s ../hello.txt "$t/dir/link"
ln -s /a/target/that/does/not/exist "$t/dangling"
# 320 KiB: a patterned 128 KiB block, a 128 KiB block of zeros (sparse in squashfs), a tail.
python3 - "$t/big.bin" <<'PY'
import sys
blk = 128 * 1024
a = b"".join(b"block0 line %06d abcdefghijklmnopqrstuvwxyz\n" % i for i in range(blk // 44 + 1))[:blk]
tail = b"".join(b"tail %05d\n" % i for i in range(6553))[:64 * 1024 + 7]
open(sys.argv[1], "wb").write(a + bytes(blk) + tail)
PY
printf 'caf\351 latin-1 name\n' > "$t/$(printf 'caf\351')"
mkfifo "$t/fifo"
mknod "$t/console" c 5 1
mknod "$t/sda" b 8 0
chown 1000:232 "$t/etc/passwd"
chmod 4755 "$t/hello.txt"
find "$t" -exec touch -h -d '2024-01-02 03:04:05' {} +

(cd "$t" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$out/tree.sha256"

for c in gzip xz lzma; do
  mksquashfs "$t" "$out/sq4-$c.img" -comp "$c" -noappend -no-xattrs -quiet -mkfs-time 0 -all-time 0 >/dev/null
  unsquashfs -lln -n "$out/sq4-$c.img" | sed 's/ [0-9-]* [0-9:]* squashfs-root/ squashfs-root/' > "$out/sq4-$c.lln"
done
mkfs.cramfs -N little "$t" "$out/cramfs-le.img" >/dev/null
mkfs.cramfs -N big "$t" "$out/cramfs-be.img" >/dev/null
mkfs.jffs2 -r "$t" -o "$out/jffs2-le.img" -l -e 0x4000 -f >/dev/null
mkfs.jffs2 -r "$t" -o "$out/jffs2-be.img" -b -e 0x4000 -f -n -X rtime -m size >/dev/null
cp -a "$t" "$work/small" && rm "$work/small/big.bin"
mkfs.jffs2 -r "$work/small" -o "$out/jffs2-none.img" -l -e 0x4000 -f -x zlib -x rtime >/dev/null

# An uncompressed squashfs (plain tables, so tests can patch fields in place): a sparse file
# with a hard link (so an extended inode with a 64-bit size), a nested directory.
p="$work/plain"
mkdir -p "$p/dir/sub"
printf 'hello world\n' > "$p/hello.txt"
python3 -c "import sys; open(sys.argv[1], 'wb').write(bytes(128 * 1024) + b'tail\n')" "$p/sparse.bin"
ln "$p/sparse.bin" "$p/hard.bin"
find "$p" -exec touch -h -d '2024-01-02 03:04:05' {} +
mksquashfs "$p" "$out/sq4-plain.img" -noI -noId -noD -noF -noX -no-xattrs -noappend -quiet \
  -mkfs-time 0 -all-time 0 -all-root >/dev/null
(cd "$p" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$out/plain.sha256"
# A zlib stream of 1 MiB of zeros (about 1 KiB): the "bomb" block for hostile-input tests.
python3 -c "import sys, zlib; open(sys.argv[1], 'wb').write(zlib.compress(bytes(1 << 20), 9))" "$out/bomb.zlib"
