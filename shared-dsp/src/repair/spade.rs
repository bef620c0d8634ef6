//! Sparsity-based declipping: S-SPADE, the synthesis-model SPADE of P. Záviška, P.
//! Rajmic, O. Mokrý and Z. Průša, "A proper version of synthesis-based sparse audio
//! declipper" (ICASSP 2019), after S. Kitić, N. Bertin and R. Gribonval, "Sparsity and
//! cosparsity for audio declipping: a flexible non-convex approach" (LVA/ICA 2015), and
//! P. Záviška, P. Rajmic, Z. Průša and V. Veselý, "Revisiting synthesis model in sparse
//! audio declipper" (LVA/ICA 2018).
//!
//! Music is sparse in frequency over a few tens of milliseconds: a frame of it is well
//! described by a few strong spectral coefficients, where the clipped frame, with its
//! flat tops, needs many. SPADE looks, frame by frame, for the sparsest spectrum whose
//! signal is *consistent* with what was recorded: equal to every reliable sample, and
//! at or beyond the clip level, with the clipped sample's sign, wherever the recording
//! clipped. The search alternates (ADMM) between keeping the `k` largest coefficients
//! (hard thresholding) and projecting back onto the consistent signals, and lets `k`
//! grow every iteration until the two agree.
//!
//! The frames are Hann-windowed, overlap by half and are analysed by a DFT scaled to be
//! a Parseval tight frame (`A = F·P / √M`: zero-padding `P` to `M ≥ N` samples and the
//! unnormalised DFT `F`, so `Aᴴ·A = I`; the papers oversample twice, `M = 2N`, which
//! the test programmes did not need: see [`SpadeConfig::for_rate`]). With a Parseval frame the
//! projection onto the coefficients whose synthesis is consistent is closed-form
//! (Rajmic, Záviška, Veselý and Mokrý, "A new generalized projection and its application
//! to acceleration of audio declipping", Axioms 2019):
//!
//! ```text
//! proj(v) = v − A·(Aᴴv − proj_Γ(Aᴴv))
//! ```
//!
//! with `proj_Γ` the sample-wise clamp onto the consistent set. Per iteration `i`:
//!
//! ```text
//! ž = H_k(ẑ + u);   ẑ = proj(ž − u);   stop if ‖ẑ − ž‖ ≤ ε;   u += ẑ − ž;   k grows
//! ```
//!
//! Each restored frame `Aᴴẑ` (consistent by construction, so its reliable samples are
//! the recording's) is overlap-added with the window as weight, `x = Σ w·r / Σ w²`,
//! which trusts each frame most at its centre, where its restoration is best.
//!
//! Only frames holding a clipped sample are solved, and only the clipped samples are
//! written.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::f64::consts::PI;
use std::ops::Range;
use std::sync::Arc;

/// How one sample of a frame is constrained.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Constraint {
    /// Known: the restored sample equals the recorded one.
    Reliable,
    /// Clipped at the top: at least the recorded value.
    AtLeast,
    /// Clipped at the bottom: at most the recorded value.
    AtMost,
}

/// S-SPADE's parameters (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpadeConfig {
    /// Frame length `N` in samples (a power of two).
    pub frame: usize,
    /// Hop between frames.
    pub hop: usize,
    /// DFT length over frame length (the frame's redundancy).
    pub redundancy: usize,
    /// Stop when `‖ẑ − ž‖` falls to this share of the frame's norm.
    pub tolerance: f64,
    /// Give up on a frame (keeping its last consistent estimate) after this many
    /// iterations.
    pub max_iterations: usize,
    /// After each iteration the sparsity grows as `k ← k + 1 + ⌊growth·k⌋`.
    pub growth: f64,
}

impl SpadeConfig {
    /// The configuration for a sample rate, each choice measured on the music declip
    /// test (2 s clipped 6 dB down, 16.0 dB SNR clipped) and a 30 s take of it:
    ///
    /// - frames of about 93 ms, the power of two nearest (4096 samples at 44.1 kHz):
    ///   1024 samples restored to 21 dB, 2048 to 31 dB, 4096 to 44 dB (with
    ///   `k ← k + 1`); the long runs of heavy clipping need the fine frequency
    ///   resolution;
    /// - a plain DFT (redundancy 1): twice oversampled restored to 43 dB, at twice the
    ///   cost;
    /// - `k` growing by a tenth each iteration, not by one: the papers' `k ← k + 1`
    ///   took about 500 iterations a frame (28 s for the 30 s take, 16.6 → 38.8 dB);
    ///   this takes about 60 (16.6 → 36.0 dB); a fifth grew too coarsely to find the
    ///   sparse solution;
    /// - 50 % overlap, not the papers' 75 %: 36.0 → 34.5 dB on the 30 s take for a
    ///   quarter less time.
    pub fn for_rate(sample_rate: f64) -> Self {
        let frame = 2f64.powf((sample_rate * 0.093).max(256.0).log2().round()) as usize;
        Self {
            frame,
            hop: frame / 2,
            redundancy: 1,
            tolerance: 1e-3,
            max_iterations: 200,
            growth: 0.1,
        }
    }
}

