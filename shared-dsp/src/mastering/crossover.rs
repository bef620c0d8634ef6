//! Linkwitz–Riley crossovers: the three-band split of the multiband compressor and the
//! imager, and the allpass that keeps an unsplit path in phase with a split one.
//!
//! A Linkwitz–Riley filter of order `2n` is a Butterworth filter of order `n` applied
//! twice (S. Linkwitz, "Active Crossover Networks for Noncoincident Drivers", JAES 24(1),
//! 1976; R. Riley). Its low and high outputs are both −6.02 dB at the crossover and sum
//! to an allpass: for LR4, with `D(s) = s² + √2·s + 1`,
//!
//! ```text
//! LP² + HP² = (1 + s⁴)/D(s)² = (s² − √2·s + 1)/(s² + √2·s + 1)     (1 + s⁴ = D(s)·D(−s))
//! ```
//!
//! and for LR8 (Butterworth order 4, `B(s)B(−s) = 1 + s⁸`) the sum is `B(−s)/B(s)`, one
//! second-order allpass `(s² − s/Q + 1)/(s² + s/Q + 1)` per Butterworth section.
//!
//! The identity is algebraic, so it survives the bilinear transform exactly if the
//! low-pass, high-pass and allpass are all bilinear with the same pre-warped cutoff
//! (they then share one denominator). The crate's [`BiquadCoeffs::highpass`] is that
//! bilinear design; its [`BiquadCoeffs::lowpass`] is the Vicanek *matched* design whose
//! poles differ, so the crossover uses [`bilinear_lowpass`] (RBJ cookbook "LPF") instead.
//! With the sections run by the crate's [`Biquad`] (TPT SVF, `f64` state), the bands of
//! [`Crossover3`] sum to the allpass within rounding (test: flat within 0.01 dB, in
//! fact ~1e-9 dB).
//!
//! Three bands (the multiband compressor's, ordered low → high at `f1 < f2`):
//!
//! ```text
//! low  = AP(f2) · LP²(f1)        (the allpass keeps the low band in phase with the
//! mid  = LP²(f2) · HP²(f1)        split at f2 that the other two went through)
//! high = HP²(f2) · HP²(f1)
//! low + mid + high = AP(f2)·(LP²(f1) + HP²(f1)) = AP(f2)·AP(f1)
//! ```
//!
//! Crossover frequencies are smoothed logarithmically over [`FREQ_RAMP_MS`]; the
//! coefficients are recomputed every [`UPDATE_INTERVAL`] samples while they move (on a
//! fixed grid of the sample count, so the output does not depend on block sizes) and
//! never otherwise. The SVF structure keeps the state meaningful across the changes.

use super::CHUNK;
use crate::cpu::{run_widest, QuadKernel};
use crate::filter::butterworth::butterworth_q;
use crate::filter::cascade::SvfSection;
use crate::filter::simd::{F64x2, Quad};
use crate::filter::{Biquad, BiquadCoeffs, SvfCoeffs, BUTTERWORTH_Q};
use crate::smoother::{Smoother, SmoothingStyle};
use std::f64::consts::PI;

/// Default low/mid crossover, Hz (the issue's `mb_xover_low`).
pub const DEFAULT_LOW_HZ: f32 = 150.0;
/// Default mid/high crossover, Hz (the issue's `mb_xover_high`).
pub const DEFAULT_HIGH_HZ: f32 = 3000.0;
/// Lowest crossover frequency accepted.
pub const MIN_CROSSOVER_HZ: f32 = 20.0;
/// Highest crossover frequency accepted (further limited to 0.45 × the sample rate).
pub const MAX_CROSSOVER_HZ: f32 = 20_000.0;
/// Ramp of a crossover frequency change (logarithmic).
pub const FREQ_RAMP_MS: f32 = 20.0;
/// Samples between coefficient updates while a frequency moves.
pub const UPDATE_INTERVAL: usize = 16;

/// The design frequency in radians per sample, clamped exactly as the crate's
/// [`BiquadCoeffs::highpass`] clamps it (1 Hz … 0.49·fs), so the low-pass and
/// high-pass of a pair always share their denominator.
fn omega(freq_hz: f64, sample_rate: f64) -> f64 {
    let fs = if sample_rate.is_finite() && sample_rate > 2.0 {
        sample_rate
    } else {
        48_000.0
    };
    let f = if freq_hz.is_finite() { freq_hz } else { 1000.0 };
    2.0 * PI * f.clamp(1.0, 0.49 * fs) / fs
}

