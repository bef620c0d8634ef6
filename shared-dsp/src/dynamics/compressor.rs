//! The channel compressor: feed-forward, log-domain, no latency.
//!
//! Signal flow per frame (Giannoulis, Massberg and Reiss, JAES 2012, fig. 7, the
//! "log domain, level detection after the gain computer" design):
//!
//! ```text
//! key (own input or external sidechain) → sidechain HPF → detector (peak | RMS, power)
//!   → stereo link (blend toward the loudest channel) → dB → gain computer
//!   → gain reduction → ballistics (10–90 % attack / release, or auto release)
//!   → gain → × makeup → mix with the dry signal
//! ```
//!
//! Nothing is delayed, so the dry and wet paths of the mix are sample-aligned and
//! `mix = 50 %` is exactly the average of dry and fully compressed output.

use super::ballistics::{AutoReleaseBallistics, Ballistics};
use super::detector::{DetectorMode, LevelDetector};
use super::fast_math::{fast_db_to_gain, fast_exp2, fast_power_to_db, DB_PER_LOG2_POWER};
use super::gain_computer::GainComputer;
use super::CHUNK;
use crate::db::db_to_gain;
use crate::denormal::FlushDenormals;
use crate::sanitize::replace_non_finite;
use crate::smoother::{Smoother, SmoothingStyle};

/// The RMS detector's window: 10 ms holds a whole number of half periods of every
/// tone whose frequency is a multiple of 50 Hz, and follows transients within 10 ms.
pub const COMPRESSOR_RMS_WINDOW_MS: f32 = 10.0;

/// Ramp time of the smoothed continuous settings (threshold, ratio, knee, link, makeup,
/// mix): the same 20 ms as [`crate::gain::GAIN_RAMP_MS`].
pub const SETTINGS_RAMP_MS: f32 = crate::gain::GAIN_RAMP_MS;

/// Compressor settings in plain units. Out-of-range values are clamped to the ranges
/// below by [`CompressorSettings::sanitized`], which the compressor applies itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorSettings {
    /// Threshold, −60 to 0 dBFS (a sine's peak level; see [`DetectorMode`]).
    pub threshold_db: f32,
    /// Ratio from 1 (no compression) to `f32::INFINITY` (∞:1, flat above threshold).
    pub ratio: f32,
    /// Soft-knee width, 0 (hard) to 24 dB, centred on the threshold.
    pub knee_db: f32,
    /// Attack: the **10 %–90 % time** of the gain reduction on a step of the input
    /// level (exact with the peak detector), 0.05 to 300 ms.
    pub attack_ms: f32,
    /// Release: the 10 %–90 % time of the gain recovery on a step down, 5 to 5000 ms.
    /// With `auto_release` it is the release after sustained gain reduction.
    pub release_ms: f32,
    /// Program-dependent release (see [`AutoReleaseBallistics`]).
    pub auto_release: bool,
    /// Peak or RMS (10 ms window) detection.
    pub detector: DetectorMode,
    /// High-pass on the detector's input, 20 to 500 Hz; `None` = off.
    pub sidechain_hpf_hz: Option<f32>,
    /// Detect from the external sidechain block passed to `process` (when one is given).
    pub external_sidechain: bool,
    /// Stereo link, 0 (each channel on its own) to 100 % (one gain from the loudest).
    pub link_percent: f32,
    /// Make-up gain, −12 to +36 dB.
    pub makeup_db: f32,
    /// Adds [`auto_makeup_db`] to the make-up gain.
    pub auto_makeup: bool,
    /// Dry/wet mix for parallel compression, 0 (dry) to 100 % (fully compressed).
    pub mix_percent: f32,
}

impl Default for CompressorSettings {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 4.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 100.0,
            auto_release: false,
            detector: DetectorMode::Peak,
            sidechain_hpf_hz: None,
            external_sidechain: false,
            link_percent: 100.0,
            makeup_db: 0.0,
            auto_makeup: false,
            mix_percent: 100.0,
        }
    }
}

/// `value` clamped to `[lo, hi]`, or `default` if it is NaN.
fn clamp_or(value: f32, lo: f32, hi: f32, default: f32) -> f32 {
    if value.is_nan() {
        default
    } else {
        value.clamp(lo, hi)
    }
}

