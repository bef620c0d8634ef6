//! The parameter builders both plugins use, so a dB, a frequency, a time, a percentage,
//! a ratio or a filter with an "Off" end is shown and parsed the same way in both: one
//! formatter and one parser per kind of value (see [`crate::formatters`]).

use std::sync::Arc;

use nice_plug::prelude::{FloatParam, FloatRange};
use shared_dsp::db::MINUS_INFINITY_DB;

use crate::formatters::{s2v_db, s2v_number, v2s_db, v2s_fixed, without_unit};

/// A level or gain in dB over `range`, 0.01 dB steps; at or below `silence_db` it shows
/// and reads back as `-inf` (pass [`MINUS_INFINITY_DB`] for a gain that never reaches
/// silence).
pub fn db_param_in(name: &str, default_db: f32, range: FloatRange, silence_db: f32) -> FloatParam {
    FloatParam::new(name, default_db, range)
        .with_unit(" dB")
        .with_step_size(0.01)
        .with_value_to_string(v2s_db(silence_db))
        .with_string_to_value(s2v_db(silence_db))
}

/// A level or gain in dB over a linear range from `min_db` to `max_db`.
pub fn db_param(name: &str, default_db: f32, min_db: f32, max_db: f32) -> FloatParam {
    db_param_in(
        name,
        default_db,
        FloatRange::Linear {
            min: min_db,
            max: max_db,
        },
        MINUS_INFINITY_DB,
    )
}

/// A plain number over `range` with `decimals` decimals and a `unit` (with its leading
/// space); reads back the number with or without the unit, `1.5k` as 1500.
pub fn number_param(
    name: &str,
    default: f32,
    range: FloatRange,
    unit: &'static str,
    decimals: usize,
) -> FloatParam {
    FloatParam::new(name, default, range)
        .with_unit(unit)
        .with_value_to_string(v2s_fixed(decimals))
        .with_string_to_value(s2v_number())
}

/// The skew of frequency and time ranges: each octave (or doubling of a time) gets a
/// similar share of a knob's travel.
fn log_like(min: f32, max: f32) -> FloatRange {
    FloatRange::Skewed {
        min,
        max,
        factor: FloatRange::skew_factor(-2.0),
    }
}

/// A frequency in Hz, 0.1 Hz shown, skewed like a logarithmic scale.
pub fn freq_param(name: &str, default_hz: f32, min_hz: f32, max_hz: f32) -> FloatParam {
    number_param(name, default_hz, log_like(min_hz, max_hz), " Hz", 1)
}

/// A time in ms, 0.01 ms shown, skewed so short times get most of the travel.
pub fn ms_param(name: &str, default_ms: f32, min_ms: f32, max_ms: f32) -> FloatParam {
    number_param(name, default_ms, log_like(min_ms, max_ms), " ms", 2)
}

/// A share in percent, 0 to `max`, 0.1 % shown.
pub fn percent_param(name: &str, default_percent: f32, max: f32) -> FloatParam {
    number_param(
        name,
        default_percent,
        FloatRange::Linear { min: 0.0, max },
        " %",
        1,
    )
}

/// Display resolution of the frequency parameters, Hz: within it of the "off" end a
/// filter shows (and is) off.
const OFF_MARGIN_HZ: f32 = 0.05;

/// Which end of a filter frequency's range means "off".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffEnd {
    /// The bottom of the range (a high-pass, a "mono below").
    Bottom,
    /// The top of the range (a low-pass).
    Top,
}

impl OffEnd {
    /// Whether `value` in `min..=max` is at this "off" end.
    pub fn is_off(self, value: f32, min: f32, max: f32) -> bool {
        match self {
            OffEnd::Bottom => value < min + OFF_MARGIN_HZ,
            OffEnd::Top => value > max - OFF_MARGIN_HZ,
        }
    }

    /// The parameter's value at this end.
    fn value(self, min: f32, max: f32) -> f32 {
        match self {
            OffEnd::Bottom => min,
            OffEnd::Top => max,
        }
    }
}

