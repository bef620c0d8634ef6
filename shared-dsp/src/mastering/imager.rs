//! Stereo imager: width per band and "mono below", in mid/side.
//!
//! With `M = (L+R)/2` and `S = (L−R)/2`:
//!
//! - the side signal is split by the same [`Crossover3`] as the multiband compressor
//!   (LR4 at the two crossover frequencies) and each band is scaled by its width
//!   (0 % = mono, 100 % = unchanged, 200 % = twice the side level);
//! - the mid signal is not split but goes through the crossover's allpass
//!   `AP(f1)·AP(f2)`, which is exactly the phase the summed side bands have. At 100 %
//!   on every band the output is therefore `AP(L), AP(R)`: the image is untouched and
//!   the magnitude response flat (test: within 0.01 dB);
//! - **mono below** `f` (20 … 300 Hz): the side signal is high-passed by an
//!   order-8 Linkwitz–Riley high-pass at `f` (48 dB/oct, [`Lr8Svf`]) and the mid goes
//!   through the matching allpass, so above `f` the image is the 100 % image again
//!   (`LP⁸` is negligible: −0.0001 dB of side at 4·f). Below `f` the side falls at
//!   48 dB/oct: `L − R` is 100 dB below the input's side at `0.237·f` and lower
//!   (28 Hz for `f` = 120 Hz; an IIR cannot make it exact right under `f`, and a
//!   steeper slope would ring; 48 dB/oct is what mastering mono-makers use).
//!
//! Widths are smoothed linearly, frequencies logarithmically ([`FREQ_RAMP_MS`]); turning
//! mono below on or off, and the imager on or off, cross-fade over [`SWITCH_FADE_MS`].
//! A mono input passes untouched. No latency.

use super::crossover::{
    Crossover3, CrossoverSettings, Lr8Svf, StereoSection, DEFAULT_HIGH_HZ, DEFAULT_LOW_HZ,
};
use super::CHUNK;
use crate::cpu::{run_widest, QuadKernel};
use crate::filter::cascade::SvfSection;
use crate::filter::simd::{F64x2, Quad};
use crate::filter::svf::SvfCoeffs2;
use crate::filter::Biquad;
use crate::sanitize::replace_non_finite;
use crate::smoother::{Smoother, SmoothingStyle};

pub use super::crossover::FREQ_RAMP_MS;
/// Cross-fade of the on and mono-below switches.
pub const SWITCH_FADE_MS: f32 = 10.0;
/// Width ramp.
pub const WIDTH_RAMP_MS: f32 = 20.0;
/// Lowest "mono below" frequency.
pub const MIN_MONO_HZ: f32 = 20.0;
/// Highest "mono below" frequency.
pub const MAX_MONO_HZ: f32 = 300.0;
/// Samples between coefficient updates of the mono-below filters while they move.
const UPDATE_INTERVAL: usize = 16;

/// Imager settings (the issue's `img_*`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImagerSettings {
    /// Imager on (off cross-fades to the input).
    pub on: bool,
    /// Low/mid crossover, Hz (the multiband's `mb_xover_low`).
    pub low_hz: f32,
    /// Mid/high crossover, Hz (the multiband's `mb_xover_high`).
    pub high_hz: f32,
    /// Width of the low, mid and high band, 0 … 200 %.
    pub widths_percent: [f32; 3],
    /// Mono below this frequency (20 … 300 Hz); `None` = off.
    pub mono_below_hz: Option<f32>,
}

impl Default for ImagerSettings {
    fn default() -> Self {
        Self {
            on: true,
            low_hz: DEFAULT_LOW_HZ,
            high_hz: DEFAULT_HIGH_HZ,
            widths_percent: [100.0; 3],
            mono_below_hz: None,
        }
    }
}

/// Two sections in one SIMD register (the crossover's type).
type Pair = StereoSection;

/// The imager's 17 sections per frame, run two at a time where they do not depend on
/// each other (9 register passes; lanes as named, `(lane 0 | lane 1)`):
///
/// ```text
/// split:  (LP f1 | HP f1) ×2 on S,  (LP f2 | HP f2) ×2 on the rest,
/// tail:   (AP f2 on low band | AP f1 on M)
/// mono:   (HP₈ 1st | AP f2 on M), (HP₈ 2nd | mono AP 1st), (HP₈ 3rd | mono AP 2nd), HP₈ 4th
/// ```
///
/// The crossover's own sections are not used (its coefficients are); the values are
/// those of [`Crossover3::split`], [`Crossover3::allpass`] and the mono filters run one
/// by one (bit for bit: same operations per lane).
#[derive(Debug, Clone, Copy, Default)]
struct Sections {
    split: [Pair; 4],
    tail: Pair,
    mono: [Pair; 3],
    last: Biquad,
}

