//! The mastering chain's editor: for now every parameter as a slider, resizable.

use std::sync::Arc;

use nice_plug_egui::EguiEditor;
pub use oxide_plugin_common::editor::EditorState;
use oxide_plugin_common::editor::{self, GenericApp, NoPanel};

use crate::params::MasterParams;

pub type Editor = EguiEditor<GenericApp<MasterParams, NoPanel>>;

/// The size the editor opens at, logical pixels.
pub fn default_state() -> Arc<EditorState> {
    editor::default_state(520, 420)
}

pub fn create(params: Arc<MasterParams>, state: Arc<EditorState>) -> Option<Editor> {
    editor::create("Oxide Mastering Chain", params, state, NoPanel)
}
