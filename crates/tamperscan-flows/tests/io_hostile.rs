//! The file layer on hostile and odd inputs: gzip, endless lines, truncated captures, garbage.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use tamperscan_flows::io::{read_file, read_path};
use tamperscan_flows::{Error, Mode, Options};

const CONN: &str = "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n1.0\t10.0.0.1\t1\t10.0.0.2\t53\tudp\n";

fn strict() -> Options {
    Options {
        mode: Mode::Strict,
        ..Options::default()
    }
}

#[test]
fn gzip_and_directory_with_skipped_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(CONN.as_bytes()).unwrap();
    tamperscan_testdata::write(
        dir.path(),
        "a/conn.10_00_00-11_00_00.log.gz",
        &gz.finish().unwrap(),
    );
    tamperscan_testdata::write(
        dir.path(),
        "x509.log",
        b"#separator \\x09\n#path\tx509\n#fields\tts\n1\n",
    );
    tamperscan_testdata::write(dir.path(), "notes.txt", b"hello");
    let mut n = 0;
    let stats = read_path(dir.path(), &strict(), &mut |_| n += 1).unwrap();
    assert_eq!(
        (
            n,
            stats.rows_read,
            stats.files_read.len(),
            stats.files_skipped.len()
        ),
        (1, 1, 1, 2)
    );
}

#[test]
fn endless_line_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = CONN.as_bytes().to_vec();
    big.extend(std::iter::repeat_n(b'7', 3 << 20));
    tamperscan_testdata::write(dir.path(), "conn.log", &big);
    let path = dir.path().join("conn.log");
    let err = read_file(&path, &strict(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert!(
        err.to_string().contains("conn.log: line 5: line length"),
        "{err}"
    );
    // Lenient: the over-long last line is skipped and counted.
    let stats = read_file(&path, &Options::default(), &mut |_| {})
        .unwrap()
        .unwrap();
    assert_eq!((stats.rows_read, stats.rows_skipped), (1, 1));
    // A line longer than a whole chunk cannot be skipped: an error in any mode.
    big.extend(std::iter::repeat_n(b'7', 8 << 20));
    big.extend(b"\n");
    tamperscan_testdata::write(dir.path(), "conn.log", &big);
    let res = read_file(&path, &Options::default(), &mut |_| {});
    assert!(matches!(res, Err(Error::Limit { .. })), "{res:?}");
}

#[test]
fn truncated_capture_is_lenient_or_strict() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Vec::new();
    p.extend(0xa1b2_c3d4u32.to_le_bytes());
    p.extend([2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    p.extend(0xffff_ffffu32.to_le_bytes());
    p.extend(101u32.to_le_bytes());
    p.extend([1, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 40, 0, 0, 0]);
    p.extend([0x45, 0, 0, 40]);
    tamperscan_testdata::write(dir.path(), "cut.pcap", &p);
    let path = dir.path().join("cut.pcap");
    let stats = read_file(&path, &Options::default(), &mut |_| {})
        .unwrap()
        .unwrap();
    assert_eq!(stats.rows_skipped, 1);
    assert!(read_file(&path, &strict(), &mut |_| {}).is_err());
    tamperscan_testdata::write(
        dir.path(),
        "garbage.log",
        &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2],
    );
    assert!(
        read_file(&dir.path().join("garbage.log"), &strict(), &mut |_| {})
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        read_path(&dir.path().join("garbage.log"), &strict(), &mut |_| {}),
        Err(Error::UnknownFormat { .. })
    ));
}
