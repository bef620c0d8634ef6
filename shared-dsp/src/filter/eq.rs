//! The channel strip's tone section: high-pass, low-pass and a six-band analog-matched
//! EQ, smoothed, stereo, zero latency.
//!
//! Signal path per channel: `HPF (0…4 sections) → LPF (0…4 sections) → bands 1…6`.
//! Every section is a [`BiquadCoeffs`] design with `f64` state; both channels share
//! coefficients and run as the two lanes of one SSE2 register (on CPUs with AVX, two
//! sections share one AVX register; bit-identical output). While any parameter
//! moves, the sections run as TPT SVFs ([`super::svf`]), the structure that stays
//! well-behaved under modulation; once everything rests, each section's state is
//! converted exactly (a 2×2 map) to transposed direct form II, which computes the same
//! transfer function with 9 instead of 15 operations per sample, and back when
//! something moves again. Bands resting at 0 dB and filters that are off are skipped.
//!
//! The tone section is one type for the editor's curve and the bench; a chain that
//! puts the gate between the pass filters and the bands (the channel strip's order)
//! runs two instances, one with the bands at 0 dB and one with the filters off: the
//! skipped parts cost nothing.
//!
//! Smoothing (all [`Smoother`], ramps of [`FREQ_RAMP_MS`] / [`GAIN_RAMP_MS`]):
//! - frequencies and Q logarithmically, gains linearly in dB;
//! - a band switched off (or `eq_on` off) ramps its gain to 0 dB and is then skipped,
//!   so "off" and "0 dB" are both bit-exact pass-through;
//! - a band's type change ramps the gain to 0 dB, switches, and ramps back;
//! - a pass filter switched on/off cross-fades between its input and output over
//!   [`SWITCH_FADE_MS`]; a slope change fades to the input, swaps the cascade (clean
//!   state) and fades back in.
//!
//! Coefficients are recomputed every [`UPDATE_INTERVAL`] samples while a smoother moves
//! and never otherwise. The update points sit on a fixed grid of the sample count, so
//! with unchanged settings the output does not depend on how the signal is cut into
//! blocks (bit-identical; tested).

use super::band::BandCoeffs;
use super::butterworth::{butterworth, PassKind, Slope, MAX_SECTIONS};
use super::coeffs::BiquadCoeffs;
use super::simd::F64x2;
#[cfg(target_arch = "x86_64")]
use super::simd::F64x4;
use super::svf::{DirectCoeffs2, SvfCoeffs, SvfCoeffs2};
#[cfg(target_arch = "x86_64")]
use super::svf::{DirectCoeffs4, SvfCoeffs4};
use crate::cpu::has_avx;
use crate::denormal::FlushDenormals;
use crate::smoother::{Smoother, SmoothingStyle};

/// Number of parametric bands.
pub const NUM_BANDS: usize = 6;
/// Frequency and Q ramp.
pub const FREQ_RAMP_MS: f32 = 20.0;
/// Gain ramp (also used to fade a band in or out).
pub const GAIN_RAMP_MS: f32 = 20.0;
/// Cross-fade for switching a pass filter on/off or changing its slope.
pub const SWITCH_FADE_MS: f32 = 10.0;
/// Samples between coefficient updates while a parameter moves. 16 samples is 0.33 ms
/// at 48 kHz: a 20 ms ramp advances in 60 steps, each far below audibility.
pub const UPDATE_INTERVAL: usize = 16;

/// HPF and LPF sections, then two per band (main and correction, see [`BandCoeffs`]).
const NUM_SECTIONS: usize = 2 * MAX_SECTIONS + 2 * NUM_BANDS;

/// Index of band `k`'s main section (its correction follows it).
#[inline]
const fn band_section(k: usize) -> usize {
    2 * MAX_SECTIONS + 2 * k
}

/// The shape of a parametric band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandKind {
    /// Peaking filter around `freq_hz`.
    #[default]
    Bell,
    /// Raises or lowers everything below `freq_hz`.
    LowShelf,
    /// Raises or lowers everything above `freq_hz`.
    HighShelf,
}

/// One parametric band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSettings {
    /// Band on; off ramps the band to 0 dB.
    pub on: bool,
    /// Bell or shelf.
    pub kind: BandKind,
    /// Centre (bell) or mid-point (shelves), Hz.
    pub freq_hz: f32,
    /// Gain at the centre (bell) or of the shelf, dB.
    pub gain_db: f32,
    /// Quality factor (bell bandwidth; shelf resonance, 0.707 = no overshoot).
    pub q: f32,
}

/// A high-pass or low-pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassSettings {
    /// Filter in the path.
    pub on: bool,
    /// Cutoff (−3 dB), Hz.
    pub freq_hz: f32,
    /// Butterworth slope.
    pub slope: Slope,
}

/// Everything the tone section needs: a plain `Copy` value, compared each block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EqSettings {
    /// High-pass (off, 80 Hz, 12 dB/oct by default).
    pub hpf: PassSettings,
    /// Low-pass (off, 18 kHz, 12 dB/oct by default).
    pub lpf: PassSettings,
    /// Master switch of the six bands (the pass filters have their own).
    pub eq_on: bool,
    /// Bands 1…6.
    pub bands: [BandSettings; NUM_BANDS],
}

impl Default for EqSettings {
    /// Band 1 low shelf 80 Hz, bands 2–5 bells at 250 Hz, 1 kHz, 3 kHz, 6 kHz, band 6
    /// high shelf 12 kHz, all 0 dB (shelves Q 0.707, bells Q 1); both pass filters off.
    fn default() -> Self {
        let band = |kind, freq_hz, q| BandSettings {
            on: true,
            kind,
            freq_hz,
            gain_db: 0.0,
            q,
        };
        Self {
            hpf: PassSettings {
                on: false,
                freq_hz: 80.0,
                slope: Slope::Db12,
            },
            lpf: PassSettings {
                on: false,
                freq_hz: 18_000.0,
                slope: Slope::Db12,
            },
            eq_on: true,
            bands: [
                band(BandKind::LowShelf, 80.0, 0.707),
                band(BandKind::Bell, 250.0, 1.0),
                band(BandKind::Bell, 1000.0, 1.0),
                band(BandKind::Bell, 3000.0, 1.0),
                band(BandKind::Bell, 6000.0, 1.0),
                band(BandKind::HighShelf, 12_000.0, 0.707),
            ],
        }
    }
}

fn design_band(kind: BandKind, freq_hz: f64, q: f64, gain_db: f64, fs: f64) -> BandCoeffs {
    match kind {
        BandKind::Bell => BandCoeffs::bell(freq_hz, q, gain_db, fs),
        BandKind::LowShelf => BandCoeffs::low_shelf(freq_hz, q, gain_db, fs),
        BandKind::HighShelf => BandCoeffs::high_shelf(freq_hz, q, gain_db, fs),
    }
}

impl EqSettings {
    /// The magnitude in dB these settings describe (all switches settled), from the
    /// same designs the processor runs: for the editor's curve.
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let mut db = 0.0;
        for (p, kind) in [
            (&self.hpf, PassKind::Highpass),
            (&self.lpf, PassKind::Lowpass),
        ] {
            if p.on {
                db += butterworth(kind, p.freq_hz as f64, p.slope, sample_rate)
                    .magnitude_db(freq_hz, sample_rate);
            }
        }
        if self.eq_on {
            for b in self.bands.iter().filter(|b| b.on && b.gain_db != 0.0) {
                db += design_band(
                    b.kind,
                    b.freq_hz as f64,
                    b.q as f64,
                    b.gain_db as f64,
                    sample_rate,
                )
                .magnitude_db(freq_hz, sample_rate);
            }
        }
        db
    }
}

