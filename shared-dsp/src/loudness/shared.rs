//! Handing a [`LoudnessReading`] from the audio thread to a GUI thread without locks.

use super::LoudnessReading;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Fields of a [`LoudnessReading`], in a fixed order.
const FIELDS: usize = 9;

/// The latest [`LoudnessReading`], published by one writer (the audio thread) and read
/// by any number of readers, as `f64` bit patterns in `AtomicU64`s.
///
/// A sequence counter (a seqlock) makes every [`SharedLoudness::load`] return the
/// fields of one single publication: the writer never waits (two relaxed stores and a
/// fence per field set), a reader retries while a publication is in progress. Publish
/// from one thread only; a second concurrent writer would make readers retry but can
/// never cause undefined behaviour.
#[derive(Debug)]
pub struct SharedLoudness {
    sequence: AtomicU64,
    fields: [AtomicU64; FIELDS],
}

impl SharedLoudness {
    /// A shared reading holding [`LoudnessReading::silent`].
    pub fn new() -> Self {
        let shared = Self {
            sequence: AtomicU64::new(0),
            fields: std::array::from_fn(|_| AtomicU64::new(0)),
        };
        shared.publish(&LoudnessReading::silent());
        shared
    }

    /// Stores `reading` (wait-free; call from the one writing thread).
    pub fn publish(&self, reading: &LoudnessReading) {
        let values = to_array(reading);
        let start = self.sequence.load(Ordering::Relaxed);
        // Odd while writing.
        self.sequence
            .store(start.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        for (field, value) in self.fields.iter().zip(values) {
            field.store(value.to_bits(), Ordering::Relaxed);
        }
        self.sequence
            .store(start.wrapping_add(2), Ordering::Release);
    }

    /// The most recently published reading, all fields from the same publication.
    pub fn load(&self) -> LoudnessReading {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let mut values = [0.0; FIELDS];
            for (value, field) in values.iter_mut().zip(&self.fields) {
                *value = f64::from_bits(field.load(Ordering::Relaxed));
            }
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return from_array(values);
            }
            std::hint::spin_loop();
        }
    }
}

impl Default for SharedLoudness {
    fn default() -> Self {
        Self::new()
    }
}

fn to_array(r: &LoudnessReading) -> [f64; FIELDS] {
    [
        r.momentary_lufs,
        r.short_term_lufs,
        r.integrated_lufs,
        r.momentary_max_lufs,
        r.short_term_max_lufs,
        r.lra_lu,
        r.sample_peak_dbfs,
        r.true_peak_dbtp,
        r.plr_lu,
    ]
}

fn from_array(v: [f64; FIELDS]) -> LoudnessReading {
    LoudnessReading {
        momentary_lufs: v[0],
        short_term_lufs: v[1],
        integrated_lufs: v[2],
        momentary_max_lufs: v[3],
        short_term_max_lufs: v[4],
        lra_lu: v[5],
        sample_peak_dbfs: v[6],
        true_peak_dbtp: v[7],
        plr_lu: v[8],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn round_trip_and_consistent_snapshots_across_threads() {
        let shared = Arc::new(SharedLoudness::new());
        assert_eq!(shared.load(), LoudnessReading::silent());
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for i in 0..20_000 {
                    // Every field carries the same number, so a torn read would show.
                    let v = -(i as f64);
                    shared.publish(&from_array([v; FIELDS]));
                }
            })
        };
        let initial = to_array(&LoudnessReading::silent());
        for _ in 0..20_000 {
            let values = to_array(&shared.load());
            let consistent = values == initial || values.iter().all(|&v| v == values[0]);
            assert!(consistent, "torn: {values:?}");
        }
        writer.join().unwrap();
        assert_eq!(shared.load().plr_lu, -19_999.0);
    }
}