/// S-SPADE with its FFT plans and work buffers (allocated in `new`).
pub(crate) struct Spade {
    config: SpadeConfig,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// The analysis window, `frame` samples (periodic Hann).
    window: Vec<f64>,
    /// `1 / √M`, the scale making the transform Parseval.
    scale: f64,
    /// The windowed frame as recorded, and its constraints.
    recorded: Vec<f64>,
    constraints: Vec<Constraint>,
    /// `M` time samples (FFT input / output).
    time: Vec<f64>,
    /// `M/2 + 1` bins: the current estimate ẑ, the sparse ž, the dual u, a scratch.
    z_hat: Vec<Complex<f64>>,
    z_sparse: Vec<Complex<f64>>,
    dual: Vec<Complex<f64>>,
    spectrum: Vec<Complex<f64>>,
    magnitudes: Vec<f64>,
    scratch_forward: Vec<Complex<f64>>,
    scratch_inverse: Vec<Complex<f64>>,
    /// Overlap-add accumulators over one frame from the current frame's start:
    /// `Σ w·r` and `Σ w²`.
    sum: Vec<f64>,
    weight: Vec<f64>,
}

impl Spade {
    pub fn new(config: SpadeConfig) -> Self {
        let n = config.frame;
        let m = n * config.redundancy.max(1);
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(m);
        let inverse = planner.plan_fft_inverse(m);
        let bins = m / 2 + 1;
        let window = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
            .collect();
        Self {
            scratch_forward: forward.make_scratch_vec(),
            scratch_inverse: inverse.make_scratch_vec(),
            forward,
            inverse,
            window,
            scale: 1.0 / (m as f64).sqrt(),
            recorded: vec![0.0; n],
            constraints: vec![Constraint::Reliable; n],
            time: vec![0.0; m],
            z_hat: vec![Complex::default(); bins],
            z_sparse: vec![Complex::default(); bins],
            dual: vec![Complex::default(); bins],
            spectrum: vec![Complex::default(); bins],
            magnitudes: vec![0.0; bins],
            sum: vec![0.0; n],
            weight: vec![0.0; n],
            config,
        }
    }

    /// The frame length `N`.
    pub fn frame_len(&self) -> usize {
        self.config.frame
    }

    /// The ℓ1 norm of the spectrum of the Hann-windowed frame of `x` centred on
    /// `centre`, moved inside `x` when `x` is long enough (an abrupt start or end of
    /// the signal inside the frame would dominate the measure; shorter `x` are padded
    /// with zeros): the sparsity measure by which [`super::declip()`] chooses between
    /// two consistent restorations. `None` if the FFT failed.
    pub fn spectral_l1(&mut self, x: &[f32], centre: usize) -> Option<f64> {
        let n = self.config.frame;
        let latest = x.len().saturating_sub(n) as isize;
        let start = (centre as isize - (n / 2) as isize).min(latest).max(0);
        for (i, (t, &w)) in self.time.iter_mut().zip(&self.window).enumerate() {
            let at = start + i as isize;
            *t = if at >= 0 && (at as usize) < x.len() {
                w * x[at as usize] as f64
            } else {
                0.0
            };
        }
        self.time[n..].fill(0.0);
        self.analyse().then(|| norm_l1(&self.spectrum))
    }

    /// Restores the samples of `x` in `runs` (sorted, non-overlapping), each at least as
    /// far from zero as recorded with the same sign; writes nothing else.
    pub fn restore(&mut self, x: &mut [f32], runs: &[Range<usize>]) {
        let (n, hop) = (self.config.frame, self.config.hop);
        let Some(first) = runs.first() else {
            return;
        };
        // Frames start on a grid `j·hop − (n − hop)`, so every sample is covered by
        // `n / hop` of them; the first frame solved is the first to reach a run.
        let offset = (n - hop) as isize;
        let mut start = first_frame_reaching(first.start, n, hop, offset);
        self.sum.fill(0.0);
        self.weight.fill(0.0);
        let mut next_run = 0;
        while start < x.len() as isize {
            // Runs before this frame are done; skip to the next if none reaches it.
            while next_run < runs.len() && (runs[next_run].end as isize) <= start {
                next_run += 1;
            }
            let Some(run) = runs.get(next_run) else {
                break;
            };
            if run.start as isize >= start + n as isize {
                // Nothing clipped in this frame: nothing pending either (every frame
                // covering a clipped sample is solved), so jump to the next run.
                start = first_frame_reaching(run.start, n, hop, offset);
                self.sum.fill(0.0);
                self.weight.fill(0.0);
                continue;
            }
            self.load_frame(x, start, &runs[next_run..]);
            if self.solve_frame() {
                self.accumulate();
            }
            self.flush(x, start, &runs[next_run..]);
            start += hop as isize;
        }
    }

