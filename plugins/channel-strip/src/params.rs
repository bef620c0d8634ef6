//! The channel strip's host parameters and their mapping to [`Settings`].
//!
//! Parameter ids are frozen once released: a saved project refers to them. Ranges and
//! units here are the ones the DAW shows and the editor reuses; the builders, formatters
//! and parsers are the ones both plugins share (`oxide_plugin_common::param_builders`).
//! The choice lists are in [`choices`], the CLAP remote-control pages in `pages`.

mod choices;
mod pages;
#[cfg(test)]
mod tests;

use nice_plug::prelude::*;
use oxide_plugin_common::editor::{saved_scale, saved_size, SavedScale, SavedSize};
use oxide_plugin_common::formatters::{s2v_polarity, v2s_polarity};
use oxide_plugin_common::param_builders::{
    db_param, db_param_in, freq_param, ms_param, number_param, off_freq_param_log, off_freq_value,
    percent_param, ratio_param, ratio_value, OffEnd, RATIO_MAX,
};
use shared_dsp::db::MINUS_INFINITY_DB;

use shared_dsp::delay::{DelaySettings, DEFAULT_TEMPO_BPM};
use shared_dsp::dynamics::{CompressorSettings, DetectorMode, GateSettings};
use shared_dsp::filter::eq::{BandKind, BandSettings, EqSettings, PassSettings, NUM_BANDS};
use shared_dsp::reverb::ReverbSettings;
use shared_dsp::saturation::{SaturationKind, SaturationSettings};
use shared_dsp::stereo::{PanSettings, PanSource};

use crate::chain::Settings;

pub use choices::{BandType, DetectorChoice, PanLawChoice, SatType, SlopeChoice, SyncChoice};

/// The editor's default window size, logical pixels: saved with the project (the
/// `editor-size` state), so it lives with the parameters.
pub const DEFAULT_SIZE: (u32, u32) = (1000, 620);

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
    /// The editor's UI scale (75–200 %), saved with the project.
    #[persist = "ui-scale"]
    pub ui_scale: SavedScale,
    /// The A/B slots (`oxide_plugin_common::history`), saved with the project.
    #[persist = "ab-slots"]
    pub ab_slots: std::sync::Arc<std::sync::RwLock<oxide_plugin_common::history::AbState>>,
    /// The state format version a saved project carries
    /// (`oxide_plugin_common::state_version`).
    #[persist = "state-version"]
    pub state_version: std::sync::Arc<std::sync::RwLock<u32>>,

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

    /// Dynamics before the EQ bands (default: gate → compressor → EQ) or after them
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

    /// Saturation on. The 4× oversampler's latency is reported whether saturation is on
    /// or off (a delay stands in for it), so automating this never restarts the plugin.
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
            freq: freq_param(&format!("EQ {band} Freq"), defaults.freq_hz, min_hz, max_hz),
            gain: db_param(
                &format!("EQ {band} Gain"),
                defaults.gain_db,
                -BAND_GAIN_RANGE_DB,
                BAND_GAIN_RANGE_DB,
            ),
            q: number_param(
                &format!("EQ {band} Q"),
                defaults.q,
                FloatRange::Skewed {
                    min: min_q,
                    max: max_q,
                    factor: FloatRange::skew_factor(-2.0),
                },
                "",
                2,
            )
            .with_step_size(0.001),
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

