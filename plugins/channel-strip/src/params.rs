//! The channel strip's host parameters and their mapping to [`Settings`].
//!
//! Parameter ids are frozen once released: a saved project refers to them. Ranges and
//! units here are the ones the DAW shows and the editor reuses.

use std::sync::Arc;

use nice_plug::prelude::*;
use oxide_plugin_common::editor::{saved_size, SavedSize};
use oxide_plugin_common::formatters::{s2v_db, s2v_polarity, v2s_db, v2s_polarity};
use shared_dsp::db::MINUS_INFINITY_DB;

use shared_dsp::delay::{DelaySettings, NoteValue, DEFAULT_TEMPO_BPM};
use shared_dsp::dynamics::{CompressorSettings, DetectorMode, GateSettings};
use shared_dsp::filter::eq::{BandKind, BandSettings, EqSettings, PassSettings, NUM_BANDS};
use shared_dsp::filter::Slope;
use shared_dsp::reverb::ReverbSettings;
use shared_dsp::saturation::{SaturationKind, SaturationSettings};
use shared_dsp::stereo::{PanLaw, PanSettings, PanSource};

use crate::chain::Settings;

/// The fader's lowest position, which means −∞ (silence).
pub const FADER_FLOOR_DB: f32 = -80.0;
/// The fader's highest position.
pub const FADER_MAX_DB: f32 = 12.0;
/// The input trim's range, ± dB.
pub const TRIM_RANGE_DB: f32 = 24.0;

#[derive(Params)]
pub struct StripParams {
    /// The editor's window size, saved with the project.
    #[persist = "editor-size"]
    pub editor_size: SavedSize,

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

    /// Dynamics before the EQ bands (default: gate → EQ → compressor) or after them
    /// (EQ → gate → compressor).
    #[id = "dyn_pre_eq"]
    pub dyn_pre_eq: BoolParam,

    #[id = "gate_on"]
    pub gate_on: BoolParam,
    /// Opening threshold, dBFS peak of the key.
    #[id = "gate_thresh"]
    pub gate_thresh: FloatParam,
    /// Largest attenuation when closed, dB.
    #[id = "gate_range"]
    pub gate_range: FloatParam,
    /// Expander ratio below the threshold; the top of the range is a gate (∞:1).
    #[id = "gate_ratio"]
    pub gate_ratio: FloatParam,
    /// Opening time: the time the gain change (in dB) takes from 10 % to 90 % of its way
    /// when the key steps over the threshold.
    #[id = "gate_attack"]
    pub gate_attack: FloatParam,
    /// How long the gate stays open after the key falls below threshold − hysteresis
    /// (plus a built-in 10 ms that bridges a low tone's zero crossings).
    #[id = "gate_hold"]
    pub gate_hold: FloatParam,
    /// Closing time: the time the gain change (in dB) takes from 10 % to 90 % of its way
    /// once the hold has run out.
    #[id = "gate_release"]
    pub gate_release: FloatParam,
    /// The gate closes this many dB below the threshold.
    #[id = "gate_hyst"]
    pub gate_hyst: FloatParam,
    /// Key filter high-pass (bottom of the range = off).
    #[id = "gate_key_hpf"]
    pub gate_key_hpf: FloatParam,
    /// Key filter low-pass (top of the range = off).
    #[id = "gate_key_lpf"]
    pub gate_key_lpf: FloatParam,

    #[id = "comp_on"]
    pub comp_on: BoolParam,
    #[id = "comp_thresh"]
    pub comp_thresh: FloatParam,
    /// Ratio, 1:1 to ∞:1 (the top of the range).
    #[id = "comp_ratio"]
    pub comp_ratio: FloatParam,
    /// Soft-knee width, centred on the threshold.
    #[id = "comp_knee"]
    pub comp_knee: FloatParam,
    /// Attack: the time the gain reduction (in dB) takes from 10 % to 90 % of its change
    /// when the input level steps up (exact with the peak detector).
    #[id = "comp_attack"]
    pub comp_attack: FloatParam,
    /// Release: the time the gain reduction (in dB) takes from 10 % to 90 % of its
    /// recovery when the input level steps down.
    #[id = "comp_release"]
    pub comp_release: FloatParam,
    /// Program-dependent release: faster after short peaks, the set release after
    /// sustained gain reduction.
    #[id = "comp_auto_release"]
    pub comp_auto_release: BoolParam,
    #[id = "comp_detector"]
    pub comp_detector: EnumParam<DetectorChoice>,
    /// Sidechain high-pass (bottom of the range = off).
    #[id = "comp_sc_hpf"]
    pub comp_sc_hpf: FloatParam,
    /// Key the compressor from the sidechain input (its own input when none is
    /// connected).
    #[id = "comp_sc_ext"]
    pub comp_sc_ext: BoolParam,
    #[id = "comp_link"]
    pub comp_link: FloatParam,
    #[id = "comp_makeup"]
    pub comp_makeup: FloatParam,
    #[id = "comp_auto_makeup"]
    pub comp_auto_makeup: BoolParam,
    /// Dry/wet for parallel compression (dry and wet are sample-aligned).
    #[id = "comp_mix"]
    pub comp_mix: FloatParam,

