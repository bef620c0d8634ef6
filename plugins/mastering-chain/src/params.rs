//! The mastering chain's host parameters and their mapping to [`Settings`].
//!
//! Parameter ids are frozen once released (issue 7 froze them): a saved project refers
//! to them. Ranges here are the ones the DAW shows and the DSP documents, so nothing in
//! the DSP clamps a value these parameters can hold.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use atomic_float::AtomicF32;
use oxide_plugin_common::editor::{saved_scale, saved_size, SavedScale, SavedSize};

use nice_plug::prelude::*;
use oxide_plugin_common::formatters::{s2v_switch, v2s_switch};
use oxide_plugin_common::param_builders::{
    db_param, freq_param, ms_param, number_param, off_freq_param, off_freq_value, percent_param,
    OffEnd,
};
use shared_dsp::loudness::streaming::Service;
use shared_dsp::mastering::{
    limiter, BandCompressorSettings, DitherBits, DitherSettings, EqMode, ImagerSettings,
    LimiterSettings, MultibandSettings, NoiseShape, TonalEqSettings,
};

use crate::chain::{HeldGain, RepairSettings, Settings, LOUD_GAIN_MAX_DB, LOUD_GAIN_MIN_DB};

/// The editor's default window size, logical pixels: saved with the project (the
/// `editor-size` state), so it lives with the parameters.
pub const DEFAULT_SIZE: (u32, u32) = (1100, 680);
/// The input gain's range, ± dB.
pub const IN_GAIN_RANGE_DB: f32 = 24.0;
/// The output gain's lowest value, dB; the highest is 0 dB.
pub const OUT_GAIN_MIN_DB: f32 = -24.0;
/// The custom target's range, LUFS.
pub const TARGET_LUFS_RANGE: (f32, f32) = (-36.0, -5.0);
/// `img_mono_below` at this value (the bottom of its range) means off.
pub const MONO_BELOW_OFF_HZ: f32 = 19.0;
/// The crossovers' ranges, Hz: they do not overlap, so low < high always holds.
pub const XOVER_LOW_RANGE_HZ: (f32, f32) = (40.0, 1000.0);
/// See [`XOVER_LOW_RANGE_HZ`].
pub const XOVER_HIGH_RANGE_HZ: (f32, f32) = (1000.0, 16_000.0);

/// The loudness target presets (`target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Target {
    #[id = "spotify"]
    #[name = "Spotify (-14 LUFS)"]
    Spotify,
    #[id = "apple"]
    #[name = "Apple Music (-16 LUFS)"]
    AppleMusic,
    #[id = "youtube"]
    #[name = "YouTube (-14 LUFS)"]
    YouTube,
    #[id = "amazon"]
    #[name = "Amazon Music (-14 LUFS)"]
    AmazonMusic,
    #[id = "deezer"]
    #[name = "Deezer (-15 LUFS)"]
    Deezer,
    #[id = "ebu_r128"]
    #[name = "EBU R128 (-23 LUFS)"]
    EbuR128,
    #[id = "custom"]
    #[name = "Custom"]
    Custom,
}

impl Target {
    /// The preset's integrated loudness, LUFS (`None` for custom). The services' are
    /// their playback references ([`Service::reference_lufs`], one table for the target
    /// and the editor's streaming preview).
    pub fn lufs(self) -> Option<f32> {
        let service = match self {
            Target::Spotify => Service::Spotify,
            Target::AppleMusic => Service::AppleMusic,
            Target::YouTube => Service::YouTube,
            Target::AmazonMusic => Service::AmazonMusic,
            Target::Deezer => Service::Deezer,
            Target::EbuR128 => return Some(-23.0),
            Target::Custom => return None,
        };
        Some(service.reference_lufs() as f32)
    }
}

/// `eq_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum EqModeParam {
    #[id = "stereo"]
    #[name = "Stereo"]
    Stereo,
    #[id = "mid"]
    #[name = "Mid only"]
    MidOnly,
    #[id = "side"]
    #[name = "Side only"]
    SideOnly,
}

/// `dither_bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DitherBitsParam {
    #[id = "off"]
    #[name = "Off"]
    Off,
    #[id = "16"]
    #[name = "16 bit"]
    Bits16,
    #[id = "24"]
    #[name = "24 bit"]
    Bits24,
}

/// `dither_shape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DitherShapeParam {
    #[id = "flat"]
    #[name = "TPDF flat"]
    Flat,
    #[id = "shaped"]
    #[name = "Noise-shaped"]
    Shaped,
}

