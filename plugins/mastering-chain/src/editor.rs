//! The mastering chain's editor: the loudness history against the target, the output's
//! spectrum, meters (loudness, true peak, gain reduction per band and in the limiter,
//! stereo correlation, LRA, PLR), what the streaming services would do to the level at
//! playback, the loudness gain and learn, above every parameter as a slider, resizable.
//!
//! Learn: the audio thread cannot set a host parameter (nice-plug 0.4 has no
//! process-side parameter output; only the GUI context's `ParamSetter` can). While
//! learning, the chain applies its own learned gain; when learning stops it holds that
//! gain, and this panel writes it into `loud_gain` (one begin/set/end gesture, so the
//! host records it). With the editor closed the held gain keeps playing and is saved
//! with the project (persisted fields of `MasterParams`), so a reload plays it too.

pub mod loudness_view;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::prelude::ParamSetter;
use nice_plug_egui::EguiEditor;
pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, meter_row, GenericApp, MeterReading, Panel};
use oxide_plugin_common::spectrum::SpectrumView;
use shared_dsp::loudness::measured;
use shared_dsp::loudness::streaming::Service;

use crate::chain::ChainMeters;
use crate::params::{MasterParams, DEFAULT_SIZE};
use loudness_view::LoudnessHistory;

pub type Editor = EguiEditor<GenericApp<MasterParams, MeterPanel>>;

/// The editor state at the default size.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(DEFAULT_SIZE.0, DEFAULT_SIZE.1)
}

/// Meters, the loudness history and the learn hand-over.
pub struct MeterPanel {
    params: Arc<MasterParams>,
    meters: Arc<ChainMeters>,
    history: LoudnessHistory,
    spectrum: SpectrumView,
}

/// The loudness history's height, logical pixels.
const HISTORY_HEIGHT: f32 = 140.0;
/// The spectrum's height, logical pixels.
const SPECTRUM_HEIGHT: f32 = 110.0;
/// The loudness and true-peak bars' floor, dB.
const LEVEL_FLOOR_DB: f32 = -60.0;

fn lufs_text(value: f64) -> String {
    measured(value).map_or_else(|| String::from("–"), |v| format!("{v:.1}"))
}

impl Panel for MeterPanel {
    fn ui(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let m = &self.meters;
        let r = m.output.load();
        let target = self.params.target_lufs() as f64;
        self.history.record(
            ui.input(|input| input.time),
            r.momentary_lufs,
            r.short_term_lufs,
        );
        self.history.show(ui, target, HISTORY_HEIGHT);
        self.spectrum
            .update(&m.spectrum, ui.input(|input| input.time));
        self.spectrum
            .show(ui, m.spectrum.sample_rate(), SPECTRUM_HEIGHT);

        let level = |value_db: f64, unit| MeterReading::Level {
            value_db: value_db as f32,
            floor_db: LEVEL_FLOOR_DB,
            top_db: 0.0,
            unit,
        };
        let reduction = |value: &atomic_float::AtomicF32, full_scale_db| MeterReading::Reduction {
            value_db: value.load(Ordering::Relaxed),
            full_scale_db,
        };
        egui::Grid::new("meters").show(ui, |ui| {
            meter_row(ui, "Momentary", level(r.momentary_lufs, "LUFS"));
            meter_row(ui, "Short-term", level(r.short_term_lufs, "LUFS"));
            meter_row(ui, "Integrated", level(r.integrated_lufs, "LUFS"));
            meter_row(ui, "True peak", level(r.true_peak_dbtp, "dBTP"));
            for (label, band) in ["GR low", "GR mid", "GR high"]
                .into_iter()
                .zip(&m.band_gain_reduction_db)
            {
                meter_row(ui, label, reduction(band, 24.0));
            }
            meter_row(
                ui,
                "Limiter GR",
                reduction(&m.limiter_gain_reduction_db, 12.0),
            );
            meter_row(
                ui,
                "Correlation",
                MeterReading::Correlation {
                    value: m.correlation.load(Ordering::Relaxed),
                },
            );
        });
        ui.label(format!(
            "LRA {:.1} LU   PLR {} LU   input I {} LUFS   latency {} samples",
            r.lra_lu,
            lufs_text(r.plr_lu),
            lufs_text(m.input_integrated_lufs.load(Ordering::Relaxed) as f64),
            m.latency_samples.load(Ordering::Relaxed),
        ));
        // What the streaming services' normalisation would do to this output; wrapped
        // between services when the editor is narrow.
        ui.horizontal_wrapped(|ui| {
            ui.label("Playback gain:").on_hover_text(
                "What each service's loudness normalisation would do to this output at \
                 playback (their published defaults; listeners can switch it off)",
            );
            for service in Service::ALL {
                let gain = service.playback_gain_db(r.integrated_lufs, r.true_peak_dbtp);
                ui.label(match gain {
                    Some(gain) => format!("{} {gain:+.1} dB", service.name()),
                    None => format!("{} -", service.name()),
                });
            }
        });
        let applied = m.applied_loud_gain_db.load(Ordering::Relaxed);
        let learning = self.params.learn.value();
        ui.label(format!(
            "Loudness gain {applied:+.2} dB, target {target:.1} LUFS{}",
            if learning { " (learning)" } else { "" }
        ));
        // Learning stopped and the chain holds a learned gain the parameter does not have
        // yet: write it (rounded to the parameter's 0.01 dB step).
        if !learning
            && m.learned_gain_pending.load(Ordering::Relaxed)
            && (self.params.loud_gain.value() - applied).abs() >= 0.005
        {
            setter.begin_set_parameter(&self.params.loud_gain);
            setter.set_parameter(&self.params.loud_gain, applied);
            setter.end_set_parameter(&self.params.loud_gain);
        }
        // The meters move while audio runs: keep drawing.
        ui.ctx().request_repaint();
    }
}

pub fn create(
    params: Arc<MasterParams>,
    meters: Arc<ChainMeters>,
    state: Arc<EditorState>,
) -> Option<Editor> {
    let panel = MeterPanel {
        params: params.clone(),
        meters,
        history: LoudnessHistory::default(),
        spectrum: SpectrumView::default(),
    };
    let saved_size = params.editor_size.clone();
    editor::create("Oxide Mastering Chain", params, state, saved_size, panel)
}