    /// Saturation on (adds the 4× oversampler's latency, reported to the host).
    #[id = "sat_on"]
    pub sat_on: BoolParam,
    #[id = "sat_drive"]
    pub sat_drive: FloatParam,
    #[id = "sat_type"]
    pub sat_type: EnumParam<SatType>,
    #[id = "sat_mix"]
    pub sat_mix: FloatParam,

    #[id = "dly_on"]
    pub dly_on: BoolParam,
    /// Delay time when not synced.
    #[id = "dly_time"]
    pub dly_time: FloatParam,
    /// Tempo sync: a note value at the host tempo replaces the time (120 BPM when the
    /// host reports no tempo).
    #[id = "dly_sync"]
    pub dly_sync: EnumParam<SyncChoice>,
    #[id = "dly_feedback"]
    pub dly_feedback: FloatParam,
    #[id = "dly_hpf"]
    pub dly_hpf: FloatParam,
    #[id = "dly_lpf"]
    pub dly_lpf: FloatParam,
    #[id = "dly_pingpong"]
    pub dly_pingpong: BoolParam,
    #[id = "dly_mix"]
    pub dly_mix: FloatParam,

    #[id = "rev_on"]
    pub rev_on: BoolParam,
    #[id = "rev_size"]
    pub rev_size: FloatParam,
    /// Decay time (RT60 at low frequencies).
    #[id = "rev_decay"]
    pub rev_decay: FloatParam,
    #[id = "rev_predelay"]
    pub rev_predelay: FloatParam,
    #[id = "rev_damp"]
    pub rev_damp: FloatParam,
    #[id = "rev_width"]
    pub rev_width: FloatParam,
    #[id = "rev_mix"]
    pub rev_mix: FloatParam,

    /// Pan (mono source) or balance (stereo source), −100 (left) to +100 (right).
    #[id = "pan"]
    pub pan: FloatParam,
    #[id = "pan_law"]
    pub pan_law: EnumParam<PanLawChoice>,
    /// Stereo width: 0 % mono, 100 % unchanged, 200 % doubled side signal.
    #[id = "width"]
    pub width: FloatParam,
}

/// The compressor's level detector.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorChoice {
    #[id = "peak"]
    Peak,
    #[id = "rms"]
    #[name = "RMS"]
    Rms,
}

/// The saturation curve.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SatType {
    #[id = "tape"]
    Tape,
    #[id = "tube"]
    Tube,
}

/// The pan law (level of a centred mono source).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanLawChoice {
    #[id = "0"]
    #[name = "0 dB"]
    ZeroDb,
    #[id = "-3"]
    #[name = "-3 dB"]
    Minus3Db,
    #[id = "-4.5"]
    #[name = "-4.5 dB"]
    Minus4_5Db,
    #[id = "-6"]
    #[name = "-6 dB"]
    Minus6Db,
}

impl PanLawChoice {
    fn law(self) -> PanLaw {
        match self {
            PanLawChoice::ZeroDb => PanLaw::ZeroDb,
            PanLawChoice::Minus3Db => PanLaw::Minus3Db,
            PanLawChoice::Minus4_5Db => PanLaw::Minus4_5Db,
            PanLawChoice::Minus6Db => PanLaw::Minus6Db,
        }
    }
}

