//! An Apple Health zip of under 2 MB whose `export.xml` inflates to 256 MiB of white space
//! between two elements: the parse must stream it, not hold it. Peak memory is read from
//! `/proc/self/status` (VmHWM), so this test has its own binary and is the only test in it.
//!
//! The bound: the parser holds a 1 MiB read buffer, at most 1 MiB for one piece of markup and
//! the inflater's 32 KiB window; the test itself holds the 1.7 MB compressed archive while
//! building it. 32 MiB above the process's resident size at the start leaves room for the
//! allocator and the test harness, and is an eighth of what holding the text would cost.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufReader, Write};

use common::zip_raw::{RawEntry, crc32, write_zip};
use vigil::ingest::CollectingSink;
use vigil::ingest::apple_health::{EXPORT_XML_IN_ZIP, parse_export_zip};

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HealthData locale=\"en_US\">";
const TAIL: &str = "<Record type=\"HKQuantityTypeIdentifierHeartRate\" unit=\"count/min\" \
                    startDate=\"2024-03-01 08:00:00 +0100\" value=\"72\"/>\n</HealthData>\n";
/// Each back-reference (length 258, distance 1) inflates to 258 spaces: 1,040,000 of them are
/// 268 MB.
const MATCHES: u32 = 1_040_000;

/// Deflate's bit order: fields least significant bit first, Huffman codes most significant first.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn field(&mut self, value: u32, width: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += width;
        while self.n >= 8 {
            self.out.push(self.acc.to_le_bytes()[0]); // the low byte
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    fn code(&mut self, code: u32, width: u32) {
        self.field(code.reverse_bits() >> (32 - width), width);
    }
    /// A literal byte in the fixed Huffman code (RFC 1951 3.2.6).
    fn literal(&mut self, byte: u8) {
        match byte {
            0..=143 => self.code(0x30 + u32::from(byte), 8),
            _ => self.code(0x190 + u32::from(byte) - 144, 9),
        }
    }
}

/// One fixed-Huffman block: HEAD, a space, MATCHES copies of the previous 258 bytes at
/// distance 1, TAIL. Returns the stream and the inflated CRC-32 and size.
fn deflated_export() -> (Vec<u8>, u32, u32) {
    let mut bits = Bits { out: Vec::with_capacity(1_800_000), acc: 0, n: 0 };
    bits.field(1, 1); // BFINAL
    bits.field(1, 2); // BTYPE 01: fixed Huffman codes
    HEAD.bytes().for_each(|b| bits.literal(b));
    bits.literal(b' ');
    for _ in 0..MATCHES {
        bits.code(0b1100_0101, 8); // length code 285: 258
        bits.code(0, 5); // distance code 0: 1
    }
    TAIL.bytes().for_each(|b| bits.literal(b));
    bits.code(0, 7); // end of block (256)
    bits.field(0, 7); // flush
    let spaces = 1 + 258 * MATCHES as usize;
    let mut crc = crc32(0, HEAD.as_bytes());
    let chunk = vec![b' '; 1 << 20];
    let mut left = spaces;
    while left > 0 {
        let n = left.min(chunk.len());
        crc = crc32(crc, &chunk[..n]);
        left -= n;
    }
    crc = crc32(crc, TAIL.as_bytes());
    let size = u32::try_from(HEAD.len() + spaces + TAIL.len()).unwrap();
    (bits.out, crc, size)
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn apple_health_zip_bomb_of_whitespace_parses_in_bounded_memory() {
    let start_kib = status_kib("VmRSS:");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    {
        let (data, crc32, size) = deflated_export();
        assert!(data.len() < 2_000_000, "{} bytes", data.len());
        let entry = RawEntry { name: EXPORT_XML_IN_ZIP, method: 8, data: &data, crc32, size };
        let mut file = std::fs::File::create(&path).unwrap();
        write_zip(&mut file, &[entry]).unwrap();
        file.flush().unwrap();
    }
    let mut sink = CollectingSink::default();
    let file = BufReader::new(std::fs::File::open(&path).unwrap());
    let summary = parse_export_zip(file, "export.zip", &mut sink).unwrap();
    assert_eq!(summary.records_seen, 1);
    assert_eq!(sink.records.len(), 1, "{:?}", sink.rejections);
    assert_eq!(sink.records[0].effective.to_rfc3339(), "2024-03-01T08:00:00+01:00");

    let peak_kib = status_kib("VmHWM:");
    let bound_kib = start_kib + 32 * 1024;
    eprintln!("resident at start {start_kib} KiB, peak {peak_kib} KiB, bound {bound_kib} KiB");
    assert!(
        peak_kib < bound_kib,
        "peak RSS {peak_kib} KiB, bound {bound_kib} KiB (start {start_kib} KiB) for 268 MB of text"
    );
}
