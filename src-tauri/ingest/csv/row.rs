//! Lines to rows of fields, with exact line numbers.
//!
//! A small RFC 4180 reader (<https://www.rfc-editor.org/rfc/rfc4180>) with one restriction that
//! buys exact line numbers and resynchronisation after a broken row: a quoted field may not
//! contain a line break. Lines end with LF or CRLF. A quote opens quoting only at the start of
//! a field; inside quotes `""` is a quote; text after the closing quote is kept as is.

use std::io::{self, BufRead};

/// Reads lines and splits them into fields, reusing its buffers.
#[derive(Debug)]
pub(super) struct RowReader<R> {
    input: R,
    line: u64,
    raw: Vec<u8>,
}

/// One line's fields, unescaped.
#[derive(Debug, Default)]
pub(super) struct Row {
    /// 1-based line number.
    pub(super) line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl<R: BufRead> RowReader<R> {
    pub(super) fn new(input: R) -> Self {
        Self { input, line: 0, raw: Vec::with_capacity(256) }
    }

    /// Reads the next line into `row`; `Ok(false)` at the end of the input. A line with an
    /// unterminated quoted field gives `Ok(true)` and an `Err` reason in the inner result.
    pub(super) fn next(&mut self, row: &mut Row) -> io::Result<Option<Result<(), &'static str>>> {
        self.raw.clear();
        if self.input.read_until(b'\n', &mut self.raw)? == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut text = self.raw.as_slice();
        if self.line == 1 {
            text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        }
        text = text.strip_suffix(b"\n").unwrap_or(text);
        text = text.strip_suffix(b"\r").unwrap_or(text);
        row.line = self.line;
        Ok(Some(row.split(text)))
    }
}

impl Row {
    fn split(&mut self, line: &[u8]) -> Result<(), &'static str> {
        self.bytes.clear();
        self.ends.clear();
        if !line.contains(&b'"') {
            for field in line.split(|&b| b == b',') {
                self.bytes.extend_from_slice(field);
                self.ends.push(self.bytes.len());
            }
            return Ok(());
        }
        let mut rest = line;
        loop {
            if let Some(quoted) = rest.strip_prefix(b"\"") {
                rest = quoted;
                loop {
                    let close = rest.iter().position(|&b| b == b'"').ok_or("unterminated quoted field")?;
                    let (inside, after) = rest.split_at(close);
                    self.bytes.extend_from_slice(inside);
                    match after.get(1) {
                        Some(b'"') => {
                            self.bytes.push(b'"');
                            rest = after.get(2..).unwrap_or_default();
                        }
                        _ => {
                            rest = after.get(1..).unwrap_or_default();
                            break;
                        }
                    }
                }
            }
            let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
            self.bytes.extend_from_slice(rest.get(..end).unwrap_or_default());
            self.ends.push(self.bytes.len());
            match rest.get(end + 1..) {
                Some(next) => rest = next,
                None => return Ok(()),
            }
        }
    }

    /// The number of fields.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`, if the row has it.
    pub(super) fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        self.bytes.get(start..end)
    }

    /// Every field.
    pub(super) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(u64, Result<Vec<String>, &'static str>)> {
        let mut reader = RowReader::new(text.as_bytes());
        let mut row = Row::default();
        let mut out = vec![];
        while let Some(result) = reader.next(&mut row).unwrap() {
            let fields = row.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            out.push((row.line, result.map(|()| fields)));
        }
        out
    }

    #[test]
    fn fields_quotes_and_line_numbers() {
        let got = rows("\u{feff}a,b\r\n\r\n\"x,1\",\"say \"\"hi\"\"\",\"\"\nc,\n\"open,d\nq\"tail,\"\"\"\"");
        let ok = |v: &[&str]| Ok(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            got,
            vec![
                (1, ok(&["a", "b"])),
                (2, ok(&[""])),
                (3, ok(&["x,1", "say \"hi\"", ""])),
                (4, ok(&["c", ""])),
                (5, Err("unterminated quoted field")),
                (6, ok(&["q\"tail", "\""])),
            ]
        );
    }
}