/// The stereo imager (see the module notes).
#[derive(Debug, Clone)]
pub struct StereoImager {
    sample_rate: f32,
    settings: ImagerSettings,
    crossover: Crossover3,
    widths: [Smoother; 3],
    on: Smoother,
    mono_mix: Smoother,
    mono_freq: Smoother,
    mono_phase: usize,
    /// The mono-below sections (side high-pass, mid allpass).
    mono_svf: Lr8Svf,
    sections: Sections,
    idle: bool,
    /// Tests only: always take the per-frame path (to compare the pipelined one with it).
    per_frame_only: bool,
    /// Tests clear it to force the portable build (the CPU is asked either way).
    allow_wide: bool,
}

impl StereoImager {
    /// An imager at rest, default settings (100 % everywhere, mono below off).
    pub fn new(sample_rate: f32) -> Self {
        let fs = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let lin = |ms, v| Smoother::new(SmoothingStyle::Linear, ms, fs, v);
        let mut im = Self {
            sample_rate: fs,
            settings: ImagerSettings::default(),
            crossover: Crossover3::new(fs),
            widths: std::array::from_fn(|_| lin(WIDTH_RAMP_MS, 1.0)),
            on: lin(SWITCH_FADE_MS, 1.0),
            mono_mix: lin(SWITCH_FADE_MS, 0.0),
            mono_freq: Smoother::new(SmoothingStyle::Logarithmic, FREQ_RAMP_MS, fs, 120.0),
            mono_phase: 0,
            mono_svf: Lr8Svf::default(),
            sections: Sections::default(),
            idle: false,
            per_frame_only: false,
            allow_wide: true,
        };
        im.update_mono_filters();
        im
    }

    /// No latency.
    pub fn latency(&self) -> usize {
        0
    }

    /// Clears the signal state; ramps jump to their targets.
    pub fn reset(&mut self) {
        self.crossover.reset();
        for s in
            self.widths
                .iter_mut()
                .chain([&mut self.on, &mut self.mono_mix, &mut self.mono_freq])
        {
            s.reset_to(s.target());
        }
        self.reset_sections();
        self.mono_phase = 0;
        self.update_mono_filters();
        self.idle = false;
    }

    /// Applies settings with no ramps (before audio starts).
    pub fn set_settings_immediately(&mut self, settings: &ImagerSettings) {
        self.set_settings(settings);
        self.reset();
    }

    /// Applies settings (ramped). The same settings again cost one comparison.
    pub fn set_settings(&mut self, settings: &ImagerSettings) {
        if *settings == self.settings {
            return;
        }
        self.settings = *settings;
        self.crossover.set_settings(&CrossoverSettings {
            low_hz: settings.low_hz,
            high_hz: settings.high_hz,
        });
        for (w, &p) in self.widths.iter_mut().zip(&settings.widths_percent) {
            let p = if p.is_nan() {
                100.0
            } else {
                p.clamp(0.0, 200.0)
            };
            w.set_target(p / 100.0);
        }
        self.on.set_target(if settings.on { 1.0 } else { 0.0 });
        match settings.mono_below_hz.filter(|f| !f.is_nan()) {
            Some(f) => {
                let f = f.clamp(MIN_MONO_HZ, MAX_MONO_HZ);
                if self.mono_mix.current() == 0.0 && !self.mono_mix.is_smoothing() {
                    // Fading in from off: start at the new frequency, no sweep.
                    self.mono_freq.reset_to(f);
                    self.update_mono_filters();
                } else {
                    self.mono_freq.set_target(f);
                }
                self.mono_mix.set_target(1.0);
            }
            None => self.mono_mix.set_target(0.0),
        }
    }

    fn update_mono_filters(&mut self) {
        self.mono_svf = Lr8Svf::new(self.mono_freq.current() as f64, self.sample_rate as f64);
        self.update_sections();
    }

