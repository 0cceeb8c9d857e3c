//! No panic on any bytes: every characteristic, every 1- and 2-byte value, and pseudo-random
//! values of every length 0..=32 (the fuzz target `fuzz/fuzz_targets/ble_gatt.rs` goes on
//! from here). A decode either succeeds with finite, plausible readings or names a field and
//! an offset inside the value.

use super::{Characteristic, decode, decode_racp};
use crate::domain::ObservationValue;

/// splitmix64 (Steele, Lea, Flood 2014): deterministic, no dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in 0..n.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in 0..n as a `T` (which must hold n - 1).
    pub(super) fn pick<T: TryFrom<u64>>(&mut self, n: u64) -> T
    where
        T::Error: std::fmt::Debug,
    {
        T::try_from(self.below(n)).unwrap()
    }
}

fn check(c: Characteristic, bytes: &[u8]) {
    match decode(c, bytes) {
        Ok(d) => {
            assert_eq!(d.characteristic, c);
            for r in &d.readings {
                if let ObservationValue::Quantity(v) = r.value {
                    assert!(r.kind.plausible().contains(&v), "{c:?} {bytes:02x?}: {r:?}");
                }
                assert!(r.offset_ms <= 0);
            }
        }
        Err(e) => {
            assert_eq!(e.characteristic, c.name());
            assert!(e.offset <= bytes.len(), "{c:?} {bytes:02x?}: {e}");
        }
    }
    let _ = decode_racp(bytes);
}

#[test]
fn no_panic_on_short_values() {
    for c in Characteristic::ALL {
        check(c, &[]);
        for a in 0..=u8::MAX {
            check(c, &[a]);
            for b in 0..=u8::MAX {
                check(c, &[a, b]);
            }
        }
    }
}

#[test]
fn no_panic_on_random_values() {
    let mut rng = Rng(0x5EED);
    let mut buf = [0u8; 32];
    for c in Characteristic::ALL {
        for len in 0..=32 {
            for round in 0..400 {
                for b in buf.iter_mut().take(len) {
                    *b = rng.next().to_le_bytes()[0];
                }
                // Half the rounds set every flag bit, so the optional fields are exercised.
                if round % 2 == 0 && len > 0 {
                    buf[0] |= 0x1F;
                }
                check(c, &buf[..len]);
            }
        }
    }
}