/// Second-order low-pass by the bilinear transform with the cutoff pre-warped (RBJ
/// "Audio EQ Cookbook", LPF): the same denominator as [`BiquadCoeffs::highpass`] at the
/// same cutoff and Q, which the Linkwitz–Riley sum needs (see the module notes).
pub fn bilinear_lowpass(cutoff_hz: f64, q: f64, sample_rate: f64) -> BiquadCoeffs {
    let w = omega(cutoff_hz, sample_rate);
    let q = if q.is_finite() {
        q.clamp(0.025, 100.0)
    } else {
        BUTTERWORTH_Q
    };
    let (sin, cos) = w.sin_cos();
    let alpha = sin / (2.0 * q);
    let a0 = 1.0 + alpha;
    let b = (1.0 - cos) / (2.0 * a0);
    BiquadCoeffs {
        b0: b,
        b1: 2.0 * b,
        b2: b,
        a1: -2.0 * cos / a0,
        a2: (1.0 - alpha) / a0,
    }
}

/// The allpass with the denominator of `c`: numerator `a2 + a1·z⁻¹ + z⁻²`, i.e. the
/// bilinear image of `D(−s)/D(s)`.
pub fn allpass_of(c: &BiquadCoeffs) -> BiquadCoeffs {
    BiquadCoeffs {
        b0: c.a2,
        b1: c.a1,
        b2: 1.0,
        a1: c.a1,
        a2: c.a2,
    }
}

/// One LR4 split point: the Butterworth low-pass and high-pass section (each used
/// twice) and the allpass their squares sum to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lr4Coeffs {
    /// Butterworth low-pass section (LR4 low-pass = this twice).
    pub lowpass: BiquadCoeffs,
    /// Butterworth high-pass section (LR4 high-pass = this twice).
    pub highpass: BiquadCoeffs,
    /// `LP² + HP²`.
    pub allpass: BiquadCoeffs,
}

impl Lr4Coeffs {
    /// The LR4 split at `freq_hz`.
    pub fn new(freq_hz: f64, sample_rate: f64) -> Self {
        let lowpass = bilinear_lowpass(freq_hz, BUTTERWORTH_Q, sample_rate);
        let highpass = BiquadCoeffs::highpass(freq_hz, BUTTERWORTH_Q, sample_rate);
        Self {
            lowpass,
            highpass,
            allpass: allpass_of(&highpass),
        }
    }

    /// LR4 low-pass magnitude in dB.
    pub fn lowpass_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        2.0 * self.lowpass.magnitude_db(freq_hz, sample_rate)
    }

    /// LR4 high-pass magnitude in dB.
    pub fn highpass_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        2.0 * self.highpass.magnitude_db(freq_hz, sample_rate)
    }
}

/// The SVF forms of an LR4 split point, converted once per update.
#[derive(Debug, Clone, Copy, Default)]
struct Lr4Svf {
    lowpass: SvfCoeffs,
    highpass: SvfCoeffs,
    allpass: SvfCoeffs,
}

impl Lr4Svf {
    fn new(freq_hz: f64, sample_rate: f64) -> Self {
        let c = Lr4Coeffs::new(freq_hz, sample_rate);
        Self {
            lowpass: SvfCoeffs::from_biquad(&c.lowpass),
            highpass: SvfCoeffs::from_biquad(&c.highpass),
            allpass: SvfCoeffs::from_biquad(&c.allpass),
        }
    }
}

/// Crossover frequencies, Hz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossoverSettings {
    /// Low/mid split, 20 Hz … 20 kHz (default 150 Hz).
    pub low_hz: f32,
    /// Mid/high split, at least `low_hz` (default 3 kHz).
    pub high_hz: f32,
}

impl Default for CrossoverSettings {
    fn default() -> Self {
        Self {
            low_hz: DEFAULT_LOW_HZ,
            high_hz: DEFAULT_HIGH_HZ,
        }
    }
}

impl CrossoverSettings {
    /// Frequencies inside `[MIN_CROSSOVER_HZ, min(MAX_CROSSOVER_HZ, 0.45·fs)]`, high ≥ low
    /// (NaN → default).
    pub fn sanitized(&self, sample_rate: f32) -> Self {
        let top = MAX_CROSSOVER_HZ
            .min(0.45 * sample_rate)
            .max(MIN_CROSSOVER_HZ);
        let clean = |v: f32, d: f32| {
            if v.is_nan() {
                d
            } else {
                v.clamp(MIN_CROSSOVER_HZ, top)
            }
        };
        let low_hz = clean(self.low_hz, DEFAULT_LOW_HZ.min(top));
        let high_hz = clean(self.high_hz, DEFAULT_HIGH_HZ.min(top)).max(low_hz);
        Self { low_hz, high_hz }
    }
}

