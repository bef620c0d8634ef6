//! The preset bar both editors put in their top bar: a preset menu by category,
//! previous/next, a mark when the settings differ from the loaded preset, save / rename
//! / delete of user presets, A/B slots with copy, and undo/redo.
//!
//! It holds the preset [`Library`] and the [`History`]; the editor gives it, every
//! frame, the live params, the project's [`AbState`] and a [`ParamWriter`] (the
//! editor's `ParamSetter`, so the host hears of every change). Loading a preset goes
//! through a scratch copy of the parameters: the preset is applied there, then only the
//! values that differ are written to the live ones. A user file that could not be read
//! is shown as a warning line; the other presets still load. Nothing here runs on the
//! audio thread.

use std::sync::RwLock;

use nice_plug::prelude::Params;

use crate::history::{gesture_active, AbState, History, ParamWriter, Snapshot};
use crate::user_presets::Library;

/// What the name field is being used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameEdit {
    None,
    Save,
    Rename,
}

/// The preset bar's state, kept by the editor between frames.
pub struct PresetBar {
    library: Library,
    /// A spare set of the plugin's parameters (`P::Params::default()`).
    scratch: Box<dyn Params>,
    history: History,
    /// The loaded preset's index in the library, and the values it gave.
    loaded: Option<(usize, Snapshot)>,
    /// The last error, shown until the next action.
    message: Option<String>,
    edit: NameEdit,
    name: String,
}

