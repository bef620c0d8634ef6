//! Tape- and tube-like saturation, run 4× (or 2×) oversampled so that its harmonics
//! above the base-rate Nyquist frequency do not fold back as inharmonic aliases.
//!
//! Signal path per channel: oversample → `x + mix · dc_block(curve(drive · x) / comp − x)`
//! → decimate. The dry/wet mix happens at the high rate, so the dry part passes the
//! same half-band filters as the wet part: both have exactly the same phase, and a
//! parallel mix shows no comb filtering. The whole saturator is delayed by the
//! oversampler latency ([`Saturator::latency`]); when switched off it outputs the
//! input delayed by the same amount, so the latency a host sees never changes.
//!
//! Curves (both analytic, so their harmonics fall off exponentially; with the
//! oversampler's filters, every non-harmonic product of a 5 kHz tone at 12 dB of drive
//! stays about 98 dB below it):
//!
//! - tape: `tanh(x)`, symmetric, odd harmonics;
//! - tube: `(tanh(x + b) − tanh(b)) / (1 − tanh²(b))` with bias `b = 0.35`: unit slope
//!   at zero, softer on the positive side than the negative, so even harmonics appear.
//!   The DC it produces is removed by a 5 Hz one-pole high-pass on the distortion
//!   (wet minus dry) only, so the clean part keeps its low end.
//!
//! Output compensation: the saturated signal is divided by the RMS gain the curve
//! gives a sine at the reference level `r = 0.25` (−12 dBFS peak), DC excluded, so a
//! signal around −12 dBFS keeps its level at every drive, quieter ones get the clean
//! gain back, and louder ones are limited by the curve. The gains are tabulated at
//! construction every 0.5 dB of drive and interpolated. The drive is smoothed in dB,
//! the mix and on/off linearly.

use crate::db::db_to_gain;
use crate::denormal::FlushDenormals;
use crate::oversample::{Lanes, OversampleFactor, Oversampler, MAX_BLOCK_FRAMES};
use crate::sanitize::{replace_non_finite, setting_or};
use crate::smoother::{Smoother, SmoothingStyle};

/// The saturation character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaturationKind {
    /// Symmetric `tanh`: odd harmonics.
    #[default]
    Tape,
    /// Asymmetric biased `tanh`: even and odd harmonics.
    Tube,
}

/// Settings for [`Saturator`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SaturationSettings {
    /// Off outputs the input delayed by the latency (cross-faded).
    pub on: bool,
    /// Input drive into the curve, 0–24 dB.
    pub drive_db: f32,
    /// The curve.
    pub kind: SaturationKind,
    /// Wet share, 0–1 (0 = dry, 1 = fully saturated).
    pub mix: f32,
}

impl Default for SaturationSettings {
    fn default() -> Self {
        Self {
            on: true,
            drive_db: 0.0,
            kind: SaturationKind::Tape,
            mix: 1.0,
        }
    }
}

impl SaturationSettings {
    /// The drive range.
    pub const DRIVE_DB_RANGE: (f32, f32) = (0.0, 24.0);
}

/// Bias of the tube curve.
const TUBE_BIAS: f32 = 0.35;
/// The reference level whose gain the output compensation keeps (−12 dBFS).
const COMPENSATION_REFERENCE: f32 = 0.25;
/// Compensation table resolution: 0.5 dB steps over 0–24 dB.
const TABLE_STEPS_PER_DB: f32 = 2.0;
const TABLE_LEN: usize = 49;
/// Drive smoothing (in dB).
const DRIVE_RAMP_MS: f32 = 30.0;
/// Mix, curve and on/off cross-fades.
const FADE_MS: f32 = 20.0;
/// Corner of the DC blocker on the distortion.
const DC_BLOCK_HZ: f32 = 5.0;
/// Frames per parameter chunk (stack buffers, no allocation).
const PARAM_FRAMES: usize = 64;
/// Longest dry delay line (the oversampler latency is 4 or 5 samples).
const MAX_DRY_DELAY: usize = 16;

/// `tanh` as the [7/6] Lambert continued-fraction (Padé) approximant, clamped where it
/// reaches 1 (|x| = 4.9718). Error below 1e-6 for |x| ≤ 3 and 1e-4 up to the clamp;
/// odd, monotonic, and smooth (its slope at the clamp is 3.5e-4, so the kink it leaves
/// is 70 dB below the curve's own harmonics at that drive).
#[inline(always)]
pub fn fast_tanh(x: f32) -> f32 {
    let x = x.clamp(-4.971_787, 4.971_787);
    let x2 = x * x;
    let num = x * (135_135.0 + x2 * (17_325.0 + x2 * (378.0 + x2)));
    let den = 135_135.0 + x2 * (62_370.0 + x2 * (3_150.0 + 28.0 * x2));
    num / den
}