/// Replaces a non-finite parameter with `fallback` and clamps it.
#[inline]
fn clean(x: f32, lo: f32, hi: f32, fallback: f32) -> f32 {
    if x.is_finite() {
        x.clamp(lo, hi)
    } else {
        fallback
    }
}

/// One running section: coefficients in both forms and the stereo state.
#[derive(Debug, Clone, Copy, Default)]
struct Section {
    /// The design.
    coeffs: BiquadCoeffs,
    /// Its SVF form (scalar, for state conversion).
    svf_scalar: SvfCoeffs,
    svf: SvfCoeffs2,
    direct: DirectCoeffs2,
    /// The state: SVF integrator states or direct-form states, per [`Structure`].
    ic1: F64x2,
    ic2: F64x2,
}

impl Section {
    fn set(&mut self, coeffs: &BiquadCoeffs) {
        self.coeffs = *coeffs;
        self.svf_scalar = SvfCoeffs::from_biquad(coeffs);
        self.svf = self.svf_scalar.into();
        // A design the SVF refused (unstable; never produced here) runs as the identity
        // in both forms.
        self.direct = if self.svf_scalar == SvfCoeffs::IDENTITY {
            (&BiquadCoeffs::IDENTITY).into()
        } else {
            coeffs.into()
        };
    }

    #[inline(always)]
    fn run_svf(&mut self, x: F64x2) -> F64x2 {
        self.svf.run(x, &mut self.ic1, &mut self.ic2)
    }

    #[inline(always)]
    fn run_direct(&mut self, x: F64x2) -> F64x2 {
        self.direct.run(x, &mut self.ic1, &mut self.ic2)
    }

    /// Re-expresses the state for the other structure; the output continues exactly.
    fn convert(&mut self, to: Structure) {
        let a1 = if self.svf_scalar == SvfCoeffs::IDENTITY {
            0.0
        } else {
            self.coeffs.a1
        };
        let [l1, r1] = self.ic1.to_array();
        let [l2, r2] = self.ic2.to_array();
        let f = |s: [f64; 2]| match to {
            Structure::Svf => self.svf_scalar.direct_to_svf(a1, s),
            Structure::Direct => self.svf_scalar.svf_to_direct(a1, s),
        };
        let (l, r) = (f([l1, l2]), f([r1, r2]));
        self.ic1 = F64x2::new(l[0], r[0]);
        self.ic2 = F64x2::new(l[1], r[1]);
    }

    fn clear(&mut self) {
        self.ic1 = F64x2::default();
        self.ic2 = F64x2::default();
    }

    fn is_finite(&self) -> bool {
        let [a, b] = self.ic1.add(self.ic2).to_array();
        (a + b).is_finite()
    }
}

/// How the sections run. While anything moves they run as TPT SVFs (robust under
/// modulation); once everything rests, the states are converted exactly to transposed
/// direct form II, which computes the same transfer function with 9 instead of 15
/// operations per sample. The conversion is a 2×2 linear map per section, done only
/// when the EQ starts or stops moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Structure {
    Svf,
    Direct,
}

#[derive(Debug, Clone)]
struct Band {
    kind: BandKind,
    freq: Smoother,
    gain_db: Smoother,
    q: Smoother,
    coeffs: BandCoeffs,
    dirty: bool,
}

#[derive(Debug, Clone)]
struct Pass {
    kind: PassKind,
    slope: Slope,
    freq: Smoother,
    /// 0 = the input, 1 = the filter's output.
    mix: Smoother,
    coeffs: [BiquadCoeffs; MAX_SECTIONS],
    len: usize,
    dirty: bool,
}

impl Pass {
    /// True when the filter contributes nothing and need not run.
    fn idle(&self) -> bool {
        !self.mix.is_smoothing() && self.mix.current() == 0.0
    }

    fn fading(&self) -> bool {
        self.mix.is_smoothing()
    }
}

/// The tone section of the channel strip (see the module notes).
#[derive(Debug, Clone)]
pub struct ChannelEq {
    sample_rate: f64,
    max_channels: usize,
    settings: EqSettings,
    /// Sample count modulo [`UPDATE_INTERVAL`]: the position on the update grid.
    phase: usize,
    passes: [Pass; 2],
    bands: [Band; NUM_BANDS],
    /// HPF sections `0..4`, LPF `4..8`, bands `8..20` (main, correction).
    sections: [Section; NUM_SECTIONS],
    /// The structure the section states are currently expressed in.
    structure: Structure,
    /// A switch (band on/off or type, filter on/off or slope) is not yet where the
    /// settings want it.
    pending_switch: bool,
    /// Run the sections two at a time in AVX registers (detected once, in `new`).
    avx: bool,
}

