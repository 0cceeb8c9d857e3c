//! NDJSON (FHIR Bulk Data): one resource per line, read a line at a time; a line longer than
//! [`MAX_RESOURCE_BYTES`] is rejected by its number and skipped without being kept.

use std::io::{self, BufRead};

use super::stream::{Emit, Event, MAX_RESOURCE_BYTES, walk};
use super::strict_json;
use crate::ingest::{Location, ParseError, Rejection};

/// Reads the lines from `reader` (`offset` bytes into the file) and reports what they hold.
pub(super) fn read<R: BufRead>(
    file: &str,
    mut reader: R,
    mut offset: u64,
    emit: &mut Emit<'_>,
) -> Result<(), ParseError> {
    let io = |source| ParseError::Io { file: file.to_owned(), source };
    let max = usize::try_from(MAX_RESOURCE_BYTES).unwrap_or(usize::MAX);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        let start = offset;
        let Some(kept) = next_line(&mut reader, &mut line, max, &mut offset).map_err(io)? else {
            return Ok(());
        };
        number += 1;
        let at = Location { file: file.to_owned(), line: Some(number), element: None };
        if !kept {
            let reason = format!(
                "the line (from byte offset {start}) is longer than {} MiB, the most one resource may \
                 hold: not read",
                MAX_RESOURCE_BYTES >> 20
            );
            if emit(Event::Broken(Rejection { location: at, reason })).is_break() {
                return Err(ParseError::Cancelled);
            }
            continue;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let flow = match strict_json::from_slice(text) {
            Ok(value) => walk(file, &value, String::new(), None, Some(number), emit),
            Err(e) => emit(Event::Broken(Rejection { location: at, reason: format!("not valid JSON: {e}") })),
        };
        if flow.is_break() {
            return Err(ParseError::Cancelled);
        }
    }
}

/// Reads up to and without the next `\n` into `line`. `None` at the end of the text (a last
/// line is one only when it has bytes); `Some(false)` when the line was longer than `max`, in
/// which case it was consumed but not kept.
fn next_line<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
    offset: &mut u64,
) -> io::Result<Option<bool>> {
    line.clear();
    let (mut any, mut kept) = (false, true);
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(kept));
        }
        any = true;
        let (piece, end) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1),
            None => (available, available.len()),
        };
        if kept && line.len() + piece.len() <= max {
            line.extend_from_slice(piece);
        } else {
            kept = false;
            line.clear();
        }
        let done = end > piece.len();
        reader.consume(end);
        *offset += end as u64;
        if done {
            return Ok(Some(kept));
        }
    }
}