    /// Loads the current crossover and mono-below coefficients into the sections.
    fn update_sections(&mut self) {
        let [low_lp, low_hp, low_ap, high_lp, high_hp, high_ap] = self.crossover.section_coeffs();
        let m = &self.mono_svf;
        let s = &mut self.sections;
        s.split[0].coeffs = SvfCoeffs2::pair(low_lp, low_hp);
        s.split[1].coeffs = SvfCoeffs2::pair(low_lp, low_hp);
        s.split[2].coeffs = SvfCoeffs2::pair(high_lp, high_hp);
        s.split[3].coeffs = SvfCoeffs2::pair(high_lp, high_hp);
        s.tail.coeffs = SvfCoeffs2::pair(high_ap, low_ap);
        s.mono[0].coeffs = SvfCoeffs2::pair(m.highpass[0], high_ap);
        s.mono[1].coeffs = SvfCoeffs2::pair(m.highpass[0], m.allpass[0]);
        s.mono[2].coeffs = SvfCoeffs2::pair(m.highpass[1], m.allpass[1]);
        s.last.set_svf_coeffs(m.highpass[1]);
    }

    /// Clears the state of every section.
    fn reset_sections(&mut self) {
        let s = &mut self.sections;
        s.split.iter_mut().for_each(Pair::reset);
        s.tail.reset();
        s.mono.iter_mut().for_each(Pair::reset);
        s.last.reset();
    }

    /// Clears the mono-below sections only (lane 0 of the first mono pair is the
    /// path allpass, which keeps running).
    fn reset_mono_sections(&mut self) {
        let s = &mut self.sections;
        s.mono[0].reset_lane0();
        s.mono[1].reset();
        s.mono[2].reset();
        s.last.reset();
    }

    /// Processes a stereo pair in place (fewer than two channels pass untouched; the
    /// shorter channel sets the length). Non-finite samples become silence.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &ImagerSettings) {
        let _ftz = crate::denormal::FlushDenormals::new();
        self.set_settings(settings);
        let [left, right, ..] = channels else {
            return;
        };
        let frames = left.len().min(right.len());
        if !self.on.is_smoothing() && self.on.current() == 0.0 {
            if !self.idle {
                self.crossover.reset();
                self.reset_sections();
                self.update_sections();
                self.idle = true;
            }
            return;
        }
        self.idle = false;
        let (left, right) = (&mut left[..frames], &mut right[..frames]);
        replace_non_finite(left);
        replace_non_finite(right);
        for (l, r) in left.chunks_mut(CHUNK).zip(right.chunks_mut(CHUNK)) {
            self.run_chunk(l, r);
        }
    }

    fn run_chunk(&mut self, left: &mut [f32], right: &mut [f32]) {
        let steady = !self.widths.iter().any(Smoother::is_smoothing)
            && !self.on.is_smoothing()
            && !self.mono_mix.is_smoothing();
        let mono_on = self.mono_mix.is_smoothing() || self.mono_mix.current() > 0.0;
        let ramping = self.crossover.is_smoothing() || (mono_on && self.mono_freq.is_smoothing());
        if steady && !ramping && !self.per_frame_only {
            self.crossover.skip_frames(left.len());
            if mono_on {
                self.mono_phase = (self.mono_phase + left.len()) % UPDATE_INTERVAL;
                self.run_chunk_pipelined::<true>(left, right);
            } else {
                self.run_chunk_pipelined::<false>(left, right);
                self.reset_mono_sections();
            }
            return;
        }
        self.run_chunk_per_frame(left, right, steady, mono_on);
    }

    /// The steady-state chunk (no ramp moves, so every section keeps its coefficients):
    /// the same operations as [`Self::run_chunk_per_frame`] on every frame, software
    /// pipelined (see [`PipelinedChunk`]), in the wide build where the CPU has it.
    fn run_chunk_pipelined<const MONO: bool>(&mut self, left: &mut [f32], right: &mut [f32]) {
        let kernel = PipelinedChunk::<MONO> {
            sec: &mut self.sections,
            left,
            right,
            w: self.widths.each_ref().map(|s| s.current() as f64),
            on: self.on.current() as f64,
            mono: self.mono_mix.current() as f64,
        };
        run_widest(kernel, self.allow_wide);
    }

    fn run_chunk_per_frame(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        steady: bool,
        mono_on: bool,
    ) {
        let mut w = self.widths.each_ref().map(|s| s.current() as f64);
        let mut on = self.on.current() as f64;
        let mut mono = self.mono_mix.current() as f64;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            if !steady {
                w = [0, 1, 2].map(|k| self.widths[k].next() as f64);
                on = self.on.next() as f64;
                mono = self.mono_mix.next() as f64;
            }
            if mono_on {
                if self.mono_phase == 0 && self.mono_freq.is_smoothing() {
                    self.mono_freq.skip(UPDATE_INTERVAL);
                    self.update_mono_filters();
                }
                self.mono_phase = (self.mono_phase + 1) % UPDATE_INTERVAL;
            }
            let (x_l, x_r) = (*l as f64, *r as f64);
            let m = 0.5 * (x_l + x_r);
            let s = 0.5 * (x_l - x_r);
            if self.crossover.step_updated() {
                self.update_sections();
            }
            let sec = &mut self.sections;
            let (low, rest) = sec.split[0].run_pair(s, s);
            let (low, rest) = sec.split[1].run_pair(low, rest);
            let (mid, high) = sec.split[2].run_pair(rest, rest);
            let (mid, high) = sec.split[3].run_pair(mid, high);
            let (low, m_half) = sec.tail.run_pair(low, m);
            let mut s_out = w[0] * low + w[1] * mid + w[2] * high;
            let mut m_out;
            if mono_on {
                let (hp, m_ap) = sec.mono[0].run_pair(s_out, m_half);
                m_out = m_ap;
                let (hp, ap) = sec.mono[1].run_pair(hp, m_out);
                let (hp, ap) = sec.mono[2].run_pair(hp, ap);
                let hp = sec.last.process_sample(hp);
                s_out += mono * (hp - s_out);
                m_out += mono * (ap - m_out);
            } else {
                // Lane 0 idles on silence (its state is cleared after the chunk).
                m_out = sec.mono[0].run_pair(0.0, m_half).1;
            }
            (*l, *r) = to_left_right(x_l, x_r, m_out, s_out, on);
        }
        if !mono_on {
            // Keep the mono filters clean for the next fade-in.
            self.reset_mono_sections();
        }
    }
}

