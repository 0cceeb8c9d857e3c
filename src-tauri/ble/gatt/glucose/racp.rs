//! The Record Access Control Point 0x2A52 (GSS "Record Access Control Point"; GLS 3.108 and
//! 4.9 for the glucose records): Op Code (uint8), Operator (uint8), Operand.
//!
//! Op codes: 1 report stored records, 2 delete stored records, 3 abort operation, 4 report
//! number of stored records, 5 number of stored records response, 6 response code. Operators:
//! 0 null, 1 all records, 2 less than or equal to, 3 greater than or equal to, 4 within range,
//! 5 first record, 6 last record. The glucose filter type 0x01 is the sequence number (uint16).
//! The records themselves arrive as Glucose Measurement notifications before the response.

use serde::Serialize;

use super::super::reader::Reader;
use super::super::{Characteristic, DecodeError, Decoded};

/// A request Vigil writes to the control point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpOp {
    /// Report every stored record: `01 01`.
    ReportAll,
    /// Report the records whose sequence number is at least N: `01 03 01 nn nn`.
    ReportFromSequence(u16),
    /// Report how many records are stored: `04 01`.
    ReportNumberOfRecords,
    /// Report how many records have a sequence number of at least N: `04 03 01 nn nn`.
    ReportNumberFromSequence(u16),
    /// Abort the operation in progress: `03 00`.
    Abort,
}

/// The sequence-number filter type of the glucose service (GLS 4.9.1.4).
const FILTER_SEQUENCE: u8 = 0x01;

/// The bytes of a request.
pub fn racp_request(op: RacpOp) -> Vec<u8> {
    match op {
        RacpOp::ReportAll => vec![0x01, 0x01],
        RacpOp::ReportFromSequence(n) => {
            let [lo, hi] = n.to_le_bytes();
            vec![0x01, 0x03, FILTER_SEQUENCE, lo, hi]
        }
        RacpOp::ReportNumberOfRecords => vec![0x04, 0x01],
        RacpOp::ReportNumberFromSequence(n) => {
            let [lo, hi] = n.to_le_bytes();
            vec![0x04, 0x03, FILTER_SEQUENCE, lo, hi]
        }
        RacpOp::Abort => vec![0x03, 0x00],
    }
}

/// The response code of a request (GSS RACP "Response Code Values").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpResponseCode {
    /// 1: the request completed (the records, if any, were sent).
    Success,
    /// 2
    OpCodeNotSupported,
    /// 3
    InvalidOperator,
    /// 4
    OperatorNotSupported,
    /// 5
    InvalidOperand,
    /// 6: the request completed with no record matching.
    NoRecordsFound,
    /// 7
    AbortUnsuccessful,
    /// 8
    ProcedureNotCompleted,
    /// 9
    OperandNotSupported,
    /// A code the specification reserves.
    Reserved(u8),
}

impl RacpResponseCode {
    fn of(code: u8) -> RacpResponseCode {
        match code {
            1 => RacpResponseCode::Success,
            2 => RacpResponseCode::OpCodeNotSupported,
            3 => RacpResponseCode::InvalidOperator,
            4 => RacpResponseCode::OperatorNotSupported,
            5 => RacpResponseCode::InvalidOperand,
            6 => RacpResponseCode::NoRecordsFound,
            7 => RacpResponseCode::AbortUnsuccessful,
            8 => RacpResponseCode::ProcedureNotCompleted,
            9 => RacpResponseCode::OperandNotSupported,
            other => RacpResponseCode::Reserved(other),
        }
    }

    /// The snake-case name.
    pub const fn name(self) -> &'static str {
        match self {
            RacpResponseCode::Success => "success",
            RacpResponseCode::OpCodeNotSupported => "op_code_not_supported",
            RacpResponseCode::InvalidOperator => "invalid_operator",
            RacpResponseCode::OperatorNotSupported => "operator_not_supported",
            RacpResponseCode::InvalidOperand => "invalid_operand",
            RacpResponseCode::NoRecordsFound => "no_records_found",
            RacpResponseCode::AbortUnsuccessful => "abort_unsuccessful",
            RacpResponseCode::ProcedureNotCompleted => "procedure_not_completed",
            RacpResponseCode::OperandNotSupported => "operand_not_supported",
            RacpResponseCode::Reserved(_) => "reserved",
        }
    }

    /// The request ended normally (records sent, or none to send).
    pub const fn is_done(self) -> bool {
        matches!(self, RacpResponseCode::Success | RacpResponseCode::NoRecordsFound)
    }
}

/// What the control point answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RacpResponse {
    /// Op code 5: the number of stored records (uint16 in GLS; uint32 where a service's
    /// records can exceed 65,535, as the GSS allows).
    NumberOfRecords(u32),
    /// Op code 6: the outcome of the request with this op code.
    Response {
        /// The op code of the request answered.
        request_op_code: u8,
        /// The outcome.
        code: RacpResponseCode,
    },
}

/// Decodes a control-point indication.
pub fn decode_racp(value: &[u8]) -> Result<RacpResponse, DecodeError> {
    let mut r = Reader::new(Characteristic::RecordAccessControlPoint, value);
    let response = read(&mut r)?;
    r.end()?;
    Ok(response)
}

fn read(r: &mut Reader<'_>) -> Result<RacpResponse, DecodeError> {
    let op = r.u8("op code")?;
    if op != 5 && op != 6 {
        return Err(r.error_at(
            "op code",
            0,
            format!("{op} is not a response (5 number of records, 6 response code)"),
        ));
    }
    let operator = r.u8("operator")?;
    if operator != 0 {
        return Err(r.error_at("operator", 1, format!("{operator} where a response has 0 (null)")));
    }
    if op == 5 {
        return match r.remaining() {
            2 => Ok(RacpResponse::NumberOfRecords(u32::from(r.u16("number of records")?))),
            4 => Ok(RacpResponse::NumberOfRecords(r.u32("number of records")?)),
            n => Err(r.error_at("number of records", 2, format!("{n} bytes, not a uint16 or uint32"))),
        };
    }
    let request_op_code = r.u8("request op code")?;
    let code = RacpResponseCode::of(r.u8("response code value")?);
    Ok(RacpResponse::Response { request_op_code, code })
}

/// `decode` of the control point: the response's name in `status` (the typed answer, with
/// the number of records, is [`decode_racp`]'s).
pub(in super::super) fn status(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    match read(r)? {
        RacpResponse::NumberOfRecords(_) => out.status.push("number_of_stored_records"),
        RacpResponse::Response { code, .. } => out.status.push(code.name()),
    }
    Ok(())
}