impl ChannelEq {
    /// A tone section for `max_channels` (1 or 2; more are clamped to 2) at
    /// `sample_rate`, at rest with [`EqSettings::default`].
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        let fs = if sample_rate.is_finite() && sample_rate > 0.0 {
            sample_rate
        } else {
            48_000.0
        };
        let d = EqSettings::default();
        let pass = |kind, p: &PassSettings| Pass {
            kind,
            slope: p.slope,
            freq: Smoother::new(SmoothingStyle::Logarithmic, FREQ_RAMP_MS, fs, p.freq_hz),
            mix: Smoother::new(SmoothingStyle::Linear, SWITCH_FADE_MS, fs, 0.0),
            coeffs: [BiquadCoeffs::IDENTITY; MAX_SECTIONS],
            len: 0,
            dirty: true,
        };
        let band = |b: &BandSettings| Band {
            kind: b.kind,
            freq: Smoother::new(SmoothingStyle::Logarithmic, FREQ_RAMP_MS, fs, b.freq_hz),
            gain_db: Smoother::new(SmoothingStyle::Linear, GAIN_RAMP_MS, fs, 0.0),
            q: Smoother::new(SmoothingStyle::Logarithmic, FREQ_RAMP_MS, fs, b.q),
            coeffs: BandCoeffs::IDENTITY,
            dirty: true,
        };
        let mut eq = Self {
            sample_rate: fs as f64,
            max_channels: max_channels.clamp(1, 2),
            settings: d,
            phase: 0,
            passes: [
                pass(PassKind::Highpass, &d.hpf),
                pass(PassKind::Lowpass, &d.lpf),
            ],
            bands: std::array::from_fn(|i| band(&d.bands[i])),
            sections: [Section::default(); NUM_SECTIONS],
            structure: Structure::Svf,
            pending_switch: false,
            avx: has_avx(),
        };
        eq.set_settings_immediately(&d);
        eq
    }

    /// The number of channels this instance was prepared for.
    pub fn max_channels(&self) -> usize {
        self.max_channels
    }

    /// No latency: every section is minimum phase and runs sample by sample.
    pub fn latency(&self) -> usize {
        0
    }

    /// Clears the signal state; settings and smoothers jump to their targets.
    pub fn reset(&mut self) {
        for s in self.sections.iter_mut() {
            s.clear();
        }
        let settings = self.settings;
        self.set_settings_immediately(&settings);
        self.phase = 0;
    }

    /// Applies `settings` with no ramps (after loading state, before audio starts).
    pub fn set_settings_immediately(&mut self, settings: &EqSettings) {
        let s = Self::sanitize(settings);
        self.settings = s;
        for (i, (pass, p)) in self.passes.iter_mut().zip([s.hpf, s.lpf]).enumerate() {
            pass.freq.reset_to(p.freq_hz);
            pass.mix.reset_to(if p.on { 1.0 } else { 0.0 });
            if pass.slope != p.slope {
                for sec in self.sections[i * MAX_SECTIONS..(i + 1) * MAX_SECTIONS].iter_mut() {
                    sec.clear();
                }
            }
            pass.slope = p.slope;
            pass.dirty = true;
        }
        for (band, b) in self.bands.iter_mut().zip(s.bands.iter()) {
            band.kind = b.kind;
            band.freq.reset_to(b.freq_hz);
            band.q.reset_to(b.q);
            band.gain_db
                .reset_to(if s.eq_on && b.on { b.gain_db } else { 0.0 });
            band.dirty = true;
        }
        self.pending_switch = false;
        self.update_coefficients();
    }

    fn sanitize(settings: &EqSettings) -> EqSettings {
        let mut s = *settings;
        for p in [&mut s.hpf, &mut s.lpf] {
            p.freq_hz = clean(p.freq_hz, 1.0, 1.0e6, 1000.0);
        }
        for b in s.bands.iter_mut() {
            b.freq_hz = clean(b.freq_hz, 1.0, 1.0e6, 1000.0);
            b.gain_db = clean(b.gain_db, -48.0, 48.0, 0.0);
            b.q = clean(b.q, 0.025, 100.0, 0.707);
        }
        s
    }

    /// Takes new settings: starts ramps towards them. The same settings again cost one
    /// comparison.
    pub fn set_settings(&mut self, settings: &EqSettings) {
        if *settings == self.settings {
            return;
        }
        let s = Self::sanitize(settings);
        self.settings = *settings;
        for (pass, p) in self.passes.iter_mut().zip([s.hpf, s.lpf]) {
            pass.freq.set_target(p.freq_hz);
        }
        for (band, b) in self.bands.iter_mut().zip(s.bands.iter()) {
            band.freq.set_target(b.freq_hz);
            band.q.set_target(b.q);
        }
        self.retarget_switches();
    }

    /// Targets of the switch-like ramps; re-evaluated when a fade ends (a type or slope
    /// change waits for the fade-out).
    fn retarget_switches(&mut self) {
        let s = Self::sanitize(&self.settings);
        let mut pending = false;
        for (i, (pass, p)) in self.passes.iter_mut().zip([s.hpf, s.lpf]).enumerate() {
            let sections = &mut self.sections[i * MAX_SECTIONS..(i + 1) * MAX_SECTIONS];
            let idle = pass.idle();
            if pass.slope != p.slope && !idle {
                // Fade out first; the slope changes once the filter is out of the path.
                pass.mix.set_target(0.0);
                pending = true;
                continue;
            }
            if pass.slope != p.slope {
                pass.slope = p.slope;
                pass.dirty = true;
            }
            if idle && p.on {
                // Coming back into the path: start from rest, not from a stale state.
                sections.iter_mut().for_each(Section::clear);
            }
            pass.mix.set_target(if p.on { 1.0 } else { 0.0 });
        }
        for (k, (band, b)) in self.bands.iter_mut().zip(s.bands.iter()).enumerate() {
            let wanted = if s.eq_on && b.on { b.gain_db } else { 0.0 };
            let idle = band_idle(band);
            if band.kind != b.kind && !idle {
                // Ramp to 0 dB first; the type changes once the band is transparent.
                band.gain_db.set_target(0.0);
                pending = true;
                continue;
            }
            if band.kind != b.kind {
                band.kind = b.kind;
                band.dirty = true;
            }
            if idle && wanted != 0.0 {
                self.sections[band_section(k)].clear();
                self.sections[band_section(k) + 1].clear();
            }
            band.gain_db.set_target(wanted);
        }
        self.pending_switch = pending;
    }

    fn is_smoothing(&self) -> bool {
        self.passes.iter().any(|p| p.freq.is_smoothing())
            || self
                .bands
                .iter()
                .any(|b| b.freq.is_smoothing() || b.gain_db.is_smoothing() || b.q.is_smoothing())
    }

    /// Advances the frequency/gain/Q smoothers by one update interval and marks the
    /// sections whose parameters moved.
    fn advance_smoothers(&mut self, frames: usize) {
        for p in self.passes.iter_mut() {
            if p.freq.is_smoothing() {
                p.freq.skip(frames);
                p.dirty = true;
            }
        }
        for b in self.bands.iter_mut() {
            if b.freq.is_smoothing() || b.gain_db.is_smoothing() || b.q.is_smoothing() {
                b.freq.skip(frames);
                b.gain_db.skip(frames);
                b.q.skip(frames);
                b.dirty = true;
            }
        }
    }

    fn update_coefficients(&mut self) {
        let fs = self.sample_rate;
        for (i, p) in self.passes.iter_mut().enumerate() {
            if !p.dirty {
                continue;
            }
            p.dirty = false;
            let s = butterworth(p.kind, p.freq.current() as f64, p.slope, fs);
            p.coeffs = s.coeffs;
            p.len = s.len;
            for (sec, c) in self.sections[i * MAX_SECTIONS..(i + 1) * MAX_SECTIONS]
                .iter_mut()
                .zip(s.coeffs.iter())
            {
                sec.set(c);
            }
        }
        for (i, b) in self.bands.iter_mut().enumerate() {
            if !b.dirty {
                continue;
            }
            b.dirty = false;
            b.coeffs = design_band(
                b.kind,
                b.freq.current() as f64,
                b.q.current() as f64,
                b.gain_db.current() as f64,
                fs,
            );
            self.sections[band_section(i)].set(&b.coeffs.main);
            self.sections[band_section(i) + 1].set(&b.coeffs.correction);
        }
    }

    /// The magnitude in dB of what is running now (mid-ramp values included), for the
    /// editor's curve. A pass filter mid-fade counts as on.
    pub fn magnitude_db(&self, freq_hz: f64) -> f64 {
        let fs = self.sample_rate;
        let mut db = 0.0;
        for p in self.passes.iter().filter(|p| !p.idle()) {
            db += p.coeffs[..p.len]
                .iter()
                .map(|c| c.magnitude_db(freq_hz, fs))
                .sum::<f64>();
        }
        for b in self.bands.iter().filter(|b| !band_idle(b)) {
            db += b.coeffs.magnitude_db(freq_hz, fs);
        }
        db
    }

    /// Filters HPF, LPF and the six bands in place. `channels` holds 1 or 2 channels of
    /// equal length (further channels are left untouched). Non-finite input samples
    /// are treated as silence.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &EqSettings) {
        let _ftz = FlushDenormals::new();
        self.set_settings(settings);
        match channels {
            [] => {}
            [mono] => self.process_lanes(mono, None),
            [left, right, ..] => {
                debug_assert_eq!(left.len(), right.len());
                self.process_lanes(left, Some(right))
            }
        }
    }

    fn process_lanes(&mut self, left: &mut [f32], mut right: Option<&mut &mut [f32]>) {
        let frames = match right.as_deref() {
            Some(r) => left.len().min(r.len()),
            None => left.len(),
        };
        let mut start = 0;
        while start < frames {
            // Switch-like changes (a type or slope waiting for its fade-out) and the
            // return to direct form happen only on the update grid, so that any block
            // split makes the same decisions at the same samples.
            let on_grid = self.phase == 0;
            if on_grid && self.pending_switch {
                self.retarget_switches();
            }
            let moving = self.is_smoothing();
            let fading = self.passes.iter().any(Pass::fading);
            let want = if moving || fading {
                Structure::Svf
            } else {
                Structure::Direct
            };
            // To SVF before the coefficients move (the conversion needs the coefficients
            // the state belongs to), back to direct form after the last update.
            if want == Structure::Svf && self.structure == Structure::Direct {
                self.convert_structure(Structure::Svf);
            }
            if moving && on_grid {
                self.advance_smoothers(UPDATE_INTERVAL);
            }
            if self.passes.iter().any(|p| p.dirty) || self.bands.iter().any(|b| b.dirty) {
                self.update_coefficients();
            }
            if want == Structure::Direct && self.structure == Structure::Svf && on_grid {
                self.convert_structure(Structure::Direct);
            }
            // While anything moves (or the SVF still runs), stop at the next grid point;
            // otherwise run to the end of the block.
            let len = if self.structure == Structure::Svf {
                (UPDATE_INTERVAL - self.phase).min(frames - start)
            } else {
                frames - start
            };
            let end = start + len;
            let l = &mut left[start..end];
            match right.as_deref_mut() {
                Some(r) => self.run_chunk(l, Some(&mut r[start..end])),
                None => self.run_chunk(l, None),
            }
            self.phase = (self.phase + len) % UPDATE_INTERVAL;
            start = end;
        }
        self.recover_non_finite();
    }

    fn convert_structure(&mut self, to: Structure) {
        for s in self.sections.iter_mut() {
            s.convert(to);
        }
        self.structure = to;
    }

    /// Runs one chunk with fixed coefficients.
    fn run_chunk(&mut self, left: &mut [f32], right: Option<&mut [f32]>) {
        let hp_run = !self.passes[0].idle();
        let lp_run = !self.passes[1].idle();
        let hp_len = if hp_run { self.passes[0].len } else { 0 };
        let lp_len = if lp_run { self.passes[1].len } else { 0 };
        let fading = self.passes[0].fading() || self.passes[1].fading();

        // Gather the running sections into one contiguous list.
        let mut run = [Section::default(); NUM_SECTIONS];
        let mut index = [0usize; NUM_SECTIONS];
        let mut n = 0;
        for i in (0..hp_len).chain(MAX_SECTIONS..MAX_SECTIONS + lp_len) {
            run[n] = self.sections[i];
            index[n] = i;
            n += 1;
        }
        for (k, b) in self.bands.iter().enumerate() {
            if !band_idle(b) {
                run[n] = self.sections[band_section(k)];
                index[n] = band_section(k);
                n += 1;
                // The correction runs whenever it is in use, and in the SVF structure
                // always (as the identity if need be), so that it can come into use
                // mid-ramp with a meaningful state. At rest in direct form an identity
                // correction has exactly zero state and is skipped.
                if b.coeffs.has_correction() || self.structure == Structure::Svf || fading {
                    run[n] = self.sections[band_section(k) + 1];
                    index[n] = band_section(k) + 1;
                    n += 1;
                }
            }
        }
        if n == 0 && !fading {
            return;
        }
        if fading {
            match right {
                Some(right) => {
                    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                        let x = F64x2::new(sane(*l), sane(*r));
                        let [a, b] = self.run_fading(x, &mut run[..n], hp_len, lp_len).to_array();
                        *l = a as f32;
                        *r = b as f32;
                    }
                }
                None => {
                    for l in left.iter_mut() {
                        let x = F64x2::new(sane(*l), 0.0);
                        *l = self.run_fading(x, &mut run[..n], hp_len, lp_len).to_array()[0] as f32;
                    }
                }
            }
        } else {
            match self.structure {
                Structure::Svf => run_wavefront::<false>(&mut run[..n], left, right, self.avx),
                Structure::Direct => run_wavefront::<true>(&mut run[..n], left, right, self.avx),
            }
        }
        for (s, &i) in run[..n].iter().zip(index[..n].iter()) {
            self.sections[i].ic1 = s.ic1;
            self.sections[i].ic2 = s.ic2;
        }
    }

    /// One frame while a pass filter cross-fades: `run` holds HPF sections, LPF
    /// sections, then bands.
    #[inline]
    fn run_fading(&mut self, x: F64x2, run: &mut [Section], hp_len: usize, lp_len: usize) -> F64x2 {
        let mut v = x;
        let mut at = 0;
        for (p, len) in self.passes.iter_mut().zip([hp_len, lp_len]) {
            let w = p.mix.next() as f64;
            if len == 0 {
                continue;
            }
            let input = v;
            for s in run[at..at + len].iter_mut() {
                v = s.run_svf(v);
            }
            at += len;
            // At the ends of the fade exactly the filter's output or its input, as in
            // the non-fading path.
            if w == 0.0 {
                v = input;
            } else if w != 1.0 {
                v = input.add(F64x2::splat(w).mul(v.sub(input)));
            }
        }
        for s in run[at..].iter_mut() {
            v = s.run_svf(v);
        }
        v
    }

    /// A safety net: should a state ever become non-finite (it cannot from input, which
    /// is sanitised), clear it so the next block is clean.
    fn recover_non_finite(&mut self) {
        for s in self.sections.iter_mut() {
            if !s.is_finite() {
                s.clear();
            }
        }
    }
}