/// Per-channel state of [`Crossover3`].
#[derive(Debug, Clone, Copy, Default)]
struct Lanes {
    low_lp: [Biquad; 2],
    low_hp: [Biquad; 2],
    high_lp: [Biquad; 2],
    high_hp: [Biquad; 2],
    /// `AP(f2)` on the low band.
    low_ap: Biquad,
    /// `AP(f1)·AP(f2)` for an unsplit path (see [`Crossover3::allpass`]).
    path_ap: [Biquad; 2],
}

/// Two filter sections in the lanes of one SIMD register, each with its own state
/// (lane 0, lane 1): the same section on both channels here, two different sections
/// in the imager. The same arithmetic as two [`Biquad`]s.
pub(crate) type StereoSection = SvfSection<F64x2>;

#[inline(always)]
fn run2(sections: &mut [StereoSection; 2], x: F64x2) -> F64x2 {
    let [a, b] = sections;
    b.run(a.run(x))
}

/// The split sections of both channels in SIMD lanes (for [`Crossover3::split_stereo`]).
#[derive(Debug, Clone, Copy, Default)]
struct StereoLanes {
    low_lp: [StereoSection; 2],
    low_hp: [StereoSection; 2],
    high_lp: [StereoSection; 2],
    high_hp: [StereoSection; 2],
    low_ap: StereoSection,
}

/// The most channels a crossover runs.
pub const MAX_CHANNELS: usize = 2;

/// A smoothed three-band LR4 crossover for up to two channels (see the module notes).
///
/// Per frame, call [`Crossover3::step`] once, then [`Crossover3::split`] (and/or
/// [`Crossover3::allpass`]) for each channel.
#[derive(Debug, Clone)]
pub struct Crossover3 {
    sample_rate: f32,
    settings: CrossoverSettings,
    low: Smoother,
    high: Smoother,
    phase: usize,
    low_svf: Lr4Svf,
    high_svf: Lr4Svf,
    lanes: [Lanes; MAX_CHANNELS],
    stereo: StereoLanes,
    /// Tests only: [`Self::split_stereo_chunk`] always takes the per-frame path.
    pub(crate) per_frame_only: bool,
    /// Tests clear it to force the portable build (the CPU is asked either way).
    pub(crate) allow_wide: bool,
}

impl Crossover3 {
    /// A crossover at rest with the default frequencies.
    pub fn new(sample_rate: f32) -> Self {
        let fs = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let s = CrossoverSettings::default().sanitized(fs);
        let smoother = |v| Smoother::new(SmoothingStyle::Logarithmic, FREQ_RAMP_MS, fs, v);
        let mut x = Self {
            sample_rate: fs,
            settings: s,
            low: smoother(s.low_hz),
            high: smoother(s.high_hz),
            phase: 0,
            low_svf: Lr4Svf::default(),
            high_svf: Lr4Svf::default(),
            lanes: [Lanes::default(); MAX_CHANNELS],
            stereo: StereoLanes::default(),
            per_frame_only: false,
            allow_wide: true,
        };
        x.update_coefficients();
        x
    }

    /// No latency (minimum-phase IIR sections).
    pub fn latency(&self) -> usize {
        0
    }

    /// The settings being approached.
    pub fn settings(&self) -> CrossoverSettings {
        self.settings
    }

    /// Clears the filter state; the frequencies jump to their targets.
    pub fn reset(&mut self) {
        self.lanes = [Lanes::default(); MAX_CHANNELS];
        self.stereo = StereoLanes::default();
        self.low.reset_to(self.settings.low_hz);
        self.high.reset_to(self.settings.high_hz);
        self.phase = 0;
        self.update_coefficients();
    }

    /// New frequencies (ramped). The same settings again cost one comparison.
    pub fn set_settings(&mut self, settings: &CrossoverSettings) {
        let s = settings.sanitized(self.sample_rate);
        if s == self.settings {
            return;
        }
        self.settings = s;
        self.low.set_target(s.low_hz);
        self.high.set_target(s.high_hz);
    }

    /// New frequencies with no ramp (before audio starts).
    pub fn set_settings_immediately(&mut self, settings: &CrossoverSettings) {
        self.settings = settings.sanitized(self.sample_rate);
        self.low.reset_to(self.settings.low_hz);
        self.high.reset_to(self.settings.high_hz);
        self.update_coefficients();
    }

