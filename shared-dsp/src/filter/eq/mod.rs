//! The channel strip's tone section: high-pass, low-pass and a six-band analog-matched
//! EQ, smoothed, stereo, zero latency.
//!
//! Signal path per channel: `HPF (0…4 sections) → LPF (0…4 sections) → bands 1…6`.
//! Every section is a [`BiquadCoeffs`] design with `f64` state; both channels share
//! coefficients and run as the two lanes of one `f64` pair, two sections side by side
//! in the pipelined cascade of [`super::cascade`] (one AVX register in the wide build
//! on CPUs with AVX2 and FMA, two SSE2 registers elsewhere; bit-identical output).
//! While any parameter
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

mod settings;
#[cfg(test)]
mod tests;

pub use settings::{BandKind, BandSettings, EqSettings, PassSettings};

use super::band::BandCoeffs;
use super::butterworth::{butterworth, PassKind, Slope, MAX_SECTIONS};
use super::cascade::{run_wavefront, sane, Section, Structure};
use super::coeffs::BiquadCoeffs;
use super::simd::F64x2;
use crate::denormal::FlushDenormals;
use crate::smoother::{Smoother, SmoothingStyle};
use settings::design_band;

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
    /// Let the sections run in the wide build where the CPU has it (the tests clear it
    /// to force the portable build; the CPU is asked either way).
    allow_wide: bool,
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
            allow_wide: true,
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
        let s = settings.sanitized();
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

    /// Takes new settings: starts ramps towards them. The same settings again cost one
    /// comparison.
    pub fn set_settings(&mut self, settings: &EqSettings) {
        if *settings == self.settings {
            return;
        }
        let s = settings.sanitized();
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
        let s = self.settings.sanitized();
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
                Structure::Svf => {
                    run_wavefront::<false>(&mut run[..n], left, right, self.allow_wide)
                }
                Structure::Direct => {
                    run_wavefront::<true>(&mut run[..n], left, right, self.allow_wide)
                }
            }
        }
        for (s, &i) in run[..n].iter().zip(index[..n].iter()) {
            self.sections[i].take_state(s);
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

/// A band is skipped when it rests at exactly 0 dB.
#[inline]
fn band_idle(b: &Band) -> bool {
    !b.gain_db.is_smoothing() && b.gain_db.current() == 0.0
}