    /// Loads the frame at `start` (which may reach outside `x`: zeros, reliable),
    /// windowed, with the constraints of `runs` (those from the first reaching it).
    fn load_frame(&mut self, x: &[f32], start: isize, runs: &[Range<usize>]) {
        let n = self.config.frame;
        for i in 0..n {
            let t = start + i as isize;
            let v = if t >= 0 && (t as usize) < x.len() {
                x[t as usize] as f64
            } else {
                0.0
            };
            self.recorded[i] = self.window[i] * v;
            self.constraints[i] = Constraint::Reliable;
        }
        let end = start + n as isize;
        for run in runs.iter().take_while(|r| (r.start as isize) < end) {
            let lo = (run.start as isize - start).max(0) as usize;
            let hi = ((run.end as isize - start).min(n as isize)).max(0) as usize;
            for i in lo..hi {
                self.constraints[i] = if self.recorded[i] >= 0.0 {
                    Constraint::AtLeast
                } else {
                    Constraint::AtMost
                };
            }
        }
    }

    /// Runs S-SPADE on the loaded frame, leaving the consistent restoration in
    /// `self.time[..frame]`. False if an FFT failed (the frame is then skipped).
    fn solve_frame(&mut self) -> bool {
        let n = self.config.frame;
        // ẑ = A·y, u = 0.
        self.time[..n].copy_from_slice(&self.recorded);
        self.time[n..].fill(0.0);
        if !self.analyse() {
            return false;
        }
        self.z_hat.copy_from_slice(&self.spectrum);
        self.dual.fill(Complex::default());
        let epsilon = self.config.tolerance * norm(&self.z_hat);
        let mut k = 1;
        for _ in 0..self.config.max_iterations {
            // ž = H_k(ẑ + u)
            for ((s, &z), &u) in self.z_sparse.iter_mut().zip(&self.z_hat).zip(&self.dual) {
                *s = z + u;
            }
            keep_largest(&mut self.z_sparse, k, &mut self.magnitudes);
            // ẑ = proj(ž − u) = v − A·(Aᴴv − proj_Γ(Aᴴv)), v = ž − u.
            for ((s, &z), &u) in self.spectrum.iter_mut().zip(&self.z_sparse).zip(&self.dual) {
                *s = z - u;
            }
            self.z_hat.copy_from_slice(&self.spectrum);
            if !self.synthesise() {
                return false;
            }
            for i in 0..n {
                let v = self.time[i];
                self.time[i] = v - clamp(v, self.recorded[i], self.constraints[i]);
            }
            self.time[n..].fill(0.0);
            if !self.analyse() {
                return false;
            }
            for (z, &c) in self.z_hat.iter_mut().zip(&self.spectrum) {
                *z -= c;
            }
            // ‖ẑ − ž‖, then u += ẑ − ž.
            let mut gap = 0.0;
            for (i, ((u, &z), &s)) in self
                .dual
                .iter_mut()
                .zip(&self.z_hat)
                .zip(&self.z_sparse)
                .enumerate()
            {
                let d = z - s;
                gap += bin_weight(i, self.z_hat.len()) * d.norm_sqr();
                *u += d;
            }
            if gap.sqrt() <= epsilon {
                break;
            }
            k += 1 + (k as f64 * self.config.growth) as usize;
        }
        // The restoration Aᴴẑ, clamped onto the consistent set (it is consistent up to
        // rounding already).
        self.spectrum.copy_from_slice(&self.z_hat);
        if !self.synthesise() {
            return false;
        }
        for i in 0..n {
            self.time[i] = clamp(self.time[i], self.recorded[i], self.constraints[i]);
        }
        true
    }

    /// `spectrum = A·time` (destroys `time`).
    fn analyse(&mut self) -> bool {
        let ok = self
            .forward
            .process_with_scratch(
                &mut self.time,
                &mut self.spectrum,
                &mut self.scratch_forward,
            )
            .is_ok();
        self.spectrum.iter_mut().for_each(|c| *c *= self.scale);
        ok
    }