    fn update_coefficients(&mut self) {
        let fs = self.sample_rate as f64;
        let low = Lr4Svf::new(self.low.current() as f64, fs);
        let high = Lr4Svf::new(self.high.current() as f64, fs);
        self.low_svf = low;
        self.high_svf = high;
        for lane in self.lanes.iter_mut() {
            for b in lane.low_lp.iter_mut() {
                b.set_svf_coeffs(low.lowpass);
            }
            for b in lane.low_hp.iter_mut() {
                b.set_svf_coeffs(low.highpass);
            }
            for b in lane.high_lp.iter_mut() {
                b.set_svf_coeffs(high.lowpass);
            }
            for b in lane.high_hp.iter_mut() {
                b.set_svf_coeffs(high.highpass);
            }
            lane.low_ap.set_svf_coeffs(high.allpass);
            lane.path_ap[0].set_svf_coeffs(low.allpass);
            lane.path_ap[1].set_svf_coeffs(high.allpass);
        }
        let st = &mut self.stereo;
        for (sections, c) in [
            (&mut st.low_lp, low.lowpass),
            (&mut st.low_hp, low.highpass),
            (&mut st.high_lp, high.lowpass),
            (&mut st.high_hp, high.highpass),
        ] {
            for sec in sections.iter_mut() {
                sec.coeffs = c.into();
            }
        }
        st.low_ap.coeffs = high.allpass.into();
    }

    /// Advances the frequency ramps by one frame (coefficients change every
    /// [`UPDATE_INTERVAL`] frames while they move). Call once per frame, before the
    /// channels' `split`/`allpass`.
    #[inline]
    pub fn step(&mut self) {
        self.step_updated();
    }

    /// Whether a frequency is still ramping (coefficients may change on the next steps).
    #[inline]
    pub(crate) fn is_smoothing(&self) -> bool {
        self.low.is_smoothing() || self.high.is_smoothing()
    }

    /// What `frames` calls of [`Self::step`] do while nothing ramps: advance the update
    /// grid (for a caller that runs a whole steady chunk at once).
    #[inline]
    pub(crate) fn skip_frames(&mut self, frames: usize) {
        debug_assert!(!self.is_smoothing());
        self.phase = (self.phase + frames) % UPDATE_INTERVAL;
    }

    /// [`Self::step`], returning whether the coefficients changed (for a caller that
    /// runs the sections of [`Self::section_coeffs`] itself).
    #[inline]
    pub(crate) fn step_updated(&mut self) -> bool {
        let update = self.phase == 0 && (self.low.is_smoothing() || self.high.is_smoothing());
        if update {
            self.low.skip(UPDATE_INTERVAL);
            self.high.skip(UPDATE_INTERVAL);
            self.update_coefficients();
        }
        self.phase += 1;
        if self.phase == UPDATE_INTERVAL {
            self.phase = 0;
        }
        update
    }

    /// The current sections: `[low LP, low HP, low AP, high LP, high HP, high AP]`
    /// (each LP/HP used twice; see [`Self::split`] and [`Self::allpass`]).
    pub(crate) fn section_coeffs(&self) -> [SvfCoeffs; 6] {
        let (l, h) = (&self.low_svf, &self.high_svf);
        [
            l.lowpass, l.highpass, l.allpass, h.lowpass, h.highpass, h.allpass,
        ]
    }

    /// Splits one sample of channel `channel` (0 or 1; larger values use channel 1) into
    /// `[low, mid, high]`.
    #[inline]
    pub fn split(&mut self, channel: usize, x: f64) -> [f64; 3] {
        let lane = &mut self.lanes[channel.min(MAX_CHANNELS - 1)];
        let low = two(&mut lane.low_lp, x);
        let rest = two(&mut lane.low_hp, x);
        let mid = two(&mut lane.high_lp, rest);
        let high = two(&mut lane.high_hp, rest);
        [lane.low_ap.process_sample(low), mid, high]
    }

    /// Splits one stereo frame into `[low, mid, high]`, each `[left, right]`: the same
    /// as [`Self::split`] on channels 0 and 1 but both channels in one SIMD register
    /// (separate state from `split`; use one or the other).
    #[inline]
    pub fn split_stereo(&mut self, x: [f64; 2]) -> [[f64; 2]; 3] {
        let st = &mut self.stereo;
        let x = F64x2::new(x[0], x[1]);
        let low = run2(&mut st.low_lp, x);
        let rest = run2(&mut st.low_hp, x);
        let mid = run2(&mut st.high_lp, rest);
        let high = run2(&mut st.high_hp, rest);
        [
            st.low_ap.run(low).to_array(),
            mid.to_array(),
            high.to_array(),
        ]
    }