/// One multiband band's parameters (`mb_low_*`, `mb_mid_*`, `mb_high_*`).
#[derive(Params)]
pub struct BandParams {
    #[id = "thresh"]
    pub thresh: FloatParam,
    #[id = "ratio"]
    pub ratio: FloatParam,
    #[id = "attack"]
    pub attack: FloatParam,
    #[id = "release"]
    pub release: FloatParam,
    #[id = "makeup"]
    pub makeup: FloatParam,
    #[id = "solo"]
    pub solo: BoolParam,
    #[id = "bypass"]
    pub bypass: BoolParam,
}

#[derive(Params)]
pub struct MasterParams {
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

    /// A learned loudness gain the chain still holds (learning stopped and `loud_gain`
    /// not yet set to it): saved with the project, so a reload or re-activation plays
    /// the same gain even if the editor never opened to write `loud_gain`. The audio
    /// thread writes these atomics; see [`MasterParams::held_gain`].
    #[persist = "held-gain-on"]
    pub held_gain_on: Arc<AtomicBool>,
    #[persist = "held-gain-db"]
    pub held_gain_db: Arc<AtomicF32>,
    #[persist = "held-gain-setting-db"]
    pub held_gain_setting_db: Arc<AtomicF32>,

    #[id = "in_gain"]
    pub in_gain: FloatParam,
    /// Declick at the head of the chain, right after the input gain (off by default).
    /// On, it adds about 186 ms of latency (8184 samples at 44.1 kHz, in proportion at
    /// other rates), which the plugin reports to the host: switching it changes the
    /// latency, as the limiter's lookahead does, and restarts the stage (CLAP hosts
    /// restart the plugin).
    #[id = "rep_on"]
    pub rep_on: BoolParam,
    /// Declick sensitivity, 0–100 %: higher finds quieter clicks, with more risk of
    /// touching good transients.
    #[id = "rep_sens"]
    pub rep_sens: FloatParam,

    #[id = "eq_on"]
    pub eq_on: BoolParam,
    #[id = "eq_tilt"]
    pub eq_tilt: FloatParam,
    #[id = "eq_tilt_freq"]
    pub eq_tilt_freq: FloatParam,
    #[id = "eq_low_freq"]
    pub eq_low_freq: FloatParam,
    #[id = "eq_low_gain"]
    pub eq_low_gain: FloatParam,
    #[id = "eq_mid_freq"]
    pub eq_mid_freq: FloatParam,
    #[id = "eq_mid_gain"]
    pub eq_mid_gain: FloatParam,
    #[id = "eq_mid_q"]
    pub eq_mid_q: FloatParam,
    #[id = "eq_high_freq"]
    pub eq_high_freq: FloatParam,
    #[id = "eq_high_gain"]
    pub eq_high_gain: FloatParam,
    #[id = "eq_mode"]
    pub eq_mode: EnumParam<EqModeParam>,

    #[id = "mb_on"]
    pub mb_on: BoolParam,
    #[id = "mb_xover_low"]
    pub mb_xover_low: FloatParam,
    #[id = "mb_xover_high"]
    pub mb_xover_high: FloatParam,
    #[nested(id_prefix = "mb_low", group = "Low band")]
    pub mb_low: BandParams,
    #[nested(id_prefix = "mb_mid", group = "Mid band")]
    pub mb_mid: BandParams,
    #[nested(id_prefix = "mb_high", group = "High band")]
    pub mb_high: BandParams,

    #[id = "img_on"]
    pub img_on: BoolParam,
    #[id = "img_low_width"]
    pub img_low_width: FloatParam,
    #[id = "img_mid_width"]
    pub img_mid_width: FloatParam,
    #[id = "img_high_width"]
    pub img_high_width: FloatParam,
    #[id = "img_mono_below"]
    pub img_mono_below: FloatParam,

    #[id = "target"]
    pub target: EnumParam<Target>,
    #[id = "target_lufs"]
    pub target_lufs: FloatParam,
    #[id = "loud_gain"]
    pub loud_gain: FloatParam,
    #[id = "learn"]
    pub learn: BoolParam,

