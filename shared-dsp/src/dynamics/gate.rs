//! The channel gate / downward expander: threshold with hysteresis, hold, range,
//! ratio (∞ = gate), attack and release. No latency.
//!
//! Per frame:
//!
//! ```text
//! key (own input or external sidechain) → key filter (HPF, LPF: band-pass) → |x|²,
//!   loudest channel
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
use super::front_end::{process_keyed, KeyFrontEnd, KeyedProcessor};
use super::gain_computer::GainComputer;
use super::PASS_FRAMES;
use crate::denormal::FlushDenormals;
use crate::sanitize::{setting_or, setting_or_infinite, setting_or_off};
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
    /// Key filter high-pass (12 dB/oct Butterworth, see [`crate::dynamics::KeyFilter`]), 20 Hz to 20 kHz
    /// (and below 0.49 × the sample rate); `None` = off.
    pub key_hpf_hz: Option<f32>,
    /// Key filter low-pass (12 dB/oct), 20 Hz to 20 kHz; `None` = off. With both on,
    /// a band-pass key filter.
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

impl GateSettings {
    /// The settings with every value inside its documented range (NaN → default; ±∞ →
    /// default too, except for the ratio, where ∞:1 is the gate).
    pub fn sanitized(&self) -> Self {
        let d = Self::default();
        let freq = |f: Option<f32>| setting_or_off(f, 20.0, 20_000.0);
        Self {
            threshold_db: setting_or(self.threshold_db, -80.0, 0.0, d.threshold_db),
            range_db: setting_or(self.range_db, 0.0, 80.0, d.range_db),
            ratio: setting_or_infinite(self.ratio, 1.0, f32::INFINITY, d.ratio),
            attack_ms: setting_or(self.attack_ms, 0.05, 100.0, d.attack_ms),
            hold_ms: setting_or(self.hold_ms, 0.0, 2000.0, d.hold_ms),
            release_ms: setting_or(self.release_ms, 5.0, 5000.0, d.release_ms),
            hysteresis_db: setting_or(self.hysteresis_db, 0.0, 20.0, d.hysteresis_db),
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
    front: KeyFrontEnd,
    gains: [f32; PASS_FRAMES],
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
            front: KeyFrontEnd::new(sample_rate, max_channels),
            gains: [1.0; PASS_FRAMES],
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
        self.front.reset();
        self.open = false;
        self.hold_left = 0;
        self.bucket_count = 0;
        self.bucket_current = 0.0;
        self.bucket_previous = 0.0;
        let range = self.range_db.current();
        self.ballistics.set_state_db(range);
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
        self.front.set_filters(s.key_hpf_hz, s.key_lpf_hz);
        if s.hold_ms != old.hold_ms {
            self.hold_total = self.hold_samples(s.hold_ms);
            self.hold_left = self.hold_left.min(self.hold_total);
        }
    }

    crate::cpu::wide_build! {
        /// Gates `channels` in place (1 to `max_channels` channels; extra channels are left
        /// untouched, a shorter channel limits the frames processed). `sidechain` keys the
        /// gate when `settings.external_sidechain` is on (same rules as
        /// [`super::Compressor::process`]). Non-finite input samples become silence.
        pub fn process(
            &mut self,
            channels: &mut [&mut [f32]],
            sidechain: Option<&[&[f32]]>,
            settings: &GateSettings,
        ) => process_avx2, process_portable
    }

    #[inline(always)]
    pub(crate) fn process_portable(
        &mut self,
        channels: &mut [&mut [f32]],
        sidechain: Option<&[&[f32]]>,
        settings: &GateSettings,
    ) {
        let _ftz = FlushDenormals::new();
        self.set_settings(settings);
        let external = self.applied.external_sidechain;
        if let Some(gr) = process_keyed(self, channels, sidechain, external) {
            self.gain_reduction_db = gr;
        }
    }

    /// Fills `self.gains[..len]` from the loudest key power; returns the largest gain
    /// reduction. While threshold, hysteresis or range ramp, the chunk is run one frame
    /// at a time through the same passes, so the output does not depend on the block
    /// split.
    #[inline(always)]
    fn compute_gains(&mut self, len: usize) -> f32 {
        if !self.levels_moving {
            return self.compute_span(0, len);
        }
        let mut max_gr = 0.0f32;
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
            max_gr = max_gr.max(self.compute_span(i, i + 1));
        }
        max_gr
    }

