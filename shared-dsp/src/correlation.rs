//! A stereo correlation meter: how alike the two channels are, from +1 (the same
//! signal: mono) through 0 (unrelated, or one side silent) to −1 (one side inverted:
//! it cancels on a mono speaker).
//!
//! `ρ = ⟨L·R⟩ / √(⟨L²⟩·⟨R²⟩)`, each average an exponential window of
//! [`WINDOW_MS`] (the integration time of common correlation meters). The windows are
//! updated a piece at a time: over `n` samples, `y ← Rⁿ·y + (1 − R)·Σₖ Rⁿ⁻¹⁻ᵏ·xₖ` with the
//! powers of `R` tabulated, which is the per-sample one-pole `y ← R·y + (1 − R)·x`
//! regrouped (the same values to rounding, whatever the block sizes) and runs as a
//! vectorised dot product instead of three serial recursions.

use crate::sanitize::finite_sample;

/// The averaging time constant, ms.
pub const WINDOW_MS: f64 = 300.0;
/// Below this mean power (−100 dBFS) a channel counts as silent: the reading is 0.
const SILENT_POWER: f64 = 1e-10;
/// Samples per piece (the table of powers of `R`).
const PIECE: usize = 256;

/// The correlation of a stereo pair over the last [`WINDOW_MS`] or so.
#[derive(Debug, Clone)]
pub struct CorrelationMeter {
    /// `R^k` for `k` in `0..=PIECE`.
    powers: [f64; PIECE + 1],
    /// Averages of `L·R`, `L²`, `R²`.
    lr: f64,
    ll: f64,
    rr: f64,
}

impl CorrelationMeter {
    /// A meter at `sample_rate`, reading 0 until it has heard something.
    pub fn new(sample_rate: f32) -> Self {
        let fs = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate as f64
        } else {
            48_000.0
        };
        let pole = (-1000.0 / (WINDOW_MS * fs)).exp();
        let mut powers = [1.0; PIECE + 1];
        for k in 1..=PIECE {
            powers[k] = powers[k - 1] * pole;
        }
        Self {
            powers,
            lr: 0.0,
            ll: 0.0,
            rr: 0.0,
        }
    }

    /// Forgets everything heard.
    pub fn reset(&mut self) {
        (self.lr, self.ll, self.rr) = (0.0, 0.0, 0.0);
    }

    /// Takes in equally long `left` and `right` (the shorter sets the length).
    /// Non-finite samples count as silence.
    pub fn process(&mut self, left: &[f32], right: &[f32]) {
        let frames = left.len().min(right.len());
        for (l, r) in left[..frames]
            .chunks(PIECE)
            .zip(right[..frames].chunks(PIECE))
        {
            let n = l.len();
            // Weights R^(n−1−k) for sample k: the table read backwards.
            let weights = self.powers[..n].iter().rev();
            let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
            for ((&a, &b), &w) in l.iter().zip(r).zip(weights) {
                let (a, b) = (finite_sample(a) as f64, finite_sample(b) as f64);
                lr += w * (a * b);
                ll += w * (a * a);
                rr += w * (b * b);
            }
            let decay = self.powers[n];
            let gain = 1.0 - self.powers[1];
            self.lr = decay * self.lr + gain * lr;
            self.ll = decay * self.ll + gain * ll;
            self.rr = decay * self.rr + gain * rr;
        }
    }

    /// The correlation, −1 … +1; 0 while either channel is silent.
    pub fn correlation(&self) -> f32 {
        if !(self.ll > SILENT_POWER && self.rr > SILENT_POWER) {
            return 0.0;
        }
        (self.lr / (self.ll * self.rr).sqrt()).clamp(-1.0, 1.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Pcg32;

    fn noise(seed: u64, frames: usize) -> Vec<f32> {
        let mut rng = Pcg32::new(seed, 1);
        (0..frames).map(|_| 0.5 * rng.next_bipolar()).collect()
    }

    fn read(left: &[f32], right: &[f32]) -> f32 {
        let mut meter = CorrelationMeter::new(48_000.0);
        meter.process(left, right);
        meter.correlation()
    }

    #[test]
    fn mono_inverted_unrelated_and_one_sided_signals() {
        let a = noise(1, 96_000);
        let b = noise(2, 96_000);
        let inverted: Vec<f32> = a.iter().map(|x| -x).collect();
        let silent = vec![0.0; a.len()];
        // Identical and inverted channels: ±1 to f64 rounding.
        assert!((read(&a, &a) - 1.0).abs() < 1e-6);
        assert!((read(&a, &inverted) + 1.0).abs() < 1e-6);
        // Independent noise over a 300 ms window (~14 000 effective samples): the
        // estimate's spread is about 1/√14 000 ≈ 0.009; 0.05 is five of those.
        assert!(read(&a, &b).abs() < 0.05, "{}", read(&a, &b));
        // One side silent, and both: 0.
        assert_eq!(read(&a, &silent), 0.0);
        assert_eq!(read(&silent, &silent), 0.0);
        // A 90° phase shift (sine against cosine) is uncorrelated: cos 90° = 0, within
        // the window's ripple at 1 kHz (far below 0.01).
        let w = 2.0 * std::f64::consts::PI * 1000.0 / 48_000.0;
        let sine: Vec<f32> = (0..96_000).map(|n| (w * n as f64).sin() as f32).collect();
        let cosine: Vec<f32> = (0..96_000).map(|n| (w * n as f64).cos() as f32).collect();
        assert!(
            read(&sine, &cosine).abs() < 0.01,
            "{}",
            read(&sine, &cosine)
        );
    }

    #[test]
    fn pieces_match_the_per_sample_recursion_whatever_the_block_sizes() {
        // The regrouped update is the one-pole per sample: compare with it directly,
        // fed in uneven blocks: the reading is an f32 (6e-8 relative) of f64 sums that
        // differ by regrouping only (1e-12), so 1e-6 bounds it.
        let (l, r) = (noise(3, 20_000), noise(4, 20_000));
        let mix: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.7 * a + 0.3 * b).collect();
        let mut meter = CorrelationMeter::new(44_100.0);
        let pole = (-1000.0 / (WINDOW_MS * 44_100.0)).exp();
        let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
        let mut start = 0;
        for size in [1, 7, 256, 300, 1024, 13].iter().cycle() {
            let end = (start + size).min(l.len());
            meter.process(&l[start..end], &mix[start..end]);
            for (&a, &b) in l[start..end].iter().zip(&mix[start..end]) {
                let (a, b) = (a as f64, b as f64);
                lr = pole * lr + (1.0 - pole) * a * b;
                ll = pole * ll + (1.0 - pole) * a * a;
                rr = pole * rr + (1.0 - pole) * b * b;
            }
            let expected = lr / (ll * rr).sqrt();
            assert!(
                (meter.correlation() as f64 - expected).abs() < 1e-6,
                "{} vs {expected}",
                meter.correlation()
            );
            start = end;
            if start == l.len() {
                break;
            }
        }
    }

    #[test]
    fn non_finite_input_and_odd_rates_are_safe() {
        let mut meter = CorrelationMeter::new(f32::NAN);
        meter.process(&[f32::NAN, 1.0, f32::INFINITY], &[1.0, 1.0, 1.0]);
        assert!(meter.correlation().is_finite());
        meter.reset();
        assert_eq!(meter.correlation(), 0.0);
        let mut meter = CorrelationMeter::new(384_000.0);
        let a = noise(5, 4096);
        meter.process(&a, &a);
        assert!((meter.correlation() - 1.0).abs() < 1e-6);
    }
}