    #[id = "lim_on"]
    pub lim_on: BoolParam,
    #[id = "lim_ceiling"]
    pub lim_ceiling: FloatParam,
    #[id = "lim_release"]
    pub lim_release: FloatParam,
    #[id = "lim_auto_release"]
    pub lim_auto_release: BoolParam,
    #[id = "lim_lookahead"]
    pub lim_lookahead: FloatParam,
    #[id = "lim_link"]
    pub lim_link: FloatParam,

    #[id = "dither_bits"]
    pub dither_bits: EnumParam<DitherBitsParam>,
    #[id = "dither_shape"]
    pub dither_shape: EnumParam<DitherShapeParam>,

    #[id = "match_bypass"]
    pub match_bypass: BoolParam,
    #[id = "out_gain"]
    pub out_gain: FloatParam,
    #[id = "bypass"]
    pub bypass: BoolParam,
}

fn switch(name: &str, default: bool) -> BoolParam {
    BoolParam::new(name, default)
}

impl BandParams {
    fn new(band: &str) -> Self {
        let d = BandCompressorSettings::default();
        Self {
            thresh: db_param(&format!("{band} Threshold"), d.threshold_db, -60.0, 0.0),
            ratio: number_param(
                &format!("{band} Ratio"),
                d.ratio,
                FloatRange::Skewed {
                    min: 1.0,
                    max: 20.0,
                    factor: FloatRange::skew_factor(-1.5),
                },
                ":1",
                2,
            ),
            attack: ms_param(&format!("{band} Attack"), d.attack_ms, 0.05, 300.0),
            release: ms_param(&format!("{band} Release"), d.release_ms, 5.0, 5000.0),
            makeup: db_param(&format!("{band} Makeup"), d.makeup_db, -12.0, 36.0),
            solo: BoolParam::new(format!("{band} Solo"), false)
                .with_value_to_string(v2s_switch("Solo", "Off"))
                .with_string_to_value(s2v_switch("Solo", "Off")),
            bypass: BoolParam::new(format!("{band} Bypass"), false)
                .with_value_to_string(v2s_switch("Bypassed", "Active"))
                .with_string_to_value(s2v_switch("Bypassed", "Active")),
        }
    }

    fn settings(&self) -> BandCompressorSettings {
        BandCompressorSettings {
            threshold_db: self.thresh.value(),
            ratio: self.ratio.value(),
            attack_ms: self.attack.value(),
            release_ms: self.release.value(),
            makeup_db: self.makeup.value(),
            solo: self.solo.value(),
            bypass: self.bypass.value(),
        }
    }
}

