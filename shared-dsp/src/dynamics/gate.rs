//! The channel gate / downward expander: threshold with hysteresis, hold, range,
//! ratio (∞ = gate), attack and release. No latency.
//!
//! Per frame:
//!
//! ```text
//! key (own input or external sidechain) → key filter (HPF, LPF) → |x|², loudest channel
//!   → open/close state (hysteresis, hold) → target gain reduction
//!   → ballistics (attack = opening, release = closing, 10–90 % times) → gain
//! ```
//!
//! **Open/close.** The gate opens on the first key sample at or above the threshold. It
//! stays open while key samples reach `threshold − hysteresis`; it closes
//! [`GATE_DETECTOR_HOLD_MS`] + `hold_ms` after the last such sample. The built-in
//! 10 ms bridge the troughs and zero crossings of any tone down to 50 Hz, so a tone that
//! sits between the two thresholds cannot make the gate chatter, even with zero hold;
//! the hold is exact to the sample from there.
//!
//! **Closed.** At ratio ∞ the gain reduction target is the range. At a finite ratio the
//! gate is a downward expander below the threshold, `(R − 1)·(T − L)` dB limited to the
//! range ([`GainComputer::expander`], hard knee), where `L` is the key's peak over the
//! last 5–10 ms ([`GATE_PEAK_BUCKET_MS`]). Open, the gain reduction target is 0 dB; the
//! hysteresis therefore keeps an expander fully open down to `T − hysteresis`.
//!
//! The detector is always linked across channels (the loudest channel keys all of
//! them), as on a console's stereo gate: both sides of a stereo source open together.

use super::ballistics::Ballistics;
use super::fast_math::{fast_db_to_gain, fast_exp2, fast_power_to_db, DB_PER_LOG2_POWER};
use super::gain_computer::GainComputer;
use super::CHUNK;
use crate::denormal::FlushDenormals;
use crate::sanitize::replace_non_finite;
use crate::smoother::{Smoother, SmoothingStyle};

/// Built-in hold (ms) that bridges the zero crossings of tones down to 50 Hz (half a
/// period of 50 Hz is 10 ms). The gate closes this + `hold_ms` after the last key
/// sample at or above `threshold − hysteresis`.
pub const GATE_DETECTOR_HOLD_MS: f32 = 10.0;

/// The expander's level is the key's peak over two buckets of this length (a sliding
/// maximum over 5–10 ms): ripple-free for tones down to 100 Hz.
pub const GATE_PEAK_BUCKET_MS: f32 = 5.0;

/// Ramp time of threshold, hysteresis and range.
pub const GATE_SETTINGS_RAMP_MS: f32 = crate::gain::GAIN_RAMP_MS;

/// Gate / expander settings in plain units, clamped to the ranges below by
/// [`GateSettings::sanitized`] (which the gate applies itself).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateSettings {
    /// Opening threshold, −80 to 0 dBFS (peak level of the key).
    pub threshold_db: f32,
    /// Maximum attenuation, 0 to 80 dB.
    pub range_db: f32,
    /// Expander ratio below the threshold, 1 to `f32::INFINITY` (= gate).
    pub ratio: f32,
    /// Opening time, 10 %–90 % of the gain change (dB), 0.05 to 100 ms.
    pub attack_ms: f32,
    /// Hold after the key falls below `threshold − hysteresis`, 0 to 2000 ms (added to
    /// the built-in [`GATE_DETECTOR_HOLD_MS`]).
    pub hold_ms: f32,
    /// Closing time, 10 %–90 % of the gain change (dB), 5 to 5000 ms.
    pub release_ms: f32,
    /// The gate closes at `threshold − hysteresis`, 0 to 20 dB.
    pub hysteresis_db: f32,
    /// Key filter high-pass, 20 Hz to 20 kHz; `None` = off.
    pub key_hpf_hz: Option<f32>,
    /// Key filter low-pass, 20 Hz to 20 kHz; `None` = off. With both on, a band-pass.
    pub key_lpf_hz: Option<f32>,
    /// Key from the external sidechain block passed to `process` (when one is given).
    pub external_sidechain: bool,
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            threshold_db: -40.0,
            range_db: 80.0,
            ratio: f32::INFINITY,
            attack_ms: 0.5,
            hold_ms: 20.0,
            release_ms: 100.0,
            hysteresis_db: 3.0,
            key_hpf_hz: None,
            key_lpf_hz: None,
            external_sidechain: false,
        }
    }
}

fn clamp_or(value: f32, lo: f32, hi: f32, default: f32) -> f32 {
    if value.is_nan() {
        default
    } else {
        value.clamp(lo, hi)
    }
}

