//! The audio side of a spectrum analyser: the latest samples of a signal in a lock-free
//! ring, for a display on another thread.
//!
//! The audio thread copies the mono sum of its output in ([`SpectrumTap::push`]: one
//! relaxed atomic store a sample, no allocation, no lock); a reader copies out the latest
//! [`FFT_SIZE`] samples ([`SpectrumTap::latest`]) and analyses them. Nothing here knows a
//! GUI: the plugins' editors own the analysis and the drawing.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// Samples per analysis: 4096, 11.7 Hz per bin at 48 kHz.
pub const FFT_SIZE: usize = 4096;
/// The ring holds two analyses' worth, so a read never meets the writer.
const RING: usize = 2 * FFT_SIZE;

/// The audio side: the latest samples of the signal, shared with the editor.
pub struct SpectrumTap {
    ring: Box<[AtomicU32]>,
    /// Samples written since the start (wraps).
    written: AtomicUsize,
    sample_rate: AtomicU32,
}

impl Default for SpectrumTap {
    fn default() -> Self {
        Self {
            ring: (0..RING).map(|_| AtomicU32::new(0)).collect(),
            written: AtomicUsize::new(0),
            sample_rate: AtomicU32::new(48_000f32.to_bits()),
        }
    }
}

impl std::fmt::Debug for SpectrumTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectrumTap")
            .field("written", &self.written.load(Ordering::Relaxed))
            .finish()
    }
}

impl SpectrumTap {
    /// Tells the editor the rate of the samples (call from `initialize`).
    pub fn set_sample_rate(&self, sample_rate: f32) {
        if sample_rate.is_finite() && sample_rate > 0.0 {
            self.sample_rate
                .store(sample_rate.to_bits(), Ordering::Relaxed);
        }
    }

    /// The rate of the samples, Hz.
    pub fn sample_rate(&self) -> f32 {
        f32::from_bits(self.sample_rate.load(Ordering::Relaxed))
    }

    /// Audio thread: appends the mono sum (the mean) of one or two equally long
    /// channels. Non-finite samples go in as silence.
    pub fn push(&self, left: &[f32], right: Option<&[f32]>) {
        let start = self.written.load(Ordering::Relaxed);
        let frames = right.map_or(left.len(), |r| r.len().min(left.len()));
        for i in 0..frames {
            let v = match right {
                Some(r) => 0.5 * (left[i] + r[i]),
                None => left[i],
            };
            let v = if v.is_finite() { v } else { 0.0 };
            self.ring[(start.wrapping_add(i)) % RING].store(v.to_bits(), Ordering::Relaxed);
        }
        self.written
            .store(start.wrapping_add(frames), Ordering::Release);
    }

    /// How many samples have been pushed since the tap was made (wrapping): what a
    /// reader can use to tell whether anything arrived.
    pub fn written(&self) -> usize {
        self.written.load(Ordering::Acquire)
    }

    /// Editor: copies the latest [`FFT_SIZE`] samples, oldest first. A block the audio
    /// thread writes meanwhile may mix in (harmless for a display).
    pub fn latest(&self, out: &mut [f32]) {
        let end = self.written.load(Ordering::Acquire);
        let n = out.len().min(FFT_SIZE);
        let first = end.wrapping_sub(n);
        for (i, v) in out[..n].iter_mut().enumerate() {
            *v = f32::from_bits(self.ring[first.wrapping_add(i) % RING].load(Ordering::Relaxed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tap_hands_over_the_latest_samples_in_order() {
        let tap = SpectrumTap::default();
        // Three analyses' worth of a ramp, in odd blocks, through a stereo push whose
        // mean is the ramp.
        let ramp: Vec<f32> = (0..3 * FFT_SIZE).map(|n| n as f32).collect();
        for block in ramp.chunks(777) {
            let right: Vec<f32> = block.iter().map(|v| v + 2.0).collect();
            let left: Vec<f32> = block.iter().map(|v| v - 2.0).collect();
            tap.push(&left, Some(&right));
        }
        let mut out = vec![0.0; FFT_SIZE];
        tap.latest(&mut out);
        assert_eq!(out, ramp[2 * FFT_SIZE..]);
        // Non-finite samples go in as silence.
        tap.push(&[f32::NAN], None);
        tap.latest(&mut out);
        assert_eq!(out[FFT_SIZE - 1], 0.0);
        assert_eq!(tap.written(), 3 * FFT_SIZE + 1);
    }
}