/// Delay tempo sync: off, or a note value (T = triplet, . = dotted).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncChoice {
    #[id = "off"]
    Off,
    #[id = "1/64t"]
    #[name = "1/64T"]
    N64T,
    #[id = "1/64"]
    #[name = "1/64"]
    N64,
    #[id = "1/64d"]
    #[name = "1/64."]
    N64D,
    #[id = "1/32t"]
    #[name = "1/32T"]
    N32T,
    #[id = "1/32"]
    #[name = "1/32"]
    N32,
    #[id = "1/32d"]
    #[name = "1/32."]
    N32D,
    #[id = "1/16t"]
    #[name = "1/16T"]
    N16T,
    #[id = "1/16"]
    #[name = "1/16"]
    N16,
    #[id = "1/16d"]
    #[name = "1/16."]
    N16D,
    #[id = "1/8t"]
    #[name = "1/8T"]
    N8T,
    #[id = "1/8"]
    #[name = "1/8"]
    N8,
    #[id = "1/8d"]
    #[name = "1/8."]
    N8D,
    #[id = "1/4t"]
    #[name = "1/4T"]
    N4T,
    #[id = "1/4"]
    #[name = "1/4"]
    N4,
    #[id = "1/4d"]
    #[name = "1/4."]
    N4D,
    #[id = "1/2t"]
    #[name = "1/2T"]
    N2T,
    #[id = "1/2"]
    #[name = "1/2"]
    N2,
    #[id = "1/2d"]
    #[name = "1/2."]
    N2D,
    #[id = "1/1t"]
    #[name = "1/1T"]
    N1T,
    #[id = "1/1"]
    #[name = "1/1"]
    N1,
    #[id = "1/1d"]
    #[name = "1/1."]
    N1D,
}

impl SyncChoice {
    /// The note value, in [`NoteValue::ALL`]'s order (which this enum follows).
    fn note(self) -> Option<NoteValue> {
        match self {
            SyncChoice::Off => None,
            other => NoteValue::ALL.get(other.to_index() - 1).copied(),
        }
    }
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

/// A time in ms, skewed so short times get most of the travel.
fn ms_param(name: &str, default_ms: f32, min_ms: f32, max_ms: f32) -> FloatParam {
    FloatParam::new(
        name,
        default_ms,
        FloatRange::Skewed {
            min: min_ms,
            max: max_ms,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_unit(" ms")
    .with_step_size(0.01)
    .with_value_to_string(formatters::v2s_f32_rounded(2))
}

/// A level or gain in dB over a linear range.
fn db_param(name: &str, default_db: f32, min_db: f32, max_db: f32) -> FloatParam {
    FloatParam::new(
        name,
        default_db,
        FloatRange::Linear {
            min: min_db,
            max: max_db,
        },
    )
    .with_unit(" dB")
    .with_step_size(0.01)
    .with_value_to_string(formatters::v2s_f32_rounded(2))
}

/// A share in percent, 0 to `max`.
fn percent_param(name: &str, default_percent: f32, max: f32) -> FloatParam {
    FloatParam::new(name, default_percent, FloatRange::Linear { min: 0.0, max })
        .with_unit(" %")
        .with_step_size(0.1)
        .with_value_to_string(formatters::v2s_f32_rounded(1))
}

/// Display resolution of the frequency parameters, Hz: within it of the "off" end a
/// filter shows (and is) off.
const OFF_MARGIN_HZ: f32 = 0.05;

/// Which end of a filter frequency's range means "off".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OffEnd {
    Bottom,
    Top,
}

fn is_off(value: f32, min: f32, max: f32, end: OffEnd) -> bool {
    match end {
        OffEnd::Bottom => value < min + OFF_MARGIN_HZ,
        OffEnd::Top => value > max - OFF_MARGIN_HZ,
    }
}

/// A filter frequency whose bottom (high-pass) or top (low-pass) position is "Off"; the
/// text "Off" reads back to that end.
fn off_freq_param(name: &str, default_hz: f32, min: f32, max: f32, end: OffEnd) -> FloatParam {
    FloatParam::new(
        name,
        default_hz,
        FloatRange::Skewed {
            min,
            max,
            factor: FloatRange::skew_factor(-2.0),
        },
    )
    .with_unit(" Hz")
    .with_value_to_string(Arc::new(move |value| {
        if is_off(value, min, max, end) {
            String::from("Off")
        } else {
            format!("{value:.1}")
        }
    }))
    .with_string_to_value(Arc::new(move |text| {
        let text = oxide_plugin_common::formatters::without_unit(text);
        if text == "off" {
            return Some(match end {
                OffEnd::Bottom => min,
                OffEnd::Top => max,
            });
        }
        let number = text.trim_end_matches("hz").trim();
        number.parse::<f32>().ok().filter(|v| v.is_finite())
    }))
}

/// The filter frequency, or `None` at the parameter's "off" end.
fn off_freq(param: &FloatParam, end: OffEnd) -> Option<f32> {
    let range = param.range();
    let (min, max) = (range.unnormalize(0.0), range.unnormalize(1.0));
    let value = param.value();
    (!is_off(value, min, max, end)).then_some(value)
}

/// The top of the ratio parameters' travel, which means ∞:1.
pub const RATIO_MAX: f32 = 20.0;

/// A ratio from 1:1 to ∞:1 (the top of the range), shown as `4.00:1` and `top_text` at
/// the top; reads back `4`, `4:1`, `inf`, `∞` and `top_text`.
fn ratio_param(name: &str, default: f32, top_text: &'static str) -> FloatParam {
    let top = |value: f32| value > RATIO_MAX - 0.005;
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
        if top(value) {
            String::from(top_text)
        } else {
            format!("{value:.2}:1")
        }
    }))
    .with_string_to_value(Arc::new(move |text| {
        let text = text.trim().to_ascii_lowercase();
        let number = text.trim_end_matches(":1").trim();
        if matches!(number, "inf" | "∞" | "gate") || number == top_text.to_ascii_lowercase() {
            return Some(RATIO_MAX);
        }
        number.parse::<f32>().ok().filter(|v| v.is_finite())
    }))
}