impl GateSettings {
    /// The settings with every value inside its documented range (NaN → default).
    pub fn sanitized(&self) -> Self {
        let d = Self::default();
        let freq = |f: Option<f32>| f.filter(|f| !f.is_nan()).map(|f| f.clamp(20.0, 20_000.0));
        Self {
            threshold_db: clamp_or(self.threshold_db, -80.0, 0.0, d.threshold_db),
            range_db: clamp_or(self.range_db, 0.0, 80.0, d.range_db),
            ratio: clamp_or(self.ratio, 1.0, f32::INFINITY, d.ratio),
            attack_ms: clamp_or(self.attack_ms, 0.05, 100.0, d.attack_ms),
            hold_ms: clamp_or(self.hold_ms, 0.0, 2000.0, d.hold_ms),
            release_ms: clamp_or(self.release_ms, 5.0, 5000.0, d.release_ms),
            hysteresis_db: clamp_or(self.hysteresis_db, 0.0, 20.0, d.hysteresis_db),
            key_hpf_hz: freq(self.key_hpf_hz),
            key_lpf_hz: freq(self.key_lpf_hz),
            ..*self
        }
    }

    /// The static curve while the gate is closed (hard knee).
    pub fn gain_computer(&self) -> GainComputer {
        GainComputer::expander(self.threshold_db, self.ratio, 0.0, self.range_db)
    }
}

/// dB of a power to that power.
#[inline]
fn db_to_power(db: f32) -> f32 {
    fast_exp2(db / DB_PER_LOG2_POWER)
}

/// A gate / downward expander for up to `max_channels` linked channels. See the module
/// notes; no latency.
#[derive(Debug, Clone)]
pub struct Gate {
    sample_rate: f32,
    max_channels: usize,
    applied: GateSettings,
    threshold_db: Smoother,
    hysteresis_db: Smoother,
    range_db: Smoother,
    levels_moving: bool,
    computer: GainComputer,
    open_power: f32,
    close_power: f32,
    /// Samples the gate waits after the last key sample above the close threshold.
    hold_total: u32,
    hold_left: u32,
    open: bool,
    bucket_samples: u32,
    bucket_count: u32,
    bucket_current: f32,
    bucket_previous: f32,
    ballistics: Ballistics,
    last_gr: f32,
    last_gain: f32,
    key: Vec<[f32; CHUNK]>,
    gains: [f32; CHUNK],
    gain_reduction_db: f32,
    transitions: u64,
}

