//! The channel compressor: feed-forward, log-domain, no latency.
//!
//! Signal flow per frame (Giannoulis, Massberg and Reiss, JAES 2012, their recommended
//! "log domain, level detection after the gain computer" design):
//!
//! ```text
//! key (own input or external sidechain) → sidechain HPF → detector (peak | RMS, power)
//!   → stereo link (blend toward the loudest channel) → dB → gain computer
//!   → gain reduction → ballistics (10–90 % attack / release, or auto release)
//!   → gain → × makeup → mix with the dry signal
//! ```
//!
//! Everything up to the detector powers and the stereo link is the front end it shares
//! with the gate (`front_end.rs`).
//!
//! Nothing is delayed, so the dry and wet paths of the mix are sample-aligned and
//! `mix = 0.5` is exactly the average of dry and fully compressed output.
//!
//! Files: the settings (`settings.rs`), the multiband path that runs several compressors
//! in one pass (`group.rs`), and the tests (`tests.rs`).

mod group;
mod settings;

pub use settings::{
    auto_makeup_db, CompressorSettings, COMPRESSOR_RMS_WINDOW_MS, SETTINGS_RAMP_MS,
};

use super::ballistics::{AutoReleaseBallistics, Ballistics};
use super::detector::LevelDetector;
use super::fast_math::{fast_db_to_gain, fast_power_to_db};
use super::front_end::{linked_power, process_keyed, KeyFrontEnd, KeyedProcessor};
use super::gain_computer::GainComputer;
use super::PASS_FRAMES;
use crate::db::db_to_gain;
use crate::denormal::FlushDenormals;
use crate::smoother::{Smoother, SmoothingStyle};

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
    curve_moving: bool,
    channels: Vec<Channel>,
    front: KeyFrontEnd,
    gains: Vec<[f32; PASS_FRAMES]>,
    dry: [f32; PASS_FRAMES],
    wet: [f32; PASS_FRAMES],
    gain_reduction_db: f32,
    /// The CPU has AVX2 (detected once in `new`): [`Compressor::process_group`]'s
    /// vectorised passes then run eight lanes wide.
    use_avx2: bool,
}