/// A ratio parameter's value, the top of the range as ∞.
fn ratio_value(param: &FloatParam) -> f32 {
    let value = param.value();
    if value > RATIO_MAX - 0.005 {
        f32::INFINITY
    } else {
        value
    }
}

impl Default for StripParams {
    fn default() -> Self {
        let d = Settings::default();
        let eq = d.eq;
        Self {
            editor_size: saved_size(crate::editor::DEFAULT_SIZE.0, crate::editor::DEFAULT_SIZE.1),
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

            dyn_pre_eq: BoolParam::new("Dynamics Pre EQ", d.dyn_pre_eq),

            gate_on: BoolParam::new("Gate On", d.gate_on),
            gate_thresh: db_param("Gate Threshold", d.gate.threshold_db, -80.0, 0.0),
            gate_range: db_param("Gate Range", d.gate.range_db, 0.0, 80.0),
            gate_ratio: ratio_param("Gate Ratio", RATIO_MAX, "Gate"),
            gate_attack: ms_param("Gate Attack", d.gate.attack_ms, 0.05, 100.0),
            gate_hold: ms_param("Gate Hold", d.gate.hold_ms, 0.0, 2000.0),
            gate_release: ms_param("Gate Release", d.gate.release_ms, 5.0, 5000.0),
            gate_hyst: db_param("Gate Hysteresis", d.gate.hysteresis_db, 0.0, 20.0),
            gate_key_hpf: off_freq_param("Gate Key HPF", 20.0, 20.0, 20_000.0, OffEnd::Bottom),
            gate_key_lpf: off_freq_param("Gate Key LPF", 20_000.0, 20.0, 20_000.0, OffEnd::Top),

            comp_on: BoolParam::new("Comp On", d.comp_on),
            comp_thresh: db_param("Comp Threshold", d.comp.threshold_db, -60.0, 0.0),
            comp_ratio: ratio_param("Comp Ratio", d.comp.ratio, "inf:1"),
            comp_knee: db_param("Comp Knee", d.comp.knee_db, 0.0, 24.0),
            comp_attack: ms_param("Comp Attack", d.comp.attack_ms, 0.05, 300.0),
            comp_release: ms_param("Comp Release", d.comp.release_ms, 5.0, 5000.0),
            comp_auto_release: BoolParam::new("Comp Auto Release", d.comp.auto_release),
            comp_detector: EnumParam::new("Comp Detector", DetectorChoice::Peak),
            comp_sc_hpf: off_freq_param("Comp SC HPF", 20.0, 20.0, 500.0, OffEnd::Bottom),
            comp_sc_ext: BoolParam::new("Comp External SC", d.comp.external_sidechain),
            comp_link: percent_param("Comp Link", d.comp.link * 100.0, 100.0),
            comp_makeup: db_param("Comp Makeup", d.comp.makeup_db, -12.0, 24.0),
            comp_auto_makeup: BoolParam::new("Comp Auto Makeup", d.comp.auto_makeup),
            comp_mix: percent_param("Comp Mix", d.comp.mix * 100.0, 100.0),

            sat_on: BoolParam::new("Sat On", d.sat.on),
            sat_drive: db_param("Sat Drive", d.sat.drive_db, 0.0, 24.0),
            sat_type: EnumParam::new("Sat Type", SatType::Tape),
            sat_mix: percent_param("Sat Mix", d.sat.mix * 100.0, 100.0),

            dly_on: BoolParam::new("Delay On", d.delay.on),
            dly_time: ms_param("Delay Time", d.delay.time_ms, 1.0, 2000.0),
            dly_sync: EnumParam::new("Delay Sync", SyncChoice::Off),
            dly_feedback: percent_param("Delay Feedback", d.delay.feedback * 100.0, 95.0),
            dly_hpf: freq_param(String::from("Delay HPF"), d.delay.hpf_hz, 20.0, 2_000.0),
            dly_lpf: freq_param(String::from("Delay LPF"), d.delay.lpf_hz, 500.0, 20_000.0),
            dly_pingpong: BoolParam::new("Delay Ping-Pong", d.delay.ping_pong),
            dly_mix: percent_param("Delay Mix", d.delay.mix * 100.0, 100.0),

            rev_on: BoolParam::new("Reverb On", d.reverb.on),
            rev_size: percent_param("Reverb Size", d.reverb.size * 100.0, 100.0),
            rev_decay: FloatParam::new(
                "Reverb Decay",
                d.reverb.decay_s,
                FloatRange::Skewed {
                    min: 0.2,
                    max: 10.0,
                    factor: FloatRange::skew_factor(-1.5),
                },
            )
            .with_unit(" s")
            .with_step_size(0.01)
            .with_value_to_string(formatters::v2s_f32_rounded(2)),
            rev_predelay: ms_param("Reverb Predelay", d.reverb.predelay_ms, 0.0, 200.0),
            rev_damp: percent_param("Reverb Damping", d.reverb.damping * 100.0, 100.0),
            rev_width: percent_param("Reverb Width", d.reverb.width * 100.0, 100.0),
            rev_mix: percent_param("Reverb Mix", d.reverb.mix * 100.0, 100.0),

            pan: FloatParam::new(
                "Pan",
                d.pan.pan * 100.0,
                FloatRange::Linear {
                    min: -100.0,
                    max: 100.0,
                },
            )
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            pan_law: EnumParam::new("Pan Law", PanLawChoice::Minus3Db),
            width: percent_param("Width", d.pan.width * 100.0, 200.0),
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
            eq: self.eq_settings(),
            dyn_pre_eq: self.dyn_pre_eq.value(),
            gate_on: self.gate_on.value(),
            gate: GateSettings {
                threshold_db: self.gate_thresh.value(),
                range_db: self.gate_range.value(),
                ratio: ratio_value(&self.gate_ratio),
                attack_ms: self.gate_attack.value(),
                hold_ms: self.gate_hold.value(),
                release_ms: self.gate_release.value(),
                hysteresis_db: self.gate_hyst.value(),
                key_hpf_hz: off_freq(&self.gate_key_hpf, OffEnd::Bottom),
                key_lpf_hz: off_freq(&self.gate_key_lpf, OffEnd::Top),
                external_sidechain: false,
            },
            comp_on: self.comp_on.value(),
            comp: CompressorSettings {
                threshold_db: self.comp_thresh.value(),
                ratio: ratio_value(&self.comp_ratio),
                knee_db: self.comp_knee.value(),
                attack_ms: self.comp_attack.value(),
                release_ms: self.comp_release.value(),
                auto_release: self.comp_auto_release.value(),
                detector: match self.comp_detector.value() {
                    DetectorChoice::Peak => DetectorMode::Peak,
                    DetectorChoice::Rms => DetectorMode::Rms,
                },
                sidechain_hpf_hz: off_freq(&self.comp_sc_hpf, OffEnd::Bottom),
                external_sidechain: self.comp_sc_ext.value(),
                link: self.comp_link.value() / 100.0,
                makeup_db: self.comp_makeup.value(),
                auto_makeup: self.comp_auto_makeup.value(),
                mix: self.comp_mix.value() / 100.0,
            },
            sat: SaturationSettings {
                on: self.sat_on.value(),
                drive_db: self.sat_drive.value(),
                kind: match self.sat_type.value() {
                    SatType::Tape => SaturationKind::Tape,
                    SatType::Tube => SaturationKind::Tube,
                },
                mix: self.sat_mix.value() / 100.0,
            },
            delay: DelaySettings {
                on: self.dly_on.value(),
                time_ms: self.dly_time.value(),
                sync: self.dly_sync.value().note(),
                tempo_bpm: DEFAULT_TEMPO_BPM,
                feedback: self.dly_feedback.value() / 100.0,
                hpf_hz: self.dly_hpf.value(),
                lpf_hz: self.dly_lpf.value(),
                ping_pong: self.dly_pingpong.value(),
                mix: self.dly_mix.value() / 100.0,
            },
            reverb: ReverbSettings {
                on: self.rev_on.value(),
                size: self.rev_size.value() / 100.0,
                decay_s: self.rev_decay.value(),
                predelay_ms: self.rev_predelay.value(),
                damping: self.rev_damp.value() / 100.0,
                width: self.rev_width.value() / 100.0,
                mix: self.rev_mix.value() / 100.0,
            },
            pan: PanSettings {
                pan: self.pan.value() / 100.0,
                law: self.pan_law.value().law(),
                width: self.width.value() / 100.0,
                source: PanSource::Stereo,
            },
        }
    }