/// Frames per pass of [`run_wavefront`] (an 8 KiB `f64x2` buffer on the stack; each
/// pass ramps every group in and out, so longer passes waste fewer steps).
const WAVEFRONT_FRAMES: usize = 512;

/// Runs `sections` in series over the frames, in "wavefront" order: at step `t`,
/// section `j` processes frame `t − j`. Each frame still passes the sections in order
/// and each section sees its frames in order, so the result is bit-identical to the
/// plain frame-by-frame loop; but the sections of one step are independent of each
/// other, so the CPU overlaps them instead of waiting for one long chain of
/// dependent multiply-adds per frame (3–4× faster with ten sections).
fn run_wavefront<const DIRECT: bool>(
    sections: &mut [Section],
    left: &mut [f32],
    mut right: Option<&mut [f32]>,
    avx: bool,
) {
    let n = sections.len();
    if n == 0 {
        return;
    }
    let mut buf = [F64x2::default(); WAVEFRONT_FRAMES];
    let mut start = 0;
    while start < left.len() {
        let frames = (left.len() - start).min(WAVEFRONT_FRAMES);
        let l = &mut left[start..start + frames];
        match right.as_deref_mut() {
            Some(r) => {
                for ((v, &a), &b) in buf
                    .iter_mut()
                    .zip(l.iter())
                    .zip(r[start..start + frames].iter())
                {
                    *v = F64x2::new(sane(a), sane(b));
                }
            }
            None => {
                for (v, &a) in buf.iter_mut().zip(l.iter()) {
                    *v = F64x2::new(sane(a), 0.0);
                }
            }
        }
        let buf = &mut buf[..frames];
        if avx {
            run_groups_avx::<DIRECT>(sections, buf);
        } else {
            run_groups::<DIRECT>(sections, buf);
        }
        match right.as_deref_mut() {
            Some(r) => {
                for ((v, a), b) in buf
                    .iter()
                    .zip(l.iter_mut())
                    .zip(r[start..start + frames].iter_mut())
                {
                    let [x, y] = v.to_array();
                    *a = x as f32;
                    *b = y as f32;
                }
            }
            None => {
                for (v, a) in buf.iter().zip(l.iter_mut()) {
                    *a = v.to_array()[0] as f32;
                }
            }
        }
        start += frames;
    }
}

/// The most sections run together in one skewed pass: their ten `f64x2` states fit in
/// the sixteen SSE registers alongside the temporaries.
const MAX_GROUP: usize = 6;