    /// The passes over frames `from..to` of the chunk, from the loudest key power: the
    /// open/close state machine and target (serial but branch-free), the expander curve
    /// (only at a finite ratio), the ballistics (serial), the exponentials (vectorised).
    #[inline(always)]
    fn compute_span(&mut self, from: usize, to: usize) -> f32 {
        let gains = &mut self.gains[from..to];
        gains.copy_from_slice(&self.front.loudest[from..to]);
        let infinite = !self.applied.ratio.is_finite();
        let closed_target = self.range_db.current();
        let (open_power, close_power, hold_total) =
            (self.open_power, self.close_power, self.hold_total);
        // The state lives in locals so it stays in registers.
        let (mut open, mut hold_left, mut transitions) =
            (self.open, self.hold_left, self.transitions);
        for g in gains.iter_mut() {
            let power = *g;
            // Open/close with hysteresis and hold: a key sample at or above the open
            // threshold (closed) or the close threshold (open) reloads the hold counter;
            // the gate is open while the counter is above zero. Written without
            // branches: noise near a threshold would defeat a branch predictor.
            let threshold = if open { close_power } else { open_power };
            let reload = (power >= threshold) as u32;
            hold_left = reload * hold_total + (1 - reload) * hold_left.saturating_sub(1);
            let now_open = hold_left > 0;
            transitions += (now_open != open) as u64;
            open = now_open;
            if infinite {
                *g = if open { 0.0 } else { closed_target };
            } else {
                // Sliding peak over 1–2 buckets for the expander's level (run only at
                // finite ratios; after a switch from gate to expander it refills within
                // 10 ms); an open gate is marked with an infinite level (0 dB below).
                self.bucket_current = self.bucket_current.max(power);
                self.bucket_count += 1;
                let level = self.bucket_current.max(self.bucket_previous);
                if self.bucket_count >= self.bucket_samples {
                    self.bucket_previous = self.bucket_current;
                    self.bucket_current = 0.0;
                    self.bucket_count = 0;
                }
                *g = if open { f32::INFINITY } else { level };
            }
        }
        self.open = open;
        self.hold_left = hold_left;
        self.transitions = transitions;
        if !infinite {
            let computer = self.computer;
            for g in gains.iter_mut() {
                *g = if *g == f32::INFINITY {
                    0.0
                } else {
                    -computer.gain_db(fast_power_to_db(*g))
                };
            }
        }
        let max_gr = self.ballistics.process_in_place(gains);
        // fast_exp2(0) is exactly 1, so an open gate passes the signal bit-exactly.
        for g in gains.iter_mut() {
            *g = fast_db_to_gain(-*g);
        }
        max_gr
    }
}

impl KeyedProcessor for Gate {
    #[inline(always)]
    fn front_end(&mut self) -> &mut KeyFrontEnd {
        &mut self.front
    }

    /// The peak detector: the squared key (the loudest channel's then keys every channel).
    #[inline(always)]
    fn detect(&mut self, n_ch: usize, len: usize) {
        for key in &mut self.front.keys[..n_ch] {
            key[..len].iter_mut().for_each(|k| *k *= *k);
        }
    }