impl CompressorSettings {
    /// The settings with every value inside its documented range (NaN → default).
    pub fn sanitized(&self) -> Self {
        let d = Self::default();
        Self {
            threshold_db: clamp_or(self.threshold_db, -60.0, 0.0, d.threshold_db),
            ratio: clamp_or(self.ratio, 1.0, f32::INFINITY, d.ratio),
            knee_db: clamp_or(self.knee_db, 0.0, 24.0, d.knee_db),
            attack_ms: clamp_or(self.attack_ms, 0.05, 300.0, d.attack_ms),
            release_ms: clamp_or(self.release_ms, 5.0, 5000.0, d.release_ms),
            sidechain_hpf_hz: self
                .sidechain_hpf_hz
                .filter(|f| !f.is_nan())
                .map(|f| f.clamp(20.0, 500.0)),
            link_percent: clamp_or(self.link_percent, 0.0, 100.0, d.link_percent),
            makeup_db: clamp_or(self.makeup_db, -12.0, 36.0, d.makeup_db),
            mix_percent: clamp_or(self.mix_percent, 0.0, 100.0, d.mix_percent),
            ..*self
        }
    }

    /// The gain computer these settings describe.
    pub fn gain_computer(&self) -> GainComputer {
        GainComputer::compressor(self.threshold_db, self.ratio, self.knee_db)
    }
}

/// Automatic make-up gain: half the static gain reduction of a 0 dBFS level,
/// `−gain_db(0 dBFS) / 2` (Giannoulis et al. suggest the full `−gain_db(0)`, which
/// makes a full-scale input come out at full scale; half of it keeps the loudness of
/// typical material, which peaks well below 0 dBFS, closer to the bypassed level).
pub fn auto_makeup_db(threshold_db: f32, ratio: f32, knee_db: f32) -> f32 {
    -0.5 * GainComputer::compressor(threshold_db, ratio, knee_db).gain_db(0.0)
}

/// Per-channel state.
#[derive(Debug, Clone)]
struct Channel {
    detector: LevelDetector,
    ballistics: Ballistics,
    auto: AutoReleaseBallistics,
}

/// A feed-forward compressor for 1 or 2 (up to `max_channels`) channels. See the module
/// notes for the signal flow; no latency.
#[derive(Debug, Clone)]
pub struct Compressor {
    sample_rate: f32,
    applied: CompressorSettings,
    threshold_db: Smoother,
    inverse_ratio: Smoother,
    knee_db: Smoother,
    link: Smoother,
    makeup: Smoother,
    mix: Smoother,
    computer: GainComputer,
    /// Detector power at the start of the knee: below it the gain is exactly 0 dB.
    knee_start_power: f32,
    curve_moving: bool,
    channels: Vec<Channel>,
    key: Vec<[f32; CHUNK]>,
    gains: Vec<[f32; CHUNK]>,
    dry: [f32; CHUNK],
    wet: [f32; CHUNK],
    gain_reduction_db: f32,
}