/// Runs `sections` over `buf` in groups of at most [`MAX_GROUP`], as even as possible
/// (10 → 5 + 5), each group in skewed order.
fn run_groups<const DIRECT: bool>(sections: &mut [Section], buf: &mut [F64x2]) {
    let groups = sections.len().div_ceil(MAX_GROUP);
    let mut rest = &mut sections[..];
    for g in 0..groups {
        let size = (rest.len()).div_ceil(groups - g);
        let (group, tail) = rest.split_at_mut(size);
        match group.len() {
            6 => run_group::<6, DIRECT>(group, buf),
            5 => run_group::<5, DIRECT>(group, buf),
            4 => run_group::<4, DIRECT>(group, buf),
            3 => run_group::<3, DIRECT>(group, buf),
            2 => run_group::<2, DIRECT>(group, buf),
            _ => run_skewed::<DIRECT>(group, buf),
        }
        rest = tail;
    }
}

/// The most section pairs run together in one AVX pass: their states and the values in
/// flight (three `f64x4` per pair) fit in the sixteen AVX registers.
#[cfg(target_arch = "x86_64")]
const MAX_PAIRS: usize = 4;

/// [`run_groups`] with two sections per AVX register: groups of at most
/// `2 · MAX_PAIRS` sections, as even as possible (11 → 6 + 5), each run by
/// [`run_group_avx`].
#[cfg(target_arch = "x86_64")]
fn run_groups_avx<const DIRECT: bool>(sections: &mut [Section], buf: &mut [F64x2]) {
    let groups = sections.len().div_ceil(2 * MAX_PAIRS);
    let mut rest = &mut sections[..];
    for g in 0..groups {
        let size = (rest.len()).div_ceil(groups - g);
        let (group, tail) = rest.split_at_mut(size);
        // SAFETY: `ChannelEq` sets `avx` (the only way here) from `has_avx()`, so
        // the CPU runs the AVX instructions of `run_group_avx`.
        unsafe {
            match group.len().div_ceil(2) {
                4 => run_group_avx::<4, DIRECT>(group, buf),
                3 => run_group_avx::<3, DIRECT>(group, buf),
                2 => run_group_avx::<2, DIRECT>(group, buf),
                _ => run_group_avx::<1, DIRECT>(group, buf),
            }
        }
        rest = tail;
    }
}

/// Without AVX there is only [`run_groups`].
#[cfg(not(target_arch = "x86_64"))]
fn run_groups_avx<const DIRECT: bool>(sections: &mut [Section], buf: &mut [F64x2]) {
    run_groups::<DIRECT>(sections, buf);
}

/// [`run_group`] for `2·P − 1` or `2·P` sections, two per AVX register: pair `k` holds
/// section `k` in its low half and section `k + P` in its high half (a placeholder
/// that is never read when there is no such section). In the steady part every pair
/// takes the previous step's output of pair `k − 1` as it stands (section `k − 1` feeds
/// `k`, `k − 1 + P` feeds `k + P`), and pair 0 takes the next input frame and the
/// output of section `P − 1`. Each section sees the same inputs and does the same
/// operations as in [`run_group`], so the output is bit-identical; the CPU does twice
/// the work per instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn run_group_avx<const P: usize, const DIRECT: bool>(group: &mut [Section], buf: &mut [F64x2]) {
    let g = group.len();
    let frames = buf.len();
    if g < 2 || g > 2 * P || g + 1 < 2 * P || frames < g {
        run_skewed::<DIRECT>(group, buf);
        return;
    }
    // Ramp in: steps 0..g−1, where the later sections have no frame yet.
    run_skewed_steps::<DIRECT>(group, buf, 0, g - 1);
    // After the ramp-in, section j's latest output is frame g − 2 − j (j ≤ g − 2).
    let zero = F64x2::default();
    let latest = |j: usize| if j + 2 <= g { buf[g - 2 - j] } else { zero };
    let placeholder = Section::default();
    let mut pipe = [F64x4::splat(0.0); P];
    let mut ic1 = [F64x4::splat(0.0); P];
    let mut ic2 = [F64x4::splat(0.0); P];
    let mut direct = [DirectCoeffs4::pair(&placeholder.direct, &placeholder.direct); P];
    let mut svf = [SvfCoeffs4::pair(&placeholder.svf, &placeholder.svf); P];
    for k in 0..P {
        let lo = &group[k];
        let hi = group.get(k + P).unwrap_or(&placeholder);
        pipe[k] = F64x4::from_halves(latest(k), latest(k + P));
        ic1[k] = F64x4::from_halves(lo.ic1, hi.ic1);
        ic2[k] = F64x4::from_halves(lo.ic2, hi.ic2);
        direct[k] = DirectCoeffs4::pair(&lo.direct, &hi.direct);
        svf[k] = SvfCoeffs4::pair(&lo.svf, &hi.svf);
    }
    // The last section, g − 1, sits in the high half of pair g − 1 − P.
    let last = g - 1 - P;
    for t in g - 1..frames {
        let mut next = pipe;
        for k in 0..P {
            let x = if k == 0 {
                F64x4::with_lo_of(buf[t], pipe[P - 1])
            } else {
                pipe[k - 1]
            };
            next[k] = if DIRECT {
                direct[k].run(x, &mut ic1[k], &mut ic2[k])
            } else {
                svf[k].run(x, &mut ic1[k], &mut ic2[k])
            };
        }
        buf[t + 1 - g] = next[last].hi();
        pipe = next;
    }
    // Hand the frames still in flight back to the buffer for the ramp-out: section
    // j ≤ g − 2 last produced frame frames − 1 − j.
    for k in 0..P {
        if k + 2 <= g {
            buf[frames - 1 - k] = pipe[k].lo();
        }
        if k + P + 2 <= g {
            buf[frames - 1 - k - P] = pipe[k].hi();
        }
        group[k].ic1 = ic1[k].lo();
        group[k].ic2 = ic2[k].lo();
        if let Some(s) = group.get_mut(k + P) {
            s.ic1 = ic1[k].hi();
            s.ic2 = ic2[k].hi();
        }
    }
    // Ramp out: steps frames..frames + g − 1, the earlier sections are done.
    run_skewed_steps::<DIRECT>(group, buf, frames, frames + g - 1);
}

/// Skewed order over a buffer with the states in memory: at step `t`, section `j`
/// processes frame `t − j`. Used for the ramps in and out of [`run_group`] and for
/// single sections.
fn run_skewed<const DIRECT: bool>(sections: &mut [Section], buf: &mut [F64x2]) {
    run_skewed_steps::<DIRECT>(sections, buf, 0, buf.len() + sections.len() - 1);
}

/// Steps `t_from..t_to` of [`run_skewed`].
#[inline]
fn run_skewed_steps<const DIRECT: bool>(
    sections: &mut [Section],
    buf: &mut [F64x2],
    t_from: usize,
    t_to: usize,
) {
    let n = sections.len();
    let frames = buf.len();
    if n == 0 || frames == 0 {
        return;
    }
    for t in t_from..t_to {
        let lo = (t + 1).saturating_sub(n);
        let hi = t.min(frames - 1);
        if lo > hi {
            continue;
        }
        let first = t - hi;
        for (s, v) in sections[first..]
            .iter_mut()
            .zip(buf[lo..=hi].iter_mut().rev())
        {
            *v = if DIRECT {
                s.run_direct(*v)
            } else {
                s.run_svf(*v)
            };
        }
    }
}