impl Default for MasterParams {
    fn default() -> Self {
        let eq = TonalEqSettings::default();
        let mb = MultibandSettings::default();
        let lim = LimiterSettings::default();
        let rep = RepairSettings::default();
        Self {
            held_gain_on: Arc::new(AtomicBool::new(false)),
            held_gain_db: Arc::new(AtomicF32::new(0.0)),
            held_gain_setting_db: Arc::new(AtomicF32::new(0.0)),
            editor_size: saved_size(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
            ui_scale: saved_scale(),
            ab_slots: Default::default(),
            state_version: std::sync::Arc::new(std::sync::RwLock::new(
                oxide_plugin_common::state_version::STATE_VERSION,
            )),
            in_gain: db_param("Input Gain", 0.0, -IN_GAIN_RANGE_DB, IN_GAIN_RANGE_DB),
            rep_on: switch("Declick", rep.on),
            rep_sens: percent_param("Declick Sensitivity", rep.sensitivity, 100.0),

            eq_on: switch("EQ", eq.on),
            eq_tilt: db_param("EQ Tilt", 0.0, -6.0, 6.0),
            eq_tilt_freq: freq_param("EQ Tilt Frequency", eq.tilt_freq_hz, 100.0, 10_000.0),
            eq_low_freq: freq_param("EQ Low Frequency", eq.low_freq_hz, 20.0, 1000.0),
            eq_low_gain: db_param("EQ Low Gain", 0.0, -12.0, 12.0),
            eq_mid_freq: freq_param("EQ Mid Frequency", eq.mid_freq_hz, 100.0, 10_000.0),
            eq_mid_gain: db_param("EQ Mid Gain", 0.0, -12.0, 12.0),
            eq_mid_q: number_param(
                "EQ Mid Q",
                eq.mid_q,
                FloatRange::Skewed {
                    min: 0.1,
                    max: 2.0,
                    factor: FloatRange::skew_factor(-1.0),
                },
                "",
                2,
            ),
            eq_high_freq: freq_param("EQ High Frequency", eq.high_freq_hz, 1000.0, 20_000.0),
            eq_high_gain: db_param("EQ High Gain", 0.0, -12.0, 12.0),
            eq_mode: EnumParam::new("EQ Mode", EqModeParam::Stereo),

            mb_on: switch("Multiband", mb.on),
            mb_xover_low: freq_param(
                "Crossover Low",
                mb.low_hz,
                XOVER_LOW_RANGE_HZ.0,
                XOVER_LOW_RANGE_HZ.1,
            ),
            mb_xover_high: freq_param(
                "Crossover High",
                mb.high_hz,
                XOVER_HIGH_RANGE_HZ.0,
                XOVER_HIGH_RANGE_HZ.1,
            ),
            mb_low: BandParams::new("Low"),
            mb_mid: BandParams::new("Mid"),
            mb_high: BandParams::new("High"),

            img_on: switch("Imager", true),
            img_low_width: percent_param("Low Width", 100.0, 200.0),
            img_mid_width: percent_param("Mid Width", 100.0, 200.0),
            img_high_width: percent_param("High Width", 100.0, 200.0),
            img_mono_below: off_freq_param(
                "Mono Below",
                MONO_BELOW_OFF_HZ,
                FloatRange::Linear {
                    min: MONO_BELOW_OFF_HZ,
                    max: shared_dsp::mastering::imager::MAX_MONO_HZ,
                },
                OffEnd::Bottom,
            ),

            target: EnumParam::new("Target", Target::Spotify),
            target_lufs: number_param(
                "Custom Target",
                -14.0,
                FloatRange::Linear {
                    min: TARGET_LUFS_RANGE.0,
                    max: TARGET_LUFS_RANGE.1,
                },
                " LUFS",
                1,
            ),
            loud_gain: db_param("Loudness Gain", 0.0, LOUD_GAIN_MIN_DB, LOUD_GAIN_MAX_DB),
            learn: switch("Learn", false),

            lim_on: switch("Limiter", lim.on),
            lim_ceiling: db_param(
                "Ceiling",
                lim.ceiling_db,
                limiter::MIN_CEILING_DB,
                limiter::MAX_CEILING_DB,
            )
            .with_unit(" dBTP"),
            lim_release: ms_param("Limiter Release", lim.release_ms, 1.0, 1000.0),
            lim_auto_release: switch("Auto Release", lim.auto_release),
            lim_lookahead: number_param(
                "Lookahead",
                lim.lookahead_ms,
                FloatRange::Linear {
                    min: limiter::MIN_LOOKAHEAD_MS,
                    max: limiter::MAX_LOOKAHEAD_MS,
                },
                " ms",
                2,
            ),
            lim_link: percent_param("Stereo Link", lim.link_percent, 100.0),

            dither_bits: EnumParam::new("Dither", DitherBitsParam::Off),
            dither_shape: EnumParam::new("Dither Shape", DitherShapeParam::Flat),

            match_bypass: switch("Match Bypass", false),
            out_gain: db_param("Output Gain", 0.0, OUT_GAIN_MIN_DB, 0.0),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
        }
    }
}

impl MasterParams {
    /// The held learned gain saved with the project, if any.
    pub fn held_gain(&self) -> Option<HeldGain> {
        self.held_gain_on.load(Ordering::Acquire).then(|| HeldGain {
            gain_db: self.held_gain_db.load(Ordering::Relaxed),
            setting_db: self.held_gain_setting_db.load(Ordering::Relaxed),
        })
    }

    /// Records the chain's held gain for the next save (audio thread: atomics only).
    pub fn store_held_gain(&self, held: Option<HeldGain>) {
        if held == self.held_gain() {
            return;
        }
        if let Some(held) = held {
            self.held_gain_db.store(held.gain_db, Ordering::Relaxed);
            self.held_gain_setting_db
                .store(held.setting_db, Ordering::Relaxed);
        }
        self.held_gain_on.store(held.is_some(), Ordering::Release);
    }

