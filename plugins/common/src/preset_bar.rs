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

use crate::history::{gesture_active, AbState, History, ParamWriter, Slot, Snapshot};
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

    /// Draws the bar on a row of its own, its warnings under it, and acts on it. Call
    /// once a frame.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        params: &dyn Params,
        ab: &RwLock<AbState>,
        writer: &dyn ParamWriter,
    ) {
        ui.horizontal(|ui| self.controls(ui, params, ab, writer));
        self.warnings(ui);
    }

    /// Draws the bar's controls into a horizontal `ui` (an editor's top bar) and acts
    /// on them; [`PresetBar::warnings`] shows what went wrong. Call once a frame.
    ///
    /// Compact, so it shares the top bar with the title and the plugin's own items:
    /// previous / menu / next, Save, a "…" menu with Rename and Delete, the A/B slot
    /// and its copy, Undo and Redo.
    pub fn controls(
        &mut self,
        ui: &mut egui::Ui,
        params: &dyn Params,
        ab: &RwLock<AbState>,
        writer: &dyn ParamWriter,
    ) {
        // One undo step per gesture: recorded when no drag or press is under way.
        self.history.update(params, gesture_active(ui.ctx()));
        ui.spacing_mut().item_spacing.x = 4.0;
        ui.spacing_mut().button_padding.x = 4.0;
        if small(ui, "‹", "Previous preset") {
            self.step(-1, params, writer);
        }
        let mut title = self.loaded_name().unwrap_or("No preset").to_owned();
        if self.modified(params) {
            title.push_str(" *");
        }
        let mut chosen = None;
        let shown = title.clone();
        let menu = egui::ComboBox::from_id_salt("oxide-preset-menu")
            .selected_text(title)
            .width(PRESET_MENU_WIDTH)
            .height(PRESET_MENU_HEIGHT)
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
            })
            .response;
        // Named for screen readers and tests, its value the loaded preset's name.
        menu.widget_info(|| {
            let mut info = egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Preset");
            info.current_text_value = Some(shown.clone());
            info
        });
        let hover = match self.loaded.as_ref() {
            Some((i, _)) => self.library.entries[*i].preset.description.clone(),
            None => "Presets: factory and yours, by category (* = changed since loaded)".into(),
        };
        menu.on_hover_text(hover);
        if let Some(i) = chosen {
            self.load(i, params, writer);
        }
        if small(ui, "›", "Next preset") {
            self.step(1, params, writer);
        }

        let is_user = self
            .loaded
            .as_ref()
            .is_some_and(|(i, _)| self.library.entries[*i].is_user());
        match self.edit {
            NameEdit::None => {
                if ui
                    .button("Save")
                    .on_hover_text("Save these settings as a preset of your own")
                    .clicked()
                {
                    self.edit = NameEdit::Save;
                    self.name = self.loaded_name().unwrap_or("").to_owned();
                }
                ui.menu_button("…", |ui| {
                    if ui
                        .add_enabled(is_user, egui::Button::new("Rename…"))
                        .on_disabled_hover_text("Factory presets cannot be renamed")
                        .clicked()
                    {
                        self.edit = NameEdit::Rename;
                        self.name = self.loaded_name().unwrap_or("").to_owned();
                        ui.close();
                    }
                    if ui
                        .add_enabled(is_user, egui::Button::new("Delete"))
                        .on_disabled_hover_text("Factory presets cannot be deleted")
                        .clicked()
                    {
                        self.delete();
                        ui.close();
                    }
                    if let Some(dir) = &self.library.dir {
                        ui.separator();
                        ui.label(format!("Your presets: {}", dir.display()));
                    }
                })
                .response
                .on_hover_text("Rename or delete your preset");
            }
            mode => {
                let field = egui::TextEdit::singleline(&mut self.name)
                    .desired_width(120.0)
                    .hint_text("Preset name");
                let field = ui.add(field);
                if !field.has_focus() && !field.lost_focus() {
                    field.request_focus();
                }
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                let escape = ui.input(|i| i.key_pressed(egui::Key::Escape));
                if ui.button("OK").clicked() || enter {
                    let name = self.name.trim().to_owned();
                    match mode {
                        NameEdit::Save => self.save(&name, params),
                        _ => self.rename(&name),
                    }
                    self.edit = NameEdit::None;
                }
                if ui.button("Cancel").clicked() || escape {
                    self.edit = NameEdit::None;
                }
            }
        }

        ui.separator();
        if let Ok(mut ab) = ab.write() {
            // The two slots side by side, the active one lit: clicking the other one
            // switches to it.
            for slot in [Slot::A, Slot::B] {
                let active = ab.active == slot;
                let response = ui.selectable_label(active, slot.letter());
                response.widget_info(|| {
                    let mut info = egui::WidgetInfo::labeled(
                        egui::Role::Button,
                        true,
                        format!("Settings {}", slot.letter()),
                    );
                    info.selected = Some(active);
                    info
                });
                let hover = if active {
                    format!("You are on settings {}", slot.letter())
                } else {
                    format!("Compare: switch to settings {}", slot.letter())
                };
                if response.on_hover_text(hover).clicked() && !active {
                    ab.swap(params, self.scratch.as_ref(), writer);
                }
            }
            let other = ab.active.other().letter();
            if ui
                .button("Copy")
                .on_hover_text(format!("Make {other} a copy of these settings"))
                .clicked()
            {
                ab.copy_to_other(params);
            }
        }

        ui.separator();
        if ui
            .add_enabled(self.history.can_undo(), egui::Button::new("Undo"))
            .on_hover_text("Undo the last change")
            .clicked()
        {
            self.undo(params, writer);
        }
        if ui
            .add_enabled(self.history.can_redo(), egui::Button::new("Redo"))
            .on_hover_text("Redo what was undone")
            .clicked()
        {
            self.redo(params, writer);
        }
    }

    /// Whether [`PresetBar::warnings`] has something to show.
    pub fn has_warnings(&self) -> bool {
        self.message.is_some() || !self.library.errors.is_empty()
    }

    /// The last error and the user files that could not be read, one line each.
    pub fn warnings(&self, ui: &mut egui::Ui) {
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

/// The preset menu's width, logical pixels: the longest factory name fits.
const PRESET_MENU_WIDTH: f32 = 130.0;

/// The preset menu's list height, logical pixels (it scrolls beyond).
const PRESET_MENU_HEIGHT: f32 = 420.0;

/// A small button whose label is a symbol, named for screen readers and tests by its
/// hover text. Returns whether it was clicked.
fn small(ui: &mut egui::Ui, symbol: &str, name: &str) -> bool {
    let response = ui.small_button(symbol);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, name));
    response.on_hover_text(name).clicked()
}