    /// [`Self::settings`] with the host's tempo for the delay's sync (`None`: 120 BPM).
    pub fn settings_at_tempo(&self, tempo_bpm: Option<f64>) -> Settings {
        let mut settings = self.settings();
        settings.delay.tempo_bpm = match tempo_bpm {
            Some(bpm) if bpm.is_finite() && bpm > 0.0 => bpm as f32,
            _ => DEFAULT_TEMPO_BPM,
        };
        settings
    }

    /// The tone section's settings: pass filters and the six bands.
    /// The CLAP remote-control pages: eight knobs each, in signal order.
    pub fn remote_control_pages(&self, context: &mut impl RemoteControlsContext) {
        context.add_section("Channel", |section| {
            section.add_page("Input / Output", |page| {
                page.add_param(&self.in_gain);
                page.add_param(&self.phase_l);
                page.add_param(&self.phase_r);
                page.add_param(&self.pan);
                page.add_param(&self.pan_law);
                page.add_param(&self.width);
                page.add_spacer();
                page.add_param(&self.out_gain);
            });
            section.add_page("Filters", |page| {
                page.add_param(&self.hpf_on);
                page.add_param(&self.hpf_freq);
                page.add_param(&self.hpf_slope);
                page.add_spacer();
                page.add_param(&self.lpf_on);
                page.add_param(&self.lpf_freq);
                page.add_param(&self.lpf_slope);
            });
        });
        context.add_section("EQ", |section| {
            let bands = self.bands();
            for (pair, bands) in bands.chunks(2).enumerate() {
                let first = 2 * pair + 1;
                section.add_page(format!("Bands {first}-{}", first + 1), |page| {
                    for band in bands {
                        page.add_param(&band.on);
                        page.add_param(&band.freq);
                        page.add_param(&band.gain);
                        page.add_param(&band.q);
                    }
                });
            }
            section.add_page("Band types", |page| {
                page.add_param(&self.eq_on);
                for band in bands {
                    page.add_param(&band.kind);
                }
            });
        });
        context.add_section("Dynamics", |section| {
            section.add_page("Gate", |page| {
                page.add_param(&self.gate_on);
                page.add_param(&self.gate_thresh);
                page.add_param(&self.gate_range);
                page.add_param(&self.gate_ratio);
                page.add_param(&self.gate_attack);
                page.add_param(&self.gate_hold);
                page.add_param(&self.gate_release);
                page.add_param(&self.gate_hyst);
            });
            section.add_page("Compressor", |page| {
                page.add_param(&self.comp_on);
                page.add_param(&self.comp_thresh);
                page.add_param(&self.comp_ratio);
                page.add_param(&self.comp_knee);
                page.add_param(&self.comp_attack);
                page.add_param(&self.comp_release);
                page.add_param(&self.comp_makeup);
                page.add_param(&self.comp_mix);
            });
            section.add_page("Detector and keys", |page| {
                page.add_param(&self.comp_auto_release);
                page.add_param(&self.comp_detector);
                page.add_param(&self.comp_sc_hpf);
                page.add_param(&self.comp_sc_ext);
                page.add_param(&self.comp_link);
                page.add_param(&self.comp_auto_makeup);
                page.add_param(&self.gate_key_hpf);
                page.add_param(&self.gate_key_lpf);
            });
        });
        context.add_section("Colour and space", |section| {
            section.add_page("Saturation and order", |page| {
                page.add_param(&self.sat_on);
                page.add_param(&self.sat_drive);
                page.add_param(&self.sat_type);
                page.add_param(&self.sat_mix);
                page.add_param(&self.dyn_pre_eq);
            });
            section.add_page("Delay", |page| {
                page.add_param(&self.dly_on);
                page.add_param(&self.dly_time);
                page.add_param(&self.dly_sync);
                page.add_param(&self.dly_feedback);
                page.add_param(&self.dly_hpf);
                page.add_param(&self.dly_lpf);
                page.add_param(&self.dly_pingpong);
                page.add_param(&self.dly_mix);
            });
            section.add_page("Reverb", |page| {
                page.add_param(&self.rev_on);
                page.add_param(&self.rev_size);
                page.add_param(&self.rev_decay);
                page.add_param(&self.rev_predelay);
                page.add_param(&self.rev_damp);
                page.add_param(&self.rev_width);
                page.add_spacer();
                page.add_param(&self.rev_mix);
            });
        });
    }