    /// Splits a stereo chunk (at most [`CHUNK`] frames; `left` and `right` of equal
    /// length) into `bands[band][channel][frame]`, stepping the ramps: exactly
    /// [`Self::step`] then [`Self::split_stereo`] on every frame, with the values
    /// converted to `f32`.
    ///
    /// While no frequency ramps (the coefficients cannot change within the chunk) the
    /// frames are software pipelined: per frame the split is a chain of four sections in
    /// series, and a loop that runs one frame at a time waits on that chain's latency
    /// (the loop body is too long for the CPU to overlap frames). Iteration `i` runs
    /// section stage `k` on frame `i − k` instead, so the stages of one iteration are
    /// independent; only each section's own recursion is serial. Same operations per
    /// frame, same values (test).
    pub(crate) fn split_stereo_chunk(
        &mut self,
        left: &[f32],
        right: &[f32],
        bands: &mut [[[f32; CHUNK]; 2]; 3],
    ) {
        let len = left.len().min(right.len()).min(CHUNK);
        if self.is_smoothing() || self.per_frame_only {
            for i in 0..len {
                self.step();
                let b = self.split_stereo([left[i] as f64, right[i] as f64]);
                for k in 0..3 {
                    bands[k][0][i] = b[k][0] as f32;
                    bands[k][1][i] = b[k][1] as f32;
                }
            }
            return;
        }
        self.skip_frames(len);
        // The pipeline's fill and drain run `split_step`; its steady iterations
        // `split_steady`, in the wide build where the CPU has it. A local copy of the
        // sections, so their state can stay in registers (through `self` it would be
        // stored and reloaded around the stores into `bands`).
        const DEPTH: usize = 4;
        let mut latch = [F64x2::default(); 6];
        let mut st = self.stereo;
        let head = (DEPTH - 1).min(len);
        for i in 0..head {
            split_step(&mut st, &mut latch, left, right, bands, i, len);
        }
        if head < len {
            let kernel = SplitSteady {
                st: &mut st,
                latch: &mut latch,
                left,
                right,
                bands,
                from: head,
                len,
            };
            run_widest(kernel, self.allow_wide);
        }
        for i in len.max(head)..len + DEPTH - 1 {
            split_step(&mut st, &mut latch, left, right, bands, i, len);
        }
        self.stereo = st;
    }

    /// One sample of channel `channel` through `AP(f1)·AP(f2)`: the phase of the sum of
    /// the bands, for a path that is not split (the imager's mid signal).
    #[inline]
    pub fn allpass(&mut self, channel: usize, x: f64) -> f64 {
        let lane = &mut self.lanes[channel.min(MAX_CHANNELS - 1)];
        two(&mut lane.path_ap, x)
    }
}

/// [`split_steady`] for [`run_widest`].
struct SplitSteady<'a> {
    st: &'a mut StereoLanes,
    latch: &'a mut [F64x2; 6],
    left: &'a [f32],
    right: &'a [f32],
    bands: &'a mut [[[f32; CHUNK]; 2]; 3],
    from: usize,
    len: usize,
}

impl QuadKernel for SplitSteady<'_> {
    type Output = ();
    #[inline(always)]
    fn run<Q: Quad>(self, isa: Q::Isa) {
        let Self {
            st,
            latch,
            left,
            right,
            bands,
            from,
            len,
        } = self;
        split_steady::<Q>(isa, st, latch, left, right, bands, from, len);
    }
}

/// One iteration `i` of [`Crossover3::split_stereo_chunk`]'s pipeline, for its fill
/// and drain: stage `k` runs on frame `i − k` if that frame is in `0..len`; stages run
/// last to first so each reads what the previous iteration latched. `latch`: [0, 1]
/// the first LP/HP f1 outputs, [2, 3] the second ones (low, rest), [4, 5] the first
/// LP/HP f2 outputs on the rest.
#[inline(always)]
fn split_step(
    st: &mut StereoLanes,
    latch: &mut [F64x2; 6],
    left: &[f32],
    right: &[f32],
    bands: &mut [[[f32; CHUNK]; 2]; 3],
    i: usize,
    len: usize,
) {
    let runs = |k: usize| i >= k && i - k < len;
    let mut store = |band: usize, n: usize, v: F64x2| {
        let [l, r] = v.to_array();
        bands[band][0][n] = l as f32;
        bands[band][1][n] = r as f32;
    };
    if runs(3) {
        let mid = st.high_lp[1].run(latch[4]);
        let high = st.high_hp[1].run(latch[5]);
        store(1, i - 3, mid);
        store(2, i - 3, high);
    }
    if runs(2) {
        let (low, rest) = (latch[2], latch[3]);
        store(0, i - 2, st.low_ap.run(low));
        latch[4] = st.high_lp[0].run(rest);
        latch[5] = st.high_hp[0].run(rest);
    }
    if runs(1) {
        latch[2] = st.low_lp[1].run(latch[0]);
        latch[3] = st.low_hp[1].run(latch[1]);
    }
    if runs(0) {
        let x = F64x2::new(left[i] as f64, right[i] as f64);
        latch[0] = st.low_lp[0].run(x);
        latch[1] = st.low_hp[0].run(x);
    }
}