/// `G` sections in skewed order with their states held in local variables (registers)
/// for the steady part: `G` independent recursions per step keep the floating-point
/// units busy, where one section alone would wait on its own feedback latency.
fn run_group<const G: usize, const DIRECT: bool>(sections: &mut [Section], buf: &mut [F64x2]) {
    let frames = buf.len();
    let Ok(group) = <&mut [Section; G]>::try_from(sections) else {
        return;
    };
    if frames < G {
        run_skewed::<DIRECT>(group, buf);
        return;
    }
    // Ramp in: steps 0..G−1, where the later sections have no frame yet.
    run_skewed_steps::<DIRECT>(group, buf, 0, G - 1);
    // Steady part: every section has a frame at every step. The values passed from
    // section to section stay in registers (`pipe[k]`: what section k produced at the
    // previous step), so the only memory traffic is the input of section 0 and the
    // finished output of section G − 1, off the critical path.
    let mut work: [Section; G] = *group;
    // After the ramp-in, section k's latest output is frame G − 2 − k.
    let mut pipe = [F64x2::default(); G];
    for (k, p) in pipe.iter_mut().enumerate().take(G - 1) {
        *p = buf[G - 2 - k];
    }
    for t in G - 1..frames {
        let mut next = [F64x2::default(); G];
        for k in 0..G {
            let x = if k == 0 { buf[t] } else { pipe[k - 1] };
            next[k] = if DIRECT {
                work[k].run_direct(x)
            } else {
                work[k].run_svf(x)
            };
        }
        buf[t + 1 - G] = next[G - 1];
        pipe = next;
    }
    // Hand the frames still in flight back to the buffer for the ramp-out.
    for (k, p) in pipe.iter().enumerate().take(G - 1) {
        buf[frames - 1 - k] = *p;
    }
    for (s, w) in group.iter_mut().zip(work.iter()) {
        s.ic1 = w.ic1;
        s.ic2 = w.ic2;
    }
    // Ramp out: steps `frames..frames + G − 1`, the earlier sections are done.
    run_skewed_steps::<DIRECT>(group, buf, frames, frames + G - 1);
}

#[inline(always)]
fn sane(x: f32) -> f64 {
    if x.is_finite() {
        x as f64
    } else {
        0.0
    }
}

/// A band is skipped when it rests at exactly 0 dB.
#[inline]
fn band_idle(b: &Band) -> bool {
    !b.gain_db.is_smoothing() && b.gain_db.current() == 0.0
}

#[cfg(test)]
mod tests {
    use super::super::butterworth::analog_db;
    use super::super::coeffs::{analog_bell_db, analog_high_shelf_db, analog_low_shelf_db};
    use super::*;
    use std::f64::consts::PI;

    /// Magnitude in dB of a real signal's DFT at `freq_hz` (naive single-bin DFT with a
    /// rotating phasor, f64).
    fn dft_db(h: &[f32], freq_hz: f64, fs: f64) -> f64 {
        let w = 2.0 * PI * freq_hz / fs;
        let (step_re, step_im) = (w.cos(), -w.sin());
        let (mut re, mut im) = (0.0f64, 0.0f64);
        let (mut pr, mut pi) = (1.0f64, 0.0f64);
        for &x in h {
            re += x as f64 * pr;
            im += x as f64 * pi;
            (pr, pi) = (pr * step_re - pi * step_im, pr * step_im + pi * step_re);
        }
        10.0 * (re * re + im * im).log10()
    }

    /// The impulse response of `eq` (settled at `settings`), `len` samples, mono.
    fn impulse_response(fs: f32, settings: &EqSettings, len: usize) -> Vec<f32> {
        let mut eq = ChannelEq::new(fs, 1);
        eq.set_settings_immediately(settings);
        let mut h = vec![0.0f32; len];
        h[0] = 1.0;
        eq.process(&mut [&mut h[..]], settings);
        h
    }

    fn log_freqs(n: usize) -> impl Iterator<Item = f64> {
        (0..n).map(move |i| 20.0 * 1000f64.powf(i as f64 / (n - 1) as f64))
    }

    fn one_band(kind: BandKind, freq_hz: f32, q: f32, gain_db: f32) -> EqSettings {
        let mut s = EqSettings::default();
        s.bands[2] = BandSettings {
            on: true,
            kind,
            freq_hz,
            gain_db,
            q,
        };
        s
    }

    #[test]
    fn measured_response_of_the_running_chain_matches_the_analog_prototype() {
        // Impulse response → DFT at 60 log-spaced points, 20 Hz – 20 kHz. 8192 samples
        // hold the response down to e^(−8) of its envelope for every case here (slowest
        // decay: Q 8 at 300 Hz, τ = 2Q/ω0 = 8.5 ms ≈ 370 samples at 44.1 kHz), so the
        // truncation error is below 0.01 dB and the f32 output rounding far below that.
        // Bounds are the issue's: 0.1 dB for centres ≤ 2 kHz, 0.5 dB above. The design
        // grid in full is checked analytically in `band::tests`.
        type Analog = fn(f64, f64, f64, f64) -> f64;
        const BELL: (BandKind, Analog) = (BandKind::Bell, analog_bell_db);
        const LOW: (BandKind, Analog) = (BandKind::LowShelf, analog_low_shelf_db);
        const HIGH: (BandKind, Analog) = (BandKind::HighShelf, analog_high_shelf_db);
        // The hardest corners of the design grid (wide bells and resonant shelves near
        // Nyquist, where the correction section works hardest) plus typical low bands,
        // each at all three rates.
        let corners: [((BandKind, Analog), f32, f32, f32); 12] = [
            (BELL, 1000.0, 2.0, 12.0),
            (BELL, 300.0, 8.0, -18.0),
            (BELL, 2000.0, 0.5, 18.0),
            (BELL, 8000.0, 0.5, -12.0),
            (BELL, 16_000.0, 1.0, 12.0),
            (BELL, 14_000.0, 0.707, -18.0),
            (LOW, 100.0, 0.707, -12.0),
            (LOW, 12_000.0, 8.0, 18.0),
            (LOW, 5000.0, 4.0, -6.0),
            (HIGH, 2000.0, 4.0, 18.0),
            (HIGH, 14_000.0, 8.0, -18.0),
            (HIGH, 16_000.0, 0.5, 18.0),
        ];
        let cases = [44_100.0f32, 48_000.0, 96_000.0]
            .into_iter()
            .flat_map(|fs| {
                corners.map(move |((kind, analog), fc, q, g)| {
                    let tol = if fc <= 2000.0 { 0.1 } else { 0.5 };
                    (fs, kind, analog, fc, q, g, tol)
                })
            });
        for (fs, kind, analog, fc, q, g, tol) in cases {
            let h = impulse_response(fs, &one_band(kind, fc, q, g), 8192);
            for f in log_freqs(60) {
                let measured = dft_db(&h, f, fs as f64);
                let expected = analog(f, fc as f64, q as f64, g as f64);
                assert!(
                    (measured - expected).abs() <= tol,
                    "{kind:?} {fc} Hz Q {q} {g} dB @ {fs}: {f:.0} Hz {measured:.3} vs {expected:.3}"
                );
            }
        }
    }

    #[test]
    fn the_measured_bilinear_bell_is_far_off_so_the_measurement_can_see_errors() {
        // Contrast for the test above: the textbook design run through the same SVF and
        // measured the same way misses the analog 16 kHz bell by more than 5 dB.
        let fs = 44_100.0;
        let mut f =
            super::super::svf::Biquad::new(BiquadCoeffs::bilinear_bell(16_000.0, 1.0, 12.0, fs));
        let mut h = vec![0.0f32; 4096];
        h[0] = 1.0;
        f.process(&mut h);
        let worst = log_freqs(60)
            .map(|fr| (dft_db(&h, fr, fs) - analog_bell_db(fr, 16_000.0, 1.0, 12.0)).abs())
            .fold(0.0, f64::max);
        assert!(worst > 5.0, "{worst}");
    }