/// The tape curve.
#[inline(always)]
fn tape(x: f32) -> f32 {
    fast_tanh(x)
}

/// The tube curve: biased `tanh`, zero at zero, unit slope at zero.
#[inline(always)]
fn tube(x: f32, tanh_bias: f32, slope_inv: f32) -> f32 {
    (fast_tanh(x + TUBE_BIAS) - tanh_bias) * slope_inv
}

/// Per-frame parameters of one chunk.
struct ChunkParams {
    drive: [f32; PARAM_FRAMES],
    tape_out: [f32; PARAM_FRAMES],
    tube_out: [f32; PARAM_FRAMES],
    tube_blend: [f32; PARAM_FRAMES],
    mix: [f32; PARAM_FRAMES],
    on: [f32; PARAM_FRAMES],
}

/// Oversampled tape/tube saturation for one or two channels.
#[derive(Debug, Clone)]
pub struct Saturator {
    oversampler: Oversampler,
    settings: SaturationSettings,
    fresh: bool,
    drive_db: Smoother,
    mix: Smoother,
    tube_blend: Smoother,
    on: Smoother,
    /// Whether the oversampler ran on the previous frame (it is reset when it wakes).
    running: bool,
    dc_coef: f32,
    /// DC blocker state per lane: previous input, previous output.
    dc_x1: Lanes,
    dc_y1: Lanes,
    dry: [[f32; MAX_DRY_DELAY]; 2],
    dry_pos: usize,
    tanh_bias: f32,
    tube_slope_inv: f32,
    /// 1 / compensation gain per table step, for tape and tube.
    tape_table: [f32; TABLE_LEN],
    tube_table: [f32; TABLE_LEN],
}

impl Saturator {
    /// A saturator at `sample_rate` with the given oversampling factor (4× for the
    /// channel strip). Nothing is allocated.
    pub fn new(sample_rate: f32, factor: OversampleFactor) -> Self {
        let defaults = SaturationSettings::default();
        let oversampler = Oversampler::new(factor);
        debug_assert!(oversampler.latency() < MAX_DRY_DELAY);
        let high_rate = sample_rate.max(1.0) * factor.ratio() as f32;
        let tanh_bias = fast_tanh(TUBE_BIAS);
        Self {
            oversampler,
            settings: defaults,
            fresh: true,
            drive_db: Smoother::new(SmoothingStyle::Linear, DRIVE_RAMP_MS, sample_rate, 0.0),
            mix: Smoother::new(SmoothingStyle::Linear, FADE_MS, sample_rate, 1.0),
            tube_blend: Smoother::new(SmoothingStyle::Linear, FADE_MS, sample_rate, 0.0),
            on: Smoother::new(SmoothingStyle::Linear, FADE_MS, sample_rate, 1.0),
            running: false,
            dc_coef: 1.0 - 2.0 * std::f32::consts::PI * DC_BLOCK_HZ / high_rate,
            dc_x1: [0.0; 2],
            dc_y1: [0.0; 2],
            dry: [[0.0; MAX_DRY_DELAY]; 2],
            dry_pos: 0,
            tanh_bias,
            tube_slope_inv: 1.0 / (1.0 - tanh_bias * tanh_bias),
            tape_table: [1.0; TABLE_LEN],
            tube_table: [1.0; TABLE_LEN],
        }
        .with_compensation_tables()
    }

    /// Tabulates `1 / (AC RMS of curve(drive · r · sin) / RMS of r · sin)`.
    fn with_compensation_tables(mut self) -> Self {
        const POINTS: usize = 256;
        let r = COMPENSATION_REFERENCE;
        for step in 0..TABLE_LEN {
            let drive = db_to_gain(step as f32 / TABLE_STEPS_PER_DB);
            let mut sums = [(0.0f64, 0.0f64); 2];
            for i in 0..POINTS {
                let x = drive * r * (2.0 * std::f32::consts::PI * i as f32 / POINTS as f32).sin();
                for (k, y) in [tape(x), tube(x, self.tanh_bias, self.tube_slope_inv)]
                    .into_iter()
                    .enumerate()
                {
                    sums[k].0 += y as f64;
                    sums[k].1 += (y as f64) * (y as f64);
                }
            }
            let reference_rms = r as f64 / std::f64::consts::SQRT_2;
            let gain = |(sum, sum_sq): (f64, f64)| {
                let mean = sum / POINTS as f64;
                let rms = (sum_sq / POINTS as f64 - mean * mean).max(1e-30).sqrt();
                (reference_rms / rms) as f32
            };
            self.tape_table[step] = gain(sums[0]);
            self.tube_table[step] = gain(sums[1]);
        }
        self
    }

