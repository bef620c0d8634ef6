//! The channel strip's host parameters and their mapping to [`Settings`].
//!
//! Parameter ids are frozen once released: a saved project refers to them. Ranges and
//! units here are the ones the DAW shows and the editor reuses.

use nice_plug::prelude::*;
use oxide_plugin_common::formatters::{s2v_db, s2v_polarity, v2s_db, v2s_polarity};
use shared_dsp::db::MINUS_INFINITY_DB;

use crate::chain::Settings;

/// The fader's lowest position, which means −∞ (silence).
pub const FADER_FLOOR_DB: f32 = -80.0;
/// The fader's highest position.
pub const FADER_MAX_DB: f32 = 12.0;
/// The input trim's range, ± dB.
pub const TRIM_RANGE_DB: f32 = 24.0;

#[derive(Params)]
pub struct StripParams {
    #[id = "in_gain"]
    pub in_gain: FloatParam,
    #[id = "phase_l"]
    pub phase_l: BoolParam,
    #[id = "phase_r"]
    pub phase_r: BoolParam,
    #[id = "out_gain"]
    pub out_gain: FloatParam,
    #[id = "bypass"]
    pub bypass: BoolParam,
}

/// A gain in dB; `silence_db` is the value shown and typed as `-inf` (the fader's floor),
/// or [`MINUS_INFINITY_DB`] for a gain that never reaches silence.
fn gain_param(name: &str, silence_db: f32, range: FloatRange) -> FloatParam {
    FloatParam::new(name, 0.0, range)
        .with_unit(" dB")
        .with_step_size(0.01)
        .with_value_to_string(v2s_db(silence_db))
        .with_string_to_value(s2v_db(silence_db))
}

impl Default for StripParams {
    fn default() -> Self {
        Self {
            in_gain: gain_param(
                "Input Gain",
                MINUS_INFINITY_DB,
                FloatRange::Linear {
                    min: -TRIM_RANGE_DB,
                    max: TRIM_RANGE_DB,
                },
            ),
            phase_l: BoolParam::new("Polarity L", false)
                .with_value_to_string(v2s_polarity())
                .with_string_to_value(s2v_polarity()),
            phase_r: BoolParam::new("Polarity R", false)
                .with_value_to_string(v2s_polarity())
                .with_string_to_value(s2v_polarity()),
            // Skewed so the top of the fader, where mixes happen, gets most of its travel:
            // 0 dB sits at about 72 % (as on a console fader), −80 dB (−∞) at the bottom.
            out_gain: gain_param(
                "Output Gain",
                FADER_FLOOR_DB,
                FloatRange::Skewed {
                    min: FADER_FLOOR_DB,
                    max: FADER_MAX_DB,
                    factor: FloatRange::skew_factor(1.5),
                },
            ),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

/// Maps the fader's floor to −∞.
fn fader_db(value: f32) -> f32 {
    if value <= FADER_FLOOR_DB {
        MINUS_INFINITY_DB
    } else {
        value
    }
}

impl StripParams {
    /// The chain settings for the parameters' current values.
    pub fn settings(&self) -> Settings {
        Settings {
            in_gain_db: self.in_gain.value(),
            phase_l: self.phase_l.value(),
            phase_r: self.phase_r.value(),
            out_gain_db: fader_db(self.out_gain.value()),
            bypass: self.bypass.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_displayed_value_reads_back() {
        let failures =
            oxide_plugin_common::param_access::text_round_trip_failures(&StripParams::default());
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn defaults_map_to_default_settings() {
        assert_eq!(StripParams::default().settings(), Settings::default());
    }

    #[test]
    fn fader_floor_is_silence() {
        let params = StripParams::default();
        assert_eq!(params.out_gain.range().unnormalize(0.0), FADER_FLOOR_DB);
        assert_eq!(fader_db(FADER_FLOOR_DB), MINUS_INFINITY_DB);
        assert_eq!(fader_db(-79.99), -79.99);
        // The unity point sits high on the fader, as on a console.
        let unity = params.out_gain.range().normalize(0.0);
        assert!((0.65..0.8).contains(&unity), "{unity}");
        // Only the fader shows its floor as -inf; the trim's floor is a plain -24 dB.
        assert_eq!(params.out_gain.to_string(), "0.00 dB");
        let fader_floor = params.out_gain.normalized_value_to_string(0.0, false);
        let trim_floor = params.in_gain.normalized_value_to_string(0.0, false);
        assert_eq!(fader_floor, "-inf");
        assert_eq!(trim_floor, "-24.00");
    }
}