impl Compressor {
    /// A compressor for up to `max_channels` channels at `sample_rate`, with default
    /// settings, at rest.
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        let max_channels = max_channels.max(1);
        let s = CompressorSettings::default();
        let smoother = |value| Smoother::new(SmoothingStyle::Linear, SETTINGS_RAMP_MS, sample_rate, value);
        let channel = Channel {
            detector: LevelDetector::new(sample_rate, COMPRESSOR_RMS_WINDOW_MS, s.detector),
            ballistics: Ballistics::new(sample_rate, s.attack_ms, s.release_ms),
            auto: AutoReleaseBallistics::new(sample_rate, s.attack_ms, s.release_ms),
        };
        let mut c = Self {
            sample_rate,
            applied: s,
            threshold_db: smoother(s.threshold_db),
            inverse_ratio: smoother(1.0 / s.ratio),
            knee_db: smoother(s.knee_db),
            link: smoother(s.link_percent / 100.0),
            makeup: smoother(db_to_gain(s.makeup_db)),
            mix: smoother(s.mix_percent / 100.0),
            computer: s.gain_computer(),
            knee_start_power: 0.0,
            curve_moving: false,
            channels: vec![channel; max_channels],
            key: vec![[0.0; CHUNK]; max_channels],
            gains: vec![[1.0; CHUNK]; max_channels],
            dry: [0.0; CHUNK],
            wet: [1.0; CHUNK],
            gain_reduction_db: 0.0,
        };
        c.update_curve(s.threshold_db, 1.0 / s.ratio, s.knee_db);
        c
    }

    /// The sample rate given to `new`.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Latency in samples: always 0.
    pub fn latency(&self) -> usize {
        0
    }

    /// The settings in use (sanitised).
    pub fn settings(&self) -> &CompressorSettings {
        &self.applied
    }

    /// Gain reduction as a positive number of dB (6.0 = 6 dB quieter): the largest over
    /// the channels and frames of the last block. For meters (the plugin copies it to an
    /// atomic after each block).
    pub fn gain_reduction_db(&self) -> f32 {
        self.gain_reduction_db
    }

    /// The static curve for the current settings.
    pub fn gain_computer(&self) -> GainComputer {
        self.applied.gain_computer()
    }

    /// Clears all signal state (detectors, ballistics) and jumps every smoothed setting
    /// to its target; keeps the settings.
    pub fn reset(&mut self) {
        for ch in &mut self.channels {
            ch.detector.reset();
            ch.ballistics.reset();
            ch.auto.reset();
        }
        for s in [
            &mut self.threshold_db,
            &mut self.inverse_ratio,
            &mut self.knee_db,
            &mut self.link,
            &mut self.makeup,
            &mut self.mix,
        ] {
            s.reset_to(s.target());
        }
        self.update_curve(
            self.threshold_db.current(),
            self.inverse_ratio.current(),
            self.knee_db.current(),
        );
        self.curve_moving = false;
        self.gain_reduction_db = 0.0;
    }

    /// Applies settings (sanitised first). Applying the same settings again costs one
    /// comparison. Continuous values ramp over [`SETTINGS_RAMP_MS`]; time constants and
    /// switches take effect at once (the ballistics keep the gain continuous).
    pub fn set_settings(&mut self, settings: &CompressorSettings) {
        let s = settings.sanitized();
        if s == self.applied {
            return;
        }
        let old = self.applied;
        self.threshold_db.set_target(s.threshold_db);
        self.inverse_ratio.set_target(1.0 / s.ratio);
        self.knee_db.set_target(s.knee_db);
        self.curve_moving = self.threshold_db.is_smoothing()
            || self.inverse_ratio.is_smoothing()
            || self.knee_db.is_smoothing();
        self.link.set_target(s.link_percent / 100.0);
        self.mix.set_target(s.mix_percent / 100.0);
        let auto_db = if s.auto_makeup {
            auto_makeup_db(s.threshold_db, s.ratio, s.knee_db)
        } else {
            0.0
        };
        self.makeup.set_target(db_to_gain(s.makeup_db + auto_db));
        if s.attack_ms != old.attack_ms || s.release_ms != old.release_ms {
            for ch in &mut self.channels {
                ch.ballistics.set_times(self.sample_rate, s.attack_ms, s.release_ms);
                ch.auto.set_times(self.sample_rate, s.attack_ms, s.release_ms);
            }
        }
        if s.auto_release != old.auto_release {
            for ch in &mut self.channels {
                if s.auto_release {
                    ch.auto.start_from(ch.ballistics.state_db());
                } else {
                    ch.ballistics.set_state_db(ch.auto.state_db());
                }
            }
        }
        for ch in &mut self.channels {
            ch.detector.set_mode(s.detector);
        }
        self.applied = s;
    }

    fn update_curve(&mut self, threshold_db: f32, inverse_ratio: f32, knee_db: f32) {
        self.computer = GainComputer::from_inverse_ratio(threshold_db, inverse_ratio, knee_db);
        self.knee_start_power = fast_exp2(self.computer.knee_start_db() / DB_PER_LOG2_POWER);
    }

    /// Compresses `channels` in place (1 to `max_channels` channels of equal length;
    /// extra channels are left untouched, a shorter channel limits the frames processed).
    ///
    /// `sidechain`: the external key (1 or more channels, at least as long as the main
    /// block; channel `c` is keyed by sidechain channel `min(c, len − 1)`). Used only when
    /// `settings.external_sidechain` is on; ignored (own input used) if it is `None`,
    /// empty or too short. Non-finite input samples are replaced by silence.
    pub fn process(
        &mut self,
        channels: &mut [&mut [f32]],
        sidechain: Option<&[&[f32]]>,
        settings: &CompressorSettings,
    ) {
        let _ftz = FlushDenormals::new();
        self.set_settings(settings);
        let n_ch = channels.len().min(self.channels.len());
        if n_ch == 0 {
            self.gain_reduction_db = 0.0;
            return;
        }
        let channels = &mut channels[..n_ch];
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        for ch in channels.iter_mut() {
            replace_non_finite(&mut ch[..frames]);
        }
        let sidechain = if self.applied.external_sidechain {
            sidechain.filter(|sc| !sc.is_empty() && sc.iter().all(|c| c.len() >= frames))
        } else {
            None
        };
        let mut block_gr = 0.0f32;
        let mut start = 0;
        while start < frames {
            let len = (frames - start).min(CHUNK);
            let end = start + len;
            for (c, state) in self.channels[..n_ch].iter_mut().enumerate() {
                let key = &mut self.key[c][..len];
                match sidechain {
                    Some(sc) => {
                        let src = &sc[c.min(sc.len() - 1)][start..end];
                        for (k, &s) in key.iter_mut().zip(src) {
                            *k = if s.is_finite() { s } else { 0.0 };
                        }
                    }
                    None => key.copy_from_slice(&channels[c][start..end]),
                }
                // TODO(sidechain HPF): filled in once `shared_dsp::filter` lands.
                state.detector.process_in_place(key);
            }
            block_gr = block_gr.max(self.compute_gains(n_ch, len));
            self.apply_gains(channels, start, len);
            start = end;
        }
        self.gain_reduction_db = block_gr;
    }

    /// Fills `self.gains[c][..len]` from `self.key[c][..len]` (detector powers); returns
    /// the largest gain reduction reached.
    #[inline]
    fn compute_gains(&mut self, n_ch: usize, len: usize) -> f32 {
        let auto = self.applied.auto_release;
        let mut max_gr = 0.0f32;
        let link_moving = self.link.is_smoothing();
        let mut link = self.link.current();
        for i in 0..len {
            if self.curve_moving {
                let t = self.threshold_db.next();
                let r = self.inverse_ratio.next();
                let k = self.knee_db.next();
                self.update_curve(t, r, k);
                self.curve_moving = self.threshold_db.is_smoothing()
                    || self.inverse_ratio.is_smoothing()
                    || self.knee_db.is_smoothing();
            }
            if link_moving {
                link = self.link.next();
            }
            let mut loudest = 0.0f32;
            for key in &self.key[..n_ch] {
                loudest = loudest.max(key[i]);
            }
            if link >= 1.0 || n_ch == 1 {
                // Fully linked: one logarithm per frame, one exponential per distinct
                // channel state (the states agree once they have converged).
                let target = self.target_db(loudest);
                let mut previous: Option<(f32, f32)> = None;
                for (c, ch) in self.channels[..n_ch].iter_mut().enumerate() {
                    let gr = smooth(ch, auto, target);
                    max_gr = max_gr.max(gr);
                    let gain = match previous {
                        Some((p_gr, p_gain)) if p_gr == gr => p_gain,
                        _ => to_gain(gr),
                    };
                    previous = Some((gr, gain));
                    self.gains[c][i] = gain;
                }
            } else {
                for c in 0..n_ch {
                    let own = self.key[c][i];
                    let power = own + link * (loudest - own);
                    let target = self.target_db(power);
                    let gr = smooth(&mut self.channels[c], auto, target);
                    max_gr = max_gr.max(gr);
                    self.gains[c][i] = to_gain(gr);
                }
            }
        }
        max_gr
    }

    /// The target gain reduction (dB, ≥ 0) for a detector power.
    #[inline]
    fn target_db(&self, power: f32) -> f32 {
        if power <= self.knee_start_power {
            0.0
        } else {
            -self.computer.gain_db(fast_power_to_db(power))
        }
    }

    /// Multiplies the block by `dry + wet·gain` per frame, `wet` holding the make-up.
    #[inline]
    fn apply_gains(&mut self, channels: &mut [&mut [f32]], start: usize, len: usize) {
        if !self.makeup.is_smoothing() && !self.mix.is_smoothing() {
            let wet_amount = self.mix.current();
            let dry = 1.0 - wet_amount;
            let wet = wet_amount * self.makeup.current();
            for (channel, gains) in channels.iter_mut().zip(&self.gains) {
                for (x, &g) in channel[start..start + len].iter_mut().zip(&gains[..len]) {
                    *x *= dry + wet * g;
                }
            }
        } else {
            for i in 0..len {
                let wet_amount = self.mix.next();
                self.dry[i] = 1.0 - wet_amount;
                self.wet[i] = wet_amount * self.makeup.next();
            }
            for (channel, gains) in channels.iter_mut().zip(&self.gains) {
                let frames = channel[start..start + len].iter_mut().zip(&gains[..len]);
                for ((x, &g), (&dry, &wet)) in frames.zip(self.dry.iter().zip(&self.wet)) {
                    *x *= dry + wet * g;
                }
            }
        }
    }
}

/// One ballistics step for a channel.
#[inline]
fn smooth(ch: &mut Channel, auto: bool, target_db: f32) -> f32 {
    if auto {
        ch.auto.tick(target_db)
    } else {
        ch.ballistics.tick(target_db)
    }
}

/// Gain reduction (dB, ≥ 0) to an amplitude gain.
#[inline]
fn to_gain(gr_db: f32) -> f32 {
    if gr_db == 0.0 {
        1.0
    } else {
        fast_db_to_gain(-gr_db)
    }
}
