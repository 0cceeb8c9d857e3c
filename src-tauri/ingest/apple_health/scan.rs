//! Byte scanning for the hot path: attributes of a start tag, one byte in a slice, newlines,
//! and the bounds that keep one event's buffer small (text skipped, markup capped).
//!
//! quick-xml's attribute iterator checks more than an export needs and walks values byte by
//! byte; a record's attributes are a few hundred bytes (the `device` description alone is
//! ~130), so finding the closing quote eight bytes at a time is most of the win.

use std::io::{BufRead, Read, Seek, SeekFrom};

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

/// The most bytes one piece of markup (a start or end tag, a comment, the DOCTYPE) may hold.
/// The largest in a real export is the DOCTYPE's internal DTD (about 12 KB); a `Record` tag is a
/// few hundred bytes. Beyond this the file is refused rather than buffered.
pub(super) const MAX_MARKUP_BYTES: usize = 1 << 20;

/// The longest entity or character reference accepted in skipped text (`&#x1F600;` is 10).
const MAX_REFERENCE_BYTES: usize = 64;

/// Gives the XML reader at most `left` more bytes, so one event cannot grow its buffer without
/// bound: past the budget `fill_buf` fails and `exceeded` says why.
pub(super) struct Capped<R> {
    pub(super) inner: R,
    pub(super) left: usize,
    pub(super) exceeded: bool,
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let left = self.left;
        if left == 0 {
            if self.inner.fill_buf()?.is_empty() {
                return Ok(&[]);
            }
            self.exceeded = true;
            return Err(std::io::Error::other(format!("an element is longer than {MAX_MARKUP_BYTES} bytes")));
        }
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(left)])
    }
    fn consume(&mut self, amt: usize) {
        self.left = self.left.saturating_sub(amt);
        self.inner.consume(amt);
    }
}

/// Consumes the text before the next `<` without keeping it (Vigil reads no text content, and a
/// text node may be gigabytes of white space). Returns the bytes skipped, or why the text is not
/// XML: a `&` that starts no reference (`&name;`, `&#...;`) closed within
/// [`MAX_REFERENCE_BYTES`].
pub(super) fn skip_text<R: BufRead>(reader: &mut R) -> std::io::Result<Result<u64, &'static str>> {
    let mut skipped = 0u64;
    // Bytes since an open `&`.
    let mut in_reference: Option<usize> = None;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            if in_reference.is_some() {
                return Ok(Err("the file ends inside an entity reference (a '&' with no ';')"));
            }
            return Ok(Ok(skipped));
        }
        let mut i = 0;
        let mut markup = false;
        while i < buf.len() {
            if let Some(n) = in_reference {
                match buf[i] {
                    b';' => in_reference = None,
                    b'<' => return Ok(Err("a '&' in text is not closed by ';' (write '&amp;')")),
                    _ if n >= MAX_REFERENCE_BYTES => {
                        return Ok(Err("a '&' in text starts no entity reference (write '&amp;')"));
                    }
                    _ => in_reference = Some(n + 1),
                }
                i += 1;
                continue;
            }
            let rest = &buf[i..];
            let lt = find_byte(rest, b'<');
            match find_byte(&rest[..lt.unwrap_or(rest.len())], b'&') {
                Some(amp) => {
                    in_reference = Some(0);
                    i += amp + 1;
                }
                None => {
                    i += lt.unwrap_or(rest.len());
                    markup = lt.is_some();
                    break;
                }
            }
        }
        reader.consume(i);
        skipped += i as u64;
        if markup {
            return Ok(Ok(skipped));
        }
    }
}

/// The names of the central directory's entries whose file name is `export.xml`, read from
/// `start` (each record: 46 fixed bytes, then name, extra field and comment; APPNOTE 4.3.12).
/// At most 100 names are listed.
pub(super) fn export_xml_entries<R: Read + Seek>(reader: &mut R, start: u64) -> std::io::Result<Vec<String>> {
    reader.seek(SeekFrom::Start(start))?;
    let mut reader = std::io::BufReader::new(reader);
    let mut found = Vec::new();
    let mut fixed = [0u8; 46];
    let mut name = Vec::new();
    loop {
        match reader.read_exact(&mut fixed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        if fixed[..4] != *b"PK\x01\x02" {
            break;
        }
        let field = |at: usize| usize::from(u16::from_le_bytes([fixed[at], fixed[at + 1]]));
        let (name_len, extra_len, comment_len) = (field(28), field(30), field(32));
        name.resize(name_len, 0);
        reader.read_exact(&mut name)?;
        if name.rsplit(|&b| b == b'/').next() == Some(&b"export.xml"[..]) && found.len() < 100 {
            found.push(String::from_utf8_lossy(&name).into_owned());
        }
        let skip = i64::try_from(extra_len + comment_len).unwrap_or(i64::MAX);
        reader.seek_relative(skip)?;
    }
    Ok(found)
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
    fn text_is_skipped_to_the_next_markup_and_its_references_checked() {
        let skip = |text: &[u8]| {
            // A 3-byte buffer puts every boundary inside a reference somewhere.
            let mut reader = std::io::BufReader::with_capacity(3, text);
            let result = skip_text(&mut reader).unwrap();
            (result, reader.fill_buf().unwrap().first().copied())
        };
        assert_eq!(skip(b"  \n\t  <Record/>"), (Ok(6), Some(b'<')));
        assert_eq!(skip(b"a &amp; b &#x1F600; c<x"), (Ok(21), Some(b'<')));
        assert_eq!(skip(b"<x"), (Ok(0), Some(b'<')));
        assert_eq!(skip(b"tail"), (Ok(4), None));
        assert!(skip(b"a & b<x").0.is_err());
        assert!(skip(b"a &amp").0.is_err());
        let long = [&b"&"[..], &[b'a'; 100], b";<"].concat();
        assert!(skip(&long).0.is_err());
    }

    #[test]
    fn one_element_may_not_outgrow_the_cap_and_long_text_costs_nothing() {
        use crate::ingest::{CollectingSink, ParseError};
        let record = "<Record type=\"HKQuantityTypeIdentifierHeartRate\" unit=\"count/min\" \
                      startDate=\"2024-03-01 08:00:00 +0100\" value=\"72\"/>";
        let parse = |xml: String| {
            let mut sink = CollectingSink::default();
            super::super::parse_export_xml(xml.as_bytes(), "e.xml", &mut sink).map(|_| sink)
        };
        let text = "x ".repeat(3 << 20);
        let sink = parse(format!("<HealthData>\n{text}\n{record}\n</HealthData>")).unwrap();
        assert_eq!(sink.records.len(), 1);
        assert_eq!(sink.rejections, []);

        let huge = "9".repeat(MAX_MARKUP_BYTES);
        let xml = format!("<HealthData>\n{record}\n<Record value=\"{huge}\"/>\n</HealthData>");
        match parse(xml) {
            Err(ParseError::Malformed { location, reason }) => {
                assert_eq!(location.to_string(), "e.xml:3");
                assert!(reason.starts_with("an element is longer than 1 MiB"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let xml = format!("<HealthData>\n<!-- {huge} -->\n</HealthData>");
        assert!(matches!(parse(xml), Err(ParseError::Malformed { .. })));
        // A syntax error quoting a long name from the file quotes an excerpt of it.
        let name = "x".repeat(500_000);
        match parse(format!("<HealthData>\n<Record></{name}>\n</HealthData>")) {
            Err(ParseError::Malformed { reason, .. }) => {
                assert!(reason.starts_with("XML syntax error") && reason.len() < 400, "{}", &reason[..100]);
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
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