/// A filter frequency whose bottom or top position (`end`) is off, shown as `Off` and as
/// `120.0 Hz` elsewhere. The formatter writes the unit itself and the parameter has none,
/// because a host appends a parameter's unit to every value and would show `Off Hz`.
/// Reads back `Off`, `120`, `120 Hz` and `1.2k`.
pub fn off_freq_param(name: &str, default_hz: f32, range: FloatRange, end: OffEnd) -> FloatParam {
    let (min, max) = (range.unnormalize(0.0), range.unnormalize(1.0));
    let number = s2v_number();
    FloatParam::new(name, default_hz, range)
        .with_value_to_string(Arc::new(move |value| {
            if end.is_off(value, min, max) {
                String::from("Off")
            } else {
                format!("{value:.1} Hz")
            }
        }))
        .with_string_to_value(Arc::new(move |text| {
            if without_unit(text) == "off" {
                Some(end.value(min, max))
            } else {
                number(text)
            }
        }))
}

/// An [`off_freq_param`] skewed like a logarithmic scale.
pub fn off_freq_param_log(
    name: &str,
    default_hz: f32,
    min_hz: f32,
    max_hz: f32,
    end: OffEnd,
) -> FloatParam {
    off_freq_param(name, default_hz, log_like(min_hz, max_hz), end)
}

/// The filter frequency a parameter made by [`off_freq_param`] holds, or `None` at its
/// "off" end.
pub fn off_freq_value(param: &FloatParam, end: OffEnd) -> Option<f32> {
    let range = param.range();
    let (min, max) = (range.unnormalize(0.0), range.unnormalize(1.0));
    let value = param.value();
    (!end.is_off(value, min, max)).then_some(value)
}

/// The top of the ratio parameters' travel, which means ∞:1.
pub const RATIO_MAX: f32 = 20.0;

/// Whether a ratio parameter's value is at the top of its travel (∞:1).
fn is_top_ratio(value: f32) -> bool {
    value > RATIO_MAX - 0.005
}

/// A ratio from 1:1 to ∞:1 (the top of the range), shown as `4.00:1` and `top_text` at
/// the top; reads back `4`, `4:1`, `inf`, `∞` and `top_text`.
pub fn ratio_param(name: &str, default: f32, top_text: &'static str) -> FloatParam {
    FloatParam::new(
        name,
        default,
        FloatRange::Skewed {
            min: 1.0,
            max: RATIO_MAX,
            factor: FloatRange::skew_factor(-1.5),
        },
    )
    .with_step_size(0.01)
    .with_value_to_string(Arc::new(move |value| {
        if is_top_ratio(value) {
            String::from(top_text)
        } else {
            format!("{value:.2}:1")
        }
    }))
    .with_string_to_value(Arc::new(move |text| {
        let text = text.trim().to_lowercase();
        let number = text.trim_end_matches(":1").trim();
        if matches!(number, "inf" | "∞" | "gate") || number == top_text.to_lowercase() {
            return Some(RATIO_MAX);
        }
        number.parse::<f32>().ok().filter(|v| v.is_finite())
    }))
}

/// A ratio parameter's value, the top of the range as ∞.
pub fn ratio_value(param: &FloatParam) -> f32 {
    let value = param.value();
    if is_top_ratio(value) {
        f32::INFINITY
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nice_plug::prelude::Param;

    #[test]
    fn an_off_end_reads_off_without_a_unit() {
        // The compressor's side-chain high-pass at its lowest read "Off Hz" (the host
        // appends a parameter's unit to every value): the formatter owns the unit now.
        let hpf = off_freq_param_log("SC HPF", 20.0, 20.0, 500.0, OffEnd::Bottom);
        assert_eq!(hpf.normalized_value_to_string(0.0, true), "Off");
        assert_eq!(hpf.normalized_value_to_string(0.0, false), "Off");
        assert_eq!(hpf.normalized_value_to_string(1.0, true), "500.0 Hz");
        assert_eq!(hpf.string_to_normalized_value("Off"), Some(0.0));
        assert_eq!(hpf.string_to_normalized_value("500 Hz"), Some(1.0));
        let lpf = off_freq_param_log("Key LPF", 20_000.0, 20.0, 20_000.0, OffEnd::Top);
        assert_eq!(lpf.to_string(), "Off");
        assert_eq!(off_freq_value(&lpf, OffEnd::Top), None);
        let at_1k = lpf.string_to_normalized_value("1k").unwrap();
        assert_eq!(lpf.normalized_value_to_string(at_1k, true), "1000.0 Hz");
    }

    #[test]
    fn ratios_top_out_at_infinity() {
        let ratio = ratio_param("Ratio", 4.0, "inf:1");
        assert_eq!(ratio.to_string(), "4.00:1");
        assert_eq!(ratio_value(&ratio), 4.0);
        let top = ratio.string_to_normalized_value("∞").unwrap();
        assert_eq!(ratio.normalized_value_to_string(top, true), "inf:1");
    }
}
