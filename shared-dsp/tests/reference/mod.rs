//! An independent 16× true-peak meter and hostile test programmes for the ceiling tests
//! of the true-peak limiter (`shared-dsp/src/mastering/limiter/ceiling_tests.rs`) and of the mastering
//! chain (`plugins/mastering-chain/tests/ceiling.rs`, which includes this file by path).
//!
//! Nothing here uses the crate: the meter is written from the textbook definition of
//! band-limited reconstruction, `x(t) = Σ x[k]·sinc(t − k)`, in `f64` and unfolded, so
//! it cannot share a fault with the limiter's detector (`f32`, folded, another window)
//! or the crate's BS.1770 meter.
//!
//! # The meter
//!
//! Two stages of Kaiser-windowed sincs (cut-off at half the rate), in `f64`:
//!
//! 1. **2×**: the value half-way between every two samples, from
//!    [`STAGE1_HALF_WIDTH`] = 64 samples on each side (128 taps), β = 12: every
//!    half-sample value of content up to 0.47·fs within 5e-6 of the ideal (4e-5 dB),
//!    so images from 0.53·fs on are more than 110 dB down; −6 dB at fs/2 (test
//!    `reference_filters_meet_their_specification`). That is an ideal reconstruction
//!    for everything below 0.47·fs. Content between 0.47·fs and fs/2 is
//!    read as this filter reconstructs it, which is steeper than a DAC's (pass band to
//!    0.4535·fs) or BS.1770's interpolator (0.45·fs). No finite filter reads that last
//!    band "right": for full-band white noise the reading keeps rising with the length
//!    (noise and hat-heavy programmes limited to −1 dBTP by this meter read up to 0.3 dB
//!    higher with 256 taps, 0.6 dB with 512), so the promise is stated against this one.
//! 2. **8× of the 2× signal** (16× in all): the signal is now below 0.27 of its rate and
//!    its images above 0.73, so a short windowed sinc ([`STAGE2_HALF_WIDTH`] = 8, β = 12)
//!    is as accurate: within 5e-5 (4e-4 dB) to 0.27 of its rate.
//!
//! The meter returns the largest absolute value of the samples and of the 15 points
//! between each two (the 16× grid, as the promise is stated).
//!
//! For speed (these tests run in debug builds), the second stage runs only where a 2×
//! value within ±2 input samples reaches half the largest 2× value: at 2× the signal
//! lies below half its rate, where a peak cannot rise 6 dB above all of its neighbouring
//! samples.
//!
//! Values are computed only where the whole first-stage filter lies inside the signal:
//! the ends of a slice are cuts, not part of the programme.

// Not every test file uses every function here.
#![allow(dead_code)]

use std::f64::consts::PI;

/// Input samples on each side of the first stage's half-sample point.
pub const STAGE1_HALF_WIDTH: usize = 64;
/// 2× samples on each side of the second stage's points.
pub const STAGE2_HALF_WIDTH: usize = 8;
/// Kaiser β of both stages (a window side lobe near −120 dB).
pub const BETA: f64 = 12.0;

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    for k in 1..300 {
        term *= (x / (2.0 * k as f64)).powi(2);
        sum += term;
        if term < 1e-18 * sum {
            break;
        }
    }
    sum
}

/// Taps `t[j]`, `j = 0 … 2·half − 1`, for the point `frac` (0 < frac < 1) after sample
/// `n`: `value = Σ t[j]·s[n − half + 1 + j]`. A Kaiser-windowed ideal reconstruction
/// (`sinc` with its cut-off at half the rate of `s`), the window reaching zero `half`
/// samples from the point; normalised to unity DC gain.
pub fn fractional_taps(frac: f64, half: usize, beta: f64) -> Vec<f64> {
    let mut taps: Vec<f64> = (0..2 * half)
        .map(|j| {
            let u = j as f64 - (half as f64 - 1.0) - frac; // sample position − point
            let r = u / half as f64;
            let window = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta);
            let sinc = if u == 0.0 {
                1.0
            } else {
                (PI * u).sin() / (PI * u)
            };
            window * sinc
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= sum);
    taps
}

/// The largest error of `taps` (for the point `frac`, `half` a side) as a fractional
/// delay, `|Σ t_j·e^{i2πf·u_j} − 1|` over frequencies `0 … f_max` (cycles per sample):
/// the error of every interpolated value of a sine, relative to its amplitude.
pub fn fractional_delay_error(taps: &[f64], frac: f64, half: usize, f_max: f64) -> f64 {
    let mut worst = 0.0f64;
    for k in 0..=1000 {
        let f = f_max * k as f64 / 1000.0;
        let (mut re, mut im) = (0.0, 0.0);
        for (j, &t) in taps.iter().enumerate() {
            let w = 2.0 * PI * f * (j as f64 - (half as f64 - 1.0) - frac);
            re += t * w.cos();
            im += t * w.sin();
        }
        worst = worst.max(((re - 1.0).powi(2) + im * im).sqrt());
    }
    worst
}

/// The reference meter (see the module docs).
pub struct ReferenceMeter {
    half1: usize,
    stage1: Vec<f64>,
    stage2: Vec<Vec<f64>>,
}

impl Default for ReferenceMeter {
    fn default() -> Self {
        Self::new()
    }
}