    /// The CLAP remote-control pages: eight knobs each, in signal order.
    pub fn remote_control_pages(&self, context: &mut impl RemoteControlsContext) {
        context.add_section("Repair", |section| {
            section.add_page("Repair", |page| {
                page.add_param(&self.rep_on);
                page.add_param(&self.rep_sens);
            });
        });
        context.add_section("Tone", |section| {
            section.add_page("Tonal EQ", |page| {
                page.add_param(&self.eq_on);
                page.add_param(&self.eq_tilt);
                page.add_param(&self.eq_low_gain);
                page.add_param(&self.eq_mid_gain);
                page.add_param(&self.eq_high_gain);
                page.add_param(&self.eq_mode);
                page.add_param(&self.in_gain);
                page.add_param(&self.out_gain);
            });
            section.add_page("EQ frequencies", |page| {
                page.add_param(&self.eq_tilt_freq);
                page.add_param(&self.eq_low_freq);
                page.add_param(&self.eq_mid_freq);
                page.add_param(&self.eq_mid_q);
                page.add_param(&self.eq_high_freq);
            });
        });
        context.add_section("Multiband", |section| {
            section.add_page("Crossovers", |page| {
                page.add_param(&self.mb_on);
                page.add_param(&self.mb_xover_low);
                page.add_param(&self.mb_xover_high);
            });
            for (name, band) in [
                ("Low band", &self.mb_low),
                ("Mid band", &self.mb_mid),
                ("High band", &self.mb_high),
            ] {
                section.add_page(name, |page| {
                    page.add_param(&band.thresh);
                    page.add_param(&band.ratio);
                    page.add_param(&band.attack);
                    page.add_param(&band.release);
                    page.add_param(&band.makeup);
                    page.add_param(&band.solo);
                    page.add_param(&band.bypass);
                });
            }
        });
        context.add_section("Image", |section| {
            section.add_page("Imager", |page| {
                page.add_param(&self.img_on);
                page.add_param(&self.img_low_width);
                page.add_param(&self.img_mid_width);
                page.add_param(&self.img_high_width);
                page.add_param(&self.img_mono_below);
            });
        });
        context.add_section("Loudness", |section| {
            section.add_page("Target and limiter", |page| {
                page.add_param(&self.target);
                page.add_param(&self.target_lufs);
                page.add_param(&self.loud_gain);
                page.add_param(&self.learn);
                page.add_param(&self.lim_on);
                page.add_param(&self.lim_ceiling);
                page.add_param(&self.lim_release);
                page.add_param(&self.match_bypass);
            });
            section.add_page("Limiter and dither", |page| {
                page.add_param(&self.lim_auto_release);
                page.add_param(&self.lim_lookahead);
                page.add_param(&self.lim_link);
                page.add_spacer();
                page.add_param(&self.dither_bits);
                page.add_param(&self.dither_shape);
            });
        });
    }

    /// The loudness target the parameters select, LUFS.
    pub fn target_lufs(&self) -> f32 {
        self.target
            .value()
            .lufs()
            .unwrap_or_else(|| self.target_lufs.value())
    }

