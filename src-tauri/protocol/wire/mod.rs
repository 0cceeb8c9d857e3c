//! The sync protocol between a workstation and its clinic server (HTTPS, JSON bodies).
//!
//! One page of it (the full protocol is in ARCHITECTURE.md, "Sync"):
//! - **Enrolment** ([`enroll`]): IT gives a workstation a one-time code that carries the server's
//!   certificate fingerprint; the workstation pins that certificate, makes an Ed25519 key pair
//!   and registers the public half with the code.
//! - **Every later request is signed** ([`sign`]) with the workstation's key over the method,
//!   path, time and body digest; the server answers 401 to anything else.
//! - **Push** ([`push`]): the outbox in order. The server acknowledges a [`push::Position`] in
//!   the transaction that applies a batch; a batch that does not start where the server's
//!   acknowledgement stands is refused with 409 and that position, and one already applied is
//!   acknowledged again and changes nothing.
//! - **Pull** ([`pull`]): the clinic's changes from its other workstations after a cursor. The
//!   cursor is a per-clinic version that every writing transaction takes from one counter row,
//!   so versions commit in order and "greater than my cursor" never skips a commit.

pub mod enroll;
pub mod pull;
pub mod push;
pub mod sign;

use serde::{Deserialize, Serialize};

/// The body of every refusal: what was wrong, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong and, where it helps, where.
    pub error: String,
}

/// The largest request body the server reads (bytes): a push of 20 000 observations is about
/// 5 MiB of JSON.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The most observations one push carries, and one pull page returns.
pub const MAX_ROWS_PER_REQUEST: usize = 20_000;

/// Paths of the server's endpoints.
pub mod paths {
    /// POST [`super::enroll::EnrollRequest`] -> [`super::enroll::Enrolled`] (unsigned: the code
    /// is the credential).
    pub const ENROLL: &str = "/v1/enroll";
    /// POST [`super::push::PushBatch`] -> [`super::push::PushAck`].
    pub const PUSH: &str = "/v1/push";
    /// GET `?after=VERSION&limit=N` -> [`super::pull::PullPage`].
    pub const PULL: &str = "/v1/pull";
    /// GET -> [`super::push::PushAck`] with the server's acknowledged position.
    pub const POSITION: &str = "/v1/position";
    /// GET: 200 when the server and its database answer.
    pub const HEALTH: &str = "/health";
    /// GET: Prometheus text format.
    pub const METRICS: &str = "/metrics";
}