impl Default for StripParams {
    fn default() -> Self {
        let d = Settings::default();
        let eq = d.eq;
        Self {
            editor_size: saved_size(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
            ui_scale: saved_scale(),
            ab_slots: Default::default(),
            state_version: std::sync::Arc::new(std::sync::RwLock::new(
                oxide_plugin_common::state_version::STATE_VERSION,
            )),
            in_gain: db_param_in(
                "Input Gain",
                0.0,
                FloatRange::Linear {
                    min: -TRIM_RANGE_DB,
                    max: TRIM_RANGE_DB,
                },
                MINUS_INFINITY_DB,
            ),
            phase_l: BoolParam::new("Polarity L", false)
                .with_value_to_string(v2s_polarity())
                .with_string_to_value(s2v_polarity()),
            phase_r: BoolParam::new("Polarity R", false)
                .with_value_to_string(v2s_polarity())
                .with_string_to_value(s2v_polarity()),
            // Skewed so the top of the fader, where mixes happen, gets most of its travel:
            // 0 dB sits at about 72 % (as on a console fader), −80 dB (−∞) at the bottom.
            out_gain: db_param_in(
                "Output Gain",
                0.0,
                FloatRange::Skewed {
                    min: FADER_FLOOR_DB,
                    max: FADER_MAX_DB,
                    factor: FloatRange::skew_factor(1.5),
                },
                FADER_FLOOR_DB,
            ),
            bypass: BoolParam::new("Bypass", false).make_bypass(),

            hpf_on: BoolParam::new("HPF On", eq.hpf.on),
            hpf_freq: freq_param("HPF Freq", eq.hpf.freq_hz, 10.0, 2_000.0),
            hpf_slope: EnumParam::new("HPF Slope", SlopeChoice::Db12),
            lpf_on: BoolParam::new("LPF On", eq.lpf.on),
            lpf_freq: freq_param("LPF Freq", eq.lpf.freq_hz, 1_000.0, 22_000.0),
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
            gate_key_hpf: off_freq_param_log("Gate Key HPF", 20.0, 20.0, 20_000.0, OffEnd::Bottom),
            gate_key_lpf: off_freq_param_log("Gate Key LPF", 20_000.0, 20.0, 20_000.0, OffEnd::Top),

            comp_on: BoolParam::new("Comp On", d.comp_on),
            comp_thresh: db_param("Comp Threshold", d.comp.threshold_db, -60.0, 0.0),
            comp_ratio: ratio_param("Comp Ratio", d.comp.ratio, "inf:1"),
            comp_knee: db_param("Comp Knee", d.comp.knee_db, 0.0, 24.0),
            comp_attack: ms_param("Comp Attack", d.comp.attack_ms, 0.05, 300.0),
            comp_release: ms_param("Comp Release", d.comp.release_ms, 5.0, 5000.0),
            comp_auto_release: BoolParam::new("Comp Auto Release", d.comp.auto_release),
            comp_detector: EnumParam::new("Comp Detector", DetectorChoice::Peak),
            comp_sc_hpf: off_freq_param_log("Comp SC HPF", 20.0, 20.0, 500.0, OffEnd::Bottom),
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
            dly_hpf: freq_param("Delay HPF", d.delay.hpf_hz, 20.0, 2_000.0),
            dly_lpf: freq_param("Delay LPF", d.delay.lpf_hz, 500.0, 20_000.0),
            dly_pingpong: BoolParam::new("Delay Ping-Pong", d.delay.ping_pong),
            dly_mix: percent_param("Delay Mix", d.delay.mix * 100.0, 100.0),

            rev_on: BoolParam::new("Reverb On", d.reverb.on),
            rev_size: percent_param("Reverb Size", d.reverb.size * 100.0, 100.0),
            rev_decay: number_param(
                "Reverb Decay",
                d.reverb.decay_s,
                FloatRange::Skewed {
                    min: 0.2,
                    max: 10.0,
                    factor: FloatRange::skew_factor(-1.5),
                },
                " s",
                2,
            )
            .with_step_size(0.01),
            rev_predelay: ms_param("Reverb Predelay", d.reverb.predelay_ms, 0.0, 200.0),
            rev_damp: percent_param("Reverb Damping", d.reverb.damping * 100.0, 100.0),
            rev_width: percent_param("Reverb Width", d.reverb.width * 100.0, 100.0),
            rev_mix: percent_param("Reverb Mix", d.reverb.mix * 100.0, 100.0),

            pan: number_param(
                "Pan",
                d.pan.pan * 100.0,
                FloatRange::Linear {
                    min: -100.0,
                    max: 100.0,
                },
                "",
                1,
            )
            .with_step_size(0.1),
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
                key_hpf_hz: off_freq_value(&self.gate_key_hpf, OffEnd::Bottom),
                key_lpf_hz: off_freq_value(&self.gate_key_lpf, OffEnd::Top),
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
                sidechain_hpf_hz: off_freq_value(&self.comp_sc_hpf, OffEnd::Bottom),
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

    /// The six bands' parameters, band 1 first.
    pub fn bands(&self) -> [&BandParams; NUM_BANDS] {
        [
            &self.eq1, &self.eq2, &self.eq3, &self.eq4, &self.eq5, &self.eq6,
        ]
    }

    /// The tone section's settings: pass filters and the six bands.
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