/// The steady iterations `from..len` of [`Crossover3::split_stereo_chunk`]'s pipeline
/// (every stage has a frame) with the LP and HP sections of each split point side by
/// side in one [`Quad`]: `[LP·L, LP·R, HP·L, HP·R]`. Iteration `i` runs stage `k` on
/// frame `i − k`, so the stages of one iteration are independent; only each section's
/// own recursion is serial. Per frame that is four quad passes and the low band's
/// allpass; the operations per lane are those of [`split_step`] (no FMA), so the
/// values are the same bit for bit in either build (test
/// `pipelined_chunks_equal_the_per_frame_split`). The state and the latches go back
/// into `st` and `latch` for the pipeline's drain.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn split_steady<Q: Quad>(
    isa: Q::Isa,
    st: &mut StereoLanes,
    latch: &mut [F64x2; 6],
    left: &[f32],
    right: &[f32],
    bands: &mut [[[f32; CHUNK]; 2]; 3],
    from: usize,
    len: usize,
) {
    let len = len.min(left.len()).min(right.len()).min(CHUNK);
    let quad = |lo: F64x2, hi: F64x2| Q::from_halves(isa, lo, hi);
    let mut s1 = SvfSection::<Q>::load(isa, &st.low_lp[0], &st.low_hp[0]);
    let mut s2 = SvfSection::<Q>::load(isa, &st.low_lp[1], &st.low_hp[1]);
    let mut s3 = SvfSection::<Q>::load(isa, &st.high_lp[0], &st.high_hp[0]);
    let mut s4 = SvfSection::<Q>::load(isa, &st.high_lp[1], &st.high_hp[1]);
    let mut low_ap = st.low_ap;
    let mut a = quad(latch[0], latch[1]);
    let mut b = quad(latch[2], latch[3]);
    let mut c = quad(latch[4], latch[5]);
    for i in from..len {
        // Stage 3 on frame i − 3: mid = lanes 0, 1, high = lanes 2, 3.
        let [mid_l, mid_r, high_l, high_r] = s4.run(c).to_f32_array();
        bands[1][0][i - 3] = mid_l;
        bands[1][1][i - 3] = mid_r;
        bands[2][0][i - 3] = high_l;
        bands[2][1][i - 3] = high_r;
        // Stage 2 on frame i − 2: the low band's allpass, the rest split at f2.
        let [low_l, low_r] = low_ap.run(b.lo()).to_array();
        bands[0][0][i - 2] = low_l as f32;
        bands[0][1][i - 2] = low_r as f32;
        let rest = b.hi();
        c = s3.run(quad(rest, rest));
        // Stages 1 and 0.
        b = s2.run(a);
        let x = F64x2::new(left[i] as f64, right[i] as f64);
        a = s1.run(quad(x, x));
    }
    s1.store(&mut st.low_lp[0], &mut st.low_hp[0]);
    s2.store(&mut st.low_lp[1], &mut st.low_hp[1]);
    s3.store(&mut st.high_lp[0], &mut st.high_hp[0]);
    s4.store(&mut st.high_lp[1], &mut st.high_hp[1]);
    st.low_ap = low_ap;
    *latch = [a.lo(), a.hi(), b.lo(), b.hi(), c.lo(), c.hi()];
}

/// One sample through two sections in series.
#[inline(always)]
pub(crate) fn two(sections: &mut [Biquad; 2], x: f64) -> f64 {
    let [a, b] = sections;
    b.process_sample(a.process_sample(x))
}

/// Order-8 Linkwitz–Riley high-pass (Butterworth order 4, twice) and its allpass
/// `B(−s)/B(s)`: the imager's "mono below" split, 48 dB/oct.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lr8Svf {
    /// The two Butterworth high-pass sections (each used twice).
    pub highpass: [SvfCoeffs; 2],
    /// The two allpass sections.
    pub allpass: [SvfCoeffs; 2],
}