impl PresetBar {
    /// A bar for the plugin whose preset id is `plugin` (`presets::CHANNEL_STRIP`, …),
    /// starting at the live values of `params`. `scratch` is a spare default set of the
    /// same parameters.
    pub fn new(plugin: &str, params: &dyn Params, scratch: Box<dyn Params>) -> Self {
        let (library, message) = match Library::load(plugin, scratch.as_ref()) {
            Ok(library) => (library, None),
            Err(e) => (
                Library {
                    plugin: plugin.to_owned(),
                    dir: None,
                    entries: Vec::new(),
                    errors: Vec::new(),
                },
                Some(e.to_string()),
            ),
        };
        Self {
            library,
            scratch,
            history: History::new(params),
            loaded: None,
            message,
            edit: NameEdit::None,
            name: String::new(),
        }
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// The loaded preset's name.
    pub fn loaded_name(&self) -> Option<&str> {
        self.loaded
            .as_ref()
            .map(|(i, _)| self.library.entries[*i].preset.name.as_str())
    }

    /// Whether the live settings differ from the loaded preset.
    pub fn modified(&self, params: &dyn Params) -> bool {
        self.loaded
            .as_ref()
            .is_some_and(|(_, values)| *values != Snapshot::take(params))
    }

    /// The last error, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Loads the library's preset `index` into `params` through `writer`.
    pub fn load(&mut self, index: usize, params: &dyn Params, writer: &dyn ParamWriter) {
        let Some(entry) = self.library.entries.get(index) else {
            return;
        };
        match entry.preset.apply(self.scratch.as_ref()) {
            Ok(()) => {
                let values = Snapshot::take(self.scratch.as_ref());
                values.restore(params, writer);
                self.loaded = Some((index, values));
                self.message = None;
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    /// Loads the preset `step` places after (or before, negative) the loaded one,
    /// wrapping around; the first one if none is loaded.
    pub fn step(&mut self, step: isize, params: &dyn Params, writer: &dyn ParamWriter) {
        let count = self.library.entries.len() as isize;
        if count == 0 {
            return;
        }
        let next = match &self.loaded {
            Some((i, _)) => (*i as isize + step).rem_euclid(count),
            None if step < 0 => count - 1,
            None => 0,
        };
        self.load(next as usize, params, writer);
    }

    /// Saves the live settings as the user preset `name` (replacing the user's own
    /// preset of that name).
    pub fn save(&mut self, name: &str, params: &dyn Params) {
        self.copy_to_scratch(params);
        let category = self
            .loaded
            .as_ref()
            .map(|(i, _)| self.library.entries[*i].preset.category.clone())
            .unwrap_or_default();
        match self
            .library
            .save(name, &category, "", self.scratch.as_ref())
        {
            Ok(index) => {
                self.loaded = Some((index, Snapshot::take(params)));
                self.message = None;
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    /// Renames the loaded user preset.
    pub fn rename(&mut self, new_name: &str) {
        let Some(old) = self.loaded_name().map(str::to_owned) else {
            return;
        };
        match self.library.rename(&old, new_name, self.scratch.as_ref()) {
            Ok(index) => {
                let values = self.loaded.take().map(|(_, v)| v);
                self.loaded = values.map(|v| (index, v));
                self.message = None;
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    /// Deletes the loaded user preset (the settings stay as they are).
    pub fn delete(&mut self) {
        let Some(name) = self.loaded_name().map(str::to_owned) else {
            return;
        };
        match self.library.delete(&name) {
            Ok(()) => {
                self.loaded = None;
                self.message = None;
            }
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    /// Undoes the last step (see [`History::undo`]).
    pub fn undo(&mut self, params: &dyn Params, writer: &dyn ParamWriter) -> bool {
        self.history.undo(params, writer)
    }

    /// Redoes the last undone step.
    pub fn redo(&mut self, params: &dyn Params, writer: &dyn ParamWriter) -> bool {
        self.history.redo(params, writer)
    }

    /// The live values on the scratch set, for saving (the library's checks set values
    /// for a moment, which must not happen on the live parameters).
    fn copy_to_scratch(&self, params: &dyn Params) {
        for (id, ptr, _) in params.param_map() {
            // SAFETY: the pointer comes from `param_map()` of `params`.
            let value = unsafe { ptr.unmodulated_normalized_value() };
            let _ = crate::param_access::set_normalized(self.scratch.as_ref(), &id, value);
        }
    }

    /// Draws the bar and acts on it. Call once a frame.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        params: &dyn Params,
        ab: &RwLock<AbState>,
        writer: &dyn ParamWriter,
    ) {
        // One undo step per gesture: recorded when no drag or press is under way.
        self.history.update(params, gesture_active(ui.ctx()));
        ui.horizontal(|ui| {
            if ui.button("◀").on_hover_text("Previous preset").clicked() {
                self.step(-1, params, writer);
            }
            let mut title = self.loaded_name().unwrap_or("No preset").to_owned();
            if self.modified(params) {
                title.push_str(" *");
            }
            let mut chosen = None;
            egui::ComboBox::from_id_salt("oxide-preset-menu")
                .selected_text(title)
                .width(180.0)
                .show_ui(ui, |ui| {
                    for (category, indices) in self.library.categories() {
                        ui.label(egui::RichText::new(category).strong());
                        for i in indices {
                            let entry = &self.library.entries[i];
                            let label = if entry.is_user() {
                                format!("  {} (user)", entry.preset.name)
                            } else {
                                format!("  {}", entry.preset.name)
                            };
                            let selected = self.loaded.as_ref().is_some_and(|(l, _)| *l == i);
                            if ui
                                .selectable_label(selected, label)
                                .on_hover_text(&entry.preset.description)
                                .clicked()
                            {
                                chosen = Some(i);
                            }
                        }
                    }
                });
            if let Some(i) = chosen {
                self.load(i, params, writer);
            }
            if ui.button("▶").on_hover_text("Next preset").clicked() {
                self.step(1, params, writer);
            }

            let is_user = self
                .loaded
                .as_ref()
                .is_some_and(|(i, _)| self.library.entries[*i].is_user());
            match self.edit {
                NameEdit::None => {
                    if ui.button("Save").clicked() {
                        self.edit = NameEdit::Save;
                        self.name = self.loaded_name().unwrap_or("").to_owned();
                    }
                    if ui
                        .add_enabled(is_user, egui::Button::new("Rename"))
                        .clicked()
                    {
                        self.edit = NameEdit::Rename;
                        self.name = self.loaded_name().unwrap_or("").to_owned();
                    }
                    if ui
                        .add_enabled(is_user, egui::Button::new("Delete"))
                        .clicked()
                    {
                        self.delete();
                    }
                }
                mode => {
                    let field = ui.text_edit_singleline(&mut self.name);
                    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if ui.button("OK").clicked() || enter {
                        let name = self.name.clone();
                        match mode {
                            NameEdit::Save => self.save(&name, params),
                            _ => self.rename(&name),
                        }
                        self.edit = NameEdit::None;
                    }
                    if ui.button("Cancel").clicked() {
                        self.edit = NameEdit::None;
                    }
                }
            }

            ui.separator();
            if let Ok(mut ab) = ab.write() {
                let other = ab.active.other().letter();
                if ui
                    .button(format!("{} → {other}", ab.active.letter()))
                    .on_hover_text("Switch to the other settings slot")
                    .clicked()
                {
                    ab.swap(params, self.scratch.as_ref(), writer);
                }
                if ui
                    .button(format!("Copy to {other}"))
                    .on_hover_text("Make the other slot a copy of these settings")
                    .clicked()
                {
                    ab.copy_to_other(params);
                }
            }

            ui.separator();
            if ui
                .add_enabled(self.history.can_undo(), egui::Button::new("Undo"))
                .clicked()
            {
                self.undo(params, writer);
            }
            if ui
                .add_enabled(self.history.can_redo(), egui::Button::new("Redo"))
                .clicked()
            {
                self.redo(params, writer);
            }
        });
        let warning = |ui: &mut egui::Ui, text: &str| {
            ui.colored_label(egui::Color32::from_rgb(0xe0, 0xa0, 0x40), text);
        };
        if let Some(message) = &self.message {
            warning(ui, message);
        }
        for error in &self.library.errors {
            warning(ui, &format!("Skipped: {error}"));
        }
    }
}