impl Compressor {
    /// A compressor for up to `max_channels` channels at `sample_rate`, with default
    /// settings, at rest.
    pub fn new(sample_rate: f32, max_channels: usize) -> Self {
        let max_channels = max_channels.max(1);
        let s = CompressorSettings::default();
        let smoother =
            |value| Smoother::new(SmoothingStyle::Linear, SETTINGS_RAMP_MS, sample_rate, value);
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
            link: smoother(s.link),
            makeup: smoother(db_to_gain(s.makeup_db)),
            mix: smoother(s.mix),
            computer: s.gain_computer(),
            curve_moving: false,
            channels: vec![channel; max_channels],
            front: KeyFrontEnd::new(sample_rate, max_channels),
            gains: vec![[1.0; PASS_FRAMES]; max_channels],
            dry: [0.0; PASS_FRAMES],
            wet: [1.0; PASS_FRAMES],
            gain_reduction_db: 0.0,
            use_avx2: crate::cpu::has_avx2(),
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
        self.front.reset();
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
        self.link.set_target(s.link);
        self.mix.set_target(s.mix);
        let auto_db = if s.auto_makeup {
            auto_makeup_db(s.threshold_db, s.ratio, s.knee_db)
        } else {
            0.0
        };
        self.makeup.set_target(db_to_gain(s.makeup_db + auto_db));
        if s.attack_ms != old.attack_ms || s.release_ms != old.release_ms {
            for ch in &mut self.channels {
                ch.ballistics
                    .set_times(self.sample_rate, s.attack_ms, s.release_ms);
                ch.auto
                    .set_times(self.sample_rate, s.attack_ms, s.release_ms);
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
        self.front.set_filters(s.sidechain_hpf_hz, None);
        self.applied = s;
    }

    fn update_curve(&mut self, threshold_db: f32, inverse_ratio: f32, knee_db: f32) {
        self.computer = GainComputer::from_inverse_ratio(threshold_db, inverse_ratio, knee_db);
    }

    crate::cpu::wide_build! {
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
        ) => process_avx2, process_portable
    }

    #[inline(always)]
    pub(crate) fn process_portable(
        &mut self,
        channels: &mut [&mut [f32]],
        sidechain: Option<&[&[f32]]>,
        settings: &CompressorSettings,
    ) {
        let _ftz = FlushDenormals::new();
        self.set_settings(settings);
        let external = self.applied.external_sidechain;
        self.gain_reduction_db = process_keyed(self, channels, sidechain, external).unwrap_or(0.0);
    }

    /// Fills `self.gains[c][..len]` from the front end's detector powers; returns
    /// the largest gain reduction reached.
    ///
    /// While no setting ramps, the work is split into passes over the chunk: detector
    /// powers → target gain reduction (logarithm and gain computer, branch-free so it
    /// vectorises), the ballistics (the only serial recursion), then the exponentials
    /// (vectorised). Fully linked channels whose ballistics states are equal share one
    /// pass. Every pass computes exactly what [`Compressor::compute_gains_per_frame`]
    /// computes frame by frame, so the output does not depend on the block split.
    #[inline(always)]
    fn compute_gains(&mut self, n_ch: usize, len: usize) -> f32 {
        match self.prepare_gains(n_ch, len) {
            Some(gr) => gr,
            None => {
                let auto = self.applied.auto_release;
                let gr = smooth_block(&mut self.channels[0], auto, &mut self.gains[0][..len]);
                self.finish_linked(n_ch, len);
                gr
            }
        }
    }

    /// [`Compressor::compute_gains`] up to the ballistics: `Some(largest reduction)` when
    /// the gains are done (per-frame or unlinked path); `None` when the channels share
    /// one linked pass and `self.gains[0][..len]` holds its target reductions, waiting
    /// for channel 0's ballistics and then [`Compressor::finish_linked`].
    #[inline(always)]
    fn prepare_gains(&mut self, n_ch: usize, len: usize) -> Option<f32> {
        if self.curve_moving || self.link.is_smoothing() {
            return Some(self.compute_gains_per_frame(n_ch, len));
        }
        let auto = self.applied.auto_release;
        let link = self.link.current();
        let loudest = &self.front.loudest[..len];
        let (first, others) = self.channels[..n_ch].split_at_mut(1);
        let first = &mut first[0];
        let linked = n_ch == 1
            || (link >= 1.0
                && others.iter().all(|ch| {
                    if auto {
                        ch.auto == first.auto
                    } else {
                        ch.ballistics == first.ballistics
                    }
                }));
        let computer = self.computer;
        if linked {
            let gains = &mut self.gains[0][..len];
            for (g, &p) in gains.iter_mut().zip(loudest.iter()) {
                *g = target_db(&computer, p);
            }
            return None;
        }
        let mut max_gr = 0.0f32;
        for (c, ch) in self.channels[..n_ch].iter_mut().enumerate() {
            let gains = &mut self.gains[c][..len];
            let own = &self.front.keys[c][..len];
            for ((g, &p), &l) in gains.iter_mut().zip(own).zip(loudest.iter()) {
                *g = target_db(&computer, linked_power(p, l, link));
            }
            max_gr = max_gr.max(smooth_block(ch, auto, gains));
            gains.iter_mut().for_each(|g| *g = to_gain(*g));
        }
        Some(max_gr)
    }

    /// After channel 0's ballistics ran over the linked targets in `self.gains[0]`:
    /// the other channels take its state, and its reductions become the gains of all.
    #[inline(always)]
    fn finish_linked(&mut self, n_ch: usize, len: usize) {
        let (first, others) = self.channels[..n_ch].split_at_mut(1);
        for ch in others.iter_mut() {
            ch.ballistics = first[0].ballistics;
            ch.auto = first[0].auto;
        }
        let (head, tail) = self.gains.split_at_mut(1);
        let gains = &mut head[0][..len];
        gains.iter_mut().for_each(|g| *g = to_gain(*g));
        for g in &mut tail[..n_ch - 1] {
            g[..len].copy_from_slice(gains);
        }
    }

    /// The general path, frame by frame, while settings ramp.
    fn compute_gains_per_frame(&mut self, n_ch: usize, len: usize) -> f32 {
        let auto = self.applied.auto_release;
        let mut max_gr = 0.0f32;
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
            let link = self.link.next();
            let loudest = self.front.loudest[i];
            for c in 0..n_ch {
                let power = linked_power(self.front.keys[c][i], loudest, link);
                let target = target_db(&self.computer, power);
                let gr = smooth(&mut self.channels[c], auto, target);
                max_gr = max_gr.max(gr);
                self.gains[c][i] = to_gain(gr);
            }
        }
        max_gr
    }

    /// Multiplies the block by `dry + wet·gain` per frame, `wet` holding the make-up.
    #[inline(always)]
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

impl KeyedProcessor for Compressor {
    #[inline(always)]
    fn front_end(&mut self) -> &mut KeyFrontEnd {
        &mut self.front
    }

    /// Each channel's own detector (peak or RMS).
    #[inline(always)]
    fn detect(&mut self, n_ch: usize, len: usize) {
        for (key, state) in self.front.keys.iter_mut().zip(&mut self.channels[..n_ch]) {
            state.detector.process_in_place(&mut key[..len]);
        }
    }

    #[inline(always)]
    fn apply_pass(&mut self, channels: &mut [&mut [f32]], start: usize, len: usize) -> f32 {
        let gr = self.compute_gains(channels.len(), len);
        self.apply_gains(channels, start, len);
        gr
    }
}

/// The target gain reduction (dB, ≥ 0) for a detector power.
#[inline]
fn target_db(computer: &GainComputer, power: f32) -> f32 {
    -computer.gain_db(fast_power_to_db(power))
}

/// The ballistics over a block of targets, in place; returns the largest reduction.
#[inline]
fn smooth_block(ch: &mut Channel, auto: bool, targets: &mut [f32]) -> f32 {
    if auto {
        ch.auto.process_in_place(targets)
    } else {
        ch.ballistics.process_in_place(targets)
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
    // Exactly 1.0 at 0 dB (fast_exp2(0) is exact), with no branch to stop vectorising.
    fast_db_to_gain(-gr_db)
}

#[cfg(test)]
mod tests;