/// A steady chunk, software pipelined. Per frame the sections form a chain of 5 (8
/// with mono below) in series whose latency, frame after frame, the CPU cannot overlap
/// (the loop body is too long for its reorder window); here iteration `i` runs stage
/// `k` on frame `i − k`, so the stages of one iteration are independent and only each
/// section's own recursion is serial. Values pass between stages in a [`Latch`]; the
/// first and last `DEPTH − 1` iterations run only the stages that have a frame
/// ([`pipeline_step`]). With mono below, the steady iterations run [`steady_mono`],
/// two of the two-lane passes per [`Quad`].
struct PipelinedChunk<'a, const MONO: bool> {
    sec: &'a mut Sections,
    left: &'a mut [f32],
    right: &'a mut [f32],
    w: [f64; 3],
    on: f64,
    mono: f64,
}

impl<const MONO: bool> QuadKernel for PipelinedChunk<'_, MONO> {
    type Output = ();
    #[inline(always)]
    fn run<Q: Quad>(self, isa: Q::Isa) {
        let Self {
            sec,
            left,
            right,
            w,
            on,
            mono,
        } = self;
        let len = left.len().min(right.len());
        let depth = if MONO { 8 } else { 5 };
        let mut latch = Latch::default();
        // A local copy, so the sections' state need not go through memory around the
        // stores into the channels.
        let mut sections = *sec;
        let s = &mut sections;
        let head = (depth - 1).min(len);
        for i in 0..head {
            pipeline_step::<MONO, true>(s, &mut latch, left, right, i, len, w, on, mono);
        }
        if MONO && head < len {
            steady_mono::<Q>(isa, s, &mut latch, left, right, head, len, w, on, mono);
        } else {
            for i in head..len {
                pipeline_step::<MONO, false>(s, &mut latch, left, right, i, len, w, on, mono);
            }
        }
        for i in len.max(head)..len + depth - 1 {
            pipeline_step::<MONO, true>(s, &mut latch, left, right, i, len, w, on, mono);
        }
        *sec = sections;
    }
}

/// The output frame: mid and side back to left and right, cross-faded with the input
/// `(x_l, x_r)` by `on`.
#[inline(always)]
fn to_left_right(x_l: f64, x_r: f64, m_out: f64, s_out: f64, on: f64) -> (f32, f32) {
    let (y_l, y_r) = (m_out + s_out, m_out - s_out);
    (
        (x_l + on * (y_l - x_l)) as f32,
        (x_r + on * (y_r - x_r)) as f32,
    )
}