    /// The six bands' parameters, band 1 first.
    pub fn bands(&self) -> [&BandParams; NUM_BANDS] {
        [
            &self.eq1, &self.eq2, &self.eq3, &self.eq4, &self.eq5, &self.eq6,
        ]
    }

    pub fn eq_settings(&self) -> EqSettings {
        let bands = self.bands();
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
    fn remote_control_pages_hold_every_parameter_once() {
        use oxide_plugin_common::remote_controls::{page_problems, PageCollector};
        let params = StripParams::default();
        let mut pages = PageCollector::default();
        params.remote_control_pages(&mut pages);
        let problems = page_problems(&params, &pages, &[params.bypass.name()]);
        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!(pages.pages.len(), 12);
    }

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
    fn ids_are_the_frozen_ones() {
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
            "dyn_pre_eq",
            "gate_on",
            "gate_thresh",
            "gate_range",
            "gate_ratio",
            "gate_attack",
            "gate_hold",
            "gate_release",
            "gate_hyst",
            "gate_key_hpf",
            "gate_key_lpf",
            "comp_on",
            "comp_thresh",
            "comp_ratio",
            "comp_knee",
            "comp_attack",
            "comp_release",
            "comp_auto_release",
            "comp_detector",
            "comp_sc_hpf",
            "comp_sc_ext",
            "comp_link",
            "comp_makeup",
            "comp_auto_makeup",
            "comp_mix",
            "sat_on",
            "sat_drive",
            "sat_type",
            "sat_mix",
            "dly_on",
            "dly_time",
            "dly_sync",
            "dly_feedback",
            "dly_hpf",
            "dly_lpf",
            "dly_pingpong",
            "dly_mix",
            "rev_on",
            "rev_size",
            "rev_decay",
            "rev_predelay",
            "rev_damp",
            "rev_width",
            "rev_mix",
            "pan",
            "pan_law",
            "width",
            "out_gain",
            "in_gain",
            "phase_l",
            "phase_r",
        ] {
            assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
        }
    }

    #[test]
    fn off_ends_and_ratio_tops_map_to_off_and_infinity() {
        let params = StripParams::default();
        let s = params.settings();
        assert_eq!(s.gate.ratio, f32::INFINITY);
        assert_eq!(s.gate.key_hpf_hz, None);
        assert_eq!(s.gate.key_lpf_hz, None);
        assert_eq!(s.comp.sidechain_hpf_hz, None);
        assert_eq!(params.gate_ratio.to_string(), "Gate");
        assert_eq!(params.gate_key_hpf.to_string(), "Off Hz");
        let sync = params.dly_sync.string_to_normalized_value("1/4").unwrap();
        assert_eq!(
            SyncChoice::from_index(params.dly_sync.preview_plain(sync) as usize).note(),
            Some(NoteValue::Quarter)
        );
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