impl ReferenceMeter {
    /// The meter's filters.
    pub fn new() -> Self {
        Self::with_stage1(STAGE1_HALF_WIDTH, BETA)
    }

    /// A meter whose first stage has `half` taps each side and Kaiser `beta`.
    pub fn with_stage1(half: usize, beta: f64) -> Self {
        Self {
            half1: half,
            stage1: fractional_taps(0.5, half, beta),
            stage2: (1..8)
                .map(|p| fractional_taps(p as f64 / 8.0, STAGE2_HALF_WIDTH, BETA))
                .collect(),
        }
    }

    /// The signal at 2×: `x[n]` at even and the half-sample values at odd indices, for
    /// the samples where the first stage lies inside `x` (index 0 is sample
    /// `STAGE1_HALF_WIDTH − 1`).
    pub fn upsample_2x(&self, x: &[f32]) -> Vec<f64> {
        let h = self.half1;
        let mut out = Vec::with_capacity(2 * x.len());
        for n in h - 1..x.len().saturating_sub(h) {
            out.push(x[n] as f64);
            let window = &x[n + 1 - h..=n + h];
            let mut acc = 0.0;
            for (&t, &v) in self.stage1.iter().zip(window) {
                acc += t * v as f64;
            }
            out.push(acc);
        }
        out
    }

    /// The largest absolute value of `x` at 16× (see the module docs), as an amplitude.
    pub fn true_peak(&self, x: &[f32]) -> f64 {
        let sample_peak = x.iter().fold(0.0f64, |m, &v| m.max(v.abs() as f64));
        let z = self.upsample_2x(x);
        let mut peak = z.iter().fold(sample_peak, |m, &v| m.max(v.abs()));
        let zmax = z.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
        let floor = 0.5 * zmax;
        let h = STAGE2_HALF_WIDTH;
        for m in h - 1..z.len().saturating_sub(h) {
            let near = z[m.saturating_sub(4)..(m + 5).min(z.len())]
                .iter()
                .any(|v| v.abs() >= floor);
            if !near {
                continue;
            }
            let window = &z[m + 1 - h..=m + h];
            for taps in &self.stage2 {
                let mut acc = 0.0;
                for (&t, &v) in taps.iter().zip(window) {
                    acc += t * v;
                }
                peak = peak.max(acc.abs());
            }
        }
        peak
    }

    /// [`Self::true_peak`] of several channels, in dBTP.
    pub fn true_peak_db(&self, channels: &[&[f32]]) -> f64 {
        let peak = channels
            .iter()
            .fold(0.0f64, |m, c| m.max(self.true_peak(c)));
        20.0 * peak.max(1e-30).log10()
    }
}

/// A seedable generator for the programmes (SplitMix64, Steele, Lea and Flood 2014).
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

/// Gaussian white noise of standard deviation `sd`.
pub fn gaussian_noise(frames: usize, sd: f64, seed: u64) -> Vec<f32> {
    let mut r = SplitMix(seed);
    (0..frames).map(|_| (sd * r.gaussian()) as f32).collect()
}

/// A dense music-like programme with loud top octaves: a kick (55 Hz with a pitch drop)
/// on every beat at 128 bpm, a bass line (sawtooth partials up to 6 kHz), hi-hats on
/// the sixteenths (twice-differenced noise: rising 12 dB/octave to fs/2) and an open
/// hat on the off-beats, over a white-noise bed; `hats` scales the hi-hats. Scaled so
/// that its sample peak is `peak`.
pub fn dense_programme(frames: usize, fs: f64, peak: f32, hats: f64, seed: u64) -> Vec<f32> {
    let mut r = SplitMix(seed);
    let beat = 60.0 / 128.0;
    let bass_notes = [41.2, 41.2, 49.0, 55.0, 36.7, 41.2, 61.7, 55.0];
    let (mut n1, mut n2) = (0.0, 0.0);
    let mut out: Vec<f64> = (0..frames)
        .map(|i| {
            let t = i as f64 / fs;
            let tb = t % beat;
            let kick = (-tb * 14.0).exp()
                * (2.0 * PI * (50.0 * tb + 90.0 * (1.0 - (-tb * 35.0).exp()) / 35.0)).sin();
            let f0 = bass_notes[((t / (beat / 2.0)) as usize) % bass_notes.len()];
            let mut bass = 0.0;
            let mut k = 1.0;
            while k * f0 < 6000.0 {
                bass += (2.0 * PI * k * f0 * t).sin() / k;
                k += 1.0;
            }
            let white = r.gaussian();
            let d1 = white - n1;
            let d2 = d1 - n2;
            n1 = white;
            n2 = d1;
            let t16 = t % (beat / 4.0);
            let closed = (-t16 * 90.0).exp() * 0.5 * d2;
            let t8 = (t + beat / 2.0) % beat;
            let open = (-t8 * 9.0).exp() * 0.25 * d1;
            let bed = 0.12 * r.gaussian();
            1.0 * kick + 0.35 * bass + hats * (closed + open) + bed
        })
        .collect();
    let max = out.iter().fold(0.0f64, |m, &v| m.max(v.abs()));
    out.iter_mut().for_each(|v| *v *= peak as f64 / max);
    out.into_iter().map(|v| v as f32).collect()
}