    /// The delay from input to output in samples; constant for a given factor.
    pub fn latency(&self) -> usize {
        self.oversampler.latency()
    }

    /// Applies new settings; the first call after `new`/`reset` jumps without ramps.
    /// Calling it again with the same settings costs one comparison.
    pub fn set_settings(&mut self, settings: &SaturationSettings) {
        if !self.fresh && *settings == self.settings {
            return;
        }
        let (lo, hi) = SaturationSettings::DRIVE_DB_RANGE;
        let drive_db = setting_or(settings.drive_db, lo, hi, 0.0);
        let mix = setting_or(settings.mix, 0.0, 1.0, 1.0);
        let blend = match settings.kind {
            SaturationKind::Tape => 0.0,
            SaturationKind::Tube => 1.0,
        };
        let on = if settings.on { 1.0 } else { 0.0 };
        if self.fresh {
            self.drive_db.reset_to(drive_db);
            self.mix.reset_to(mix);
            self.tube_blend.reset_to(blend);
            self.on.reset_to(on);
            self.fresh = false;
        } else {
            self.drive_db.set_target(drive_db);
            self.mix.set_target(mix);
            self.tube_blend.set_target(blend);
            self.on.set_target(on);
        }
        self.settings = *settings;
    }

    /// Clears all signal state (filters, dry delay); the next `set_settings` jumps.
    pub fn reset(&mut self) {
        self.oversampler.reset();
        self.dc_x1 = [0.0; 2];
        self.dc_y1 = [0.0; 2];
        self.dry = [[0.0; MAX_DRY_DELAY]; 2];
        self.dry_pos = 0;
        self.running = false;
        let settings = self.settings;
        self.fresh = true;
        self.set_settings(&settings);
    }

    /// Output gains (1 / compensation) for both curves at `drive_db`.
    #[inline]
    fn compensation(&self, drive_db: f32) -> (f32, f32) {
        let position = (drive_db * TABLE_STEPS_PER_DB).clamp(0.0, (TABLE_LEN - 1) as f32);
        let index = (position as usize).min(TABLE_LEN - 2);
        let fraction = position - index as f32;
        let lerp = |t: &[f32; TABLE_LEN]| t[index] + (t[index + 1] - t[index]) * fraction;
        (lerp(&self.tape_table), lerp(&self.tube_table))
    }

    crate::cpu::wide_build! {
        /// Processes one or two equally long channels in place.
        pub fn process(
            &mut self,
            channels: &mut [&mut [f32]],
        ) => process_avx2, process_portable
    }

    #[inline(always)]
    pub(crate) fn process_portable(&mut self, channels: &mut [&mut [f32]]) {
        let _ftz = FlushDenormals::new();
        for channel in channels.iter_mut() {
            replace_non_finite(channel);
        }
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let stereo = channels.len() >= 2;
        let mut params = ChunkParams {
            drive: [0.0; PARAM_FRAMES],
            tape_out: [0.0; PARAM_FRAMES],
            tube_out: [0.0; PARAM_FRAMES],
            tube_blend: [0.0; PARAM_FRAMES],
            mix: [0.0; PARAM_FRAMES],
            on: [0.0; PARAM_FRAMES],
        };
        let mut start = 0;
        while start < frames {
            let n = (frames - start).min(PARAM_FRAMES);
            self.fill_params(&mut params, n);
            let fully_off = params.on[..n].iter().all(|&a| a == 0.0);
            let latency = self.oversampler.latency();
            // The input frames, and the dry path delayed by `latency` frames.
            let mut io = [[0.0f32; 2]; PARAM_FRAMES];
            let mut delayed = [[0.0f32; 2]; PARAM_FRAMES];
            let io = &mut io[..n];
            let delayed = &mut delayed[..n];
            if let Some(c) = channels.first() {
                for (x, v) in io.iter_mut().zip(&c[start..start + n]) {
                    x[0] = *v;
                }
            }
            if stereo {
                for (x, v) in io.iter_mut().zip(&channels[1][start..start + n]) {
                    x[1] = *v;
                }
            }
            // Masked positions (MAX_DRY_DELAY is a power of two) need no bounds checks.
            const DRY_MASK: usize = MAX_DRY_DELAY - 1;
            const { assert!(MAX_DRY_DELAY.is_power_of_two()) };
            let mut pos = self.dry_pos & DRY_MASK;
            for (x, d) in io.iter().zip(delayed.iter_mut()) {
                let read = pos.wrapping_sub(latency) & DRY_MASK;
                *d = [self.dry[0][read], self.dry[1][read]];
                self.dry[0][pos] = x[0];
                self.dry[1][pos] = x[1];
                pos = (pos + 1) & DRY_MASK;
            }
            self.dry_pos = pos;
            if fully_off {
                self.running = false;
                io.copy_from_slice(delayed);
            } else {
                if !self.running {
                    // Waking up: start from clean filters rather than stale ones.
                    self.oversampler.reset();
                    self.dc_x1 = [0.0; 2];
                    self.dc_y1 = [0.0; 2];
                    self.running = true;
                }
                self.saturate_block(io, &params);
                for ((x, d), &on) in io.iter_mut().zip(delayed.iter()).zip(&params.on) {
                    if on != 1.0 {
                        *x = [d[0] + (x[0] - d[0]) * on, d[1] + (x[1] - d[1]) * on];
                    }
                }
            }
            if let Some(c) = channels.first_mut() {
                for (v, x) in c[start..start + n].iter_mut().zip(io.iter()) {
                    *v = x[0];
                }
            }
            if stereo {
                for (v, x) in channels[1][start..start + n].iter_mut().zip(io.iter()) {
                    *v = x[1];
                }
            }
            start += n;
        }
        if !self.oversampler.is_finite() || !self.dc_y1.iter().all(|v| v.is_finite()) {
            self.oversampler.reset();
            self.dc_x1 = [0.0; 2];
            self.dc_y1 = [0.0; 2];
        }
    }

