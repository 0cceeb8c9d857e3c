//! A bounds-checked cursor over one characteristic value: every read names its field, and a
//! read past the end is a [`DecodeError`] with the field and its byte offset, never a panic.

use super::date_time;
use super::ieee11073;
use super::{Characteristic, DecodeError, DeviceTime};
use crate::domain::ObservationValue;

pub(super) struct Reader<'a> {
    characteristic: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(characteristic: Characteristic, bytes: &'a [u8]) -> Reader<'a> {
        Reader { characteristic: characteristic.name(), bytes, pos: 0 }
    }

    /// The offset of the next byte.
    pub(super) fn offset(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub(super) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// An error about `field` at `offset`.
    pub(super) fn error_at(
        &self,
        field: &'static str,
        offset: usize,
        problem: impl Into<String>,
    ) -> DecodeError {
        DecodeError { characteristic: self.characteristic, field, offset, problem: problem.into() }
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let start = self.pos;
        let slice = self.bytes.get(start..start.saturating_add(N)).ok_or_else(|| self.missing(field, N))?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        self.pos = start + N;
        Ok(out)
    }

    fn missing(&self, field: &'static str, needed: usize) -> DecodeError {
        let have = self.remaining();
        self.error_at(
            field,
            self.pos,
            if have == 0 {
                format!(
                    "missing: the value ends here ({} bytes), the flags announce {needed} more",
                    self.bytes.len()
                )
            } else {
                format!("needs {needed} bytes, the value has {have} left")
            },
        )
    }

    /// Every byte left.
    pub(super) fn rest(&mut self) -> &'a [u8] {
        let slice = self.bytes.get(self.pos..).unwrap_or_default();
        self.pos = self.bytes.len();
        slice
    }

    pub(super) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take::<1>(field)?[0])
    }

    pub(super) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.take::<2>(field)?))
    }

    pub(super) fn i16(&mut self, field: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_le_bytes(self.take::<2>(field)?))
    }

    pub(super) fn u24(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let [a, b, c] = self.take::<3>(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    pub(super) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take::<4>(field)?))
    }

    /// An IEEE 11073-20601 SFLOAT (16 bits, little endian).
    pub(super) fn sfloat(&mut self, field: &'static str) -> Result<ObservationValue, DecodeError> {
        Ok(ieee11073::sfloat(self.u16(field)?))
    }

    /// An IEEE 11073-20601 FLOAT (32 bits, little endian).
    pub(super) fn float(&mut self, field: &'static str) -> Result<ObservationValue, DecodeError> {
        Ok(ieee11073::float(self.u32(field)?))
    }

    /// A 7-byte Date Time (GSS 3.70).
    pub(super) fn date_time(&mut self, field: &'static str) -> Result<DeviceTime, DecodeError> {
        let offset = self.pos;
        let raw = self.take::<7>(field)?;
        date_time::parse(raw).map_err(|problem| self.error_at(field, offset, problem))
    }

    /// Succeeds when every byte was read: bytes left over are bytes no flag explains.
    pub(super) fn end(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error_at(
                "end of value",
                self.pos,
                format!(
                    "{n} trailing byte(s) that no flag explains (the value has {} bytes)",
                    self.bytes.len()
                ),
            )),
        }
    }
}
