//! The mastering chain's host parameters and their mapping to [`Settings`].
//!
//! Parameter ids are frozen once released: a saved project refers to them.

use nice_plug::prelude::*;
use oxide_plugin_common::formatters::{s2v_db, v2s_db};
use shared_dsp::db::MINUS_INFINITY_DB;

use crate::chain::Settings;

/// The input gain's range, ± dB.
pub const IN_GAIN_RANGE_DB: f32 = 24.0;
/// The output gain's lowest value, dB; the highest is 0 dB.
pub const OUT_GAIN_MIN_DB: f32 = -24.0;

#[derive(Params)]
pub struct MasterParams {
    #[id = "in_gain"]
    pub in_gain: FloatParam,
    #[id = "out_gain"]
    pub out_gain: FloatParam,
    #[id = "bypass"]
    pub bypass: BoolParam,
}

fn gain_param(name: &str, min_db: f32, max_db: f32) -> FloatParam {
    FloatParam::new(
        name,
        0.0,
        FloatRange::Linear {
            min: min_db,
            max: max_db,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.01)
    .with_value_to_string(v2s_db(MINUS_INFINITY_DB))
    .with_string_to_value(s2v_db(MINUS_INFINITY_DB))
}

impl Default for MasterParams {
    fn default() -> Self {
        Self {
            in_gain: gain_param("Input Gain", -IN_GAIN_RANGE_DB, IN_GAIN_RANGE_DB),
            out_gain: gain_param("Output Gain", OUT_GAIN_MIN_DB, 0.0),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

impl MasterParams {
    /// The chain settings for the parameters' current values.
    pub fn settings(&self) -> Settings {
        Settings {
            in_gain_db: self.in_gain.value(),
            out_gain_db: self.out_gain.value(),
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
            oxide_plugin_common::param_access::text_round_trip_failures(&MasterParams::default());
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn defaults_map_to_default_settings() {
        assert_eq!(MasterParams::default().settings(), Settings::default());
    }
}
