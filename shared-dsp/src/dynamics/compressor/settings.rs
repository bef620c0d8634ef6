//! The compressor's settings in plain units, their ranges, and automatic make-up.

use super::super::detector::DetectorMode;
use super::super::gain_computer::GainComputer;
use crate::sanitize::{setting_or, setting_or_infinite, setting_or_off};

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
    /// Program-dependent release (see [`crate::dynamics::AutoReleaseBallistics`]).
    pub auto_release: bool,
    /// Peak or RMS (10 ms window) detection.
    pub detector: DetectorMode,
    /// High-pass on the detector's input (12 dB/oct Butterworth, see [`crate::dynamics::KeyFilter`]),
    /// 20 to 500 Hz; `None` = off.
    pub sidechain_hpf_hz: Option<f32>,
    /// Detect from the external sidechain block passed to `process` (when one is given).
    pub external_sidechain: bool,
    /// Stereo link as a fraction, 0 (each channel on its own) to 1 (one gain from the
    /// loudest channel).
    pub link: f32,
    /// Make-up gain, −12 to +36 dB.
    pub makeup_db: f32,
    /// Adds [`auto_makeup_db`] to the make-up gain.
    pub auto_makeup: bool,
    /// Wet share, 0–1 (0 = dry, 1 = fully compressed; between: parallel compression).
    pub mix: f32,
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
            link: 1.0,
            makeup_db: 0.0,
            auto_makeup: false,
            mix: 1.0,
        }
    }
}

impl CompressorSettings {
    /// The settings with every value inside its documented range (NaN → default; ±∞ →
    /// default too, except for the ratio, where ∞:1 is a setting).
    pub fn sanitized(&self) -> Self {
        let d = Self::default();
        Self {
            threshold_db: setting_or(self.threshold_db, -60.0, 0.0, d.threshold_db),
            ratio: setting_or_infinite(self.ratio, 1.0, f32::INFINITY, d.ratio),
            knee_db: setting_or(self.knee_db, 0.0, 24.0, d.knee_db),
            attack_ms: setting_or(self.attack_ms, 0.05, 300.0, d.attack_ms),
            release_ms: setting_or(self.release_ms, 5.0, 5000.0, d.release_ms),
            sidechain_hpf_hz: setting_or_off(self.sidechain_hpf_hz, 20.0, 500.0),
            link: setting_or(self.link, 0.0, 1.0, d.link),
            makeup_db: setting_or(self.makeup_db, -12.0, 36.0, d.makeup_db),
            mix: setting_or(self.mix, 0.0, 1.0, d.mix),
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