/// The values one pipeline stage hands to the next (see
/// [`StereoImager::run_chunk_pipelined`]); `[x]` is the stage that wrote it.
#[derive(Debug, Clone, Copy, Default)]
struct Latch {
    /// [0] split 1 outputs (low, rest) and the mid signal.
    s0: (f64, f64, f64),
    /// [1] split 2 outputs (low, rest) and the mid signal.
    s1: (f64, f64, f64),
    /// [2] split 3 outputs (mid, high), the low band after its allpass, the mid after AP f1.
    s2: (f64, f64, f64, f64),
    /// [3] the side sum and the mid after AP f1.
    s3: (f64, f64),
    /// [4] mono: high-pass, mid allpass, side sum.
    s4: (f64, f64, f64),
    /// [5] mono: high-pass, allpass, side sum, mid allpass.
    s5: (f64, f64, f64, f64),
    /// [6] as [5].
    s6: (f64, f64, f64, f64),
}

/// One iteration `i` of the pipelined chunk: stage `k` processes frame `i − k` (when
/// `CHECK`, only if that frame is in `0..len`). Stages run last to first so that each
/// reads what the previous iteration latched. The arithmetic per frame is exactly
/// [`StereoImager::run_chunk_per_frame`]'s.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pipeline_step<const MONO: bool, const CHECK: bool>(
    sec: &mut Sections,
    latch: &mut Latch,
    left: &mut [f32],
    right: &mut [f32],
    i: usize,
    len: usize,
    w: [f64; 3],
    on: f64,
    mono: f64,
) {
    let runs = |k: usize| !CHECK || (i >= k && i - k < len);
    let out_stage = if MONO { 7 } else { 4 };
    // The output stage: mix and write frame `i − out_stage`.
    if runs(out_stage) {
        let n = i - out_stage;
        let (s_out, m_out) = if MONO {
            let (hp, ap, s_out, m_ap) = latch.s6;
            let hp = sec.last.process_sample(hp);
            (s_out + mono * (hp - s_out), m_ap + mono * (ap - m_ap))
        } else {
            let (s_out, m_half) = latch.s3;
            (s_out, sec.mono[0].run_pair(0.0, m_half).1)
        };
        let (x_l, x_r) = (left[n] as f64, right[n] as f64);
        (left[n], right[n]) = to_left_right(x_l, x_r, m_out, s_out, on);
    }
    if MONO {
        if runs(6) {
            let (hp, ap, s_out, m_ap) = latch.s5;
            let (hp, ap) = sec.mono[2].run_pair(hp, ap);
            latch.s6 = (hp, ap, s_out, m_ap);
        }
        if runs(5) {
            let (hp, m_ap, s_out) = latch.s4;
            let (hp, ap) = sec.mono[1].run_pair(hp, m_ap);
            latch.s5 = (hp, ap, s_out, m_ap);
        }
        if runs(4) {
            let (s_out, m_half) = latch.s3;
            let (hp, m_ap) = sec.mono[0].run_pair(s_out, m_half);
            latch.s4 = (hp, m_ap, s_out);
        }
    }
    if runs(3) {
        let (mid, high, low, m_half) = latch.s2;
        let (mid, high) = sec.split[3].run_pair(mid, high);
        latch.s3 = (w[0] * low + w[1] * mid + w[2] * high, m_half);
    }
    if runs(2) {
        let (low, rest, m) = latch.s1;
        let (mid, high) = sec.split[2].run_pair(rest, rest);
        let (low, m_half) = sec.tail.run_pair(low, m);
        latch.s2 = (mid, high, low, m_half);
    }
    if runs(1) {
        let (low, rest, m) = latch.s0;
        let (low, rest) = sec.split[1].run_pair(low, rest);
        latch.s1 = (low, rest, m);
    }
    if runs(0) {
        let (x_l, x_r) = (left[i] as f64, right[i] as f64);
        let m = 0.5 * (x_l + x_r);
        let s = 0.5 * (x_l - x_r);
        let (low, rest) = sec.split[0].run_pair(s, s);
        latch.s0 = (low, rest, m);
    }
}

