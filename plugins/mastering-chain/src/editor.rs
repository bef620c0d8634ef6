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

use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::ResizeHint;
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::{
    create_egui_editor, EguiEditor, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
};
pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, EditorSize, SavedSize, MIN_SIZE};

use crate::chain::ChainMeters;
use crate::params::{MasterParams, DEFAULT_SIZE};
pub use view::MasterView;

pub type Editor = EguiEditor<MasterApp>;

/// The editor state at the default size.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(DEFAULT_SIZE.0, DEFAULT_SIZE.1)
}

/// The egui app: the view, and the host's context once the window is built.
pub struct MasterApp {
    view: MasterView,
    context: Option<GuiContext>,
    saved_size: SavedSize,
}

impl NiceEguiApp for MasterApp {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.context = Some(nice_gui_ctx);
        Ok(())
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        if let Ok(mut saved) = self.saved_size.write() {
            *saved = EditorSize {
                width: new_size.logical.width,
                height: new_size.logical.height,
            };
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(context) = self.context.as_ref() else {
            return;
        };
        let setter = context.param_setter();
        let view = &mut self.view;
        ResizableWindow::new("oxide-mastering-editor")
            .min_size(egui::Vec2::new(MIN_SIZE.0, MIN_SIZE.1))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.heading("Oxide Mastering Chain");
                    ui.add_space(12.0);
                    view.top_bar(ui);
                });
                ui.add_space(2.0);
                view.ui(ui, &setter)
            });
        if self.view.animating() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(16));
        }
    }
}

pub fn create(
    params: Arc<MasterParams>,
    meters: Arc<ChainMeters>,
    state: Arc<EditorState>,
) -> Option<Editor> {
    let saved_size = params.editor_size.clone();
    let settings = EguiNiceSettings::new()
        .with_tile("Oxide Mastering Chain")
        .with_resize_hint(ResizeHint::resizable().with_min_logical_size(
            nice_plug::editor::dpi::LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1),
        ));
    create_egui_editor(
        state,
        RepaintNotifier::new(),
        settings,
        MasterApp {
            view: MasterView::new(params, meters),
            context: None,
            saved_size,
        },
    )
}
