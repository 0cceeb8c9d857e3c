#![allow(dead_code)] // each test binary uses a part
//! A zip writer small enough to read in full, for archives the `zip` crate will not write: two
//! entries with one name, or an entry whose deflate stream was built by hand (APPNOTE 6.3.10,
//! sections 4.3.7, 4.3.12 and 4.3.16; no zip64, so every size is under 4 GiB).

use std::io::{self, Write};

/// One entry: its name, compression method (0 stored, 8 deflate), the bytes as stored, and the
/// CRC-32 and size of the bytes they inflate to.
pub(crate) struct RawEntry<'a> {
    pub(crate) name: &'a str,
    pub(crate) method: u16,
    pub(crate) data: &'a [u8],
    pub(crate) crc32: u32,
    pub(crate) size: u32,
}

impl<'a> RawEntry<'a> {
    /// A stored (uncompressed) entry.
    pub(crate) fn stored(name: &'a str, data: &'a [u8]) -> Self {
        let size = u32::try_from(data.len()).unwrap();
        Self { name, method: 0, data, crc32: crc32(0, data), size }
    }
}

/// Writes local headers, data, central directory and end record.
pub(crate) fn write_zip(out: &mut impl Write, entries: &[RawEntry<'_>]) -> io::Result<()> {
    let mut offset = 0u32;
    let mut directory = Vec::new();
    for e in entries {
        let name = e.name.as_bytes();
        let compressed = u32::try_from(e.data.len()).unwrap();
        let mut local = Vec::new();
        local.extend(0x0403_4b50u32.to_le_bytes());
        local.extend(20u16.to_le_bytes()); // version needed
        local.extend(0u16.to_le_bytes()); // flags
        local.extend(e.method.to_le_bytes());
        local.extend(0u16.to_le_bytes()); // time
        local.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
        local.extend(e.crc32.to_le_bytes());
        local.extend(compressed.to_le_bytes());
        local.extend(e.size.to_le_bytes());
        local.extend(u16::try_from(name.len()).unwrap().to_le_bytes());
        local.extend(0u16.to_le_bytes()); // extra
        local.extend(name);
        out.write_all(&local)?;
        out.write_all(e.data)?;

        directory.extend(0x0201_4b50u32.to_le_bytes());
        directory.extend(20u16.to_le_bytes()); // made by
        directory.extend_from_slice(&local[4..30]); // version needed .. extra field length
        directory.extend(0u16.to_le_bytes()); // comment
        directory.extend(0u16.to_le_bytes()); // disk
        directory.extend(0u16.to_le_bytes()); // internal attributes
        directory.extend(0u32.to_le_bytes()); // external attributes
        directory.extend(offset.to_le_bytes());
        directory.extend(name);
        offset += u32::try_from(local.len()).unwrap() + compressed;
    }
    out.write_all(&directory)?;
    let count = u16::try_from(entries.len()).unwrap();
    let mut end = Vec::new();
    end.extend(0x0605_4b50u32.to_le_bytes());
    end.extend(0u16.to_le_bytes());
    end.extend(0u16.to_le_bytes());
    end.extend(count.to_le_bytes());
    end.extend(count.to_le_bytes());
    end.extend(u32::try_from(directory.len()).unwrap().to_le_bytes());
    end.extend(offset.to_le_bytes());
    end.extend(0u16.to_le_bytes()); // comment
    out.write_all(&end)
}

/// CRC-32 (IEEE 802.3, reflected, as zip uses), continued from `crc` (0 to start).
pub(crate) fn crc32(crc: u32, bytes: &[u8]) -> u32 {
    let table = crc_table();
    let mut c = !crc;
    for &b in bytes {
        c = table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    for (n, slot) in table.iter_mut().enumerate() {
        let mut c = u32::try_from(n).unwrap();
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    table
}