    fn fill_params(&mut self, p: &mut ChunkParams, n: usize) {
        let steady = !self.drive_db.is_smoothing();
        if steady
            && !(self.tube_blend.is_smoothing()
                || self.mix.is_smoothing()
                || self.on.is_smoothing())
        {
            // Nothing ramps: every frame gets the value `next()` would return.
            let (tape_out, tube_out) = self.compensation(self.drive_db.current());
            p.drive[..n].fill(db_to_gain(self.drive_db.current()));
            p.tape_out[..n].fill(tape_out);
            p.tube_out[..n].fill(tube_out);
            p.tube_blend[..n].fill(self.tube_blend.current());
            p.mix[..n].fill(self.mix.current());
            p.on[..n].fill(self.on.current());
            return;
        }
        let (tape_now, tube_now) = self.compensation(self.drive_db.current());
        let drive_now = db_to_gain(self.drive_db.current());
        for i in 0..n {
            if steady {
                p.drive[i] = drive_now;
                p.tape_out[i] = tape_now;
                p.tube_out[i] = tube_now;
            } else {
                let drive_db = self.drive_db.next();
                let (tape_out, tube_out) = self.compensation(drive_db);
                p.drive[i] = db_to_gain(drive_db);
                p.tape_out[i] = tape_out;
                p.tube_out[i] = tube_out;
            }
            p.tube_blend[i] = self.tube_blend.next();
            p.mix[i] = self.mix.next();
            p.on[i] = self.on.next();
        }
    }

    /// Saturates the frames of one chunk (at most [`PARAM_FRAMES`]) through the oversampler.
    fn saturate_block(&mut self, io: &mut [Lanes], p: &ChunkParams) {
        let (tanh_bias, slope_inv, dc_coef) = (self.tanh_bias, self.tube_slope_inv, self.dc_coef);
        let dc_powers = [
            dc_coef,
            dc_coef * dc_coef,
            dc_coef * dc_coef * dc_coef,
            dc_coef * dc_coef * dc_coef * dc_coef,
        ];
        let (dc_x1, dc_y1) = (&mut self.dc_x1, &mut self.dc_y1);
        let factor = self.oversampler.factor();
        // Inlined into the oversampler's block loop, so it is compiled with whatever
        // instruction set that loop was built for (see `Oversampler::process_block`).
        self.oversampler.process_block(
            io,
            #[inline(always)]
            |first_frame, high| {
                let shape = |i: usize| Shape {
                    drive: p.drive[i],
                    tape_out: p.tape_out[i],
                    tube_out: p.tube_out[i],
                    blend: p.tube_blend[i],
                    mix: p.mix[i],
                    tanh_bias,
                    slope_inv,
                    dc_coef,
                    dc_powers,
                };
                match factor {
                    OversampleFactor::X4 => {
                        shape_frames::<4>(high, |i| shape(first_frame + i), dc_x1, dc_y1)
                    }
                    OversampleFactor::X2 => {
                        shape_frames::<2>(high, |i| shape(first_frame + i), dc_x1, dc_y1)
                    }
                }
            },
        );
    }
}