    #[test]
    fn high_and_low_pass_are_minus_3_db_at_the_cutoff_and_have_the_stated_slope() {
        let fs = 48_000.0;
        for slope in Slope::ALL {
            for (kind, fc) in [(PassKind::Highpass, 1000.0f32), (PassKind::Lowpass, 1000.0)] {
                let mut s = EqSettings::default();
                let p = PassSettings {
                    on: true,
                    freq_hz: fc,
                    slope,
                };
                match kind {
                    PassKind::Highpass => s.hpf = p,
                    PassKind::Lowpass => s.lpf = p,
                }
                let h = impulse_response(fs, &s, 8192);
                let at = |f: f64| dft_db(&h, f, fs as f64);
                // −3.01 dB ± 0.1 dB (the bound).
                let cut = at(fc as f64);
                assert!((cut + 3.0103).abs() <= 0.1, "{kind:?} {slope:?}: {cut}");
                // Slope per octave measured over the octave starting one octave past the
                // cutoff (two octaves past for 6 dB/oct, whose knee is wider: the analog
                // first-order filter itself has only 5.3 dB/oct between 2 and 4 × fc).
                let start = if slope == Slope::Db6 { 4.0 } else { 2.0 };
                let (f1, f2) = match kind {
                    PassKind::Highpass => (fc as f64 / start, fc as f64 / (2.0 * start)),
                    PassKind::Lowpass => (fc as f64 * start, fc as f64 * 2.0 * start),
                };
                let measured = at(f1) - at(f2);
                let nominal = slope.db_per_octave() as f64;
                assert!(
                    (measured - nominal).abs() <= 0.5,
                    "{kind:?} {slope:?}: {measured} dB/oct (analog {})",
                    analog_db(kind, f1, fc as f64, slope) - analog_db(kind, f2, fc as f64, slope)
                );
            }
        }
    }

    #[test]
    fn a_band_at_0_db_or_off_leaves_the_signal_unchanged() {
        // The issue asks for −120 dB; a band at rest at 0 dB is skipped, so the output
        // is the input bit for bit (far below −120 dB).
        let input: Vec<f32> = (0..2048)
            .map(|i| ((i * 7919 % 2003) as f32 / 1001.5) - 1.0)
            .collect();
        let mut gains = EqSettings::default();
        for b in gains.bands.iter_mut() {
            b.gain_db = 9.0;
        }
        let mut off = gains;
        off.bands.iter_mut().for_each(|b| b.on = false);
        let mut master_off = gains;
        master_off.eq_on = false;
        for s in [EqSettings::default(), off, master_off] {
            let mut eq = ChannelEq::new(48_000.0, 2);
            // Start from the boosted state and switch: the ramps must end exactly at 0 dB.
            eq.set_settings_immediately(&gains);
            let mut warm = vec![0.1f32; 4096];
            eq.process(&mut [&mut warm[..]], &s);
            let (mut l, mut r) = (input.clone(), input.clone());
            eq.process(&mut [&mut l[..], &mut r[..]], &s);
            assert_eq!(l, input);
            assert_eq!(r, input);
        }
    }

    /// A small seedable PRNG (xorshift32) for test noise.
    fn noise(len: usize, mut seed: u32) -> Vec<f32> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as f32 / u32::MAX as f32 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn full_scale_noise_through_bands_sweeping_20_hz_to_20_khz_every_10_ms_stays_bounded() {
        for fs in [44_100.0f32, 96_000.0] {
            let mut eq = ChannelEq::new(fs, 2);
            let mut s = EqSettings::default();
            s.hpf.on = true;
            s.lpf.on = true;
            let block = 64;
            let blocks_per_sweep = ((0.010 * fs) as usize).div_ceil(block);
            let mut peak = 0.0f32;
            let (mut l, mut r) = (noise(block, 1), noise(block, 2));
            for n in 0..200 {
                // Three +18 dB bands (Q 8, 2 and 0.5) and the filters jump between
                // the ends of the range every 10 ms; settings change every block.
                let up = (n / blocks_per_sweep) % 2 == 0;
                let (lo, hi) = if up {
                    (20.0, 20_000.0)
                } else {
                    (20_000.0, 20.0)
                };
                for (i, q) in [(1, 8.0), (2, 2.0), (3, 0.5)] {
                    s.bands[i].gain_db = if n % 3 == 0 { 18.0 } else { 17.0 };
                    s.bands[i].q = q;
                    s.bands[i].freq_hz = if i % 2 == 0 { lo } else { hi };
                }
                s.hpf.freq_hz = if up { 10.0 } else { 2000.0 };
                s.lpf.freq_hz = if up { 22_000.0 } else { 1000.0 };
                l = noise(block, 3 + n as u32);
                r = noise(block, 1000 + n as u32);
                eq.process(&mut [&mut l[..], &mut r[..]], &s);
                peak = l.iter().chain(r.iter()).fold(peak, |p, x| p.max(x.abs()));
                assert!(l.iter().chain(r.iter()).all(|x| x.is_finite()));
            }
            // Three +18 dB bands can add at most 54 dB (×501) if their peaks coincide
            // while the noise (≤ 1) sits there; ×1000 leaves room for the crest factor
            // of filtered noise but still catches any instability, which grows without
            // bound.
            assert!(peak < 1000.0, "peak {peak} @ {fs}");
            let _ = (&l, &r);
        }
    }

    #[test]
    fn a_gain_change_does_not_click() {
        // A 1 kHz sine through band 3 whose gain jumps 0 → +12 dB: the output may move
        // no faster than a sine of the largest amplitude reached, i.e. the sample-to-
        // sample step stays ≤ 2·A_max·sin(π·f/fs) (5 % margin for the ramp itself).
        let fs = 48_000.0;
        let f = 1000.0;
        let mut eq = ChannelEq::new(fs, 1);
        let mut s = EqSettings::default();
        let mut x: Vec<f32> = (0..9600)
            .map(|n| (2.0 * PI * f * n as f64 / fs as f64).sin() as f32 * 0.25)
            .collect();
        let (first, second) = x.split_at_mut(2400);
        eq.process(&mut [first], &s);
        s.bands[2].gain_db = 12.0;
        eq.process(&mut [second], &s);
        let a_max = x.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        let limit = 2.0 * a_max * (PI * f / fs as f64).sin() * 1.05;
        let worst = x
            .windows(2)
            .map(|w| (w[1] - w[0]).abs() as f64)
            .fold(0.0, f64::max);
        assert!(worst <= limit, "step {worst} > {limit}");
        // And the gain did arrive: +12 dB on a 0.25 sine is about 1.0.
        assert!((a_max - 0.25 * 10f64.powf(0.6)).abs() < 0.01, "{a_max}");
    }

    fn busy_settings() -> EqSettings {
        let mut s = EqSettings {
            hpf: PassSettings {
                on: true,
                freq_hz: 40.0,
                slope: Slope::Db18,
            },
            lpf: PassSettings {
                on: true,
                freq_hz: 15_000.0,
                slope: Slope::Db48,
            },
            ..EqSettings::default()
        };
        for (i, b) in s.bands.iter_mut().enumerate() {
            b.gain_db = 4.0 - 2.0 * i as f32;
        }
        s.bands[3].kind = BandKind::HighShelf;
        s
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        // Bit-identical: ramps advance per sample, coefficient updates sit on a fixed
        // 16-sample grid of the running sample count, and the structure switch happens
        // at the same grid point whatever the block size. The settings change once at
        // the start (so every split sees the same parameter history).
        let input = noise(3000, 7);
        let run = |chunk: usize| {
            let mut eq = ChannelEq::new(44_100.0, 2);
            let (mut l, mut r) = (input.clone(), input.iter().map(|x| -x).collect::<Vec<_>>());
            let s = busy_settings();
            let mut start = 0;
            let mut sizes = [chunk, 1, chunk + 5, 13].into_iter().cycle();
            while start < l.len() {
                let end = (start + sizes.next().unwrap_or(1)).min(l.len());
                eq.process(&mut [&mut l[start..end], &mut r[start..end]], &s);
                start = end;
            }
            (l, r)
        };
        let reference = run(3000);
        for chunk in [1, 7, 64, 512] {
            let got = run(chunk);
            let first = got
                .0
                .iter()
                .zip(reference.0.iter())
                .position(|(a, b)| a != b);
            assert_eq!(
                first,
                None,
                "chunk {chunk}: {:?}",
                first.map(|i| (got.0[i], reference.0[i]))
            );
            assert_eq!(got, reference, "chunk {chunk}");
        }
    }