    /// `time = Aᴴ·spectrum` over all `M` samples (destroys `spectrum`; only the first
    /// `N` are the synthesis, `Pᵀ` drops the rest).
    fn synthesise(&mut self) -> bool {
        // A real signal's DC and Nyquist bins are real; rounding must not say otherwise.
        let last = self.spectrum.len() - 1;
        self.spectrum[0].im = 0.0;
        self.spectrum[last].im = 0.0;
        let ok = self
            .inverse
            .process_with_scratch(
                &mut self.spectrum,
                &mut self.time,
                &mut self.scratch_inverse,
            )
            .is_ok();
        self.time.iter_mut().for_each(|v| *v *= self.scale);
        ok
    }

    /// Adds the restored frame in `self.time` to the overlap-add accumulators.
    fn accumulate(&mut self) {
        for (i, &w) in self.window.iter().enumerate() {
            self.sum[i] += w * self.time[i];
            self.weight[i] += w * w;
        }
    }

    /// Writes the first hop of the accumulators (complete: no later frame reaches it)
    /// into the clipped samples of `x` there, and shifts the accumulators one hop on.
    fn flush(&mut self, x: &mut [f32], start: isize, runs: &[Range<usize>]) {
        let hop = self.config.hop;
        let end = start + hop as isize;
        for run in runs.iter().take_while(|r| (r.start as isize) < end) {
            let lo = (run.start as isize).max(start).max(0);
            let hi = (run.end as isize).min(end);
            for t in lo..hi {
                let i = (t - start) as usize;
                if self.weight[i] > 0.0 {
                    x[t as usize] = (self.sum[i] / self.weight[i]) as f32;
                }
            }
        }
        self.sum.copy_within(hop.., 0);
        self.weight.copy_within(hop.., 0);
        let n = self.sum.len();
        self.sum[n - hop..].fill(0.0);
        self.weight[n - hop..].fill(0.0);
    }
}

/// The start of the first frame of the grid `j·hop − offset` whose `n` samples reach
/// sample `t`.
fn first_frame_reaching(t: usize, n: usize, hop: usize, offset: isize) -> isize {
    // Frame j reaches t when j·hop − offset + n > t.
    let need = t as isize + offset - n as isize + 1;
    let j = if need <= 0 {
        0
    } else {
        (need as usize).div_ceil(hop) as isize
    };
    j * hop as isize - offset
}

/// `v` moved onto the consistent set of a sample recorded as `recorded`.
#[inline]
fn clamp(v: f64, recorded: f64, constraint: Constraint) -> f64 {
    match constraint {
        Constraint::Reliable => recorded,
        Constraint::AtLeast => v.max(recorded),
        Constraint::AtMost => v.min(recorded),
    }
}

/// The weight of half-spectrum bin `i` of `bins` in the full spectrum's energy: the DC
/// and Nyquist bins stand for themselves, every other for itself and its conjugate.
#[inline]
fn bin_weight(i: usize, bins: usize) -> f64 {
    if i == 0 || i + 1 == bins {
        1.0
    } else {
        2.0
    }
}

/// `‖z‖` of the full spectrum a half spectrum stands for.
fn norm(z: &[Complex<f64>]) -> f64 {
    z.iter()
        .enumerate()
        .map(|(i, c)| bin_weight(i, z.len()) * c.norm_sqr())
        .sum::<f64>()
        .sqrt()
}

/// `‖z‖₁` of the full spectrum a half spectrum stands for.
fn norm_l1(z: &[Complex<f64>]) -> f64 {
    z.iter()
        .enumerate()
        .map(|(i, c)| bin_weight(i, z.len()) * c.norm_sqr().sqrt())
        .sum()
}

/// Hard thresholding `H_k`: zeroes all but the `k` largest bins of `z` (ties at the
/// k-th magnitude are all kept). `magnitudes` is scratch as long as `z`.
fn keep_largest(z: &mut [Complex<f64>], k: usize, magnitudes: &mut [f64]) {
    if k >= z.len() {
        return;
    }
    for (m, c) in magnitudes.iter_mut().zip(z.iter()) {
        *m = c.norm_sqr();
    }
    let (_, &mut threshold, _) =
        magnitudes.select_nth_unstable_by(z.len() - k, |a, b| a.total_cmp(b));
    for c in z.iter_mut() {
        if c.norm_sqr() < threshold {
            *c = Complex::default();
        }
    }
}