/// Shapes the high-rate frames of one oversampler chunk, `M` per base-rate frame, with
/// `shape(i)` the constants of the chunk's base-rate frame `i`. Fixed-size groups let
/// the compiler unroll and vectorise the curve. Two passes: the memoryless curve on
/// every frame (independent, so the CPU overlaps frames freely), then the DC blocker's
/// short recursion in a loop small enough to overlap as well.
#[inline(always)]
fn shape_frames<const M: usize>(
    high: &mut [Lanes],
    shape: impl Fn(usize) -> Shape,
    dc_x1: &mut Lanes,
    dc_y1: &mut Lanes,
) {
    let mut distortion = [[[0.0f32; 2]; M]; MAX_BLOCK_FRAMES];
    let (groups, _) = high.as_chunks_mut::<M>();
    for (i, (frames, e)) in groups.iter().zip(distortion.iter_mut()).enumerate() {
        *e = shape(i).distortion(frames);
    }
    for (i, (frames, e)) in groups.iter_mut().zip(distortion.iter()).enumerate() {
        shape(i).mix_blocked(frames, e, dc_x1, dc_y1);
    }
}

/// The per-frame constants of the high-rate shaping.
#[derive(Clone, Copy)]
struct Shape {
    drive: f32,
    tape_out: f32,
    tube_out: f32,
    blend: f32,
    mix: f32,
    tanh_bias: f32,
    slope_inv: f32,
    dc_coef: f32,
    /// `[R, R², R³, R⁴]` of the DC blocker's pole `R`.
    dc_powers: [f32; 4],
}

impl Shape {
    /// The distortion `curve(drive · x) − x` of the `M` high-rate frames of one
    /// base-rate frame (one branch per frame, unrolled so it runs as SIMD).
    #[inline(always)]
    fn distortion<const M: usize>(&self, frames: &[Lanes; M]) -> [Lanes; M] {
        let mut curve = [[0.0f32; 2]; M];
        let pairs = curve
            .as_flattened_mut()
            .iter_mut()
            .zip(frames.as_flattened());
        if self.blend == 0.0 {
            for (c, x) in pairs {
                *c = tape(x * self.drive) * self.tape_out - x;
            }
        } else if self.blend == 1.0 {
            for (c, x) in pairs {
                *c = tube(x * self.drive, self.tanh_bias, self.slope_inv) * self.tube_out - x;
            }
        } else {
            for (c, x) in pairs {
                let driven = x * self.drive;
                let a = tape(driven) * self.tape_out;
                let b = tube(driven, self.tanh_bias, self.slope_inv) * self.tube_out;
                *c = (a + (b - a) * self.blend) - x;
            }
        }
        curve
    }

