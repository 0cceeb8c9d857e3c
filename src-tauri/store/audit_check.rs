//! The offline check of an audit export (`vigil audit check FILE`): no store, no key. Pure: it
//! reads lines from a `BufRead` it is given and names the first bad line.
//!
//! Every event's hash is recomputed from its fields and its `prev_hash`; events must come in
//! `seq` order; the head line must be last and its row count must match. A complete export
//! (no filter) must also start at the chain's first event, chain each event onto the one before
//! it, end at the head the head line names, and hold the anchored event with the anchored hash.
//! The anchor's MAC needs the store key, so it is not checked here (`vigil audit verify` does).

use std::io::BufRead;

use chrono::SecondsFormat;
use serde::Serialize;

use super::audit::{GENESIS, chain_hash, gap_problem};
use super::audit_export::{EXPORT_FORMAT, ExportHead, ExportedEvent};
use super::time;

/// A bad line: its number (from 1) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ExportFault {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// What a sound export holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedExport {
    /// Event lines, each with a hash that follows from its fields.
    pub events: u64,
    /// Every event from the first to the head, each chained onto the one before.
    pub complete: bool,
    /// The chain's head when exported.
    pub head_seq: i64,
    /// The store.
    pub store_id: String,
    /// The anchored event, when the export carries an anchor (its MAC is not checked offline).
    pub anchor_seq: Option<i64>,
}

fn hash32(text: &str, field: &str) -> Result<[u8; 32], String> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| format!("{field} is not 64 hexadecimal digits"))?;
    Ok(out)
}

/// The first break of contiguity seen: reported only if the head says the export is complete.
struct Gap {
    line: usize,
    problem: String,
}

