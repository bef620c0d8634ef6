//! What the audio thread hands the editor beyond [`ChainMeters`](crate::ChainMeters)'
//! single values: the latest stereo sample pairs for the goniometer ([`ScopeTap`]) and
//! the limiter's largest gain reduction since the editor last looked ([`PeakHold`]).
//!
//! Both are allocated once (in [`ChainMeters::default`](crate::ChainMeters), on the main
//! thread) and written with relaxed atomic stores only: no allocation, no lock. The chain
//! feeds them only while an editor is open (`ChainMeters::editor_open`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use atomic_float::AtomicF32;

/// Sample pairs the goniometer's ring holds: at 48 kHz about 43 ms, more than one frame
/// of a 30 fps display, so a frame always finds fresh pairs.
pub const SCOPE_RING: usize = 2048;

/// The latest left/right sample pairs of a stereo signal, for a vectorscope.
pub struct ScopeTap {
    /// Each pair packed as `left bits << 32 | right bits`, so a reader never sees the
    /// left of one sample with the right of another.
    ring: Box<[AtomicU64]>,
    /// Pairs written since the start (wraps).
    written: AtomicUsize,
}

impl Default for ScopeTap {
    fn default() -> Self {
        Self {
            ring: (0..SCOPE_RING).map(|_| AtomicU64::new(0)).collect(),
            written: AtomicUsize::new(0),
        }
    }
}

impl std::fmt::Debug for ScopeTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeTap")
            .field("written", &self.written())
            .finish()
    }
}

fn pack(left: f32, right: f32) -> u64 {
    let clean = |x: f32| if x.is_finite() { x } else { 0.0 };
    ((clean(left).to_bits() as u64) << 32) | clean(right).to_bits() as u64
}

fn unpack(bits: u64) -> (f32, f32) {
    (
        f32::from_bits((bits >> 32) as u32),
        f32::from_bits(bits as u32),
    )
}

impl ScopeTap {
    /// Audio thread: appends the pairs of `left` and `right` (`None`: mono, the same
    /// sample on both sides). Non-finite samples go in as silence.
    pub fn push(&self, left: &[f32], right: Option<&[f32]>) {
        let start = self.written.load(Ordering::Relaxed);
        let frames = right.map_or(left.len(), |r| r.len().min(left.len()));
        for i in 0..frames {
            let r = right.map_or(left[i], |r| r[i]);
            self.ring[start.wrapping_add(i) % SCOPE_RING]
                .store(pack(left[i], r), Ordering::Relaxed);
        }
        self.written
            .store(start.wrapping_add(frames), Ordering::Release);
    }

    /// Pairs pushed since the tap was made (wrapping).
    pub fn written(&self) -> usize {
        self.written.load(Ordering::Acquire)
    }

    /// Editor: copies the latest `out.len()` pairs (at most [`SCOPE_RING`]), oldest first.
    /// Returns how many it copied (fewer while less has been pushed). A block written
    /// meanwhile may mix in, which a display does not mind.
    pub fn latest(&self, out: &mut [(f32, f32)]) -> usize {
        let end = self.written();
        let n = out.len().min(SCOPE_RING).min(end);
        let first = end.wrapping_sub(n);
        for (i, pair) in out[..n].iter_mut().enumerate() {
            *pair = unpack(self.ring[first.wrapping_add(i) % SCOPE_RING].load(Ordering::Relaxed));
        }
        n
    }
}

/// The largest of a positive quantity (a gain reduction, dB) since the reader last took
/// it: the audio thread raises it once a block, the editor takes it once a frame, so no
/// block's peak falls between two frames.
#[derive(Debug, Default)]
pub struct PeakHold {
    value: AtomicF32,
    /// Raises since the start (wraps): tells whether anything was recorded.
    raises: AtomicUsize,
}

impl PeakHold {
    /// Audio thread: records `value` (non-finite values are ignored).
    pub fn raise(&self, value: f32) {
        if value.is_finite() {
            self.value.fetch_max(value, Ordering::Relaxed);
        }
        self.raises.fetch_add(1, Ordering::Relaxed);
    }

    /// Editor: the largest value raised since the last take (0 if none), and starts over.
    pub fn take(&self) -> f32 {
        self.value.swap(0.0, Ordering::Relaxed)
    }

    /// How many times the audio thread raised it (wrapping).
    pub fn raises(&self) -> usize {
        self.raises.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_hands_over_the_latest_pairs_in_order() {
        let tap = ScopeTap::default();
        let mut out = vec![(0.0, 0.0); 8];
        assert_eq!(tap.latest(&mut out), 0, "nothing pushed yet");
        // Three rings' worth in odd blocks: the latest pairs come back, left with its own
        // right.
        let left: Vec<f32> = (0..3 * SCOPE_RING).map(|n| n as f32).collect();
        let right: Vec<f32> = left.iter().map(|v| -v).collect();
        for (l, r) in left.chunks(333).zip(right.chunks(333)) {
            tap.push(l, Some(r));
        }
        let mut out = vec![(0.0, 0.0); SCOPE_RING + 10];
        assert_eq!(tap.latest(&mut out), SCOPE_RING);
        for (i, &(l, r)) in out[..SCOPE_RING].iter().enumerate() {
            assert_eq!(l, (2 * SCOPE_RING + i) as f32);
            assert_eq!(r, -l);
        }
        // Mono: the same sample on both sides; non-finite samples are silence.
        tap.push(&[0.5, f32::NAN], None);
        let mut last = [(9.0, 9.0); 2];
        assert_eq!(tap.latest(&mut last), 2);
        assert_eq!(last, [(0.5, 0.5), (0.0, 0.0)]);
    }

    #[test]
    fn the_peak_hold_keeps_the_largest_until_taken() {
        let hold = PeakHold::default();
        for value in [1.0, 4.5, f32::NAN, 2.0] {
            hold.raise(value);
        }
        assert_eq!(hold.raises(), 4);
        assert_eq!(hold.take(), 4.5);
        assert_eq!(hold.take(), 0.0, "taking starts over");
    }
}