/// The steady iterations `from..len` of the mono-below pipeline (every stage has a
/// frame: `from` ≥ 7) with two of [`pipeline_step`]'s two-lane passes in each
/// [`Quad`], where one stage feeds the next or both read the same latch:
///
/// ```text
/// a = (split 0 | split 1)    b = (split 2 | split 3)
/// c = (tail | mono 0)        d = (mono 1 | mono 2)        + the last HP₈ section, scalar
/// ```
///
/// 4 quad passes and one scalar section per frame (in the wide build, 4 AVX passes
/// instead of 8 SSE2 ones). Each lane does the operations [`pipeline_step`] does on
/// the same frame (no FMA), so the output is the same bit for bit in either build
/// (test `pipelined_chunks_equal_the_per_frame_path`). The latches
/// are read from and written back to `latch` in [`pipeline_step`]'s layout for the
/// drain; the sections' state goes back into `sec`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn steady_mono<Q: Quad>(
    isa: Q::Isa,
    sec: &mut Sections,
    latch: &mut Latch,
    left: &mut [f32],
    right: &mut [f32],
    from: usize,
    len: usize,
    w: [f64; 3],
    on: f64,
    mono: f64,
) {
    let len = len.min(left.len()).min(right.len());
    let mut pa = SvfSection::<Q>::load(isa, &sec.split[0], &sec.split[1]);
    let mut pb = SvfSection::<Q>::load(isa, &sec.split[2], &sec.split[3]);
    let mut pc = SvfSection::<Q>::load(isa, &sec.tail, &sec.mono[0]);
    let mut pd = SvfSection::<Q>::load(isa, &sec.mono[1], &sec.mono[2]);
    let mut last = sec.last;
    let v = |a: f64, b: f64| F64x2::new(a, b);
    let l = *latch;
    // a: stage 0 | stage 1 outputs; b (lanes 0, 1): stage 2 split outputs; c: tail
    // (stage 2) | mono 0 (stage 4); d: mono 1 (stage 5) | mono 2 (stage 6).
    let mut a = Q::from_halves(isa, v(l.s0.0, l.s0.1), v(l.s1.0, l.s1.1));
    let mut b_lo = v(l.s2.0, l.s2.1);
    let mut c = Q::from_halves(isa, v(l.s2.2, l.s2.3), v(l.s4.0, l.s4.1));
    let mut d = Q::from_halves(isa, v(l.s5.0, l.s5.1), v(l.s6.0, l.s6.1));
    // Values carried along with their frame: the mid signal (stages 0, 1), the side sum
    // (stages 3 … 6), the mid after its allpass (stages 5, 6), the mid half (stage 3).
    let (mut m0, mut m1) = (l.s0.2, l.s1.2);
    let (mut so3, mut mh3) = l.s3;
    let (mut so4, mut so5, mut so6) = (l.s4.2, l.s5.2, l.s6.2);
    let (mut ma5, mut ma6) = (l.s5.3, l.s6.3);
    for i in from..len {
        // Stage 7 on frame i − 7: the last section, the mix, the output.
        let n = i - 7;
        let [hp6, ap6] = d.hi().to_array();
        let hp = last.process_sample(hp6);
        let s_out = so6 + mono * (hp - so6);
        let m_out = ma6 + mono * (ap6 - ma6);
        let (x_l, x_r) = (left[n] as f64, right[n] as f64);
        (left[n], right[n]) = to_left_right(x_l, x_r, m_out, s_out, on);
        // Stages 5 and 6.
        let [_, m_ap4] = c.hi().to_array();
        d = pd.run(c.hi_then_lo_of(d));
        (so6, ma6) = (so5, ma5);
        (so5, ma5) = (so4, m_ap4);
        // Stage 2's allpasses and stage 4.
        let [low1, _] = a.hi().to_array();
        let c_new = pc.run(Q::from_halves(isa, v(low1, m1), v(so3, mh3)));
        so4 = so3;
        // Stages 2 and 3 of the split; stage 3's side sum.
        let rest1 = a.splat_lane3().lo();
        let b = pb.run(Q::from_halves(isa, rest1, b_lo));
        let [low2, m_half2] = c.lo().to_array();
        let [mid3, high3] = b.hi().to_array();
        so3 = w[0] * low2 + w[1] * mid3 + w[2] * high3;
        mh3 = m_half2;
        b_lo = b.lo();
        c = c_new;
        // Stages 0 and 1.
        let (x_l, x_r) = (left[i] as f64, right[i] as f64);
        let m = 0.5 * (x_l + x_r);
        let s = 0.5 * (x_l - x_r);
        a = pa.run(Q::from_halves(isa, F64x2::splat(s), a.lo()));
        m1 = m0;
        m0 = m;
    }
    let [split0, split1, split2, split3] = &mut sec.split;
    pa.store(split0, split1);
    pb.store(split2, split3);
    let [mono0, mono1, mono2] = &mut sec.mono;
    pc.store(&mut sec.tail, mono0);
    pd.store(mono1, mono2);
    sec.last = last;
    let [a0, a1] = a.lo().to_array();
    let [a2, a3] = a.hi().to_array();
    let [b0, b1] = b_lo.to_array();
    let [c0, c1] = c.lo().to_array();
    let [c2, c3] = c.hi().to_array();
    let [d0, d1] = d.lo().to_array();
    let [d2, d3] = d.hi().to_array();
    *latch = Latch {
        s0: (a0, a1, m0),
        s1: (a2, a3, m1),
        s2: (b0, b1, c0, c1),
        s3: (so3, mh3),
        s4: (c2, c3, so4),
        s5: (d0, d1, so5, ma5),
        s6: (d2, d3, so6, ma6),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mastering::test_signals::{impulse_response_db, noise, sine};

    const FS: f32 = 48_000.0;

    fn run(im: &mut StereoImager, s: &ImagerSettings, l: &mut [f32], r: &mut [f32]) {
        for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
            im.process(&mut [a, b], s);
        }
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len() as f64).sqrt() as f32
    }

    fn settled(s: &ImagerSettings) -> StereoImager {
        let mut im = StereoImager::new(FS);
        im.set_settings_immediately(s);
        im
    }

    #[test]
    fn full_width_is_flat_and_keeps_the_image() {
        let s = ImagerSettings::default();
        let mut im = settled(&s);
        // An impulse on the left only: at 100 % the right output must stay silent (up
        // to rounding) and the left flat.
        let mut l = vec![0.0f32; 8192];
        let mut r = vec![0.0f32; 8192];
        l[0] = 1.0;
        run(&mut im, &s, &mut l, &mut r);
        for k in 0..50 {
            let f = 20.0 * 1000f64.powf(k as f64 / 50.0);
            if f > 0.49 * FS as f64 {
                break;
            }
            let db = impulse_response_db(&l, f, FS as f64);
            // The issue's 0.01 dB (the mid allpass and the side band sum are the same
            // rational function; measured ~1e-6 dB).
            assert!(db.abs() < 0.01, "{f} Hz {db}");
        }
        let leak = r.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
        // The right output is (AP·M − ΣS) with equal functions: f32 rounding only.
        assert!(leak < 1e-6, "{leak}");
    }

    #[test]
    fn width_scales_the_side_of_each_band() {
        let s = ImagerSettings {
            widths_percent: [0.0, 50.0, 200.0],
            ..Default::default()
        };
        let fs = FS as f64;
        for (f, width) in [(40.0, 0.0), (800.0, 0.5), (12_000.0, 2.0)] {
            let mut im = settled(&s);
            // A pure side tone (L = −R) of 0.25.
            let mut l = sine(9600, f, 0.25, 0.3, fs);
            let mut r: Vec<f32> = l.iter().map(|v| -v).collect();
            run(&mut im, &s, &mut l, &mut r);
            let side = rms(&l[4800..]
                .iter()
                .zip(&r[4800..])
                .map(|(a, b)| 0.5 * (a - b))
                .collect::<Vec<_>>());
            let want = 0.25 / 2f32.sqrt() * width as f32;
            assert!(
                (side - want).abs() < 0.004,
                "{f} Hz: side {side}, want {want}"
            );
        }
    }

    #[test]
    fn mono_below_makes_lows_mono_and_leaves_highs_alone() {
        let s = ImagerSettings {
            mono_below_hz: Some(120.0),
            ..Default::default()
        };
        let fs = FS as f64;
        // Side-only tones well below 120 Hz: L − R at least 100 dB under the input's
        // side (LR8: −100 dB at 0.237·f = 28 Hz; 25 and 20 Hz are further down).
        for f in [20.0, 25.0] {
            let mut im = settled(&s);
            let mut l = sine(48_000, f, 0.5, 0.0, fs);
            let mut r: Vec<f32> = l.iter().map(|v| -v).collect();
            run(&mut im, &s, &mut l, &mut r);
            // After 0.5 s the filters have settled (the onset transient has decayed).
            let diff = l[24_000..]
                .iter()
                .zip(&r[24_000..])
                .fold(0.0f64, |m, (a, b)| m.max((*a as f64 - *b as f64).abs()));
            let db = 20.0 * (diff / 1.0).max(1e-20).log10(); // input L − R peak is 1.0
            assert!(db < -100.0, "{f} Hz: L−R at {db} dB");
            let analytic = Lr8Svf::highpass_db(f, 120.0, fs);
            assert!(analytic < -100.0);
        }
        // Mixed stereo material, above 4·f: the side and mid keep their levels
        // (0.01 dB: LR8 low-pass leakage at 480 Hz is 1e-5 of the side power).
        for f in [500.0, 2000.0, 9000.0] {
            let mut im = settled(&s);
            let mut l = sine(9600, f, 0.5, 0.0, fs);
            let mut r = sine(9600, f, 0.2, 1.0, fs);
            let (l0, r0) = (l.clone(), r.clone());
            run(&mut im, &s, &mut l, &mut r);
            let half = |x: &[f32], y: &[f32], sign: f32| {
                rms(&x[4800..]
                    .iter()
                    .zip(&y[4800..])
                    .map(|(a, b)| a + sign * b)
                    .collect::<Vec<_>>())
            };
            let (side_in, side_out) = (half(&l0, &r0, -1.0), half(&l, &r, -1.0));
            let (mid_in, mid_out) = (half(&l0, &r0, 1.0), half(&l, &r, 1.0));
            // RMS over 4800 samples (partial periods: < 0.003 dB at these frequencies)
            // and the 0.01 dB allowance.
            assert!((20.0 * (side_out / side_in).log10()).abs() < 0.02, "{f}");
            assert!((20.0 * (mid_out / mid_in).log10()).abs() < 0.02, "{f}");
        }
    }

    #[test]
    fn pipelined_chunks_equal_the_per_frame_path() {
        // Steady settings take the pipelined path; it must be the per-frame arithmetic
        // exactly, with mono below on and off, including chunks shorter than the
        // pipeline and a settings change (ramps: per-frame chunks in between).
        let a = ImagerSettings {
            widths_percent: [40.0, 120.0, 170.0],
            mono_below_hz: Some(110.0),
            ..Default::default()
        };
        let b = ImagerSettings {
            widths_percent: [90.0, 60.0, 150.0],
            mono_below_hz: None,
            ..Default::default()
        };
        let x = noise(20_000, 0.5, 7);
        let y = noise(20_000, 0.5, 8);
        // The pipelined path in the wide build (where the CPU has it), in the portable
        // build, and the per-frame path.
        let mut imagers = [settled(&a), settled(&a), settled(&a)];
        imagers[1].allow_wide = false;
        imagers[2].per_frame_only = true;
        let mut outs = [(); 3].map(|_| (x.clone(), y.clone()));
        for (im, (l, r)) in imagers.iter_mut().zip(outs.iter_mut()) {
            let mut pos = 0;
            for (k, len) in [512usize, 3, 700, 1, 5, 2048].iter().cycle().enumerate() {
                if pos >= l.len() {
                    break;
                }
                let s = if (k / 6) % 2 == 0 { &a } else { &b };
                let end = (pos + len).min(l.len());
                im.process(&mut [&mut l[pos..end], &mut r[pos..end]], s);
                pos = end;
            }
        }
        assert!(outs[0] == outs[2], "wide build vs per frame");
        assert!(outs[1] == outs[2], "portable build vs per frame");
    }

    #[test]
    fn block_size_does_not_change_the_output_and_non_finite_recovers() {
        let s = ImagerSettings {
            widths_percent: [50.0, 120.0, 180.0],
            mono_below_hz: Some(90.0),
            ..Default::default()
        };
        let x = noise(5000, 0.5, 5);
        let y = noise(5000, 0.5, 6);
        let mut a = StereoImager::new(FS);
        let mut b = StereoImager::new(FS);
        let (mut l1, mut r1) = (x.clone(), y.clone());
        a.process(&mut [&mut l1, &mut r1], &s);
        let (mut l2, mut r2) = (x.clone(), y.clone());
        for (l, r) in l2.chunks_mut(37).zip(r2.chunks_mut(37)) {
            b.process(&mut [l, r], &s);
        }
        // Identical: per-sample processing, updates on a fixed grid.
        assert_eq!(l1, l2);
        assert_eq!(r1, r2);
        let mut l = vec![f32::NAN, 1.0, f32::INFINITY, 0.5];
        let mut r = vec![0.0, f32::NEG_INFINITY, 0.2, 0.1];
        a.process(&mut [&mut l, &mut r], &s);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    }
}