    #[test]
    fn avx_and_sse2_paths_give_bit_identical_output() {
        // Same operations per lane in the same order (no FMA), so the two-sections-per-
        // register AVX path must reproduce the SSE2 path bit for bit, for every number
        // of running sections (1…20: odd and even groups, the placeholder lane) and in
        // both structures (settings move for the first 20 ms, then rest).
        if !has_avx() {
            return;
        }
        let input = noise(4000, 3);
        let mut cases = Vec::new();
        for active in 0..=NUM_BANDS {
            for (hpf, lpf) in [(false, false), (true, false), (true, true)] {
                let mut s = busy_settings();
                s.hpf.on = hpf;
                s.lpf.on = lpf;
                for (i, b) in s.bands.iter_mut().enumerate() {
                    b.gain_db = if i < active {
                        6.0 - 2.5 * i as f32
                    } else {
                        0.0
                    };
                }
                // High bands at 44.1 kHz get correction sections.
                s.bands[5].freq_hz = 15_000.0;
                s.bands[4].freq_hz = 9_000.0;
                cases.push(s);
            }
        }
        for s in cases {
            let run = |avx: bool| {
                let mut eq = ChannelEq::new(44_100.0, 2);
                eq.avx = avx;
                let (mut l, mut r) = (input.clone(), input.iter().map(|x| -x).collect::<Vec<_>>());
                for (lc, rc) in l.chunks_mut(500).zip(r.chunks_mut(500)) {
                    eq.process(&mut [lc, rc], &s);
                }
                (l, r)
            };
            assert_eq!(run(true), run(false), "{s:?}");
        }
    }

    #[test]
    fn reset_reproduces_the_output_and_nan_input_recovers() {
        let input = noise(2000, 11);
        let s = busy_settings();
        let mut eq = ChannelEq::new(48_000.0, 1);
        eq.set_settings_immediately(&s);
        let mut a = input.clone();
        eq.process(&mut [&mut a[..]], &s);
        eq.reset();
        let mut b = input.clone();
        eq.process(&mut [&mut b[..]], &s);
        assert_eq!(a, b, "reset gives the same output again");

        let mut poisoned = input.clone();
        poisoned[10] = f32::NAN;
        poisoned[11] = f32::INFINITY;
        eq.process(&mut [&mut poisoned[..]], &s);
        assert!(poisoned.iter().all(|x| x.is_finite()));
        let mut clean = input.clone();
        eq.process(&mut [&mut clean[..]], &s);
        assert!(clean.iter().all(|x| x.is_finite()));
        assert!(
            clean.iter().any(|x| x.abs() > 0.01),
            "still processing signal"
        );
    }

    #[test]
    fn any_sample_rate_from_22k_to_384k_is_safe() {
        // An 18 kHz low-pass at 22.05 kHz is clamped below Nyquist; all outputs finite
        // and the pass band near 0 dB (±0.5 dB at 100 Hz for both filters engaged far
        // apart, which is the analog filters' own ripple-free pass band).
        for fs in [22_050.0f32, 44_100.0, 192_000.0, 384_000.0] {
            let mut s = EqSettings::default();
            s.hpf.on = true;
            s.hpf.freq_hz = 10.0;
            s.lpf.on = true;
            s.lpf.slope = Slope::Db48;
            s.bands[5].gain_db = 6.0;
            s.bands[5].freq_hz = 20_000.0;
            let h = impulse_response(fs, &s, 16_384);
            assert!(h.iter().all(|x| x.is_finite()), "@ {fs}");
            let db = dft_db(&h, 100.0, fs as f64);
            assert!(db.abs() < 0.5, "{db} @ {fs}");
            assert!((ChannelEq::new(fs, 2).magnitude_db(1000.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn editor_curve_equals_the_running_response() {
        let fs = 48_000.0;
        let s = busy_settings();
        let mut eq = ChannelEq::new(fs, 2);
        eq.set_settings_immediately(&s);
        for f in [30.0, 100.0, 1000.0, 5000.0, 14_000.0] {
            let running = eq.magnitude_db(f);
            let settings = s.magnitude_db(f, fs as f64);
            // Same designs, same summation: equal to f64 rounding.
            assert!(
                (running - settings).abs() < 1e-9,
                "{f}: {running} vs {settings}"
            );
        }
    }

    #[test]
    fn switching_type_and_slope_is_clean_and_ends_in_the_new_response() {
        let fs = 48_000.0;
        let mut eq = ChannelEq::new(fs, 1);
        let mut s = one_band(BandKind::Bell, 1000.0, 1.0, 6.0);
        s.hpf.on = true;
        eq.set_settings_immediately(&s);
        s.bands[2].kind = BandKind::LowShelf;
        s.hpf.slope = Slope::Db48;
        let mut x = noise(9600, 5);
        eq.process(&mut [&mut x[..]], &s);
        assert!(x.iter().all(|v| v.is_finite() && v.abs() < 4.0));
        for f in [50.0, 300.0, 1000.0, 3000.0] {
            let running = eq.magnitude_db(f);
            let wanted = s.magnitude_db(f, fs as f64);
            assert!(
                (running - wanted).abs() < 1e-9,
                "{f}: {running} vs {wanted}"
            );
        }
    }

    #[test]
    fn switching_a_filter_on_cross_fades_without_a_click() {
        // A 1 kHz sine, then the 12 dB/oct low-pass at 500 Hz switched on: during the
        // 10 ms fade the output moves no faster than a sine of the largest amplitude
        // reached (the bound of `a_gain_change_does_not_click`), and it ends at the
        // filter's steady-state level (analog −12.3 dB at one octave; ±0.3 dB for the
        // matched design and the 20 ms window's phase).
        let fs = 48_000.0;
        let f = 1000.0;
        let mut eq = ChannelEq::new(fs, 1);
        let mut s = EqSettings::default();
        s.lpf.freq_hz = 500.0;
        let mut x: Vec<f32> = (0..14_400)
            .map(|n| (2.0 * PI * f * n as f64 / fs as f64).sin() as f32 * 0.5)
            .collect();
        let (first, second) = x.split_at_mut(2400);
        eq.process(&mut [first], &s);
        s.lpf.on = true;
        eq.process(&mut [second], &s);
        let a_max = x.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        let limit = 2.0 * a_max * (PI * f / fs as f64).sin() * 1.05;
        let worst = x
            .windows(2)
            .map(|w| (w[1] - w[0]).abs() as f64)
            .fold(0.0, f64::max);
        assert!(worst <= limit, "step {worst} > {limit}");
        let tail = x[x.len() - 960..]
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        let db = 20.0 * (tail / 0.5).log10();
        let expected = analog_db(PassKind::Lowpass, f, 500.0, Slope::Db12);
        assert!((db - expected).abs() < 0.3, "{db} vs {expected}");
    }
}