impl Lr8Svf {
    /// The LR8 split at `freq_hz`.
    pub fn new(freq_hz: f64, sample_rate: f64) -> Self {
        let mut out = Self::default();
        for k in 0..2 {
            let hp = BiquadCoeffs::highpass(freq_hz, butterworth_q(4, k as u32), sample_rate);
            out.highpass[k] = SvfCoeffs::from_biquad(&hp);
            out.allpass[k] = SvfCoeffs::from_biquad(&allpass_of(&hp));
        }
        out
    }

    /// The LR8 high-pass magnitude in dB (analytic, from the designs).
    pub fn highpass_db(freq_hz: f64, cutoff_hz: f64, sample_rate: f64) -> f64 {
        (0..2)
            .map(|k| {
                2.0 * BiquadCoeffs::highpass(cutoff_hz, butterworth_q(4, k), sample_rate)
                    .magnitude_db(freq_hz, sample_rate)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f32 = 48_000.0;

    /// Complex response of a chain of biquads, from the analytic coefficients.
    fn chain(cs: &[BiquadCoeffs], f: f64, fs: f64) -> (f64, f64) {
        cs.iter().fold((1.0, 0.0), |(re, im), c| {
            let (r, i) = c.response(f, fs);
            (re * r - im * i, re * i + im * r)
        })
    }

    #[test]
    fn lr4_points_and_analytic_allpass_sum() {
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            for fc in [150.0, 1000.0, 3000.0, 12_000.0] {
                let c = Lr4Coeffs::new(fc, fs);
                // Both −6.02 dB at the crossover (exact in the bilinear design, since the
                // cutoff is pre-warped): 1e-6 dB of rounding.
                assert!((c.lowpass_db(fc, fs) + 6.0206).abs() < 1e-3, "{fc} @ {fs}");
                assert!((c.highpass_db(fc, fs) + 6.0206).abs() < 1e-3, "{fc} @ {fs}");
                // −24 dB per octave far out: two octaves above, the LR4 low-pass is about
                // −48 dB (analog: 10·log10(1 + 4^4)·2 = −48.2 dB; the bilinear pulls it
                // lower near Nyquist, so only the lower bound is asserted).
                if 4.0 * fc < 0.2 * fs {
                    assert!(c.lowpass_db(4.0 * fc, fs) < -47.0);
                    assert!(c.highpass_db(fc / 4.0, fs) < -47.0);
                }
                for k in 0..200 {
                    let f = 10.0 * (2000.0f64).powf(k as f64 / 200.0);
                    if f >= 0.5 * fs {
                        break;
                    }
                    let (lr, li) = chain(&[c.lowpass, c.lowpass], f, fs);
                    let (hr, hi) = chain(&[c.highpass, c.highpass], f, fs);
                    let (ar, ai) = c.allpass.response(f, fs);
                    // The identity LP² + HP² = AP holds exactly; 1e-9 is f64 rounding.
                    assert!((lr + hr - ar).abs() < 1e-9 && (li + hi - ai).abs() < 1e-9);
                    assert!((c.allpass.magnitude_db(f, fs)).abs() < 1e-9);
                }
            }
        }
    }

    /// Runs an impulse through the crossover and returns the three band responses.
    fn band_impulses(x: &mut Crossover3, len: usize) -> [Vec<f64>; 3] {
        let mut out = [vec![0.0; len], vec![0.0; len], vec![0.0; len]];
        for n in 0..len {
            x.step();
            let b = x.split(0, if n == 0 { 1.0 } else { 0.0 });
            for k in 0..3 {
                out[k][n] = b[k];
            }
        }
        out
    }

    /// |DFT| in dB of `h` at `f` (direct sum; h has decayed to nothing by its end).
    fn dft_db(h: &[f64], f: f64, fs: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in h.iter().enumerate() {
            let w = 2.0 * PI * f * n as f64 / fs;
            re += v * w.cos();
            im -= v * w.sin();
        }
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn bands_sum_flat_within_a_hundredth_of_a_db() {
        for (fs, low, high) in [(48_000.0f32, 150.0f32, 3000.0f32), (44_100.0, 80.0, 8000.0)] {
            let mut x = Crossover3::new(fs);
            x.set_settings_immediately(&CrossoverSettings {
                low_hz: low,
                high_hz: high,
            });
            // 8192 samples: the slowest pole (LR4 at 80 Hz) has decayed by > 300 dB.
            let bands = band_impulses(&mut x, 8192);
            let sum: Vec<f64> = (0..8192)
                .map(|n| bands[0][n] + bands[1][n] + bands[2][n])
                .collect();
            for k in 0..60 {
                let f = 20.0 * (1000.0f64).powf(k as f64 / 60.0);
                if f >= 0.49 * fs as f64 {
                    break;
                }
                let db = dft_db(&sum, f, fs as f64);
                // The issue's tolerance; the measured deviation is ~1e-9 dB.
                assert!(db.abs() < 0.01, "{fs} Hz: sum at {f:.0} Hz is {db} dB");
            }
            // Each band matches its analytic response (measured vs analytic).
            let lo = Lr4Coeffs::new(low as f64, fs as f64);
            let hi = Lr4Coeffs::new(high as f64, fs as f64);
            for f in [50.0, 150.0, 1000.0, 3000.0, 10_000.0] {
                let fsd = fs as f64;
                let want = [
                    lo.lowpass_db(f, fsd),
                    hi.lowpass_db(f, fsd) + lo.highpass_db(f, fsd),
                    hi.highpass_db(f, fsd) + lo.highpass_db(f, fsd),
                ];
                for k in 0..3 {
                    let got = dft_db(&bands[k], f, fsd);
                    // 1e-3 dB where the band is above −60 dB: the measured response is
                    // the same rational function, up to truncation (−300 dB).
                    if want[k] > -60.0 {
                        assert!((got - want[k]).abs() < 1e-3, "band {k} at {f}: {got}");
                    }
                }
            }
        }
    }

    #[test]
    fn pipelined_chunks_equal_the_per_frame_split() {
        // Steady chunks take the pipelined path, ramps the per-frame one; both must be
        // `step` + `split_stereo` exactly, for chunks shorter than the pipeline too, in
        // the wide build (where the CPU has it) and in the portable one alike.
        let x: Vec<f32> = (0..12_000u32)
            .map(|n| ((n.wrapping_mul(2_654_435_761) >> 8) as f32 / 8_388_608.0) - 1.0)
            .collect();
        let y: Vec<f32> = x.iter().rev().copied().collect();
        let mut wide = Crossover3::new(FS);
        let mut portable = Crossover3::new(FS);
        portable.allow_wide = false;
        let mut slow = Crossover3::new(FS);
        slow.per_frame_only = true;
        let mut out = [(); 3].map(|_| Box::new([[[0.0f32; CHUNK]; 2]; 3]));
        let mut pos = 0;
        for (k, len) in [512usize, 1, 3, 200, 2, 511].iter().cycle().enumerate() {
            if pos >= x.len() {
                break;
            }
            let end = (pos + len).min(x.len());
            for (xo, o) in [&mut wide, &mut portable, &mut slow]
                .into_iter()
                .zip(&mut out)
            {
                if k % 9 == 4 {
                    xo.set_settings(&CrossoverSettings {
                        low_hz: 100.0 + 20.0 * k as f32,
                        high_hz: 2_000.0 + 300.0 * k as f32,
                    });
                }
                xo.split_stereo_chunk(&x[pos..end], &y[pos..end], o);
            }
            for band in 0..3 {
                for c in 0..2 {
                    let want = &out[2][band][c][..end - pos];
                    assert_eq!(&out[0][band][c][..end - pos], want, "wide, at {pos}");
                    assert_eq!(&out[1][band][c][..end - pos], want, "portable, at {pos}");
                }
            }
            pos = end;
        }
    }

    #[test]
    fn allpass_path_equals_the_band_sum() {
        let mut x = Crossover3::new(FS);
        let mut state = 1u32;
        for _ in 0..4000 {
            x.step();
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let v = (state >> 8) as f64 / (1u32 << 24) as f64 - 0.5;
            let b = x.split(0, v);
            let a = x.allpass(0, v);
            // Same rational function through different sections: rounding only.
            assert!((b[0] + b[1] + b[2] - a).abs() < 1e-9);
        }
    }

    #[test]
    fn frequency_sweep_stays_bounded_and_settles() {
        let mut x = Crossover3::new(FS);
        let mut peak = 0.0f64;
        for n in 0..48_000 {
            if n % 2400 == 0 {
                let k = (n / 2400) as f32;
                x.set_settings(&CrossoverSettings {
                    low_hz: 40.0 + 30.0 * k,
                    high_hz: 20_000.0 - 900.0 * k,
                });
            }
            x.step();
            let v = if (n / 37) % 2 == 0 { 1.0 } else { -1.0 };
            let b = x.split(1, v);
            peak = peak.max(b.iter().fold(0.0f64, |m, s| m.max(s.abs())));
        }
        // A full-scale square through LR4 bands overshoots a little (≈ 1.3); 4 allows for
        // modulation but catches any instability.
        assert!(peak < 4.0, "{peak}");
    }
}