/// Checks an export read from `input`.
pub fn check_export(input: impl BufRead) -> Result<CheckedExport, ExportFault> {
    let mut events: u64 = 0;
    // (seq, hash) of each event: the anchored one is looked up once the head is read.
    let mut seen: Vec<(i64, [u8; 32])> = Vec::new();
    let mut gap: Option<Gap> = None;
    let mut line_no = 0;
    let mut head: Option<ExportHead> = None;
    for line in input.lines() {
        line_no += 1;
        let fault = |problem: String| ExportFault { line: line_no, problem };
        let line = line.map_err(|e| fault(format!("cannot be read ({e})")))?;
        if head.is_some() {
            return Err(fault("follows the head line, which must be the last".to_owned()));
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| fault(format!("is not JSON ({e})")))?;
        match value.get("type").and_then(|t| t.as_str()) {
            Some("event") => {
                let event: ExportedEvent = serde_json::from_value(value)
                    .map_err(|e| fault(format!("is not an audit event ({e})")))?;
                let (hash, prev) =
                    check_event(&event).map_err(|p| fault(format!("event {}: {p}", event.seq)))?;
                match seen.last() {
                    Some(&(before, _)) if event.seq <= before => {
                        return Err(fault(format!(
                            "event {} comes after event {before}: out of order",
                            event.seq
                        )));
                    }
                    Some(&(before, before_hash)) if gap.is_none() => {
                        if event.seq != before + 1 {
                            gap = Some(Gap { line: line_no, problem: gap_problem(before, event.seq) });
                        } else if prev != before_hash {
                            gap = Some(Gap {
                                line: line_no,
                                problem: format!("event {} does not chain onto event {before}", event.seq),
                            });
                        }
                    }
                    None if event.seq != 1 || prev != GENESIS => {
                        gap = Some(Gap {
                            line: line_no,
                            problem: format!("the first event is {}, not the chain's first (1)", event.seq),
                        });
                    }
                    _ => {}
                }
                seen.push((event.seq, hash));
                events += 1;
            }
            Some("head") => {
                let parsed: ExportHead = serde_json::from_value(value)
                    .map_err(|e| fault(format!("is not an export's head ({e})")))?;
                head = Some(parsed);
            }
            Some(other) => return Err(fault(format!("has type '{other}'; expected 'event' or 'head'"))),
            None => return Err(fault("has no \"type\" (expected 'event' or 'head')".to_owned())),
        }
    }
    let Some(head) = head else {
        return Err(ExportFault {
            line: line_no + 1,
            problem: "the file ends without its head line: it was cut short".to_owned(),
        });
    };
    let fault = |problem: String| ExportFault { line: line_no, problem };
    if head.format != EXPORT_FORMAT {
        return Err(fault(format!("the format is '{}'; this Vigil checks '{EXPORT_FORMAT}'", head.format)));
    }
    if head.complete != head.filters.is_empty() {
        return Err(fault(
            "the head says the export is complete, but names filters (or the reverse)".to_owned(),
        ));
    }
    // The first bad line first: a gap comes before the head that miscounts because of it.
    if let Some(gap) = gap.filter(|_| head.complete) {
        return Err(ExportFault { line: gap.line, problem: gap.problem });
    }
    if head.rows != events {
        return Err(fault(format!("the head counts {} events but the file holds {events}", head.rows)));
    }
    let head_hash = hash32(&head.head_hash, "head_hash").map_err(fault)?;
    if let Some(&(last, _)) = seen.last() {
        if last > head.head_seq {
            return Err(fault(format!("event {last} is past the head the export names ({})", head.head_seq)));
        }
    }
    if head.complete {
        match seen.last() {
            Some(&(last, hash)) if last == head.head_seq && hash == head_hash => {}
            Some(&(last, _)) => {
                return Err(fault(format!(
                    "the export is complete but ends at event {last}, not at the head it names ({}) with its hash",
                    head.head_seq
                )));
            }
            None if head.head_seq != 0 => {
                return Err(fault(format!(
                    "the export is complete but holds no event up to {}",
                    head.head_seq
                )));
            }
            None => {}
        }
    }
    if let Some(anchor) = &head.anchor {
        if anchor.seq > head.head_seq {
            return Err(fault(format!(
                "the anchor is at event {} but the chain exported ends at event {}: the store was an \
                 older copy, or its tail was deleted",
                anchor.seq, head.head_seq
            )));
        }
        if head.complete {
            let anchored = seen.binary_search_by_key(&anchor.seq, |&(seq, _)| seq).ok().map(|i| seen[i].1);
            let expected = hash32(&anchor.hash, "the anchor's hash").map_err(fault)?;
            if anchored != Some(expected) {
                return Err(fault(format!("event {} is not the event the anchor records", anchor.seq)));
            }
        }
    }
    Ok(CheckedExport {
        events,
        complete: head.complete,
        head_seq: head.head_seq,
        store_id: head.store_id,
        anchor_seq: head.anchor.map(|a| a.seq),
    })
}

/// Recomputes an event's hash; returns its hash and `prev_hash`.
fn check_event(event: &ExportedEvent) -> Result<([u8; 32], [u8; 32]), String> {
    let prev = hash32(&event.prev_hash, "prev_hash")?;
    let hash = hash32(&event.hash, "hash")?;
    let at = time::from_ms(event.at_ms).map_err(|e| e.to_string())?;
    if at.to_rfc3339_opts(SecondsFormat::Millis, true) != event.at {
        return Err(format!("its time '{}' is not its at_ms ({})", event.at, event.at_ms));
    }
    let patient = event
        .patient
        .as_deref()
        .map(|p| uuid::Uuid::parse_str(p).map_err(|_| format!("its patient '{p}' is not a UUID")))
        .transpose()?;
    let expected = chain_hash(
        &prev,
        event.at_ms,
        &event.actor,
        &event.action,
        patient.as_ref().map(|u| &u.as_bytes()[..]),
        &event.detail,
    );
    if expected[..] != hash[..] {
        return Err("its hash does not follow from its fields: the line was altered".to_owned());
    }
    Ok((hash, prev))
}