impl Gate {
    /// A gate for up to `max_channels` channels at `sample_rate`, default settings,
    /// closed and at rest.
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        let max_channels = max_channels.max(1);
        let s = GateSettings::default();
        let smoother = |value| {
            Smoother::new(
                SmoothingStyle::Linear,
                GATE_SETTINGS_RAMP_MS,
                sample_rate,
                value,
            )
        };
        let bucket = (GATE_PEAK_BUCKET_MS * 1e-3 * sample_rate).round().max(1.0) as u32;
        let mut g = Self {
            sample_rate,
            max_channels,
            applied: s,
            threshold_db: smoother(s.threshold_db),
            hysteresis_db: smoother(s.hysteresis_db),
            range_db: smoother(s.range_db),
            levels_moving: false,
            computer: s.gain_computer(),
            open_power: 0.0,
            close_power: 0.0,
            hold_total: 1,
            hold_left: 0,
            open: false,
            bucket_samples: bucket,
            bucket_count: 0,
            bucket_current: 0.0,
            bucket_previous: 0.0,
            ballistics: Ballistics::new(sample_rate, s.release_ms, s.attack_ms),
            last_gr: 0.0,
            last_gain: 1.0,
            key: vec![[0.0; CHUNK]; max_channels],
            gains: [1.0; CHUNK],
            gain_reduction_db: 0.0,
            transitions: 0,
        };
        g.update_levels(s.threshold_db, s.hysteresis_db, s.range_db);
        g.hold_total = g.hold_samples(s.hold_ms);
        g.reset();
        g
    }

    fn hold_samples(&self, hold_ms: f32) -> u32 {
        let ms = GATE_DETECTOR_HOLD_MS + hold_ms;
        ((ms * 1e-3 * self.sample_rate).round() as u32).max(1)
    }

    fn update_levels(&mut self, threshold_db: f32, hysteresis_db: f32, range_db: f32) {
        self.open_power = db_to_power(threshold_db);
        self.close_power = db_to_power(threshold_db - hysteresis_db);
        self.computer = GainComputer::expander(threshold_db, self.applied.ratio, 0.0, range_db);
    }

    /// Latency in samples: always 0.
    pub fn latency(&self) -> usize {
        0
    }

    /// The settings in use (sanitised).
    pub fn settings(&self) -> &GateSettings {
        &self.applied
    }

    /// Whether the gate is open (after the last processed frame).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// How many times the gate has opened or closed since `new`/`reset`.
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// Gain reduction as a positive number of dB: the largest in the last block. For
    /// meters.
    pub fn gain_reduction_db(&self) -> f32 {
        self.gain_reduction_db
    }

    /// Closes the gate at rest (full range, as a gate sits before any signal), clears the
    /// detector; smoothed settings jump to their targets.
    pub fn reset(&mut self) {
        for s in [
            &mut self.threshold_db,
            &mut self.hysteresis_db,
            &mut self.range_db,
        ] {
            s.reset_to(s.target());
        }
        self.levels_moving = false;
        self.update_levels(
            self.threshold_db.current(),
            self.hysteresis_db.current(),
            self.range_db.current(),
        );
        self.open = false;
        self.hold_left = 0;
        self.bucket_count = 0;
        self.bucket_current = 0.0;
        self.bucket_previous = 0.0;
        let range = self.range_db.current();
        self.ballistics.set_state_db(range);
        self.last_gr = range;
        self.last_gain = fast_db_to_gain(-range);
        self.gain_reduction_db = range;
        self.transitions = 0;
    }

    /// Applies settings (sanitised). The same settings again cost one comparison.
    /// Threshold, hysteresis and range ramp over [`GATE_SETTINGS_RAMP_MS`]; the ratio
    /// and times take effect at once (the ballistics keep the gain continuous).
    pub fn set_settings(&mut self, settings: &GateSettings) {
        let s = settings.sanitized();
        if s == self.applied {
            return;
        }
        let old = self.applied;
        self.applied = s;
        self.threshold_db.set_target(s.threshold_db);
        self.hysteresis_db.set_target(s.hysteresis_db);
        self.range_db.set_target(s.range_db);
        self.levels_moving = self.threshold_db.is_smoothing()
            || self.hysteresis_db.is_smoothing()
            || self.range_db.is_smoothing();
        if s.ratio != old.ratio {
            self.update_levels(
                self.threshold_db.current(),
                self.hysteresis_db.current(),
                self.range_db.current(),
            );
        }
        if s.attack_ms != old.attack_ms || s.release_ms != old.release_ms {
            self.ballistics
                .set_times(self.sample_rate, s.release_ms, s.attack_ms);
        }
        if s.hold_ms != old.hold_ms {
            self.hold_total = self.hold_samples(s.hold_ms);
            self.hold_left = self.hold_left.min(self.hold_total);
        }
    }

    /// Gates `channels` in place (1 to `max_channels` channels; extra channels are left
    /// untouched, a shorter channel limits the frames processed). `sidechain` keys the
    /// gate when `settings.external_sidechain` is on (same rules as
    /// [`super::Compressor::process`]). Non-finite input samples become silence.
    pub fn process(
        &mut self,
        channels: &mut [&mut [f32]],
        sidechain: Option<&[&[f32]]>,
        settings: &GateSettings,
    ) {
        let _ftz = FlushDenormals::new();
        self.set_settings(settings);
        let n_ch = channels.len().min(self.max_channels);
        if n_ch == 0 {
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
            for c in 0..n_ch {
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
                // TODO(key filter): filled in once `shared_dsp::filter` lands.
            }
            block_gr = block_gr.max(self.compute_gains(n_ch, len));
            let gains = &self.gains[..len];
            for channel in channels.iter_mut() {
                for (x, &g) in channel[start..end].iter_mut().zip(gains) {
                    *x *= g;
                }
            }
            start = end;
        }
        self.gain_reduction_db = block_gr;
    }

    #[inline]
    fn compute_gains(&mut self, n_ch: usize, len: usize) -> f32 {
        let mut max_gr = 0.0f32;
        let infinite = !self.applied.ratio.is_finite();
        for i in 0..len {
            if self.levels_moving {
                let t = self.threshold_db.next();
                let h = self.hysteresis_db.next();
                let r = self.range_db.next();
                self.update_levels(t, h, r);
                self.levels_moving = self.threshold_db.is_smoothing()
                    || self.hysteresis_db.is_smoothing()
                    || self.range_db.is_smoothing();
            }
            let mut power = 0.0f32;
            for key in &self.key[..n_ch] {
                power = power.max(key[i] * key[i]);
            }
            // Sliding peak over 1–2 buckets for the expander's level.
            self.bucket_current = self.bucket_current.max(power);
            self.bucket_count += 1;
            let level = self.bucket_current.max(self.bucket_previous);
            if self.bucket_count >= self.bucket_samples {
                self.bucket_previous = self.bucket_current;
                self.bucket_current = 0.0;
                self.bucket_count = 0;
            }
            // Open/close with hysteresis and hold.
            if self.open {
                if power >= self.close_power {
                    self.hold_left = self.hold_total;
                } else if self.hold_left > 1 {
                    self.hold_left -= 1;
                } else {
                    self.hold_left = 0;
                    self.open = false;
                    self.transitions += 1;
                }
            } else if power >= self.open_power {
                self.open = true;
                self.hold_left = self.hold_total;
                self.transitions += 1;
            }
            let target = if self.open {
                0.0
            } else if infinite {
                self.range_db.current()
            } else {
                -self.computer.gain_db(fast_power_to_db(level))
            };
            let gr = self.ballistics.tick(target);
            max_gr = max_gr.max(gr);
            if gr != self.last_gr {
                self.last_gr = gr;
                self.last_gain = if gr == 0.0 { 1.0 } else { fast_db_to_gain(-gr) };
            }
            self.gains[i] = self.last_gain;
        }
        max_gr
    }
}
