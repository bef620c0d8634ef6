//! The channel strip's editor: for now every parameter as a slider, resizable.

use std::sync::Arc;

use nice_plug_egui::EguiEditor;
pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, GenericApp, NoPanel};

use crate::params::StripParams;

pub type Editor = EguiEditor<GenericApp<StripParams, NoPanel>>;

/// The size the editor opens at, logical pixels.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(520, 420)
}

pub fn create(params: Arc<StripParams>, state: Arc<EditorState>) -> Option<Editor> {
    editor::create("Oxide Channel Strip", params, state, NoPanel)
}
