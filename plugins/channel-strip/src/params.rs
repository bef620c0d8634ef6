//! The channel strip's host parameters and their mapping to [`Settings`].
//!
//! Parameter ids are frozen once released: a saved project refers to them. Ranges and
//! units here are the ones the DAW shows and the editor reuses.

use std::sync::Arc;

use nice_plug::prelude::*;
use oxide_plugin_common::formatters::{s2v_db, v2s_db};
use shared_dsp::db::MINUS_INFINITY_DB;

use shared_dsp::filter::eq::{BandKind, BandSettings, EqSettings, PassSettings, NUM_BANDS};
use shared_dsp::filter::Slope;

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

    #[id = "hpf_on"]
    pub hpf_on: BoolParam,
    #[id = "hpf_freq"]
    pub hpf_freq: FloatParam,
    #[id = "hpf_slope"]
    pub hpf_slope: EnumParam<SlopeChoice>,
    #[id = "lpf_on"]
    pub lpf_on: BoolParam,
    #[id = "lpf_freq"]
    pub lpf_freq: FloatParam,
    #[id = "lpf_slope"]
    pub lpf_slope: EnumParam<SlopeChoice>,

    #[id = "eq_on"]
    pub eq_on: BoolParam,
    #[nested(id_prefix = "eq1", group = "EQ 1")]
    pub eq1: BandParams,
    #[nested(id_prefix = "eq2", group = "EQ 2")]
    pub eq2: BandParams,
    #[nested(id_prefix = "eq3", group = "EQ 3")]
    pub eq3: BandParams,
    #[nested(id_prefix = "eq4", group = "EQ 4")]
    pub eq4: BandParams,
    #[nested(id_prefix = "eq5", group = "EQ 5")]
    pub eq5: BandParams,
    #[nested(id_prefix = "eq6", group = "EQ 6")]
    pub eq6: BandParams,
}

/// A high- or low-pass slope, as the DAW lists it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeChoice {
    #[id = "6"]
    #[name = "6 dB/oct"]
    Db6,
    #[id = "12"]
    #[name = "12 dB/oct"]
    Db12,
    #[id = "18"]
    #[name = "18 dB/oct"]
    Db18,
    #[id = "24"]
    #[name = "24 dB/oct"]
    Db24,
    #[id = "36"]
    #[name = "36 dB/oct"]
    Db36,
    #[id = "48"]
    #[name = "48 dB/oct"]
    Db48,
}

impl SlopeChoice {
    fn slope(self) -> Slope {
        match self {
            SlopeChoice::Db6 => Slope::Db6,
            SlopeChoice::Db12 => Slope::Db12,
            SlopeChoice::Db18 => Slope::Db18,
            SlopeChoice::Db24 => Slope::Db24,
            SlopeChoice::Db36 => Slope::Db36,
            SlopeChoice::Db48 => Slope::Db48,
        }
    }
}

/// An EQ band's shape.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandType {
    #[id = "bell"]
    Bell,
    #[id = "low_shelf"]
    #[name = "Low Shelf"]
    LowShelf,
    #[id = "high_shelf"]
    #[name = "High Shelf"]
    HighShelf,
}

impl BandType {
    fn kind(self) -> BandKind {
        match self {
            BandType::Bell => BandKind::Bell,
            BandType::LowShelf => BandKind::LowShelf,
            BandType::HighShelf => BandKind::HighShelf,
        }
    }
}

/// The EQ bands' frequency range, Hz.
pub const BAND_FREQ_RANGE_HZ: (f32, f32) = (20.0, 20_000.0);
/// The EQ bands' gain range, ± dB.
pub const BAND_GAIN_RANGE_DB: f32 = 24.0;
/// The EQ bands' Q range.
pub const BAND_Q_RANGE: (f32, f32) = (0.1, 18.0);

/// One EQ band: `eqN_on`, `eqN_type`, `eqN_freq`, `eqN_gain`, `eqN_q`.
#[derive(Params)]
pub struct BandParams {
    #[id = "on"]
    pub on: BoolParam,
    #[id = "type"]
    pub kind: EnumParam<BandType>,
    #[id = "freq"]
    pub freq: FloatParam,
    #[id = "gain"]
    pub gain: FloatParam,
    #[id = "q"]
    pub q: FloatParam,
}

