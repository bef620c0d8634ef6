//! The mastering chain's editor: a mastering console in signal order with no scrolling
//! (see [`layout`]): input gain and declick → tonal EQ with its curve → multiband with
//! the crossovers as lines dragged over the spectrum and each band's gain reduction →
//! imager with width per band, goniometer and correlation → loudness (readings against
//! the target, history, the streaming services' playback gain) → limiter with its gain
//! reduction over time and its ceiling → dither, output and the matched bypass.
//!
//! Analysis for the editor (spectrum, goniometer, correlation, the limiter's GR
//! history) runs only while it is open: the chain feeds those taps only while
//! `ChainMeters::editor_open` is set (the plugin relays the window's open state), and
//! the GUI-side analysis runs inside the frame, which only exists while the window does.
//!
//! Learn: the audio thread cannot set a host parameter (nice-plug 0.4 has no
//! process-side parameter output; only the GUI context's `ParamSetter` can). While
//! learning, the chain applies its own learned gain; when learning stops it holds that
//! gain, and the editor writes it into `loud_gain` (one begin/set/end gesture, so the
//! host records it). With the editor closed the held gain keeps playing and is saved
//! with the project (persisted fields of `MasterParams`), so a reload plays it too.

pub mod controls;
pub mod crossover_view;
pub mod eq_curve;
pub mod goniometer;
pub mod gr_history;
pub mod layout;
pub mod loudness_view;
pub mod readings;
pub mod view;

use std::sync::Arc;

use nice_plug::prelude::ParamSetter;
use nice_plug_egui::EguiEditor;
pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, App, Body, RepaintNotifier};
use oxide_plugin_common::presets;

use crate::chain::ChainMeters;
use crate::params::{MasterParams, DEFAULT_SIZE};
pub use view::MasterView;

/// The editor's window: the kit's shell (top bar with the UI scale, resize corner)
/// around [`MasterView`].
pub type MasterApp = App<MasterView>;
pub type Editor = EguiEditor<MasterApp>;

/// The smallest window the layout fits in with nothing overflowing its panel, logical
/// pixels: the default size. Measured with the headless layout check
/// (`tests/editor_ui.rs`): at 1090 × 670 everything still fits, 10 points less in
/// either direction and the multiband's or the loudness panel's contents run past their
/// panels. A smaller window shows the editor at a smaller scale instead
/// (`oxide_plugin_common::editor::fit`).
pub const MIN_SIZE: (f32, f32) = (DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32);

/// The editor state at the default size.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(DEFAULT_SIZE.0, DEFAULT_SIZE.1)
}

/// The editor state at the project's saved size and UI scale.
pub fn state_for(params: &MasterParams) -> Arc<EditorState> {
    editor::state_with_scale(&params.editor_size, &params.ui_scale, DEFAULT_SIZE)
}

impl Body for MasterView {
    fn ui(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        MasterView::ui(self, ui, setter);
    }

    fn top_bar(&mut self, ui: &mut egui::Ui, _setter: &ParamSetter) {
        MasterView::top_bar(self, ui);
    }

    fn animating(&self) -> bool {
        MasterView::animating(self)
    }
}

/// The shell around a fresh view of `params` and `meters` (what the window shows, and
/// what the headless tests and the frame benchmark drive).
pub fn app(params: Arc<MasterParams>, meters: Arc<ChainMeters>) -> MasterApp {
    let saved_size = params.editor_size.clone();
    let saved_scale = params.ui_scale.clone();
    let ab = params.ab_slots.clone();
    App::new(
        "Oxide Mastering Chain",
        MasterView::new(params.clone(), meters),
        saved_size,
        saved_scale,
        MIN_SIZE,
    )
    .with_presets(
        presets::MASTERING_CHAIN,
        params,
        Box::new(MasterParams::default()),
        ab,
    )
}

/// The editor window; the plugin keeps a clone of `repaint` to ask for frames when new
/// audio reaches the meters.
pub fn create(
    params: Arc<MasterParams>,
    meters: Arc<ChainMeters>,
    state: Arc<EditorState>,
    repaint: RepaintNotifier,
) -> Option<Editor> {
    editor::create_app(state, repaint, app(params, meters))
}