    #[inline(always)]
    fn apply_pass(&mut self, channels: &mut [&mut [f32]], start: usize, len: usize) -> f32 {
        let gr = self.compute_gains(len);
        let gains = &self.gains[..len];
        for channel in channels.iter_mut() {
            for (x, &g) in channel[start..start + len].iter_mut().zip(gains) {
                *x *= g;
            }
        }
        gr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{
        amp, assert_block_size_independent, assert_latency, assert_reset_reproduces, program,
        rms_db, sine,
    };

    const FS: f32 = 48_000.0;

    fn gate(settings: &GateSettings) -> Gate {
        let mut g = Gate::new(FS, 2);
        g.set_settings(settings);
        g.reset();
        g
    }

    fn run(g: &mut Gate, input: &[f32], key: Option<&[f32]>, s: &GateSettings) -> Vec<f32> {
        let mut out = input.to_vec();
        for (n, block) in out.chunks_mut(512).enumerate() {
            let range = n * 512..n * 512 + block.len();
            let sc = key.map(|k| [&k[range]]);
            g.process(&mut [block], sc.as_ref().map(|k| &k[..]), s);
        }
        out
    }

    #[test]
    fn closed_gate_applies_the_range() {
        for &range in &[6.0f32, 20.0, 40.0, 80.0] {
            let s = GateSettings {
                threshold_db: -40.0,
                range_db: range,
                release_ms: 20.0,
                hold_ms: 0.0,
                ..Default::default()
            };
            let mut g = gate(&s);
            // Open on a −20 dBFS tone for 50 ms, then a −50 dBFS tone (below the close
            // threshold) for 250 ms: 20 ms release settles to 1e-5 of the range in 230 ms.
            let mut input = sine(amp(-20.0), 48, 2400);
            input.extend(sine(amp(-50.0), 48, 12_000));
            let out = run(&mut g, &input, None, &s);
            assert!(
                rms_db(&out[..2400]) - rms_db(&input[..2400]) > -0.5,
                "opened"
            );
            let measured = rms_db(&out[12_000..]) - rms_db(&input[12_000..]);
            // ±0.1 dB: a sixtieth of the smallest range tested (6 dB); expected error:
            // fast exp2, < 1e-5 dB.
            assert!(
                (measured + range as f64).abs() < 0.1,
                "range {range}: {measured} dB"
            );
            assert_eq!(g.transitions(), 2);
        }
    }

    #[test]
    fn expander_ratio_below_the_threshold() {
        // A tone 10 dB under the threshold at 1:2 is turned down 10 dB; at 1:4, 30 dB
        // (limited by a 24 dB range). The expander level is a 5–10 ms sliding peak, so
        // a steady 1 kHz tone reads its peak exactly; ±0.05 dB covers fast math.
        for &(ratio, expected) in &[(2.0f32, -10.0f64), (4.0, -24.0)] {
            let s = GateSettings {
                threshold_db: -30.0,
                ratio,
                range_db: 24.0,
                hysteresis_db: 0.0,
                attack_ms: 1.0,
                release_ms: 10.0,
                ..Default::default()
            };
            let mut g = gate(&s);
            let input = sine(amp(-40.0), 48, 9600);
            let out = run(&mut g, &input, None, &s);
            let measured = rms_db(&out[4800..]) - rms_db(&input[4800..]);
            assert!(
                (measured - expected).abs() < 0.05,
                "1:{ratio}: {measured} dB"
            );
        }
    }

    #[test]
    fn band_pass_key_filter_picks_what_opens_the_gate() {
        // Threshold −30 dBFS. Key tones at −18 dBFS: a 50 Hz "kick" and an 8 kHz
        // "hi-hat". A 200 Hz–2 kHz band-pass key (12 dB/oct each side) puts each two
        // octaves out, about −24 dB → −42 dBFS, 12 dB under the threshold (margin for
        // the filters' onset transient): neither opens. Without the key filter both do;
        // with only the LPF the kick does and the hi-hat does not.
        let opens = |period: usize, hpf: Option<f32>, lpf: Option<f32>| {
            let s = GateSettings {
                threshold_db: -30.0,
                key_hpf_hz: hpf,
                key_lpf_hz: lpf,
                ..Default::default()
            };
            let mut g = gate(&s);
            let input = sine(amp(-18.0), period, 9600);
            run(&mut g, &input, None, &s);
            g.transitions() > 0
        };
        let (kick, hat) = (960, 6);
        assert!(opens(kick, None, None) && opens(hat, None, None));
        assert!(
            !opens(kick, Some(200.0), Some(2000.0)),
            "kick blocked by the band-pass"
        );
        assert!(
            !opens(hat, Some(200.0), Some(2000.0)),
            "hi-hat blocked by the band-pass"
        );
        assert!(opens(kick, None, Some(2000.0)) && !opens(hat, None, Some(2000.0)));
    }

    #[test]
    fn a_tone_at_the_threshold_does_not_chatter() {
        // 10 s of 1 kHz whose level wanders within threshold ± 0.5 dB (two slow LFOs),
        // 3 dB hysteresis, no hold: exactly one transition (it opens once and stays
        // open). 480 000 frames: the per-frame work is a few compares, fast enough in a
        // debug build (~0.2 s).
        let run_with = |hysteresis_db: f32| {
            let s = GateSettings {
                threshold_db: -30.0,
                hysteresis_db,
                hold_ms: 0.0,
                ..Default::default()
            };
            let mut g = gate(&s);
            let tone = sine(1.0, 48, 48);
            let mut block = vec![0.0f32; 480];
            for b in 0..1000 {
                for (i, x) in block.iter_mut().enumerate() {
                    let t = (b * 480 + i) as f32 / FS;
                    let wobble = 0.3 * (std::f32::consts::TAU * 0.7 * t).sin()
                        + 0.2 * (std::f32::consts::TAU * 3.1 * t).cos();
                    *x = amp(-30.0 + wobble) * tone[i % 48];
                }
                g.process(&mut [&mut block], None, &s);
            }
            g.transitions()
        };
        assert_eq!(run_with(3.0), 1, "opens once, never chatters");
        // The same tone without hysteresis does chatter: the test can fail.
        assert!(run_with(0.0) > 10);
    }

    #[test]
    fn hold_is_exact() {
        // Key (external sidechain): a −20 dBFS 1 kHz tone for 100 ms, then silence. Main:
        // a constant 0.5, so the gain is visible. The gate must start closing exactly
        // GATE_DETECTOR_HOLD_MS + hold after the last key sample over the close threshold;
        // ±1 ms (48 samples) would be inaudible, but the design gives it to the sample,
        // so the test asks for that.
        for &hold in &[0.0f32, 5.0, 50.0, 500.0] {
            let s = GateSettings {
                threshold_db: -40.0,
                hold_ms: hold,
                external_sidechain: true,
                ..Default::default()
            };
            let mut g = gate(&s);
            let frames = 4800 + ((hold + 100.0) * 48.0) as usize;
            let mut key = sine(amp(-20.0), 48, 4800);
            key.resize(frames, 0.0);
            let main = vec![0.5f32; frames];
            let out = run(&mut g, &main, Some(&key), &s);
            let close_power = db_to_power(-43.0);
            let last_loud = key
                .iter()
                .rposition(|&k| k * k >= close_power)
                .expect("loud key");
            let expected = last_loud + ((GATE_DETECTOR_HOLD_MS + hold) * 48.0).round() as usize;
            // Fully open (gain exactly 1) before; closing from the expected frame on.
            let first_closing = (last_loud..frames).find(|&n| out[n] < 0.5).expect("closes");
            assert!(out[last_loud..first_closing].iter().all(|&x| x == 0.5));
            assert_eq!(first_closing, expected, "hold {hold} ms");
        }
    }

    #[test]
    fn attack_and_release_are_ten_to_ninety_percent_times() {
        // Opening and closing over a 20 dB range on a constant main signal, keyed
        // externally. Tolerance 10 %: the expected error is ±1 sample (5 % at 2 ms), while
        // attack and release swapped, or taken as time constants, are off by 2× or more.
        let (attack, release) = (2.0f32, 50.0f32);
        let s = GateSettings {
            threshold_db: -40.0,
            range_db: 20.0,
            attack_ms: attack,
            release_ms: release,
            hold_ms: 0.0,
            external_sidechain: true,
            ..Default::default()
        };
        let mut g = gate(&s);
        let mut key = vec![0.0f32; 480];
        key.extend(sine(amp(-20.0), 48, 4800));
        key.resize(4800 + 480 + 48 * 200, 0.0);
        let main = vec![1.0f32; key.len()];
        let out = run(&mut g, &main, Some(&key), &s);
        let gr: Vec<f32> = out.iter().map(|&o| -20.0 * o.log10()).collect();
        let crossing = |from: usize, level: f32, rising: bool| {
            from + gr[from..]
                .iter()
                .position(|&g| if rising { g >= level } else { g <= level })
                .unwrap()
        };
        let opening = (crossing(480, 2.0, false) - crossing(480, 18.0, false)) as f32 / 48.0;
        assert!((opening / attack - 1.0).abs() < 0.1, "attack {opening} ms");
        let closing = (crossing(5280, 18.0, true) - crossing(5280, 2.0, true)) as f32 / 48.0;
        assert!(
            (closing / release - 1.0).abs() < 0.1,
            "release {closing} ms"
        );
    }

    #[test]
    fn hostile_input_stays_finite_and_recovers() {
        let s = GateSettings::default();
        let clean = program(512, 9);
        for bad in [
            (0..512)
                .map(|n| if n % 64 < 32 { 1.0 } else { -1.0 })
                .collect::<Vec<f32>>(),
            vec![0.0; 512],
            vec![1e-40; 512],
            (0..512)
                .map(|n| [f32::NAN, f32::INFINITY, 0.5][n % 3])
                .collect(),
        ] {
            let mut g = gate(&s);
            let (mut l, mut r) = (bad.clone(), bad.clone());
            g.process(&mut [&mut l, &mut r], None, &s);
            assert!(l.iter().chain(&r).all(|x| x.is_finite()));
            let mut c = clean.clone();
            g.process(&mut [&mut c], None, &s);
            assert!(c.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
            assert!(g.gain_reduction_db().is_finite());
        }
        let mut after_nan = gate(&s);
        let mut after_silence = gate(&s);
        run(&mut after_nan, &[f32::NAN; 512], None, &s);
        run(&mut after_silence, &[0.0; 512], None, &s);
        assert_eq!(
            run(&mut after_nan, &clean, None, &s),
            run(&mut after_silence, &clean, None, &s)
        );
    }

    #[test]
    fn block_size_does_not_change_the_output_and_reset_reproduces_it() {
        // Per-frame state only: bit-identical for any block split, also while the
        // threshold ramps after a settings change at frame 4800.
        let input = vec![program(9600, 21)];
        let a = GateSettings {
            threshold_db: -30.0,
            ratio: 3.0,
            hold_ms: 5.0,
            key_hpf_hz: Some(100.0),
            ..Default::default()
        };
        let b = GateSettings {
            threshold_db: -20.0,
            ratio: f32::INFINITY,
            range_db: 30.0,
            key_hpf_hz: Some(300.0),
            key_lpf_hz: Some(5000.0),
            ..a
        };
        let process = |g: &mut Gate, block: &mut [&mut [f32]], start: usize| {
            g.process(block, None, if start < 4800 { &a } else { &b });
        };
        assert_block_size_independent(|| gate(&a), &input, &[4800], process);
        // Reset after the switch to `b` must bring back the closed gate and `a`'s levels.
        let mut g = gate(&a);
        assert_reset_reproduces(&mut g, &input, &[4800], process, |g| {
            g.set_settings(&a);
            g.reset();
        });
    }

    #[test]
    fn an_open_gate_passes_an_impulse_undelayed() {
        // Keyed open by a loud external key, the gate is a wire: the click's peak stays
        // in place.
        let s = GateSettings {
            external_sidechain: true,
            ..Default::default()
        };
        let mut g = gate(&s);
        let key = vec![0.5f32; 4096];
        let mut warm = vec![0.0f32; 4096];
        g.process(&mut [&mut warm], Some(&[&key]), &s);
        assert!(g.is_open());
        assert_eq!(g.latency(), 0);
        assert_latency(g.latency(), 0.1, |x| {
            g.process(&mut [x], Some(&[&key[..]]), &s)
        });
    }
}