/// A frequency parameter on a logarithmic-feeling scale (skewed so each octave gets a
/// similar share of the travel).
fn freq_param(name: String, default_hz: f32, min_hz: f32, max_hz: f32) -> FloatParam {
    FloatParam::new(
        name,
        default_hz,
        FloatRange::Skewed {
            min: min_hz,
            max: max_hz,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_unit(" Hz")
    .with_value_to_string(formatters::v2s_f32_rounded(1))
}

impl BandParams {
    fn new(band: usize, defaults: &BandSettings) -> Self {
        let kind = match defaults.kind {
            BandKind::Bell => BandType::Bell,
            BandKind::LowShelf => BandType::LowShelf,
            BandKind::HighShelf => BandType::HighShelf,
        };
        let (min_hz, max_hz) = BAND_FREQ_RANGE_HZ;
        let (min_q, max_q) = BAND_Q_RANGE;
        Self {
            on: BoolParam::new(format!("EQ {band} On"), defaults.on),
            kind: EnumParam::new(format!("EQ {band} Type"), kind),
            freq: freq_param(format!("EQ {band} Freq"), defaults.freq_hz, min_hz, max_hz),
            gain: FloatParam::new(
                format!("EQ {band} Gain"),
                defaults.gain_db,
                FloatRange::Linear {
                    min: -BAND_GAIN_RANGE_DB,
                    max: BAND_GAIN_RANGE_DB,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.01)
            .with_value_to_string(formatters::v2s_f32_rounded(2)),
            q: FloatParam::new(
                format!("EQ {band} Q"),
                defaults.q,
                FloatRange::Skewed {
                    min: min_q,
                    max: max_q,
                    factor: FloatRange::skew_factor(-2.0),
                },
            )
            .with_step_size(0.001)
            .with_value_to_string(formatters::v2s_f32_rounded(2)),
        }
    }

    fn settings(&self) -> BandSettings {
        BandSettings {
            on: self.on.value(),
            kind: self.kind.value().kind(),
            freq_hz: self.freq.value(),
            gain_db: self.gain.value(),
            q: self.q.value(),
        }
    }
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
        let eq = EqSettings::default();
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
                .with_value_to_string(polarity_text())
                .with_string_to_value(polarity_parse()),
            phase_r: BoolParam::new("Polarity R", false)
                .with_value_to_string(polarity_text())
                .with_string_to_value(polarity_parse()),
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

            hpf_on: BoolParam::new("HPF On", eq.hpf.on),
            hpf_freq: freq_param(String::from("HPF Freq"), eq.hpf.freq_hz, 10.0, 2_000.0),
            hpf_slope: EnumParam::new("HPF Slope", SlopeChoice::Db12),
            lpf_on: BoolParam::new("LPF On", eq.lpf.on),
            lpf_freq: freq_param(String::from("LPF Freq"), eq.lpf.freq_hz, 1_000.0, 22_000.0),
            lpf_slope: EnumParam::new("LPF Slope", SlopeChoice::Db12),

            eq_on: BoolParam::new("EQ On", eq.eq_on),
            eq1: BandParams::new(1, &eq.bands[0]),
            eq2: BandParams::new(2, &eq.bands[1]),
            eq3: BandParams::new(3, &eq.bands[2]),
            eq4: BandParams::new(4, &eq.bands[3]),
            eq5: BandParams::new(5, &eq.bands[4]),
            eq6: BandParams::new(6, &eq.bands[5]),
        }
    }
}

fn polarity_text() -> Arc<dyn Fn(bool) -> String + Send + Sync> {
    Arc::new(|inverted| String::from(if inverted { "Inverted" } else { "Normal" }))
}

/// Parses what [`polarity_text`] shows (plus on/off, true/false), so text round-trips.
fn polarity_parse() -> Arc<dyn Fn(&str) -> Option<bool> + Send + Sync> {
    Arc::new(|text| match text.trim().to_ascii_lowercase().as_str() {
        "inverted" | "invert" | "on" | "true" => Some(true),
        "normal" | "off" | "false" => Some(false),
        _ => None,
    })
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
            eq: self.eq_settings(),
        }
    }

    /// The tone section's settings: pass filters and the six bands.
    pub fn eq_settings(&self) -> EqSettings {
        let bands: [&BandParams; NUM_BANDS] = [
            &self.eq1, &self.eq2, &self.eq3, &self.eq4, &self.eq5, &self.eq6,
        ];
        EqSettings {
            hpf: PassSettings {
                on: self.hpf_on.value(),
                freq_hz: self.hpf_freq.value(),
                slope: self.hpf_slope.value().slope(),
            },
            lpf: PassSettings {
                on: self.lpf_on.value(),
                freq_hz: self.lpf_freq.value(),
                slope: self.lpf_slope.value().slope(),
            },
            eq_on: self.eq_on.value(),
            bands: bands.map(BandParams::settings),
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
    fn eq_ids_are_the_frozen_ones() {
        let params = StripParams::default();
        let ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        for id in [
            "hpf_on",
            "hpf_freq",
            "hpf_slope",
            "lpf_on",
            "lpf_freq",
            "lpf_slope",
            "eq_on",
            "eq1_on",
            "eq1_type",
            "eq1_freq",
            "eq1_gain",
            "eq1_q",
            "eq6_q",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
        }
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
