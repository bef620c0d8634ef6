//! The mastering chain's editor: a meter panel (loudness, true peak, gain reduction,
//! the loudness gain and learn) above every parameter as a slider, resizable.
//!
//! Learn: the audio thread cannot set a host parameter (nice-plug 0.4 has no
//! process-side parameter output; only the GUI context's `ParamSetter` can). While
//! learning, the chain applies its own learned gain; when learning stops it holds that
//! gain, and this panel writes it into `loud_gain` (one begin/set/end gesture, so the
//! host records it). With the editor closed the held gain keeps playing, but the
//! `loud_gain` parameter (and so the saved project) only gets it the next time the
//! editor is open.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use nice_plug::prelude::ParamSetter;
use nice_plug_egui::EguiEditor;
pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, GenericApp, Panel};
use shared_dsp::loudness::measured;

use crate::chain::ChainMeters;
use crate::params::MasterParams;

pub type Editor = EguiEditor<GenericApp<MasterParams, MeterPanel>>;

/// The size the editor opens at, logical pixels.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(560, 520)
}

/// Meters and the learn hand-over.
pub struct MeterPanel {
    params: Arc<MasterParams>,
    meters: Arc<ChainMeters>,
}

fn lufs_text(value: f64) -> String {
    measured(value).map_or_else(|| String::from("–"), |v| format!("{v:.1}"))
}

impl Panel for MeterPanel {
    fn ui(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        let m = &self.meters;
        let r = m.output.load();
        ui.label(format!(
            "M {}  S {}  I {} LUFS   LRA {:.1} LU   TP {} dBTP   PLR {}",
            lufs_text(r.momentary_lufs),
            lufs_text(r.short_term_lufs),
            lufs_text(r.integrated_lufs),
            r.lra_lu,
            lufs_text(r.true_peak_dbtp),
            lufs_text(r.plr_lu),
        ));
        let gr = |a: &atomic_float::AtomicF32| a.load(Ordering::Relaxed);
        ui.label(format!(
            "GR low {:.1}  mid {:.1}  high {:.1}  limiter {:.1} dB   input I {} LUFS   latency {} samples",
            gr(&m.band_gain_reduction_db[0]),
            gr(&m.band_gain_reduction_db[1]),
            gr(&m.band_gain_reduction_db[2]),
            gr(&m.limiter_gain_reduction_db),
            lufs_text(m.input_integrated_lufs.load(Ordering::Relaxed) as f64),
            m.latency_samples.load(Ordering::Relaxed),
        ));
        let applied = m.applied_loud_gain_db.load(Ordering::Relaxed);
        let learning = self.params.learn.value();
        ui.label(format!(
            "Loudness gain {applied:+.2} dB, target {:.1} LUFS{}",
            self.params.target_lufs(),
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
    };
    editor::create("Oxide Mastering Chain", params, state, panel)
}
