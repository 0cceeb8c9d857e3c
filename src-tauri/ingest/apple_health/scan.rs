//! Byte scanning for the hot path: attributes of a start tag, one byte in a slice, newlines.
//!
//! quick-xml's attribute iterator checks more than an export needs and walks values byte by
//! byte; a record's attributes are a few hundred bytes (the `device` description alone is
//! ~130), so finding the closing quote eight bytes at a time is most of the win.

use std::io::{BufRead, Read};

/// Index of the first `needle` in `hay`, eight bytes per step (SWAR: a byte of
/// `word ^ broadcast(needle)` is zero exactly where the needle is).
pub(super) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ pattern;
        let zero = word.wrapping_sub(LO) & !word & HI;
        if zero != 0 {
            return Some(offset + (zero.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|i| offset + i)
}

/// Newlines in `bytes`, counted in byte lanes the compiler vectorises (blocks of 255, so a
/// lane's count cannot overflow a `u8`).
pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|block| u64::from(block.iter().fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')))))
        .sum()
}

/// Counts the newlines in the bytes the XML reader consumes, so a record's line is known
/// without a second pass (quick-xml consumes exactly up to the end of each event).
pub(super) struct LineCounter<R> {
    pub(super) inner: R,
    pub(super) newlines: u64,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += count_newlines(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        // The bytes being consumed are the front of the buffer just returned by `fill_buf`;
        // asking again does no I/O while it still holds them.
        if let Ok(buf) = self.inner.fill_buf() {
            self.newlines += count_newlines(&buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
    }
}

/// One `name="value"` pair, raw; `Err(())` for broken syntax.
pub(super) type Attribute<'a> = Result<(&'a [u8], &'a [u8]), ()>;

/// The `name="value"` pairs of a start tag, raw (entities are not expanded: no value Vigil
/// reads can contain one). Yields `Err(())` once, and then nothing, for broken syntax.
pub(super) struct Attributes<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Attributes<'a> {
    /// Over the bytes after the element name (`BytesStart::attributes_raw`).
    pub(super) fn new(raw: &'a [u8]) -> Self {
        Self { raw, pos: 0 }
    }

    fn skip_space(&mut self) {
        while self.raw.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn fail(&mut self) -> Option<Attribute<'a>> {
        self.pos = self.raw.len();
        Some(Err(()))
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        self.skip_space();
        if self.pos >= self.raw.len() || self.raw[self.pos..] == *b"/" {
            return None;
        }
        let rest = &self.raw[self.pos..];
        let Some(eq) = find_byte(rest, b'=') else { return self.fail() };
        let key = rest[..eq].trim_ascii_end();
        if key.is_empty() || key.iter().any(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'') {
            return self.fail();
        }
        self.pos += eq + 1;
        self.skip_space();
        let Some(&quote) = self.raw.get(self.pos) else { return self.fail() };
        if quote != b'"' && quote != b'\'' {
            return self.fail();
        }
        let start = self.pos + 1;
        let Some(len) = find_byte(&self.raw[start..], quote) else { return self.fail() };
        self.pos = start + len + 1;
        // Attributes must be separated by white space.
        if self.raw.get(self.pos).is_some_and(|b| !b.is_ascii_whitespace() && *b != b'/') {
            return self.fail();
        }
        Some(Ok((key, &self.raw[start..start + len])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_agrees_with_a_plain_search() {
        let hay: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        for start in 0..20 {
            for needle in [0u8, 1, 34, 0x80, 0xFF, 200, 250] {
                let slice = &hay[start..];
                assert_eq!(find_byte(slice, needle), slice.iter().position(|&b| b == needle), "{needle}");
            }
        }
    }

    #[test]
    fn newlines_are_counted_across_blocks() {
        let text: Vec<u8> = (0..10_000).map(|i| if i % 7 == 0 { b'\n' } else { b'x' }).collect();
        assert_eq!(count_newlines(&text), text.iter().filter(|&&b| b == b'\n').count() as u64);
        let all = vec![b'\n'; 1000];
        assert_eq!(count_newlines(&all), 1000);
    }

    #[test]
    fn attributes_are_split_and_broken_syntax_is_reported() {
        let attrs: Vec<_> = Attributes::new(b" type=\"HR\" unit = 'count/min'\n value=\"72\"/").collect();
        assert_eq!(
            attrs,
            [
                Ok((&b"type"[..], &b"HR"[..])),
                Ok((&b"unit"[..], &b"count/min"[..])),
                Ok((&b"value"[..], &b"72"[..]))
            ]
        );
        for bad in [&b" type=HR"[..], b" type=\"HR", b" =\"x\"", b" a=\"1\"b=\"2\"", b" a b=\"1\"", b" a"] {
            let all: Vec<_> = Attributes::new(bad).collect();
            assert_eq!(all.last(), Some(&Err(())), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(Attributes::new(b"").count(), 0);
    }
}