    /// `x + mix · dc_block(e)` for the frame's `M` samples and their distortion `e`.
    ///
    /// The one-pole DC blocker `y[n] = e[n] − e[n−1] + R y[n−1]` is unrolled over the
    /// frame: `y[k] = P[k] + Rᵏ⁺¹ y[−1]`, where `P[k] = Σⱼ≤ₖ Rᵏ⁻ʲ (e[j] − e[j−1])` does
    /// not depend on the previous frame. The only recursion from frame to frame is then
    /// one multiply and add instead of `M` of them in a row.
    #[inline(always)]
    fn mix_blocked<const M: usize>(
        &self,
        frames: &mut [Lanes; M],
        distortion: &[Lanes; M],
        dc_x1: &mut Lanes,
        dc_y1: &mut Lanes,
    ) {
        let mut partial = [[0.0f32; 2]; M];
        let mut previous = *dc_x1;
        let mut acc = [0.0f32; 2];
        for (p, e) in partial.iter_mut().zip(distortion) {
            for l in 0..2 {
                acc[l] = (e[l] - previous[l]) + self.dc_coef * acc[l];
                previous[l] = e[l];
                p[l] = acc[l];
            }
        }
        *dc_x1 = previous;
        let y_before = *dc_y1;
        for ((x, p), r) in frames.iter_mut().zip(&partial).zip(&self.dc_powers) {
            for l in 0..2 {
                let blocked = p[l] + r * y_before[l];
                dc_y1[l] = blocked;
                x[l] += self.mix * blocked;
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_util::{
        assert_block_size_independent, assert_identical, assert_latency, assert_reset_reproduces,
    };

    /// Complex numbers for the test FFT.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct C(pub f64, pub f64);

    /// Recursive mixed-radix (2 and 3) decimation-in-time FFT, test use only.
    pub(crate) fn fft(x: &[C]) -> Vec<C> {
        let n = x.len();
        if n == 1 {
            return vec![x[0]];
        }
        let radix = if n.is_multiple_of(2) {
            2
        } else if n.is_multiple_of(3) {
            3
        } else {
            panic!("size {n}")
        };
        let m = n / radix;
        let subs: Vec<Vec<C>> = (0..radix)
            .map(|r| fft(&x.iter().skip(r).step_by(radix).copied().collect::<Vec<_>>()))
            .collect();
        let mut out = vec![C(0.0, 0.0); n];
        for (k, o) in out.iter_mut().enumerate() {
            let mut acc = C(0.0, 0.0);
            for (r, sub) in subs.iter().enumerate() {
                let v = sub[k % m];
                let angle = -2.0 * std::f64::consts::PI * (r * k) as f64 / n as f64;
                let (s, c) = angle.sin_cos();
                acc.0 += v.0 * c - v.1 * s;
                acc.1 += v.0 * s + v.1 * c;
            }
            *o = acc;
        }
        out
    }

    /// Magnitude spectrum (first half) of `x` under a 4-term Blackman–Harris window
    /// (side lobes −92 dB, main lobe ±4 bins).
    pub(crate) fn blackman_harris_spectrum(x: &[f32]) -> Vec<f64> {
        let n = x.len();
        let windowed: Vec<C> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let p = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
                let w = 0.35875 - 0.48829 * p.cos() + 0.14128 * (2.0 * p).cos()
                    - 0.01168 * (3.0 * p).cos();
                C(v as f64 * w, 0.0)
            })
            .collect();
        fft(&windowed)[..n / 2]
            .iter()
            .map(|c| (c.0 * c.0 + c.1 * c.1).sqrt())
            .collect()
    }

    fn sine(freq: f64, rate: f64, amplitude: f64, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|n| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * n as f64 / rate).sin()) as f32
            })
            .collect()
    }

    /// The worst non-harmonic component relative to the fundamental, in dB.
    fn worst_alias_db(kind: SaturationKind) -> (f64, f64) {
        // 12 288 = 3 · 2^12 frames: 5 kHz is bin 1280 exactly at 48 kHz.
        let n = 12_288;
        let warmup = 4096;
        let mut sat = saturator(kind, 12.0);
        let mut left = sine(5000.0, 48_000.0, 1.0, warmup + n);
        let mut right = left.clone();
        sat.process(&mut [&mut left, &mut right]);
        assert_eq!(left, right, "the two lanes are independent and identical");
        let spectrum = blackman_harris_spectrum(&left[warmup..]);
        let fundamental_bin = 1280;
        let fundamental = spectrum[fundamental_bin];
        let mut worst = f64::MIN;
        let mut second = 0.0;
        for (bin, &mag) in spectrum.iter().enumerate() {
            // Harmonics of 5 kHz (DC included) with their ±4-bin main lobes.
            let nearest =
                ((bin as f64 / fundamental_bin as f64).round() as usize) * fundamental_bin;
            if bin.abs_diff(nearest) <= 4 {
                if nearest == 2 * fundamental_bin && bin == nearest {
                    second = 20.0 * (mag / fundamental).log10();
                }
                continue;
            }
            worst = worst.max(20.0 * (mag / fundamental).log10());
        }
        (worst, second)
    }

    /// A 4× oversampled saturator at 48 kHz, on, fully wet.
    fn saturator(kind: SaturationKind, drive_db: f32) -> Saturator {
        let mut sat = Saturator::new(48_000.0, OversampleFactor::X4);
        sat.set_settings(&SaturationSettings {
            on: true,
            drive_db,
            kind,
            mix: 1.0,
        });
        sat
    }

    /// Level in dB, relative to the fundamental, of harmonic `k` of the curve `f` driven
    /// by a sine of peak `x`: its Fourier series computed numerically in f64 (4096 points
    /// over a period, exact to rounding for a smooth periodic function), with the
    /// standard library's `tanh`, not the code's approximation.
    fn predicted_harmonic_db(f: impl Fn(f64) -> f64, x: f64, k: usize) -> f64 {
        let m = 4096;
        let coefficient = |k: usize| {
            let (mut re, mut im) = (0.0, 0.0);
            for i in 0..m {
                let theta = std::f64::consts::TAU * i as f64 / m as f64;
                let y = f(x * theta.sin());
                re += y * (k as f64 * theta).cos();
                im += y * (k as f64 * theta).sin();
            }
            (re * re + im * im).sqrt()
        };
        20.0 * (coefficient(k) / coefficient(1)).log10()
    }

    /// The same, measured: harmonic `k` of a 1 kHz sine of peak `amplitude` through the
    /// saturator at 48 kHz, from a DFT over 100 whole periods after 100 ms to settle.
    fn measured_harmonic_db(kind: SaturationKind, drive_db: f32, amplitude: f64, k: usize) -> f64 {
        let mut sat = saturator(kind, drive_db);
        let mut x = sine(1000.0, 48_000.0, amplitude, 9600);
        sat.process(&mut [&mut x]);
        let tail = &x[4800..];
        let bin = |h: usize| {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, &v) in tail.iter().enumerate() {
                let phase = std::f64::consts::TAU * (h * n) as f64 / 48.0;
                re += v as f64 * phase.cos();
                im += v as f64 * phase.sin();
            }
            (re * re + im * im).sqrt()
        };
        20.0 * (bin(k) / bin(1)).log10()
    }

    #[test]
    fn harmonics_follow_the_curves_fourier_series() {
        // A −12 dBFS 1 kHz sine at 6 and 12 dB of drive: the 3rd harmonic of tape
        // (tanh) and the 2nd and 3rd of tube (biased tanh, the module notes' formula)
        // against the curves' own Fourier series. Both harmonics and the fundamental sit
        // in the oversampler's passband, the output compensation scales them alike, the
        // DC blocker (5 Hz) changes 1–3 kHz by about 1e-4 dB, and `fast_tanh` is within
        // 1e-6 of tanh here: the largest error seen is 0.002 dB. Tolerance 0.01 dB, while
        // 1 dB more drive moves every harmonic checked by 0.37 dB (the tube's 2nd at
        // 12 dB) to 2 dB, and a wrong bias or curve by more.
        let b = TUBE_BIAS as f64;
        let tape = |x: f64| x.tanh();
        let tube = |x: f64| (x + b).tanh() - b.tanh();
        for drive_db in [6.0f32, 12.0] {
            let x = 0.25 * 10f64.powf(drive_db as f64 / 20.0);
            for (kind, k, predicted) in [
                (SaturationKind::Tape, 3, predicted_harmonic_db(tape, x, 3)),
                (SaturationKind::Tube, 2, predicted_harmonic_db(tube, x, 2)),
                (SaturationKind::Tube, 3, predicted_harmonic_db(tube, x, 3)),
            ] {
                let measured = measured_harmonic_db(kind, drive_db, 0.25, k);
                assert!(
                    (measured - predicted).abs() < 0.01,
                    "{kind:?} {drive_db} dB drive, harmonic {k}: {measured:.4} dB, \
                     series {predicted:.4} dB"
                );
            }
        }
        // The symmetric curve has no even harmonics: at least 90 dB below the fundamental
        // (f32 rounding leaves them far lower).
        assert!(measured_harmonic_db(SaturationKind::Tape, 12.0, 0.25, 2) < -90.0);
    }

    #[test]
    fn tape_at_12_db_drive_has_no_alias_above_minus_80_db() {
        let (worst, second) = worst_alias_db(SaturationKind::Tape);
        assert!(worst < -80.0, "worst non-harmonic component {worst:.1} dB");
        // Symmetric curve: no even harmonics (f32 rounding keeps them near −120 dB).
        assert!(second < -90.0, "2nd harmonic {second:.1} dB");
    }

    #[test]
    fn tube_at_12_db_drive_has_no_alias_above_minus_80_db() {
        let (worst, second) = worst_alias_db(SaturationKind::Tube);
        assert!(worst < -80.0, "worst non-harmonic component {worst:.1} dB");
        // The asymmetric curve makes a clear 2nd harmonic.
        assert!(second > -40.0, "2nd harmonic {second:.1} dB");
    }

    #[test]
    fn impulse_and_dry_path_land_at_the_latency() {
        for factor in [OversampleFactor::X2, OversampleFactor::X4] {
            for (on, mix) in [(true, 0.0), (false, 1.0)] {
                let mut sat = Saturator::new(48_000.0, factor);
                sat.set_settings(&SaturationSettings {
                    on,
                    drive_db: 6.0,
                    kind: SaturationKind::Tape,
                    mix,
                });
                // A small click (linear region), band-limited so the half-band filters
                // do not ring it out of place.
                assert_latency(sat.latency(), 0.01, |x| sat.process(&mut [x]));
            }
        }
    }

    #[test]
    fn output_compensation_keeps_the_reference_level() {
        // A −12 dBFS 1 kHz sine keeps its RMS within 0.1 dB at every drive: the table is
        // built from exactly this case (0.1 dB covers its 0.5 dB-step interpolation and
        // the DC blocker's settling).
        for kind in [SaturationKind::Tape, SaturationKind::Tube] {
            for drive_db in [0.0, 6.0, 12.0, 17.3, 24.0] {
                let mut sat = saturator(kind, drive_db);
                let mut x = sine(1000.0, 48_000.0, 0.25, 9600);
                let reference: f64 = x[4800..].iter().map(|v| (*v as f64).powi(2)).sum();
                sat.process(&mut [&mut x]);
                let out: f64 = x[4800..].iter().map(|v| (*v as f64).powi(2)).sum();
                let db = 10.0 * (out / reference).log10();
                assert!(db.abs() < 0.1, "{kind:?} {drive_db} dB drive: {db:.2} dB");
            }
        }
    }

    #[test]
    fn block_size_reset_and_settings_changes_are_reproducible() {
        // Identical (bit for bit): parameters advance per frame, never per block, also
        // through the drive, mix and curve ramps after a change at frame 1500.
        let left = sine(440.0, 48_000.0, 0.8, 3000);
        let input = vec![left.clone(), left.iter().map(|v| -0.5 * v).collect()];
        let a = SaturationSettings {
            on: true,
            drive_db: 18.0,
            kind: SaturationKind::Tube,
            mix: 0.7,
        };
        let b = SaturationSettings {
            drive_db: 6.0,
            kind: SaturationKind::Tape,
            mix: 1.0,
            ..a
        };
        let process = |sat: &mut Saturator, block: &mut [&mut [f32]], start: usize| {
            sat.set_settings(if start < 1500 { &a } else { &b });
            sat.process(block);
        };
        let fresh = || {
            let mut sat = Saturator::new(44_100.0, OversampleFactor::X4);
            sat.set_settings(&a);
            sat
        };
        assert_block_size_independent(fresh, &input, &[1500], process);
        // `reset` keeps the settings in use (`b` by then): back to `a` first.
        assert_reset_reproduces(&mut fresh(), &input, &[1500], process, |sat| {
            sat.set_settings(&a);
            sat.reset();
        });
    }

    #[test]
    fn switching_kind_and_drive_does_not_click() {
        let input = sine(200.0, 48_000.0, 0.5, 9600);
        let mut sat = saturator(SaturationKind::Tape, 0.0);
        let mut out = input.clone();
        for (i, block) in out.chunks_mut(480).enumerate() {
            let s = SaturationSettings {
                on: i % 7 != 3,
                drive_db: if i % 3 == 0 { 24.0 } else { 0.0 },
                kind: if i % 2 == 0 {
                    SaturationKind::Tape
                } else {
                    SaturationKind::Tube
                },
                mix: if i % 5 == 0 { 0.2 } else { 1.0 },
            };
            sat.set_settings(&s);
            sat.process(&mut [block]);
        }
        // A 200 Hz sine of 0.5 changes by at most 0.013 per sample; through 24 dB of
        // drive its clipped edges are steeper (up to 16× the slope before limiting,
        // then divided by the 4× compensation: 0.052). A switch without a ramp would
        // jump by up to ~0.4; allow 0.08.
        let steepest = out
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(steepest < 0.08, "{steepest}");
    }

    #[test]
    fn non_finite_input_is_silence_and_leaves_no_trace() {
        // A non-finite sample must act exactly as a silent one: the block that holds
        // them and the clean block after it come out bit-identical to the same blocks
        // with zeros in their place. A NaN that reached the oversampler's or the DC
        // blocker's state would poison every later sample; one that were only masked at
        // the output would still differ in the samples around it.
        let settings = SaturationSettings {
            on: true,
            drive_db: 12.0,
            kind: SaturationKind::Tube,
            mix: 1.0,
        };
        let run = |first: &[f32]| {
            let mut sat = Saturator::new(48_000.0, OversampleFactor::X4);
            sat.set_settings(&settings);
            let mut a = first.to_vec();
            sat.process(&mut [&mut a]);
            let mut b = sine(1000.0, 48_000.0, 0.5, 2000);
            sat.process(&mut [&mut b]);
            a.extend(b);
            a
        };
        let bad = [0.5, f32::NAN, f32::INFINITY, -0.5, f32::NEG_INFINITY, 0.25];
        let silent = [0.5, 0.0, 0.0, -0.5, 0.0, 0.25];
        let (from_bad, from_silent) = (run(&bad), run(&silent));
        assert_identical(
            &[from_bad],
            std::slice::from_ref(&from_silent),
            "NaN/∞ vs silence",
        );
        // And the comparison is not vacuous: the saturator did shape the signal.
        assert!(from_silent[..6].iter().any(|&v| v != 0.0));
    }
}