    /// The chain settings for the parameters' current values.
    pub fn settings(&self) -> Settings {
        let low_hz = self.mb_xover_low.value();
        let high_hz = self.mb_xover_high.value();
        Settings {
            repair: RepairSettings {
                on: self.rep_on.value(),
                sensitivity: self.rep_sens.value(),
            },
            in_gain_db: self.in_gain.value(),
            eq: TonalEqSettings {
                on: self.eq_on.value(),
                tilt_db: self.eq_tilt.value(),
                tilt_freq_hz: self.eq_tilt_freq.value(),
                low_freq_hz: self.eq_low_freq.value(),
                low_gain_db: self.eq_low_gain.value(),
                mid_freq_hz: self.eq_mid_freq.value(),
                mid_gain_db: self.eq_mid_gain.value(),
                mid_q: self.eq_mid_q.value(),
                high_freq_hz: self.eq_high_freq.value(),
                high_gain_db: self.eq_high_gain.value(),
                mode: match self.eq_mode.value() {
                    EqModeParam::Stereo => EqMode::Stereo,
                    EqModeParam::MidOnly => EqMode::MidOnly,
                    EqModeParam::SideOnly => EqMode::SideOnly,
                },
            },
            multiband: MultibandSettings {
                on: self.mb_on.value(),
                low_hz,
                high_hz,
                bands: [
                    self.mb_low.settings(),
                    self.mb_mid.settings(),
                    self.mb_high.settings(),
                ],
            },
            imager: ImagerSettings {
                on: self.img_on.value(),
                low_hz,
                high_hz,
                widths_percent: [
                    self.img_low_width.value(),
                    self.img_mid_width.value(),
                    self.img_high_width.value(),
                ],
                mono_below_hz: off_freq_value(&self.img_mono_below, OffEnd::Bottom),
            },
            target_lufs: self.target_lufs(),
            loud_gain_db: self.loud_gain.value(),
            learn: self.learn.value(),
            limiter: LimiterSettings {
                on: self.lim_on.value(),
                ceiling_db: self.lim_ceiling.value(),
                lookahead_ms: self.lim_lookahead.value(),
                release_ms: self.lim_release.value(),
                auto_release: self.lim_auto_release.value(),
                link_percent: self.lim_link.value(),
            },
            dither: DitherSettings {
                bits: match self.dither_bits.value() {
                    DitherBitsParam::Off => DitherBits::Off,
                    DitherBitsParam::Bits16 => DitherBits::Bits16,
                    DitherBitsParam::Bits24 => DitherBits::Bits24,
                },
                shape: match self.dither_shape.value() {
                    DitherShapeParam::Flat => NoiseShape::Flat,
                    DitherShapeParam::Shaped => NoiseShape::Shaped,
                },
            },
            out_gain_db: self.out_gain.value(),
            bypass: self.bypass.value(),
            match_bypass: self.match_bypass.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_control_pages_hold_every_parameter_once() {
        use oxide_plugin_common::remote_controls::{page_problems, PageCollector};
        let params = MasterParams::default();
        let mut pages = PageCollector::default();
        params.remote_control_pages(&mut pages);
        let problems = page_problems(&params, &pages, &[params.bypass.name()]);
        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!(pages.pages.len(), 10);
    }

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

    #[test]
    fn the_frozen_ids_are_all_there() {
        let params = MasterParams::default();
        let ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        let mut expected: Vec<String> = [
            "rep_on",
            "rep_sens",
            "in_gain",
            "eq_on",
            "eq_tilt",
            "eq_tilt_freq",
            "eq_low_freq",
            "eq_low_gain",
            "eq_mid_freq",
            "eq_mid_gain",
            "eq_mid_q",
            "eq_high_freq",
            "eq_high_gain",
            "eq_mode",
            "mb_on",
            "mb_xover_low",
            "mb_xover_high",
            "img_on",
            "img_low_width",
            "img_mid_width",
            "img_high_width",
            "img_mono_below",
            "target",
            "target_lufs",
            "loud_gain",
            "learn",
            "lim_on",
            "lim_ceiling",
            "lim_release",
            "lim_auto_release",
            "lim_lookahead",
            "lim_link",
            "dither_bits",
            "dither_shape",
            "match_bypass",
            "out_gain",
            "bypass",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for band in ["low", "mid", "high"] {
            for p in [
                "thresh", "ratio", "attack", "release", "makeup", "solo", "bypass",
            ] {
                expected.push(format!("mb_{band}_{p}"));
            }
        }
        let mut sorted = ids.clone();
        sorted.sort();
        expected.sort();
        assert_eq!(sorted, expected);
    }

    #[test]
    fn choices_are_set_from_what_a_user_types() {
        use oxide_plugin_common::param_access::set_from_text;
        let params = MasterParams::default();
        set_from_text(&params, "dither_bits", "16").unwrap();
        assert_eq!(params.dither_bits.value(), DitherBitsParam::Bits16);
        set_from_text(&params, "dither_bits", "24 BIT").unwrap();
        assert_eq!(params.dither_bits.value(), DitherBitsParam::Bits24);
        set_from_text(&params, "dither_shape", "noise").unwrap();
        assert_eq!(params.dither_shape.value(), DitherShapeParam::Shaped);
        set_from_text(&params, "target", "apple").unwrap();
        assert_eq!(params.target.value(), Target::AppleMusic);
        let error = set_from_text(&params, "dither_bits", "8").unwrap_err();
        assert!(error.to_string().contains("Off, 16 bit, 24 bit"), "{error}");
        // The off end of a frequency reads "Off"; a number with a unit still sets it.
        assert_eq!(params.img_mono_below.to_string(), "Off");
        set_from_text(&params, "img_mono_below", "120 Hz").unwrap();
        assert_eq!(params.img_mono_below.value(), 120.0);
        assert!(set_from_text(&params, "img_mono_below", "1000 Hz").is_err());
    }

    #[test]
    fn presets_give_their_targets() {
        let params = MasterParams::default();
        assert_eq!(params.target_lufs(), -14.0);
        assert_eq!(Target::AppleMusic.lufs(), Some(-16.0));
        assert_eq!(Target::EbuR128.lufs(), Some(-23.0));
    }
}
